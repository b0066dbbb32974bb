//! The first databases a process opens, opened by several threads at once.
//!
//! SQLite marks itself initialized before SQLCipher's own initialization has run, and
//! runs that outside its lock: a key set by another thread in that window failed with
//! "An error occurred with PRAGMA key or rekey" (a CI run of `device.rs` lost a test to
//! it; before the fix this test's child failed about once in a hundred starts). The race
//! is only at a process's start, so the test starts its own binary again and again, each
//! child opening its first databases from many threads at once.

use std::process::Command;
use std::sync::{Arc, Barrier};

use doorstep_device::secret::DbKey;
use doorstep_device::store::Store;

const THREADS: usize = 16;
/// Child processes started; `DOORSTEP_FIRST_OPEN_STARTS` sets another count.
const STARTS: usize = 300;
const CHILD_ENV: &str = "DOORSTEP_FIRST_OPEN_CHILD";
const TEST: &str = "the_first_databases_opened_at_once_all_open";

/// What a child does: opens `THREADS` new databases at once, its first.
fn open_at_once() -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let path = dir.path().join(format!("{n}.db"));
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let key = DbKey::from_bytes([n as u8; 32]);
                start.wait();
                Store::open(&path, &key)
                    .map(drop)
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    threads
        .into_iter()
        .filter_map(|t| t.join().expect("thread").err())
        .collect()
}

#[test]
fn the_first_databases_opened_at_once_all_open() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let failed = open_at_once();
        assert!(
            failed.is_empty(),
            "{} of {THREADS} opens failed: {failed:?}",
            failed.len()
        );
        return;
    }
    let starts = std::env::var("DOORSTEP_FIRST_OPEN_STARTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(STARTS);
    let me = std::env::current_exe().expect("this test's binary");
    let mut failures = 0;
    let mut first = None;
    for _ in 0..starts {
        let out = Command::new(&me)
            .args(["--exact", TEST, "--test-threads=1", "-q"])
            .env(CHILD_ENV, "1")
            .output()
            .expect("start a child");
        if !out.status.success() {
            failures += 1;
            first.get_or_insert_with(|| String::from_utf8_lossy(&out.stdout).into_owned());
        }
    }
    assert_eq!(
        failures,
        0,
        "{failures} of {starts} processes failed to open their first databases; the first said:\n{}",
        first.unwrap_or_default()
    );
}
