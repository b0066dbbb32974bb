//! Crash safety: a writer process is killed with SIGKILL at random moments while it
//! saves (registrations, edits and the compactions they bring, authorizations,
//! applications with their photo and submission, roster imports); after each kill the
//! database must pass `PRAGMA integrity_check`, hold every save the writer had
//! acknowledged, and hold each roster whole or not at all. 200 kills in `make test`;
//! `make campaign` runs 5,000 (`DOORSTEP_CRASH_ROUNDS`; `DOORSTEP_CRASH_SEED` replays).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use doorstep_core::DocId;
use doorstep_core::application::Status;
use doorstep_device::secret::DbKey;
use doorstep_device::store::Store;
use doorstep_device::{DATABASE_FILE, Device, catalog};
use doorstep_tests::{CRASH_ROSTER_ROWS, crash_roster_name};

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

/// A writer, and its output: `ack <kind> <n> <doc id or ->` lines, until it ends (the
/// receiver's iterator ends when the killed writer's output closes).
fn start_writer(args: &[&std::ffi::OsStr]) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
        .args(args)
        .env("RUST_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the writer");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn every_acknowledged_save_survives_sigkill() {
    let rounds = env_u64("DOORSTEP_CRASH_ROUNDS").unwrap_or(200);
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
    let mut applications: Vec<DocId> = Vec::new();
    let mut rosters: Vec<u64> = Vec::new();
    let mut acked_total = 0usize;

    for round in 0..rounds {
        // Each round checks what it saved; some forty rounds of a run (every 25th at
        // least) and the last check everything saved.
        let full = round % (rounds / 40).max(25) == 24 || round + 1 == rounds;
        let (first_registered, first_application, first_n) =
            (registered.len(), applications.len(), next_n);
        let mut updated_now = std::collections::BTreeSet::new();
        let first = next_n.to_string();
        let (mut child, rx) = start_writer(&[dir.path().as_os_str(), first.as_ref()]);
        // Let it open the database and save for a random while, then kill it.
        let lifetime = Duration::from_millis(30 + rng.next() % 250);
        let start = Instant::now();
        while start.elapsed() < lifetime {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        for line in rx.iter() {
            let parts: Vec<&str> = line.split(' ').collect();
            let ["ack", kind, n, id] = parts[..] else {
                panic!("round {round}: unexpected writer output");
            };
            let n: u64 = n.parse().expect("n");
            let doc = || DocId::parse(id).expect("doc id");
            match kind {
                "register" => registered.push(doc()),
                "update" => {
                    last_update.insert(doc(), n);
                    updated_now.insert(doc());
                }
                "application" => applications.push(doc()),
                "roster" => rosters.push(n),
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
        let since = |from: usize| if full { 0 } else { from };
        for id in &registered[since(first_registered)..] {
            device
                .resident(id)
                .unwrap_or_else(|e| panic!("round {round}, seed {seed}: registration lost: {e}"));
        }
        for id in &applications[since(first_application)..] {
            let status = device
                .application(id)
                .unwrap_or_else(|e| panic!("round {round}, seed {seed}: application lost: {e}"))
                .status;
            assert_eq!(
                status,
                Status::Submitted,
                "round {round}, seed {seed}: a submission lost"
            );
        }
        // Every roster the writer began is there whole or not at all; acknowledged, whole.
        let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
        for r in device.list_residents().expect("residents") {
            *by_name.entry(r.name).or_default() += 1;
        }
        for n in (since(first_n as usize) as u64..next_n).filter(|n| n % 8 == 4) {
            let found = by_name.get(&crash_roster_name(n)).copied().unwrap_or(0);
            let acked = rosters.contains(&n);
            assert!(
                found == CRASH_ROSTER_ROWS || (found == 0 && !acked),
                "round {round}, seed {seed}: roster {n} has {found} of {CRASH_ROSTER_ROWS} \
                 residents (acknowledged: {acked})"
            );
        }
        for (id, n) in last_update
            .iter()
            .filter(|(id, _)| full || updated_now.contains(*id))
        {
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
        "crash test: {rounds} kills, {acked_total} acknowledged saves ({} registrations, {} \
         edited residents, {} submitted applications, {} rosters of {CRASH_ROSTER_ROWS}), all \
         present, no roster half imported",
        registered.len(),
        last_update.len(),
        applications.len(),
        rosters.len()
    );
    assert!(
        acked_total > rounds as usize,
        "the writer barely saved anything"
    );
}

/// An enrolled tablet is killed while it syncs (merging answers of 20 new residents from
/// another tablet each round, and sending its own): after each kill the store passes
/// `integrity_check`, every acknowledged registration is there, the next sync completes,
/// and the two tablets then hold the same residents: no answer was half taken (a cursor
/// moved past records not stored would lose them for good). 30 kills in `make test`
/// (`DOORSTEP_CRASH_SYNC_ROUNDS`).
#[test]
fn a_sync_killed_while_it_merges_loses_nothing_and_the_next_sync_completes() -> anyhow::Result<()> {
    use doorstep_core::id_number::IdNumber;
    use doorstep_core::resident::ResidentInput;
    use doorstep_tests::ServerProcess;
    use doorstep_tests::fleet::{FAST_RETRY, TestDevice, committee, enrollment_text};

    let rounds = env_u64("DOORSTEP_CRASH_SYNC_ROUNDS").unwrap_or(30);
    let seed = env_u64("DOORSTEP_CRASH_SEED").unwrap_or(0x5eed) | 1;
    let mut rng = XorShift(seed);
    // Every tablet's keys in one keyring file that the writer process reads too.
    doorstep_tests::fleet::mock_keyring();
    let keyring_dir = tempfile::tempdir()?;
    let keyring_file = keyring_dir.path().join("keyring.ron");
    let keyring = keyring_core::sample::Store::new_with_backing(&keyring_file.to_string_lossy())?;
    keyring_core::set_default_store(keyring.clone());

    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut feeder = TestDevice::enrolled(&server, "c1", "volunteer", "测试甲")?;
    let dir = tempfile::tempdir()?;
    let key = DbKey::from_bytes(doorstep_tests::CRASH_TEST_KEY);
    {
        let mut device = Device::open_with_key(dir.path(), catalog::builtin()?, &key)?;
        let text = enrollment_text(&server, &["c1"], "volunteer", "测试乙", "1h")?;
        device.enroll(&text, "测试平板")?;
    }
    keyring.save()?;

    let (mut next_n, mut fed) = (0u64, 0u64);
    let (mut registered, mut syncs) = (Vec::new(), 0usize);
    for round in 0..rounds {
        // New work on the server for the tablet to merge.
        for _ in 0..20 {
            let id_number = IdNumber::complete(&format!(
                "3301061950{:02}{:02}{:03}",
                1 + (fed / 28_000) % 12,
                1 + (fed / 1000) % 28,
                fed % 1000
            ))
            .ok_or_else(|| anyhow::anyhow!("17 digits"))?;
            feeder.device.register_resident(&ResidentInput {
                name: "测试丙".into(),
                id_number,
                ..ResidentInput::default()
            })?;
            fed += 1;
        }
        feeder.sync(&server)?;

        let first = next_n.to_string();
        let (mut child, acks) = start_writer(&[
            dir.path().as_os_str(),
            first.as_ref(),
            "sync".as_ref(),
            keyring_file.as_os_str(),
        ]);
        std::thread::sleep(Duration::from_millis(50 + rng.next() % 550));
        child.kill()?;
        child.wait()?;
        for line in acks.iter() {
            let parts: Vec<&str> = line.split(' ').collect();
            let ["ack", kind, n, id] = parts[..] else {
                anyhow::bail!("round {round}: unexpected writer output");
            };
            match kind {
                "register" => registered.push(DocId::parse(id).expect("doc id")),
                "sync" => syncs += 1,
                other => anyhow::bail!("unknown ack kind {other}"),
            }
            next_n = next_n.max(n.parse::<u64>()? + 1);
        }
        next_n += 1;

        let store = Store::open(&dir.path().join(DATABASE_FILE), &key)?;
        let integrity: String = store
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        anyhow::ensure!(integrity == "ok", "round {round}, seed {seed}: {integrity}");
        drop(store);
        let mut device = Device::open_with_key(dir.path(), catalog::builtin()?, &key)?;
        for id in &registered {
            device.resident(id).map_err(|e| {
                anyhow::anyhow!("round {round}, seed {seed}: registration lost: {e}")
            })?;
        }
        // The next sync completes, and then both tablets hold the same residents.
        let mut transport = device.transport()?;
        device
            .sync_with(&mut transport, &FAST_RETRY)
            .map_err(|e| anyhow::anyhow!("round {round}, seed {seed}: the next sync: {e}"))?;
        feeder.sync(&server)?;
        let ids = |d: &Device| -> anyhow::Result<Vec<String>> {
            let mut ids: Vec<String> = d
                .list_residents()?
                .into_iter()
                .map(|r| r.id.to_string())
                .collect();
            ids.sort();
            Ok(ids)
        };
        anyhow::ensure!(
            ids(&device)? == ids(&feeder.device)?,
            "round {round}, seed {seed}: the tablets differ after the next sync"
        );
    }
    eprintln!(
        "crash test (sync): {rounds} kills of a syncing tablet, {syncs} syncs completed before a \
         kill, {} registrations acknowledged, {fed} residents merged from the other tablet; \
         every one on both tablets after the next sync",
        registered.len()
    );
    Ok(())
}
