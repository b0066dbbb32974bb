//! The ID-card photo of a certification at home: the device keeps the original as it
//! came and beside it a JPEG copy with the day and the volunteer's name stamped in a
//! band across its bottom (drawn by the device, in the receipts' CJK font); the copy
//! goes with its original when the photo is retaken; a photo that does not decode is
//! refused with nothing saved.

mod common;

use std::io::Cursor;

use common::{jpeg, open_dir};
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use image::{Rgb, RgbImage};

const SLOT: &str = "id_card_photo";

/// A mid-grey PNG `width`×`height`, the top left quarter white (something to see that
/// the picture above the band is untouched).
fn grey_png(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_fn(width, height, |x, y| {
        if x < width / 2 && y < height / 2 {
            Rgb([250, 250, 250])
        } else {
            Rgb([128, 128, 128])
        }
    });
    let mut out = Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[test]
fn an_id_card_photo_keeps_its_original_and_a_copy_stamped_with_the_day_and_the_volunteer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer("测试志愿者").expect("volunteer");
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

    // A photo that does not decode is refused, and nothing is attached.
    let err = device
        .attach_file(&app, SLOT, "card.jpg", &jpeg(b"not really a picture"))
        .expect_err("undecodable");
    assert_eq!(err.code().as_str(), "photo_unreadable");
    assert!(
        device
            .application(&app)
            .expect("app")
            .attachments
            .is_empty()
    );

    let original = grey_png(640, 480);
    let sha = device
        .attach_file(&app, SLOT, "card.png", &original)
        .expect("attach");
    let attachments = device.application(&app).expect("app").attachments;
    assert_eq!(attachments.len(), 2, "{attachments:?}");
    let kept = attachments
        .iter()
        .find(|a| a.sha256 == sha)
        .expect("original");
    assert_eq!(
        (kept.mime.as_str(), kept.stamp.as_ref()),
        ("image/png", None)
    );
    assert_eq!(
        device.blob(&sha).expect("blob"),
        original,
        "the original unchanged"
    );
    let copy = attachments.iter().find(|a| a.sha256 != sha).expect("copy");
    let stamp = copy.stamp.as_ref().expect("stamped");
    let (y, m, d) = device.today();
    assert_eq!(
        (stamp.of.as_str(), stamp.date.clone(), stamp.by.as_str()),
        (sha.as_str(), format!("{y:04}-{m:02}-{d:02}"), "测试志愿者")
    );
    assert_eq!(
        (copy.slot.as_str(), copy.mime.as_str()),
        (SLOT, "image/jpeg")
    );

    // The copy: the same picture, a dark band across the bottom with light text in it.
    let bytes = device.blob(&copy.sha256).expect("copy blob");
    assert_eq!(copy.size, bytes.len() as i64);
    let stamped = image::load_from_memory(&bytes).expect("decodes").to_rgb8();
    assert_eq!(stamped.dimensions(), (640, 480));
    let luma = |x: u32, y: u32| {
        let p = stamped.get_pixel(x, y).0;
        (u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3
    };
    // Above the band the picture is as it was (JPEG moves a value by a few steps).
    assert!(luma(100, 100).abs_diff(250) < 8 && luma(500, 300).abs_diff(128) < 8);
    // In the band (the bottom 36 rows): darkened, with text drawn in white.
    let band: Vec<u32> = (446..480)
        .flat_map(|y| (0..640).map(move |x| (x, y)))
        .map(|(x, y)| luma(x, y))
        .collect();
    let lit = band.iter().filter(|v| **v > 200).count();
    let dark = band.iter().filter(|v| **v < 60).count();
    assert!(lit > 300, "text drawn: {lit} light pixels");
    assert!(
        dark > band.len() / 2,
        "band darkened: {dark} of {}",
        band.len()
    );
    // The text stays on the picture: its right end is not cut off at the edge.
    assert!(band.chunks(640).all(|row| row[639] < 200));

    // Retaken: removing the original takes its copy with it.
    device.remove_attachment(&app, &sha).expect("remove");
    assert!(
        device
            .application(&app)
            .expect("app")
            .attachments
            .is_empty()
    );
}
