//! The server's storage: committees, enrollment codes, devices, documents as their
//! individual Automerge changes (each stored once by hash, numbered by a cursor), the
//! hash-chained sync log and attachments, on SQLite or PostgreSQL (see [`crate::db`]).
//!
//! One room per concept, each an `impl Store` of its own:
//! - [`schema`]: the tables in both dialects and the migrations of older databases;
//! - [`enrollment`]: committees, one-time codes, device tokens and roles;
//! - [`sync`]: accepting uploads and answering with what a device lacks;
//! - [`log`]: the hash-chained sync log, its pages and its verification;
//! - [`blobs`]: attachments uploaded in pieces, and who may read them;
//! - [`key_roster`]: the server's own key and the rosters of keys and roles it signs;
//! - [`tls`]: the certificate the server presents and the server key's binding of it.
//!
//! Every operation is one transaction: a sync either stores all it carried and its log
//! entry, or nothing.

mod blobs;
mod enrollment;
mod key_roster;
mod log;
mod log_verify;
mod merkle;
#[cfg(test)]
mod plans;
mod schema;
mod sync;
mod tls;

pub use blobs::BlobPiece;
pub use enrollment::{DeviceAuth, normalize_code};
pub use log::{GENESIS, LogQuery};
pub use log_verify::Broken;
pub use tls::{Certificate, TlsIdentity};

use sha2::{Digest, Sha256};

use crate::db::{Backend, Postgres, Row, Sqlite, Val};
use crate::error::Failure;
use schema::{SCHEMA_SQLITE, schema_postgres};

/// The SHA-256 of `s`, in hex.
pub fn sha256_hex(s: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(s.as_ref()))
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

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.db.name()
    }

    /// Gives the database a new epoch (after a restore from a backup); returns it.
    pub fn renew_epoch(&mut self) -> Result<String, Failure> {
        let epoch = uuid::Uuid::new_v4().to_string();
        let mut tx = self.db.begin(true)?;
        tx.execute(
            "UPDATE server_meta SET value = ?1 WHERE key = 'epoch'",
            crate::params![&epoch],
        )?;
        // The checkpoints devices held may be of entries the restore lost: they are let
        // go rather than passed on to every device (each device still holds its own).
        tx.execute("DELETE FROM log_witness", &[])?;
        tx.commit()?;
        Ok(epoch)
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
