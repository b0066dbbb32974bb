//! The many-device property: 3–8 devices (volunteers' and supervisors' tablets, every
//! change signed by its author's key) edit shared records offline, sync in random order
//! through a server while messages are lost, repeated and delayed, and some devices stay
//! offline (partitioned) for a while. Once everyone has synced, every device holds
//! identical records and identical list rows, no acknowledged edit is lost, and no
//! honest change was kept apart by any device's check against the key roster.
//!
//! The campaign, shared by two test binaries: through a real server process over
//! loopback (`tests/tests/sync/convergence.rs`, `DOORSTEP_SYNC_CASES`, 200 cases by
//! default), and through the same server's router inside the test process with the
//! devices in memory (`tests/tests/convergence.rs`, `DOORSTEP_SYNC_CASES_IN_PROCESS`,
//! 2,000 by default, one runner per core), where a case costs what the devices and the
//! store cost and not the sockets. The in-process one is a binary of its own so that it
//! has the machine to itself (cargo runs test binaries one after another).

use std::collections::BTreeMap;

use automerge::{AutoCommit, ChangeHash};
use doorstep_core::DocId;
use doorstep_core::id_number::IdNumber;
use doorstep_core::protocol::Role;
use doorstep_core::resident::ResidentInput;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{FAST_RETRY, Fault, FaultyTransport, TestDevice, committee};
use doorstep_tests::in_process::InProcessServer;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

#[derive(Debug, Clone)]
enum Op {
    /// A device edits one field of one of the records it has.
    Edit {
        dev: usize,
        rec: usize,
        field: u8,
        val: u16,
    },
    /// A device registers a new resident.
    Register { dev: usize },
    /// A device syncs, its messages meeting these faults.
    Sync { dev: usize, faults: Vec<Fault> },
    /// A device's delayed requests finally arrive at the server.
    Flush { dev: usize },
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::Deliver),
        2 => Just(Fault::DropAnswer),
        1 => Just(Fault::Duplicate),
        1 => Just(Fault::Delay),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..8usize, 0..16usize, 0..4u8, any::<u16>())
            .prop_map(|(dev, rec, field, val)| Op::Edit { dev, rec, field, val }),
        1 => (0..8usize).prop_map(|dev| Op::Register { dev }),
        4 => (0..8usize, proptest::collection::vec(fault(), 0..3))
            .prop_map(|(dev, faults)| Op::Sync { dev, faults }),
        1 => (0..8usize).prop_map(|dev| Op::Flush { dev }),
    ]
}

struct Replica {
    test: TestDevice,
    transport: FaultyTransport,
}

fn heads_of(test: &TestDevice, id: &DocId) -> anyhow::Result<Vec<ChangeHash>> {
    let mut doc = AutoCommit::load(&test.device.export_record(id)?)?;
    let mut heads = doc.get_heads();
    heads.sort();
    Ok(heads)
}

fn sorted_ids(test: &TestDevice) -> anyhow::Result<Vec<DocId>> {
    let mut ids: Vec<DocId> = test
        .device
        .list_residents()?
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    Ok(ids)
}

fn new_resident(case: usize, n: usize) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁", "戊"][n % 5]),
        id_number: IdNumber::complete(&format!(
            "3201061940{:02}{:02}{:03}",
            1 + case % 12,
            1 + n % 28,
            (case * 31 + n) % 1000
        ))
        .expect("17 digits"),
        ..ResidentInput::default()
    }
}

/// Where the devices sync: a server process, or a server in this process.
pub(crate) trait Server {
    fn committee(&self, id: &str) -> anyhow::Result<()>;
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice>;
    fn transport(&self, test: &TestDevice) -> anyhow::Result<FaultyTransport>;
    /// One sync without faults.
    fn sync(&self, test: &mut TestDevice) -> anyhow::Result<()> {
        test.device
            .sync_with(&mut self.transport(test)?, &FAST_RETRY)?;
        Ok(())
    }
}

impl Server for ServerProcess {
    fn committee(&self, id: &str) -> anyhow::Result<()> {
        committee(self, id)
    }
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice> {
        TestDevice::enrolled(self, committee, role, volunteer)
    }
    fn transport(&self, test: &TestDevice) -> anyhow::Result<FaultyTransport> {
        FaultyTransport::new(&test.device, [])
    }
}

impl Server for InProcessServer {
    fn committee(&self, id: &str) -> anyhow::Result<()> {
        InProcessServer::committee(self, id)
    }
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice> {
        let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("no role {role}"))?;
        InProcessServer::device_as(self, committee, role, volunteer)
    }
    fn transport(&self, _test: &TestDevice) -> anyhow::Result<FaultyTransport> {
        Ok(FaultyTransport::over(InProcessServer::transport(self), []))
    }
}

fn run_case(server: &dyn Server, case: usize, devices: usize, ops: &[Op]) -> anyhow::Result<()> {
    let scope = format!("p{case}");
    server.committee(&scope)?;
    let mut replicas = Vec::with_capacity(devices);
    for d in 0..devices {
        // Every third tablet is a supervisor's.
        let role = if d % 3 == 1 {
            "supervisor"
        } else {
            "volunteer"
        };
        let test = server.device(&scope, role, &format!("测试人员{d}"))?;
        let transport = server.transport(&test)?;
        replicas.push(Replica { test, transport });
    }
    // Shared records to start from.
    let mut registered = 0;
    for _ in 0..2 {
        replicas[0]
            .test
            .device
            .register_resident(&new_resident(case, registered))?;
        registered += 1;
    }
    for r in &mut replicas {
        server.sync(&mut r.test)?;
    }
    // Every acknowledged edit: the record and the heads right after it.
    let mut acknowledged: Vec<(DocId, Vec<ChangeHash>)> = Vec::new();
    for op in ops {
        match op {
            Op::Edit {
                dev,
                rec,
                field,
                val,
            } => {
                let r = &mut replicas[dev % devices];
                let ids = sorted_ids(&r.test)?;
                let id = &ids[rec % ids.len()];
                let current = r.test.device.resident(id)?;
                let mut form = current.to_input();
                match field % 4 {
                    0 => form.phone = format!("139{:08}", val),
                    1 => form.address = format!("测试路 {val} 号"),
                    2 => {
                        form.name =
                            format!("测试{}", ["子", "丑", "寅", "卯"][usize::from(*val) % 4])
                    }
                    _ => {
                        r.test
                            .device
                            .set_resident_notes(id, &format!("{}备注{val}", current.notes))?;
                        acknowledged.push((id.clone(), heads_of(&r.test, id)?));
                        continue;
                    }
                }
                r.test.device.update_resident(id, &form)?;
                acknowledged.push((id.clone(), heads_of(&r.test, id)?));
            }
            Op::Register { dev } => {
                let r = &mut replicas[dev % devices];
                let id = r
                    .test
                    .device
                    .register_resident(&new_resident(case, registered))?
                    .id;
                registered += 1;
                acknowledged.push((id.clone(), heads_of(&r.test, &id)?));
            }
            Op::Sync { dev, faults } => {
                let r = &mut replicas[dev % devices];
                r.transport.plan(faults.iter().copied());
                // A sync may fail when every attempt meets a fault; the work stays pending.
                let _ = r.test.device.sync_with(&mut r.transport, &FAST_RETRY);
            }
            Op::Flush { dev } => replicas[dev % devices].transport.flush()?,
        }
    }
    // Everyone comes online: late requests arrive, then two full rounds of syncs.
    for r in &mut replicas {
        r.transport.flush()?;
    }
    for _ in 0..2 {
        for r in &mut replicas {
            server.sync(&mut r.test)?;
        }
    }
    // Identical records and list rows everywhere.
    let ids = sorted_ids(&replicas[0].test)?;
    assert_eq!(
        ids.len(),
        registered,
        "every registered resident is everywhere"
    );
    let rows = |t: &TestDevice| -> anyhow::Result<BTreeMap<String, String>> {
        Ok(t.device
            .list_residents()?
            .into_iter()
            .map(|s| (s.id.to_string(), format!("{s:?}")))
            .collect())
    };
    let first_rows = rows(&replicas[0].test)?;
    for r in &replicas[1..] {
        anyhow::ensure!(sorted_ids(&r.test)? == ids, "different records");
        anyhow::ensure!(rows(&r.test)? == first_rows, "different list rows");
        for id in &ids {
            anyhow::ensure!(
                heads_of(&r.test, id)? == heads_of(&replicas[0].test, id)?,
                "record {id} differs"
            );
        }
    }
    // Every change of every honest tablet held against every other's key roster.
    for r in &replicas {
        anyhow::ensure!(
            r.test.device.records_aside()?.is_empty(),
            "an honest change was kept apart"
        );
    }
    // No acknowledged edit is lost: each one's changes are in the final record.
    for (id, heads) in &acknowledged {
        let mut doc = AutoCommit::load(&replicas[0].test.device.export_record(id)?)?;
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
    counter: &std::sync::atomic::AtomicUsize,
) -> anyhow::Result<()> {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (3..=8usize, proptest::collection::vec(op(), 4..24));
    runner
        .run(&strategy, |(devices, ops)| {
            let case = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            run_case(server, case, devices, &ops).map_err(|e| TestCaseError::fail(format!("{e:#}")))
        })
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs `cases` cases on `runners` threads, each against its own server from `server`
/// (one runner: on this thread); prints how long they took.
pub(crate) fn campaign<S: Server>(
    server: impl Fn() -> anyhow::Result<S> + Sync,
    runners: u32,
    cases: u32,
    label: &str,
) -> anyhow::Result<()> {
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let runners = runners.clamp(1, cases.max(1));
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..runners)
            .map(|r| {
                // The cases shared out; the first runners take the remainder.
                let share = cases / runners + u32::from(r < cases % runners);
                let (server, counter) = (&server, &counter);
                scope.spawn(move || run_cases(&server()?, share, counter))
            })
            .collect();
        threads
            .into_iter()
            .try_for_each(|t| t.join().map_err(|_| anyhow::anyhow!("a runner panicked"))?)
    })?;
    let elapsed = started.elapsed();
    eprintln!(
        "convergence {label}: {} cases on {runners} thread(s) in {:.1} s ({:.1} ms a case)",
        counter.into_inner(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / f64::from(cases.max(1))
    );
    Ok(())
}

pub(crate) fn cases_from(var: &str, default: u32) -> u32 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
