//! The statements run for every sync, enrollment or attachment piece must cost what one
//! committee holds, not what the whole server holds: SQLite's plan for each, on a fresh
//! database (the server never runs `ANALYZE`, so these are the plans it runs with), may
//! search an index but never scan a table that grows with every committee.
//!
//! Found by the convergence campaign (session 26): tens of thousands of committees on
//! one server made each case slower than the one before, the key roster's query
//! reading every device the server had enrolled.

use super::{Database, Store, blobs, enrollment, key_roster};

type Params<'a> = &'a [&'a dyn rusqlite::ToSql];

/// A fresh server database, made and migrated as the server makes it, opened plainly.
fn fresh() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(Store::open(&Database::Sqlite(dir.path().to_owned())).expect("store"));
    let conn = rusqlite::Connection::open(dir.path().join("server.sqlite3")).expect("open");
    (dir, conn)
}

/// SQLite's plan for `sql` with `params`, one line per step.
fn plan(conn: &rusqlite::Connection, sql: &str, params: Params) -> Vec<String> {
    let mut statement = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("the statement plans");
    statement
        .query_map(params, |row| row.get::<_, String>(3))
        .expect("the plan")
        .map(|step| step.expect("the step's detail"))
        .collect()
}

/// Fails when a step reads the whole of a table (a `SCAN` of it, through an index or
/// not) instead of searching it.
fn assert_searches(what: &str, steps: &[String]) {
    assert!(!steps.is_empty(), "{what}: no plan");
    let scans: Vec<&String> = steps.iter().filter(|s| s.starts_with("SCAN ")).collect();
    assert!(
        scans.is_empty(),
        "{what} reads a whole table: {scans:?} (plan {steps:?})"
    );
}

const ONE: Params = &[&"c1"];
const TWO: Params = &[&"c1", &"c2"];
const TIME: Params = &[&5_i64];

#[test]
fn per_request_statements_search_an_index_and_never_read_a_whole_table() {
    let (_dir, conn) = fresh();
    for (what, sql, params) in [
        (
            "a committee's key roster",
            key_roster::roster_rows_sql(1),
            ONE,
        ),
        (
            "two committees' key roster",
            key_roster::roster_rows_sql(2),
            TWO,
        ),
        (
            "a committee's devices",
            enrollment::COMMITTEE_DEVICES.into(),
            ONE,
        ),
        (
            "unfinished uploads' pieces",
            blobs::EXPIRE_CHUNKS.into(),
            TIME,
        ),
        ("unfinished uploads", blobs::EXPIRE_BLOBS.into(), TIME),
    ] {
        assert_searches(what, &plan(&conn, &sql, params));
    }
}

#[test]
fn the_check_fails_on_a_statement_that_reads_a_whole_table() {
    // The statements as they ran before their indexes: each must fail the check, or the
    // check could not tell.
    let (_dir, conn) = fresh();
    conn.execute_batch("DROP INDEX device_committees_by_committee; DROP INDEX blobs_unfinished")
        .expect("drop");
    for (sql, params) in [
        (key_roster::roster_rows_sql(1), ONE),
        (enrollment::COMMITTEE_DEVICES.into(), ONE),
        (blobs::EXPIRE_BLOBS.into(), TIME),
    ] {
        let steps = plan(&conn, &sql, params);
        let caught = std::panic::catch_unwind(|| assert_searches("without the index", &steps));
        assert!(caught.is_err(), "the scan went unnoticed: {steps:?}");
    }
}
