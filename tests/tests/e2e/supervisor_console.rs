//! The supervisor's console through two real app windows (a volunteer's and a
//! supervisor's) and a real sync server on loopback:
//!
//! 1. The volunteer registers a resident, records an authorization and submits a pension
//!    certification; it syncs by itself.
//! 2. The supervisor finds the volunteer's sync in the log, opens it to the fields it
//!    wrote (the chain shown intact), opens the application from the review queue and
//!    returns it with a comment (a return without one is refused at the comment box).
//! 3. The volunteer's window shows the comment after its sync; the volunteer fixes the
//!    account and submits again; the supervisor sees the new value and approves; the
//!    volunteer's window shows it approved; a correction after approval puts it back in
//!    the queue, and the supervisor approves it again.
//! 4. The overview counts it, and her yearly certification as due (as does the
//!    volunteer's home); the face photo's quality record reached the review; a change an intruder planted in the server's database is
//!    kept apart on the supervisor's tablet and shown with whose it claims to be; a roster CSV with a bad row is previewed and imported, and a workbook kept as committees keep one (the roster on its second sheet under a title, totals and notes below) is found on its sheet below its title with what it left out listed; the
//!    residents export is masked unless the supervisor's PIN is given.
//! 5. The supervisor revokes the volunteer's device (a lost tablet); at its next sync
//!    the volunteer's window locks and says why, and nobody can unlock it.
//!
//! Screenshots of each console screen go to `target/debug/e2e/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use doorstep_core::id_number::{IdNumber, mask_tail};
use doorstep_tests::fleet::{committee, enrollment_text, server_db};
use doorstep_tests::{
    AppWindow, Driver, SAMPLE_PHOTO, ServerProcess, target_dir, with_deadline_of,
};
use fantoccini::Locator;

const PIN_VOLUNTEER: &str = "135790";
const PIN_SUPERVISOR: &str = "975310";
const RESIDENT: &str = "测试李秀英";
const ACCOUNT: &str = "6222000011112222";
const FIXED_ACCOUNT: &str = "6222000099998888";
const AMENDED_ACCOUNT: &str = "6222000077776666";
const COMMENT: &str = "账户号码少了一位，请和居民核对";
const REOPEN_NOTE: &str = "居民换了银行卡，请更新账户";
const SERVICE: &str = "pension_certification";
const APP_ENV: &[(&str, &str)] = &[("DOORSTEP_SYNC_INTERVAL_SECS", "1")];

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn a_supervisor_reviews_through_the_console_and_the_volunteer_follows() -> anyhow::Result<()>
{
    with_deadline_of(Duration::from_secs(300), scenario()).await
}

fn shot(name: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir()?
        .join("e2e")
        .join(format!("console-{name}.png")))
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

    // 1. The volunteer's work reaches the server by itself.
    let v = driver_v.open().await?;
    let id_number = IdNumber::complete("11010119400615002").expect("17 digits");
    for secret in [id_number.as_str(), ACCOUNT, FIXED_ACCOUNT, AMENDED_ACCOUNT] {
        v.secret(secret);
    }
    v.first_run_enroll(&url, &code_v, PIN_VOLUNTEER).await?;
    submit_application(&v, &id_number).await?;
    v.wait_for_text("#sync-pending", "待上传 0 条").await?;

    // 2. The supervisor: the queue first, then the log down to the fields.
    let s = driver_s.open().await?;
    for secret in [id_number.as_str(), ACCOUNT, FIXED_ACCOUNT, AMENDED_ACCOUNT] {
        s.secret(secret);
    }
    s.first_run_enroll(&url, &code_s, PIN_SUPERVISOR).await?;
    s.wait_for_text("#queue-title", "待审核").await?;
    s.wait_for_text(".queue-group", RESIDENT).await?;
    s.screenshot(&shot("queue")?).await?;
    names_a_person(&s, ".queue-row", &["志愿者甲"]).await?;

    s.click("#nav-log").await?;
    s.wait_for(".chain-ok").await?;
    // The volunteer is chosen among the committee's people (the choices load with the
    // committee's devices).
    s.wait_for("#log-volunteer option[value='志愿者甲']")
        .await?;
    s.select("#log-volunteer", "志愿者甲").await?;
    s.click("#log-search").await?;
    // The unfiltered page shows until the filtered one has come and been checked.
    s.wait_until_texts(
        "#log-entries .log-entry",
        "the volunteer's entries only",
        |t| !t.is_empty() && t.iter().all(|r| r.contains("志愿者甲")),
    )
    .await?;
    let rows = s.texts("#log-entries .log-entry").await?;
    assert!(
        rows.iter().all(|r| r.contains("志愿者甲")),
        "filtered by volunteer: {rows:?}"
    );
    // The volunteer's window synced as they went: every entry opened to its records.
    s.open_every_log_entry().await?;
    let change = s
        .wait_for_text(
            ".log-record[data-kind='application'] .field-change[data-field='fields.pension_account']",
            &mask_tail(ACCOUNT, 4),
        )
        .await?;
    // The account was first set in this change: its value alone, not "（未填）→ value".
    assert!(
        !change.contains("未填"),
        "a new field's value alone: {change}"
    );
    s.wait_for_text(
        ".log-record[data-kind='application'] .log-change",
        "志愿者甲",
    )
    .await?;
    // Each change says whose key signed it, checked against the server's key roster.
    let signed = s
        .wait_for_text(
            ".log-record[data-kind='application'] .log-signer",
            "签名已核验：志愿者甲",
        )
        .await?;
    assert!(!signed.contains('✗'), "{signed}");
    s.screenshot(&shot("log")?).await?;

    // Returned with a comment (none first: refused at the box).
    s.click("#nav-review").await?;
    s.click(".queue-row").await?;
    // The account masked, whole only after the supervisor's PIN.
    s.wait_for_text("#review-fields", &mask_tail(ACCOUNT, 4))
        .await?;
    assert!(!s.texts("#review-fields").await?.concat().contains(ACCOUNT));
    s.click("#review-reveal").await?;
    s.type_into("#review-reveal-pin", PIN_SUPERVISOR).await?;
    s.click("#review-reveal-submit").await?;
    s.wait_for_text("#review-fields", ACCOUNT).await?;
    s.click("#review-reveal-hide").await?;
    s.wait_for_text("#review-fields", &mask_tail(ACCOUNT, 4))
        .await?;
    s.wait_for("#review-consents").await?;
    // The face photo's quality record came up with it through the sync: it was chosen
    // as a file, and the camera's checks found no face in it.
    let note = s
        .wait_for_text("#review-quality-face_photo", "选择的照片")
        .await?;
    assert!(note.contains("没有拍到脸"), "{note}");
    s.wait_for(".authorization .blob-image").await?;
    s.screenshot(&shot("review")?).await?;
    names_a_person(&s, "#review-history li", &["志愿者甲", "测试主任"]).await?;
    s.click("#decide-returned").await?;
    s.wait_for_text("#review-text-error", "退回意见").await?;
    s.type_into("#review-text", COMMENT).await?;
    s.click("#decide-returned").await?;
    s.click("#review-confirm-yes").await?;
    s.wait_for_text("#review-status", "已退回").await?;

    // 3. The volunteer sees the comment, fixes the account and submits again.
    v.click("#nav-home").await?;
    v.wait_for_text("#home-returned", RESIDENT).await?;
    v.click("#home-returned .application-row").await?;
    v.wait_for_text("#application-review-text", COMMENT).await?;
    // It opens on the check, the whole form in view under the supervisor's note.
    v.wait_for("#application-check").await?;
    v.click("#step-0").await?;
    v.type_into("#field-pension_account", FIXED_ACCOUNT).await?;
    v.click("#step-3").await?;
    v.click("#application-submit").await?;
    v.wait_for_text("#application-status", "已提交").await?;

    // The supervisor sees the new value and approves.
    s.click("#nav-log").await?;
    s.click("#nav-review").await?;
    s.wait_for(".queue-row").await?;
    s.click(".queue-row").await?;
    s.wait_for_text("#review-fields", &mask_tail(FIXED_ACCOUNT, 4))
        .await?;
    s.wait_for_text("#review-history", COMMENT).await?;
    s.click("#decide-approved").await?;
    s.click("#review-confirm-yes").await?;
    s.wait_for_text("#review-status", "已批准").await?;
    v.wait_for_text("#application-status", "已批准").await?;

    // A correction after approval: the volunteer's tablet may not reopen a decided
    // application; the supervisor reopens it, the volunteer corrects it, and it is
    // decided again.
    v.wait_gone("#application-amend").await?;
    s.wait_for_text("label[for='review-text']", "重新打开时")
        .await?;
    s.type_into("#review-text", REOPEN_NOTE).await?;
    s.click("#decide-reopened").await?;
    s.wait_for("#review-confirm-yes").await?;
    s.screenshot(&shot("reopen-confirm")?).await?;
    s.click("#review-confirm-yes").await?;
    s.wait_for_text("#review-status", "已提交").await?;
    v.wait_for("#application-amend").await?;
    v.click("#application-amend").await?;
    v.wait_for_text("#application-amending", "主管重新打开")
        .await?;
    v.wait_for_text("#application-amending", REOPEN_NOTE)
        .await?;
    v.screenshot(&shot("volunteer-reopened")?).await?;
    v.click("#step-0").await?;
    v.type_into("#field-pension_account", AMENDED_ACCOUNT)
        .await?;
    v.click("#step-3").await?;
    v.wait_for_text("#application-status", "已提交").await?;
    s.click("#nav-overview").await?;
    s.click("#nav-review").await?;
    s.wait_for_text(".queue-group", RESIDENT).await?;
    s.click(".queue-row").await?;
    s.wait_for_text("#review-fields", &mask_tail(AMENDED_ACCOUNT, 4))
        .await?;
    s.wait_for_text("#review-history", "重新打开").await?;
    s.click("#decide-approved").await?;
    s.click("#review-confirm-yes").await?;
    s.wait_for_text("#review-status", "已批准").await?;

    // 4. The overview counts it.
    s.click("#nav-overview").await?;
    s.wait_for_text(
        "#overview-counts tr[data-service='pension_certification'] td[data-status='approved']",
        "1",
    )
    .await?;
    // Her yearly certification is followed: approved but not yet filed, with no
    // certification on record, it is due, on the overview and on the volunteer's home.
    let due = s.wait_for_text("#overview-to-visit", RESIDENT).await?;
    assert!(
        due.contains("没有认证记录") && due.contains("已批准"),
        "{due}"
    );
    s.wait_for_text("#overview-certification-counts td[data-state='due']", "1")
        .await?;
    s.screenshot(&shot("overview")?).await?;
    v.click("#nav-home").await?;
    v.wait_for_text("#home-certification-list", RESIDENT)
        .await?;
    v.screenshot(&shot("volunteer-home")?).await?;

    // An intruder in the server's database slips in a change to the resident's name as
    // if the volunteer's tablet had made it: the supervisor's tablet checks it against
    // the roster, keeps it apart, and the console says whose it claims to be and why.
    server_db(&server.data_dir)?.plant_forged_change("resident", "volunteer", |doc| {
        use automerge::transaction::Transactable;
        doc.put(automerge::ROOT, "name", "测试篡改").expect("put");
    })?;
    s.click("#nav-review").await?;
    s.click("#nav-overview").await?;
    s.wait_for_text("#overview-apart", "志愿者甲").await?;
    s.wait_for_text("#overview-apart", "签名不是它所说的那台设备的")
        .await?;
    s.screenshot(&shot("apart")?).await?;
    s.click("#lang-en").await?;
    s.wait_for_text("#overview-apart", "Changes not merged")
        .await?;
    s.screenshot(&shot("apart-en")?).await?;
    s.click("#lang-zh-CN").await?;
    // A count opens the list of those applications; its row opens the review, where an
    // approved application can no longer be approved.
    s.click("#overview-counts tr[data-service='pension_certification'] td[data-status='approved'] button")
        .await?;
    s.wait_for_text("#applications-list", RESIDENT).await?;
    s.screenshot(&shot("applications")?).await?;
    s.click(".applications-row").await?;
    s.wait_for_text("#review-status", "已批准").await?;
    s.wait_gone("#decide-approved").await?;

    // A roster with one bad row: previewed, imported, reported.
    s.click("#nav-data").await?;
    let good = IdNumber::complete("11010119400101001").expect("17 digits");
    let wrong_check = if good.ends_with('0') { "1" } else { "0" };
    let (first, second) = (
        IdNumber::complete("11010119380203001").expect("17 digits"),
        IdNumber::complete("11010119391104002").expect("17 digits"),
    );
    for secret in [first.as_str(), second.as_str(), "13900005555"] {
        s.secret(secret);
    }
    let roster = format!(
        "姓名,身份证号,电话\n测试张建国,{first},13900005555\n测试刘玉兰,{second},\n测试错行,{}{wrong_check},\n",
        &good[..17],
    );
    s.choose_file("#import-file", "名册.csv", "text/csv", roster.as_bytes())
        .await?;
    s.wait_for_text("#import-preview", "2 人可以导入").await?;
    s.wait_for_text("#import-preview-rejected tr[data-line='4']", "测试错行")
        .await?;
    s.screenshot(&shot("import-preview")?).await?;
    s.click("#import-run").await?;
    s.wait_for_text("#import-report", "新增 2 人").await?;
    s.wait_for_text("#import-rejected tr[data-line='4']", "校验")
        .await?;

    // A roster as a committee keeps it: its instructions on the first sheet, the roster
    // on the second under a merged title and a date line, a totals line and who drew it
    // up at the bottom. Found on its sheet below the title, the rest listed, not read.
    let (third, fourth) = (
        IdNumber::complete("11010119370506003").expect("17 digits"),
        IdNumber::complete("11010119360708004").expect("17 digits"),
    );
    for secret in [third.as_str(), fourth.as_str()] {
        s.secret(secret);
    }
    let kept = kept_roster(&[
        ("测试王秀英", third.as_str()),
        ("测试陈桂芳", fourth.as_str()),
    ])?;
    s.choose_file(
        "#import-file",
        "高龄老人花名册.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &kept,
    )
    .await?;
    s.wait_for_text(
        "#import-header-line",
        "读取的是工作表“花名册”，表头在第 3 行。",
    )
    .await?;
    s.wait_for_text("#import-preview", "2 人可以导入").await?;
    s.wait_for_text(
        "#import-ignored li[data-line='1']",
        "测试社区高龄老人花名册",
    )
    .await?;
    s.wait_for_text("#import-ignored li[data-line='6']", "（合计）")
        .await?;
    s.wait_for_text("#import-ignored li[data-line='8']", "制表人")
        .await?;
    s.show("#import-ignored").await?;
    s.screenshot(&shot("import-kept-roster")?).await?;
    // The instructions sheet, chosen: no header row on it; then the roster again.
    s.select("#import-sheet", "填表说明").await?;
    s.wait_for("#import-layout-missing").await?;
    s.select("#import-sheet", "花名册").await?;
    s.wait_for_text("#import-header-line", "表头在第 3 行")
        .await?;
    s.click("#import-run").await?;
    s.wait_for_text("#import-report", "新增 2 人").await?;

    // The applications export, masked: no personal number whole in any column, and
    // every row names who submitted it.
    let exports = dir_s.path().join("app").join("exports");
    s.select("#export-format", "csv").await?;
    s.click("#export-applications").await?;
    s.wait_for_text("#export-result", "已打码").await?;
    let applications = std::fs::read_to_string(newest_csv_or_xlsx(&exports)?)?;
    assert!(
        applications.contains(RESIDENT),
        "the export lists the application"
    );
    for secret in [id_number.as_str(), ACCOUNT, FIXED_ACCOUNT, AMENDED_ACCOUNT] {
        assert!(
            !applications.contains(secret),
            "the masked applications export shows a personal number whole"
        );
    }
    assert!(
        applications.contains("志愿者甲"),
        "the export names who submitted"
    );
    s.select("#export-format", "xlsx").await?;

    // The residents export: masked, then whole with the PIN.
    s.click("#export-residents").await?;
    s.wait_for_text("#export-result", "已打码").await?;
    let masked = newest_csv_or_xlsx(&exports)?;
    s.click("#export-reveal").await?;
    s.type_into("#export-pin", "000000").await?;
    s.click("#export-residents").await?;
    s.wait_for_text("#export-panel [role='alert']", "密码不对")
        .await?;
    s.type_into("#export-pin", PIN_SUPERVISOR).await?;
    s.click("#export-residents").await?;
    s.wait_for_text("#export-result", "完整身份证号").await?;
    let whole = newest_csv_or_xlsx(&exports)?;
    assert_ne!(masked, whole);
    let ids_of = |path: &Path| -> anyhow::Result<Vec<String>> {
        let bytes = std::fs::read(path)?;
        let roster =
            doorstep_device::roster::read_roster(&bytes, doorstep_device::roster::Format::Xlsx)?;
        Ok(roster.rows.into_iter().map(|(_, r)| r.id_number).collect())
    };
    let masked_ids = ids_of(&masked)?;
    let phones = doorstep_device::roster::read_roster(
        &std::fs::read(&masked)?,
        doorstep_device::roster::Format::Xlsx,
    )?
    .rows
    .into_iter()
    .map(|(_, r)| r.phone)
    .collect::<Vec<_>>();
    assert!(
        !phones.iter().any(|p| p.contains("13900005555")),
        "the masked residents export shows a phone whole: {phones:?}"
    );
    let whole_ids = ids_of(&whole)?;
    // The volunteer's resident, two from the CSV roster and two from the workbook.
    assert_eq!(masked_ids.len(), 5);
    assert!(masked_ids.iter().all(|id| id.starts_with("**************")));
    assert!(
        whole_ids.contains(&id_number),
        "the volunteer's resident, whole"
    );
    s.screenshot(&shot("data")?).await?;

    // A supervisor fills in no application (the form is the volunteers'): the resident's
    // page in the console offers none, so nothing is theirs to decide.
    s.click("#nav-residents").await?;
    s.click("#resident-list .resident .row-button").await?;
    s.wait_for("#resident-authorize").await?;
    assert!(
        s.client
            .find_all(Locator::Css("#resident-new-application"))
            .await?
            .is_empty(),
        "the console offers a supervisor an application to fill in"
    );

    // 5. The volunteer's tablet is lost: revoked, it locks and says why; nobody unlocks
    // it. Found again, she enrolls it anew with a new code and her PIN, and her work is
    // there.
    s.click("#nav-devices").await?;
    s.wait_for_text("#device-list", "志愿者甲").await?;
    s.screenshot(&shot("devices")?).await?;
    s.revoke_device_of("志愿者甲", PIN_SUPERVISOR).await?;
    s.wait_for(".device[data-revoked='true']").await?;
    v.wait_for_text("#all-removed", "志愿者甲可以重新登记")
        .await?;
    assert!(
        v.texts("#pin-unlock").await?.is_empty(),
        "no PIN screen for a person removed"
    );
    v.screenshot(&shot("volunteer-revoked")?).await?;
    let again = enrollment_text(&server, &["c1"], "volunteer", "志愿者甲", "1h")?.to_text();
    v.type_into("#enroll-again-code", &again).await?;
    v.type_into("#enroll-again-pin", "000000").await?;
    v.click("#enroll-again-submit").await?;
    v.wait_for_text("#enroll-again-error", "密码不对").await?;
    v.type_into("#enroll-again-pin", PIN_VOLUNTEER).await?;
    v.click("#enroll-again-submit").await?;
    v.wait_for_text("#sync-pending", "待上传 0 条").await?;
    v.click("#nav-residents").await?;
    v.wait_for_text("#resident-list", RESIDENT).await?;
    // Received anew from the start, the intruder's planted change is kept apart here too.
    v.wait_for_text("#unsent-badge", "1 条记录未同步").await?;
    v.screenshot(&shot("volunteer-enrolled-again")?).await?;
    v.close().await?;
    s.close().await?;
    Ok(())
}

/// Every element matching `css` (there is at least one) names one of `people`, and
/// none is left unsigned.
async fn names_a_person(w: &AppWindow, css: &str, people: &[&str]) -> anyhow::Result<()> {
    let lines = w.client.find_all(Locator::Css(css)).await?;
    anyhow::ensure!(!lines.is_empty(), "no {css} on screen");
    for line in lines {
        let text = line.text().await?;
        anyhow::ensure!(
            people.iter().any(|p| text.contains(p)) && !text.contains("未署名"),
            "{css} names nobody: {text}"
        );
    }
    Ok(())
}

/// The newest file in the exports folder.
fn newest_csv_or_xlsx(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    files
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| anyhow::anyhow!("no export in {}", dir.display()))
}

/// Registers the resident, records their authorization and submits a pension
/// certification with a photo she agreed to.
async fn submit_application(v: &AppWindow, id_number: &str) -> anyhow::Result<()> {
    v.click("#nav-residents").await?;
    v.click("#resident-new").await?;
    v.type_into("#resident-name", RESIDENT).await?;
    v.type_into("#resident-id-number", id_number).await?;
    v.click("#register-submit").await?;
    v.wait_for_text("#resident-title", RESIDENT).await?;
    v.authorize(SERVICE).await?;
    v.click_to("#resident-new-application", &format!("#start-{SERVICE}"))
        .await?;
    v.click_to(&format!("#start-{SERVICE}"), "#field-pension_type")
        .await?;
    v.select("#field-pension_type", "resident").await?;
    v.type_into("#field-pension_account", ACCOUNT).await?;
    v.click("#step-next").await?;
    v.choose_file("#attach-face_photo", "照片.png", "image/png", SAMPLE_PHOTO)
        .await?;
    v.wait_for_text("#attached-face_photo", "照片.png").await?;
    v.click("#step-next").await?;
    v.select("#field-lives_at_registered_address", "true")
        .await?;
    // She agrees to the use of her photo herself, in resident mode.
    v.resident_agrees(PIN_VOLUNTEER).await?;
    v.click("#step-3").await?;
    v.click("#application-submit").await?;
    v.wait_for_text("#application-status", "已提交").await?;
    Ok(())
}

/// A roster workbook as committees keep one (synthetic): an instructions sheet, then the
/// roster under a merged title and a date line, a totals line and who drew it up.
fn kept_roster(people: &[(&str, &str)]) -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let about = book.add_worksheet().set_name("填表说明")?;
    about.write_string(0, 0, "请按下表填写，身份证号请设为文本")?;
    let sheet = book.add_worksheet().set_name("花名册")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    sheet.merge_range(0, 0, 0, 3, "测试社区高龄老人花名册", &bold)?;
    sheet.write_string(1, 0, "填报日期：2026年12月")?;
    for (col, text) in ["序号", "姓名", "身份证号码", "备注"].iter().enumerate() {
        sheet.write_string(2, u16::try_from(col)?, *text)?;
    }
    for (n, (name, id)) in people.iter().enumerate() {
        let row = 3 + u32::try_from(n)?;
        sheet.write_string(row, 0, (n + 1).to_string())?;
        sheet.write_string(row, 1, *name)?;
        sheet.write_string(row, 2, *id)?;
    }
    let below = 3 + u32::try_from(people.len())?;
    sheet.write_string(below, 0, "合 计")?;
    sheet.write_string(below, 1, format!("{}人", people.len()))?;
    sheet.write_string(below + 2, 0, "制表人：测试丙")?;
    Ok(book.save_to_buffer()?)
}
