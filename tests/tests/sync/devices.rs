//! Two or more enrolled devices converging through the server.

use doorstep_core::DocId;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{COMMITTEE_PHONE, TestDevice, committee};

fn resident(name: &str, first17: &str, phone: &str) -> ResidentInput {
    ResidentInput {
        name: name.into(),
        id_number: IdNumber::complete(first17).expect("17 digits"),
        phone: phone.into(),
        ..ResidentInput::default()
    }
}

/// The heads of a record on a device: equal heads, identical documents.
fn heads(d: &TestDevice, id: &DocId) -> anyhow::Result<Vec<automerge::ChangeHash>> {
    let mut doc = automerge::AutoCommit::load(&d.device.export_record(id)?)?;
    let mut heads = doc.get_heads();
    heads.sort();
    Ok(heads)
}

#[test]
fn two_devices_converge_and_a_conflict_is_resolved_everywhere() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    // The person the code was made for signs the device's work from enrollment on, and
    // the committee's phone comes with it (for residents' receipts).
    assert_eq!(
        (a.device.volunteer(), b.device.volunteer()),
        ("测试志愿者甲", "测试志愿者乙")
    );
    let enrollment = a.device.enrollment()?.expect("enrolled");
    assert_eq!(enrollment.committees[0].phone, COMMITTEE_PHONE);
    // A phone that is not one is refused when the committee is added.
    assert!(
        doorstep_tests::admin(
            &server.data_dir,
            &[
                "committee",
                "add",
                "--id",
                "c9",
                "--name",
                "测试",
                "--phone",
                "12345"
            ],
        )
        .is_err()
    );

    // A works offline, then syncs: one round trip carries the record.
    let form = resident("测试老人", "11010519400101001", "13800138000");
    let id = a.device.register_resident(&form)?.id;
    assert_eq!(a.device.sync_status()?.pending_docs, 1);
    let up = a.sync(&server)?;
    assert_eq!((up.sent_docs, up.round_trips), (1, 1));
    assert!(up.accepted_changes >= 1);
    assert_eq!(a.device.sync_status()?.pending_docs, 0);

    // B receives it.
    let down = b.sync(&server)?;
    assert_eq!((down.received_docs, down.sent_docs), (1, 0));
    assert_eq!(b.device.resident(&id)?.phone, "13800138000");

    // Both change the phone offline; after both sync, both hold the conflict.
    let mut on_a = form.clone();
    on_a.phone = "13900000001".into();
    a.device.update_resident(&id, &on_a)?;
    let mut on_b = form.clone();
    on_b.phone = "13900000002".into();
    b.device.update_resident(&id, &on_b)?;
    a.sync(&server)?;
    let b_report = b.sync(&server)?;
    assert_eq!(b_report.new_conflicts.len(), 1);
    assert_eq!(b_report.new_conflicts[0].fields, ["phone"]);
    let a_report = a.sync(&server)?;
    assert_eq!(a_report.new_conflicts[0].fields, ["phone"]);
    for d in [&a, &b] {
        let conflicts = d.device.conflicts(&id)?;
        assert_eq!(conflicts.len(), 1);
        let mut values: Vec<String> = conflicts[0]
            .values
            .iter()
            .filter_map(|v| v.value.as_text().map(str::to_owned))
            .collect();
        values.sort();
        assert_eq!(values, ["13900000001", "13900000002"]);
        assert!(conflicts[0].values.iter().all(|v| v.author.is_some()));
    }

    // B resolves; A sees the resolution after its next sync.
    b.device
        .resolve_conflict(&id, "phone", &FieldValue::Text("13900000002".into()))?;
    b.sync(&server)?;
    a.sync(&server)?;
    assert!(a.device.conflicts(&id)?.is_empty());
    assert_eq!(a.device.resident(&id)?.phone, "13900000002");
    assert_eq!(heads(&a, &id)?, heads(&b, &id)?);

    // Nothing left to send, and a further sync moves nothing.
    let idle = a.sync(&server)?;
    assert_eq!((idle.sent_docs, idle.received_docs), (0, 0));

    // The server counted what happened, and says so on its metrics address only.
    let api = doorstep_tests::raw_client()
        .get(server.url("/metrics"))
        .send()?;
    assert_eq!(api.status(), 404, "metrics are not served beside the API");
    let metrics = doorstep_tests::raw_client()
        .get(server.metrics_url())
        .send()?
        .text()?;
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    };
    assert_eq!(
        value("doorstep_syncs_total{outcome=\"ok\"}"),
        8.0,
        "{metrics}"
    );
    assert!(value("doorstep_changes_accepted_total") >= 4.0, "{metrics}");
    assert!(
        value("doorstep_sync_duration_seconds_count") >= 8.0,
        "{metrics}"
    );
    Ok(())
}

#[test]
fn a_device_enrolled_before_codes_named_it_takes_the_name_when_opened() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者丙")?;
    let TestDevice { mut device, dir } = a;
    // As the app left a device enrolled from the environment: enrolled, no name kept.
    device.set_volunteer("")?;
    drop(device);
    let reopened = doorstep_device::Device::open(dir.path())?;
    assert_eq!(reopened.volunteer(), "测试志愿者丙");
    Ok(())
}
