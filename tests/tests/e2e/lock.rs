//! The PIN and the idle lock through the real window: the app locks itself when left
//! idle, opens again with the keyboard alone, and after five wrong PINs makes the next
//! try wait.

use std::time::Duration;

use doorstep_tests::{Driver, target_dir, with_deadline};
use fantoccini::key::Key;

const PIN: &str = "975310";

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn the_app_locks_when_idle_and_wrong_pins_make_it_wait() -> anyhow::Result<()> {
    with_deadline(scenario()).await
}

async fn scenario() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    // Locks after 3 idle seconds here (10 minutes by default).
    let driver = Driver::start_with(data.path(), &[("DOORSTEP_IDLE_LOCK_SECS", "3")])?;
    let window = driver.open().await?;

    // Too short a PIN is refused with the reason.
    window.click("#enroll-later").await?;
    window.type_into("#volunteer-name", "测试志愿者").await?;
    window.type_into("#pin-new", "1234").await?;
    window.type_into("#pin-again", "1234").await?;
    window.click("#pin-set").await?;
    window.wait_for_text("#pin-error", "至少要 6 位").await?;
    window.type_into("#pin-new", PIN).await?;
    window.type_into("#pin-again", PIN).await?;
    window.click("#pin-set").await?;
    window.wait_for("#nav-home").await?;

    // Left alone, it locks itself.
    tokio::time::sleep(Duration::from_secs(4)).await;
    window.wait_for("#pin-unlock").await?;
    window
        .screenshot(&target_dir()?.join("e2e").join("locked.png"))
        .await?;

    // The keyboard alone opens it: the PIN field has the focus, Enter submits.
    let field = window.wait_for("#pin-unlock").await?;
    let focused = window
        .client
        .execute(
            "return document.activeElement && document.activeElement.id",
            vec![],
        )
        .await?;
    assert_eq!(
        focused.as_str(),
        Some("pin-unlock"),
        "the PIN field has the focus"
    );
    field
        .send_keys(&format!("{PIN}{}", char::from(Key::Enter)))
        .await?;
    window.wait_for("#nav-home").await?;

    // Lock by hand; five wrong PINs, then even a try must wait.
    window.click("#lock").await?;
    for n in 1..=4 {
        window.type_into("#pin-unlock", "000000").await?;
        window.click("#pin-unlock-submit").await?;
        window
            .wait_for_text("#pin-error", &format!("已错 {n} 次"))
            .await?;
    }
    window.type_into("#pin-unlock", "000000").await?;
    window.click("#pin-unlock-submit").await?;
    window.wait_for_text("#pin-error", "请等").await?;
    let disabled = window
        .wait_for("#pin-unlock-submit")
        .await?
        .attr("disabled")
        .await?;
    assert!(disabled.is_some(), "the button waits too");
    window.close().await?;
    Ok(())
}
