//! Several people on one tablet, through a real server: a second volunteer is added with
//! her own one-time code and PIN; each unlocks with their own PIN and writes under their
//! own key and actor; after a sync a supervisor's tablet names each in a record's
//! history (signed, checked against the key roster) and the sync log names who synced;
//! a volunteer the supervisor removes cannot unlock after the tablet's next sync, and
//! what she wrote stays (here, on the server and on the supervisor's tablet), even what
//! had not synced when she was removed. A supervisor at work on the tablet adds a
//! volunteer by name (the server makes the code for the supervisor's committee only).

use doorstep_core::ErrorCode;
use doorstep_core::key_roster::Signed;
use doorstep_core::protocol::CodeRequest;
use doorstep_core::resident::ResidentPatch;
use doorstep_device::DeviceError;
use doorstep_device::console::LogFilter;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, enrollment_text, register};
use doorstep_tests::principal::Principal;
use doorstep_tests::signed::SignAs;

const PIN_A: &str = "135790";
const PIN_B: &str = "246802";
const PIN_C: &str = "918273";

fn member_code(e: Result<(), DeviceError>) -> Option<ErrorCode> {
    e.err().map(|e| e.code())
}

#[test]
fn two_volunteers_share_a_tablet_and_a_removed_one_is_locked_out() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let mut tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    tablet.device.set_pin(PIN_A)?;
    let mut boss = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;

    // A code for another committee is refused, and nothing is kept.
    let other = enrollment_text(&server, &["c2"], "volunteer", "测试志愿者外", "1h")?;
    let mut transport = tablet.transport_to(&server)?;
    let refused = tablet
        .device
        .add_member_with(&mut transport, &other, "test tablet", PIN_B)
        .map(drop);
    assert_eq!(member_code(refused), Some(ErrorCode::MemberOtherCommittee));
    // A PIN too short is refused before the code is spent.
    let text = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者乙", "1h")?;
    let short = tablet
        .device
        .add_member_with(&mut transport, &text, "test tablet", "123")
        .map(drop);
    assert_eq!(member_code(short), Some(ErrorCode::PinTooShort));
    let b = tablet
        .device
        .add_member_with(&mut transport, &text, "test tablet", PIN_B)?;
    assert_eq!(b.name, "测试志愿者乙");
    let members = tablet.device.members()?;
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(
        members[0].active && !members[1].active,
        "adding does not switch"
    );
    assert!(members.iter().all(|m| m.has_pin && !m.removed));

    // Each with their own PIN: B's PIN does not open A, wrong tries count for B alone.
    let now = tablet.device.now();
    let wrong = tablet.device.unlock_member("", PIN_B, now);
    assert_eq!(member_code(wrong), Some(ErrorCode::PinWrong));
    tablet.device.unlock_member("", PIN_A, now)?;
    let a_resident = register(&mut tablet.device, "测试甲", "11010519400301001")?;
    assert_eq!(tablet.device.volunteer(), "测试志愿者甲");

    tablet.device.unlock_member(&b.id, PIN_B, now)?;
    assert_eq!(tablet.device.volunteer(), "测试志愿者乙");
    assert_eq!(tablet.device.active_member()?, b.id);
    // Only the first person enrolls the tablet again; B stays who she is.
    let code = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者外", "1h")?;
    let mut transport_b = tablet.transport_to(&server)?;
    let again = tablet
        .device
        .enroll_with(&mut transport_b, &code, "test tablet")
        .map(drop);
    assert_eq!(member_code(again), Some(ErrorCode::MemberNotFirst));
    assert_eq!(tablet.device.volunteer(), "测试志愿者乙");
    let b_resident = register(&mut tablet.device, "测试乙", "11010519410301002")?;
    tablet.device.update_resident(
        &a_resident,
        ResidentPatch {
            phone: Some("13800001234".into()),
            ..ResidentPatch::default()
        },
    )?;
    // B's sync: the log's entry names B.
    tablet.sync(&server)?;
    boss.sync(&server)?;
    let history = boss.device.history(&a_resident)?;
    let by: Vec<(&str, &Signed, &str)> = history
        .iter()
        .map(|e| (e.author.volunteer.as_str(), &e.signed, e.signer.as_str()))
        .collect();
    assert_eq!(history.len(), 2, "{by:?}");
    assert_eq!(history[0].author.volunteer, "测试志愿者甲");
    assert_eq!(history[1].author.volunteer, "测试志愿者乙");
    assert!(
        history.iter().all(|e| e.signed == Signed::Author),
        "each change signed by its own author's key: {by:?}"
    );
    assert!(history[0].signer.contains("测试志愿者甲"), "{by:?}");
    assert!(history[1].signer.contains("测试志愿者乙"), "{by:?}");
    assert_ne!(history[0].author.device, history[1].author.device);
    let log = boss.device.log_page(&LogFilter::default())?;
    let b_entries: Vec<&str> = log
        .entries
        .iter()
        .filter(|e| e.device_id == b.id)
        .map(|e| e.volunteer.as_str())
        .collect();
    assert!(
        !b_entries.is_empty() && b_entries.iter().all(|v| *v == "测试志愿者乙"),
        "B's sync is B's entry: {b_entries:?}"
    );

    // B registers one more before handing over; it has not synced when the supervisor
    // removes her. A is at work when the tablet next syncs: the roster says so, and B
    // can no longer unlock; her records stay, the unsynced one too (made while she was
    // in force, which the tablet tells the server).
    let late = register(&mut tablet.device, "测试乙二", "11010519410301010")?;
    tablet.device.unlock_member("", PIN_A, now)?;
    boss.device.revoke_device(&b.id)?;
    let report = tablet.sync(&server)?;
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    boss.sync(&server)?;
    assert_eq!(
        boss.device.history(&late)?[0].author.volunteer,
        "测试志愿者乙"
    );
    let again = tablet.device.unlock_member(&b.id, PIN_B, now);
    assert_eq!(member_code(again), Some(ErrorCode::MemberRemoved));
    assert!(tablet.device.members()?[1].removed);
    assert_eq!(tablet.device.volunteer(), "测试志愿者甲");
    assert_eq!(tablet.device.list_residents()?.len(), 3);
    assert!(boss.device.resident(&b_resident).is_ok());
    assert_eq!(
        tablet.device.history(&b_resident)?[0].author.volunteer,
        "测试志愿者乙"
    );

    // A third, removed while she is the one at work: her sync is refused, she is
    // locked out, and the next sync goes with A's token.
    let text = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者丙", "1h")?;
    let c = tablet
        .device
        .add_member_with(&mut transport, &text, "test tablet", PIN_C)?;
    tablet.device.unlock_member(&c.id, PIN_C, now)?;
    tablet.sync(&server)?;
    // What she registers now has not synced when she is removed.
    let c_resident = register(&mut tablet.device, "测试丙", "11010519420301003")?;
    boss.device.revoke_device(&c.id)?;
    let refused = tablet.sync(&server);
    let code = refused
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<DeviceError>())
        .map(DeviceError::code);
    assert_eq!(code, Some(ErrorCode::DeviceRevoked), "{refused:?}");
    assert!(tablet.device.active_member_removed()?);
    let locked_out = tablet.device.unlock_member(&c.id, PIN_C, now);
    assert_eq!(member_code(locked_out), Some(ErrorCode::MemberRemoved));
    // A's token relays C's unsynced work, made while C was in force.
    let report = tablet.sync(&server)?;
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    boss.sync(&server)?;
    assert_eq!(
        boss.device.history(&c_resident)?[0].author.volunteer,
        "测试志愿者丙"
    );
    Ok(())
}

#[test]
fn the_first_persons_unsynced_work_reaches_the_server_after_the_tablet_is_shared()
-> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    tablet.device.set_pin(PIN_A)?;
    let mut boss = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    // A works offline; B is added (signal for a moment, no sync); A leaves the office.
    let a_resident = register(&mut tablet.device, "测试甲", "11010519400301001")?;
    let text = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者乙", "1h")?;
    let mut transport = tablet.transport_to(&server)?;
    let b = tablet
        .device
        .add_member_with(&mut transport, &text, "test tablet", PIN_B)?;
    let a_id = tablet.device.active_member()?;
    boss.device.revoke_device(&a_id)?;
    let now = tablet.device.now();
    tablet.device.unlock_member(&b.id, PIN_B, now)?;
    let report = tablet.sync(&server)?;
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert!(tablet.device.members()?[0].removed, "A is removed");
    boss.sync(&server)?;
    assert_eq!(
        boss.device.history(&a_resident)?[0].author.volunteer,
        "测试志愿者甲"
    );
    Ok(())
}

/// What a raw request to `POST /v1/enrollments` by `p` gets: the status and the code.
fn ask_code(
    server: &ServerProcess,
    p: &Principal,
    committee: &str,
) -> anyhow::Result<(u16, String)> {
    let body = serde_json::to_vec(&CodeRequest {
        name: "测试志愿者戊".into(),
        committee: committee.into(),
    })?;
    let response = doorstep_tests::raw_client()
        .post(server.url("/v1/enrollments"))
        .sign_as(p.token(), "POST", "/v1/enrollments", &body)
        .header("content-type", "application/json")
        .body(body)
        .send()?;
    let status = response.status().as_u16();
    let answer: serde_json::Value = serde_json::from_slice(&response.bytes()?)?;
    let code = answer["code"].as_str().unwrap_or_default().to_owned();
    Ok((status, code))
}

#[test]
fn a_supervisor_at_work_on_the_tablet_adds_a_volunteer_by_name() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let mut tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    tablet.device.set_pin(PIN_A)?;
    let mut transport = tablet.transport_to(&server)?;
    // A volunteer at work cannot.
    let refused = tablet
        .device
        .add_member_by_supervisor_with(&mut transport, "测试志愿者丁", "test tablet", PIN_C)
        .map(drop);
    assert!(
        matches!(refused, Err(DeviceError::NotSupervisor)),
        "{refused:?}"
    );

    // The committee's supervisor, a member of the tablet, can.
    let text = enrollment_text(&server, &["c1"], "supervisor", "测试主任", "1h")?;
    let boss = tablet
        .device
        .add_member_with(&mut transport, &text, "test tablet", PIN_B)?;
    let now = tablet.device.now();
    tablet.device.unlock_member(&boss.id, PIN_B, now)?;
    let nameless = tablet
        .device
        .add_member_by_supervisor_with(&mut transport, " ", "test tablet", PIN_C)
        .map(drop);
    assert_eq!(member_code(nameless), Some(ErrorCode::InvalidInput));
    let added = tablet.device.add_member_by_supervisor_with(
        &mut transport,
        "测试志愿者丁",
        "test tablet",
        PIN_C,
    )?;
    assert_eq!(added.name, "测试志愿者丁");
    assert_eq!(added.role, Some(doorstep_core::protocol::Role::Volunteer));
    tablet.device.unlock_member(&added.id, PIN_C, now)?;
    let resident = register(&mut tablet.device, "测试丁", "11010519430301004")?;
    tablet.sync(&server)?;
    let history = tablet.device.history(&resident)?;
    assert_eq!(history[0].signed, Signed::Author);
    assert!(history[0].signer.contains("测试志愿者丁"), "{history:?}");

    // The server makes codes for supervisors only, and for their own committees.
    let volunteer = Principal::new(&server, &["c1"], "volunteer")?;
    assert_eq!(
        ask_code(&server, &volunteer, "c1")?,
        (403, "role_forbidden".to_owned())
    );
    let supervisor = Principal::new(&server, &["c1"], "supervisor")?;
    assert_eq!(
        ask_code(&server, &supervisor, "c2")?,
        (403, "committee_forbidden".to_owned())
    );
    assert_eq!(ask_code(&server, &supervisor, "c1")?.0, 200);
    Ok(())
}

#[test]
fn a_bundle_of_a_person_added_since_the_peer_synced_is_taken_once_the_peer_syncs()
-> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    tablet.device.set_pin(PIN_A)?;
    let mut peer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者丙")?;
    // B is added after the peer last synced; B hands her work over in a bundle.
    let text = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者乙", "1h")?;
    let mut transport = tablet.transport_to(&server)?;
    let b = tablet
        .device
        .add_member_with(&mut transport, &text, "test tablet", PIN_B)?;
    let now = tablet.device.now();
    tablet.device.unlock_member(&b.id, PIN_B, now)?;
    let resident = register(&mut tablet.device, "测试乙", "11010519400301002")?;
    let files = tempfile::tempdir()?;
    let bundle = files.path().join("bundle");
    tablet.device.export_bundle(&bundle, None)?;
    // The peer's roster does not hold B yet: refused whole, and not called forged.
    let refused = peer.device.import_bundle(&bundle).map(drop);
    assert_eq!(member_code(refused), Some(ErrorCode::BundleSignerUnknown));
    assert!(peer.device.resident(&resident).is_err(), "nothing taken");
    // Once the peer has synced (and the tablet has not), the same bundle goes in.
    peer.sync(&server)?;
    let report = peer.device.import_bundle(&bundle)?;
    assert_eq!((report.records_changed, report.set_aside), (1, 0));
    assert_eq!(
        peer.device.history(&resident)?[0].author.volunteer,
        "测试志愿者乙"
    );
    Ok(())
}

#[test]
fn a_shared_tablet_lost_and_found_is_enrolled_again_by_its_first_person() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    tablet.device.set_pin(PIN_A)?;
    let mut boss = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let text = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者乙", "1h")?;
    let mut transport = tablet.transport_to(&server)?;
    let b = tablet
        .device
        .add_member_with(&mut transport, &text, "test tablet", PIN_B)?;
    let resident = register(&mut tablet.device, "测试甲", "11010519400301003")?;
    tablet.sync(&server)?;
    let a_id = tablet.device.active_member()?;
    let now = tablet.device.now();
    tablet.device.unlock_member(&b.id, PIN_B, now)?;
    // Reported lost while B was at work: the office removes both people.
    boss.sync(&server)?;
    boss.device.revoke_device(&a_id)?;
    boss.device.revoke_device(&b.id)?;
    assert!(tablet.sync(&server).is_err(), "B's token is refused");
    assert!(tablet.sync(&server).is_err(), "then A's");
    let now = tablet.device.now();
    assert!(tablet.device.members()?[0].removed);
    for (id, pin) in [("", PIN_A), (b.id.as_str(), PIN_B)] {
        let refused = tablet.device.unlock_member(id, pin, now).map(drop);
        assert_eq!(member_code(refused), Some(ErrorCode::MemberRemoved));
    }
    // Found again: B cannot enroll it; a spent code changes nothing; A, with her PIN
    // and a new code, enrolls it.
    let text = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者甲", "1h")?;
    let wrong = tablet
        .device
        .enroll_again_as_first(&text, "test tablet", PIN_B, now)
        .map(drop);
    assert_eq!(member_code(wrong), Some(ErrorCode::PinWrong));
    let spent = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者甲", "1h")?;
    let elsewhere = tempfile::tempdir()?;
    doorstep_device::Device::open(elsewhere.path())?.enroll(&spent, "test tablet")?;
    let refused = tablet
        .device
        .enroll_again_as_first(&spent, "test tablet", PIN_A, now)
        .map(drop);
    assert_eq!(member_code(refused), Some(ErrorCode::EnrollmentUsed));
    assert_eq!(tablet.device.active_member()?, b.id, "still B, removed");
    tablet
        .device
        .enroll_again_as_first(&text, "test tablet", PIN_A, now)?;
    // She unlocks as before; B is gone from the tablet; its records are all there.
    tablet.device.unlock_member("", PIN_A, now)?;
    let people = tablet.device.members()?;
    assert_eq!(people.len(), 1, "{people:?}");
    assert!(!people[0].removed);
    tablet.device.resident(&resident)?;
    tablet.sync(&server)?;
    Ok(())
}
