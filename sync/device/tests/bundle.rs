//! Offline bundles between two devices with no network: export, import, import again,
//! export only what the peer lacks, damaged files refused whole, and a bad record set
//! aside alone.

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::{DocId, value::FieldValue};
use doorstep_device::Device;

mod common;
use common::{jpeg_of, open_dir};

fn register(device: &mut Device, name: &str, first17: &str) -> DocId {
    let input = ResidentInput {
        name: name.into(),
        id_number: IdNumber::complete(first17).expect("17 digits"),
        ..ResidentInput::default()
    };
    device.register_resident(&input).expect("register").id
}

/// Two devices in folders of their own, and a folder standing for the USB stick (the
/// folders live as long as the first value).
fn two_devices() -> ([tempfile::TempDir; 2], tempfile::TempDir, Device, Device) {
    let dirs = [
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    ];
    let stick = tempfile::tempdir().expect("stick");
    let a = open_dir(dirs[0].path()).expect("open a");
    let b = open_dir(dirs[1].path()).expect("open b");
    (dirs, stick, a, b)
}

fn names(device: &Device) -> Vec<String> {
    let mut names: Vec<String> = device
        .list_residents()
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    names.sort();
    names
}

#[test]
fn a_bundle_carries_records_and_attachments_and_importing_twice_changes_nothing() {
    let (_dirs, stick, mut a, mut b) = two_devices();
    let r1 = register(&mut a, "测试甲", "11010519400101001");
    register(&mut a, "测试乙", "11010519400101002");
    let app = a
        .start_application(&r1, "medical_insurance")
        .expect("start");
    let photo = jpeg_of(9, 300_000);
    let sha = a
        .attach_file(&app, "id_card_photo", "id.jpg", &photo)
        .expect("attach");

    let file = stick.path().join("a-to-b.doorstep");
    let out = a.export_bundle(&file, None).expect("export");
    assert_eq!((out.docs, out.blobs), (3, 1));
    let first = b.import_bundle(&file).expect("import");
    assert_eq!((first.records_changed, first.blobs), (3, 1));
    assert_eq!(names(&b), ["测试乙", "测试甲"]);
    assert_eq!(b.blob(&sha).expect("photo"), photo);
    assert_eq!(b.application(&app).expect("app").attachments.len(), 1);
    // The imported records wait to be synced by whichever device meets the server first.
    assert_eq!(b.sync_status().expect("status").pending_docs, 3);

    let second = b.import_bundle(&file).expect("import again");
    assert_eq!((second.records_changed, second.blobs), (0, 0));
    assert_eq!(names(&b), ["测试乙", "测试甲"]);

    // B edits; A exports only what B lacks, against B's manifest; B's edit survives.
    let mut form = b.resident(&r1).expect("read").to_input();
    form.phone = "13800138000".into();
    b.update_resident(&r1, &form).expect("edit on b");
    let mut form = a.resident(&r1).expect("read").to_input();
    form.address = "测试路 1 号".into();
    a.update_resident(&r1, &form).expect("edit on a");
    let manifest = stick.path().join("b.manifest");
    b.write_manifest(&manifest).expect("manifest");
    let diff = stick.path().join("a-to-b-2.doorstep");
    let small = a
        .export_bundle(&diff, Some(&manifest))
        .expect("export diff");
    assert_eq!((small.docs, small.changes, small.blobs), (1, 1, 0));
    assert!(
        small.bytes < out.bytes / 10,
        "{} vs {}",
        small.bytes,
        out.bytes
    );
    b.import_bundle(&diff).expect("import diff");
    let merged = b.resident(&r1).expect("read");
    assert_eq!(
        (merged.phone.as_str(), merged.address.as_str()),
        ("13800138000", "测试路 1 号")
    );
}

#[test]
fn damaged_or_foreign_files_are_refused_whole() {
    let (_dirs, stick, mut a, mut b) = two_devices();
    let id = register(&mut a, "测试丙", "11010519400101003");
    a.resolve_conflict(&id, "phone", &FieldValue::Text(String::new()))
        .expect_err("no conflict to resolve");
    let file = stick.path().join("a.doorstep");
    a.export_bundle(&file, None).expect("export");
    let good = std::fs::read(&file).expect("read");

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "one byte flipped",
            {
                let mut bad = good.clone();
                let mid = bad.len() / 2;
                bad[mid] ^= 0x01;
                bad
            },
            "bundle_damaged",
        ),
        (
            "truncated",
            good[..good.len() - 100].to_vec(),
            "bundle_damaged",
        ),
        ("cut to the header", good[..20].to_vec(), "bundle_invalid"),
        ("empty", Vec::new(), "bundle_invalid"),
        (
            "a photo, not a bundle",
            vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3],
            "bundle_invalid",
        ),
    ];
    for (what, bytes, code) in cases {
        let path = stick.path().join("bad.doorstep");
        std::fs::write(&path, &bytes).expect("write");
        let err = b.import_bundle(&path).expect_err(what);
        assert_eq!(err.code(), code, "{what}");
        assert!(
            b.list_residents().expect("list").is_empty(),
            "{what}: nothing imported"
        );
    }
    // A manifest is not a bundle, nor the other way round.
    let manifest = stick.path().join("b.manifest");
    b.write_manifest(&manifest).expect("manifest");
    assert_eq!(
        b.import_bundle(&manifest).expect_err("manifest").code(),
        "bundle_invalid"
    );
    assert_eq!(
        a.export_bundle(&stick.path().join("x"), Some(&file))
            .expect_err("bundle as manifest")
            .code(),
        "bundle_invalid"
    );
    let missing = b
        .import_bundle(&stick.path().join("no-such-file"))
        .expect_err("missing");
    assert_eq!(missing.code(), "bundle_unreadable");
    // The good file still imports.
    b.import_bundle(&file).expect("import");
    assert_eq!(names(&b), ["测试丙"]);
}

/// A bundle file's records, rewritten by `edit`, sealed again as a device seals it (a
/// device not enrolled checks no signature).
fn rewritten(file: &[u8], edit: impl FnOnce(&mut Vec<ciborium::Value>)) -> Vec<u8> {
    use ciborium::Value;
    use sha2::{Digest, Sha256};
    let magic = &file[..16];
    let mut envelope: Value =
        ciborium::from_reader(&file[16..file.len() - 32]).expect("the envelope");
    let fields = envelope.as_map_mut().expect("a map");
    let body = fields
        .iter_mut()
        .find(|(k, _)| k.as_text() == Some("body"))
        .map(|(_, v)| v)
        .expect("a body");
    let mut bundle: Value =
        ciborium::from_reader(body.as_bytes().expect("bytes").as_slice()).expect("the bundle");
    let docs = bundle
        .as_map_mut()
        .expect("a map")
        .iter_mut()
        .find(|(k, _)| k.as_text() == Some("docs"))
        .map(|(_, v)| v)
        .expect("docs")
        .as_array_mut()
        .expect("an array");
    edit(docs);
    let mut bytes = Vec::new();
    ciborium::into_writer(&bundle, &mut bytes).expect("write");
    *body = Value::Bytes(bytes);
    let mut out = magic.to_vec();
    ciborium::into_writer(&envelope, &mut out).expect("write");
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

fn set_kind(doc: &mut ciborium::Value, kind: &str) {
    for (k, v) in doc.as_map_mut().expect("a record") {
        if k.as_text() == Some("kind") {
            *v = ciborium::Value::Text(kind.into());
        }
    }
}

#[test]
fn a_bad_record_is_set_aside_alone_and_a_record_named_twice_refuses_the_bundle() {
    let (_dirs, stick, mut a, mut b) = two_devices();
    register(&mut a, "测试甲", "11010519400101001");
    register(&mut a, "测试乙", "11010519400101002");
    let file = stick.path().join("a.doorstep");
    a.export_bundle(&file, None).expect("export");
    let good = std::fs::read(&file).expect("read");

    // The same record twice: not a bundle a device writes.
    let twice = rewritten(&good, |docs| {
        let first = docs[0].clone();
        docs.push(first);
    });
    let path = stick.path().join("twice.doorstep");
    std::fs::write(&path, twice).expect("write");
    assert_eq!(
        b.import_bundle(&path).expect_err("twice").code(),
        "bundle_invalid"
    );
    assert!(b.list_residents().expect("list").is_empty());

    // One record claiming another kind than it holds: it alone is set aside, with why.
    let claimed = rewritten(&good, |docs| set_kind(&mut docs[1], "application"));
    let path = stick.path().join("claimed.doorstep");
    std::fs::write(&path, claimed).expect("write");
    let report = b.import_bundle(&path).expect("the rest imports");
    assert_eq!((report.records_changed, report.set_aside), (1, 1));
    assert_eq!(b.list_residents().expect("list").len(), 1);
    let aside = b.records_aside().expect("aside");
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0].code.as_str(), "unknown_kind");
    assert_eq!(aside[0].kind, "application");
    // The honest bundle afterwards brings the other resident whole.
    b.import_bundle(&file).expect("import");
    assert_eq!(names(&b), ["测试乙", "测试甲"]);
    assert!(b.records_aside().expect("aside").is_empty());
}
