//! Applications, attachments and authorizations through the device API.
//!
//! - authorizations need a stored signature and a sensible period; revoking is recorded
//! - applications: eligibility, typed form fields checked against the catalog, required
//!   fields and attachments at submission, the review cycle, locking after submission
//! - attachments are stored once by content hash and size-limited
//! - two replicas: concurrent attachments are both kept; concurrent field values conflict

use doorstep_core::application::{EventKind, Status};
use doorstep_core::authorization::AuthorizationInput;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_core::{DocId, Field};
use doorstep_device::ErrorCode;
use doorstep_device::{Device, MAX_ATTACHMENT_BYTES, today_china};
use tempfile::TempDir;

mod common;
use common::{authorize, consent, jpeg, jpeg_of, open_dir, raw_db, review};

fn resident(device: &mut Device, name: &str, first17: &str) -> DocId {
    let input = ResidentInput {
        name: name.into(),
        id_number: IdNumber::complete(first17).expect("17 digits"),
        ..ResidentInput::default()
    };
    device.register_resident(&input).expect("register").id
}

fn open(volunteer: &str) -> (TempDir, Device) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer(volunteer).expect("volunteer");
    (dir, device)
}

fn text(t: &str) -> FieldValue {
    FieldValue::Text(t.into())
}

fn field_code(err: &doorstep_device::DeviceError) -> Option<(Option<String>, &'static str)> {
    err.field_errors()
        .and_then(|f| f.0.first())
        .map(|e| (e.key.clone(), e.code.as_str()))
}

fn date_after(years: u32) -> String {
    let (y, m, d) = today_china();
    format!("{:04}-{:02}-{:02}", y + years, m, d.min(28))
}

#[test]
fn an_authorization_needs_a_stored_signature_and_a_valid_period() {
    let (_dir, mut device) = open("志愿者");
    let r = resident(&mut device, "测试", "11010119450815001");
    let mut input = AuthorizationInput {
        services: vec!["senior_allowance".into()],
        valid_from: date_after(0),
        valid_to: date_after(1),
        signature: "0".repeat(64),
    };
    let err = device
        .record_authorization(&r, &input)
        .expect_err("no blob");
    assert_eq!(field_code(&err), Some((None, "signature_missing")));

    input.signature = device
        .store_blob(b"synthetic signature strokes")
        .expect("blob");
    let mut bad = input.clone();
    bad.valid_to = date_after(9);
    bad.services = vec!["no_such_service".into()];
    let err = device.record_authorization(&r, &bad).expect_err("bad");
    let fields = err.field_errors().expect("fields");
    assert_eq!(
        fields.code_for(Field::Services),
        Some(ErrorCode::ServiceUnknown)
    );
    assert_eq!(
        fields.code_for(Field::ValidTo),
        Some(ErrorCode::PeriodTooLong)
    );

    let id = device.record_authorization(&r, &input).expect("record");
    let list = device.authorizations_of(&r).expect("list");
    assert_eq!(list.len(), 1);
    assert!(list[0].1.covers("senior_allowance", today_china()));
    assert!(!list[0].1.covers("medical_insurance", today_china()));
    device.revoke_authorization(&id).expect("revoke");
    let (_, revoked) = &device.authorizations_of(&r).expect("list")[0];
    assert!(revoked.revoked && !revoked.covers("senior_allowance", today_china()));
    let last = device.history(&id).expect("history").pop().expect("entry");
    assert_eq!(last.author.what, "revoke_authorization");
}

#[test]
fn an_application_goes_from_draft_through_review_to_filed() {
    let (_dir, mut device) = open("志愿者甲");
    let (_sdir, mut sup) = open("主管乙");
    let young = resident(&mut device, "测试青", "32010620000229456");
    let err = device
        .start_application(&young, "senior_allowance")
        .expect_err("26 years old");
    assert_eq!(err.code(), "not_eligible");
    assert_eq!(
        device
            .start_application(&young, "nope")
            .expect_err("unknown")
            .code(),
        "service_unknown"
    );

    let old = resident(&mut device, "测试老", "11010119450815001");
    let app = device
        .start_application(&old, "senior_allowance")
        .expect("start");
    assert_eq!(
        device.application(&app).expect("read").status,
        Status::Draft
    );

    // Every field is checked against the catalog.
    let err = device
        .set_application_field(&app, "bank_account", &FieldValue::Int(5))
        .expect_err("wrong type");
    assert_eq!(
        field_code(&err),
        Some((Some("bank_account".into()), "wrong_type"))
    );
    let err = device
        .set_application_field(&app, "bank_account", &text(&"9".repeat(31)))
        .expect_err("too long");
    assert_eq!(
        field_code(&err),
        Some((Some("bank_account".into()), "text_too_long"))
    );
    assert_eq!(
        device
            .set_application_field(&app, "no_such_field", &text("x"))
            .expect_err("unknown")
            .code(),
        "service_unknown"
    );

    // Submitting lists everything still missing, the resident's authorization too: one
    // for another service does not cover this one.
    authorize(&mut device, &old, &["pension_certification"]);
    let err = device.submit_application(&app).expect_err("incomplete");
    let mut missing: Vec<String> = err
        .field_errors()
        .expect("fields")
        .0
        .iter()
        .map(|e| e.key.clone().expect("key"))
        .collect();
    missing.sort();
    assert_eq!(
        missing,
        [
            "account_holder",
            "bank_account",
            "bank_card_photo",
            "household_registered_here",
            "senior_allowance"
        ]
    );
    authorize(&mut device, &old, &["senior_allowance"]);

    device
        .set_application_field(&app, "bank_account", &text("6222000000000000"))
        .expect("set");
    device
        .set_application_field(&app, "account_holder", &text("测试老"))
        .expect("set");
    device
        .set_application_field(&app, "household_registered_here", &FieldValue::Bool(true))
        .expect("set");
    let photo = jpeg(b"synthetic photo bytes");
    let sha = device
        .attach_file(&app, "bank_card_photo", "card.jpg", &photo)
        .expect("attach");
    assert_eq!(device.blob(&sha).expect("blob"), photo);
    assert_eq!(
        device.submit_application(&app).expect("submit"),
        Status::Submitted
    );

    // Submitted: locked for the volunteer.
    let err = device
        .set_application_field(&app, "account_holder", &text("改"))
        .expect_err("locked");
    assert_eq!(err.code(), "application_locked");

    // The device that wrote it may not decide it.
    let err = device
        .record_review(&app, EventKind::Approved, "")
        .expect_err("own work");
    assert_eq!(err.code(), "own_work");
    let offered = device.application_view(&app, None).expect("view").decisions;
    assert!(offered.is_empty(), "nothing to judge offered: {offered:?}");

    // Returned with a comment, fixed, resubmitted, approved, filed.
    let err =
        review(&mut sup, &mut device, &app, EventKind::Returned, " ").expect_err("no comment");
    assert_eq!(field_code(&err), Some((None, "review_text_required")));
    assert_eq!(
        review(
            &mut sup,
            &mut device,
            &app,
            EventKind::Returned,
            "请补充户名"
        )
        .expect("return"),
        Status::Returned
    );
    device
        .set_application_field(&app, "account_holder", &text("测试老人"))
        .expect("fix");
    device.submit_application(&app).expect("resubmit");
    assert_eq!(
        review(&mut sup, &mut device, &app, EventKind::Approved, "").expect("approve"),
        Status::Approved
    );
    assert_eq!(
        review(
            &mut sup,
            &mut device,
            &app,
            EventKind::Filed,
            "GOV-2026-000123"
        )
        .expect("file"),
        Status::Filed
    );
    let read = device.application(&app).expect("read");
    let kinds: Vec<EventKind> = read.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Submitted,
            EventKind::Returned,
            EventKind::Submitted,
            EventKind::Approved,
            EventKind::Filed
        ]
    );
    assert_eq!(read.events[1].text, "请补充户名");
    assert_eq!(read.events[0].by, "志愿者甲");
    assert_eq!(read.events[1].by, "主管乙");
    let listed = device.list_applications(Some(&old)).expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "filed");
    assert!(
        device
            .list_applications(Some(&young))
            .expect("list")
            .is_empty()
    );
}

#[test]
fn a_supervisor_who_changed_an_application_may_not_decide_it() {
    let (_dir, mut device) = open("志愿者甲");
    let (_s1, mut sup) = open("主管乙");
    let (_s2, mut other) = open("主管丙");
    let old = resident(&mut device, "测试老", "11010119450815001");
    authorize(&mut device, &old, &["senior_allowance"]);
    let app = device
        .start_application(&old, "senior_allowance")
        .expect("start");
    for (key, value) in [
        ("bank_account", text("6222000000000000")),
        ("account_holder", text("测试老")),
        ("household_registered_here", FieldValue::Bool(true)),
    ] {
        device
            .set_application_field(&app, key, &value)
            .expect("set");
    }
    device
        .attach_file(&app, "bank_card_photo", "card.jpg", &jpeg(b"card"))
        .expect("attach");
    device.submit_application(&app).expect("submit");
    assert_eq!(
        review(&mut sup, &mut device, &app, EventKind::Approved, "").expect("approve"),
        Status::Approved
    );

    // The supervisor corrects the approved application himself: it goes back for review,
    // and not to him.
    sup.set_application_field(&app, "account_holder", &text("测试老人"))
        .expect("amend");
    assert_eq!(
        sup.application(&app).expect("read").status,
        Status::Submitted
    );
    let err = sup
        .record_review(&app, EventKind::Approved, "")
        .expect_err("his own change");
    assert_eq!(err.code(), "own_work");
    let offered = sup.application_view(&app, None).expect("view").decisions;
    assert!(offered.is_empty(), "offered {offered:?}");
    assert!(sup.application_view(&app, None).expect("view").own_work);

    // Another supervisor decides it.
    other
        .merge_record(&app, &sup.export_record(&app).expect("export"))
        .expect("merge");
    assert!(
        !other
            .application_view(&app, None)
            .expect("view")
            .decisions
            .is_empty()
    );
    assert_eq!(
        other
            .record_review(&app, EventKind::Approved, "")
            .expect("approve"),
        Status::Approved
    );
}

#[test]
fn attachments_are_stored_once_and_size_limited() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    let r = resident(&mut device, "测试", "11010119450815001");
    let a = device
        .start_application(&r, "medical_insurance")
        .expect("start");
    let b = device
        .start_application(&r, "minimum_living_allowance")
        .expect("start");
    let photo = jpeg_of(7, 200_000);
    let s1 = device
        .attach_file(&a, "id_card_photo", "id.jpg", &photo)
        .expect("attach a");
    let s2 = device
        .attach_file(&b, "household_register_photo", "hr.jpg", &photo)
        .expect("attach b");
    assert_eq!(s1, s2);

    let too_big = jpeg_of(0, MAX_ATTACHMENT_BYTES + 1);
    let err = device
        .attach_file(&a, "id_card_photo", "big.jpg", &too_big)
        .expect_err("too large");
    assert_eq!(err.code(), "attachment_too_large");
    assert_eq!(
        device
            .attach_file(&a, "id_card_photo", "empty.jpg", &[])
            .expect_err("empty")
            .code(),
        "attachment_empty"
    );
    let err = device
        .attach_file(&a, "selfie", "x.jpg", &jpeg(b"x"))
        .expect_err("slot");
    assert_eq!(
        field_code(&err),
        Some((Some("selfie".into()), "attachment_slot_unknown"))
    );

    // A file is what its bytes say, not what its name says: a PDF or a text renamed
    // .jpg is no photo, a PDF goes where documents are taken, and a PNG named .jpg is
    // stored as a PNG.
    let pdf = b"%PDF-1.7\nsynthetic proof of income".to_vec();
    for (app, slot, bytes, code) in [
        (&a, "id_card_photo", pdf.clone(), "attachment_not_photo"),
        (
            &a,
            "id_card_photo",
            b"synthetic text".to_vec(),
            "attachment_not_photo",
        ),
        (
            &b,
            "income_proof",
            b"PK\x03\x04zip".to_vec(),
            "attachment_not_photo_or_pdf",
        ),
    ] {
        let err = device
            .attach_file(app, slot, "x.jpg", &bytes)
            .expect_err("not a photo");
        assert_eq!(field_code(&err), Some((Some(slot.into()), code)));
    }
    device
        .attach_file(&b, "income_proof", "proof.pdf", &pdf)
        .expect("a pdf where documents are taken");
    device
        .attach_file(
            &b,
            "household_register_photo",
            "hr.jpg",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )
        .expect("a png");
    let kinds: Vec<(String, String)> = device
        .application(&b)
        .expect("read")
        .attachments
        .into_iter()
        .map(|x| (x.slot, x.mime))
        .collect();
    assert!(kinds.contains(&("income_proof".into(), "application/pdf".into())));
    assert!(kinds.contains(&("household_register_photo".into(), "image/png".into())));
    drop(device);

    let store = raw_db(dir.path());
    let conn = store.conn();
    let blobs: i64 = conn
        .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
        .expect("count");
    // The photo attached twice is stored once, beside the PDF and the PNG.
    assert_eq!(blobs, 3);
}

#[test]
fn two_devices_editing_one_application_keep_every_attachment_and_show_conflicts() {
    let (_da, mut a) = open("志愿者甲");
    let (_db, mut b) = open("志愿者乙");
    let r = resident(&mut a, "测试", "11010119450815001");
    let app = a.start_application(&r, "medical_insurance").expect("start");
    for id in [&r, &app] {
        b.merge_record(id, &a.export_record(id).expect("export"))
            .expect("merge");
    }
    a.attach_file(&app, "id_card_photo", "front.jpg", &jpeg(b"front"))
        .expect("attach a");
    b.attach_file(&app, "id_card_photo", "back.jpg", &jpeg(b"back"))
        .expect("attach b");
    a.set_application_field(&app, "insured_year", &FieldValue::Int(2027))
        .expect("a");
    b.set_application_field(&app, "insured_year", &FieldValue::Int(2028))
        .expect("b");
    let from_a = a.export_record(&app).expect("export");
    let from_b = b.export_record(&app).expect("export");
    a.merge_record(&app, &from_b).expect("merge");
    b.merge_record(&app, &from_a).expect("merge");

    for d in [&a, &b] {
        let read = d.application(&app).expect("read");
        let mut names: Vec<String> = read.attachments.iter().map(|x| x.name.clone()).collect();
        names.sort();
        assert_eq!(names, ["back.jpg", "front.jpg"]);
        let conflicts = d.conflicts(&app).expect("conflicts");
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, "fields.insured_year");
        assert_eq!(conflicts[0].values.len(), 2);
        assert!(d.list_applications(None).expect("list")[0].conflicted);
    }
    a.resolve_conflict(&app, "fields.insured_year", &FieldValue::Int(2027))
        .expect("resolve");
    assert!(a.conflicts(&app).expect("conflicts").is_empty());
}

#[test]
fn consent_is_asked_for_each_kind_of_sensitive_data_and_a_refusal_stops_that_part() {
    use doorstep_core::catalog::Sensitive;

    let (_dir, mut device) = open("志愿者甲");
    let old = resident(&mut device, "测试老", "11010119450815001");
    authorize(&mut device, &old, &["pension_certification"]);
    let app = device
        .start_application(&old, "pension_certification")
        .expect("start");
    device
        .set_application_field(&app, "pension_type", &text("resident"))
        .expect("type");
    device
        .set_application_field(&app, "pension_account", &text("6222000011112222"))
        .expect("account");
    device
        .set_application_field(&app, "lives_at_registered_address", &FieldValue::Bool(true))
        .expect("address");
    device
        .attach_file(&app, "face_photo", "face.jpg", &jpeg(b"not really a jpeg"))
        .expect("photo");

    // Not asked yet: nothing of that kind goes before she decides.
    let err = device.submit_application(&app).expect_err("not asked");
    assert_eq!(
        field_code(&err),
        Some((Some("face".into()), "consent_missing"))
    );

    // Only the kinds of data the service uses are asked about.
    let err = device
        .record_consent(&app, Sensitive::Disability, true, "")
        .expect_err("not used");
    assert_eq!(
        field_code(&err),
        Some((Some("disability".into()), "consent_not_needed"))
    );
    // Agreeing needs the resident's signature.
    let err = device
        .record_consent(&app, Sensitive::Face, true, &"0".repeat(64))
        .expect_err("no signature");
    assert_eq!(field_code(&err), Some((None, "signature_missing")));

    // Declined: the photo cannot go ahead, and submitting says so at the slot.
    device
        .record_consent(&app, Sensitive::Face, false, "")
        .expect("declined");
    let err = device.submit_application(&app).expect_err("declined");
    assert_eq!(
        field_code(&err),
        Some((Some("face_photo".into()), "consent_declined"))
    );

    // Asked again, the resident agrees and signs: the later decision counts, both are
    // kept among the events with their times.
    let signature = device.store_blob(b"signature strokes").expect("signature");
    device
        .record_consent(&app, Sensitive::Face, true, &signature)
        .expect("agreed");
    let read = device.application(&app).expect("read");
    let consents: Vec<(bool, i64)> = read
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Consent)
        .map(|e| (e.consent.as_ref().expect("consent").agreed, e.at))
        .collect();
    assert_eq!(consents.len(), 2);
    assert!(!consents[0].0 && consents[1].0 && consents[0].1 <= consents[1].1);
    assert_eq!(read.consent_for(Sensitive::Face), Some(true));
    assert_eq!(read.status, Status::Draft, "consent leaves the status");
    assert_eq!(
        device.submit_application(&app).expect("submitted"),
        Status::Submitted
    );
    // After submission the decision is part of the record and cannot be changed here.
    assert_eq!(
        device
            .record_consent(&app, Sensitive::Face, false, "")
            .expect_err("locked")
            .code(),
        "application_locked"
    );
}

#[test]
fn a_draft_keeps_exactly_what_was_typed_and_submission_waits_for_it_to_be_right() {
    let (dir, mut device) = open("志愿者甲");
    let old = resident(&mut device, "测试老", "11010119450815001");
    authorize(&mut device, &old, &["senior_allowance"]);
    let app = device
        .start_application(&old, "senior_allowance")
        .expect("start");
    // Half-typed: kept as typed, with its problem; the field has no value.
    assert_eq!(
        device
            .type_application_field(&app, "bank_account", &"9".repeat(31))
            .expect("kept"),
        Some(ErrorCode::TextTooLong)
    );
    assert_eq!(
        device
            .type_application_field(&app, "household_registered_here", "maybe")
            .expect("kept"),
        Some(ErrorCode::WrongType)
    );
    assert_eq!(
        device
            .type_application_field(&app, "account_holder", " 测试老 ")
            .expect("valid"),
        None
    );
    let typed = |d: &Device| -> Vec<(String, String, &'static str)> {
        d.typed_texts(&app)
            .expect("typed")
            .into_iter()
            .map(|t| (t.key, t.text, t.code.map_or("", ErrorCode::as_str)))
            .collect()
    };
    assert_eq!(
        typed(&device),
        [
            ("bank_account".into(), "9".repeat(31), "text_too_long"),
            (
                "household_registered_here".into(),
                "maybe".into(),
                "wrong_type"
            ),
        ]
    );
    // What was typed survives closing the device (a flat battery).
    drop(device);
    let mut device = open_dir(dir.path()).expect("reopen");
    assert_eq!(typed(&device).len(), 2);
    let read = device.application(&app).expect("read");
    assert!(!read.fields.iter().any(|(k, _)| k == "bank_account"));
    assert!(
        read.fields
            .iter()
            .any(|(k, v)| k == "account_holder" && *v == text("测试老"))
    );

    // Submission names every field still wrong, kept text included.
    device
        .attach_file(
            &app,
            "bank_card_photo",
            "card.jpg",
            &jpeg(b"synthetic card"),
        )
        .expect("attach");
    let err = device.submit_application(&app).expect_err("not yet");
    let fields = err.field_errors().expect("fields");
    let codes: Vec<(Option<String>, &str)> = fields
        .0
        .iter()
        .map(|e| (e.key.clone(), e.code.as_str()))
        .collect();
    assert!(
        codes.contains(&(Some("bank_account".into()), "required")),
        "{codes:?}"
    );

    // Finishing the typing turns the text into the value; then it goes.
    assert_eq!(
        device
            .type_application_field(&app, "bank_account", "6222000000000000")
            .expect("valid"),
        None
    );
    device
        .type_application_field(&app, "household_registered_here", "true")
        .expect("valid");
    assert!(typed(&device).is_empty());
    assert_eq!(
        device.submit_application(&app).expect("submit"),
        Status::Submitted
    );
}

#[test]
fn a_kept_text_that_is_not_required_still_stops_submission() {
    let (_dir, mut device) = open("志愿者甲");
    let old = resident(&mut device, "测试老", "11010119450815001");
    let app = device
        .start_application(&old, "pension_certification")
        .expect("start");
    for (key, value) in [
        ("pension_type", "resident"),
        ("pension_account", "6222000011112222"),
        ("lives_at_registered_address", "true"),
    ] {
        assert_eq!(
            device
                .type_application_field(&app, key, value)
                .expect("typed"),
            None
        );
    }
    device
        .attach_file(&app, "face_photo", "face.jpg", &jpeg(b"synthetic face"))
        .expect("attach");
    authorize(&mut device, &old, &["pension_certification"]);
    consent(&mut device, &app, doorstep_core::catalog::Sensitive::Face);
    // An optional date, half-typed.
    assert_eq!(
        device
            .type_application_field(&app, "last_certified_on", "2025-13-")
            .expect("kept"),
        Some(ErrorCode::DateInvalid)
    );
    let err = device
        .submit_application(&app)
        .expect_err("fix the date first");
    assert_eq!(
        field_code(&err),
        Some((Some("last_certified_on".into()), "date_invalid"))
    );
    device
        .type_application_field(&app, "last_certified_on", "")
        .expect("cleared");
    assert_eq!(
        device.submit_application(&app).expect("submit"),
        Status::Submitted
    );
}

#[test]
fn a_photo_can_be_removed_and_retaken_and_history_keeps_the_first() {
    let (_dir, mut device) = open("志愿者甲");
    let old = resident(&mut device, "测试老", "11010119450815001");
    let app = device
        .start_application(&old, "pension_certification")
        .expect("start");
    let first = device
        .attach_file(
            &app,
            "face_photo",
            "dark.jpg",
            &jpeg(b"synthetic dark photo"),
        )
        .expect("attach");
    let err = device
        .remove_attachment(&app, &"0".repeat(64))
        .expect_err("no such attachment");
    assert_eq!(err.code(), "not_found");
    device.remove_attachment(&app, &first).expect("remove");
    assert!(
        device
            .application(&app)
            .expect("read")
            .attachments
            .is_empty()
    );
    let second = device
        .attach_file(
            &app,
            "face_photo",
            "good.jpg",
            &jpeg(b"synthetic good photo"),
        )
        .expect("retake");
    let read = device.application(&app).expect("read");
    assert_eq!(
        read.attachments
            .iter()
            .map(|a| a.sha256.clone())
            .collect::<Vec<_>>(),
        [second]
    );
    // The first photo's bytes stay on the device.
    assert_eq!(
        device.blob(&first).expect("blob"),
        jpeg(b"synthetic dark photo")
    );
}
