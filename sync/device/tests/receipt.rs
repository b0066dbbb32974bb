//! The resident's receipt: a large-print PDF whose text (read back with poppler's
//! `pdftotext`) names the resident, the service, the reference, the helper and the next
//! steps, in the labels' language.

use std::process::Command;

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::receipt::{self, ReceiptLabels};

mod common;
use common::open_dir;

fn labels() -> ReceiptLabels {
    ReceiptLabels {
        title: "上门办 回执".into(),
        resident: "居民".into(),
        service: "办理事项".into(),
        reference: "查询编号".into(),
        date: "日期".into(),
        helper: "经办人".into(),
        status: "现在的状态".into(),
        next: "接下来会怎样".into(),
        consents: "您对个人信息的意见".into(),
        phone: "有事请打电话".into(),
        status_text: "草稿".into(),
        consent_lines: vec!["您本人的正面照片（人脸信息）：同意".into()],
        lang: "zh-CN".into(),
    }
}

#[test]
fn a_receipt_is_a_large_print_pdf_with_what_who_reference_and_next_steps() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer("测试志愿者").expect("volunteer");
    let resident = device
        .register_resident(&ResidentInput {
            name: "测试周大娘".into(),
            id_number: IdNumber::complete("11010119440404002").expect("17 digits"),
            ..ResidentInput::default()
        })
        .expect("register");
    let app = device
        .start_application(&resident.id, "pension_certification")
        .expect("start");

    let content = device.receipt(&app, &labels()).expect("receipt");
    let reference = receipt::reference(&app);
    assert!(content.rows.iter().any(|(_, v)| v == &reference));
    assert_eq!(content.colon, "：");
    // In English, English punctuation: "Reference: …", no full-width colon or bracket.
    let english = ReceiptLabels {
        lang: "en".into(),
        ..labels()
    };
    let content = device.receipt(&app, &english).expect("english");
    assert_eq!(content.colon, ": ");
    assert!(
        content
            .rows
            .iter()
            .all(|(_, v)| !v.contains('（') && !v.contains('、')),
        "{:?}",
        content.rows
    );

    let pdf = device.receipt_pdf(&app, &labels()).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    // The CJK font is subset: a receipt stays small enough to send or print anywhere.
    assert!(pdf.len() < 1_500_000, "{} bytes", pdf.len());
    eprintln!("receipt: {} bytes", pdf.len());

    // Saved in the data folder's receipts/, named by the reference; the window may open
    // that file and no other.
    let file = device.save_receipt(&app, &labels()).expect("saved");
    assert_eq!(
        file,
        dir.path()
            .join(receipt::RECEIPTS_DIR)
            .join(format!("{reference}.pdf"))
    );
    let name = file.display().to_string();
    assert_eq!(device.saved_receipt(&name).expect("own receipt"), file);
    let outside = dir.path().join("receipt.pdf");
    std::fs::write(&outside, &pdf).expect("write");
    for other in [
        outside.display().to_string(),
        format!(
            "{}/../receipt.pdf",
            dir.path().join(receipt::RECEIPTS_DIR).display()
        ),
        dir.path()
            .join(receipt::RECEIPTS_DIR)
            .join("none.pdf")
            .display()
            .to_string(),
        "/etc/passwd".into(),
    ] {
        let err = device
            .saved_receipt(&other)
            .expect_err("not a receipt of ours");
        assert_eq!(err.code(), "not_found", "{other}");
    }
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (apt package poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text: String = String::from_utf8_lossy(&out.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for wanted in [
        "上门办回执",
        "测试周大娘",
        "养老金领取资格认证",
        reference.as_str(),
        "测试志愿者",
        "接下来会怎样",
        "工作人员会把认证交给街道",
        "人脸信息）：同意",
    ] {
        assert!(
            text.contains(wanted),
            "{wanted:?} missing from the receipt: {text}"
        );
    }
}

#[test]
fn without_a_usable_font_the_receipt_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_a_font = dir.path().join("font.ttf");
    std::fs::write(&not_a_font, b"not a font").expect("write");
    let content = receipt::Receipt {
        title: "回执".into(),
        colon: "：",
        rows: vec![],
        sections: vec![],
    };
    let err = receipt::render(&content, &not_a_font).expect_err("no font");
    assert_eq!(err.code(), "receipt_font_missing");
    let err = receipt::render(&content, &dir.path().join("missing.ttf")).expect_err("no file");
    assert_eq!(err.code(), "receipt_font_missing");
}
