//! Crash safety: a writer process saves (registrations, edits and the compactions they
//! bring, authorizations, applications with their photo and submission, roster imports)
//! and is stopped at random moments: killed with SIGKILL, its power cut (the
//! `doorstep_power_cut` VFS keeps only what was synced, and a torn or scattered part of
//! the rest), or its disk failing with I/O errors for a few writes. After each, the
//! database must pass `PRAGMA integrity_check`, hold every save the writer had
//! acknowledged, and hold each roster whole or not at all. 200 kills, 100 power cuts and
//! 60 I/O faults in `make test`; `make campaign` runs 5,000, 5,000 and 1,000 (seeds
//! printed, and replayed through `DOORSTEP_CRASH_SEED`, `DOORSTEP_POWER_SEED`,
//! `DOORSTEP_IO_SEED`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use doorstep_core::DocId;
use doorstep_core::application::Status;
use doorstep_device::secret::DbKey;
use doorstep_device::store::Store;
use doorstep_device::{DATABASE_FILE, Device, catalog};
use doorstep_power_cut::{Fault, Plan};
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

/// How a writer's round ends.
#[derive(Debug, Clone, Copy)]
enum Stop {
    /// SIGKILL after this long.
    Kill(Duration),
    /// Its storage fails as planned (`doorstep_power_cut`): a power cut ends it; after
    /// an I/O error it is killed once it has saved a few times more.
    Storage(Plan),
}

/// A writer, its output (`ack …` and `fail …` lines; the receiver's iterator ends when
/// the writer's output closes) and the file its errors go to.
fn start_writer(
    args: &[&std::ffi::OsStr],
    stop: Stop,
    log: &Path,
) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_crash-writer"));
    command
        .args(args)
        .env("RUST_LOG", "off")
        .env_remove(doorstep_power_cut::PLAN_ENV)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("writer log"));
    if let Stop::Storage(plan) = stop {
        command.env(doorstep_power_cut::PLAN_ENV, plan.to_env());
    }
    let mut child = command.spawn().expect("start the writer");
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

/// Runs a writer until `stop` ends it; its output lines.
fn run_writer(args: &[&std::ffi::OsStr], stop: Stop) -> Vec<String> {
    let log_dir = tempfile::tempdir().expect("temp dir");
    let log = log_dir.path().join("writer.log");
    let (mut child, rx) = start_writer(args, stop, &log);
    let mut lines = Vec::new();
    let writer_log = || std::fs::read_to_string(&log).unwrap_or_default();
    match stop {
        Stop::Kill(lifetime) => {
            std::thread::sleep(lifetime);
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
        Stop::Storage(Plan {
            fault: Fault::PowerCut { .. },
            ..
        }) => {
            let deadline = Instant::now() + Duration::from_secs(120);
            let status = loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    break status;
                }
                assert!(
                    Instant::now() < deadline,
                    "{stop:?}: the power cut never came"
                );
                std::thread::sleep(Duration::from_millis(5));
            };
            assert_eq!(
                status.code(),
                Some(doorstep_power_cut::POWER_CUT_EXIT),
                "{stop:?}: the writer ended otherwise: {}",
                writer_log()
            );
        }
        Stop::Storage(Plan {
            fault: Fault::IoError { .. },
            ..
        }) => {
            // Until three saves after the last refusal (the fault has cleared), or a
            // minute without one: the writer's error would then be in its log.
            let (mut refused, mut since) = (false, 0);
            while !(refused && since >= 3) {
                assert!(
                    refused || lines.len() < 5_000,
                    "{stop:?}: the fault never struck"
                );
                let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
                    panic!("{stop:?}: the writer stopped saving: {}", writer_log());
                };
                if line.starts_with("fail ") {
                    (refused, since) = (true, 0);
                } else {
                    since += 1;
                }
                lines.push(line);
            }
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }
    lines.extend(rx.iter());
    lines
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn seed_or_clock(name: &str) -> u64 {
    env_u64(name).unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    }) | 1
}

/// Everything the writer acknowledged over the rounds, and what one round began with.
#[derive(Debug, Default)]
struct Ledger {
    registered: Vec<DocId>,
    /// The last acknowledged address number per edited record.
    last_update: BTreeMap<DocId, u64>,
    applications: Vec<DocId>,
    rosters: Vec<u64>,
    next_n: u64,
    acked: usize,
    /// Saves refused with an error (storage faults).
    refused: usize,
    round_began: (usize, usize, u64),
    updated_now: BTreeSet<DocId>,
}

impl Ledger {
    /// A round begins: the writer's first `n`.
    fn begin(&mut self) -> String {
        self.round_began = (self.registered.len(), self.applications.len(), self.next_n);
        self.updated_now.clear();
        self.next_n.to_string()
    }

    /// The writer's output in a round. A refused save must say the storage failed.
    fn take(&mut self, lines: &[String], context: &str) {
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts[..] {
                ["ack", kind, n, id] => {
                    let n: u64 = n.parse().expect("n");
                    let doc = || DocId::parse(id).expect("doc id");
                    match kind {
                        "register" => self.registered.push(doc()),
                        "update" => {
                            self.last_update.insert(doc(), n);
                            self.updated_now.insert(doc());
                        }
                        "application" => self.applications.push(doc()),
                        "roster" => self.rosters.push(n),
                        other => panic!("{context}: unknown ack kind {other}"),
                    }
                    self.next_n = self.next_n.max(n + 1);
                    self.acked += 1;
                }
                ["fail", n, code] => {
                    assert_eq!(code, "StorageFailed", "{context}: a refusal unexplained");
                    self.next_n = self.next_n.max(n.parse::<u64>().expect("n") + 1);
                    self.refused += 1;
                }
                _ => panic!("{context}: unexpected writer output"),
            }
        }
        // A save in flight when the writer ended may or may not have landed: skip it.
        self.next_n += 1;
    }

    /// The store passes `integrity_check` and holds every acknowledged save of the round
    /// (of every round, when `full`), and each roster begun whole or not at all.
    fn check(&self, dir: &Path, full: bool, context: &str) {
        let key = DbKey::from_bytes(doorstep_tests::CRASH_TEST_KEY);
        let store = Store::open(&dir.join(DATABASE_FILE), &key).expect("reopen raw");
        let integrity: String = store
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity_check");
        assert_eq!(integrity, "ok", "{context}");
        drop(store);

        let device = Device::open_with_key(dir, catalog::builtin().expect("catalog"), &key)
            .unwrap_or_else(|e| panic!("{context}: reopen: {e}"));
        let (first_registered, first_application, first_n) = self.round_began;
        let since = |from: usize| if full { 0 } else { from };
        for id in &self.registered[since(first_registered)..] {
            device
                .resident(id)
                .unwrap_or_else(|e| panic!("{context}: registration lost: {e}"));
        }
        for id in &self.applications[since(first_application)..] {
            let status = device
                .application(id)
                .unwrap_or_else(|e| panic!("{context}: application lost: {e}"))
                .status;
            assert_eq!(status, Status::Submitted, "{context}: a submission lost");
        }
        let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
        for r in device.list_residents().expect("residents") {
            *by_name.entry(r.name).or_default() += 1;
        }
        for n in (since(first_n as usize) as u64..self.next_n).filter(|n| n % 8 == 4) {
            let found = by_name.get(&crash_roster_name(n)).copied().unwrap_or(0);
            let acked = self.rosters.contains(&n);
            assert!(
                found == CRASH_ROSTER_ROWS || (found == 0 && !acked),
                "{context}: roster {n} has {found} of {CRASH_ROSTER_ROWS} residents \
                 (acknowledged: {acked})"
            );
        }
        for (id, n) in self
            .last_update
            .iter()
            .filter(|(id, _)| full || self.updated_now.contains(*id))
        {
            let address = device.resident(id).expect("resident").address;
            let found: u64 = address
                .trim_start_matches("测试路 ")
                .trim_end_matches(" 号")
                .parse()
                .unwrap_or_else(|_| panic!("{context}: address lost"));
            assert!(found >= *n, "{context}: acknowledged edit {n} lost");
        }
    }
}

/// Rounds in one data folder: a long campaign starts afresh every so often, so that a
/// round's cost does not grow with everything saved before it.
const ROUNDS_PER_FOLDER: u64 = 200;

/// What the writers acknowledged and were refused, over every folder of a run.
#[derive(Debug, Default)]
struct Totals {
    acked: usize,
    refused: usize,
    registered: usize,
    edited: usize,
    applications: usize,
    rosters: usize,
}

impl Totals {
    fn add(&mut self, ledger: &Ledger) {
        self.acked += ledger.acked;
        self.refused += ledger.refused;
        self.registered += ledger.registered.len();
        self.edited += ledger.last_update.len();
        self.applications += ledger.applications.len();
        self.rosters += ledger.rosters.len();
    }

    fn summary(&self) -> String {
        format!(
            "{} acknowledged saves ({} registrations, {} edited residents, {} submitted \
             applications, {} rosters of {CRASH_ROSTER_ROWS}), all present, no roster half \
             imported",
            self.acked, self.registered, self.edited, self.applications, self.rosters
        )
    }
}

/// `rounds` rounds of the writer, [`ROUNDS_PER_FOLDER`] on each data folder, each ended
/// by `stop(rng)` and checked (every round's saves, and everything a folder holds every
/// 25th round and at its last).
fn writer_rounds(rounds: u64, seed: u64, mut stop: impl FnMut(&mut XorShift) -> Stop) -> Totals {
    let mut rng = XorShift(seed);
    let mut totals = Totals::default();
    let mut round = 0;
    while round < rounds {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut ledger = Ledger::default();
        let last = rounds.min(round + ROUNDS_PER_FOLDER);
        for in_folder in 0..last - round {
            let full = in_folder % 25 == 24 || round + in_folder + 1 == last;
            let first = ledger.begin();
            let stop = stop(&mut rng);
            let context = format!("round {}, seed {seed}, {stop:?}", round + in_folder);
            let lines = run_writer(&[dir.path().as_os_str(), first.as_ref()], stop);
            ledger.take(&lines, &context);
            ledger.check(dir.path(), full, &context);
        }
        totals.add(&ledger);
        round = last;
    }
    totals
}

#[test]
fn every_acknowledged_save_survives_sigkill() {
    let rounds = env_u64("DOORSTEP_CRASH_ROUNDS").unwrap_or(200);
    let seed = seed_or_clock("DOORSTEP_CRASH_SEED");
    eprintln!("crash test: {rounds} rounds, seed {seed} (DOORSTEP_CRASH_SEED to replay)");
    let totals = writer_rounds(rounds, seed, |rng| {
        Stop::Kill(Duration::from_millis(30 + rng.next() % 250))
    });
    eprintln!("crash test: {rounds} kills, {}", totals.summary());
    assert!(
        totals.acked > rounds as usize,
        "the writer barely saved anything"
    );
}

/// The writer's power is cut at a random write, sync, truncation or deletion of its
/// database (the first ~2,000 of a run: opening, saves of every kind, checkpoints); the
/// disk keeps what was synced and none, a torn prefix or a scattered subset of the rest.
/// 100 cuts in `make test`, 5,000 in `make campaign` (`DOORSTEP_POWER_CUTS`).
#[test]
fn every_acknowledged_save_survives_a_power_cut() {
    let rounds = env_u64("DOORSTEP_POWER_CUTS").unwrap_or(100);
    let seed = seed_or_clock("DOORSTEP_POWER_SEED");
    eprintln!("power-cut test: {rounds} cuts, seed {seed} (DOORSTEP_POWER_SEED to replay)");
    let totals = writer_rounds(rounds, seed, |rng| {
        Stop::Storage(Plan {
            at: 1 + rng.next() % 2_000,
            fault: Fault::PowerCut { seed: rng.next() },
        })
    });
    eprintln!("power-cut test: {rounds} power cuts, {}", totals.summary());
    assert!(
        totals.acked > rounds as usize / 2,
        "the writer barely saved anything"
    );
}

/// One to four writes or syncs in a row of the writer's database fail with an I/O error
/// at a random point: each save caught in it is refused with `StorageFailed`, the writer
/// saves again once the fault clears (without reopening), and after it is killed every
/// acknowledged save is there and nothing is half saved. 60 faults in `make test`, 1,000
/// in `make campaign` (`DOORSTEP_IO_FAULTS`).
#[test]
fn io_errors_refuse_a_save_clearly_and_lose_nothing() {
    let rounds = env_u64("DOORSTEP_IO_FAULTS").unwrap_or(60);
    let seed = seed_or_clock("DOORSTEP_IO_SEED");
    eprintln!("I/O-error test: {rounds} faults, seed {seed} (DOORSTEP_IO_SEED to replay)");
    let totals = writer_rounds(rounds, seed, |rng| {
        Stop::Storage(Plan {
            at: 1 + rng.next() % 1_500,
            fault: Fault::IoError {
                count: 1 + rng.next() % 4,
            },
        })
    });
    eprintln!(
        "I/O-error test: {rounds} faults, {} saves refused with StorageFailed, {}",
        totals.refused,
        totals.summary()
    );
    assert!(totals.refused > 0, "no save was refused");
}

/// An enrolled tablet is killed, or its power cut, while it imports a bundle or syncs
/// (each round a bundle from another tablet with ten residents only in it, then answers
/// of 20 new residents from that tablet to merge, and its own to send), the two in turn:
/// after each the store passes `integrity_check`, every acknowledged registration is
/// there, the bundle's residents all or none (all once acknowledged), the next sync
/// completes, and the two tablets then hold the same residents: no bundle or answer was
/// half taken (a cursor moved past records not stored would lose them for
/// good). 40 rounds in `make test` (`DOORSTEP_CRASH_SYNC_ROUNDS`): 20 kills, 20 cuts.
#[test]
fn a_sync_killed_or_cut_off_while_it_merges_loses_nothing_and_the_next_sync_completes()
-> anyhow::Result<()> {
    use doorstep_core::id_number::IdNumber;
    use doorstep_core::resident::ResidentInput;
    use doorstep_tests::ServerProcess;
    use doorstep_tests::fleet::{FAST_RETRY, TestDevice, committee, enrollment_text, resident_ids};

    let rounds = env_u64("DOORSTEP_CRASH_SYNC_ROUNDS").unwrap_or(40);
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

    let fed_resident = |fed: u64| -> anyhow::Result<ResidentInput> {
        let id_number = IdNumber::complete(&format!(
            "3301061950{:02}{:02}{:03}",
            1 + (fed / 28_000) % 12,
            1 + (fed / 1000) % 28,
            fed % 1000
        ))
        .ok_or_else(|| anyhow::anyhow!("17 digits"))?;
        Ok(ResidentInput {
            name: "测试丙".into(),
            id_number,
            ..ResidentInput::default()
        })
    };
    let (mut next_n, mut fed) = (0u64, 0u64);
    let (mut registered, mut syncs, mut bundles) = (Vec::new(), 0usize, 0usize);
    for round in 0..rounds {
        // New work on the server for the tablet to merge.
        for _ in 0..20 {
            feeder.device.register_resident(&fed_resident(fed)?)?;
            fed += 1;
        }
        feeder.sync(&server)?;
        // From the second round (the tablet then knows the feeder's key), ten more only
        // in a bundle of everything the tablet lacks, for it to import first.
        let bundle = dir.path().with_extension("dsbundle");
        let mut in_bundle = Vec::new();
        if round > 0 {
            for _ in 0..10 {
                in_bundle.push(feeder.device.register_resident(&fed_resident(fed)?)?.id);
                fed += 1;
            }
            let manifest = dir.path().with_extension("manifest");
            Device::open_with_key(dir.path(), catalog::builtin()?, &key)?
                .write_manifest(&manifest)?;
            feeder.device.export_bundle(&bundle, Some(&manifest))?;
        }

        let first = next_n.to_string();
        let mut args = vec![
            dir.path().as_os_str(),
            first.as_ref(),
            "sync".as_ref(),
            keyring_file.as_os_str(),
        ];
        if round > 0 {
            args.push(bundle.as_os_str());
        }
        let lines = run_writer(
            &args,
            if round % 2 == 0 {
                Stop::Kill(Duration::from_millis(50 + rng.next() % 550))
            } else {
                // Half the cuts early, where the bundle is being imported.
                let span = if rng.next().is_multiple_of(2) {
                    400
                } else {
                    3_000
                };
                Stop::Storage(Plan {
                    at: 1 + rng.next() % span,
                    fault: Fault::PowerCut { seed: rng.next() },
                })
            },
        );
        let mut lines_acked_bundle = false;
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            let ["ack", kind, n, id] = parts[..] else {
                anyhow::bail!("round {round}: unexpected writer output");
            };
            match kind {
                "register" => registered.push(DocId::parse(id).expect("doc id")),
                "sync" => syncs += 1,
                "bundle" => {
                    bundles += 1;
                    lines_acked_bundle = true;
                }
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
        // The bundle is in whole (as it must be once acknowledged) or not at all.
        let imported = in_bundle
            .iter()
            .filter(|id| device.resident(id).is_ok())
            .count();
        let acked = lines_acked_bundle;
        anyhow::ensure!(
            imported == in_bundle.len() || (imported == 0 && !acked),
            "round {round}, seed {seed}: {imported} of the bundle's {} residents \
             (acknowledged: {acked})",
            in_bundle.len()
        );
        // The next sync completes, and then both tablets hold the same residents (the
        // other tablet sends its bundle's residents first, for an import cut short).
        feeder.sync(&server)?;
        let mut transport = device.transport()?;
        device
            .sync_with(&mut transport, &FAST_RETRY)
            .map_err(|e| anyhow::anyhow!("round {round}, seed {seed}: the next sync: {e}"))?;
        feeder.sync(&server)?;
        anyhow::ensure!(
            resident_ids(&device)? == resident_ids(&feeder.device)?,
            "round {round}, seed {seed}: the tablets differ after the next sync"
        );
    }
    eprintln!(
        "crash test (sync): {} kills and {} power cuts of a syncing tablet, {bundles} of {} \
         bundles of ten imported and {syncs} syncs completed before one, {} registrations \
         acknowledged, {fed} residents from the other tablet; every bundle whole or absent, \
         every resident on both tablets after the next sync",
        rounds.div_ceil(2),
        rounds / 2,
        rounds.saturating_sub(1),
        registered.len()
    );
    Ok(())
}
