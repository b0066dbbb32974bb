//! A photo from the guided camera keeps its quality record with its attachment: checked
//! where it arrives from the window (a bad one refused with its code and nothing saved),
//! kept only for a photo, and carried to another device by a bundle.

mod common;

use common::{jpeg, open_dir};
use doorstep_core::id_number::IdNumber;
use doorstep_core::photo_quality::{Liveness, PhotoCheck};
use doorstep_core::resident::ResidentInput;

const GOOD: &str = r#"{"auto":false,"passed":["noFace","manyFaces","tooDark","tooBright","moveBack","faceScreen","holdStill"],"failed":["comeCloser"],"size":0.21,"yaw":-0.9,"pitch":-7.2,"roll":2.6,"brightness":143.7,"sharpness":0.52,"liveness":"skipped"}"#;

#[test]
fn a_camera_photo_keeps_its_quality_record_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    let r = device
        .register_resident(&ResidentInput {
            name: "测试".into(),
            id_number: IdNumber::complete("11010119450815001").expect("17 digits"),
            ..ResidentInput::default()
        })
        .expect("register")
        .id;
    let app = device
        .start_application(&r, "pension_certification")
        .expect("start");

    for bad in [
        "",
        "{}",
        &GOOD.replace("0.21", "-3"),
        &GOOD.replace("skipped", "maybe"),
    ] {
        let err = device
            .attach_photo(
                &app,
                "face_photo",
                "face_photo.jpg",
                &jpeg(b"bad"),
                Some(bad),
            )
            .expect_err("a bad quality record");
        assert_eq!(err.code(), "invalid_input", "{bad}");
        assert!(
            format!("{err:?}").contains("PhotoQualityInvalid"),
            "{bad}: {err:?}"
        );
    }
    assert!(
        device
            .application(&app)
            .expect("read")
            .attachments
            .is_empty()
    );

    device
        .attach_photo(
            &app,
            "face_photo",
            "face_photo.jpg",
            &jpeg(b"face"),
            Some(GOOD),
        )
        .expect("a camera photo");
    let kept = device.application(&app).expect("read").attachments;
    assert_eq!(kept.len(), 1);
    let q = kept[0].quality.as_ref().expect("quality kept");
    assert!(!q.auto);
    assert_eq!(q.failed, vec![PhotoCheck::ComeCloser]);
    assert_eq!(q.liveness, Liveness::Skipped);

    // A chosen file has none.
    device
        .attach_file(&app, "face_photo", "chosen.jpg", &jpeg(b"chosen"))
        .expect("a chosen photo");
    let chosen = device.application(&app).expect("read").attachments;
    let file = chosen
        .iter()
        .find(|a| a.name == "chosen.jpg")
        .expect("chosen");
    assert_eq!(file.quality, None);
    assert!(!file.quality_unreadable);

    // Another device reading the record sees the same record.
    let bytes = device.export_record(&app).expect("export");
    let other_dir = tempfile::tempdir().expect("temp dir");
    let mut other = open_dir(other_dir.path()).expect("open");
    other.merge_record(&app, &bytes).expect("merge");
    let there = other.application(&app).expect("read").attachments;
    let photo = there
        .iter()
        .find(|a| a.name == "face_photo.jpg")
        .expect("photo");
    assert_eq!(photo.quality.as_ref(), Some(q));
}
