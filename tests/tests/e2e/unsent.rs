//! A record the server refuses, as the volunteer meets it: the sync itself completes,
//! the top bar counts the record that did not sync, and its screen names the resident,
//! says why in words and what to do; the screenshots (both languages, three sizes) go to
//! `target/debug/e2e/unsent*.png`.

use std::time::Duration;

use doorstep_core::id_number::IdNumber;
use doorstep_tests::fleet::{committee, enrollment_text};
use doorstep_tests::{Driver, ServerProcess, target_dir, with_deadline_of};

const PIN: &str = "975310";

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn a_record_the_server_refuses_is_shown_with_why_and_what_to_do() -> anyhow::Result<()> {
    with_deadline_of(Duration::from_secs(180), scenario()).await
}

async fn scenario() -> anyhow::Result<()> {
    // A server that takes no record over 100 bytes: a new resident is more.
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_on(data.path(), &["--max-document-bytes", "100"])?;
    committee(&server, "u1")?;
    let code = enrollment_text(&server, &["u1"], "volunteer", "测试志愿者", "1h")?.to_text();
    let dir = tempfile::tempdir()?;
    let driver = Driver::start_with(dir.path(), &[("DOORSTEP_SYNC_INTERVAL_SECS", "3600")])?;
    let w = driver.open().await?;
    w.first_run_enroll(&server.base_url(), &code, PIN).await?;

    let id_number = IdNumber::complete("11010119400101003").expect("17 digits");
    w.click("#nav-residents").await?;
    w.click("#resident-new").await?;
    w.type_into("#resident-name", "测试王一").await?;
    w.type_into("#resident-id-number", &id_number).await?;
    w.click("#register-submit").await?;
    w.wait_for_text("#resident-title", "测试王一").await?;

    // The sync completes; the refused record is counted, not a failing sync.
    w.click("#sync-now").await?;
    w.wait_for_text("#sync-state", "同步完成").await?;
    w.wait_for_text("#unsent-badge", "1 条记录未同步").await?;
    w.wait_for_text("#sync-pending", "待上传 1 条").await?;
    w.click("#unsent-badge").await?;
    let listed = w.wait_for_text("#refused-list", "测试王一").await?;
    anyhow::ensure!(listed.contains("太大"), "the reason is in words: {listed}");
    anyhow::ensure!(listed.contains("联系管理员"), "what to do: {listed}");
    w.screenshot(&target_dir()?.join("e2e").join("unsent.png"))
        .await?;
    // The record opens from there.
    w.click("#refused-list button.link").await?;
    w.wait_for_text("#resident-title", "测试王一").await?;
    Ok(())
}
