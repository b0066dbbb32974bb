use doorstep_core::id_number::IdNumber;
use doorstep_tests::{AppWindow, Driver, target_dir, with_deadline};

const NAME: &str = "测试张三";
const PIN: &str = "246810";
const LIST_NAMES: &str = "#resident-list .resident-name";

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn a_registered_resident_is_listed_and_survives_a_restart() -> anyhow::Result<()> {
    with_deadline(scenario()).await
}

async fn scenario() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let driver = Driver::start(data.path())?;
    let id_number = IdNumber::complete("11010119450815001").expect("17 digits");

    // First run without signal: the volunteer's name and a PIN, then an empty list.
    let window = driver.open().await?;
    window.secret(&id_number);
    window.secret("13900001234");
    window.wait_for("#enroll-later").await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("first-run-enroll.png"))
        .await?;
    // Later: the volunteer's name and a PIN.
    window.click("#enroll-later").await?;
    window.wait_for("#pin-new").await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("set-pin.png"))
        .await?;
    window.type_into("#volunteer-name", "测试志愿者").await?;
    window.type_into("#pin-new", PIN).await?;
    window.type_into("#pin-again", PIN).await?;
    window.click("#pin-set").await?;
    // Enrolling is offered from the sync bar whenever there is signal.
    window.click("#sync-enroll").await?;
    window.wait_for("#enroll-code").await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("enroll-from-bar.png"))
        .await?;
    window.click("#nav-residents").await?;
    window
        .wait_until_texts(".empty", "the empty-list message", |t| t.len() == 1)
        .await?;
    window.click("#resident-new").await?;

    // Bad input is refused at the field, in Chinese, and nothing is saved.
    let mut bad_id = id_number.clone();
    bad_id.replace_range(17.., if id_number.ends_with('4') { "5" } else { "4" });
    window.type_into("#resident-id-number", &bad_id).await?;
    window.click("#register-submit").await?;
    let name_error = window
        .wait_for("#resident-name-error")
        .await?
        .text()
        .await?;
    assert_eq!(name_error, "请填写姓名。");
    let id_error = window
        .wait_for("#resident-id-number-error")
        .await?
        .text()
        .await?;
    assert!(
        id_error.contains("校验不通过"),
        "checksum message: {id_error}"
    );
    assert!(window.texts(LIST_NAMES).await?.is_empty());

    // The same errors in English after switching the language.
    window.click("#lang-en").await?;
    window
        .wait_until_texts("#resident-name-error", "the English name error", |t| {
            t.first().is_some_and(|s| s == "Please enter the name.")
        })
        .await?;
    window.click("#lang-zh-CN").await?;

    // A valid registration opens the resident's page, and shows up in the list with
    // its number masked.
    window.type_into("#resident-name", NAME).await?;
    window.type_into("#resident-id-number", &id_number).await?;
    window.type_into("#resident-phone", "139 0000 1234").await?;
    // The help she needs on visits and whom to call.
    window.click("#resident-need-vision").await?;
    window
        .type_into("#resident-emergency-name", "测试女儿")
        .await?;
    window
        .type_into("#resident-emergency-relation", "女儿")
        .await?;
    window
        .type_into("#resident-emergency-phone", "13800005555")
        .await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("register-form.png"))
        .await?;
    window.click("#register-submit").await?;
    window.wait_for_text("#resident-title", NAME).await?;
    shows_needs_and_contact(&window).await?;
    let shown = window.wait_for("#resident-id").await?.text().await?;
    assert_eq!(shown, "**************0014");
    // The phone masked too; both whole only with the PIN, and a wrong PIN shows nothing.
    window
        .wait_for_text("#resident-phone-value", "139****1234")
        .await?;
    window.click("#resident-reveal").await?;
    window.type_into("#resident-reveal-pin", "000000").await?;
    window.click("#resident-reveal-submit").await?;
    window
        .wait_for_text("#resident-reveal-error", "密码不对")
        .await?;
    assert_eq!(window.wait_for("#resident-id").await?.text().await?, shown);
    window.type_into("#resident-reveal-pin", PIN).await?;
    window.click("#resident-reveal-submit").await?;
    window.wait_for_text("#resident-id", &id_number).await?;
    window
        .wait_for_text("#resident-phone-value", "13900001234")
        .await?;
    window
        .wait_for_text("#resident-emergency-value", "13800005555")
        .await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("resident-revealed.png"))
        .await?;

    // Editing the address alone keeps her needs and her emergency contact (an edit
    // once reset both).
    window.click("#resident-edit").await?;
    window.wait_for("#resident-address").await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("resident-edit.png"))
        .await?;
    window.type_into("#resident-address", "测试村 2 组").await?;
    window.click("#register-submit").await?;
    window.wait_for_text("#resident-title", NAME).await?;
    shows_needs_and_contact(&window).await?;
    window.click("#nav-residents").await?;
    window
        .wait_until_texts(LIST_NAMES, "the new resident in the list", |t| t == [NAME])
        .await?;
    let details = window.texts("#resident-list .resident-detail").await?;
    assert!(
        details.iter().any(|d| d.contains("**************0014")),
        "{details:?}"
    );
    assert!(
        details.iter().any(|d| d.contains("139****1234")),
        "{details:?}"
    );
    assert!(
        !details.iter().any(|d| d.contains(&id_number)),
        "full ID never shown"
    );
    window.close().await?;

    // Second run on the same data folder: a wrong PIN is refused, the right one opens
    // the app, and the resident is still listed.
    let window = driver.open().await?;
    window.secret(&id_number);
    window.secret("13900001234");
    window.type_into("#pin-unlock", "000000").await?;
    window.click("#pin-unlock-submit").await?;
    window.wait_for_text("#pin-error", "密码不对").await?;
    window.unlock(PIN).await?;
    window.click("#nav-residents").await?;
    window
        .wait_until_texts(LIST_NAMES, "the resident after a restart", |t| t == [NAME])
        .await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("resident-list.png"))
        .await?;
    window.close().await?;
    Ok(())
}

/// The resident's page shows her recorded needs and her emergency contact (its phone
/// masked).
async fn shows_needs_and_contact(window: &AppWindow) -> anyhow::Result<()> {
    window
        .wait_for_text("#resident-needs-value", "视力不好")
        .await?;
    window
        .wait_for_text("#resident-emergency-value", "测试女儿 · 女儿 · 138****5555")
        .await?;
    Ok(())
}
