//! The supervisor's console against a real server: a supervisor of two committees reads
//! the log entry by entry down to the fields each change wrote, filters it by volunteer
//! and committee, sees each chain's state (and where a tampered one breaks), decides on
//! applications that reach the volunteer by sync, lists devices with their last sync,
//! revokes a lost one, and imports a roster into one of their committees.

use doorstep_core::application::{EventKind, Status};
use doorstep_core::id_number::IdNumber;
use doorstep_core::key_roster::Signed;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_device::LogFilter;
use doorstep_device::roster::{self, Format};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, server_db};
use doorstep_tests::signed::SignAs;

fn resident(n: u32) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁"][n as usize % 4]),
        id_number: IdNumber::complete(&format!("110105194001{:02}{:03}", 1 + n % 28, n % 1000))
            .expect("17 digits"),
        ..ResidentInput::default()
    }
}

fn device_id(d: &TestDevice) -> String {
    d.device
        .enrollment()
        .ok()
        .flatten()
        .map(|e| e.device_id)
        .unwrap_or_default()
}

#[test]
fn a_supervisor_follows_the_log_to_each_field_and_decides_by_sync() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "c2", "volunteer", "测试志愿者乙")?;
    let mut sup = TestDevice::enrolled_in(&server, &["c1", "c2"], "supervisor", "测试主任")?;

    // A fills in and submits an allowance application in c1; B registers someone in c2.
    let (_, app) = a.submitted_allowance(&resident(1))?;
    a.sync(&server)?;
    b.device.register_resident(&resident(2))?;
    b.sync(&server)?;
    sup.sync(&server)?;

    // The log, newest first, filtered by volunteer and by committee.
    let by_a = sup.device.log_page(&LogFilter {
        volunteer: Some("测试志愿者甲".into()),
        ..LogFilter::default()
    })?;
    assert_eq!(by_a.entries.len(), 1);
    let entry = &by_a.entries[0];
    assert_eq!((entry.committee.as_str(), entry.seq), ("c1", 1));
    let records = sup.device.log_entry_records(entry)?;
    assert_eq!(
        records.len(),
        3,
        "the resident, her authorization and the application"
    );
    let application = records
        .iter()
        .find(|r| r.kind == "application")
        .expect("the application");
    assert!(application.present && application.missing.is_empty());
    assert_eq!(application.resident_name, resident(1).name);
    let account = application
        .changes
        .iter()
        .flat_map(|c| c.fields.iter().map(move |f| (c, f)))
        .find(|(_, f)| f.field == "fields.bank_account")
        .expect("the account's change");
    assert_eq!(account.1.from, None);
    // An account is a personal number: the log shows that it was written, masked.
    assert_eq!(
        account.1.to,
        Some(FieldValue::Text("************2222".into()))
    );
    assert_eq!(account.0.author.volunteer, "测试志愿者甲");
    assert!(account.0.author.at > 0);
    // Every change says whose key signed it, verified against the server's roster.
    for record in &records {
        for change in &record.changes {
            assert_eq!(change.signed, Signed::Author, "{}", record.kind);
            assert_eq!(change.signer, "测试志愿者甲 (test tablet)");
        }
    }
    assert!(
        application
            .changes
            .iter()
            .any(|c| c.author.what == "submitted")
    );
    // ID numbers and phones show masked in the log.
    let resident_record = records
        .iter()
        .find(|r| r.kind == "resident")
        .expect("the resident");
    let id_change = resident_record
        .changes
        .iter()
        .flat_map(|c| c.fields.iter())
        .find(|f| f.field == "id_number")
        .expect("the ID number was written");
    let shown = id_change
        .to
        .as_ref()
        .and_then(|v| v.as_text())
        .unwrap_or_default();
    assert!(shown.starts_with("**************"), "{shown}");
    let in_c2 = sup.device.log_page(&LogFilter {
        committee: Some("c2".into()),
        ..LogFilter::default()
    })?;
    assert!(in_c2.entries.iter().all(|e| e.committee == "c2"));
    assert!(!in_c2.entries.is_empty());
    let c1_only = sup.device.log_page(&LogFilter {
        committee: Some("c1".into()),
        device: Some(device_id(&b)),
        ..LogFilter::default()
    })?;
    assert!(c1_only.entries.is_empty());

    // The queue, a return with a comment that reaches A by sync, the fix, the approval.
    let queue = sup.device.review_queue(doorstep_device::now_ms())?;
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (queue[0].id.clone(), queue[0].committee.as_str()),
        (app.clone(), "c1")
    );
    sup.device
        .record_review(&app, EventKind::Returned, "请补充银行卡开户行")?;
    sup.sync(&server)?;
    a.sync(&server)?;
    let on_a = a.device.application(&app)?;
    assert_eq!(on_a.status, Status::Returned);
    assert_eq!(
        on_a.events.last().map(|e| e.text.as_str()),
        Some("请补充银行卡开户行")
    );
    a.device.set_application_field(
        &app,
        "bank_account",
        &FieldValue::Text("6222000011113333".into()),
    )?;
    a.device.submit_application(&app)?;
    a.sync(&server)?;
    sup.sync(&server)?;
    assert_eq!(sup.device.review_queue(doorstep_device::now_ms())?.len(), 1);
    sup.device.record_review(&app, EventKind::Approved, "")?;
    sup.sync(&server)?;
    a.sync(&server)?;
    assert_eq!(a.device.application(&app)?.status, Status::Approved);
    let overview = sup.device.overview(doorstep_device::today_china())?;
    let committees: Vec<(&str, u64)> = overview
        .residents
        .iter()
        .map(|(c, n)| (c.as_str(), *n))
        .collect();
    assert_eq!(committees, [("c1", 1), ("c2", 1)]);

    // Both chains hold; a tampered entry is named with its committee and place.
    let states = sup.device.chain_states()?;
    assert_eq!(states.len(), 2);
    assert!(states.iter().all(|s| s.broken.is_none() && s.entries > 0));
    server_db(&server.data_dir)?.execute(
        "UPDATE log SET body = replace(body, '测试志愿者甲', '测试志愿者丙')
         WHERE committee_id = 'c1' AND seq = 1",
    )?;
    let states = sup.device.chain_states()?;
    let c1 = states.iter().find(|s| s.committee == "c1").expect("c1");
    assert_eq!(c1.broken.as_ref().map(|b| b.seq), Some(1));
    let c2 = states.iter().find(|s| s.committee == "c2").expect("c2");
    assert!(c2.broken.is_none());

    // A volunteer's device has no console.
    let err = a
        .device
        .chain_states()
        .expect_err("volunteers do not read the chain");
    assert_eq!(err.code(), "not_supervisor");
    let raw = doorstep_tests::raw_client()
        .get(server.url("/v1/devices"))
        .sign_as(&a.token()?, "GET", "/v1/devices", b"")
        .send()?;
    assert_eq!(raw.status(), 403);
    Ok(())
}

#[test]
fn a_supervisor_lists_devices_and_revokes_a_lost_one() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    for c in ["c1", "c2", "c3"] {
        committee(&server, c)?;
    }
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let elsewhere = TestDevice::enrolled(&server, "c3", "volunteer", "测试志愿者丁")?;
    let sup = TestDevice::enrolled_in(&server, &["c1", "c2"], "supervisor", "测试主任")?;
    let narrow = TestDevice::enrolled(&server, "c1", "supervisor", "测试副主任")?;
    a.device.register_resident(&resident(1))?;
    a.sync(&server)?;

    let devices = sup.device.enrolled_devices()?;
    let ids: Vec<&str> = devices.iter().map(|d| d.device_id.as_str()).collect();
    assert!(ids.contains(&device_id(&a).as_str()));
    assert!(
        !ids.contains(&device_id(&elsewhere).as_str()),
        "not their committee"
    );
    let listed_a = devices
        .iter()
        .find(|d| d.device_id == device_id(&a))
        .expect("A listed");
    assert!(listed_a.last_sync_at.is_some());
    assert_eq!(listed_a.name, "测试志愿者甲");

    let code = |r: Result<_, doorstep_device::DeviceError>| {
        r.map(|_| "ok").unwrap_or_else(|e| e.code().as_str())
    };
    assert_eq!(
        code(sup.device.revoke_device(&device_id(&elsewhere))),
        "device_unknown"
    );
    assert_eq!(
        code(sup.device.revoke_device(&device_id(&sup))),
        "device_forbidden"
    );
    // A supervisor of c1 alone cannot revoke a device that also serves c2.
    assert_eq!(
        code(narrow.device.revoke_device(&device_id(&sup))),
        "device_forbidden"
    );
    assert_eq!(code(sup.device.revoke_device("../../etc")), "not_found");

    // The lost tablet: revoked, its next sync refused, its unsent work kept.
    a.device.register_resident(&resident(2))?;
    let revoked = sup.device.revoke_device(&device_id(&a))?;
    assert!(revoked.revoked_at.is_some());
    let err = a.sync(&server).expect_err("a revoked device cannot sync");
    let err = err.downcast::<doorstep_device::DeviceError>()?;
    assert_eq!(err.code(), "device_revoked");
    assert_eq!(a.device.sync_status()?.pending_docs, 1);
    let listed = sup.device.enrolled_devices()?;
    assert!(
        listed
            .iter()
            .any(|d| d.device_id == device_id(&a) && d.revoked_at.is_some())
    );
    Ok(())
}

#[test]
fn a_roster_imported_by_a_supervisor_reaches_its_committee_only() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let mut sup = TestDevice::enrolled_in(&server, &["c1", "c2"], "supervisor", "测试主任")?;
    let mut in_c1 = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut in_c2 = TestDevice::enrolled(&server, "c2", "volunteer", "测试志愿者乙")?;
    let mut csv = String::from("姓名,身份证号\n");
    for n in 0..5 {
        let r = resident(n);
        csv.push_str(&format!("{},{}\n", r.name, r.id_number));
    }
    let roster = roster::read_roster(csv.as_bytes(), Format::Csv)?;
    let err = sup
        .device
        .import_roster(&roster, None, &|_, _| {})
        .expect_err("two committees: say which");
    assert_eq!(err.code(), "committee_required");
    let err = sup
        .device
        .import_roster(&roster, Some("c9"), &|_, _| {})
        .expect_err("not theirs");
    assert_eq!(err.code(), "committee_not_yours");
    let report = sup.device.import_roster(&roster, Some("c2"), &|_, _| {})?;
    assert_eq!(report.added, 5);
    sup.sync(&server)?;
    in_c1.sync(&server)?;
    in_c2.sync(&server)?;
    assert_eq!(in_c2.device.list_residents()?.len(), 5);
    assert!(in_c1.device.list_residents()?.is_empty());
    Ok(())
}
