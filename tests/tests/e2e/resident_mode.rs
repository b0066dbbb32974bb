//! Resident mode through the real window: every screen at every text size (and in high
//! contrast) measured from the live DOM — body text ≥ 24 px (18 pt), the largest size ≥
//! 40 px (30 pt), line height ≥ 1.3, contrast of all text ≥ 7:1, every control ≥ 60×60
//! px — and checked by axe-core with zero violations. Consent is declined, then given with
//! a signature; once she has agreed her photos are taken on her screen with the guided
//! camera (measured like every screen); the read-aloud button says plainly when no voice
//! can speak; a receipt is saved as a PDF; only the volunteer's PIN leaves. Screenshots of every screen go to `target/debug/e2e/resident/`.

use std::time::Duration;

use anyhow::{Context, bail};
use doorstep_core::id_number::IdNumber;
use doorstep_tests::window::WINDOW_SIZES;
use doorstep_tests::{AppWindow, Driver, SAMPLE_PHOTO, target_dir, with_deadline_of};
use serde_json::{Value, json};

const PIN: &str = "112358";
const RESIDENT: &str = "测试李桂英";
const SERVICE: &str = "pension_certification";
const ID_NUMBER_17: &str = "11010119480707002";
/// [`ID_NUMBER_17`] with its check digit.
const ID_NUMBER: &str = "110101194807070022";
const ACCOUNT: &str = "6222000033334444";

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn resident_mode_is_large_clear_accessible_and_left_only_with_the_pin() -> anyhow::Result<()>
{
    with_deadline_of(Duration::from_secs(600), scenario()).await
}

/// Measures the resident-mode screen as shown: text sizes, line heights and contrast of
/// every visible text node, and the size of every control.
const MEASURE: &str = r#"
const root = document.querySelector(".resident-mode");
const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
  const p = m[1].split(",").map((x) => parseFloat(x)); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
  if (c && c.a > 0.99) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
const failures = [];
let minFont = 1e9, maxFont = 0, minLine = 1e9, minContrast = 1e9, minTarget = 1e9, texts = 0, controls = 0;
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (!node.textContent.trim()) continue;
  const el = node.parentElement;
  const st = getComputedStyle(el);
  if (st.display === "none" || st.visibility === "hidden" || el.getClientRects().length === 0) continue;
  texts++;
  const size = parseFloat(st.fontSize);
  const line = st.lineHeight === "normal" ? 1.2 : parseFloat(st.lineHeight) / size;
  const fg = parse(st.color), bg = background(el);
  const l1 = lum(fg), l2 = lum(bg);
  const contrast = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  minFont = Math.min(minFont, size); maxFont = Math.max(maxFont, size);
  minLine = Math.min(minLine, line); minContrast = Math.min(minContrast, contrast);
  const what = node.textContent.trim().slice(0, 12);
  if (size < 24) failures.push(`text ${what}: ${size}px`);
  if (line < 1.3) failures.push(`text ${what}: line height ${line.toFixed(2)}`);
  if (contrast < 7) failures.push(`text ${what}: contrast ${contrast.toFixed(2)}`);
}
// The answers (and the signature box) are always on screen: an old person will not scroll.
for (const c of root.querySelectorAll(".rm-actions button, .rm-read button, .rm-more button, canvas, #rm-leave")) {
  const r = c.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.top < 0 || r.left < 0 || r.bottom > window.innerHeight + 0.5 || r.right > window.innerWidth + 0.5)
    failures.push(`control ${c.id || c.tagName} outside the ${window.innerWidth}x${window.innerHeight} window: ${r.left.toFixed(0)},${r.top.toFixed(0)} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`);
}
for (const c of root.querySelectorAll("button, input, select, textarea, a[href], canvas, [role=button]")) {
  const r = c.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  controls++;
  minTarget = Math.min(minTarget, r.width, r.height);
  if (r.width < 60 || r.height < 60) failures.push(`control ${c.id || c.tagName}: ${r.width.toFixed(0)}x${r.height.toFixed(0)}`);
}
return { failures, minFont, maxFont, minLine, minContrast, minTarget, texts, controls,
  bodyFont: parseFloat(getComputedStyle(root).fontSize) };
"#;

struct Figures {
    min_font: f64,
    max_body: f64,
    min_line: f64,
    min_contrast: f64,
    min_target: f64,
    checks: usize,
}

async fn measure(w: &AppWindow, label: &str, figures: &mut Figures) -> anyhow::Result<()> {
    let m = w.client.execute(MEASURE, vec![]).await?;
    let failures = m["failures"].as_array().cloned().unwrap_or_default();
    if !failures.is_empty() {
        bail!("{label}: {failures:?}");
    }
    let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    if f("texts") < 1.0 || f("controls") < 1.0 {
        bail!("{label}: nothing measured ({m})");
    }
    figures.min_font = figures.min_font.min(f("minFont"));
    figures.max_body = figures.max_body.max(f("bodyFont"));
    figures.min_line = figures.min_line.min(f("minLine"));
    figures.min_contrast = figures.min_contrast.min(f("minContrast"));
    figures.min_target = figures.min_target.min(f("minTarget"));
    figures.checks += 1;
    Ok(())
}

async fn axe(w: &AppWindow, label: &str) -> anyhow::Result<()> {
    let loaded = w
        .client
        .execute("return typeof window.axe !== 'undefined'", vec![])
        .await?;
    if loaded != Value::Bool(true) {
        let path = target_dir()?
            .parent()
            .and_then(|t| t.parent())
            .context("the workspace")?
            .join("frontend/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} (npm package axe-core)", path.display()))?;
        w.client.execute(&source, vec![]).await?;
    }
    let result = w
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document.querySelector(".resident-mode"), { resultTypes: ["violations"] })
                 .then((r) => done(r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) }))))
                 .catch((e) => done([{ id: "axe failed: " + e, nodes: [] }]));"#,
            vec![],
        )
        .await?;
    let violations = result.as_array().cloned().unwrap_or_default();
    if !violations.is_empty() {
        bail!("{label}: axe-core found {}", json!(violations));
    }
    Ok(())
}

/// Every text size at every window size, then high contrast; axe on each text size;
/// a screenshot at the default size.
async fn check_screen(w: &AppWindow, name: &str, figures: &mut Figures) -> anyhow::Result<()> {
    // As she arrives (the answers wait behind 往下看 until she has seen it all), then
    // with the answers shown, at every size.
    measure(w, &format!("{name} on arriving"), figures).await?;
    w.resident_reads_all().await?;
    for (width, height) in WINDOW_SIZES {
        w.set_viewport(width, height).await?;
        for size in 0..3 {
            w.click(&format!("#rm-size-{size}")).await?;
            measure(w, &format!("{name} {width}x{height} size {size}"), figures).await?;
            if width == 1280 {
                axe(w, &format!("{name} size {size}")).await?;
            }
        }
    }
    w.set_viewport(WINDOW_SIZES[0].0, WINDOW_SIZES[0].1).await?;
    w.click("#rm-contrast").await?;
    measure(w, &format!("{name} high contrast"), figures).await?;
    axe(w, &format!("{name} high contrast")).await?;
    w.click("#rm-contrast").await?;
    w.click("#rm-size-1").await?;
    w.screenshot(
        &target_dir()?
            .join("e2e")
            .join("resident")
            .join(format!("{name}.png")),
    )
    .await?;
    Ok(())
}

async fn scenario() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    // No sound device here: speech is off, and the button must say so.
    let driver = Driver::start_with(
        data.path(),
        &[
            ("DOORSTEP_TTS", "off"),
            ("DOORSTEP_IDLE_LOCK_SECS", "15"),
            ("DOORSTEP_CAMERA", "mock"),
        ],
    )?;
    let w = driver.open().await?;
    w.first_run_offline("测试志愿者", PIN).await?;

    // A resident and a filled pension certification with a photo.
    w.click("#nav-residents").await?;
    w.click("#resident-new").await?;
    w.type_into("#resident-name", RESIDENT).await?;
    let id_number = IdNumber::complete(ID_NUMBER_17).expect("17 digits");
    assert_eq!(id_number, ID_NUMBER);
    w.secret(ID_NUMBER);
    w.secret(ACCOUNT);
    w.type_into("#resident-id-number", &id_number).await?;
    // She is hard of hearing: resident mode will open with its largest text.
    w.click("#resident-need-hearing").await?;
    w.click("#register-submit").await?;
    w.authorize(SERVICE).await?;
    w.click_to("#resident-new-application", &format!("#start-{SERVICE}"))
        .await?;
    w.click_to(&format!("#start-{SERVICE}"), "#field-pension_type")
        .await?;
    w.select("#field-pension_type", "resident").await?;
    w.type_into("#field-pension_account", ACCOUNT).await?;
    // Straight on to the check, as a quick volunteer would: what was typed is there.
    w.click("#step-3").await?;
    // The check shows an account masked but for its last four.
    w.wait_for_text("#application-check", "************4444")
        .await?;
    w.click("#step-2").await?;
    w.select("#field-lives_at_registered_address", "true")
        .await?;
    w.click("#step-1").await?;
    w.choose_file("#attach-face_photo", "face.png", "image/png", SAMPLE_PHOTO)
        .await?;
    w.wait_for_text("#attached-face_photo", "face.png").await?;

    // Handed over: resident mode fills the window, with no way out but the PIN.
    w.click("#hand-to-resident").await?;
    w.wait_for(".resident-mode").await?;
    assert!(
        w.client
            .find_all(fantoccini::Locator::Css("#nav-home, #lock, .topbar"))
            .await?
            .is_empty(),
        "nothing of the volunteer's screens shows"
    );
    w.wait_for("#rm-size-2[aria-pressed='true']")
        .await
        .context("resident mode opens with the largest text for a resident hard of hearing")?;
    let mut figures = Figures {
        min_font: f64::MAX,
        max_body: 0.0,
        min_line: f64::MAX,
        min_contrast: f64::MAX,
        min_target: f64::MAX,
        checks: 0,
    };

    // Without a voice, read-aloud is not offered to her at all (a button that can only
    // say "no voice" would be for staff, not for her).
    assert!(
        w.client
            .find_all(fantoccini::Locator::Css("#rm-read, #rm-autoread"))
            .await?
            .is_empty(),
        "read-aloud is offered where no voice is installed"
    );
    // Its status line keeps resident mode's size for when a voice is there.
    let speech_px = w
        .client
        .execute(
            "return parseFloat(getComputedStyle(document.querySelector('#rm-speech')).fontSize)",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    assert!(speech_px >= 24.0, "read-aloud's message is {speech_px} px");

    // No timeouts: longer than the idle lock, and still in resident mode.
    tokio::time::sleep(Duration::from_secs(16)).await;
    w.wait_for(".resident-mode h1").await?;

    let mut screen = 0;
    let mut changed = false;
    loop {
        let title = w.wait_for(".rm-content h1").await?.text().await?;
        let name = format!("{screen:02}");
        check_screen(&w, &name, &mut figures)
            .await
            .with_context(|| format!("screen {screen} ({title})"))?;
        w.resident_reads_all().await?;
        if !w
            .client
            .find_all(fantoccini::Locator::Css("#rm-agree"))
            .await?
            .is_empty()
        {
            // Consent says how long the photo is kept (the catalog's rule); declined
            // first (then the application says what cannot go ahead), then given with a
            // signature.
            w.wait_for_text("#rm-kept", "保存一年").await?;
            w.click("#rm-decline").await?;
            w.wait_for_text("#rm-progress", &format!("第 {} 步", screen + 2))
                .await?;
            w.click("#rm-back").await?;
            w.wait_for_text("#rm-decided", "没有同意").await?;
            w.resident_reads_all().await?;
            // Agreeing asks for her signature on a screen of its own.
            w.click("#rm-agree").await?;
            w.wait_for(".rm-content h1").await?;
            check_screen(&w, "sign", &mut figures).await?;
            w.click("#rm-signed").await?;
            w.wait_for_text("#rm-signature-error", "请先在框里签名")
                .await?;
            w.draw_on("#rm-signature").await?;
            w.click("#rm-signed").await?;
        } else if w
            .client
            .find_all(fantoccini::Locator::Css("#rm-yes"))
            .await?
            .is_empty()
        {
            break; // the last screen: hand the tablet back
        } else {
            // "Change" on the first step showing the resident's details.
            if !changed
                && !w
                    .client
                    .find_all(fantoccini::Locator::Css("#rm-change"))
                    .await?
                    .is_empty()
            {
                changed = true;
                w.click("#rm-change").await?;
                check_screen(&w, "change", &mut figures).await?;
                w.click("#rm-change-done").await?;
                w.resident_reads_all().await?;
            }
            w.click("#rm-yes").await?;
        }
        w.wait_for_text("#rm-progress", &format!("第 {} 步", screen + 2))
            .await?;
        screen += 1;
        if screen > 20 {
            bail!("resident mode has no end");
        }
    }
    assert!(
        screen >= 4,
        "welcome, steps, consent and the end: {screen} screens"
    );
    assert!(
        changed,
        "a step showed the resident's details with a Change button"
    );

    // Before submission there is no receipt yet, and the screen says when there will be.
    w.wait_for("#rm-receipt-later").await?;
    check_screen(&w, "done-draft", &mut figures).await?;

    // Once she has agreed, her photos can be taken on her own screen: back on the
    // consent screen, the camera (WebKit's synthetic one) in her text size and colours,
    // measured like every screen; her face photo by hand, then the one with her ID card.
    // (Each screen on the way back is read to its end: its answers wait until then.)
    for _ in 0..8 {
        if !w
            .client
            .find_all(fantoccini::Locator::Css("#rm-camera-face_photo"))
            .await?
            .is_empty()
        {
            break;
        }
        w.resident_reads_all().await?;
        w.click("#rm-back").await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    w.wait_for_text("#rm-decided", "同意").await?;
    w.click_to("#rm-camera-face_photo", "#camera-guide").await?;
    w.wait_for_text("#camera-guidance", "看不到脸").await?;
    w.screenshot(
        &target_dir()?
            .join("e2e")
            .join("resident")
            .join("camera-open.png"),
    )
    .await?;
    check_screen(&w, "camera", &mut figures).await?;
    w.click("#camera-shutter").await?;
    w.wait_for_text("#camera-guidance", "请眨一下眼睛").await?;
    check_screen(&w, "camera-liveness", &mut figures).await?;
    w.click("#camera-skip-liveness").await?;
    w.wait_gone("#camera-guide").await?;
    w.click_to("#rm-camera-id_card_photo", "#camera-guide")
        .await?;
    w.wait_for_text("#camera-instruction", "身份证拿在胸前")
        .await?;
    check_screen(&w, "camera-id-card", &mut figures).await?;
    w.click("#camera-shutter").await?;
    w.wait_gone("#camera-guide").await?;
    assert!(
        w.client
            .find_all(fantoccini::Locator::Css("#rm-camera-error"))
            .await?
            .is_empty(),
        "the photos taken on her screen were attached"
    );

    // Only the PIN leaves: a wrong one is refused, the right one returns to the form.
    w.click("#rm-leave").await?;
    check_screen(&w, "leave", &mut figures).await?;
    w.type_into("#rm-pin", "000000").await?;
    w.click("#rm-leave-submit").await?;
    w.wait_for_text("#rm-pin-error", "密码不对").await?;
    w.type_into("#rm-pin", PIN).await?;
    w.click("#rm-leave-submit").await?;
    w.wait_for("#application-status").await?;
    // She asked for a change, then confirmed the step: nothing is left flagged.
    assert!(
        w.client
            .find_all(fantoccini::Locator::Css("#application-flagged"))
            .await?
            .is_empty(),
        "a step the resident confirmed after asking to change it is still flagged"
    );
    // The consent is among the application's events, with what she decided.
    w.click("#step-3").await?;
    w.wait_for_text("#application-events", "居民的决定").await?;
    w.wait_for_text("#application-events", "本人正面照片（人脸信息）：同意")
        .await?;

    // Again, and this time she wants the pension details changed and the tablet goes
    // back: the volunteer sees which, and submitting asks first.
    w.click("#hand-to-resident").await?;
    w.wait_for(".resident-mode").await?;
    for _ in 0..5 {
        w.resident_reads_all().await?;
        if !w
            .client
            .find_all(fantoccini::Locator::Css("#rm-change"))
            .await?
            .is_empty()
        {
            break;
        }
        w.click("#rm-yes").await?;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    w.click("#rm-change").await?;
    w.click("#rm-leave").await?;
    w.type_into("#rm-pin", PIN).await?;
    w.click("#rm-leave-submit").await?;
    w.wait_for_text("#application-flagged", "养老金类型")
        .await?;
    w.click("#step-3").await?;
    w.click("#application-submit").await?;
    w.wait_for("#application-confirm-flags").await?;
    w.wait_for_text("#application-status", "草稿").await?;
    w.click("#application-confirm-flags-yes").await?;
    w.wait_for_text("#application-status", "已提交").await?;
    w.wait_for("#application-submitted").await?;

    // Submitted: she reads what went in (no "要改" any more), her consent stands as
    // recorded, and the last screen offers the receipt.
    w.click("#hand-to-resident").await?;
    w.wait_for(".resident-mode").await?;
    let mut saw_consent = false;
    for _ in 0..20 {
        w.resident_reads_all().await?;
        let shows = |css: &'static str| {
            let client = w.client.clone();
            async move {
                anyhow::Ok(
                    !client
                        .find_all(fantoccini::Locator::Css(css))
                        .await?
                        .is_empty(),
                )
            }
        };
        assert!(
            !shows("#rm-change").await?,
            "a submitted application still offers the resident a change"
        );
        if shows("#rm-decided").await? {
            w.wait_for_text("#rm-decided", "申请已经提交").await?;
            saw_consent = true;
        }
        if shows("#rm-receipt").await? {
            break;
        }
        w.click("#rm-yes").await?;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(saw_consent, "the consent screen was not on the way");
    // A receipt on request: a large-print PDF naming the resident and the service.
    w.click("#rm-receipt").await?;
    let status = w.wait_for("#rm-receipt-status").await?;
    let path = status.attr("data-path").await?.unwrap_or_default();
    assert!(!path.is_empty(), "{}", status.text().await?);
    // Made: the button that makes it gives way to the one that opens it.
    w.wait_for("#rm-receipt-open").await?;
    assert!(
        w.client
            .find_all(fantoccini::Locator::Css("#rm-receipt"))
            .await?
            .is_empty(),
        "the receipt is offered again after it was made"
    );
    let text = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .context("pdftotext (apt package poppler-utils)")?;
    let text: String = String::from_utf8_lossy(&text.stdout)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(
        text.contains(RESIDENT)
            && text.contains("养老金领取资格认证")
            && text.contains("同意")
            && text.contains("测试志愿者"),
        "the receipt says: {text}"
    );
    // It names no one's personal numbers whole.
    for secret in [ID_NUMBER, ACCOUNT] {
        assert!(
            !text.contains(secret),
            "the receipt shows a personal number whole"
        );
    }
    check_screen(&w, "receipt", &mut figures).await?;
    let pdf = target_dir()?
        .join("e2e")
        .join("resident")
        .join("receipt.pdf");
    std::fs::copy(&path, &pdf)?;

    assert!(
        figures.min_font >= 24.0,
        "body text {} px",
        figures.min_font
    );
    assert!(
        figures.max_body >= 40.0,
        "largest size {} px",
        figures.max_body
    );
    eprintln!(
        "resident mode, {} screen checks: smallest text {:.0} px, largest body {:.0} px, \
         line height ≥ {:.2}, contrast ≥ {:.1}:1, controls ≥ {:.0} px",
        figures.checks,
        figures.min_font,
        figures.max_body,
        figures.min_line,
        figures.min_contrast,
        figures.min_target
    );

    // The same screens in English, as a volunteer who reads English would hand them
    // over: every word from the English catalog, at every window size, answers on screen.
    w.click("#rm-leave").await?;
    w.type_into("#rm-pin", PIN).await?;
    w.click("#rm-leave-submit").await?;
    w.wait_for("#application-status").await?;
    w.click("#lang-en").await?;
    w.click("#hand-to-resident").await?;
    w.wait_for(".resident-mode").await?;
    let mut english = 0;
    loop {
        w.wait_for(".rm-content h1").await?;
        w.resident_reads_all().await?;
        for (width, height) in WINDOW_SIZES {
            w.set_viewport(width, height).await?;
            w.click("#rm-size-2").await?;
            measure(
                &w,
                &format!("English screen {english} {width}x{height}"),
                &mut figures,
            )
            .await?;
        }
        w.set_viewport(WINDOW_SIZES[0].0, WINDOW_SIZES[0].1).await?;
        w.click("#rm-size-1").await?;
        w.screenshot(
            &target_dir()?
                .join("e2e")
                .join("resident")
                .join(format!("en-{english:02}.png")),
        )
        .await?;
        if english > 20 {
            bail!("resident mode has no end in English");
        }
        if w.client
            .find_all(fantoccini::Locator::Css("#rm-yes"))
            .await?
            .is_empty()
        {
            break;
        }
        w.click("#rm-yes").await?;
        english += 1;
        w.wait_for_text("#rm-progress", &format!("Step {} of", english + 1))
            .await?;
    }
    assert!(english >= 3, "{english} English screens");
    w.close().await?;
    Ok(())
}
