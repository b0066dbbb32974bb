//! Work planning through two real app windows (a volunteer's and a supervisor's) and a
//! real sync server on loopback:
//!
//! 1. The volunteer registers a resident without a phone; it syncs by itself.
//! 2. The supervisor opens the resident and assigns the visit to the volunteer, chosen
//!    from the committee's people, for today, for the pension certification.
//! 3. The volunteer's home shows it under "today" in "my visits", with what the
//!    resident's file lacks (a phone, an authorization), and prints as a large-print
//!    PDF; the volunteer records that
//!    nobody was home and proposes a day later this week; the home shows the new date.
//! 4. The supervisor's page of the resident shows the outcome and the visit proposed;
//!    the overview counts the volunteer's visits; the visit plans export as a table
//!    (no ID number in it).
//!
//! Screenshots go to `target/debug/e2e/`.

use std::path::PathBuf;
use std::time::Duration;

use doorstep_core::date::{civil_from_days, days_from_civil, format_ymd};
use doorstep_core::id_number::IdNumber;
use doorstep_tests::fleet::{committee, enrollment_text};
use doorstep_tests::{Driver, ServerProcess, target_dir, with_deadline_of};

const PIN_VOLUNTEER: &str = "135790";
const PIN_SUPERVISOR: &str = "975310";
const RESIDENT: &str = "测试王桂兰";
const ADDRESS: &str = "测试村三组12号";
const APP_ENV: &[(&str, &str)] = &[("DOORSTEP_SYNC_INTERVAL_SECS", "1")];

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn a_supervisors_assignment_reaches_the_volunteers_day_and_the_outcome_comes_back()
-> anyhow::Result<()> {
    with_deadline_of(Duration::from_secs(240), scenario()).await
}

fn shot(name: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir()?
        .join("e2e")
        .join(format!("planning-{name}.png")))
}

async fn scenario() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let code_v = enrollment_text(&server, &["c1"], "volunteer", "志愿者甲", "1h")?.to_text();
    let code_s = enrollment_text(&server, &["c1"], "supervisor", "测试主任", "1h")?.to_text();
    let url = server.base_url();
    let dir_v = tempfile::tempdir()?;
    let dir_s = tempfile::tempdir()?;
    let driver_v = Driver::start_with(dir_v.path(), APP_ENV)?;
    let driver_s = Driver::start_with(dir_s.path(), APP_ENV)?;
    let today = doorstep_device::today_china();
    let next_week = civil_from_days(days_from_civil(today) + 5);
    let (today, next_week) = (format_ymd(today), format_ymd(next_week));

    // 1. The volunteer registers a resident; it goes up by itself.
    let v = driver_v.open().await?;
    let id_number = IdNumber::complete("11010119380412002").expect("17 digits");
    v.secret(id_number.as_str());
    v.first_run_enroll(&url, &code_v, PIN_VOLUNTEER).await?;
    v.wait_for_text("#home-visits", "没有安排给你的走访。")
        .await?;
    v.click("#nav-residents").await?;
    v.click("#resident-new").await?;
    v.type_into("#resident-name", RESIDENT).await?;
    v.type_into("#resident-id-number", &id_number).await?;
    v.type_into("#resident-address", ADDRESS).await?;
    v.click("#register-submit").await?;
    v.wait_for_text("#resident-title", RESIDENT).await?;
    v.wait_for_text("#visit-none", "还没有安排走访。").await?;
    v.wait_for_text("#sync-pending", "待上传 0 条").await?;

    // 2. The supervisor assigns the visit.
    let s = driver_s.open().await?;
    s.secret(id_number.as_str());
    s.first_run_enroll(&url, &code_s, PIN_SUPERVISOR).await?;
    s.click("#nav-residents").await?;
    s.wait_for_text("#resident-list", RESIDENT).await?;
    s.click("#resident-list .row-button").await?;
    s.wait_for_text("#resident-title", RESIDENT).await?;
    s.wait_for("#visit-assignee option[value]:not([value=''])")
        .await?;
    let choices = s.texts("#visit-assignee option").await?;
    assert!(
        choices.iter().any(|c| c == "志愿者甲 (志愿者)"),
        "the committee's volunteer is offered: {choices:?}"
    );
    let volunteer_id = s
        .client
        .find(fantoccini::Locator::XPath(
            "//select[@id='visit-assignee']/option[starts-with(normalize-space(.), '志愿者甲')]",
        ))
        .await?
        .attr("value")
        .await?
        .unwrap_or_default();
    s.select("#visit-assignee", &volunteer_id).await?;
    s.enter_date("visit-due", &today).await?;
    s.click("#visit-purpose-certification").await?;
    s.click("#visit-assign-save").await?;
    s.wait_for_text("#resident-visits [role=status]", "走访已安排。")
        .await?;
    s.wait_for_text("#visit-open", "志愿者甲").await?;
    s.screenshot(&shot("assigned")?).await?;

    // 3. The volunteer's day shows it; nobody is home; next week proposed.
    v.click("#nav-home").await?;
    v.wait_for_text("#home-visits [data-when='today']", RESIDENT)
        .await?;
    let row = v
        .wait_for_text("#home-visits [data-when='today'] .visit-row", ADDRESS)
        .await?;
    for wanted in ["养老金认证", "缺电话", "缺授权委托"] {
        assert!(row.contains(wanted), "{wanted} in {row:?}");
    }
    v.screenshot(&shot("my-visits")?).await?;
    // On paper too: a large-print PDF in the exports folder.
    v.click("#visits-print").await?;
    v.wait_for_text("#visits-printed", "走访单已保存").await?;
    let printed = std::fs::read_dir(dir_v.path().join("app").join("exports"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .ok_or_else(|| anyhow::anyhow!("no visit list printed"))?;
    assert!(std::fs::read(&printed)?.starts_with(b"%PDF-"), "a PDF");
    v.click("#home-visits .visit-row").await?;
    v.wait_for_text("#resident-title", RESIDENT).await?;
    v.click("#visit-outcome-not_home").await?;
    v.enter_date("visit-next", &next_week).await?;
    v.type_into("#visit-note", "邻居说下周在家").await?;
    v.click("#visit-outcome-save").await?;
    v.wait_for_text("#resident-visits [role=status]", "走访结果已保存。")
        .await?;
    v.wait_for_text("#visit-outcomes", "不在家").await?;
    v.screenshot(&shot("outcome")?).await?;
    v.click("#nav-home").await?;
    v.wait_for_text("#home-visits [data-when='this_week']", RESIDENT)
        .await?;
    v.wait_for_text("#sync-pending", "待上传 0 条").await?;

    // 4. The supervisor sees what came of it.
    s.click("#nav-residents").await?;
    s.click("#resident-list .row-button").await?;
    s.wait_for_text("#visit-outcomes", "志愿者甲：不在家")
        .await?;
    s.wait_for_text("#visit-open", "上次走访时约定的").await?;
    s.screenshot(&shot("supervisor-sees")?).await?;
    // The overview counts the volunteer's visit; the plans export as a table.
    s.click("#nav-overview").await?;
    s.wait_for_text("#overview-visit-counts", "志愿者甲")
        .await?;
    s.screenshot(&shot("overview")?).await?;
    s.click("#nav-data").await?;
    s.select("#export-format", "csv").await?;
    s.click("#export-visits").await?;
    s.wait_for_text("#export-result", "不含身份证号和电话")
        .await?;
    let exports = dir_s.path().join("app").join("exports");
    let file = std::fs::read_dir(&exports)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("走访安排"))
        .ok_or_else(|| anyhow::anyhow!("no visits export in {}", exports.display()))?;
    let table = std::fs::read_to_string(file)?;
    for wanted in [RESIDENT, ADDRESS, "志愿者甲", "不在家", next_week.as_str()] {
        assert!(table.contains(wanted), "{wanted} in the export");
    }
    assert!(
        !table.contains(id_number.as_str()),
        "no ID number in the export"
    );
    v.close().await?;
    s.close().await?;
    Ok(())
}
