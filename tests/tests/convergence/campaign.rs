//! The many-device property: 3–12 devices (volunteers' and supervisors' tablets, every
//! change signed by its author's key, each tablet's clock anywhere within a year of the
//! server's) register and edit residents, record authorizations, fill in, attach to and
//! submit applications, return and approve them, settle conflicts and carry bundles to
//! one another, all offline, and sync in random order through one of two servers over
//! one database while messages are lost, repeated, delayed and reordered and some devices
//! stay offline for a while. Once everyone has synced, every device holds identical
//! records and identical list rows (every application's status the same everywhere), no
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
    FAST_RETRY, Fault, FaultyTransport, TestDevice, committee, enrollment_text, server_db,
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

#[derive(Debug, Clone)]
enum Op {
    /// A device edits one field of one of the residents it has.
    Edit {
        dev: usize,
        rec: usize,
        field: u8,
        val: u16,
    },
    /// A device registers a new resident.
    Register { dev: usize },
    /// A volunteer's device records a resident's authorization (when she has none it can see),
    /// starts a senior allowance application for her, fills it in, attaches the bank
    /// card's photo and submits it.
    Apply { dev: usize, rec: usize, val: u16 },
    /// A supervisor's device returns (with a reason) or approves one of the applications
    /// it has.
    Review {
        dev: usize,
        app: usize,
        approve: bool,
    },
    /// A volunteer's device changes the account of an application it has and submits it
    /// again.
    Amend { dev: usize, app: usize, val: u16 },
    /// A device settles the first conflict it shows, taking the value at `pick`.
    Settle { dev: usize, pick: usize },
    /// A device carries to another, in a bundle, what the other's manifest lacks.
    Bundle { from: usize, to: usize },
    /// A device's clock jumps to `days` from the server's (within a year either way).
    Clock { dev: usize, days: i16 },
    /// A device syncs through one of the servers, its messages meeting these faults.
    Sync {
        dev: usize,
        via: usize,
        faults: Vec<Fault>,
    },
    /// A device's delayed requests finally arrive at the servers, after newer ones.
    Flush { dev: usize },
    /// The server revokes a tablet (lost); never the first, whose records are the
    /// reference.
    Revoke { dev: usize },
    /// A revoked tablet, found again, is enrolled anew (same key, same actor).
    Reenroll { dev: usize },
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
    let dev = 0..12usize;
    prop_oneof![
        6 => (dev.clone(), 0..16usize, 0..4u8, any::<u16>())
            .prop_map(|(dev, rec, field, val)| Op::Edit { dev, rec, field, val }),
        1 => dev.clone().prop_map(|dev| Op::Register { dev }),
        2 => (dev.clone(), 0..16usize, any::<u16>())
            .prop_map(|(dev, rec, val)| Op::Apply { dev, rec, val }),
        3 => (dev.clone(), 0..8usize, any::<bool>())
            .prop_map(|(dev, app, approve)| Op::Review { dev, app, approve }),
        1 => (dev.clone(), 0..8usize, any::<u16>())
            .prop_map(|(dev, app, val)| Op::Amend { dev, app, val }),
        1 => (dev.clone(), 0..4usize).prop_map(|(dev, pick)| Op::Settle { dev, pick }),
        1 => (dev.clone(), dev.clone()).prop_map(|(from, to)| Op::Bundle { from, to }),
        1 => (dev.clone(), -365..=365i16).prop_map(|(dev, days)| Op::Clock { dev, days }),
        5 => (dev.clone(), 0..2usize, proptest::collection::vec(fault(), 0..3))
            .prop_map(|(dev, via, faults)| Op::Sync { dev, via, faults }),
        1 => dev.clone().prop_map(|dev| Op::Flush { dev }),
        1 => dev.clone().prop_map(|dev| Op::Revoke { dev }),
        1 => dev.prop_map(|dev| Op::Reenroll { dev }),
    ]
}

/// What a campaign did, over all its cases: printed at its end.
#[derive(Default)]
struct Tally {
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
    /// Records left on the peers of a revoked tablet (see `check_converged`).
    stranded: AtomicUsize,
    /// A revoked tablet's changes relayed to a peer that knew of the revocation.
    set_aside_revoked: AtomicUsize,
    /// Bundles of a tablet enrolled again refused by a peer that knew only of its
    /// revocation.
    bundles_of_reenrolled_refused: AtomicUsize,
    /// Acknowledged edits of a tablet not yet on the server when it was revoked: a lost
    /// tablet's unsent work is refused by design.
    dropped_at_revocation: AtomicUsize,
    /// Refusals by operation and reason.
    refusals: std::sync::Mutex<BTreeMap<String, usize>>,
    records: AtomicU64,
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

fn resident_ids(test: &TestDevice) -> anyhow::Result<Vec<DocId>> {
    Ok(sorted(
        test.device.list_residents()?.into_iter().map(|r| r.id),
    ))
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
    let mut ids = resident_ids(test)?;
    for resident in resident_ids(test)? {
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

/// A refusal a person at the window meets (the write rules, an application's state, a
/// missing authorization, a conflict already settled): the edit was not made, and the
/// case goes on. Anything else fails the case.
fn refused_by_rules(e: &DeviceError) -> bool {
    matches!(
        e,
        DeviceError::Invalid(_)
            | DeviceError::NotEligible(_)
            | DeviceError::ApplicationLocked(_)
            | DeviceError::NotSupervisor
            | DeviceError::OwnWork
            | DeviceError::NoConflict(_)
            | DeviceError::NotAConflictValue(_)
    )
}

/// Where the devices sync: a server process, or servers in this process.
pub(crate) trait Server {
    fn committee(&self, id: &str) -> anyhow::Result<()>;
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice>;
    /// How many servers (over one database) the devices may sync through.
    fn servers(&self) -> usize {
        1
    }
    /// A transport through server `via`.
    fn transport(&self, test: &TestDevice, via: usize) -> anyhow::Result<FaultyTransport>;
    /// Revokes the device.
    fn revoke(&self, test: &TestDevice) -> anyhow::Result<()>;
    /// Enrolls a revoked device again with a new code.
    fn enroll_again(
        &self,
        test: &mut TestDevice,
        committee: &str,
        role: &str,
        name: &str,
    ) -> anyhow::Result<()>;
    /// Whether the server holds a change.
    fn has_change(&self, hash: &ChangeHash) -> anyhow::Result<bool>;
    /// One sync without faults.
    fn sync(&self, test: &mut TestDevice) -> anyhow::Result<()> {
        test.device
            .sync_with(&mut self.transport(test, 0)?, &FAST_RETRY)?;
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
    fn transport(&self, test: &TestDevice, _via: usize) -> anyhow::Result<FaultyTransport> {
        FaultyTransport::new(&test.device, [])
    }
    fn revoke(&self, test: &TestDevice) -> anyhow::Result<()> {
        self.admin(&["device", "revoke", &device_id(test)?])?;
        Ok(())
    }
    fn enroll_again(
        &self,
        test: &mut TestDevice,
        committee: &str,
        role: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let text = enrollment_text(self, &[committee], role, name, "1h")?;
        test.device.enroll(&text, "test tablet")?;
        Ok(())
    }
    fn has_change(&self, hash: &ChangeHash) -> anyhow::Result<bool> {
        Ok(server_db(&self.data_dir)?.int(&format!(
            "SELECT count(*) FROM changes WHERE hash = '{hash}'"
        ))? > 0)
    }
}

fn device_id(test: &TestDevice) -> anyhow::Result<String> {
    Ok(test
        .device
        .enrollment()?
        .ok_or_else(|| anyhow::anyhow!("not enrolled"))?
        .device_id)
}

impl Server for InProcessServer {
    fn committee(&self, id: &str) -> anyhow::Result<()> {
        InProcessServer::committee(self, id)
    }
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice> {
        let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("no role {role}"))?;
        InProcessServer::device_as(self, committee, role, volunteer)
    }
    fn servers(&self) -> usize {
        2
    }
    fn transport(&self, _test: &TestDevice, via: usize) -> anyhow::Result<FaultyTransport> {
        Ok(FaultyTransport::over(
            InProcessServer::transport_via(self, via),
            [],
        ))
    }
    fn revoke(&self, test: &TestDevice) -> anyhow::Result<()> {
        InProcessServer::revoke(self, &device_id(test)?)
    }
    fn enroll_again(
        &self,
        test: &mut TestDevice,
        committee: &str,
        role: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("no role {role}"))?;
        InProcessServer::enroll_again(self, &mut test.device, committee, role, name)
    }
    fn has_change(&self, hash: &ChangeHash) -> anyhow::Result<bool> {
        InProcessServer::has_change(self, &hash.to_string())
    }
}

/// An acknowledged edit: the record, its heads right after the edit, and the device.
struct Ack {
    id: DocId,
    heads: Vec<ChangeHash>,
    dev: usize,
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
    // Revoked tablets are not synced (they cannot) nor held to the others.
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
    Tally::add(&tally.cases, 1);
    Ok(())
}

/// The `dev`th volunteer's tablet (those that are not every third from the second).
fn volunteer(dev: usize, devices: usize) -> usize {
    let volunteers: Vec<usize> = (0..devices).filter(|d| d % 3 != 1).collect();
    volunteers[dev % volunteers.len()]
}

/// Applies one operation: `Ok(Some(e))` when the device refused it as the window would.
#[allow(clippy::too_many_arguments)]
fn apply(
    server: &dyn Server,
    scope: &str,
    replicas: &mut [Replica],
    op: &Op,
    files: &tempfile::TempDir,
    n: usize,
    registered: &mut usize,
    case: usize,
    acknowledged: &mut Vec<Ack>,
    tally: &Tally,
) -> anyhow::Result<Option<DeviceError>> {
    let devices = replicas.len();
    let refusal = |r: Result<(), DeviceError>| -> anyhow::Result<Option<DeviceError>> {
        match r {
            Ok(()) => Ok(None),
            Err(e) if refused_by_rules(&e) => Ok(Some(e)),
            Err(e) => Err(e.into()),
        }
    };
    match op {
        Op::Edit {
            dev,
            rec,
            field,
            val,
        } => {
            let idx = dev % devices;
            let t = &mut replicas[idx].test;
            let ids = resident_ids(t)?;
            let id = &ids[rec % ids.len()];
            let current = t.device.resident(id)?;
            let mut form = current.to_input();
            let done = match field % 4 {
                0 => {
                    form.phone = format!("139{val:08}");
                    t.device.update_resident(id, &form).map(|_| ())
                }
                1 => {
                    form.address = format!("测试路 {val} 号");
                    t.device.update_resident(id, &form).map(|_| ())
                }
                2 => {
                    form.name = format!("测试{}", ["子", "丑", "寅", "卯"][usize::from(*val) % 4]);
                    t.device.update_resident(id, &form).map(|_| ())
                }
                _ => t
                    .device
                    .set_resident_notes(id, &format!("{}备注{val}", current.notes))
                    .map(|_| ()),
            };
            if done.is_ok() {
                acknowledged.push(Ack {
                    id: id.clone(),
                    heads: heads_of(t, id)?,
                    dev: idx,
                });
            }
            refusal(done)
        }
        Op::Register { dev } => {
            let idx = dev % devices;
            let t = &mut replicas[idx].test;
            let id = t
                .device
                .register_resident(&new_resident(case, *registered))?
                .id;
            *registered += 1;
            acknowledged.push(Ack {
                id: id.clone(),
                heads: heads_of(t, &id)?,
                dev: idx,
            });
            Ok(None)
        }
        Op::Apply { dev, rec, val } => {
            let idx = volunteer(*dev, devices);
            let t = &mut replicas[idx].test;
            let ids = resident_ids(t)?;
            let resident = &ids[rec % ids.len()];
            let (y, m, d) = t.device.today();
            let valid = t
                .device
                .authorizations_of(resident)?
                .iter()
                .any(|(_, a)| a.services.iter().any(|s| s == "senior_allowance"));
            if !valid {
                let authorization = t.authorize(resident, &["senior_allowance"])?;
                acknowledged.push(Ack {
                    id: authorization.clone(),
                    heads: heads_of(t, &authorization)?,
                    dev: idx,
                });
            }
            let app = match t.device.start_application(resident, "senior_allowance") {
                Ok(app) => app,
                Err(e) => return refusal(Err(e)),
            };
            for (key, value) in [
                (
                    "bank_account",
                    FieldValue::Text(format!("62220000{val:08}")),
                ),
                ("account_holder", FieldValue::Text("测试户主".into())),
                ("household_registered_here", FieldValue::Bool(true)),
            ] {
                t.device.set_application_field(&app, key, &value)?;
            }
            t.device.attach_file(
                &app,
                "bank_card_photo",
                &format!("card-{y}{m:02}{d:02}.png"),
                doorstep_tests::SAMPLE_PHOTO,
            )?;
            let submitted = t.device.submit_application(&app).map(|_| ());
            acknowledged.push(Ack {
                id: app.clone(),
                heads: heads_of(t, &app)?,
                dev: idx,
            });
            Tally::add(&tally.applications, 1);
            refusal(submitted)
        }
        Op::Review { dev, app, approve } => {
            // A supervisor's tablet (every third, from the second).
            let supervisors = (devices + 1) / 3;
            let idx = 1 + 3 * (dev % supervisors);
            let t = &mut replicas[idx].test;
            // What waits for a decision on this tablet.
            let apps: Vec<DocId> = t
                .device
                .list_applications(None)?
                .into_iter()
                .filter(|a| a.status == "submitted")
                .map(|a| a.id)
                .collect();
            let Some(id) = (!apps.is_empty()).then(|| &apps[app % apps.len()]) else {
                return Ok(None);
            };
            let (kind, text) = if *approve {
                (EventKind::Approved, "")
            } else {
                (EventKind::Returned, "请补充测试材料")
            };
            let done = t.device.record_review(id, kind, text).map(|_| ());
            if done.is_ok() {
                acknowledged.push(Ack {
                    id: id.clone(),
                    heads: heads_of(t, id)?,
                    dev: idx,
                });
                Tally::add(
                    if *approve {
                        &tally.approved
                    } else {
                        &tally.returned
                    },
                    1,
                );
            }
            refusal(done)
        }
        Op::Amend { dev, app, val } => {
            let idx = volunteer(*dev, devices);
            let t = &mut replicas[idx].test;
            let apps = application_ids(t)?;
            let Some(id) = (!apps.is_empty()).then(|| &apps[app % apps.len()]) else {
                return Ok(None);
            };
            let account = FieldValue::Text(format!("62229999{val:08}"));
            let done = t
                .device
                .set_application_field(id, "bank_account", &account)
                .and_then(|()| t.device.submit_application(id).map(|_| ()));
            if done.is_ok() {
                acknowledged.push(Ack {
                    id: id.clone(),
                    heads: heads_of(t, id)?,
                    dev: idx,
                });
            }
            refusal(done)
        }
        Op::Settle { dev, pick } => {
            let idx = dev % devices;
            let t = &mut replicas[idx].test;
            let Some((id, _)) = t.device.conflicted_records()?.into_iter().next() else {
                return Ok(None);
            };
            let Some(conflict) = t.device.conflicts(&id)?.into_iter().next() else {
                return Ok(None);
            };
            let chosen = &conflict.values[pick % conflict.values.len()];
            let done = t
                .device
                .resolve_conflict(&id, &conflict.field, &chosen.value);
            if done.is_ok() {
                acknowledged.push(Ack {
                    id: id.clone(),
                    heads: heads_of(t, &id)?,
                    dev: idx,
                });
                Tally::add(&tally.settled, 1);
            }
            refusal(done)
        }
        Op::Bundle { from, to } => {
            let (from, to) = (from % devices, to % devices);
            // A lost tablet hands nothing out here: its thief is `tests/sync/attacks.rs`'s.
            if from == to || replicas[from].revoked {
                return Ok(None);
            }
            let manifest = files.path().join(format!("manifest-{n}"));
            let bundle = files.path().join(format!("bundle-{n}"));
            replicas[to].test.device.write_manifest(&manifest)?;
            replicas[from]
                .test
                .device
                .export_bundle(&bundle, Some(&manifest))?;
            let report = match replicas[to].test.device.import_bundle(&bundle) {
                Ok(report) => report,
                // A tablet enrolled again after a revocation signs bundles a peer that
                // knows only of the revocation refuses (until that peer syncs).
                Err(DeviceError::Bundle {
                    code: ErrorCode::BundleForged,
                    ..
                }) if replicas[from].ever_revoked => {
                    Tally::add(&tally.bundles_of_reenrolled_refused, 1);
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            // Only a revoked tablet's changes (relayed by another) may be set aside.
            anyhow::ensure!(
                report.set_aside == 0 || replicas.iter().any(|r| r.revoked),
                "a bundle of an honest device had changes set aside"
            );
            Tally::add(&tally.bundles, 1);
            Ok(None)
        }
        Op::Clock { dev, days } => {
            replicas[dev % devices]
                .clock
                .set(doorstep_server::now_ms() + i64::from(*days) * DAY_MS);
            Ok(None)
        }
        Op::Sync { dev, via, faults } => {
            let r = &mut replicas[dev % devices];
            let via = via % r.transports.len();
            r.transports[via].plan(faults.iter().copied());
            Tally::add(&tally.syncs, 1);
            Tally::add(
                &tally.faults,
                faults.iter().filter(|f| **f != Fault::Deliver).count(),
            );
            // A sync may fail when every attempt meets a fault; the work stays pending.
            if r.test
                .device
                .sync_with(&mut r.transports[via], &FAST_RETRY)
                .is_err()
            {
                Tally::add(&tally.failed_syncs, 1);
            }
            Ok(None)
        }
        Op::Flush { dev } => {
            for t in &mut replicas[dev % devices].transports {
                t.flush()?;
            }
            Ok(None)
        }
        Op::Revoke { dev } => {
            let idx = dev % devices;
            if idx == 0 || replicas[idx].revoked {
                return Ok(None);
            }
            // What it acknowledged that the server does not hold yet is a lost tablet's
            // unsent work, refused from now on by design.
            let mut kept = Vec::with_capacity(acknowledged.len());
            for a in std::mem::take(acknowledged) {
                let mut on_server = true;
                if a.dev == idx {
                    for h in &a.heads {
                        on_server &= server.has_change(h)?;
                    }
                }
                if on_server {
                    kept.push(a);
                } else {
                    Tally::add(&tally.dropped_at_revocation, 1);
                }
            }
            *acknowledged = kept;
            server.revoke(&replicas[idx].test)?;
            replicas[idx].revoked = true;
            replicas[idx].ever_revoked = true;
            Tally::add(&tally.revoked, 1);
            Ok(None)
        }
        Op::Reenroll { dev } => {
            let idx = dev % devices;
            let r = &mut replicas[idx];
            if !r.revoked {
                return Ok(None);
            }
            server.enroll_again(&mut r.test, scope, r.role, &r.name)?;
            r.transports = (0..server.servers())
                .map(|via| server.transport(&r.test, via))
                .collect::<anyhow::Result<_>>()?;
            r.revoked = false;
            Tally::add(&tally.reenrolled, 1);
            Ok(None)
        }
    }
}

/// Identical records and list rows everywhere, nothing kept apart, nothing acknowledged
/// lost.
fn check_converged(
    replicas: &[Replica],
    acknowledged: &[Ack],
    tally: &Tally,
) -> anyhow::Result<()> {
    // A record holding changes of a revoked tablet that reached a peer in a bundle before
    // the revocation stays on the peers that hold it, refused by the server: a lost
    // tablet's unsent work is not taken by relay (RELIABILITY.md, "open findings").
    let mut stranded = std::collections::BTreeSet::new();
    for r in replicas.iter().filter(|r| !r.revoked) {
        for refused in r.test.device.refused_views()? {
            anyhow::ensure!(
                refused.code == ErrorCode::AuthorRevoked,
                "the server refused record {} of an honest tablet: {:?}",
                refused.id,
                refused.code
            );
            stranded.insert(refused.id);
        }
    }
    // A resident stranded so is listed only where she is held, and so are the
    // authorizations recorded for her there (they reach the others, without her).
    for r in replicas.iter().filter(|r| !r.revoked) {
        for resident in stranded.clone() {
            if r.test.device.resident(&resident).is_ok() {
                for (id, _) in r.test.device.authorizations_of(&resident)? {
                    stranded.insert(id);
                }
            }
        }
    }
    Tally::add(&tally.stranded, stranded.len());
    let honest: Vec<&Replica> = replicas.iter().filter(|r| !r.revoked).collect();
    let ids = |t: &TestDevice| -> anyhow::Result<Vec<DocId>> {
        Ok(all_ids(t)?
            .into_iter()
            .filter(|id| !stranded.contains(id))
            .collect())
    };
    let first = &honest[0].test;
    let first_ids = ids(first)?;
    let rows = |t: &TestDevice| -> anyhow::Result<BTreeMap<String, String>> {
        let mut rows: BTreeMap<String, String> = t
            .device
            .list_residents()?
            .into_iter()
            .filter(|s| !stranded.contains(&s.id))
            .map(|s| (s.id.to_string(), format!("{s:?}")))
            .collect();
        rows.extend(
            t.device
                .list_applications(None)?
                .into_iter()
                .filter(|a| !stranded.contains(&a.id))
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
    // No acknowledged edit is lost: each one's changes are in the final record (of a
    // stranded record, on the tablet that made the edit).
    for Ack { id, heads, dev } in acknowledged {
        let holder = if stranded.contains(id) {
            &replicas[*dev].test
        } else {
            first
        };
        let mut doc = AutoCommit::load(&holder.device.export_record(id)?)?;
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
    let started = std::time::Instant::now();
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
    let elapsed = started.elapsed();
    let passed = tally.cases.load(Ordering::Relaxed);
    let n = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    eprintln!(
        "convergence {label}: {passed} cases passed ({} run, kept seeds included) on {runners} \
         thread(s) in {:.1} s ({:.1} ms a case)\n  {} devices, {} operations: {} syncs ({} \
         failed on their faults, {} faults), {} bundles, {} applications, {} returned, {} \
         approved, {} conflicts settled, {} refused by the rules as the window would\n  {} \
         acknowledged edits all present, {} records converged\n  {} tablets revoked ({} \
         acknowledged edits not yet sent were refused with them by design), {} enrolled again, \
         {} records held by peers of a revoked tablet refused by relay, {} set aside by a \
         peer that knew, {} bundles of a tablet enrolled again refused by a peer that knew only \
         of its revocation",
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
        n(&tally.refused_by_rules),
        n(&tally.acknowledged),
        tally.records.load(Ordering::Relaxed),
        n(&tally.revoked),
        n(&tally.dropped_at_revocation),
        n(&tally.reenrolled),
        n(&tally.stranded),
        n(&tally.set_aside_revoked),
        n(&tally.bundles_of_reenrolled_refused),
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
