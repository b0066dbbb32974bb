//! The real app window driven through WebDriver: `tauri-driver` in front of
//! `WebKitWebDriver`, one data folder per test. Needs a display (run under `xvfb-run`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::process::{KillOnDrop, free_ports, spawn_group, wait_for_port, workspace_binary};

/// A running `tauri-driver` whose app instances use `data_dir`.
#[derive(Debug)]
pub struct Driver {
    addr: SocketAddr,
    app: PathBuf,
    _child: KillOnDrop,
}

impl Driver {
    /// Starts `tauri-driver` on free ports. The app it launches gets `data_dir` as its
    /// data folder and XDG folders inside it, so nothing touches the real home.
    pub fn start(data_dir: &Path) -> anyhow::Result<Driver> {
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
                // The database key goes to the kernel keyring of the private session that
                // scripts/e2e.sh opens with `keyctl session -`, never a person's keyring.
                .env("DOORSTEP_KEYRING", "keyutils")
                .env("XDG_DATA_HOME", xdg("data")?)
                .env("XDG_CONFIG_HOME", xdg("config")?)
                .env("XDG_CACHE_HOME", xdg("cache")?)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null()),
        )
        .context("starting tauri-driver (install: cargo install tauri-driver --locked)")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        wait_for_port(addr, Duration::from_secs(20))?;
        Ok(Driver {
            addr,
            app,
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
                Ok(client) => return Ok(AppWindow { client }),
                Err(e) if start.elapsed() < Duration::from_secs(30) => {
                    note_retry(&e);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e).context("opening a WebDriver session on the app"),
            }
        }
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
}

impl AppWindow {
    /// Waits (up to 20 s) until `css` matches an element.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Clicks the element matching `css` and types `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let el = self.wait_for(css).await?;
        el.click().await?;
        el.clear().await?;
        el.send_keys(text).await?;
        Ok(())
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css).await?.click().await?;
        Ok(())
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
            let texts = self.texts(css).await?;
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

    /// Saves a PNG screenshot of the display the window is on to `path`.
    ///
    /// WebKitWebDriver's own screenshots under Xvfb come out blank or show an earlier
    /// paint, so this captures the X display with ImageMagick's `import`: exactly the
    /// pixels a person would see, fonts included.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Let the last layout reach the screen before capturing.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let status = tokio::process::Command::new("import")
            .args(["-window", "root"])
            .arg(path)
            .status()
            .await
            .context("running ImageMagick's import (apt package imagemagick)")?;
        if !status.success() {
            bail!("import could not capture the display: {status}");
        }
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
    const LIMIT: Duration = Duration::from_secs(120);
    tokio::time::timeout(LIMIT, scenario)
        .await
        .map_err(|_| anyhow::anyhow!("the scenario did not finish within {LIMIT:?}"))?
}
