//! A tablet shared by two volunteers, through the real app window, with a supervisor's
//! window and a real sync server on loopback:
//!
//! 1. The tablet is enrolled for the first volunteer, who registers a resident; it
//!    syncs by itself.
//! 2. On "people here" she adds the second volunteer with his own one-time code and
//!    PIN; "lock / switch" locks the window, whose PIN screen lists both; he unlocks
//!    with his own PIN (hers is refused for him) and registers a resident of his own.
//! 3. The supervisor's log shows an entry of each, and each record's change names its
//!    author, its signature checked against the server's key roster.
//! 4. The supervisor removes the second volunteer (on the devices screen, with her
//!    PIN). At the tablet's next sync its window locks, says why, and will not let him
//!    unlock; the first volunteer unlocks, and both residents are still there.
//!
//! Screenshots go to `target/debug/e2e/`.

use std::path::PathBuf;
use std::time::Duration;

use doorstep_core::id_number::IdNumber;
use doorstep_tests::fleet::{committee, enrollment_text};
use doorstep_tests::{AppWindow, Driver, ServerProcess, target_dir, with_deadline_of};
use fantoccini::Locator;

const PIN_A: &str = "135790";
const PIN_B: &str = "246802";
const PIN_SUPERVISOR: &str = "975310";
const APP_ENV: &[(&str, &str)] = &[("DOORSTEP_SYNC_INTERVAL_SECS", "1")];

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn two_volunteers_share_a_tablet_and_one_removed_cannot_unlock() -> anyhow::Result<()> {
    with_deadline_of(Duration::from_secs(240), scenario()).await
}

fn shot(name: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir()?.join("e2e").join(format!("shared-{name}.png")))
}

async fn register(w: &AppWindow, name: &str, id_number: &str) -> anyhow::Result<()> {
    w.click("#nav-residents").await?;
    w.click("#resident-new").await?;
    w.type_into("#resident-name", name).await?;
    w.type_into("#resident-id-number", id_number).await?;
    w.click("#register-submit").await?;
    w.wait_for_text("#resident-title", name).await?;
    w.wait_for_text("#sync-pending", "待上传 0 条").await?;
    Ok(())
}

/// On the PIN screen, chooses the person named `name`.
async fn choose(w: &AppWindow, name: &str) -> anyhow::Result<()> {
    let label = w
        .client
        .find(Locator::XPath(&format!(
            "//fieldset[contains(@class,'member-choice')]//label[.//span[@class='member-name' and normalize-space(.)='{name}']]"
        )))
        .await?;
    label.click().await?;
    w.wait_for_text("#pin-unlock-for", name).await?;
    Ok(())
}

async fn scenario() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let code_a = enrollment_text(&server, &["c1"], "volunteer", "志愿者甲", "1h")?.to_text();
    let code_b = enrollment_text(&server, &["c1"], "volunteer", "志愿者乙", "1h")?.to_text();
    let code_s = enrollment_text(&server, &["c1"], "supervisor", "测试主任", "1h")?.to_text();
    let url = server.base_url();
    let dir_t = tempfile::tempdir()?;
    let dir_s = tempfile::tempdir()?;
    let driver_t = Driver::start_with(dir_t.path(), APP_ENV)?;
    let driver_s = Driver::start_with(dir_s.path(), APP_ENV)?;
    let first = IdNumber::complete("11010119380412002").expect("17 digits");
    let second = IdNumber::complete("11010119390513003").expect("17 digits");

    // 1. The first volunteer's resident.
    let t = driver_t.open().await?;
    t.secret(first.as_str());
    t.secret(second.as_str());
    t.first_run_enroll(&url, &code_a, PIN_A).await?;
    register(&t, "测试甲", &first).await?;

    // 2. The second volunteer is added, and takes over.
    t.click("#nav-members").await?;
    t.wait_for_text("#member-list", "志愿者甲").await?;
    t.type_into("#member-text", &code_b).await?;
    t.type_into("#member-pin", PIN_B).await?;
    t.type_into("#member-pin-again", PIN_B).await?;
    t.click("#member-add-submit").await?;
    t.wait_for_text("#member-added", "志愿者乙").await?;
    t.wait_for_text("#member-list", "志愿者乙").await?;
    t.screenshot(&shot("members")?).await?;
    t.click("#lock").await?;
    t.wait_for(".member-choice").await?;
    choose(&t, "志愿者乙").await?;
    t.screenshot(&shot("unlock")?).await?;
    // Her PIN is not his.
    t.type_into("#pin-unlock", PIN_A).await?;
    t.click("#pin-unlock-submit").await?;
    t.wait_for_text("#pin-error", "密码不对").await?;
    t.unlock(PIN_B).await?;
    t.wait_for_text(".nav-who", "志愿者乙").await?;
    register(&t, "测试乙", &second).await?;

    // 3. The supervisor's log names each.
    let s = driver_s.open().await?;
    s.first_run_enroll(&url, &code_s, PIN_SUPERVISOR).await?;
    s.click("#nav-log").await?;
    s.wait_for(".chain-ok").await?;
    s.wait_until_texts(
        "#log-entries .log-entry",
        "an entry of each volunteer",
        |rows| {
            rows.iter().any(|r| r.contains("志愿者甲"))
                && rows.iter().any(|r| r.contains("志愿者乙"))
        },
    )
    .await?;
    s.open_every_log_entry().await?;
    for who in ["志愿者甲", "志愿者乙"] {
        s.wait_for_text(".log-record[data-kind='resident'] .log-change", who)
            .await?;
        s.wait_for_text(
            ".log-record[data-kind='resident'] .log-signer",
            &format!("签名已核验：{who}"),
        )
        .await?;
    }
    s.screenshot(&shot("log")?).await?;

    // 4. The second volunteer is removed; the tablet locks him out.
    s.click("#nav-devices").await?;
    s.wait_for_text("#device-list", "志愿者乙").await?;
    s.revoke_device_of("志愿者乙", PIN_SUPERVISOR).await?;
    t.wait_for_text("#member-removed", "志愿者乙").await?;
    let disabled = t
        .client
        .find(Locator::XPath(
            "//label[contains(@class,'removed')]//input[@type='radio']",
        ))
        .await?
        .attr("disabled")
        .await?;
    assert!(disabled.is_some(), "the removed volunteer cannot be chosen");
    t.screenshot(&shot("removed")?).await?;
    choose(&t, "志愿者甲").await?;
    t.unlock(PIN_A).await?;
    t.wait_for_text(".nav-who", "志愿者甲").await?;
    t.click("#nav-residents").await?;
    t.wait_for_text("#resident-list", "测试甲").await?;
    t.wait_for_text("#resident-list", "测试乙").await?;
    t.close().await?;
    s.close().await?;
    Ok(())
}
