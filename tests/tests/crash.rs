//! Crash safety: a writer process is killed with SIGKILL at random moments while it
//! saves; after each kill the database must pass `PRAGMA integrity_check` and hold every
//! save the writer had acknowledged. 50 kills in `make test`; set
//! `DOORSTEP_CRASH_ROUNDS` for a longer campaign (and `DOORSTEP_CRASH_SEED` to replay).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use doorstep_core::DocId;
use doorstep_device::secret::DbKey;
use doorstep_device::store::Store;
use doorstep_device::{DATABASE_FILE, Device, catalog};

/// A small deterministic generator, so that a failing seed can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn every_acknowledged_save_survives_sigkill() {
    let rounds = env_u64("DOORSTEP_CRASH_ROUNDS").unwrap_or(50);
    let seed = env_u64("DOORSTEP_CRASH_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1
    });
    eprintln!("crash test: {rounds} rounds, seed {seed} (DOORSTEP_CRASH_SEED to replay)");
    let mut rng = XorShift(seed);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut next_n = 0u64;
    // Every registration acknowledged, and the last acknowledged address number per record.
    let mut registered: Vec<DocId> = Vec::new();
    let mut last_update: BTreeMap<DocId, u64> = BTreeMap::new();
    let mut acked_total = 0usize;

    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
            .arg(dir.path())
            .arg(next_n.to_string())
            .env("RUST_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the writer");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Let it open the database and save for a random while, then kill it.
        let lifetime = Duration::from_millis(30 + rng.next() % 250);
        let start = Instant::now();
        while start.elapsed() < lifetime {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        reader.join().expect("reader");
        for line in rx.try_iter() {
            let parts: Vec<&str> = line.split(' ').collect();
            let ["ack", kind, n, id] = parts[..] else {
                panic!("round {round}: unexpected writer output");
            };
            let n: u64 = n.parse().expect("n");
            let id = DocId::parse(id).expect("doc id");
            match kind {
                "register" => registered.push(id),
                "update" => {
                    last_update.insert(id, n);
                }
                other => panic!("unknown ack kind {other}"),
            }
            next_n = next_n.max(n + 1);
            acked_total += 1;
        }
        // A save in flight when killed may or may not have landed: skip past it.
        next_n += 1;

        let key = DbKey::from_bytes(doorstep_tests::CRASH_TEST_KEY);
        let store = Store::open(&dir.path().join(DATABASE_FILE), &key).expect("reopen raw");
        let integrity: String = store
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(integrity, "ok", "round {round}, seed {seed}");
        drop(store);

        let device = Device::open_with_key(dir.path(), catalog::builtin().expect("catalog"), &key)
            .expect("reopen device");
        for id in &registered {
            device
                .resident(id)
                .unwrap_or_else(|e| panic!("round {round}, seed {seed}: registration lost: {e}"));
        }
        for (id, n) in &last_update {
            let address = device.resident(id).expect("resident").address;
            let found: u64 = address
                .trim_start_matches("测试路 ")
                .trim_end_matches(" 号")
                .parse()
                .unwrap_or_else(|_| panic!("round {round}, seed {seed}: address lost"));
            assert!(
                found >= *n,
                "round {round}, seed {seed}: acknowledged edit {n} lost"
            );
        }
    }
    eprintln!(
        "crash test: {rounds} kills, {acked_total} acknowledged saves, {} residents, all present",
        registered.len()
    );
    assert!(
        acked_total > rounds as usize,
        "the writer barely saved anything"
    );
}
