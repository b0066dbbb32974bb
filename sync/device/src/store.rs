//! The SQLite store of a device, in the style of automerge-repo's storage: each document
//! is a set of chunks keyed by content hashes — a snapshot keyed by the hash of its heads,
//! and incremental chunks keyed by the hash of the change they end with — so that two
//! writers can never overwrite each other's data. Projection tables hold what lists and
//! searches need, updated in the same transaction as the chunks.
//!
//! The database runs in WAL mode with `synchronous=FULL`: a save acknowledged to the
//! volunteer survives a power cut.

use std::path::Path;

use automerge::ChangeHash;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::error::DeviceError;
use crate::secret::DbKey;

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 14;

const MIGRATIONS: &[&str] = &[
    // 1: documents as chunks, projections for lists and search, device metadata.
    "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE docs (
        doc_id      TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        -- a record whose bytes cannot be loaded is set aside, not deleted
        quarantined TEXT
     ) WITHOUT ROWID;
     CREATE TABLE chunks (
        doc_id TEXT NOT NULL REFERENCES docs(doc_id),
        key    TEXT NOT NULL,
        kind   TEXT NOT NULL CHECK (kind IN ('snapshot', 'incremental')),
        bytes  BLOB NOT NULL,
        PRIMARY KEY (doc_id, key)
     ) WITHOUT ROWID;
     CREATE TABLE residents (
        doc_id     TEXT PRIMARY KEY REFERENCES docs(doc_id),
        name       TEXT NOT NULL,
        id_number  TEXT NOT NULL,
        id_rev     TEXT NOT NULL,
        phone      TEXT NOT NULL,
        phone_rev  TEXT NOT NULL,
        gender     TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        conflicted INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX residents_by_id_number ON residents(id_number);
     CREATE INDEX residents_by_id_rev ON residents(id_rev);
     CREATE INDEX residents_by_phone_rev ON residents(phone_rev);
     CREATE INDEX residents_by_created ON residents(created_at DESC, doc_id DESC);
     -- pinyin keys of names (initials and full, every reading of the surname)
     CREATE TABLE resident_keys (
        key    TEXT NOT NULL,
        doc_id TEXT NOT NULL REFERENCES docs(doc_id),
        PRIMARY KEY (key, doc_id)
     ) WITHOUT ROWID;
     CREATE INDEX resident_keys_by_doc ON resident_keys(doc_id);
     -- every character and every pair of adjacent characters of names, so that part of
     -- a name is found through an index rather than by scanning every resident
     -- (first position in the name, newest first), so that the first page of a one- or
     -- two-character search is read straight from the index
     CREATE TABLE resident_grams (
        gram       TEXT NOT NULL,
        pos        INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        doc_id     TEXT NOT NULL REFERENCES docs(doc_id),
        PRIMARY KEY (gram, pos, created_at DESC, doc_id)
     ) WITHOUT ROWID;
     CREATE INDEX resident_grams_by_doc ON resident_grams(doc_id);
     -- attachments: content-addressed, stored once however often attached
     CREATE TABLE blobs (
        sha256     TEXT PRIMARY KEY,
        size       INTEGER NOT NULL,
        bytes      BLOB NOT NULL,
        created_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE applications (
        doc_id     TEXT PRIMARY KEY REFERENCES docs(doc_id),
        resident   TEXT NOT NULL,
        service    TEXT NOT NULL,
        status     TEXT NOT NULL,
        conflicted INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX applications_by_resident ON applications(resident);
     CREATE INDEX applications_by_status ON applications(status, updated_at DESC);
     CREATE TABLE authorizations (
        doc_id     TEXT PRIMARY KEY REFERENCES docs(doc_id),
        resident   TEXT NOT NULL,
        valid_to   TEXT NOT NULL,
        revoked    INTEGER NOT NULL,
        created_at INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX authorizations_by_resident ON authorizations(resident);",
    // 2: sync state — the heads the server acknowledged, and what changed since.
    "CREATE TABLE synced (
        doc_id TEXT PRIMARY KEY REFERENCES docs(doc_id),
        heads  BLOB NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE dirty (
        doc_id TEXT PRIMARY KEY REFERENCES docs(doc_id)
     ) WITHOUT ROWID;
     INSERT INTO dirty (doc_id) SELECT doc_id FROM docs;",
    // 3: attachments in sync — which the server holds, and which records refer to but
    // this device lacks.
    "ALTER TABLE blobs ADD COLUMN uploaded INTEGER NOT NULL DEFAULT 0;
     CREATE TABLE blob_wanted (
        sha256 TEXT PRIMARY KEY
     ) WITHOUT ROWID;",
    // 4: each record's committee, as the server names it (a supervisor's device holds
    // several); empty until the server has said, which for a volunteer is their one.
    "ALTER TABLE docs ADD COLUMN committee TEXT;",
    // 5: records the server refused, at the heads they were sent with, and why: they
    // stay waiting, and go up again once changed. And records received that could not
    // be stored here, kept aside with their changes for a person to look at.
    "CREATE TABLE refused (
        doc_id  TEXT PRIMARY KEY REFERENCES docs(doc_id),
        heads   BLOB NOT NULL,
        code    TEXT NOT NULL,
        message TEXT NOT NULL,
        at      INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE received_aside (
        doc_id    TEXT PRIMARY KEY,
        kind      TEXT NOT NULL,
        committee TEXT NOT NULL,
        changes   BLOB NOT NULL,
        code      TEXT NOT NULL,
        reason    TEXT NOT NULL,
        at        INTEGER NOT NULL
     ) WITHOUT ROWID;",
    // 6: each change's attestation, its author's signature over the change hash: this
    // device's own, made as it saves, and those received with others' changes, kept to
    // pass on with them.
    "CREATE TABLE signatures (
        doc_id    TEXT NOT NULL,
        hash      TEXT NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (doc_id, hash)
     ) WITHOUT ROWID;",
    // 7: a received record set aside keeps its changes' attestations, and whose the
    // changes that did not hold claim to be.
    "ALTER TABLE received_aside ADD COLUMN signatures BLOB;
     ALTER TABLE received_aside ADD COLUMN authors TEXT NOT NULL DEFAULT '';",
    // 8: the last checkpoint of each committee's sync log this device accepted, the
    // largest another device held that this one was given (until a sync proves the log
    // extends it), and the evidence of every log that did not hold.
    "CREATE TABLE log_checkpoints (
        committee TEXT PRIMARY KEY,
        size      INTEGER NOT NULL,
        note      TEXT NOT NULL,
        time      INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE log_seen (
        committee TEXT PRIMARY KEY,
        size      INTEGER NOT NULL,
        note      TEXT NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE log_evidence (
        id        INTEGER PRIMARY KEY,
        committee TEXT NOT NULL,
        reason    TEXT NOT NULL,
        held      TEXT NOT NULL,
        offered   TEXT NOT NULL,
        proof     TEXT NOT NULL,
        time      INTEGER NOT NULL,
        kind      TEXT NOT NULL
     );",
    // 9: the entries this device's syncs wrote to its committees' logs, as they were
    // written, to ask for again (`asked`: how often they were).
    "CREATE TABLE log_own (
        committee TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        leaf      BLOB NOT NULL,
        volunteer TEXT NOT NULL,
        time      INTEGER NOT NULL,
        conflicts INTEGER NOT NULL,
        asked     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (committee, seq)
     ) WITHOUT ROWID;",
    // 10: the attestations of this device's own changes a chunk holds, kept in the
    // chunk's row as it is saved (32-byte change hash and 64-byte signature, each pair
    // after the other) so that a save writes one row, and moved to `signatures` when
    // the chunk is folded into a snapshot.
    "ALTER TABLE chunks ADD COLUMN signatures BLOB;",
    // 11: what the yearly certification is judged by, kept in each application's row:
    // the day it was filed (China time) and the government's reference, and the date of
    // the last certification a volunteer recorded in it. Rows already there are filled
    // from their documents when the device next opens (`REPROJECT_APPLICATIONS`).
    "ALTER TABLE applications ADD COLUMN filed_on TEXT;
     ALTER TABLE applications ADD COLUMN reference TEXT NOT NULL DEFAULT '';
     ALTER TABLE applications ADD COLUMN last_certified_on TEXT;
     INSERT OR REPLACE INTO meta (key, value)
        SELECT 'reproject_applications', x'01' WHERE EXISTS (SELECT 1 FROM applications);",
    // 12: each change of another device taken from a bundle, with the version of the
    // key roster this device held then: sent with it, so that the server takes it even
    // if its author was revoked before this device synced (`protocol::Relayed`).
    "CREATE TABLE taken_under (
        doc_id TEXT NOT NULL,
        hash   TEXT NOT NULL,
        roster TEXT NOT NULL,
        PRIMARY KEY (doc_id, hash)
     ) WITHOUT ROWID;",
    // 13: visit plans (`visit` records), one row each, with the visit due (`due` empty
    // when none is); and each resident's address, which a volunteer's day is ordered
    // by (residents' rows rewritten when the device opens: `REPROJECT_RESIDENTS`).
    "ALTER TABLE residents ADD COLUMN address TEXT NOT NULL DEFAULT '';
     CREATE TABLE visits (
        doc_id        TEXT PRIMARY KEY REFERENCES docs(doc_id),
        resident      TEXT NOT NULL,
        assignee      TEXT NOT NULL,
        assignee_name TEXT NOT NULL,
        due           TEXT NOT NULL,
        purpose       TEXT NOT NULL,
        service       TEXT NOT NULL,
        proposed      INTEGER NOT NULL,
        conflicted    INTEGER NOT NULL,
        last_outcome  TEXT NOT NULL,
        last_visited  TEXT NOT NULL,
        updated_at    INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX visits_due_by_assignee ON visits(assignee, due) WHERE due <> '';
     CREATE INDEX visits_by_resident ON visits(resident);
     INSERT OR REPLACE INTO meta (key, value)
        SELECT 'reproject_residents', x'01' WHERE EXISTS (SELECT 1 FROM residents);",
    // 14: the people added to a shared tablet after the first (members.rs), each
    // an enrollment of their own with their own actor; removed when the server revokes
    // them. The log entries this device's syncs wrote keep whose token wrote them.
    "CREATE TABLE members (
        member_id  TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL,
        actor      BLOB NOT NULL UNIQUE,
        added_at   INTEGER NOT NULL,
        removed_at INTEGER
     ) WITHOUT ROWID;
     ALTER TABLE log_own ADD COLUMN device_id TEXT NOT NULL DEFAULT '';",
];

/// A `meta` key set by a migration that added columns to `applications`: every
/// application's row is rewritten from its document when the device opens, then the key
/// is removed.
pub const REPROJECT_APPLICATIONS: &str = "reproject_applications";

/// The same for `residents` (a migration added their address).
pub const REPROJECT_RESIDENTS: &str = "reproject_residents";

/// Kinds of stored chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    Snapshot,
    Incremental,
}

impl ChunkKind {
    fn as_str(self) -> &'static str {
        match self {
            ChunkKind::Snapshot => "snapshot",
            ChunkKind::Incremental => "incremental",
        }
    }
}

/// The key of a snapshot: SHA-256 of its sorted heads.
pub fn snapshot_key(heads: &[ChangeHash]) -> String {
    let mut sorted: Vec<&ChangeHash> = heads.iter().collect();
    sorted.sort();
    let mut hasher = Sha256::new();
    for h in sorted {
        hasher.update(h.0);
    }
    hex::encode(hasher.finalize())
}

/// An open store.
/// Waits, once per process, until SQLCipher can take a key.
///
/// SQLite marks itself initialized and only then, outside its lock, runs SQLCipher's own
/// initialization (`SQLITE_EXTRA_INIT`): a thread that opens a database in that window
/// and sets its key fails with "sqlcipher not initialized" (the SQL error "An error
/// occurred with PRAGMA key or rekey"). The thread that initializes SQLite finishes the
/// whole of it before its first open returns, and every other opener of a keyed
/// database waits here, so only a connection opened elsewhere in the process (a server's,
/// without a key) can be in the middle of it: then a key on a throwaway in-memory
/// database is tried until it takes.
fn sqlcipher_ready() {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        let probe = DbKey::from_bytes([0x5a; 32]);
        for _ in 0..5_000 {
            let keyed = Connection::open_in_memory()
                .and_then(|c| c.pragma_update(None, "key", probe.pragma_value().as_str()));
            if keyed.is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Still refused after five seconds: the real open reports the error.
    });
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the encrypted database at `path` with `key` and brings
    /// its schema up to date. A wrong key is [`DeviceError::WrongKey`].
    pub fn open(path: &Path, key: &DbKey) -> Result<Store, DeviceError> {
        sqlcipher_ready();
        let mut conn = Connection::open(path)?;
        // The key must come before anything else touches the file.
        conn.pragma_update(None, "key", key.pragma_value().as_str())?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every statement of a save is prepared once and reused.
        conn.set_prepared_statement_cache_capacity(64);
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
                return Err(DeviceError::WrongKey);
            }
            other => drop(other?),
        }
        // journal_mode answers with a row, so it is read rather than executed.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             -- 32 MB of decrypted pages (SQLite's default is 2 MB): a roster import and a
             -- search over 100,000 residents no longer decrypt the same pages again
             PRAGMA cache_size = -32768;",
        )?;
        migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Starts a transaction; every write of one save goes through one.
    pub fn transaction(&mut self) -> Result<Transaction<'_>, DeviceError> {
        Ok(self.conn.transaction()?)
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A device-level setting, such as the actor id.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, DeviceError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// The chunks of a document, snapshots first.
    pub fn chunks(&self, doc_id: &str) -> Result<Vec<(ChunkKind, Vec<u8>)>, DeviceError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, bytes FROM chunks WHERE doc_id = ?1
             ORDER BY kind = 'incremental', key",
        )?;
        let rows = stmt.query_map([doc_id], |r| {
            let kind: String = r.get(0)?;
            let kind = if kind == "snapshot" {
                ChunkKind::Snapshot
            } else {
                ChunkKind::Incremental
            };
            Ok((kind, r.get::<_, Vec<u8>>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Sets a device-level value inside a transaction.
pub fn put_meta(tx: &Transaction<'_>, key: &str, value: &[u8]) -> Result<(), DeviceError> {
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Stores one chunk; storing the same chunk again changes nothing (content-keyed).
pub fn put_chunk(
    tx: &Transaction<'_>,
    doc_id: &str,
    kind: ChunkKind,
    key: &str,
    bytes: &[u8],
) -> Result<(), DeviceError> {
    put_signed_chunk(tx, doc_id, kind, key, bytes, None)
}

/// Like [`put_chunk`], with the attestations of this device's changes it holds
/// (`crate::attest::Signer::sign_new`).
pub fn put_signed_chunk(
    tx: &Transaction<'_>,
    doc_id: &str,
    kind: ChunkKind,
    key: &str,
    bytes: &[u8],
    signatures: Option<&[u8]>,
) -> Result<(), DeviceError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO chunks (doc_id, key, kind, bytes, signatures)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![doc_id, key, kind.as_str(), bytes, signatures])?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), DeviceError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(DeviceError::SchemaTooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::ErrorCode;

    #[test]
    fn opens_in_wal_with_full_sync_and_current_schema() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = DbKey::generate().expect("key");
        let store = Store::open(&dir.path().join("s.sqlite3"), &key).expect("open");
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        let sync: i64 = store
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("sync");
        let version: i64 = store
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn refuses_a_database_from_a_newer_build() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("s.sqlite3");
        let key = DbKey::generate().expect("key");
        let store = Store::open(&path, &key).expect("open");
        store
            .conn()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("bump");
        drop(store);
        let err = Store::open(&path, &key).expect_err("newer schema");
        assert_eq!(err.code(), ErrorCode::SchemaTooNew);
    }

    #[test]
    fn snapshot_key_ignores_head_order() {
        let a = ChangeHash([1; 32]);
        let b = ChangeHash([2; 32]);
        assert_eq!(snapshot_key(&[a, b]), snapshot_key(&[b, a]));
        assert_ne!(snapshot_key(&[a]), snapshot_key(&[b]));
    }
}
