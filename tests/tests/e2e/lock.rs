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

    // Left alone, it locks itself, and says why.
    tokio::time::sleep(Duration::from_secs(4)).await;
    window.wait_for("#pin-unlock").await?;
    window
        .wait_for_text("#pin-idle-locked", "3 秒没有操作")
        .await?;
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

    // The keyboard reaches the menu and the sync bar, and the focus is always visible:
    // each element Tab lands on draws a solid outline at least 3 px wide.
    let mut reached = Vec::new();
    for _ in 0..8 {
        window
            .client
            .active_element()
            .await?
            .send_keys(&char::from(Key::Tab).to_string())
            .await?;
        let seen = window
            .client
            .execute(
                r#"const el = document.activeElement; const st = getComputedStyle(el);
                   return [el.id || el.tagName, st.outlineStyle, parseFloat(st.outlineWidth)];"#,
                vec![],
            )
            .await?;
        let (id, style, width) = (
            seen[0].as_str().unwrap_or_default().to_owned(),
            seen[1].as_str().unwrap_or_default().to_owned(),
            seen[2].as_f64().unwrap_or(0.0),
        );
        assert!(
            style != "none" && width >= 3.0,
            "focus on {id} is not visible ({style}, {width}px)"
        );
        reached.push(id);
    }
    assert!(
        reached.iter().any(|id| id.starts_with("nav-")),
        "Tab reaches the menu: {reached:?}"
    );
    // Enter on a focused menu button opens its screen.
    window
        .client
        .execute("document.getElementById('nav-residents').focus()", vec![])
        .await?;
    window
        .client
        .active_element()
        .await?
        .send_keys(&char::from(Key::Enter).to_string())
        .await?;
    window.wait_for("#resident-search").await?;

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
