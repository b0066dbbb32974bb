//! The operations of the convergence campaign (`campaign.rs`): what a case may do to
//! its tablets and servers, as proptest strategies, and how each is applied.

use super::*;
use doorstep_core::date::{Ymd, civil_from_days, days_from_civil, format_ymd, parse_ymd};
use doorstep_core::visit::{self, Assignment, Outcome, OutcomeInput, Purpose};

#[derive(Debug, Clone)]
pub(super) enum Op {
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
    /// A supervisor's device assigns a resident's visit to someone of the committee (or
    /// reassigns it), due `days` from its own today.
    Plan {
        dev: usize,
        rec: usize,
        to: usize,
        days: u8,
    },
    /// The first device from `dev` on whose person has a visit due records what came of
    /// one, proposing the next or not.
    Visit {
        dev: usize,
        row: usize,
        outcome: u8,
        next: bool,
    },
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
    /// Another volunteer is added to a tablet with a code of her own (at most three
    /// people a tablet).
    Share { dev: usize },
    /// One of a tablet's people unlocks it with their PIN (those removed are not offered).
    Switch { dev: usize, to: usize },
    /// The server removes one of the people added to a tablet; the tablet goes on.
    Remove { dev: usize, who: usize },
}

/// Everyone's PIN on a shared tablet.
const PIN: &str = "135790";

/// The tablet's first person unlocks it.
pub(super) fn switch_to_first(r: &mut Replica) -> anyhow::Result<()> {
    let now = r.test.device.now();
    r.test.device.unlock_member("", PIN, now)?;
    Ok(())
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::Deliver),
        2 => Just(Fault::DropAnswer),
        1 => Just(Fault::Duplicate),
        1 => Just(Fault::Delay),
    ]
}

pub(super) fn op() -> impl Strategy<Value = Op> {
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
        2 => (dev.clone(), 0..16usize, dev.clone(), 0..60u8)
            .prop_map(|(dev, rec, to, days)| Op::Plan { dev, rec, to, days }),
        2 => (dev.clone(), 0..8usize, 0..6u8, any::<bool>())
            .prop_map(|(dev, row, outcome, next)| Op::Visit { dev, row, outcome, next }),
        1 => (dev.clone(), dev.clone()).prop_map(|(from, to)| Op::Bundle { from, to }),
        1 => (dev.clone(), -365..=365i16).prop_map(|(dev, days)| Op::Clock { dev, days }),
        5 => (dev.clone(), 0..2usize, proptest::collection::vec(fault(), 0..3))
            .prop_map(|(dev, via, faults)| Op::Sync { dev, via, faults }),
        1 => dev.clone().prop_map(|dev| Op::Flush { dev }),
        1 => dev.clone().prop_map(|dev| Op::Revoke { dev }),
        1 => dev.clone().prop_map(|dev| Op::Reenroll { dev }),
        1 => dev.clone().prop_map(|dev| Op::Share { dev }),
        3 => (dev.clone(), 0..3usize).prop_map(|(dev, to)| Op::Switch { dev, to }),
        2 => (dev, 0..2usize).prop_map(|(dev, who)| Op::Remove { dev, who }),
    ]
}

pub(super) fn new_resident(case: usize, n: usize) -> ResidentInput {
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
pub(super) fn refused_by_rules(e: &DeviceError) -> bool {
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

/// The `dev`th volunteer's tablet (those that are not every third from the second).
pub(super) fn volunteer(dev: usize, devices: usize) -> usize {
    let volunteers: Vec<usize> = (0..devices).filter(|d| d % 3 != 1).collect();
    volunteers[dev % volunteers.len()]
}

/// Applies one operation: `Ok(Some(e))` when the device refused it as the window would.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
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
            let ids = resident_ids(&t.device)?;
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
                acknowledged.push(Ack::of(t, id, idx)?);
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
            acknowledged.push(Ack::of(t, &id, idx)?);
            Ok(None)
        }
        Op::Apply { dev, rec, val } => {
            let idx = volunteer(*dev, devices);
            let t = &mut replicas[idx].test;
            let ids = resident_ids(&t.device)?;
            let resident = &ids[rec % ids.len()];
            let valid = t
                .device
                .authorizations_of(resident)?
                .iter()
                .any(|(_, a)| a.services.iter().any(|s| s == "senior_allowance"));
            if !valid {
                let authorization = t.authorize(resident, &["senior_allowance"])?;
                acknowledged.push(Ack::of(t, &authorization, idx)?);
            }
            let app = match t.device.start_application(resident, "senior_allowance") {
                Ok(app) => app,
                Err(e) => return refusal(Err(e)),
            };
            fill_allowance(
                &mut t.device,
                &app,
                &format!("62220000{val:08}"),
                doorstep_tests::SAMPLE_PHOTO,
            )?;
            let submitted = t.device.submit_application(&app).map(|_| ());
            acknowledged.push(Ack::of(t, &app, idx)?);
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
                acknowledged.push(Ack::of(t, id, idx)?);
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
                acknowledged.push(Ack::of(t, id, idx)?);
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
                acknowledged.push(Ack::of(t, &id, idx)?);
                Tally::add(&tally.settled, 1);
            }
            refusal(done)
        }
        Op::Plan { dev, rec, to, days } => {
            let supervisors = (devices + 1) / 3;
            let idx = 1 + 3 * (dev % supervisors);
            // Supervisors visit too.
            let assignee = to % devices;
            let assignment = Assignment {
                assignee: replicas[assignee].test.device.member_id()?,
                assignee_name: replicas[assignee].name.clone(),
                due: days_after(replicas[idx].test.device.today(), i64::from(*days)),
                purpose: Purpose::Checkup,
                service: String::new(),
            };
            let t = &mut replicas[idx].test;
            let ids = resident_ids(&t.device)?;
            let resident = &ids[rec % ids.len()];
            let done = t.device.assign_visit(resident, &assignment);
            if let Ok(plan) = &done {
                acknowledged.push(Ack::of(t, plan, idx)?);
                Tally::add(&tally.visits_assigned, 1);
            }
            refusal(done.map(|_| ()))
        }
        Op::Visit {
            dev,
            row,
            outcome,
            next,
        } => {
            // The first tablet from `dev` on whose person has a visit due.
            let mut due = None;
            for idx in (0..devices).map(|d| (dev + d) % devices) {
                let rows = replicas[idx].test.device.my_visits(0, 100)?;
                if !rows.is_empty() {
                    due = Some((idx, rows[row % rows.len()].clone()));
                    break;
                }
            }
            let Some((idx, visit)) = due else {
                return Ok(None);
            };
            let t = &mut replicas[idx].test;
            let outcome = Outcome::ALL[usize::from(*outcome) % Outcome::ALL.len()];
            let today = t.device.today();
            // The next visit a month after this one (or after the day it was due).
            let after = parse_ymd(&visit.due).map_or(today, |due| due.max(today));
            let input = OutcomeInput {
                outcome,
                on: format_ymd(today),
                next_due: if *next && outcome.may_propose_next() {
                    days_after(after, 30)
                } else {
                    String::new()
                },
                note: String::new(),
            };
            let done = t.device.record_visit_outcome(&visit.resident, &input);
            if done.is_ok() {
                acknowledged.push(Ack::of(t, &visit::plan_id(&visit.resident), idx)?);
                Tally::add(&tally.visits_recorded, 1);
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
                }) if replicas[from].ever_revoked || at_work_removed(&replicas[from])? => {
                    Tally::add(&tally.bundles_of_reenrolled_refused, 1);
                    return Ok(None);
                }
                // A person added to a tablet since the peer last synced signs with a key
                // the peer's roster does not hold yet.
                Err(DeviceError::Bundle {
                    code: ErrorCode::BundleSignerUnknown,
                    ..
                }) if signer_unknown_to(&replicas[from], &replicas[to])? => {
                    Tally::add(&tally.bundles_of_new_people_refused, 1);
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            };
            // Only a revoked tablet's changes (relayed by another) may be set aside, or
            // those of a tablet enrolled again after a revocation, whose new key a peer
            // that has not synced since does not know yet (the server brings them to it
            // at its next sync), or those of a person added to a tablet since the peer
            // last synced (their key unknown to it until then).
            let known: Vec<String> = replicas[to]
                .test
                .device
                .visitors()?
                .into_iter()
                .map(|v| v.id)
                .collect();
            let someone_unknown = replicas
                .iter()
                .flat_map(|r| r.people.iter().chain(&r.former))
                .any(|p| !known.contains(p));
            anyhow::ensure!(
                report.set_aside == 0
                    || someone_unknown
                    || replicas
                        .iter()
                        .any(|r| r.revoked || r.ever_revoked || !r.removed.is_empty()),
                "a bundle of an honest device had changes set aside"
            );
            // And only as made by someone revoked, or someone the peer does not know yet
            // (the final check holds each to the whole property once everyone synced).
            for aside in replicas[to].test.device.records_aside()? {
                anyhow::ensure!(
                    aside.code == ErrorCode::AuthorRevoked
                        || (aside.code == ErrorCode::AuthorUnknown && someone_unknown),
                    "a bundle's record set aside as {:?}",
                    aside.code
                );
            }
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
                        on_server &= server.has_change(&a.id, h)?;
                    }
                }
                if on_server {
                    kept.push(a);
                } else {
                    Tally::add(&tally.dropped_at_revocation, 1);
                }
            }
            *acknowledged = kept;
            // A lost tablet: every one of its people.
            for person in replicas[idx].test.device.members()? {
                if !replicas[idx].removed.contains(&person.id) {
                    server.revoke(&person.id)?;
                }
            }
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
            // Only its first person enrolls it again (on her PIN, though the tablet may
            // know her removed); its other people are forgotten.
            // Visits assigned to its people under the old enrollment are still compared.
            for person in r.test.device.members()? {
                r.former.push(person.id);
            }
            if !r.people.is_empty() {
                // Found and back in signal, it tries to sync as each of its people in
                // turn, each refused, until it knows them all removed; then the window
                // offers its first person to enroll it again.
                for _ in 0..=r.people.len() {
                    if r.test.device.members()?.iter().all(|m| m.removed) {
                        break;
                    }
                    anyhow::ensure!(server.sync(&mut r.test).is_err(), "a revoked tablet synced");
                }
                let now = r.test.device.now();
                r.test.device.unlock_to_enroll_again(PIN, now)?;
                r.people.clear();
            }
            server.enroll_again(&mut r.test, scope, r.role, &r.name)?;
            r.transports = (0..server.servers())
                .map(|via| server.transport(&r.test, via))
                .collect::<anyhow::Result<_>>()?;
            r.revoked = false;
            Tally::add(&tally.reenrolled, 1);
            Ok(None)
        }
        Op::Share { dev } => {
            let idx = dev % devices;
            let r = &mut replicas[idx];
            if r.revoked || r.people.len() >= 2 {
                return Ok(None);
            }
            if r.people.is_empty() && !r.test.device.members()?[0].has_pin {
                // The first person's PIN, which the PIN screen will ask of her.
                r.test.device.set_pin(PIN)?;
            }
            let name = format!("{}-{}", r.name, r.people.len() + 1);
            let text = server.member_text(scope, &name)?;
            let mut transport = server.transport(&r.test, 0)?;
            let added = r
                .test
                .device
                .add_member_with(&mut transport, &text, "test tablet", PIN)?;
            r.people.push(added.id);
            Tally::add(&tally.people_added, 1);
            Ok(None)
        }
        Op::Switch { dev, to } => {
            let r = &mut replicas[dev % devices];
            if r.revoked || r.people.is_empty() {
                return Ok(None);
            }
            let offered: Vec<String> = r
                .test
                .device
                .members()?
                .into_iter()
                .filter(|m| !m.removed)
                .map(|m| m.id)
                .collect();
            let now = r.test.device.now();
            r.test
                .device
                .unlock_member(&offered[to % offered.len()], PIN, now)?;
            Tally::add(&tally.switches, 1);
            Ok(None)
        }
        Op::Remove { dev, who } => {
            let r = &mut replicas[dev % devices];
            if r.revoked || r.people.is_empty() {
                return Ok(None);
            }
            let person = r.people[who % r.people.len()].clone();
            if r.removed.contains(&person) {
                return Ok(None);
            }
            // Their work stays, even what the tablet has not synced: another of its people
            // sends it.
            server.revoke(&person)?;
            r.removed.push(person);
            Tally::add(&tally.people_removed, 1);
            Ok(None)
        }
    }
}

/// `days` after `day`, as `YYYY-MM-DD`.
fn days_after(day: Ymd, days: i64) -> String {
    format_ymd(civil_from_days(days_from_civil(day) + days))
}

/// Whether `from`'s person at work is one added to it whom `to`'s key roster does not
/// hold yet (`to` has not synced since she was added).
fn signer_unknown_to(from: &Replica, to: &Replica) -> anyhow::Result<bool> {
    let signer = from.test.device.active_member()?;
    Ok(from.people.contains(&signer) && !to.test.device.visitors()?.iter().any(|v| v.id == signer))
}

/// Whether the person at work on the tablet was removed by the server (whether or not the
/// tablet knows yet).
fn at_work_removed(r: &Replica) -> anyhow::Result<bool> {
    Ok(r.removed.contains(&r.test.device.active_member()?))
}
