//! What every screen of the real window is checked for, as a person would read it:
//! no translation key shown instead of words (nor a key neither catalog holds), no
//! Chinese catalog text on an English screen, no date in the American (`12/01/2027`)
//! or slashed (`2026/12/1`) form or left unformatted (`2026-12-01`), no image that failed
//! to render, no date in the other language's form (`2026年12月1日` on an English
//! screen, `1 Dec 2026` on a Chinese one), no image that failed to render or load, no
//! native widget that WebKit labels in its own language (file and date inputs), and no
//! personal number the test seeded shown whole unless the PIN was given for the view.
//! [`crate::AppWindow::screenshot`] runs it on every screenshot.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, bail};
use fantoccini::Client;
use serde_json::{Value, json};

const CHECK: &str = r##"
const zhTexts = new Set(arguments[0]);
const secrets = arguments[1];
// The PIN was given for this view: its numbers are shown whole on purpose.
const revealed = [...document.querySelectorAll("[id$='-reveal-hide']")].length > 0;
const lang = document.documentElement.lang || "zh-CN";
const problems = [];
for (const key of window.__doorstepMissingKeys || []) problems.push(`no catalog has the key ${key}`);
const visible = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const st = getComputedStyle(e);
    if (st.display === "none" || st.visibility === "hidden") return false;
  }
  return el.getClientRects().length > 0;
};
const keyLike = /^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9_]+)+$/;
const dates = [
  [/\b\d{1,2}\/\d{1,2}\/\d{2,4}\b/, "an American date"],
  [/\b\d{4}\/\d{1,2}\/\d{1,2}\b/, "a slashed date"],
  [/\b\d{4}-\d{2}-\d{2}\b/, "an unformatted date"],
];
const months = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\\.?";
const otherDates =
  lang === "en"
    ? [[/\d{4}年\d{1,2}月\d{1,2}日/, "a Chinese date on an English screen"]]
    : [
        [new RegExp(`\\b\\d{1,2} ${months},? \\d{4}\\b`), "an English date on a Chinese screen"],
        [new RegExp(`\\b${months} \\d{1,2},? \\d{4}\\b`), "an English date on a Chinese screen"],
      ];
const look = (text, where) => {
  const t = text.trim();
  if (!t) return;
  if (keyLike.test(t)) problems.push(`${where} shows the key ${t}`);
  for (const [re, what] of [...dates, ...otherDates]) if (re.test(t)) problems.push(`${where} shows ${what}: ${t.slice(0, 60)}`);
  if (!revealed) {
    for (const secret of secrets) if (t.includes(secret)) problems.push(`${where} shows a personal number whole without the PIN`);
  }
  if (lang === "en" && zhTexts.has(t)) problems.push(`${where} is in Chinese on an English screen: ${t.slice(0, 40)}`);
};
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  const el = node.parentElement;
  if (!el || ["SCRIPT", "STYLE", "TEXTAREA"].includes(el.tagName) || !visible(el)) continue;
  look(node.textContent, el.id ? `#${el.id}` : el.tagName.toLowerCase());
}
for (const el of document.querySelectorAll("[placeholder], [aria-label], [title], img[alt]")) {
  if (!visible(el)) continue;
  for (const attr of ["placeholder", "aria-label", "title", "alt"]) {
    const v = el.getAttribute(attr);
    if (v) look(v, `${attr} of ${el.id ? "#" + el.id : el.tagName.toLowerCase()}`);
  }
}
for (const img of document.images) {
  if (visible(img) && (!img.complete || img.naturalWidth === 0)) problems.push(`the image "${img.alt}" did not render`);
}
for (const el of document.querySelectorAll(".blob-missing")) {
  if (visible(el)) problems.push(`the image "${el.textContent}" could not be loaded`);
}
for (const input of document.querySelectorAll("input[type=file], input[type=date], input[type=datetime-local], input[type=month], input[type=time]")) {
  if (visible(input)) problems.push(`a native ${input.type} input #${input.id} shows WebKit's own words`);
}
return { lang, problems };
"##;

/// The Chinese catalog's texts without placeholders, which an English screen must not show.
fn chinese_texts() -> anyhow::Result<&'static Vec<String>> {
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    if let Some(texts) = TEXTS.get() {
        return Ok(texts);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../frontend/src/locales/zh-CN.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let catalog: Value = serde_json::from_str(&text).context("the Chinese catalog")?;
    let mut out = Vec::new();
    collect(&catalog, &mut out);
    Ok(TEXTS.get_or_init(|| out))
}

fn collect(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        Value::String(s) if !s.contains("{{") && s.chars().any(|c| c > '\u{2E80}') => {
            out.push(s.trim().to_owned());
        }
        _ => {}
    }
}

/// Checks the screen the window shows now; the error lists every problem found.
/// `secrets` are personal numbers no screen may show whole unless the PIN was given.
pub async fn check(client: &Client, screen: &str, secrets: &[String]) -> anyhow::Result<()> {
    let result = client
        .execute(CHECK, vec![json!(chinese_texts()?), json!(secrets)])
        .await
        .context("checking the screen's words, dates and images")?;
    let problems: Vec<String> = result["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !problems.is_empty() {
        bail!(
            "the screen {screen} ({}) has {} problem(s):\n  {}",
            result["lang"],
            problems.len(),
            problems.join("\n  ")
        );
    }
    Ok(())
}
