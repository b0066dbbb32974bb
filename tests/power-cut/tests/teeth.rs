//! The power cut has teeth: a child process writes one row per transaction to a WAL
//! database and prints each commit, and its power is cut at a random write or sync.
//! With `synchronous=FULL` every committed row survives every cut; with
//! `synchronous=OFF` (nothing ever synced) some committed rows are lost — so a test
//! that passes under this VFS passes because the store syncs what it acknowledges, not
//! because the VFS keeps everything.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use doorstep_power_cut::{Fault, PLAN_ENV, POWER_CUT_EXIT, Plan};

const CHILD_ENV: &str = "DOORSTEP_TEETH_CHILD";

/// The child: commits rows 1, 2, 3, … until its power is cut.
fn child(spec: &str) -> ! {
    let (dir, synchronous) = spec.split_once('|').expect("dir|synchronous");
    let plan = Plan::parse(&std::env::var(PLAN_ENV).expect("plan")).expect("plan");
    doorstep_power_cut::install(std::path::Path::new(dir), plan).expect("install");
    let conn =
        rusqlite::Connection::open(std::path::Path::new(dir).join("rows.sqlite3")).expect("open");
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};
         CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, filler BLOB);"
    ))
    .expect("schema");
    let mut out = std::io::stderr().lock();
    for n in 1.. {
        conn.execute(
            "INSERT INTO rows VALUES (?1, zeroblob(3000))",
            rusqlite::params![n],
        )
        .expect("insert");
        std::io::Write::write_all(&mut out, format!("ack {n}\n").as_bytes()).expect("ack");
    }
    unreachable!("the rows never end")
}

/// Cuts the child's power `cuts` times on fresh databases; how many cuts lost a
/// committed row.
fn cuts_that_lost_rows(synchronous: &str, cuts: u64) -> u64 {
    let mut lost = 0;
    for cut in 0..cuts {
        let dir = tempfile::tempdir().expect("temp dir");
        let plan = Plan {
            at: 40 + cut * 37 % 400,
            fault: Fault::PowerCut { seed: cut + 1 },
        };
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .args(["--exact", "power_cut_has_teeth", "--nocapture"])
            .env(CHILD_ENV, format!("{}|{synchronous}", dir.path().display()))
            .env(PLAN_ENV, plan.to_env())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("child");
        let acked = BufReader::new(child.stderr.take().expect("stderr"))
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| l.strip_prefix("ack ").and_then(|n| n.parse::<i64>().ok()))
            .max()
            .unwrap_or(0);
        let status = child.wait().expect("wait");
        assert_eq!(
            status.code(),
            Some(POWER_CUT_EXIT),
            "{synchronous}, {plan:?}"
        );
        let conn = rusqlite::Connection::open(dir.path().join("rows.sqlite3")).expect("reopen");
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(integrity, "ok", "{synchronous}, {plan:?}");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM rows", [], |r| r.get(0))
            .unwrap_or(0);
        if rows < acked {
            lost += 1;
        }
    }
    lost
}

#[test]
fn power_cut_has_teeth() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
    }
    assert_eq!(cuts_that_lost_rows("FULL", 12), 0, "a synced commit lost");
    let lost = cuts_that_lost_rows("OFF", 12);
    assert!(
        lost > 0,
        "no cut lost an unsynced commit: the VFS keeps too much"
    );
    eprintln!(
        "teeth: 12 cuts with synchronous=FULL lost nothing; {lost} of 12 with OFF lost commits"
    );
}
