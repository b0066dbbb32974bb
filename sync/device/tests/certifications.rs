//! The yearly pension certification of each resident, on one fixed day and as the months
//! turn: the window from the last certification (filed with its government reference,
//! or recorded by a volunteer) or from the birthday month; done, due, overdue; the
//! residents to visit; the overview's counts; the resident's page; and a database from
//! before the certification columns filled in when it is opened.

use std::sync::Arc;

use doorstep_core::DocId;
use doorstep_core::application::{EventKind, Status};
use doorstep_core::certification::{CertificationState, CertifiedBy};
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::clock::SetClock;
use doorstep_device::{CertificationView, Device};
use tempfile::TempDir;

mod common;
use common::{open_dir, pension_application, raw_db, review};

/// Noon in China (04:00 UTC) on a day, as milliseconds since the epoch.
fn noon(y: u32, m: u32, d: u32) -> i64 {
    let days = doorstep_core::date::days_from_civil((y, m, d));
    days * 86_400_000 + 4 * 3_600_000
}

fn open(volunteer: &str, clock: &SetClock) -> (TempDir, Device) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_clock(Arc::new(clock.clone()));
    device.set_volunteer(volunteer).expect("volunteer");
    (dir, device)
}

/// A synthetic resident born on `birth` (`YYYYMMDD`).
fn register(device: &mut Device, name: &str, birth: &str, serial: u32) -> DocId {
    let input = ResidentInput {
        name: name.into(),
        id_number: IdNumber::complete(&format!("110105{birth}{serial:03}")).expect("17 digits"),
        ..ResidentInput::default()
    };
    device.register_resident(&input).expect("register").id
}

fn of<'a>(list: &'a [CertificationView], name: &str) -> Option<&'a CertificationView> {
    list.iter().find(|c| c.resident_name == name)
}

fn summary(c: &CertificationView) -> (CertificationState, &str, &str) {
    (c.state, c.due_from.as_str(), c.due_by.as_str())
}

#[test]
fn each_residents_year_follows_the_last_certification_or_the_birthday_month() {
    let clock = SetClock::at(noon(2026, 12, 10));
    let (_dir, mut device) = open("测试志愿者", &clock);
    let (_sdir, mut sup) = open("测试主管", &clock);

    // No certification known, born in March: due in the year from March 2026.
    let none_known = register(&mut device, "测试甲", "19500315", 1);
    pension_application(&mut device, &none_known, None);
    // Recorded in February: done until February 2027.
    let recorded = register(&mut device, "测试乙", "19500320", 2);
    pension_application(&mut device, &recorded, Some("2026-02-05"));
    // Recorded last December: due this month.
    let due = register(&mut device, "测试丙", "19510601", 3);
    pension_application(&mut device, &due, Some("2025-12-01"));
    // Recorded in October last year: overdue since November.
    let overdue = register(&mut device, "测试丁", "19520707", 4);
    pension_application(&mut device, &overdue, Some("2025-10-31"));
    // Filed today with the government's reference: done, the next in December 2027.
    let filed = register(&mut device, "测试戊", "19530808", 5);
    let app = pension_application(&mut device, &filed, Some("2025-12-03"));
    device.submit_application(&app).expect("submit");
    review(&mut sup, &mut device, &app, EventKind::Approved, "").expect("approve");
    // Approved but not yet filed: the window stays open.
    let (y, m, d) = device.today();
    assert_eq!((y, m, d), (2026, 12, 10));
    let approved = register(&mut device, "测试己", "19540909", 6);
    let approved_app = pension_application(&mut device, &approved, Some("2025-12-03"));
    device.submit_application(&approved_app).expect("submit");
    review(
        &mut sup,
        &mut device,
        &approved_app,
        EventKind::Approved,
        "",
    )
    .expect("approve");
    // Only a rejected application (not a pensioner): not followed. No application at
    // all: not followed.
    let rejected = register(&mut device, "测试庚", "19550505", 7);
    let rejected_app = pension_application(&mut device, &rejected, None);
    device.submit_application(&rejected_app).expect("submit");
    review(
        &mut sup,
        &mut device,
        &rejected_app,
        EventKind::Rejected,
        "不领取养老金",
    )
    .expect("reject");
    register(&mut device, "测试辛", "19560606", 8);
    // Filing happens on the supervisor's device and comes back by sync.
    review(
        &mut sup,
        &mut device,
        &app,
        EventKind::Filed,
        " GOV-2026-0001 ",
    )
    .expect("filed");

    let all = device
        .certifications(device.today())
        .expect("certifications");
    let names: Vec<&str> = all.iter().map(|c| c.resident_name.as_str()).collect();
    // Overdue first, then due by the end of the window, then done.
    assert_eq!(
        names,
        ["测试丁", "测试丙", "测试己", "测试甲", "测试乙", "测试戊"],
        "{all:#?}"
    );
    let get = |name: &str| of(&all, name).expect(name);
    assert_eq!(
        summary(get("测试甲")),
        (CertificationState::Due, "2026-03-01", "2027-02-28")
    );
    assert!(!get("测试甲").from_last);
    assert_eq!(get("测试甲").last_certified, None);
    assert_eq!(get("测试甲").application_status, Some(Status::Draft));
    assert_eq!(
        summary(get("测试乙")),
        (CertificationState::Done, "2027-02-01", "2027-02-28")
    );
    assert_eq!(get("测试乙").certified_by, Some(CertifiedBy::Recorded));
    assert_eq!(
        summary(get("测试丙")),
        (CertificationState::Due, "2026-12-01", "2026-12-31")
    );
    assert_eq!(
        summary(get("测试丁")),
        (CertificationState::Overdue, "2026-10-01", "2026-10-31")
    );
    let done = get("测试戊");
    assert_eq!(
        summary(done),
        (CertificationState::Done, "2027-12-01", "2027-12-31")
    );
    assert_eq!(
        (
            done.certified_by,
            done.last_certified.as_deref(),
            done.reference.as_str()
        ),
        (
            Some(CertifiedBy::Filed),
            Some("2026-12-10"),
            "GOV-2026-0001"
        )
    );
    assert_eq!(done.application, None, "nothing under way once filed");
    let open = get("测试己");
    assert_eq!(summary(open).0, CertificationState::Due);
    assert_eq!(
        (open.application.as_ref(), open.application_status),
        (Some(&approved_app), Some(Status::Approved))
    );

    // To visit: all but the done ones, in the same order.
    let visit: Vec<String> = device
        .certifications_to_visit(device.today())
        .expect("to visit")
        .into_iter()
        .map(|c| c.resident_name)
        .collect();
    assert_eq!(visit, ["测试丁", "测试丙", "测试己", "测试甲"]);

    // The supervisor's overview counts them per committee and state (the supervisor's
    // device holds the applications it reviewed and the residents' names it was sent).
    let overview = device.overview(device.today()).expect("overview");
    let count = |state: CertificationState| {
        overview
            .certification_counts
            .iter()
            .filter(|c| c.state == state)
            .map(|c| c.count)
            .sum::<u64>()
    };
    assert_eq!(
        (
            count(CertificationState::Overdue),
            count(CertificationState::Due),
            count(CertificationState::Done)
        ),
        (1, 3, 2)
    );
    assert_eq!(overview.to_visit.len(), 4);

    // The resident's page says it too; a resident not followed has none.
    let page = device.resident_view(&filed, None).expect("page");
    assert_eq!(
        page.certification.map(|c| c.reference),
        Some("GOV-2026-0001".into())
    );
    assert!(
        device
            .resident_view(&rejected, None)
            .expect("page")
            .certification
            .is_none()
    );

    // A month on: the one due in December is overdue; the filed one is still done.
    clock.set(noon(2027, 1, 4));
    let later = device.certifications(device.today()).expect("later");
    assert_eq!(
        summary(of(&later, "测试丙").expect("丙")),
        (CertificationState::Overdue, "2026-12-01", "2026-12-31")
    );
    assert_eq!(
        of(&later, "测试戊").expect("戊").state,
        CertificationState::Done
    );
    // February 2027: the one recorded last February falls due.
    clock.set(noon(2027, 2, 1));
    let february = device.certifications(device.today()).expect("february");
    assert_eq!(
        summary(of(&february, "测试乙").expect("乙")),
        (CertificationState::Due, "2027-02-01", "2027-02-28")
    );
    // March 2027: the one without a record opens a new year from her birthday month.
    clock.set(noon(2027, 3, 1));
    let march = device.certifications(device.today()).expect("march");
    assert_eq!(
        summary(of(&march, "测试甲").expect("甲")),
        (CertificationState::Due, "2027-03-01", "2028-02-29")
    );
}

#[test]
fn a_database_from_before_the_certification_columns_fills_them_when_opened() {
    let clock = SetClock::at(noon(2026, 12, 10));
    let (dir, mut device) = open("测试志愿者", &clock);
    let (_sdir, mut sup) = open("测试主管", &clock);
    let resident = register(&mut device, "测试甲", "19500315", 1);
    let app = pension_application(&mut device, &resident, Some("2026-01-20"));
    device.submit_application(&app).expect("submit");
    review(&mut sup, &mut device, &app, EventKind::Approved, "").expect("approve");
    review(&mut sup, &mut device, &app, EventKind::Filed, "GOV-1").expect("filed");
    drop(device);

    // As a build before migration 11 left it: the columns empty, and the migration's
    // request to fill them.
    {
        let db = raw_db(dir.path());
        db.conn()
            .execute_batch(
                "UPDATE applications SET filed_on = NULL, reference = '',
                                         last_certified_on = NULL;
                 INSERT INTO meta (key, value) VALUES ('reproject_applications', x'01');",
            )
            .expect("as before");
    }
    let mut device = open_dir(dir.path()).expect("reopen");
    device.set_clock(Arc::new(clock.clone()));
    let all = device
        .certifications(device.today())
        .expect("certifications");
    assert_eq!(all.len(), 1);
    assert_eq!(
        (
            all[0].state,
            all[0].last_certified.as_deref(),
            all[0].reference.as_str()
        ),
        (CertificationState::Done, Some("2026-12-10"), "GOV-1")
    );
    drop(device);
    let db = raw_db(dir.path());
    let asked: i64 = db
        .conn()
        .query_row(
            "SELECT count(*) FROM meta WHERE key = 'reproject_applications'",
            [],
            |r| r.get(0),
        )
        .expect("meta");
    assert_eq!(asked, 0, "done once");
}
