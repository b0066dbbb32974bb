//! The volunteer's whole field workflow through two real app windows (two data folders,
//! two enrolled devices) and a real sync server on loopback:
//!
//! 1. Device A, offline, registers a resident, records an authorization with a drawn
//!    signature, fills and submits a pension certification with a photo; when the
//!    server comes back it syncs by itself.
//!    A supervisor returns it with a comment, which A shows; A fixes it and resubmits.
//! 2. Device B syncs and sees it all. Both change the resident's phone offline; after
//!    both sync, both show the conflict; B settles it; A shows the settled value after
//!    its next sync.
//! 3. The app is killed while a draft is being typed; reopened, the draft holds what was
//!    typed.
//!
//! Screenshots of each main screen go to `target/debug/e2e/`.

use std::path::PathBuf;
use std::time::Duration;

use doorstep_core::application::EventKind;
use doorstep_core::id_number::IdNumber;
use doorstep_core::mask::mask_phone;
use doorstep_device::Device;
use doorstep_tests::fleet::{FAST_RETRY, committee, enrollment_text_at, mock_keyring};
use doorstep_tests::{
    AppWindow, Driver, SAMPLE_PHOTO, ServerProcess, target_dir, with_deadline_of,
};

const PIN_A: &str = "135790";
const PIN_B: &str = "864200";
const RESIDENT: &str = "测试王芳";
const PHONE: &str = "13900001111";
const PHONE_A: &str = "13900002222";
const PHONE_B: &str = "13900003333";
const SERVICE: &str = "pension_certification";
/// The app syncs every second in this test (30 s by default).
const APP_ENV: &[(&str, &str)] = &[("DOORSTEP_SYNC_INTERVAL_SECS", "1")];

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn two_devices_work_offline_sync_by_themselves_and_settle_a_conflict() -> anyhow::Result<()> {
    with_deadline_of(Duration::from_secs(300), scenario()).await
}

fn shot(name: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir()?.join("e2e").join(format!("{name}.png")))
}

async fn scenario() -> anyhow::Result<()> {
    // The server's data outlives its restarts: a folder this test owns.
    let server_temp = tempfile::tempdir()?;
    let data = server_temp.path().to_owned();
    let mut server = ServerProcess::start_on(&data, &[])?;
    let addr = server.addr;
    let data_for_supervisor = data.clone();
    committee(&server, "c1")?;
    let url = server.base_url();
    let text = |name: &str| -> anyhow::Result<String> {
        Ok(enrollment_text_at(&data, Some(&url), &["c1"], "volunteer", name, "1h")?.to_text())
    };
    let (code_a, code_b) = (text("志愿者甲")?, text("志愿者乙")?);

    let dir_a = tempfile::tempdir()?;
    let dir_b = tempfile::tempdir()?;
    let driver_a = Driver::start_with(dir_a.path(), APP_ENV)?;
    let driver_b = Driver::start_with(dir_b.path(), APP_ENV)?;

    // A enrolls and sees itself online.
    let a = driver_a.open().await?;
    a.first_run_enroll(&url, &code_a, PIN_A).await?;
    a.wait_for_text("#sync-state", "在线").await?;

    // The server goes away: A works offline.
    server.kill();
    a.wait_for_text("#sync-state", "离线").await?;
    let id_number = IdNumber::complete("11010119460312002").expect("17 digits");
    for secret in [id_number.as_str(), PHONE, PHONE_A, PHONE_B] {
        a.secret(secret);
    }
    let resident_id = register(&a, &id_number).await?;
    a.screenshot(&shot("resident-page")?).await?;

    // An authorization, signed on screen.
    a.click("#resident-authorize").await?;
    a.click(&format!("#authorize-service-{SERVICE}")).await?;
    // Without a signature it is refused at the signature box.
    a.click("#authorize-submit").await?;
    a.wait_for_text("#authorize-signature-error", "签名")
        .await?;
    a.draw_on("#authorize-signature").await?;
    a.screenshot(&shot("authorization")?).await?;
    a.click("#authorize-submit").await?;
    a.wait_for("#resident-authorizations .authorization")
        .await?;
    a.screenshot(&shot("resident-authorized")?).await?;
    a.wait_for("#resident-authorizations .blob-image").await?;

    // A pension certification: the form from the catalog, a photo, submit.
    a.click_to("#resident-new-application", &format!("#start-{SERVICE}"))
        .await?;
    a.wait_for(&format!("#start-{SERVICE}")).await?;
    a.screenshot(&shot("choose-service")?).await?;
    a.click_to(&format!("#start-{SERVICE}"), "#field-pension_type")
        .await?;
    a.select("#field-pension_type", "resident").await?;
    a.type_into("#field-pension_account", "6222000011112222")
        .await?;
    a.screenshot(&shot("application-form")?).await?;
    a.click("#step-next").await?;
    a.choose_file(
        "#attach-face_photo",
        "脸部照片.png",
        "image/png",
        SAMPLE_PHOTO,
    )
    .await?;
    a.wait_for_text("#attached-face_photo", "脸部照片.png")
        .await?;
    a.click("#step-next").await?;
    a.select("#field-lives_at_registered_address", "true")
        .await?;
    a.click("#step-next").await?;
    // Nothing goes before the resident has decided on her photo herself.
    a.wait_for("#application-missing [data-blocker='consent_missing']")
        .await?;
    a.screenshot(&shot("application-check-consent")?).await?;
    a.resident_agrees(PIN_A).await?;
    a.click("#step-3").await?;
    a.wait_gone("#application-missing").await?;
    a.screenshot(&shot("application-check")?).await?;
    a.click("#application-submit").await?;
    a.wait_for_text("#application-status", "已提交").await?;
    a.wait_for_text("#sync-pending", "待上传 3 条").await?;

    // The server is back: A syncs by itself.
    let server = ServerProcess::start_at(&data, addr, &[])?;
    a.wait_for_text("#sync-pending", "待上传 0 条").await?;
    a.wait_for_text("#sync-last", "上次同步").await?;
    a.click("#nav-home").await?;
    a.wait_for_text("#home-awaiting", RESIDENT).await?;
    a.screenshot(&shot("home")?).await?;

    // A supervisor returns it with a comment; A shows the comment after its next sync,
    // the volunteer attaches a better photo and submits again.
    let base = server.base_url();
    tokio::task::spawn_blocking(move || return_for_changes(&base, &data_for_supervisor)).await??;
    a.wait_for_text("#home-returned", RESIDENT).await?;
    a.click("#home-returned .application-row").await?;
    a.wait_for_text("#application-review-text", COMMENT).await?;
    a.screenshot(&shot("application-returned")?).await?;
    a.click("#step-1").await?;
    a.choose_file("#attach-face_photo", "重拍.png", "image/png", SAMPLE_PHOTO)
        .await?;
    a.wait_for_text("#attached-face_photo", "重拍.png").await?;
    a.click("#step-3").await?;
    a.click("#application-submit").await?;
    a.wait_for_text("#application-status", "已提交").await?;

    // B enrolls, syncs by itself and sees the resident, the authorization and the
    // submitted application.
    let b = driver_b.open().await?;
    for secret in [id_number.as_str(), PHONE, PHONE_A, PHONE_B] {
        b.secret(secret);
    }
    b.first_run_enroll(&url, &code_b, PIN_B).await?;
    b.wait_for_text("#home-awaiting", RESIDENT).await?;
    b.click("#nav-residents").await?;
    b.wait_for_text("#resident-list .resident-name", RESIDENT)
        .await?;
    b.click(&format!("#resident-list [data-id='{resident_id}'] button"))
        .await?;
    b.wait_for("#resident-authorizations .blob-image").await?;
    b.wait_for_text("#resident-applications", "已提交").await?;

    // Both change the phone number offline.
    drop(server);
    a.wait_for_text("#sync-state", "离线").await?;
    b.wait_for_text("#sync-state", "离线").await?;
    let tail = &id_number[id_number.len() - 4..];
    edit_phone(&a, &resident_id, tail, PHONE_A).await?;
    edit_phone(&b, &resident_id, tail, PHONE_B).await?;

    // Back online: both sync, and both show the conflict.
    let _server = ServerProcess::start_at(&data, addr, &[])?;
    for (w, name) in [(&a, "A"), (&b, "B")] {
        w.wait_for("#conflicts-badge")
            .await
            .map_err(|e| e.context(format!("device {name} shows no conflict")))?;
    }
    b.click("#conflicts-badge").await?;
    let values = b
        .wait_until_texts(
            ".conflict[data-field='phone'] .value",
            "both phone values",
            |t| t.len() == 2,
        )
        .await?;
    // Masked like every personal number on screen, and chosen all the same.
    let (shown_a, shown_b) = (mask_phone(PHONE_A), mask_phone(PHONE_B));
    assert!(
        values.contains(&shown_a) && values.contains(&shown_b),
        "{values:?}"
    );
    let page = b.texts("main").await?.concat();
    assert!(
        !page.contains(PHONE_A) && !page.contains(PHONE_B),
        "a phone shown whole on the conflicts screen"
    );
    let authors = b.texts(".conflict[data-field='phone'] .author").await?;
    assert!(
        authors.iter().any(|t| t.contains("志愿者甲"))
            && authors.iter().any(|t| t.contains("志愿者乙")),
        "{authors:?}"
    );
    b.screenshot(&shot("conflicts")?).await?;
    // B keeps A's number.
    let index = values
        .iter()
        .position(|v| *v == shown_a)
        .expect("A's value listed");
    let buttons = b
        .client
        .find_all(fantoccini::Locator::Css(
            ".conflict[data-field='phone'] .choose-value",
        ))
        .await?;
    buttons[index].click().await?;
    b.wait_for("#conflicts-none").await?;

    // A shows the settled value after its next sync.
    a.wait_gone("#conflicts-badge").await?;
    a.click("#nav-residents").await?;
    a.click(&format!("#resident-list [data-id='{resident_id}'] button"))
        .await?;
    a.wait_for_text("#resident-phone-value", &mask_phone(PHONE_A))
        .await?;
    b.close().await?;

    // A draft being typed when the app is killed keeps what was typed.
    a.click_to("#resident-new-application", &format!("#start-{SERVICE}"))
        .await?;
    a.click_to(&format!("#start-{SERVICE}"), "#field-pension_type")
        .await?;
    a.type_into("#field-pension_account", "6222999988887777")
        .await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    driver_a.kill_app()?;
    drop(a);
    let a = driver_a.open().await?;
    for secret in [id_number.as_str(), PHONE, PHONE_A, PHONE_B] {
        a.secret(secret);
    }
    a.unlock(PIN_A).await?;
    a.wait_for_text("#home-drafts", RESIDENT).await?;
    a.click("#home-drafts .application-row").await?;
    // A personal number comes back masked beside an empty input; left empty it stays.
    assert_eq!(a.value("#field-pension_account").await?, "");
    a.wait_for_text("#field-pension_account-hint", "************7777")
        .await?;
    a.close().await?;
    Ok(())
}

const COMMENT: &str = "照片不清楚，请重拍一张正面照";

/// A supervisor's device (in this process) returns the submitted application with a
/// comment.
fn return_for_changes(server_url: &str, server_data: &std::path::Path) -> anyhow::Result<()> {
    mock_keyring();
    let text = enrollment_text_at(
        server_data,
        Some(server_url),
        &["c1"],
        "supervisor",
        "测试督导",
        "1h",
    )?;
    let dir = tempfile::tempdir()?;
    let mut device = Device::open(dir.path())?;
    device.set_volunteer("测试督导")?;
    device.enroll(&text, "supervisor desk")?;
    let mut transport = device.transport()?;
    device.sync_with(&mut transport, &FAST_RETRY)?;
    let submitted = device
        .list_applications(None)?
        .into_iter()
        .find(|a| a.status == "submitted")
        .ok_or_else(|| anyhow::anyhow!("the supervisor received no submitted application"))?;
    device.record_review(&submitted.id, EventKind::Returned, COMMENT)?;
    device.sync_with(&mut transport, &FAST_RETRY)?;
    Ok(())
}

/// Registers the test resident on `w`; returns their record id.
async fn register(w: &AppWindow, id_number: &str) -> anyhow::Result<String> {
    w.click("#nav-residents").await?;
    w.click("#resident-new").await?;
    w.type_into("#resident-name", RESIDENT).await?;
    w.type_into("#resident-id-number", id_number).await?;
    w.type_into("#resident-phone", PHONE).await?;
    w.click("#register-submit").await?;
    w.wait_for_text("#resident-title", RESIDENT).await?;
    w.click("#nav-residents").await?;
    let row = w.wait_for("#resident-list .resident").await?;
    let id = row.attr("data-id").await?.unwrap_or_default();
    row.find(fantoccini::Locator::Css("button"))
        .await?
        .click()
        .await?;
    w.wait_for_text("#resident-title", RESIDENT).await?;
    Ok(id)
}

async fn edit_phone(
    w: &AppWindow,
    resident_id: &str,
    id_tail: &str,
    phone: &str,
) -> anyhow::Result<()> {
    w.click("#nav-residents").await?;
    w.click(&format!("#resident-list [data-id='{resident_id}'] button"))
        .await?;
    w.click("#resident-edit").await?;
    // The edit form shows only the ID number's last four characters.
    w.wait_for_text("#resident-id-number-hint", id_tail).await?;
    w.type_into("#resident-phone", phone).await?;
    w.click("#register-submit").await?;
    w.wait_for_text("#resident-phone-value", &mask_phone(phone))
        .await?;
    Ok(())
}
