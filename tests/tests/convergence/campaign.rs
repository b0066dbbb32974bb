//! The many-device property: 3–12 devices (volunteers' and supervisors' tablets, every
//! change signed by its author's key, each tablet's clock anywhere within a year of the
//! server's) register and edit residents, record authorizations, fill in, attach to and
//! submit applications, return and approve them, assign visits and record what came of
//! them, settle conflicts and carry bundles to one another, all offline; tablets are
//! shared by up to three people who take turns, some of whom the server removes while
//! their tablet goes on (what they wrote stays, even unsynced), and sync in random order through one of two servers over
//! one database while messages are lost, repeated, delayed and reordered and some devices
//! stay offline for a while. Once everyone has synced, every device holds identical
//! records and identical list rows (every application's status the same everywhere, and
//! every resident's visit plan and every volunteer's visits due), no
//! acknowledged edit is lost, and no honest change was kept apart by any device's check
//! against the key roster.
//!
//! The campaign, shared by two test binaries: through a real server process over
//! loopback (`tests/tests/sync/convergence.rs`, `DOORSTEP_SYNC_CASES`, 100 cases by
//! default), and through the same server's router inside the test process with the
//! devices in memory (`tests/tests/convergence.rs`, `DOORSTEP_SYNC_CASES_IN_PROCESS`,
//! 2,000 by default, one runner per core; `make campaign` runs 100,000), where a case
//! costs what the devices and the store cost and not the sockets. The in-process one is
//! a binary of its own so that it has the machine to itself (cargo runs test binaries
//! one after another). A failing case's seed is kept in `regressions.txt` beside this
//! file, and every run replays the kept seeds first.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use automerge::{AutoCommit, ChangeHash};
use doorstep_core::DocId;
use doorstep_core::application::EventKind;
use doorstep_core::error_code::ErrorCode;
use doorstep_core::id_number::IdNumber;
use doorstep_core::protocol::Role;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_device::DeviceError;
use doorstep_device::applications::ApplicationSummary;
use doorstep_device::clock::SetClock;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{
    FAST_RETRY, Fault, FaultyTransport, TestDevice, committee, enrollment_text, fill_allowance,
    resident_ids, server_db,
};
use doorstep_tests::in_process::{InProcessServer, scratch_dir};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// Where failing seeds are kept (and replayed from).
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/convergence/regressions.txt"
);

const DAY_MS: i64 = 86_400_000;

#[path = "ops.rs"]
mod ops;
#[path = "servers.rs"]
mod servers;

use ops::{Op, apply, new_resident, op, refused_by_rules};
pub(crate) use servers::Server;

/// How often a campaign prints how many cases have passed.
const PROGRESS_EVERY: usize = 5_000;

/// What a campaign did, over all its cases: printed at its end.
#[derive(Default)]
struct Tally {
    started: Started,
    cases: AtomicUsize,
    devices: AtomicUsize,
    ops: AtomicUsize,
    acknowledged: AtomicUsize,
    applications: AtomicUsize,
    returned: AtomicUsize,
    approved: AtomicUsize,
    settled: AtomicUsize,
    bundles: AtomicUsize,
    syncs: AtomicUsize,
    failed_syncs: AtomicUsize,
    faults: AtomicUsize,
    refused_by_rules: AtomicUsize,
    revoked: AtomicUsize,
    reenrolled: AtomicUsize,
    /// A revoked tablet's changes relayed to a peer that knew of the revocation.
    set_aside_revoked: AtomicUsize,
    /// Bundles of a tablet enrolled again refused by a peer that knew only of its
    /// revocation.
    bundles_of_reenrolled_refused: AtomicUsize,
    /// Acknowledged edits of a tablet not yet on the server when it was revoked: a lost
    /// tablet's unsent work is refused by design.
    dropped_at_revocation: AtomicUsize,
    /// People added to a tablet after its first, switches between a tablet's people,
    /// and people the server removed from a tablet that goes on.
    people_added: AtomicUsize,
    switches: AtomicUsize,
    people_removed: AtomicUsize,
    /// Bundles of a person added to a tablet refused by a peer that has not synced since.
    bundles_of_new_people_refused: AtomicUsize,
    /// Visits assigned or reassigned, and outcomes recorded.
    visits_assigned: AtomicUsize,
    visits_recorded: AtomicUsize,
    /// Refusals by operation and reason.
    refusals: std::sync::Mutex<BTreeMap<String, usize>>,
    records: AtomicU64,
}

/// When a campaign started: its tally's making.
struct Started(std::time::Instant);

impl Default for Started {
    fn default() -> Self {
        Started(std::time::Instant::now())
    }
}

impl Tally {
    fn add(counter: &AtomicUsize, n: usize) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

struct Replica {
    test: TestDevice,
    role: &'static str,
    name: String,
    revoked: bool,
    ever_revoked: bool,
    /// The people added to this tablet after its first (their member ids), those of
    /// them the server removed, and those it forgot when it was enrolled again.
    people: Vec<String>,
    removed: Vec<String>,
    former: Vec<String>,
    /// One transport to each server.
    transports: Vec<FaultyTransport>,
    clock: SetClock,
}

fn heads_of(test: &TestDevice, id: &DocId) -> anyhow::Result<Vec<ChangeHash>> {
    let mut doc = AutoCommit::load(&test.device.export_record(id)?)?;
    let mut heads = doc.get_heads();
    heads.sort();
    Ok(heads)
}

fn sorted(ids: impl IntoIterator<Item = DocId>) -> Vec<DocId> {
    let mut ids: Vec<DocId> = ids.into_iter().collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids
}

fn application_ids(test: &TestDevice) -> anyhow::Result<Vec<DocId>> {
    Ok(sorted(
        test.device
            .list_applications(None)?
            .into_iter()
            .map(|a| a.id),
    ))
}

/// Every record a device holds: residents, their authorizations, applications.
fn all_ids(test: &TestDevice) -> anyhow::Result<Vec<DocId>> {
    let mut ids = resident_ids(&test.device)?;
    for resident in resident_ids(&test.device)? {
        ids.extend(
            test.device
                .authorizations_of(&resident)?
                .into_iter()
                .map(|(id, _)| id),
        );
    }
    ids.extend(application_ids(test)?);
    Ok(sorted(ids))
}

/// An acknowledged edit: the record, its heads right after the edit, and the device.
struct Ack {
    id: DocId,
    heads: Vec<ChangeHash>,
    dev: usize,
}

impl Ack {
    /// Record `id` as device `dev` (`test`) holds it now.
    fn of(test: &TestDevice, id: &DocId, dev: usize) -> anyhow::Result<Ack> {
        Ok(Ack {
            id: id.clone(),
            heads: heads_of(test, id)?,
            dev,
        })
    }
}

/// One case: its number, its devices' first clock offsets (days), its operations.
struct Case<'a> {
    number: usize,
    clocks: &'a [i16],
    ops: &'a [Op],
}

fn run_case(server: &dyn Server, case: &Case, tally: &Tally) -> anyhow::Result<()> {
    let scope = format!("p{}", case.number);
    let devices = case.clocks.len();
    let files = scratch_dir()?;
    server.committee(&scope)?;
    let mut replicas = Vec::with_capacity(devices);
    for (d, days) in case.clocks.iter().enumerate() {
        // Every third tablet is a supervisor's.
        let role = if d % 3 == 1 {
            "supervisor"
        } else {
            "volunteer"
        };
        let mut test = server.device(&scope, role, &format!("测试人员{d}"))?;
        let clock = SetClock::at(doorstep_server::now_ms() + i64::from(*days) * DAY_MS);
        test.device.set_clock(Arc::new(clock.clone()));
        let transports = (0..server.servers())
            .map(|via| server.transport(&test, via))
            .collect::<anyhow::Result<_>>()?;
        replicas.push(Replica {
            test,
            role,
            name: format!("测试人员{d}"),
            revoked: false,
            ever_revoked: false,
            people: Vec::new(),
            removed: Vec::new(),
            former: Vec::new(),
            transports,
            clock,
        });
    }
    Tally::add(&tally.devices, devices);
    // Shared records to start from.
    let mut registered = 0;
    for _ in 0..2 {
        replicas[0]
            .test
            .device
            .register_resident(&new_resident(case.number, registered))?;
        registered += 1;
    }
    for r in &mut replicas {
        server.sync(&mut r.test)?;
    }
    // Every acknowledged edit: the record and the heads right after it.
    let mut acknowledged: Vec<Ack> = Vec::new();
    for (n, op) in case.ops.iter().enumerate() {
        let before = acknowledged.len();
        let refusal = apply(
            server,
            &scope,
            &mut replicas,
            op,
            &files,
            n,
            &mut registered,
            case.number,
            &mut acknowledged,
            tally,
        )?;
        // A shared tablet whose person at work it knows was removed locks; its first
        // person unlocks it, as the window would have them.
        for r in replicas
            .iter_mut()
            .filter(|r| !r.revoked && !r.people.is_empty())
        {
            if r.test.device.active_member_removed()? {
                ops::switch_to_first(r)?;
            }
        }
        // What a revoked tablet saves is its own until it is enrolled again.
        let mut i = 0;
        acknowledged.retain(|a| {
            i += 1;
            i <= before || !replicas[a.dev].revoked
        });
        if let Some(e) = refusal {
            anyhow::ensure!(refused_by_rules(&e), "op {n} {op:?} failed: {e}");
            Tally::add(&tally.refused_by_rules, 1);
            let what = format!("{op:?}").split(' ').next().unwrap_or("").to_owned();
            let why = format!("{e:?}").split('(').next().unwrap_or("").to_owned();
            *tally
                .refusals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(format!("{what} {why}"))
                .or_default() += 1;
        }
    }
    Tally::add(&tally.ops, case.ops.len());
    // Everyone comes online: late requests arrive, then two full rounds of syncs.
    for r in &mut replicas {
        for t in &mut r.transports {
            t.flush()?;
        }
    }
    // Revoked tablets are not synced (they cannot) nor held to the others. A shared
    // tablet syncs with its first person's token (another may have been removed without
    // the tablet knowing yet).
    for r in replicas
        .iter_mut()
        .filter(|r| !r.revoked && !r.people.is_empty())
    {
        ops::switch_to_first(r)?;
    }
    for _ in 0..2 {
        for r in replicas.iter_mut().filter(|r| !r.revoked) {
            server.sync(&mut r.test)?;
        }
    }
    check_converged(&replicas, &acknowledged, tally)?;
    Tally::add(&tally.acknowledged, acknowledged.len());
    tally
        .records
        .fetch_add(all_ids(&replicas[0].test)?.len() as u64, Ordering::Relaxed);
    let passed = tally.cases.fetch_add(1, Ordering::Relaxed) + 1;
    if passed.is_multiple_of(PROGRESS_EVERY) {
        // A long campaign says how far it is, and whether its cases grow slower.
        eprintln!(
            "  {passed} cases passed after {:.0} s",
            tally.started.0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Identical records and list rows everywhere, nothing kept apart, nothing acknowledged
/// lost.
fn check_converged(
    replicas: &[Replica],
    acknowledged: &[Ack],
    tally: &Tally,
) -> anyhow::Result<()> {
    // A record holding changes of a revoked tablet that reached a peer in a bundle before
    // the revocation is taken from the peer too: it names the key roster it held when it
    // took them (RELIABILITY.md). The server refuses no honest tablet's record.
    for r in replicas.iter().filter(|r| !r.revoked) {
        if let Some(refused) = r.test.device.refused_views()?.first() {
            anyhow::bail!(
                "the server refused record {} of an honest tablet: {:?}",
                refused.id,
                refused.code
            );
        }
    }
    let honest: Vec<&Replica> = replicas.iter().filter(|r| !r.revoked).collect();
    let ids = all_ids;
    let first = &honest[0].test;
    let first_ids = ids(first)?;
    // Whom visits may have been assigned to: everyone who was on a tablet.
    let mut members = Vec::new();
    for r in replicas {
        members.extend(r.test.device.members()?.into_iter().map(|m| m.id));
        members.extend(r.former.iter().cloned());
    }
    let rows = |t: &TestDevice| -> anyhow::Result<BTreeMap<String, String>> {
        let residents = t.device.list_residents()?;
        let mut rows = BTreeMap::new();
        for s in residents {
            // A resident's visit plan as their page shows it, and the visits' list rows.
            let plan = t.device.visit_plan(&s.id)?;
            rows.insert(format!("plan {}", s.id), format!("{plan:?}"));
            rows.insert(s.id.to_string(), format!("{s:?}"));
        }
        for member in &members {
            let due = t.device.visits_of(member, (2026, 1, 1), 0, 10_000)?;
            rows.insert(format!("visits of {member}"), format!("{due:?}"));
        }
        rows.extend(
            t.device
                .list_applications(None)?
                .into_iter()
                // When this device last saw the application change, by its own clock:
                // the one column that is the device's own by design.
                .map(|a| {
                    (
                        a.id.to_string(),
                        format!("{:?}", ApplicationSummary { updated_at: 0, ..a }),
                    )
                }),
        );
        Ok(rows)
    };
    let first_rows = rows(first)?;
    for r in &honest[1..] {
        anyhow::ensure!(ids(&r.test)? == first_ids, "different records");
        let theirs = rows(&r.test)?;
        if theirs != first_rows {
            // The rows are of synthetic residents: safe to show.
            let differ = theirs
                .iter()
                .find(|(k, v)| first_rows.get(*k) != Some(v))
                .map(|(k, v)| format!("{v} where the first device has {:?}", first_rows.get(k)))
                .unwrap_or_default();
            anyhow::bail!("different list rows: {differ}");
        }
        for id in &first_ids {
            anyhow::ensure!(
                heads_of(&r.test, id)? == heads_of(first, id)?,
                "record {id} differs"
            );
        }
    }
    // Every change of every honest tablet held against every other's key roster.
    for r in &honest {
        for aside in r.test.device.records_aside()? {
            anyhow::ensure!(
                aside.code == ErrorCode::AuthorRevoked,
                "an honest change was kept apart: {:?}",
                aside.code
            );
            Tally::add(&tally.set_aside_revoked, 1);
        }
    }
    // No acknowledged edit is lost: each one's changes are in the final record.
    for Ack { id, heads, .. } in acknowledged {
        let mut doc = AutoCommit::load(&first.device.export_record(id)?)?;
        for h in heads {
            anyhow::ensure!(
                doc.get_change_by_hash(h).is_some(),
                "an acknowledged change of {id} is lost"
            );
        }
    }
    Ok(())
}

/// Runs `cases` cases of the property against `server`, numbering them from `counter`.
fn run_cases(
    server: &dyn Server,
    cases: u32,
    counter: &AtomicUsize,
    tally: &Tally,
) -> anyhow::Result<()> {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..Config::default()
    });
    let strategy = (
        proptest::collection::vec(-365..=365i16, 3..=12),
        proptest::collection::vec(op(), 4..32),
    );
    runner
        .run(&strategy, |(clocks, ops)| {
            let number = counter.fetch_add(1, Ordering::Relaxed);
            let case = Case {
                number,
                clocks: &clocks,
                ops: &ops,
            };
            run_case(server, &case, tally).map_err(|e| TestCaseError::fail(format!("{e:#}")))
        })
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs `cases` cases on `runners` threads, each against its own server from `server`
/// (one runner: on this thread); prints how long they took and what they did.
pub(crate) fn campaign<S: Server>(
    server: impl Fn() -> anyhow::Result<S> + Sync,
    runners: u32,
    cases: u32,
    label: &str,
) -> anyhow::Result<()> {
    let counter = AtomicUsize::new(0);
    let tally = Tally::default();
    let runners = runners.clamp(1, cases.max(1));
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..runners)
            .map(|r| {
                // The cases shared out; the first runners take the remainder.
                let share = cases / runners + u32::from(r < cases % runners);
                let (server, counter, tally) = (&server, &counter, &tally);
                scope.spawn(move || run_cases(&server()?, share, counter, tally))
            })
            .collect();
        threads
            .into_iter()
            .try_for_each(|t| t.join().map_err(|_| anyhow::anyhow!("a runner panicked"))?)
    })?;
    let elapsed = tally.started.0.elapsed();
    let passed = tally.cases.load(Ordering::Relaxed);
    let n = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    eprintln!(
        "convergence {label}: {passed} cases passed ({} run, kept seeds included) on {runners} \
         thread(s) in {:.1} s ({:.1} ms a case)\n  {} devices, {} operations: {} syncs ({} \
         failed on their faults, {} faults), {} bundles, {} applications, {} returned, {} \
         approved, {} conflicts settled, {} visits assigned, {} visit outcomes recorded, {} \
         refused by the rules as the window would\n  {} \
         acknowledged edits all present, {} records converged\n  {} tablets revoked ({} \
         acknowledged edits not yet sent were refused with them by design), {} enrolled again, \
         {} set aside by a peer that knew, {} bundles of a tablet enrolled again refused by a peer that knew only \
         of its revocation\n  {} people added to a tablet, {} switches between them, {} of them \
         removed while their tablet went on, {} bundles of a person added refused by a peer \
         that had not synced since",
        counter.into_inner(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / (passed.max(1) as f64),
        n(&tally.devices),
        n(&tally.ops),
        n(&tally.syncs),
        n(&tally.failed_syncs),
        n(&tally.faults),
        n(&tally.bundles),
        n(&tally.applications),
        n(&tally.returned),
        n(&tally.approved),
        n(&tally.settled),
        n(&tally.visits_assigned),
        n(&tally.visits_recorded),
        n(&tally.refused_by_rules),
        n(&tally.acknowledged),
        tally.records.load(Ordering::Relaxed),
        n(&tally.revoked),
        n(&tally.dropped_at_revocation),
        n(&tally.reenrolled),
        n(&tally.set_aside_revoked),
        n(&tally.bundles_of_reenrolled_refused),
        n(&tally.people_added),
        n(&tally.switches),
        n(&tally.people_removed),
        n(&tally.bundles_of_new_people_refused),
    );
    let refusals = tally
        .refusals
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    eprintln!("  refusals: {refusals:?}");
    Ok(())
}

pub(crate) fn cases_from(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
