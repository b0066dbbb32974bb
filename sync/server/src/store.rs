//! The server's storage (SQLite): committees, enrollment codes, devices, documents as
//! their individual Automerge changes (each stored once by hash, numbered by a cursor),
//! and the hash-chained sync log.
//!
//! Every operation is one transaction: a sync either stores all it carried and its log
//! entry, or nothing.

use crate::db::{Backend, Postgres, Row, Sqlite, Tx, Val};
use crate::params;
use automerge::{AutoCommit, Change};
use doorstep_core::protocol::{
    BlobStatus, ChainBreak, ChainState, Committee, DeviceInfo, DocConflicts, DocDownload,
    DocHashes, EnrollResponse, Limits, LogEntry, LogPage, Role, SyncRequest, SyncResponse,
};
use doorstep_core::value::{self, Fields};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Failure;

const SCHEMA_SQLITE: &str = "
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
    last_sync_at INTEGER
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
";

/// The same tables in PostgreSQL's words: 64-bit integers, `BYTEA`, an identity column.
fn schema_postgres() -> String {
    SCHEMA_SQLITE
        .replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        )
        .replace(" INTEGER", " BIGINT")
        .replace("BLOB", "BYTEA")
}

/// Changes stored per statement.
const INSERT_BATCH: usize = 200;

/// Snapshots updated by one statement (each may be up to the document size limit).
const SNAPSHOT_BATCH: usize = 50;

/// The most changes one answer carries before it says `more`.
const CHANGES_PER_ANSWER: i64 = 50_000;

/// The hash before a committee's first log entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An authenticated device.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub device_id: String,
    pub role: Role,
    pub name: String,
    pub committees: Vec<String>,
}

/// What a log entry's hash covers (everything but the hashes themselves).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LogBody {
    committee: String,
    seq: u64,
    device_id: String,
    volunteer: String,
    time: i64,
    sync_id: String,
    received: Vec<DocHashes>,
    sent: Vec<DocHashes>,
    conflicts: Vec<DocConflicts>,
}

/// One piece of an attachment upload.
#[derive(Debug, Clone, Copy)]
pub struct BlobPiece<'a> {
    pub sha256: &'a str,
    /// Where the piece starts in the attachment.
    pub offset: u64,
    /// The attachment's whole size.
    pub size: u64,
    pub bytes: &'a [u8],
}

/// Filters of a log page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogQuery {
    pub committee: Option<String>,
    pub device: Option<String>,
    /// The volunteer's name as the device gave it.
    pub volunteer: Option<String>,
    /// Entries at or after this time (ms).
    pub from: Option<i64>,
    /// Entries before this time (ms).
    pub to: Option<i64>,
    #[serde(default)]
    pub conflicts_only: bool,
    /// Only entries older than this position (from the previous page's `next_before`).
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

/// Where a committee's log chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub committee: String,
    pub seq: u64,
    pub reason: String,
}

/// The SHA-256 of `s`, in hex.
pub fn sha256_hex(s: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(s.as_ref()))
}

fn random_token(bytes: usize) -> Result<Vec<u8>, Failure> {
    let mut out = vec![0u8; bytes];
    getrandom::fill(&mut out).map_err(Failure::storage)?;
    Ok(out)
}

/// Crockford base32 without look-alikes (no I, L, O, U).
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A code as people type it: case, spaces and dashes do not matter; O is 0, I and L are 1.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// Which database a server runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded SQLite file in this folder.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://user:password@host/db`).
    Postgres(String),
}

/// The storage of one server: SQLite or PostgreSQL.
pub struct Store {
    db: Box<dyn Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.db.name())
            .finish()
    }
}

impl Store {
    /// Opens (creating its tables) the database.
    pub fn open(database: &Database) -> Result<Store, Failure> {
        let db: Box<dyn Backend> = match database {
            Database::Sqlite(dir) => {
                Box::new(Sqlite::open(&dir.join("server.sqlite3"), SCHEMA_SQLITE)?)
            }
            Database::Postgres(url) => Box::new(Postgres::open(url, &schema_postgres())?),
        };
        let mut store = Store { db };
        store.migrate()?;
        Ok(store)
    }

    /// Brings a database made by an older build up to this schema.
    fn migrate(&mut self) -> Result<(), Failure> {
        let postgres = self.db.name() == "postgres";
        let mut tx = self.db.begin(true)?;
        // Columns added since 0.1: the volunteer of a log entry (for filtering), and a
        // committee's phone (for residents' receipts).
        for (table, column) in [("log", "volunteer"), ("committees", "phone")] {
            if postgres {
                tx.execute(
                    &format!(
                        "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} TEXT NOT NULL DEFAULT ''"
                    ),
                    &[],
                )?;
            } else if tx
                .query_opt(
                    &format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'"),
                    &[],
                )?
                .is_none()
            {
                tx.execute(
                    &format!("ALTER TABLE {table} ADD COLUMN {column} TEXT NOT NULL DEFAULT ''"),
                    &[],
                )?;
            }
        }
        tx.commit()
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.db.name()
    }

    /// Adds a committee (or renames an existing one), with the phone residents may call
    /// (empty: none; printed on their receipts).
    pub fn committee_add(
        &mut self,
        id: &str,
        name: &str,
        phone: &str,
        now: i64,
    ) -> Result<(), Failure> {
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Failure::bad_request(
                "invalid_committee_id",
                "a committee id is 1–64 letters, digits, '-' or '_'",
            ));
        }
        if name.trim().is_empty() {
            return Err(Failure::bad_request(
                "invalid_committee_name",
                "a committee needs a name",
            ));
        }
        let phone = match phone.trim() {
            "" => String::new(),
            given => doorstep_core::phone::normalize(given).map_err(|_| {
                Failure::bad_request(
                    "invalid_committee_phone",
                    "a committee's phone is a mobile (11 digits) or a landline with its area code",
                )
            })?,
        };
        let mut tx = self.db.begin(true)?;
        tx.execute(
            "INSERT INTO committees (id, name, phone, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone",
            params![id, name.trim(), phone, now],
        )?;
        tx.commit()
    }

    /// Every committee.
    pub fn committees(&mut self) -> Result<Vec<Committee>, Failure> {
        let mut tx = self.db.begin(false)?;
        tx.query("SELECT id, name, phone FROM committees ORDER BY id", &[])?
            .iter()
            .map(|r| {
                Ok(Committee {
                    id: r.text(0)?,
                    name: r.text(1)?,
                    phone: r.text(2)?,
                })
            })
            .collect()
    }

    /// Makes a one-time enrollment code for `name` with `role` in `committees`, valid
    /// until `expires_at`. Only its hash is kept: the code is shown once.
    pub fn enrollment_create(
        &mut self,
        committees: &[String],
        role: Role,
        name: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<String, Failure> {
        if name.trim().is_empty() {
            return Err(Failure::bad_request(
                "invalid_name",
                "enrollment needs the person's name",
            ));
        }
        match (role, committees.len()) {
            (_, 0) => {
                return Err(Failure::bad_request(
                    "committee_required",
                    "name at least one committee",
                ));
            }
            (Role::Volunteer, n) if n > 1 => {
                return Err(Failure::bad_request(
                    "one_committee_for_volunteer",
                    "a volunteer belongs to exactly one committee",
                ));
            }
            _ => {}
        }
        let mut tx = self.db.begin(true)?;
        for c in committees {
            if tx
                .query_opt("SELECT id FROM committees WHERE id = ?1", params![c])?
                .is_none()
            {
                return Err(Failure::not_found(
                    "committee_unknown",
                    format!("no committee {c}; add it with `committee add` first"),
                ));
            }
        }
        let random = random_token(12)?;
        let mut code = String::new();
        // 12 characters of 5 bits each from 12 random bytes (the top 3 bits of each dropped).
        for (i, b) in random.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                code.push('-');
            }
            code.push(char::from(CODE_ALPHABET[usize::from(b & 31)]));
        }
        let committees_json = serde_json::to_string(committees).map_err(Failure::storage)?;
        tx.execute(
            "INSERT INTO enrollments (code_hash, role, name, committees, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                sha256_hex(normalize_code(&code)),
                role.as_str(),
                name.trim(),
                committees_json,
                now,
                expires_at
            ],
        )?;
        tx.commit()?;
        Ok(code)
    }

    /// Trades an enrollment code for a new device and its token.
    pub fn enroll(&mut self, code: &str, label: &str, now: i64) -> Result<EnrollResponse, Failure> {
        let code_hash = sha256_hex(normalize_code(code));
        let mut tx = self.db.begin(true)?;
        let Some(found) = tx.query_opt(
            "SELECT role, name, committees, expires_at, used_at FROM enrollments
             WHERE code_hash = ?1",
            params![&code_hash],
        )?
        else {
            return Err(Failure::not_found(
                "enrollment_unknown",
                "no such enrollment code; check it or ask for a new one",
            ));
        };
        if found.opt_int(4)?.is_some() {
            return Err(Failure::new(
                axum::http::StatusCode::CONFLICT,
                "enrollment_used",
                "this enrollment code has already been used; ask for a new one",
            ));
        }
        if now >= found.int(3)? {
            return Err(Failure::new(
                axum::http::StatusCode::GONE,
                "enrollment_expired",
                "this enrollment code has expired; ask for a new one",
            ));
        }
        let role = Role::parse(&found.text(0)?)
            .ok_or_else(|| Failure::storage("bad role in enrollments"))?;
        let name = found.text(1)?;
        let committee_ids: Vec<String> =
            serde_json::from_str(&found.text(2)?).map_err(Failure::storage)?;
        let device_id = uuid::Uuid::now_v7().to_string();
        let token = format!("dst_{}", hex::encode(random_token(32)?));
        let label: String = label.trim().chars().take(80).collect();
        tx.execute(
            "INSERT INTO devices (device_id, token_hash, role, name, label, enrolled_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                &device_id,
                sha256_hex(&token),
                role.as_str(),
                &name,
                label,
                now
            ],
        )?;
        let mut committees = Vec::new();
        for c in &committee_ids {
            tx.execute(
                "INSERT INTO device_committees (device_id, committee_id) VALUES (?1, ?2)",
                params![&device_id, c],
            )?;
            let row = tx.query_one(
                "SELECT name, phone FROM committees WHERE id = ?1",
                params![c],
            )?;
            committees.push(Committee {
                id: c.clone(),
                name: row.text(0)?,
                phone: row.text(1)?,
            });
        }
        tx.execute(
            "UPDATE enrollments SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
            params![&code_hash, now, &device_id],
        )?;
        tx.commit()?;
        Ok(EnrollResponse {
            device_id,
            token,
            role,
            name,
            committees,
        })
    }

    /// The device holding `token`: unknown tokens are 401, revoked devices 403.
    pub fn authenticate(&mut self, token: &str) -> Result<DeviceAuth, Failure> {
        let mut tx = self.db.begin(false)?;
        // The device and its committees in one statement (one round trip).
        let rows = tx.query(
            "SELECT d.device_id, d.role, d.name, d.revoked_at, dc.committee_id
             FROM devices d LEFT JOIN device_committees dc ON dc.device_id = d.device_id
             WHERE d.token_hash = ?1 ORDER BY dc.committee_id",
            params![sha256_hex(token)],
        )?;
        let Some(found) = rows.first() else {
            return Err(Failure::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "token_unknown",
                "this device is not enrolled with this server; enroll it again",
            ));
        };
        if found.opt_int(3)?.is_some() {
            return Err(Failure::forbidden(
                "device_revoked",
                "this device has been revoked by an administrator; ask your supervisor",
            ));
        }
        let role =
            Role::parse(&found.text(1)?).ok_or_else(|| Failure::storage("bad role in devices"))?;
        let mut committees = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(c) = row.opt_text(4)? {
                committees.push(c);
            }
        }
        Ok(DeviceAuth {
            device_id: found.text(0)?,
            role,
            name: found.text(2)?,
            committees,
        })
    }

    /// Revokes a device: its token is refused from now on. Revoking twice is harmless.
    pub fn device_revoke(&mut self, device_id: &str, now: i64) -> Result<(), Failure> {
        let mut tx = self.db.begin(true)?;
        let n = tx.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE device_id = ?1",
            params![device_id, now],
        )?;
        if n == 0 {
            return Err(Failure::not_found(
                "device_unknown",
                format!("no device {device_id}"),
            ));
        }
        tx.commit()
    }

    /// Enrolled devices, optionally of one committee.
    pub fn devices(&mut self, committee: Option<&str>) -> Result<Vec<DeviceInfo>, Failure> {
        let mut tx = self.db.begin(false)?;
        let rows = tx.query(
            "SELECT device_id, role, name, label, enrolled_at, revoked_at, last_sync_at
             FROM devices d
             WHERE CAST(?1 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM device_committees c
                                         WHERE c.device_id = d.device_id AND c.committee_id = ?1)
             ORDER BY enrolled_at",
            params![committee],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let device_id = r.text(0)?;
            out.push(DeviceInfo {
                committees: device_committees(tx.as_mut(), &device_id)?,
                device_id,
                role: Role::parse(&r.text(1)?)
                    .ok_or_else(|| Failure::storage("bad role in devices"))?,
                name: r.text(2)?,
                label: r.text(3)?,
                enrolled_at: r.int(4)?,
                revoked_at: r.opt_int(5)?,
                last_sync_at: r.opt_int(6)?,
            });
        }
        Ok(out)
    }

    /// Applies one sync: stores the changes the device sent (each once), answers with
    /// the changes of its scope since its cursor, and appends the log entries.
    pub fn sync(
        &mut self,
        device: &DeviceAuth,
        req: &SyncRequest,
        limits: &Limits,
        now: i64,
    ) -> Result<SyncResponse, Failure> {
        check_request(req, limits)?;
        let postgres = self.db.name() == "postgres";
        let mut tx = self.db.begin(true)?;
        let replay = tx
            .query_opt(
                "SELECT 1 FROM syncs WHERE device_id = ?1 AND sync_id = ?2",
                params![&device.device_id, &req.sync_id],
            )?
            .is_some();
        // A handful of statements for the whole request, however many documents it
        // carries: on PostgreSQL each statement is a round trip to another process.
        let mut known = known_docs(tx.as_mut(), &req.docs)?;
        let mut uploads = Vec::with_capacity(req.docs.len());
        let mut new_docs: Vec<(&str, String, &str)> = Vec::new();
        for upload in &req.docs {
            let (committee, snapshot) =
                committee_for(device, upload, known.remove(&upload.doc_id))?;
            let mut changes = Vec::with_capacity(upload.changes.len());
            for (i, raw) in upload.changes.iter().enumerate() {
                let change = Change::try_from(raw.as_slice()).map_err(|e| {
                    Failure::bad_request(
                        "invalid_change",
                        format!(
                            "document {} change {i}: not an Automerge change ({e})",
                            upload.doc_id
                        ),
                    )
                })?;
                changes.push(change);
            }
            if snapshot.is_none() {
                new_docs.push((&upload.doc_id, committee.clone(), &upload.kind));
            }
            uploads.push((upload, committee, snapshot, changes));
        }
        for batch in new_docs.chunks(INSERT_BATCH) {
            let mut sql =
                String::from("INSERT INTO docs (doc_id, committee_id, kind, snapshot) VALUES ");
            let mut values: Vec<Val> = Vec::with_capacity(batch.len() * 4);
            for (i, (doc_id, committee, kind)) in batch.iter().enumerate() {
                let n = values.len();
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(?{}, ?{}, ?{}, ?{})", n + 1, n + 2, n + 3, n + 4));
                values.extend([
                    Val::from(*doc_id),
                    Val::from(committee),
                    Val::from(*kind),
                    Val::from(Vec::<u8>::new()),
                ]);
            }
            tx.execute(&sql, &values)?;
        }
        // Every change of every document in one statement; those already stored are
        // skipped, and only the new ones come back.
        let mut new_hashes: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        let rows: Vec<(&str, &str, &Change)> = uploads
            .iter()
            .flat_map(|(upload, committee, _, changes)| {
                changes
                    .iter()
                    .map(move |c| (upload.doc_id.as_str(), committee.as_str(), c))
            })
            .collect();
        for batch in rows.chunks(INSERT_BATCH) {
            let mut sql = String::from(
                "INSERT INTO changes (doc_id, committee_id, hash, bytes, device_id) VALUES ",
            );
            let mut values: Vec<Val> = vec![Val::from(&device.device_id)];
            for (i, (doc_id, committee, change)) in batch.iter().enumerate() {
                let n = values.len();
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(?{}, ?{}, ?{}, ?{}, ?1)",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4
                ));
                values.extend([
                    Val::from(*doc_id),
                    Val::from(*committee),
                    Val::Text(change.hash().to_string()),
                    Val::from(change.raw_bytes()),
                ]);
            }
            sql.push_str(" ON CONFLICT DO NOTHING RETURNING doc_id, hash");
            for row in tx.query(&sql, &values)? {
                new_hashes
                    .entry(row.text(0)?)
                    .or_default()
                    .push(row.text(1)?);
            }
        }
        let mut received: Vec<(String, DocHashes)> = Vec::new();
        let mut conflicts: Vec<(String, DocConflicts)> = Vec::new();
        let mut snapshots: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut accepted = 0u64;
        for (upload, committee, snapshot, changes) in uploads {
            let Some(new_hashes) = new_hashes.remove(&upload.doc_id) else {
                continue;
            };
            let mut doc = match &snapshot {
                Some(bytes) => AutoCommit::load(bytes).map_err(Failure::storage)?,
                None => AutoCommit::new(),
            };
            let before = Fields::scan(&doc).conflicted();
            doc.apply_changes(changes).map_err(|e| {
                Failure::bad_request(
                    "invalid_change",
                    format!("document {}: changes do not apply ({e})", upload.doc_id),
                )
            })?;
            if !doc.get_missing_deps(&[]).is_empty() {
                return Err(Failure::bad_request(
                    "missing_dependencies",
                    format!(
                        "document {}: changes depend on changes the server does not have; send every unacknowledged change",
                        upload.doc_id
                    ),
                ));
            }
            let kind = value::text(&doc, "kind").unwrap_or_default();
            if kind != upload.kind {
                return Err(Failure::bad_request(
                    "kind_mismatch",
                    format!(
                        "document {} says kind {kind:?}, the request {:?}",
                        upload.doc_id, upload.kind
                    ),
                ));
            }
            let saved = doc.save();
            if saved.len() > limits.document_bytes {
                return Err(Failure::too_large(
                    "document_too_large",
                    format!(
                        "document {} would hold {} bytes; the limit is {}",
                        upload.doc_id,
                        saved.len(),
                        limits.document_bytes
                    ),
                ));
            }
            snapshots.push((&upload.doc_id, saved));
            accepted += new_hashes.len() as u64;
            let after = Fields::scan(&doc).conflicted();
            let newly: Vec<String> = after.into_iter().filter(|f| !before.contains(f)).collect();
            if !newly.is_empty() {
                conflicts.push((
                    committee.clone(),
                    DocConflicts {
                        doc_id: upload.doc_id.clone(),
                        fields: newly,
                    },
                ));
            }
            received.push((
                committee,
                DocHashes {
                    doc_id: upload.doc_id.clone(),
                    hashes: new_hashes,
                },
            ));
        }
        for batch in snapshots.chunks(SNAPSHOT_BATCH) {
            let mut rows = String::new();
            let mut values: Vec<Val> = Vec::with_capacity(batch.len() * 2);
            for (i, (doc_id, snapshot)) in batch.iter().enumerate() {
                let n = values.len();
                if i > 0 {
                    rows.push_str(", ");
                }
                rows.push_str(&if postgres {
                    format!("(CAST(?{} AS TEXT), CAST(?{} AS BYTEA))", n + 1, n + 2)
                } else {
                    format!("(?{}, ?{})", n + 1, n + 2)
                });
                values.push(Val::from(*doc_id));
                values.push(Val::from(snapshot.as_slice()));
            }
            let sql = if postgres {
                format!(
                    "UPDATE docs SET snapshot = v.snapshot FROM (VALUES {rows}) AS v (doc_id, snapshot)
                     WHERE docs.doc_id = v.doc_id"
                )
            } else {
                format!(
                    "UPDATE docs SET snapshot = v.column2 FROM (VALUES {rows}) AS v
                     WHERE docs.doc_id = v.column1"
                )
            };
            tx.execute(&sql, &values)?;
        }
        let (response_docs, sent, cursor, more) =
            changes_since(tx.as_mut(), device, req.cursor, limits)?;
        if !replay {
            tx.execute(
                "INSERT INTO syncs (device_id, sync_id, time) VALUES (?1, ?2, ?3)",
                params![&device.device_id, &req.sync_id, now],
            )?;
            if !received.is_empty() || !sent.is_empty() {
                append_log(tx.as_mut(), device, req, now, &received, &sent, &conflicts)?;
            }
        }
        tx.execute(
            "UPDATE devices SET last_sync_at = ?2 WHERE device_id = ?1",
            params![&device.device_id, now],
        )?;
        tx.commit()?;
        Ok(SyncResponse {
            cursor,
            more,
            accepted,
            docs: response_docs,
            conflicts: conflicts.into_iter().map(|(_, c)| c).collect(),
        })
    }

    /// A page of the sync log for a supervisor, newest first.
    pub fn log_page(&mut self, device: &DeviceAuth, q: &LogQuery) -> Result<LogPage, Failure> {
        require_supervisor(device, "only supervisors read the sync log")?;
        if let Some(c) = &q.committee
            && !device.committees.contains(c)
        {
            return Err(Failure::forbidden(
                "committee_forbidden",
                format!("committee {c} is not one of yours"),
            ));
        }
        let limit = q.limit.unwrap_or(50).clamp(1, 500);
        let mut tx = self.db.begin(false)?;
        let rows = tx.query(
            "SELECT id, body, prev_hash, hash FROM log
             WHERE committee_id IN (SELECT committee_id FROM device_committees WHERE device_id = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR committee_id = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR device_id = ?3)
               AND (CAST(?4 AS BIGINT) IS NULL OR time >= ?4)
               AND (CAST(?5 AS BIGINT) IS NULL OR time < ?5)
               AND (?6 = 0 OR conflicts > 0)
               AND (CAST(?7 AS BIGINT) IS NULL OR id < ?7)
               AND (CAST(?9 AS TEXT) IS NULL OR volunteer = ?9)
             ORDER BY id DESC LIMIT ?8",
            params![
                &device.device_id,
                q.committee.as_deref(),
                q.device.as_deref(),
                q.from,
                q.to,
                q.conflicts_only,
                q.before,
                i64::from(limit) + 1,
                q.volunteer
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            ],
        )?;
        let mut entries = Vec::new();
        let mut last_id = None;
        let mut more = false;
        for row in rows {
            if entries.len() == limit as usize {
                more = true;
                break;
            }
            let body: LogBody = serde_json::from_str(&row.text(1)?).map_err(Failure::storage)?;
            last_id = Some(row.int(0)?);
            entries.push(LogEntry {
                seq: body.seq,
                committee: body.committee,
                device_id: body.device_id,
                volunteer: body.volunteer,
                time: body.time,
                sync_id: body.sync_id,
                received: body.received,
                sent: body.sent,
                conflicts: body.conflicts,
                prev_hash: row.text(2)?,
                hash: row.text(3)?,
            });
        }
        Ok(LogPage {
            entries,
            next_before: if more { last_id } else { None },
        })
    }

    /// Checks every committee's chain (or one's): each entry's hash covers its content
    /// and the previous entry's hash. Returns the number of entries checked.
    pub fn log_verify(&mut self, committee: Option<&str>) -> Result<Result<u64, Broken>, Failure> {
        let mut tx = self.db.begin(false)?;
        let rows = tx.query(
            "SELECT committee_id, seq, body, prev_hash, hash FROM log
             WHERE CAST(?1 AS TEXT) IS NULL OR committee_id = ?1
             ORDER BY committee_id, seq",
            params![committee],
        )?;
        let mut current: Option<String> = None;
        let mut expected_prev = GENESIS.to_owned();
        let mut expected_seq = 1u64;
        let mut checked = 0u64;
        for row in rows {
            let committee_id = row.text(0)?;
            let seq = u64::try_from(row.int(1)?).unwrap_or(0);
            let body = row.text(2)?;
            let prev_hash = row.text(3)?;
            let hash = row.text(4)?;
            if current.as_deref() != Some(committee_id.as_str()) {
                current = Some(committee_id.clone());
                expected_prev = GENESIS.to_owned();
                expected_seq = 1;
            }
            let broken = |reason: &str| Broken {
                committee: committee_id.clone(),
                seq,
                reason: reason.to_owned(),
            };
            if seq != expected_seq {
                return Ok(Err(broken(&format!("entry {expected_seq} is missing"))));
            }
            if prev_hash != expected_prev {
                return Ok(Err(broken(
                    "its previous hash does not match the entry before it",
                )));
            }
            if entry_hash(&prev_hash, &body) != hash {
                return Ok(Err(broken("its content does not match its hash")));
            }
            match serde_json::from_str::<LogBody>(&body) {
                Ok(b) if b.committee == committee_id && b.seq == seq => {}
                _ => {
                    return Ok(Err(broken(
                        "its content does not name its place in the chain",
                    )));
                }
            }
            expected_prev = hash;
            expected_seq += 1;
            checked += 1;
        }
        Ok(Ok(checked))
    }

    /// The state of each of a supervisor's committees' log chains.
    pub fn chain_states(&mut self, device: &DeviceAuth) -> Result<Vec<ChainState>, Failure> {
        require_supervisor(device, "only supervisors check the sync log")?;
        let mut out = Vec::with_capacity(device.committees.len());
        for committee in &device.committees {
            let state = match self.log_verify(Some(committee))? {
                Ok(entries) => ChainState {
                    committee: committee.clone(),
                    entries,
                    broken: None,
                },
                Err(broken) => ChainState {
                    committee: committee.clone(),
                    entries: broken.seq.saturating_sub(1),
                    broken: Some(ChainBreak {
                        seq: broken.seq,
                        reason: broken.reason,
                    }),
                },
            };
            out.push(state);
        }
        Ok(out)
    }

    /// The devices enrolled in any of a supervisor's committees.
    pub fn devices_for(&mut self, device: &DeviceAuth) -> Result<Vec<DeviceInfo>, Failure> {
        require_supervisor(device, "only supervisors list devices")?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for committee in &device.committees {
            for info in self.devices(Some(committee))? {
                if seen.insert(info.device_id.clone()) {
                    out.push(info);
                }
            }
        }
        out.sort_by(|a, b| (a.enrolled_at, &a.device_id).cmp(&(b.enrolled_at, &b.device_id)));
        Ok(out)
    }

    /// A supervisor revokes a lost device: one whose every committee is theirs, and
    /// not the device they are using.
    pub fn revoke_by(
        &mut self,
        device: &DeviceAuth,
        target: &str,
        now: i64,
    ) -> Result<DeviceInfo, Failure> {
        require_supervisor(device, "only supervisors revoke devices")?;
        if target == device.device_id {
            return Err(Failure::bad_request(
                "device_forbidden",
                "a device cannot revoke itself; ask another supervisor",
            ));
        }
        let found = self
            .devices_for(device)?
            .into_iter()
            .find(|d| d.device_id == target)
            .ok_or_else(|| {
                Failure::not_found(
                    "device_unknown",
                    format!("no device {target} in your committees"),
                )
            })?;
        if !found
            .committees
            .iter()
            .all(|c| device.committees.contains(c))
        {
            return Err(Failure::forbidden(
                "device_forbidden",
                "this device also serves committees that are not yours; ask an administrator",
            ));
        }
        self.device_revoke(target, now)?;
        Ok(DeviceInfo {
            revoked_at: Some(found.revoked_at.unwrap_or(now)),
            ..found
        })
    }

    /// How much of a blob the server holds. A device holding a blob the server already
    /// has completely is given access to it without sending it again.
    pub fn blob_status(
        &mut self,
        device: &DeviceAuth,
        sha256: &str,
    ) -> Result<BlobStatus, Failure> {
        check_sha(sha256)?;
        let mut tx = self.db.begin(true)?;
        let status = blob_row(tx.as_mut(), sha256)?;
        if status.complete {
            claim_blob(tx.as_mut(), device, sha256)?;
        }
        tx.commit()?;
        Ok(status)
    }

    /// Stores bytes `offset..` of a blob of `size` bytes. Pieces must come in order
    /// (`offset` equal to what the server holds); the last one completes the blob, whose
    /// SHA-256 must then match its name.
    pub fn blob_put(
        &mut self,
        device: &DeviceAuth,
        piece: &BlobPiece<'_>,
        limits: &Limits,
        now: i64,
    ) -> Result<BlobStatus, Failure> {
        let BlobPiece {
            sha256,
            offset,
            size,
            bytes,
        } = *piece;
        check_sha(sha256)?;
        if size == 0 {
            return Err(Failure::bad_request(
                "blob_empty",
                "an attachment cannot be empty",
            ));
        }
        if size > limits.blob_bytes {
            return Err(Failure::too_large(
                "blob_too_large",
                format!(
                    "the attachment is {size} bytes; the limit is {}",
                    limits.blob_bytes
                ),
            ));
        }
        let mut tx = self.db.begin(true)?;
        let status = blob_row(tx.as_mut(), sha256)?;
        if status.complete {
            claim_blob(tx.as_mut(), device, sha256)?;
            tx.commit()?;
            return Ok(status);
        }
        if status.size.is_some_and(|known| known != size) {
            return Err(Failure::bad_request(
                "blob_size_mismatch",
                "this attachment was started with another size",
            ));
        }
        if offset != status.received {
            return Err(Failure::new(
                axum::http::StatusCode::CONFLICT,
                "offset_mismatch",
                format!(
                    "the server holds {} bytes of this attachment; resume there",
                    status.received
                ),
            ));
        }
        let end = offset + bytes.len() as u64;
        if end > size {
            return Err(Failure::bad_request(
                "blob_overflow",
                "more bytes than the attachment's size",
            ));
        }
        if bytes.is_empty() {
            return Err(Failure::bad_request("blob_empty", "send at least one byte"));
        }
        let offset_i = i64::try_from(offset).map_err(Failure::storage)?;
        let size_i = i64::try_from(size).map_err(Failure::storage)?;
        let end_i = i64::try_from(end).map_err(Failure::storage)?;
        tx.execute(
            "INSERT INTO blobs (sha256, size, received, created_at) VALUES (?1, ?2, 0, ?3)
             ON CONFLICT (sha256) DO NOTHING",
            params![sha256, size_i, now],
        )?;
        tx.execute(
            "INSERT INTO blob_chunks (sha256, at, bytes) VALUES (?1, ?2, ?3)",
            params![sha256, offset_i, bytes],
        )?;
        tx.execute(
            "UPDATE blobs SET received = ?2 WHERE sha256 = ?1",
            params![sha256, end_i],
        )?;
        if end == size {
            let whole = read_blob(tx.as_mut(), sha256)?;
            if sha256_hex(&whole) != sha256 {
                // Start over: a piece was damaged on the way.
                tx.execute("DELETE FROM blob_chunks WHERE sha256 = ?1", params![sha256])?;
                tx.execute("DELETE FROM blobs WHERE sha256 = ?1", params![sha256])?;
                tx.commit()?;
                return Err(Failure::bad_request(
                    "blob_hash_mismatch",
                    "the attachment's bytes do not match its SHA-256; send it again",
                ));
            }
            tx.execute(
                "UPDATE blobs SET complete = 1 WHERE sha256 = ?1",
                params![sha256],
            )?;
            claim_blob(tx.as_mut(), device, sha256)?;
        }
        let status = blob_row(tx.as_mut(), sha256)?;
        tx.commit()?;
        Ok(status)
    }

    /// A complete blob's bytes from `offset`, if the device's committees may read it.
    pub fn blob_get(
        &mut self,
        device: &DeviceAuth,
        sha256: &str,
        offset: u64,
    ) -> Result<Vec<u8>, Failure> {
        check_sha(sha256)?;
        let mut tx = self.db.begin(false)?;
        let readable = tx.query_opt(
            "SELECT 1 FROM blobs b WHERE b.sha256 = ?1 AND b.complete = 1 AND EXISTS (
                SELECT 1 FROM blob_committees c WHERE c.sha256 = b.sha256
                  AND c.committee_id IN (SELECT committee_id FROM device_committees
                                         WHERE device_id = ?2))",
            params![sha256, &device.device_id],
        )?;
        if readable.is_none() {
            return Err(Failure::not_found(
                "blob_unknown",
                "no such attachment for this device's committees",
            ));
        }
        let whole = read_blob(tx.as_mut(), sha256)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(whole.len());
        Ok(whole[start..].to_vec())
    }

    /// Runs `sql` in a transaction of its own: for administrators' repairs and tests.
    pub fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Failure> {
        let mut tx = self.db.begin(true)?;
        let n = tx.execute(sql, params)?;
        tx.commit()?;
        Ok(n)
    }

    /// Runs a query in a transaction of its own.
    pub fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, Failure> {
        self.db.begin(false)?.query(sql, params)
    }
}

fn require_supervisor(device: &DeviceAuth, message: &str) -> Result<(), Failure> {
    if device.role == Role::Supervisor {
        Ok(())
    } else {
        Err(Failure::forbidden("role_forbidden", message.to_owned()))
    }
}

fn device_committees(tx: &mut dyn Tx, device_id: &str) -> Result<Vec<String>, Failure> {
    tx.query(
        "SELECT committee_id FROM device_committees WHERE device_id = ?1 ORDER BY committee_id",
        params![device_id],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}

fn check_sha(sha256: &str) -> Result<(), Failure> {
    if doorstep_core::blobs::is_sha256_hex(sha256) {
        Ok(())
    } else {
        Err(Failure::bad_request(
            "invalid_blob_hash",
            "an attachment is named by its SHA-256 in lowercase hex",
        ))
    }
}

fn blob_row(tx: &mut dyn Tx, sha256: &str) -> Result<BlobStatus, Failure> {
    Ok(
        match tx.query_opt(
            "SELECT size, received, complete FROM blobs WHERE sha256 = ?1",
            params![sha256],
        )? {
            Some(row) => BlobStatus {
                sha256: sha256.to_owned(),
                size: u64::try_from(row.int(0)?).ok(),
                received: u64::try_from(row.int(1)?).unwrap_or(0),
                complete: row.int(2)? != 0,
            },
            None => BlobStatus {
                sha256: sha256.to_owned(),
                size: None,
                received: 0,
                complete: false,
            },
        },
    )
}

fn claim_blob(tx: &mut dyn Tx, device: &DeviceAuth, sha256: &str) -> Result<(), Failure> {
    for c in &device.committees {
        tx.execute(
            "INSERT INTO blob_committees (sha256, committee_id) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
            params![sha256, c],
        )?;
    }
    Ok(())
}

fn read_blob(tx: &mut dyn Tx, sha256: &str) -> Result<Vec<u8>, Failure> {
    let mut whole = Vec::new();
    for row in tx.query(
        "SELECT bytes FROM blob_chunks WHERE sha256 = ?1 ORDER BY at",
        params![sha256],
    )? {
        whole.extend_from_slice(&row.bytes(0)?);
    }
    Ok(whole)
}

fn entry_hash(prev_hash: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// Refusals that need no database: shapes and limits.
fn check_request(req: &SyncRequest, limits: &Limits) -> Result<(), Failure> {
    if req.sync_id.is_empty() || req.sync_id.len() > 64 {
        return Err(Failure::bad_request(
            "invalid_sync_id",
            "sync_id must be 1–64 characters",
        ));
    }
    if req.docs.len() > limits.documents_per_request {
        return Err(Failure::too_large(
            "too_many_documents",
            format!(
                "{} documents in one request; the limit is {}",
                req.docs.len(),
                limits.documents_per_request
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for d in &req.docs {
        if uuid::Uuid::parse_str(&d.doc_id).is_err() {
            return Err(Failure::bad_request(
                "invalid_doc_id",
                "document ids are UUIDs",
            ));
        }
        if !seen.insert(d.doc_id.as_str()) {
            return Err(Failure::bad_request(
                "duplicate_document",
                format!("document {} appears twice in one request", d.doc_id),
            ));
        }
        if !matches!(
            d.kind.as_str(),
            "resident" | "authorization" | "application"
        ) {
            return Err(Failure::bad_request(
                "unknown_kind",
                format!("document {}: unknown kind", d.doc_id),
            ));
        }
        if d.changes.is_empty() {
            return Err(Failure::bad_request(
                "no_changes",
                format!("document {} carries no changes", d.doc_id),
            ));
        }
        let bytes: usize = d.changes.iter().map(|c| c.len()).sum();
        if bytes > limits.document_bytes {
            return Err(Failure::too_large(
                "document_too_large",
                format!(
                    "document {} carries {bytes} bytes; the limit is {}",
                    d.doc_id, limits.document_bytes
                ),
            ));
        }
    }
    Ok(())
}

/// The committee of an uploaded document: fixed when the server first saw it; for a
/// new document, the device's committee (or the one it names, if it has several).
fn committee_for(
    device: &DeviceAuth,
    upload: &doorstep_core::protocol::DocUpload,
    known: Option<(String, String, Vec<u8>)>,
) -> Result<(String, Option<Vec<u8>>), Failure> {
    if let Some((committee, kind, snapshot)) = known {
        if !device.committees.contains(&committee) {
            return Err(Failure::forbidden(
                "cross_committee",
                format!("document {} belongs to another committee", upload.doc_id),
            ));
        }
        if kind != upload.kind {
            return Err(Failure::bad_request(
                "kind_mismatch",
                format!("document {} is a {kind}", upload.doc_id),
            ));
        }
        return Ok((committee, Some(snapshot)));
    }
    let committee = match (&upload.committee, device.committees.as_slice()) {
        (Some(c), scope) if scope.contains(c) => c.clone(),
        (Some(c), _) => {
            return Err(Failure::forbidden(
                "committee_forbidden",
                format!("committee {c} is not one of this device's"),
            ));
        }
        (None, [only]) => only.clone(),
        (None, _) => {
            return Err(Failure::bad_request(
                "committee_required",
                format!(
                    "document {} is new: say which committee it belongs to",
                    upload.doc_id
                ),
            ));
        }
    };
    Ok((committee, None))
}

/// A stored document's committee, kind and snapshot, by its id.
type KnownDocs = std::collections::HashMap<String, (String, String, Vec<u8>)>;

/// Committee, kind and snapshot of the request's documents the server already holds.
fn known_docs(
    tx: &mut dyn Tx,
    docs: &[doorstep_core::protocol::DocUpload],
) -> Result<KnownDocs, Failure> {
    let mut known = std::collections::HashMap::new();
    for batch in docs.chunks(INSERT_BATCH) {
        let marks: Vec<String> = (1..=batch.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT doc_id, committee_id, kind, snapshot FROM docs WHERE doc_id IN ({})",
            marks.join(", ")
        );
        let values: Vec<Val> = batch.iter().map(|d| Val::from(&d.doc_id)).collect();
        for row in tx.query(&sql, &values)? {
            known.insert(row.text(0)?, (row.text(1)?, row.text(2)?, row.bytes(3)?));
        }
    }
    Ok(known)
}

type Sent = (Vec<DocDownload>, Vec<(String, DocHashes)>, u64, bool);

/// The changes of the device's scope stored after `cursor`, other than its own, up to the
/// response limit; the new cursor; and whether more remain.
fn changes_since(
    tx: &mut dyn Tx,
    device: &DeviceAuth,
    cursor: u64,
    limits: &Limits,
) -> Result<Sent, Failure> {
    let cursor_i = i64::try_from(cursor).unwrap_or(i64::MAX);
    // One indexed range per committee (committee_id, seq), merged here: a single query
    // over all of them with ORDER BY seq lets a planner walk every change in the table.
    let mut rows = Vec::new();
    for committee in &device.committees {
        rows.extend(tx.query(
            "SELECT c.seq, c.doc_id, d.kind, c.committee_id, c.hash, c.bytes
             FROM changes c JOIN docs d ON d.doc_id = c.doc_id
             WHERE c.committee_id = ?1 AND c.seq > ?2 AND c.device_id != ?3
             ORDER BY c.seq LIMIT ?4",
            params![
                committee,
                cursor_i,
                &device.device_id,
                CHANGES_PER_ANSWER + 1
            ],
        )?);
    }
    if device.committees.len() > 1 {
        rows.sort_by_key(|r| r.int(0).unwrap_or(i64::MAX));
    }
    let mut docs: Vec<DocDownload> = Vec::new();
    let mut sent: Vec<(String, DocHashes)> = Vec::new();
    let mut index = std::collections::HashMap::<String, usize>::new();
    let mut bytes = 0usize;
    let mut last_seq = None;
    let mut more = false;
    for (n, row) in rows.into_iter().enumerate() {
        let change = row.bytes(5)?;
        if n as i64 == CHANGES_PER_ANSWER
            || (bytes > 0 && bytes + change.len() > limits.response_bytes)
        {
            more = true;
            break;
        }
        bytes += change.len();
        let doc_id = row.text(1)?;
        let i = match index.get(&doc_id) {
            Some(&i) => i,
            None => {
                let committee = row.text(3)?;
                docs.push(DocDownload {
                    doc_id: doc_id.clone(),
                    kind: row.text(2)?,
                    committee: committee.clone(),
                    changes: Vec::new(),
                });
                sent.push((
                    committee,
                    DocHashes {
                        doc_id: doc_id.clone(),
                        hashes: Vec::new(),
                    },
                ));
                index.insert(doc_id, docs.len() - 1);
                docs.len() - 1
            }
        };
        docs[i].changes.push(serde_bytes::ByteBuf::from(change));
        sent[i].1.hashes.push(row.text(4)?);
        last_seq = Some(row.int(0)?);
    }
    let new_cursor = if more {
        last_seq.map_or(cursor, |s| u64::try_from(s).unwrap_or(cursor))
    } else {
        // Past everything in scope, the device's own changes included.
        let mut max = 0;
        for committee in &device.committees {
            max = max.max(
                tx.query_one(
                    "SELECT coalesce(max(seq), 0) FROM changes WHERE committee_id = ?1",
                    params![committee],
                )?
                .int(0)?,
            );
        }
        cursor.max(u64::try_from(max).unwrap_or(0))
    };
    Ok((docs, sent, new_cursor, more))
}

/// Appends one entry per committee the sync touched to that committee's chain.
fn append_log(
    tx: &mut dyn Tx,
    device: &DeviceAuth,
    req: &SyncRequest,
    now: i64,
    received: &[(String, DocHashes)],
    sent: &[(String, DocHashes)],
    conflicts: &[(String, DocConflicts)],
) -> Result<(), Failure> {
    let mut committees: Vec<&String> = received
        .iter()
        .map(|(c, _)| c)
        .chain(sent.iter().map(|(c, _)| c))
        .collect();
    committees.sort();
    committees.dedup();
    for committee in committees {
        let pick = |list: &[(String, DocHashes)]| -> Vec<DocHashes> {
            list.iter()
                .filter(|(c, _)| c == committee)
                .map(|(_, h)| h.clone())
                .collect()
        };
        let conflicts: Vec<DocConflicts> = conflicts
            .iter()
            .filter(|(c, _)| c == committee)
            .map(|(_, d)| d.clone())
            .collect();
        let last = tx.query_opt(
            "SELECT seq, hash FROM log WHERE committee_id = ?1 ORDER BY seq DESC LIMIT 1",
            params![committee],
        )?;
        let (seq, prev_hash) = match last {
            Some(row) => (row.int(0)? + 1, row.text(1)?),
            None => (1, GENESIS.to_owned()),
        };
        let body = LogBody {
            committee: committee.clone(),
            seq: u64::try_from(seq).unwrap_or(0),
            device_id: device.device_id.clone(),
            volunteer: if req.volunteer.is_empty() {
                device.name.clone()
            } else {
                req.volunteer.chars().take(80).collect()
            },
            time: now,
            sync_id: req.sync_id.clone(),
            received: pick(received),
            sent: pick(sent),
            conflicts,
        };
        let body_json = serde_json::to_string(&body).map_err(Failure::storage)?;
        let hash = entry_hash(&prev_hash, &body_json);
        tx.execute(
            "INSERT INTO log (committee_id, seq, device_id, time, conflicts, body, prev_hash, hash,
                              volunteer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                committee,
                seq,
                &device.device_id,
                now,
                body.conflicts.len() as i64,
                body_json,
                prev_hash,
                hash,
                &body.volunteer
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
