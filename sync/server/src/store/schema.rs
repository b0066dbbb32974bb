//! The server's tables, written once for SQLite and turned into PostgreSQL's words, and
//! the migrations that bring a database made by an older build up to them.

use super::Store;
use crate::error::Failure;

pub(super) const SCHEMA_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS committees (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    phone      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS enrollments (
    code_hash  TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    name       TEXT NOT NULL,
    committees TEXT NOT NULL,      -- JSON array of committee ids
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    device_id  TEXT
);
CREATE TABLE IF NOT EXISTS devices (
    device_id    TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    name         TEXT NOT NULL,
    label        TEXT NOT NULL,
    enrolled_at  INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_sync_at INTEGER,
    -- the device's Ed25519 public key (hex) and the Automerge actor bound to it
    public_key   TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS device_committees (
    device_id    TEXT NOT NULL REFERENCES devices(device_id),
    committee_id TEXT NOT NULL REFERENCES committees(id),
    PRIMARY KEY (device_id, committee_id)
);
-- a document's committee is set when it is first seen and never changes
CREATE TABLE IF NOT EXISTS docs (
    doc_id       TEXT PRIMARY KEY,
    committee_id TEXT NOT NULL REFERENCES committees(id),
    kind         TEXT NOT NULL,
    snapshot     BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id       TEXT NOT NULL REFERENCES docs(doc_id),
    committee_id TEXT NOT NULL,
    hash         TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    device_id    TEXT NOT NULL,
    signature    TEXT NOT NULL DEFAULT '',
    UNIQUE (doc_id, hash)
);
CREATE INDEX IF NOT EXISTS changes_by_committee ON changes (committee_id, seq);
-- requests already applied, so that a resent one appends no second log entry
CREATE TABLE IF NOT EXISTS syncs (
    device_id TEXT NOT NULL,
    sync_id   TEXT NOT NULL,
    time      INTEGER NOT NULL,
    PRIMARY KEY (device_id, sync_id)
);
CREATE TABLE IF NOT EXISTS log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    committee_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    device_id    TEXT NOT NULL,
    volunteer    TEXT NOT NULL DEFAULT '',
    time         INTEGER NOT NULL,
    conflicts    INTEGER NOT NULL,
    body         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    UNIQUE (committee_id, seq)
);
CREATE INDEX IF NOT EXISTS log_by_device ON log (device_id, id);
-- each committee's log as a Merkle tree: the hashes it keeps, by stored-hash index
-- (leaves and the roots of complete subtrees), hex
CREATE TABLE IF NOT EXISTS log_tree (
    committee_id TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (committee_id, idx)
);
-- the last checkpoint of each committee's log each device said it holds: what the log
-- must still be consistent with
CREATE TABLE IF NOT EXISTS log_witness (
    committee_id TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    size         INTEGER NOT NULL,
    note         TEXT NOT NULL,
    time         INTEGER NOT NULL,
    PRIMARY KEY (committee_id, device_id)
);
-- attachments, content-addressed; uploaded in pieces so that an upload resumes
CREATE TABLE IF NOT EXISTS blobs (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    received   INTEGER NOT NULL,
    complete   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS blob_chunks (
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    at     INTEGER NOT NULL,
    bytes  BLOB NOT NULL,
    PRIMARY KEY (sha256, at)
);
-- which committees may read a blob (those whose devices uploaded or hold it)
CREATE TABLE IF NOT EXISTS blob_committees (
    sha256       TEXT NOT NULL REFERENCES blobs(sha256),
    committee_id TEXT NOT NULL,
    PRIMARY KEY (sha256, committee_id)
);
-- which committees' accepted records refer to an attachment: only their devices may
-- check, complete or read it
CREATE TABLE IF NOT EXISTS blob_refs (
    sha256       TEXT NOT NULL,
    committee_id TEXT NOT NULL,
    PRIMARY KEY (sha256, committee_id)
);
-- every key roster version this database issued, in order, and when (an upload's
-- change relayed from a bundle names the version its device held then)
CREATE TABLE IF NOT EXISTS key_roster_versions (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL UNIQUE,
    since   INTEGER NOT NULL
);
-- this database's identity: `epoch` changes when it may have lost what devices were
-- told it holds (restored from a backup), and devices then send everything again
CREATE TABLE IF NOT EXISTS server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// The same tables in PostgreSQL's words: 64-bit integers, `BYTEA`, an identity column.
pub(super) fn schema_postgres() -> String {
    SCHEMA_SQLITE
        .replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        )
        .replace(" INTEGER", " BIGINT")
        .replace("BLOB", "BYTEA")
}

impl Store {
    /// Brings a database made by an older build up to this schema.
    pub(super) fn migrate(&mut self) -> Result<(), Failure> {
        let mut tx = self.db.begin(true)?;
        // Columns added since 0.1: the volunteer of a log entry (for filtering), and a
        // committee's phone (for residents' receipts).
        // Since 0.2: each device's public key and the actor bound to it, and each
        // change's attestation (its author's signature, hex).
        for (table, column) in [
            ("log", "volunteer"),
            ("committees", "phone"),
            ("devices", "public_key"),
            ("devices", "actor"),
            ("changes", "signature"),
        ] {
            tx.add_column(table, column, "TEXT NOT NULL DEFAULT ''")?;
        }
        // Since 0.3: the counter of each device's last signed request.
        tx.add_column("devices", "request_counter", "BIGINT NOT NULL DEFAULT 0")?;
        // Since 0.5: the key roster version a device's revocation made
        // (`key_roster_versions.seq`; none for one revoked before).
        tx.add_column("devices", "revoked_in", "BIGINT")?;
        // Every upload finds the authors of its changes by their actors; a
        // committee's key roster and devices are found without reading every committee's,
        // and the unfinished uploads every piece received expires without reading every
        // attachment (`plans.rs`).
        for index in [
            "CREATE INDEX IF NOT EXISTS devices_by_actor ON devices (actor)",
            "CREATE INDEX IF NOT EXISTS device_committees_by_committee
             ON device_committees (committee_id, device_id)",
            "CREATE INDEX IF NOT EXISTS blobs_unfinished ON blobs (created_at) WHERE complete = 0",
        ] {
            tx.execute(index, &[])?;
        }
        tx.execute(
            "INSERT INTO server_meta (key, value) VALUES ('epoch', ?1) ON CONFLICT DO NOTHING",
            crate::params![uuid::Uuid::new_v4().to_string()],
        )?;
        backfill_blob_refs(tx.as_mut())?;
        // Since 0.4 each committee's log is also a Merkle tree.
        super::merkle::backfill(tx.as_mut())?;
        super::key_roster::ensure(tx.as_mut())?;
        super::key_roster::vouch_unsigned(tx.as_mut())?;
        tx.commit()
    }
}

/// Since 0.2 an attachment is readable through the records that refer to it: a
/// database from before learns, once, what its stored records refer to.
fn backfill_blob_refs(tx: &mut dyn crate::db::Tx) -> Result<(), Failure> {
    if tx
        .query_opt("SELECT 1 FROM server_meta WHERE key = 'blob_refs'", &[])?
        .is_some()
    {
        return Ok(());
    }
    let mut after = String::new();
    loop {
        let rows = tx.query(
            "SELECT doc_id, committee_id, snapshot FROM docs WHERE doc_id > ?1
             ORDER BY doc_id LIMIT 500",
            crate::params![&after],
        )?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.text(0)?;
        let mut refs = Vec::new();
        for row in &rows {
            let committee = row.text(1)?;
            // A snapshot that does not load refers to nothing readable.
            if let Ok(doc) = automerge::AutoCommit::load(&row.bytes(2)?) {
                for sha in doorstep_core::blobs::referenced(&doc) {
                    refs.push((sha, committee.clone()));
                }
            }
        }
        refs.sort();
        refs.dedup();
        super::blobs::add_refs(tx, &refs)?;
    }
    tx.execute(
        "INSERT INTO server_meta (key, value) VALUES ('blob_refs', '1') ON CONFLICT DO NOTHING",
        &[],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Database, GENESIS};

    #[test]
    fn a_database_from_before_the_volunteer_and_phone_columns_gains_them_and_keeps_its_data() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            // The log table as 0.1's first builds made it, with one entry.
            let old = SCHEMA_SQLITE
                .replace("    volunteer    TEXT NOT NULL DEFAULT '',\n", "")
                .replace("    phone      TEXT NOT NULL DEFAULT '',\n", "");
            assert_eq!(
                old.len(),
                SCHEMA_SQLITE.len()
                    - "    volunteer    TEXT NOT NULL DEFAULT '',\n".len()
                    - "    phone      TEXT NOT NULL DEFAULT '',\n".len(),
                "the old schema lacks both columns"
            );
            let conn = rusqlite::Connection::open(dir.path().join("server.sqlite3")).expect("open");
            conn.execute_batch(&old).expect("old schema");
            conn.execute(
                "INSERT INTO log (committee_id, seq, device_id, time, conflicts, body, prev_hash, hash)
                 VALUES ('c1', 1, 'd1', 5, 0, '{}', ?1, 'h')",
                [GENESIS],
            )
            .expect("old entry");
            conn.execute(
                "INSERT INTO committees (id, name, created_at) VALUES ('c1', '测试村委会', 1)",
                [],
            )
            .expect("old committee");
        }
        let mut store = Store::open(&Database::Sqlite(dir.path().to_owned())).expect("migrated");
        let kept = store
            .query("SELECT seq, volunteer FROM log", &[])
            .expect("the column exists");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].text(1).expect("volunteer"), "");
        let committees = store.committees().expect("committees");
        assert_eq!(
            (committees[0].name.as_str(), committees[0].phone.as_str()),
            ("测试村委会", "")
        );
        // Opening again changes nothing.
        drop(store);
        Store::open(&Database::Sqlite(dir.path().to_owned())).expect("opens again");
    }

    #[test]
    fn a_database_from_before_blob_refs_learns_what_its_records_refer_to() {
        use automerge::transaction::Transactable;
        let dir = tempfile::tempdir().expect("temp dir");
        let sha = "ab".repeat(32);
        {
            // A stored authorization referring to its signature, and no blob_refs yet.
            let old =
                SCHEMA_SQLITE.replace("CREATE TABLE IF NOT EXISTS blob_refs", "CREATE TABLE old_x");
            let conn = rusqlite::Connection::open(dir.path().join("server.sqlite3")).expect("open");
            conn.execute_batch(&old).expect("old schema");
            let mut doc = automerge::AutoCommit::new();
            doc.put(automerge::ROOT, "kind", "authorization")
                .expect("put");
            doc.put(automerge::ROOT, "signature", sha.as_str())
                .expect("put");
            conn.execute(
                "INSERT INTO committees (id, name, created_at) VALUES ('c1', '测试村委会', 1)",
                [],
            )
            .expect("committee");
            conn.execute(
                "INSERT INTO docs (doc_id, committee_id, kind, snapshot)
                 VALUES ('d1', 'c1', 'authorization', ?1)",
                [doc.save()],
            )
            .expect("doc");
        }
        let mut store = Store::open(&Database::Sqlite(dir.path().to_owned())).expect("migrated");
        let refs = store
            .query("SELECT sha256, committee_id FROM blob_refs", &[])
            .expect("the table exists");
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].text(0).expect("sha"), sha);
        assert_eq!(refs[0].text(1).expect("committee"), "c1");
        // Learnt once: opening again adds nothing and reads no record.
        drop(store);
        let mut store = Store::open(&Database::Sqlite(dir.path().to_owned())).expect("again");
        let again = store
            .query("SELECT count(*) FROM blob_refs", &[])
            .expect("count");
        assert_eq!(again[0].int(0).expect("n"), 1);
    }
}
