//! The two databases the server runs on, behind one small interface: the embedded
//! SQLite file (the default) and PostgreSQL (several stateless server instances over one
//! database). Statements are written once, with `?1`-style parameters, in the SQL both
//! understand; values are [`Val`]s.
//!
//! Write transactions are serialized: SQLite by `BEGIN IMMEDIATE`, PostgreSQL by a
//! transaction-scoped advisory lock, so that change numbers (the sync cursor) are
//! assigned in commit order and every committee's log chain grows one entry at a time,
//! however many server instances share the database.

use std::path::Path;

use crate::error::Failure;

/// A value going into or coming out of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(i64::from(v))
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_owned())
    }
}

impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}

impl From<&[u8]> for Val {
    fn from(v: &[u8]) -> Val {
        Val::Bytes(v.to_vec())
    }
}

impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Val {
        Val::Bytes(v)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// Parameters from a list of anything convertible: `params![a, b]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Val::from($v)),*] };
}

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> Result<&Val, Failure> {
        self.0
            .get(i)
            .ok_or_else(|| Failure::storage(format!("row has no column {i}")))
    }

    pub fn int(&self, i: usize) -> Result<i64, Failure> {
        match self.at(i)? {
            Val::Int(v) => Ok(*v),
            other => Err(Failure::storage(format!(
                "column {i}: expected an integer, got {other:?}"
            ))),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, Failure> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn text(&self, i: usize) -> Result<String, Failure> {
        match self.at(i)? {
            Val::Text(v) => Ok(v.clone()),
            other => Err(Failure::storage(format!(
                "column {i}: expected text, got {other:?}"
            ))),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, Failure> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, Failure> {
        match self.at(i)? {
            Val::Bytes(v) => Ok(v.clone()),
            Val::Null => Ok(Vec::new()),
            other => Err(Failure::storage(format!(
                "column {i}: expected bytes, got {other:?}"
            ))),
        }
    }
}

/// An open transaction.
pub trait Tx {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Failure>;
    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, Failure>;
    /// Makes the transaction's writes permanent (dropping it rolls them back).
    fn commit(self: Box<Self>) -> Result<(), Failure>;

    /// Adds `column` (declared `decl`) to `table`, unless the table already has it: the
    /// migration of a database made by an older build.
    fn add_column(&mut self, table: &str, column: &str, decl: &str) -> Result<(), Failure>;

    /// `UPDATE table SET column = new WHERE key = k` for every `(k, new)` pair, in one
    /// statement (on PostgreSQL each statement is a round trip to another process).
    fn update_each(
        &mut self,
        table: &str,
        key: &str,
        column: &str,
        rows: &[(Val, Val)],
    ) -> Result<u64, Failure>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, Failure> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Exactly one row.
    fn query_one(&mut self, sql: &str, params: &[Val]) -> Result<Row, Failure> {
        self.query_opt(sql, params)?
            .ok_or_else(|| Failure::storage("a query that returns a row returned none"))
    }
}

/// A database the server can run on.
pub trait Backend: Send {
    /// Starts a transaction; `write` ones are serialized with every other writer.
    fn begin(&mut self, write: bool) -> Result<Box<dyn Tx + '_>, Failure>;
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
}

// --- SQLite -----------------------------------------------------------------------

/// The embedded database: one SQLite file.
#[derive(Debug)]
pub struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    pub fn open(path: &Path, schema: &str) -> Result<Sqlite, Failure> {
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        conn.execute_batch(schema)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Sqlite { conn })
    }
}

struct SqliteTx<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Val::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Val::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Failure> {
        let n = self
            .tx
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params.iter()))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, Failure> {
        let mut stmt = self.tx.prepare_cached(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut vals = Vec::with_capacity(columns);
            for i in 0..columns {
                use rusqlite::types::ValueRef;
                vals.push(match row.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Int(v as i64),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn commit(self: Box<Self>) -> Result<(), Failure> {
        Ok(self.tx.commit()?)
    }

    fn add_column(&mut self, table: &str, column: &str, decl: &str) -> Result<(), Failure> {
        let present = self
            .query_opt(
                &format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"),
                &[Val::from(column)],
            )?
            .is_some();
        if !present {
            self.execute(
                &format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"),
                &[],
            )?;
        }
        Ok(())
    }

    fn update_each(
        &mut self,
        table: &str,
        key: &str,
        column: &str,
        rows: &[(Val, Val)],
    ) -> Result<u64, Failure> {
        if rows.is_empty() {
            return Ok(0);
        }
        let (values, params) = values_list(rows, |_| None);
        self.execute(
            &format!(
                "UPDATE {table} SET {column} = v.column2 FROM (VALUES {values}) AS v
                 WHERE {table}.{key} = v.column1"
            ),
            &params,
        )
    }
}

/// `(?1, ?2), (?3, ?4)...` for `rows` and their parameters in order; `cast` names the
/// type a value is cast to, where a dialect must be told.
fn values_list(
    rows: &[(Val, Val)],
    cast: impl Fn(&Val) -> Option<&'static str>,
) -> (String, Vec<Val>) {
    let mut values = String::new();
    let mut params = Vec::with_capacity(rows.len() * 2);
    for (i, (k, v)) in rows.iter().enumerate() {
        if i > 0 {
            values.push_str(", ");
        }
        let placeholder = |n: usize, val: &Val| match cast(val) {
            Some(t) => format!("CAST(?{n} AS {t})"),
            None => format!("?{n}"),
        };
        values.push_str(&format!(
            "({}, {})",
            placeholder(2 * i + 1, k),
            placeholder(2 * i + 2, v)
        ));
        params.push(k.clone());
        params.push(v.clone());
    }
    (values, params)
}

impl Backend for Sqlite {
    fn begin(&mut self, write: bool) -> Result<Box<dyn Tx + '_>, Failure> {
        let behavior = if write {
            rusqlite::TransactionBehavior::Immediate
        } else {
            rusqlite::TransactionBehavior::Deferred
        };
        Ok(Box::new(SqliteTx {
            tx: self.conn.transaction_with_behavior(behavior)?,
        }))
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}

// --- PostgreSQL ---------------------------------------------------------------------

/// PostgreSQL, through a small pool of connections that heals: a connection that broke
/// (the database restarted, the network dropped) is dropped and a new one made, so the
/// server serves again as soon as the database does, without a restart. While it is
/// away, a request waits at most [`PG_CONNECT_TIMEOUT`] and is answered 503.
pub struct Postgres {
    pool: r2d2::Pool<PgManager>,
    /// After a failure to reach the database: until when requests are answered 503 at
    /// once rather than each waiting for a connection (the store serves one request at
    /// a time, so waits would queue up behind each other).
    down_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").finish_non_exhaustive()
    }
}

/// The advisory lock every writing transaction holds (an arbitrary, fixed number).
const WRITE_LOCK: i64 = 0x0D00_2573;

/// How long a request waits for a connection before it is answered 503.
pub const PG_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// After the database could not be reached, how long requests are refused at once
/// before one tries again.
const PG_RECHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Connections a server keeps (its requests are serialized; the spare ones replace a
/// broken one at once).
const PG_POOL_SIZE: u32 = 2;

/// Makes and checks the pool's connections.
#[derive(Debug)]
struct PgManager {
    url: String,
}

/// One connection, with the statements prepared on it (each parsed once).
struct PgConn {
    client: postgres::Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
    /// A transaction on it could not be ended: the pool must not lend it again.
    broken: bool,
}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        let mut config: postgres::Config = self.url.parse()?;
        config.connect_timeout(PG_CONNECT_TIMEOUT);
        Ok(PgConn {
            client: config.connect(postgres::NoTls)?,
            statements: std::collections::HashMap::new(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

impl Postgres {
    pub fn open(url: &str, schema: &str) -> Result<Postgres, Failure> {
        let pool = r2d2::Pool::builder()
            .max_size(PG_POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(PG_CONNECT_TIMEOUT)
            // A connection is checked before each use: one the database dropped is
            // replaced rather than failing the request.
            .test_on_check_out(true)
            .build(PgManager {
                url: url.to_owned(),
            })
            .map_err(Failure::storage)?;
        let db = Postgres {
            pool,
            down_until: std::sync::Mutex::new(None),
        };
        // Two instances starting at once must not race to create the tables.
        let mut tx = db.transaction(true)?;
        tx.batch(schema)?;
        Box::new(tx).commit()?;
        Ok(db)
    }

    /// A connection from the pool, or a quick 503 while the database is unreachable.
    fn connection(&self) -> Result<r2d2::PooledConnection<PgManager>, Failure> {
        let mut down = self
            .down_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        if down.is_some_and(|until| now < until) {
            return Err(Failure::unavailable());
        }
        match self.pool.get_timeout(PG_CONNECT_TIMEOUT) {
            Ok(conn) => {
                *down = None;
                Ok(conn)
            }
            Err(e) => {
                *down = Some(std::time::Instant::now() + PG_RECHECK_AFTER);
                Err(Failure::storage(e))
            }
        }
    }

    /// A transaction on a connection from the pool; `write` ones hold the write lock.
    fn transaction(&self, write: bool) -> Result<PgTx, Failure> {
        let conn = self.connection()?;
        let mut tx = PgTx { conn, open: false };
        // A reader sees one snapshot (as on SQLite): `log verify` reads the log, its tree
        // and its witnesses while syncs append.
        tx.batch(if write {
            "BEGIN"
        } else {
            "BEGIN ISOLATION LEVEL REPEATABLE READ"
        })?;
        tx.open = true;
        if write {
            tx.conn
                .client
                .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
                .map_err(pg_failure)?;
        }
        Ok(tx)
    }
}

fn pg_failure(e: postgres::Error) -> Failure {
    match e.as_db_error() {
        Some(db) if *db.code() == postgres::error::SqlState::DISK_FULL => {
            Failure::storage_full(format!("{}: {}", db.code().code(), db.message()))
        }
        Some(db) => Failure::storage(format!("{}: {}", db.code().code(), db.message())),
        None => Failure::storage(e),
    }
}

/// `?1` → `$1`: statements are written for both databases.
fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl postgres::types::ToSql for Val {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Val::Null => Ok(postgres::types::IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Text(v) => v.to_sql(ty, out),
            Val::Bytes(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A transaction on a connection of the pool, begun and ended by statements (so that it
/// owns its connection); dropped without a commit, it rolls back.
struct PgTx {
    conn: r2d2::PooledConnection<PgManager>,
    open: bool,
}

impl PgTx {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, Failure> {
        if let Some(stmt) = self.conn.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.conn.client.prepare(&pg_sql(sql)).map_err(pg_failure)?;
        // Statements built per request (a batch of n rows) are few in kind; still, the
        // cache is bounded.
        if self.conn.statements.len() > 512 {
            self.conn.statements.clear();
        }
        self.conn.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn batch(&mut self, sql: &str) -> Result<(), Failure> {
        self.conn.client.batch_execute(sql).map_err(pg_failure)
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        // A connection that cannot roll back (it broke) is not lent again: the pool
        // drops it, and PostgreSQL rolled the transaction back when it lost it.
        if self.open && self.conn.client.batch_execute("ROLLBACK").is_err() {
            self.conn.broken = true;
        }
    }
}

fn pg_params(params: &[Val]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Tx for PgTx {
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, Failure> {
        let stmt = self.statement(sql)?;
        self.conn
            .client
            .execute(&stmt, &pg_params(params))
            .map_err(pg_failure)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, Failure> {
        use postgres::types::Type;
        let stmt = self.statement(sql)?;
        let rows = self
            .conn
            .client
            .query(&stmt, &pg_params(params))
            .map_err(pg_failure)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut vals = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let v = match *column.type_() {
                    Type::INT2 => row.try_get::<_, Option<i16>>(i).map(|v| v.map(i64::from)),
                    Type::INT4 => row.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)),
                    Type::INT8 => row.try_get::<_, Option<i64>>(i),
                    Type::BOOL => row.try_get::<_, Option<bool>>(i).map(|v| v.map(i64::from)),
                    Type::BYTEA => {
                        vals.push(
                            row.try_get::<_, Option<Vec<u8>>>(i)
                                .map_err(pg_failure)?
                                .map_or(Val::Null, Val::Bytes),
                        );
                        continue;
                    }
                    _ => {
                        vals.push(
                            row.try_get::<_, Option<String>>(i)
                                .map_err(pg_failure)?
                                .map_or(Val::Null, Val::Text),
                        );
                        continue;
                    }
                };
                vals.push(v.map_err(pg_failure)?.map_or(Val::Null, Val::Int));
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn commit(mut self: Box<Self>) -> Result<(), Failure> {
        // Whatever COMMIT answers, the transaction is over (committed, or rolled back
        // by the server); a failure to answer leaves the connection broken.
        let done = self.batch("COMMIT");
        self.open = false;
        if done.is_err() {
            self.conn.broken = true;
        }
        done
    }

    fn add_column(&mut self, table: &str, column: &str, decl: &str) -> Result<(), Failure> {
        self.execute(
            &format!("ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {decl}"),
            &[],
        )?;
        Ok(())
    }

    fn update_each(
        &mut self,
        table: &str,
        key: &str,
        column: &str,
        rows: &[(Val, Val)],
    ) -> Result<u64, Failure> {
        if rows.is_empty() {
            return Ok(0);
        }
        // PostgreSQL types a VALUES list from its first row: tell it each value's type.
        let (values, params) = values_list(rows, |v| {
            Some(match v {
                Val::Int(_) => "BIGINT",
                Val::Bytes(_) => "BYTEA",
                Val::Text(_) | Val::Null => "TEXT",
            })
        });
        self.execute(
            &format!(
                "UPDATE {table} SET {column} = v.new FROM (VALUES {values}) AS v (k, new)
                 WHERE {table}.{key} = v.k"
            ),
            &params,
        )
    }
}

impl Backend for Postgres {
    fn begin(&mut self, write: bool) -> Result<Box<dyn Tx + '_>, Failure> {
        Ok(Box::new(self.transaction(write)?))
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_renumbered_for_postgres() {
        assert_eq!(
            pg_sql("SELECT a FROM t WHERE b = ?1 AND c = ?12 OR d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 OR d = '?'"
        );
    }
}
