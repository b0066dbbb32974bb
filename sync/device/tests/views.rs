//! What the window is given: records with personal numbers masked unless the PIN was
//! given for that view, the names they refer to, what blocks an application; and the
//! start screen's and consent screen's rules, which the device keeps (not the shell).

use doorstep_core::catalog::Sensitive;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::{EmergencyContact, ResidentInput};
use doorstep_core::value::FieldValue;
use doorstep_device::DeviceError;

mod common;
use common::open_dir;

const PIN: &str = "975310";

fn field_code(err: &DeviceError) -> Option<(Option<String>, &'static str)> {
    err.field_errors()
        .and_then(|f| f.0.first())
        .map(|e| (e.key.clone(), e.code.as_str()))
}

#[test]
fn personal_numbers_reach_the_window_masked_unless_the_pin_is_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_pin_as(PIN, "测试志愿者").expect("pin");
    let id_number = IdNumber::complete("11010119450815001").expect("17 digits");
    let resident = device
        .register_resident(&ResidentInput {
            name: "测试老人".into(),
            id_number: id_number.clone(),
            phone: "13800138000".into(),
            emergency: EmergencyContact {
                name: "测试女儿".into(),
                phone: "07901234321".into(),
                relation: "女儿".into(),
            },
            ..ResidentInput::default()
        })
        .expect("register")
        .id;

    let masked = device.resident_view(&resident, None).expect("view");
    assert!(!masked.revealed);
    assert_eq!(
        masked.id_number,
        format!("{}{}", "*".repeat(14), &id_number[14..])
    );
    assert_eq!(masked.phone, "138****8000");
    assert_eq!(masked.emergency.phone, "0790-***4321");
    let err = device
        .resident_view(&resident, Some("000000"))
        .expect_err("wrong pin");
    assert_eq!(err.code(), "pin_wrong");
    let whole = device
        .resident_view(&resident, Some(PIN))
        .expect("revealed");
    assert!(whole.revealed);
    assert_eq!(
        (whole.id_number.as_str(), whole.phone.as_str()),
        (id_number.as_str(), "13800138000")
    );

    let app = device
        .start_application(&resident, "pension_certification")
        .expect("start");
    device
        .set_application_field(
            &app,
            "pension_account",
            &FieldValue::Text("6222000033334444".into()),
        )
        .expect("account");
    let view = device.application_view(&app, None).expect("view");
    assert_eq!(view.resident_name, "测试老人");
    assert_eq!(
        view.fields.get("pension_account"),
        Some(&FieldValue::Text("************4444".into()))
    );
    assert!(view.own_work, "this device started it");
    // What blocks it comes with it: the photo, her consent, her authorization.
    let blockers: Vec<&str> = view.blockers.0.iter().map(|e| e.code.as_str()).collect();
    for code in ["required", "consent_missing", "authorization_missing"] {
        assert!(blockers.contains(&code), "{code} in {blockers:?}");
    }
    let shown = device.application_view(&app, Some(PIN)).expect("revealed");
    assert_eq!(
        shown.fields.get("pension_account"),
        Some(&FieldValue::Text("6222000033334444".into()))
    );
    let rows = device.application_rows(Some(&resident)).expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].resident_name, "测试老人");
}

#[test]
fn a_device_not_enrolled_takes_the_volunteers_name_with_the_pin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    let err = device.set_pin_as(PIN, "  ").expect_err("no name");
    assert_eq!(field_code(&err), Some((None, "name_empty")));
    assert!(!device.has_pin().expect("pin?"), "nothing was set");
    device.set_pin_as(PIN, " 测试志愿者 ").expect("with a name");
    assert_eq!(device.volunteer(), "测试志愿者");
    assert!(device.has_pin().expect("pin?"));
}

#[test]
fn consent_is_recorded_by_its_name_with_the_drawn_signature() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer("测试志愿者").expect("volunteer");
    let resident = device
        .register_resident(&ResidentInput {
            name: "测试老人".into(),
            id_number: IdNumber::complete("11010119450815001").expect("17 digits"),
            ..ResidentInput::default()
        })
        .expect("register")
        .id;
    let app = device
        .start_application(&resident, "pension_certification")
        .expect("start");
    let err = device
        .record_consent_signed(&app, "colour", true, Some(b"synthetic signature"))
        .expect_err("no such kind");
    assert_eq!(
        field_code(&err),
        Some((Some("colour".into()), "consent_not_needed"))
    );
    let err = device
        .record_consent_signed(&app, "face", true, None)
        .expect_err("agreeing needs a signature");
    assert_eq!(field_code(&err), Some((None, "signature_missing")));
    device
        .record_consent_signed(&app, "face", true, Some(b"synthetic signature"))
        .expect("agreed");
    let view = device.application_view(&app, None).expect("view");
    let consent = view
        .events
        .iter()
        .find_map(|e| e.consent.as_ref())
        .expect("a consent event");
    assert!(consent.agreed);
    assert_eq!(
        device.blob(&consent.signature).expect("signature stored"),
        b"synthetic signature"
    );
    assert!(
        !view.blockers.0.iter().any(|e| e.code == "consent_missing"),
        "she was asked"
    );
    // What resident mode asks and what she decided, as the device reads them.
    assert_eq!(view.sensitive_kinds, [Sensitive::Face]);
    assert_eq!(view.consents.get(&Sensitive::Face), Some(&true));
    device
        .record_consent_signed(&app, "face", false, None)
        .expect("she changed her mind");
    let view = device.application_view(&app, None).expect("view");
    assert_eq!(view.consents.get(&Sensitive::Face), Some(&false));
}

#[test]
fn the_device_reads_the_time_from_its_clock() {
    use std::sync::Arc;

    use doorstep_device::clock::SetClock;

    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer("测试志愿者").expect("volunteer");
    // 2026-11-30 17:30 UTC: 1 December 2026 in China.
    let clock = SetClock::at(1_796_059_800_000);
    device.set_clock(Arc::new(clock.clone()));
    assert_eq!(device.today(), (2026, 12, 1));
    let resident = device
        .register_resident(&ResidentInput {
            name: "测试老人".into(),
            id_number: IdNumber::complete("11010119450815001").expect("17 digits"),
            ..ResidentInput::default()
        })
        .expect("register")
        .id;
    let history = device.history(&resident).expect("history");
    assert_eq!(
        history[0].author.at, 1_796_059_800_000,
        "stamped by the clock"
    );

    // Her authorization runs a year from the clock's today, and stops covering when the
    // clock passes its end.
    common::authorize(&mut device, &resident, &["pension_certification"]);
    let app = device
        .start_application(&resident, "pension_certification")
        .expect("start");
    let covered = |device: &doorstep_device::Device| {
        !device
            .submit_blockers(&app)
            .expect("blockers")
            .0
            .iter()
            .any(|e| e.code == "authorization_missing")
    };
    assert!(covered(&device));
    clock.advance(731 * 24 * 3_600_000);
    assert_eq!(device.today(), (2028, 12, 1));
    assert!(
        !covered(&device),
        "an authorization two years old covers nothing"
    );
}
