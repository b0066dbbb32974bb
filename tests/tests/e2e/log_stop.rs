//! A supervisor's tablet and a server whose sync log loses its newest entries: the
//! console first says every entry of the page was checked against the server's signed
//! checkpoint; once the log is shorter than the checkpoint the tablet holds, the window
//! says sync stopped and why, the console shows the evidence (both checkpoints), and
//! syncing goes on only after the PIN confirms the administrator's word that the server
//! was restored from a backup.

use std::path::PathBuf;
use std::time::Duration;

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_tests::fleet::{TestDevice, committee, enrollment_text, server_db};
use doorstep_tests::{Driver, ServerProcess, target_dir, with_deadline_of};

const PIN: &str = "864200";
const APP_ENV: &[(&str, &str)] = &[("DOORSTEP_SYNC_INTERVAL_SECS", "1")];

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn a_log_that_lost_entries_stops_sync_shows_the_evidence_and_goes_on_only_with_the_pin()
-> anyhow::Result<()> {
    with_deadline_of(Duration::from_secs(240), scenario()).await
}

fn shot(name: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir()?.join("e2e").join(format!("log-{name}.png")))
}

async fn scenario() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    // A volunteer's tablet (without a window) makes the log's first entry. Its blocking
    // client runs on a thread of its own.
    let id_number = IdNumber::complete("11010119380301002").expect("17 digits");
    std::thread::scope(|s| {
        s.spawn(|| -> anyhow::Result<()> {
            let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者")?;
            volunteer.device.register_resident(&ResidentInput {
                name: "测试李四".into(),
                id_number: id_number.clone(),
                ..ResidentInput::default()
            })?;
            volunteer.sync(&server)?;
            Ok(())
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the volunteer's tablet panicked"))?
    })?;

    let code = enrollment_text(&server, &["c1"], "supervisor", "测试主任", "1h")?.to_text();
    let dir = tempfile::tempdir()?;
    let driver = Driver::start_with(dir.path(), APP_ENV)?;
    let s = driver.open().await?;
    s.secret(&id_number);
    s.first_run_enroll(&server.base_url(), &code, PIN).await?;

    // The console: two entries (the volunteer's, and this tablet's first sync), each
    // checked by this tablet against the checkpoint it holds.
    s.click("#nav-log").await?;
    s.wait_until_texts("#log-entries .log-entry", "two log entries", |t| {
        t.len() == 2
    })
    .await?;
    s.wait_for_text("#log-proved", "服务器签名的检查点").await?;
    s.screenshot(&shot("proved")?).await?;

    // The server loses its newest entry (as a restore from an older backup, or an
    // intruder, would make it): the next background sync finds it.
    server_db(&server.data_dir)?.truncate_log("c1", 1)?;
    s.wait_for_text("#sync-error", "同步日志").await?;
    s.wait_for_text("#sync-state", "不能同步").await?;
    assert!(
        s.texts("#sync-now").await?.is_empty(),
        "no sync button while stopped"
    );
    s.click("#nav-residents").await?;
    s.click("#nav-log").await?;
    let evidence = s
        .wait_for_text("#log-evidence", "服务器日志不一致的证据")
        .await?;
    assert!(evidence.contains("fewer than the 2"), "{evidence}");
    let notes = s.texts("#log-evidence .evidence-note").await?;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes.iter().all(|n| n.starts_with("doorstep sync log c1")),
        "{notes:?}"
    );
    s.screenshot(&shot("evidence")?).await?;

    // Told by the administrator that the server was restored, the supervisor confirms
    // with the PIN; sync goes on and the evidence stays.
    s.click("#log-accept-open").await?;
    s.wait_for_text("#log-accept-explain", "管理员").await?;
    s.screenshot(&shot("accept")?).await?;
    s.type_into("#log-accept-pin", PIN).await?;
    s.click("#log-accept").await?;
    s.wait_gone("#log-accept-open").await?;
    s.wait_for_text("#sync-state", "在线").await?;
    s.click("#nav-residents").await?;
    s.click("#nav-log").await?;
    s.wait_for("#log-evidence").await?;
    s.wait_for("#log-proved").await?;
    s.close().await?;
    Ok(())
}
