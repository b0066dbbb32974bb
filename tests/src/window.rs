//! The real app window driven through WebDriver: `tauri-driver` in front of
//! `WebKitWebDriver`, one data folder per test. Needs a display (run under `xvfb-run`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::process::{KillOnDrop, free_ports, spawn_group, wait_for_port, workspace_binary};

/// A running `tauri-driver` whose app instances use `data_dir`.
#[derive(Debug)]
pub struct Driver {
    addr: SocketAddr,
    app: PathBuf,
    /// The app's data folder.
    pub data_dir: PathBuf,
    _child: KillOnDrop,
}

impl Driver {
    /// Starts `tauri-driver` on free ports. The app it launches gets `data_dir` as its
    /// data folder and XDG folders inside it, so nothing touches the real home.
    pub fn start(data_dir: &Path) -> anyhow::Result<Driver> {
        Driver::start_with(data_dir, &[])
    }

    /// [`Driver::start`] with extra environment for the app (idle lock, sync interval).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<Driver> {
        if std::env::var_os("DISPLAY").is_none() {
            bail!("no DISPLAY: run the end-to-end tests under xvfb-run (make test does)");
        }
        let app = workspace_binary("doorstep-app")?;
        let [port, native_port] = free_ports()?;
        let xdg = |name: &str| -> anyhow::Result<PathBuf> {
            let dir = data_dir.join("xdg").join(name);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            Ok(dir)
        };
        let child = spawn_group(
            Command::new(driver_binary())
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native_port.to_string(),
                ])
                .env("DOORSTEP_DATA_DIR", data_dir.join("app"))
                .env("DOORSTEP_EXPORT_DIR", data_dir.join("app").join("exports"))
                // The database key goes to the kernel keyring of the private session that
                // scripts/e2e.sh opens with `keyctl session -`, never a person's keyring.
                .env("DOORSTEP_KEYRING", "keyutils")
                .env("XDG_DATA_HOME", xdg("data")?)
                .env("XDG_CONFIG_HOME", xdg("config")?)
                .env("XDG_CACHE_HOME", xdg("cache")?)
                .env("RUST_LOG", "warn")
                .envs(env.iter().copied())
                .stdin(Stdio::null()),
        )
        .context("starting tauri-driver (install: cargo install tauri-driver --locked)")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for_port(addr, Duration::from_secs(20))?;
        Ok(Driver {
            addr,
            app,
            data_dir: data_dir.join("app"),
            _child: child,
        })
    }

    /// Opens the app window (a new app process) in a WebDriver session.
    pub async fn open(&self) -> anyhow::Result<AppWindow> {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert(
            "tauri:options".into(),
            json!({ "application": self.app.to_string_lossy() }),
        );
        let url = format!("http://{}", self.addr);
        // tauri-driver listens before its WebKitWebDriver is ready; until then it drops
        // requests, so the first session is retried for a while.
        let start = Instant::now();
        loop {
            let attempt =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await;
            match attempt {
                Ok(client) => {
                    // Windows of one test side by side (the display is wide enough for
                    // two), so that a screenshot of one never shows the other on top.
                    static OPENED: std::sync::atomic::AtomicU32 =
                        std::sync::atomic::AtomicU32::new(0);
                    let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = client.set_window_rect((n % 2) * 1320, 0, 1280, 800).await;
                    let window = AppWindow {
                        client,
                        secrets: std::sync::Mutex::default(),
                    };
                    window.take_keyboard().await?;
                    return Ok(window);
                }
                Err(e) if start.elapsed() < Duration::from_secs(30) => {
                    note_retry(&e);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e).context("opening a WebDriver session on the app"),
            }
        }
    }
}

impl Driver {
    /// The app processes of this driver: found by the data folder in their environment.
    pub fn app_pids(&self) -> anyhow::Result<Vec<i32>> {
        let wanted = format!("DOORSTEP_DATA_DIR={}", self.data_dir.display());
        let mut pids = Vec::new();
        for (pid, dir) in crate::process::processes()? {
            let Ok(exe) = std::fs::read_link(dir.join("exe")) else {
                continue;
            };
            if exe != self.app {
                continue;
            }
            let Ok(environ) = std::fs::read(dir.join("environ")) else {
                continue;
            };
            if environ.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes()) {
                pids.push(pid);
            }
        }
        Ok(pids)
    }

    /// Kills the app process of this driver with SIGKILL, as a crash or a flat battery
    /// would.
    pub fn kill_app(&self) -> anyhow::Result<u32> {
        let mut killed = 0;
        for pid in self.app_pids()? {
            let status = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()?;
            if status.success() {
                killed += 1;
            }
        }
        if killed == 0 {
            bail!("no app process uses {}", self.data_dir.display());
        }
        Ok(killed)
    }

    /// The resident memory of the app and every process it started (WebKit's web and
    /// network processes), in bytes, each process's name beside its share.
    pub fn app_memory(&self) -> anyhow::Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        for pid in self.app_pids()? {
            out.extend(crate::process::tree_memory(pid)?);
        }
        Ok(out)
    }
}

fn note_retry(e: &fantoccini::error::NewSessionError) {
    eprintln!("WebDriver session not ready yet ({e}); retrying");
}

fn driver_binary() -> PathBuf {
    std::env::var_os("TAURI_DRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tauri-driver"))
}

/// One app window under WebDriver.
#[derive(Debug)]
pub struct AppWindow {
    pub client: Client,
    /// Personal numbers the test seeded whole: no screen may show one unless the PIN
    /// was given for that view (a "hide the numbers" link is on screen).
    secrets: std::sync::Mutex<Vec<String>>,
}

/// The window sizes every screen is shown at: a landscape laptop, a 4:3 tablet, and a
/// tablet held upright.
pub const WINDOW_SIZES: [(u32, u32); 3] = [(1280, 800), (1024, 768), (800, 1280)];

impl AppWindow {
    /// Remembers `value` (an ID number, a phone, an account) as one no screenshot may
    /// show whole without the PIN: [`AppWindow::screenshot`] checks every screen for it.
    pub fn secret(&self, value: &str) {
        self.secrets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(value.to_owned());
    }

    /// Waits (up to 20 s) until `css` matches an element.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => Ok(el),
            Err(e) => {
                // Say which screen was showing instead: a lock screen, an error banner…
                let showing = self
                    .client
                    .execute(
                        "const h = document.querySelector('main h2, main h1, .resident-mode h1, h2');
                         const a = document.querySelector('[role=alert]');
                         return [h && h.textContent, a && a.textContent].filter(Boolean).join(' | ');",
                        vec![],
                    )
                    .await
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                Err(anyhow::Error::new(e)
                    .context(format!("waiting for {css} (showing: {showing:?})")))
            }
        }
    }

    /// Clicks the element matching `css` and types `text` into it, replacing what it held.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        // A few tries: on a loaded machine a screen may still be settling (its heading
        // taking the focus) as the typing starts.
        for _ in 0..3 {
            let el = self.wait_for(css).await?;
            el.click().await?;
            // A controlled React input keeps its old value through WebDriver's `clear`:
            // delete it as a person would, from the end (End, then Backspace).
            let old = el.prop("value").await?.unwrap_or_default();
            if !old.is_empty() {
                let backspaces = "\u{E003}".repeat(old.chars().count());
                el.send_keys(&format!("\u{E010}{backspaces}")).await?;
            }
            el.send_keys(text).await?;
            if el.prop("value").await?.as_deref() == Some(text) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let shown = self.wait_for(css).await?.prop("value").await?;
        bail!("typing {text:?} into {css} left {shown:?}")
    }

    /// Scrolls `css` into the middle of the window (for a screenshot of it).
    pub async fn show(&self, css: &str) -> anyhow::Result<()> {
        let el = self.wait_for(css).await?;
        self.client
            .execute(
                "arguments[0].scrollIntoView({ block: 'center', inline: 'center' });",
                vec![serde_json::to_value(&el)?],
            )
            .await?;
        Ok(())
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        // Into the middle of the window first: scrolled only "into view" an element can
        // sit under the top bar that stays while screens scroll, and the click lands on
        // the bar instead.
        self.show(css).await?;
        let el = self.wait_for(css).await?;
        el.click().await?;
        Ok(())
    }

    /// Clicks `css` until `then` shows (up to four clicks, 5 s apart): a click that lands
    /// while the screen beneath re-renders (a background sync finishing) can be lost, and
    /// the next step would then wait on the screen the click was meant to leave.
    pub async fn click_to(&self, css: &str, then: &str) -> anyhow::Result<()> {
        for _ in 0..4 {
            if self.client.find_all(Locator::Css(css)).await?.is_empty() {
                break;
            }
            // The element can be replaced between finding and clicking it; the next
            // round finds the new one.
            let _ = self.click(css).await;
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                if !self.client.find_all(Locator::Css(then)).await?.is_empty() {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        self.wait_for(then).await.map(|_| ())
    }

    /// The text of every element matching `css`.
    pub async fn texts(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for el in self.client.find_all(Locator::Css(css)).await? {
            out.push(el.text().await?);
        }
        Ok(out)
    }

    /// Polls until `check` accepts the texts of `css`, or fails after 20 s naming `what`.
    pub async fn wait_until_texts(
        &self,
        css: &str,
        what: &str,
        check: impl Fn(&[String]) -> bool,
    ) -> anyhow::Result<Vec<String>> {
        let start = Instant::now();
        loop {
            let texts = match self.texts(css).await {
                Ok(texts) => texts,
                // The list re-rendered between finding an element and reading it (a
                // page of the log that came back): read it again.
                Err(_) if start.elapsed() <= Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if check(&texts) {
                return Ok(texts);
            }
            if start.elapsed() > Duration::from_secs(20) {
                bail!(
                    "timed out waiting for {what}; {css} shows {} item(s)",
                    texts.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// On the supervisor's devices screen, revokes the card naming `name` with the
    /// supervisor's `pin`; fails if no card names them.
    pub async fn revoke_device_of(&self, name: &str, pin: &str) -> anyhow::Result<()> {
        for card in self
            .client
            .find_all(Locator::Css("#device-list .device"))
            .await?
        {
            if card.text().await?.contains(name) {
                card.find(Locator::Css(".revoke")).await?.click().await?;
                // Only with the supervisor's PIN.
                self.type_into(".revoke-pin", pin).await?;
                self.click(".revoke-confirm").await?;
                return Ok(());
            }
        }
        bail!("no device of {name} is listed")
    }

    /// On the supervisor's log, opens every entry shown to its records, one at a time
    /// (an entry that opens moves the ones below it).
    pub async fn open_every_log_entry(&self) -> anyhow::Result<()> {
        let entries = self
            .client
            .find_all(Locator::Css("#log-entries .log-entry-open"))
            .await?
            .len();
        for i in 0..entries {
            let opens = self
                .client
                .find_all(Locator::Css("#log-entries .log-entry-open"))
                .await?;
            opens[i].click().await?;
            self.wait_until_texts(
                "#log-entries .log-detail .log-record, #log-entries .log-detail .empty",
                "the entry's records",
                |t| t.len() > i,
            )
            .await?;
        }
        Ok(())
    }

    /// Saves PNG screenshots of the screen shown, as a person would see it, at every
    /// window size of [`WINDOW_SIZES`] and, where the screen has the language switch, in
    /// both languages; each is checked with [`crate::screen_check::check`]. `path` gets
    /// the Chinese 1280×800 one; the others are named beside it (`name-en.png`,
    /// `name-1024x768.png`, `name-800x1280-en.png`). The window returns to its size and
    /// language.
    ///
    /// WebKitWebDriver's own screenshots under Xvfb come out blank or show an earlier
    /// paint, so this captures the X display with ImageMagick's `import`: exactly the
    /// pixels a person would see, fonts included.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let start_lang = self
            .client
            .execute("return document.documentElement.lang || 'zh-CN'", vec![])
            .await?
            .as_str()
            .unwrap_or("zh-CN")
            .to_owned();
        let switch = !self
            .client
            .find_all(Locator::Css("#lang-en"))
            .await?
            .is_empty();
        let langs: Vec<String> = if switch {
            vec!["zh-CN".into(), "en".into()]
        } else {
            vec![start_lang.clone()]
        };
        let (width0, height0) = WINDOW_SIZES[0];
        // The language buttons take the focus when pressed: it goes back where it was.
        let focused = self
            .client
            .execute(
                "return document.activeElement ? document.activeElement.id : ''",
                vec![],
            )
            .await?;
        let outcome = async {
            for (width, height) in WINDOW_SIZES {
                self.set_viewport(width, height).await?;
                for lang in &langs {
                    if switch {
                        self.click(&format!("#lang-{lang}")).await?;
                    }
                    let mut name = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if (width, height) != (width0, height0) {
                        name.push_str(&format!("-{width}x{height}"));
                    }
                    if switch && lang == "en" {
                        name.push_str("-en");
                    }
                    let shot = path.with_file_name(format!("{name}.png"));
                    self.capture(&shot).await?;
                    let secrets = self
                        .secrets
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .clone();
                    crate::screen_check::check(&self.client, &shot.display().to_string(), &secrets)
                        .await?;
                }
            }
            anyhow::Ok(())
        }
        .await;
        // Back as it was, whatever was found.
        self.set_viewport(width0, height0).await?;
        if switch {
            self.click(&format!("#lang-{start_lang}")).await?;
            self.client
                .execute(
                    "const el = arguments[0] && document.getElementById(arguments[0]); \
                     if (el) el.focus(); else if (document.activeElement) document.activeElement.blur();",
                    vec![focused],
                )
                .await?;
        }
        outcome
    }

    /// Captures the window's part of the display into `path`.
    async fn capture(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Images kept on the device load after the screen: wait for them (up to 5 s).
        let loading = Instant::now();
        while loading.elapsed() < Duration::from_secs(5)
            && !self
                .client
                .find_all(Locator::Css(".blob-loading"))
                .await?
                .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Let the last layout reach the screen before capturing.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (x, y, w, h) = self.client.get_window_rect().await?;
        let crop = format!("{}x{}+{x}+{y}", w.max(1), h.max(1));
        let status = tokio::process::Command::new("import")
            .args(["-window", "root", "-crop", &crop])
            .arg(path)
            .status()
            .await
            .context("running ImageMagick's import (apt package imagemagick)")?;
        if !status.success() {
            bail!("import could not capture the display: {status}");
        }
        Ok(())
    }

    /// Sets the size of the window's page (its viewport), whatever the frame takes.
    /// Gives this window the keyboard, as a person's tap on it would. The test display
    /// has no window manager, so the keyboard goes to the window under the pointer:
    /// without this, a window that is not under it never has the focus, and the page
    /// behaves as a window in the background does (no `:focus-visible`, for one).
    pub async fn take_keyboard(&self) -> anyhow::Result<()> {
        let (x, y, w, h) = self.client.get_window_rect().await?;
        let (cx, cy) = (x + w / 2, y + h / 2);
        let status = Command::new("xdotool")
            .args(["mousemove", &cx.to_string(), &cy.to_string()])
            .status()
            .context("running xdotool (scripts/install-deps.sh installs it)")?;
        ensure!(status.success(), "xdotool could not move the pointer");
        Ok(())
    }

    pub async fn set_viewport(&self, width: u32, height: u32) -> anyhow::Result<()> {
        let inner = || async {
            let v = self
                .client
                .execute("return [window.innerWidth, window.innerHeight]", vec![])
                .await?;
            anyhow::Ok((
                u32::try_from(v[0].as_u64().unwrap_or(0)).unwrap_or(0),
                u32::try_from(v[1].as_u64().unwrap_or(0)).unwrap_or(0),
            ))
        };
        for _ in 0..4 {
            let (iw, ih) = inner().await?;
            if (iw, ih) == (width, height) {
                return Ok(());
            }
            let (ow, oh) = self.client.get_window_size().await?;
            let frame_w = u32::try_from(ow).unwrap_or(width).saturating_sub(iw);
            let frame_h = u32::try_from(oh).unwrap_or(height).saturating_sub(ih);
            self.client
                .set_window_size(width + frame_w, height + frame_h)
                .await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let (iw, ih) = inner().await?;
        bail!("the window did not take the size {width}x{height}: it is {iw}x{ih}")
    }

    /// The current value of the input matching `css`.
    pub async fn value(&self, css: &str) -> anyhow::Result<String> {
        Ok(self
            .wait_for(css)
            .await?
            .prop("value")
            .await?
            .unwrap_or_default())
    }

    /// Chooses `value` in the choice matching `css`: an option of a `<select>`, or the
    /// button with `data-value` of a radio group of large buttons (few options).
    pub async fn select(&self, css: &str, value: &str) -> anyhow::Result<()> {
        let el = self.wait_for(css).await?;
        let result = if el.tag_name().await?.eq_ignore_ascii_case("select") {
            el.select_by_value(value).await
        } else {
            let selector = format!("[data-value=\"{value}\"]");
            match el.find(Locator::Css(&selector)).await {
                Ok(button) => button.click().await,
                Err(e) => Err(e),
            }
        };
        result.with_context(|| format!("choosing {value} in {css}"))
    }

    /// Types `ymd` ("YYYY-MM-DD") into the three boxes of the date field `id`:
    /// `#{id}-year`, `#{id}-month` and `#{id}-day`.
    pub async fn enter_date(&self, id: &str, ymd: &str) -> anyhow::Result<()> {
        let mut parts = ymd.splitn(3, '-');
        let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("{ymd:?} is not YYYY-MM-DD");
        };
        self.type_into(&format!("#{id}-year"), year).await?;
        self.type_into(&format!("#{id}-month"), month).await?;
        self.type_into(&format!("#{id}-day"), day).await
    }

    /// Polls until the text of `css` contains `wanted`, or fails after 20 s.
    pub async fn wait_for_text(&self, css: &str, wanted: &str) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            // An element React replaced between finding and reading is read again.
            let texts = self.texts(css).await.unwrap_or_default();
            if let Some(found) = texts.iter().find(|t| t.contains(wanted)) {
                return Ok(found.clone());
            }
            if start.elapsed() > Duration::from_secs(20) {
                // What the window shows instead, for whoever reads the failure.
                let shown = self
                    .client
                    .execute("return document.body.innerText.slice(0, 600)", vec![])
                    .await
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                if let Ok(dir) = crate::target_dir() {
                    let _ = self.capture(&dir.join("e2e").join("timed-out.png")).await;
                }
                bail!(
                    "timed out waiting for {wanted:?} in {css}; it shows {texts:?}; the window shows \
                     (target/debug/e2e/timed-out.png): {shown}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Polls until nothing matches `css`, or fails after 20 s.
    pub async fn wait_gone(&self, css: &str) -> anyhow::Result<()> {
        let start = Instant::now();
        while !self.client.find_all(Locator::Css(css)).await?.is_empty() {
            if start.elapsed() > Duration::from_secs(20) {
                bail!("timed out waiting for {css} to go away");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// First run without enrolling: the volunteer's name and a PIN.
    pub async fn first_run_offline(&self, volunteer: &str, pin: &str) -> anyhow::Result<()> {
        self.click("#enroll-later").await?;
        self.type_into("#volunteer-name", volunteer).await?;
        self.set_pin(pin).await
    }

    /// First run: enroll with `server` and `code`, then set the PIN.
    pub async fn first_run_enroll(
        &self,
        server: &str,
        code: &str,
        pin: &str,
    ) -> anyhow::Result<()> {
        self.type_into("#enroll-server", server).await?;
        self.type_into("#enroll-code", code).await?;
        self.click("#enroll-submit").await?;
        self.set_pin(pin).await
    }

    async fn set_pin(&self, pin: &str) -> anyhow::Result<()> {
        self.type_into("#pin-new", pin).await?;
        self.type_into("#pin-again", pin).await?;
        self.click("#pin-set").await?;
        self.wait_for("#nav-residents").await?;
        Ok(())
    }

    /// Later starts: the PIN.
    pub async fn unlock(&self, pin: &str) -> anyhow::Result<()> {
        self.type_into("#pin-unlock", pin).await?;
        self.click("#pin-unlock-submit").await?;
        self.wait_for("#nav-residents").await?;
        Ok(())
    }

    /// Records, on the resident's page, her signed authorization for `service`.
    pub async fn authorize(&self, service: &str) -> anyhow::Result<()> {
        self.click("#resident-authorize").await?;
        self.click(&format!("#authorize-service-{service}")).await?;
        self.draw_on("#authorize-signature").await?;
        self.click("#authorize-submit").await?;
        self.wait_for("#resident-authorizations .authorization")
            .await?;
        Ok(())
    }

    /// Hands the open application to the resident, who confirms every step and agrees,
    /// with her signature, to each kind of data she is asked about; then the volunteer
    /// takes the tablet back with `pin`.
    pub async fn resident_agrees(&self, pin: &str) -> anyhow::Result<()> {
        self.click("#hand-to-resident").await?;
        self.wait_for(".resident-mode").await?;
        let shows = |css: &'static str| async move {
            anyhow::Ok(!self.client.find_all(Locator::Css(css)).await?.is_empty())
        };
        for _ in 0..20 {
            let progress = self.wait_for("#rm-progress").await?.text().await?;
            self.resident_reads_all().await?;
            if shows("#rm-agree").await? {
                self.click("#rm-agree").await?;
                self.draw_on("#rm-signature").await?;
                self.click("#rm-signed").await?;
            } else if shows("#rm-yes").await? {
                self.click("#rm-yes").await?;
            } else {
                self.click("#rm-leave").await?;
                self.type_into("#rm-pin", pin).await?;
                self.click("#rm-leave-submit").await?;
                self.wait_for("#application-status").await?;
                return Ok(());
            }
            let start = Instant::now();
            while self.wait_for("#rm-progress").await?.text().await? == progress {
                if start.elapsed() > Duration::from_secs(20) {
                    bail!("resident mode stayed at {progress}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        bail!("resident mode has no end")
    }

    /// In resident mode, scrolls the screen to its end with "往下看" as she would: the
    /// answers are offered only once everything on the screen has been in view. The
    /// button goes away as the end comes into view, so a click may find it gone.
    pub async fn resident_reads_all(&self) -> anyhow::Result<()> {
        for _ in 0..20 {
            let Some(button) = self
                .client
                .find_all(Locator::Css("#rm-more-button"))
                .await?
                .into_iter()
                .next()
            else {
                return Ok(());
            };
            // Gone (or replaced) between finding and clicking: look again.
            let _ = button.click().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("resident mode's screen has no end")
    }

    /// Draws a signature-like stroke on the canvas matching `css`, with pointer events as
    /// a finger would make them.
    pub async fn draw_on(&self, css: &str) -> anyhow::Result<()> {
        // signature_pad takes at most one point per 16 ms, so the points come over time.
        let script = r#"
            const [selector, done] = [arguments[0], arguments[arguments.length - 1]];
            const canvas = document.querySelector(selector);
            const box = canvas.getBoundingClientRect();
            const fire = (type, i) => canvas.dispatchEvent(new PointerEvent(type, {
                clientX: box.left + 20 + i * 12, clientY: box.top + 80 + Math.sin(i / 2) * 40,
                pointerId: 1, pointerType: "pen", isPrimary: true, buttons: type === "pointerup" ? 0 : 1,
                pressure: 0.5, bubbles: true, cancelable: true, view: window }));
            fire("pointerdown", 0);
            let i = 1;
            const step = () => {
                if (i < 36) { fire("pointermove", i++); setTimeout(step, 25); }
                else { fire("pointerup", i); done(canvas.dataset.empty); }
            };
            setTimeout(step, 25);
        "#;
        let empty = self.client.execute_async(script, vec![json!(css)]).await?;
        // React updates data-empty after the stroke ends.
        let start = Instant::now();
        loop {
            let el = self.wait_for(css).await?;
            if el.attr("data-empty").await?.as_deref() == Some("false") {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(5) {
                bail!("the signature pad took no stroke (data-empty was {empty})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Gives the file input matching `css` a file of `bytes` named `name`, as picking
    /// it in the file chooser would.
    pub async fn choose_file(
        &self,
        css: &str,
        name: &str,
        mime: &str,
        bytes: &[u8],
    ) -> anyhow::Result<()> {
        self.wait_for(css).await?;
        let script = r#"
            const input = document.querySelector(arguments[0]);
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(arguments[3])], arguments[1], { type: arguments[2] }));
            input.files = transfer.files;
            input.dispatchEvent(new Event("change", { bubbles: true }));
        "#;
        self.client
            .execute(
                script,
                vec![json!(css), json!(name), json!(mime), json!(bytes)],
            )
            .await
            .with_context(|| format!("choosing a file for {css}"))?;
        Ok(())
    }

    /// Ends the session, which closes the window and ends the app process.
    pub async fn close(self) -> anyhow::Result<()> {
        self.client
            .close()
            .await
            .context("closing the WebDriver session")
    }
}

/// Fails a scenario that has not finished within two minutes, so that a stuck window or
/// driver never hangs the suite.
pub async fn with_deadline<T>(
    scenario: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    with_deadline_of(Duration::from_secs(120), scenario).await
}

/// [`with_deadline`] with a longer limit, for scenarios with several app instances.
pub async fn with_deadline_of<T>(
    limit: Duration,
    scenario: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let outcome = tokio::time::timeout(limit, scenario)
        .await
        .map_err(|_| anyhow::anyhow!("the scenario did not finish within {limit:?}"))
        .and_then(|r| r);
    if outcome.is_err() {
        // What the display showed when it failed, for whoever reads the log.
        if let Ok(dir) = crate::target_dir() {
            let path = dir.join("e2e").join("failure.png");
            let _ = std::fs::create_dir_all(dir.join("e2e"));
            let _ = Command::new("import")
                .args(["-window", "root"])
                .arg(&path)
                .status();
            eprintln!("the display at the failure: {}", path.display());
            // A display all black is WebKit's web process gone (the window goes black):
            // said in the words WebDriver uses, so that scripts/e2e.sh runs it again.
            let brightest = Command::new("identify")
                .args(["-format", "%[max]"])
                .arg(&path)
                .output();
            if brightest.is_ok_and(|out| out.status.success() && out.stdout == b"0") {
                eprintln!("the display is black: page crash or hang of WebKit's web process");
            }
        }
    }
    outcome
}
