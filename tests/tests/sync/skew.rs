//! Tablets whose clocks are a year wrong: a volunteer's a year fast, a supervisor's a
//! year slow. They work offline and sync in different orders; every device shows the
//! same status for the application, and no decision is lost or reordered by a clock.

use std::sync::Arc;

use doorstep_core::application::{EventKind, Status};
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_device::clock::SetClock;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee};

const YEAR_MS: i64 = 365 * 86_400_000;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
    )
    .unwrap_or(0)
}

#[test]
fn clocks_a_year_fast_and_slow_decide_nothing() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut fast = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut slow = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let mut right = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    fast.device
        .set_clock(Arc::new(SetClock::at(now_ms() + YEAR_MS)));
    slow.device
        .set_clock(Arc::new(SetClock::at(now_ms() - YEAR_MS)));

    // The volunteer (a year ahead) submits; the supervisor (a year behind) returns it:
    // the return is written "two years before" the submission it answers.
    let (_, app) = fast.submitted_allowance(&ResidentInput {
        name: "测试老人".into(),
        id_number: IdNumber::complete("11010119400101001").expect("17 digits"),
        ..ResidentInput::default()
    })?;
    fast.sync(&server)?;
    slow.sync(&server)?;
    assert_eq!(slow.device.application(&app)?.status, Status::Submitted);
    slow.device
        .record_review(&app, EventKind::Returned, "请核对户名")?;
    slow.sync(&server)?;
    fast.sync(&server)?;
    right.sync(&server)?;
    for d in [&fast, &slow, &right] {
        assert_eq!(d.device.application(&app)?.status, Status::Returned);
    }

    // Fixed and submitted again, then approved; the third tablet hears of it all last,
    // in one sync.
    fast.device.set_application_field(
        &app,
        "account_holder",
        &FieldValue::Text("测试老人家".into()),
    )?;
    fast.device.submit_application(&app)?;
    fast.sync(&server)?;
    slow.sync(&server)?;
    slow.device.record_review(&app, EventKind::Approved, "")?;
    slow.sync(&server)?;
    right.sync(&server)?;
    fast.sync(&server)?;
    for d in [&fast, &slow, &right] {
        let read = d.device.application(&app)?;
        assert_eq!(read.status, Status::Approved);
        let kinds: Vec<EventKind> = read
            .events
            .iter()
            .filter(|e| e.kind != EventKind::Consent)
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                EventKind::Submitted,
                EventKind::Returned,
                EventKind::Submitted,
                EventKind::Approved
            ]
        );
    }
    // The times are as each tablet's clock said: the approval "before" the submission.
    let read = right.device.application(&app)?;
    assert!(read.events[3].at < read.events[0].at);
    Ok(())
}

#[test]
fn two_supervisors_deciding_offline_against_each_other_leave_it_to_a_person() -> anyhow::Result<()>
{
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut fast = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任甲")?;
    let mut slow = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任乙")?;
    fast.device
        .set_clock(Arc::new(SetClock::at(now_ms() + YEAR_MS)));
    slow.device
        .set_clock(Arc::new(SetClock::at(now_ms() - YEAR_MS)));
    let (_, app) = volunteer.submitted_allowance(&ResidentInput {
        name: "测试老人".into(),
        id_number: IdNumber::complete("11010119400101001").expect("17 digits"),
        ..ResidentInput::default()
    })?;
    volunteer.sync(&server)?;
    fast.sync(&server)?;
    slow.sync(&server)?;

    // Offline, neither seeing the other: one approves, the other returns it.
    fast.device.record_review(&app, EventKind::Approved, "")?;
    slow.device
        .record_review(&app, EventKind::Returned, "请核对户名")?;
    fast.sync(&server)?;
    slow.sync(&server)?;
    fast.sync(&server)?;
    volunteer.sync(&server)?;
    // No clock and no list order chose one: every tablet shows it waiting again, with
    // both decisions named.
    for d in [&volunteer, &fast, &slow] {
        let read = d.device.application(&app)?;
        assert_eq!(read.status, Status::Submitted);
        let mut kinds: Vec<EventKind> = read.disputed.iter().map(|e| e.kind).collect();
        kinds.sort_by_key(|k| k.as_str());
        assert_eq!(kinds, [EventKind::Approved, EventKind::Returned]);
    }
    let view = fast.device.application_view(&app, None)?;
    assert_eq!(view.disputed.len(), 2);
    assert!(!view.decisions.is_empty(), "a supervisor may settle it");

    // A supervisor settles it; everyone follows.
    fast.device
        .record_review(&app, EventKind::Returned, "请核对户名")?;
    fast.sync(&server)?;
    slow.sync(&server)?;
    volunteer.sync(&server)?;
    for d in [&volunteer, &fast, &slow] {
        let read = d.device.application(&app)?;
        assert_eq!(read.status, Status::Returned);
        assert!(read.disputed.is_empty());
    }
    Ok(())
}
