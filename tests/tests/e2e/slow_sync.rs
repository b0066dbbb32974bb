//! The window answers while a sync crawls over a slow link: a proxy between the app and
//! a real sync server holds every sync request back for a while. Meanwhile the volunteer
//! registers a resident and finds her in the list, and the sync is still under way when
//! she shows; the resident registered during the sync goes up with the next one.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use doorstep_core::id_number::IdNumber;
use doorstep_tests::fleet::{committee, enrollment_code};
use doorstep_tests::{AppWindow, Driver, ServerProcess, target_dir, with_deadline_of};

const PIN: &str = "975310";
/// How long the proxy holds a sync request back.
const HOLD: Duration = Duration::from_secs(10);

#[tokio::test]
#[ignore = "needs a display, the built app and tauri-driver: run by make test"]
async fn the_window_answers_while_a_sync_crawls_over_a_slow_link() -> anyhow::Result<()> {
    with_deadline_of(Duration::from_secs(240), scenario()).await
}

/// A TCP proxy that, while `slow` is set, holds each sync request for [`HOLD`] before
/// passing it on; `held` counts the requests it is holding right now.
struct SlowProxy {
    addr: SocketAddr,
    slow: Arc<AtomicBool>,
    held: Arc<AtomicUsize>,
}

impl SlowProxy {
    fn start(upstream: SocketAddr) -> anyhow::Result<SlowProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let proxy = SlowProxy {
            addr: listener.local_addr()?,
            slow: Arc::new(AtomicBool::new(false)),
            held: Arc::new(AtomicUsize::new(0)),
        };
        let (slow, held) = (Arc::clone(&proxy.slow), Arc::clone(&proxy.held));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (slow, held) = (Arc::clone(&slow), Arc::clone(&held));
                let (Ok(client_back), Ok(server_back)) = (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                std::thread::spawn(move || pass_on(client, server, Some((slow, held))));
                std::thread::spawn(move || pass_on(server_back, client_back, None));
            }
        });
        Ok(proxy)
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Copies `from` to `to`; with `hold`, a piece that starts a sync request waits first.
fn pass_on(
    mut from: TcpStream,
    mut to: TcpStream,
    hold: Option<(Arc<AtomicBool>, Arc<AtomicUsize>)>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((slow, held)) = &hold
            && slow.load(Ordering::SeqCst)
            && buf[..n].starts_with(b"POST /v1/sync ")
        {
            held.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(HOLD);
            held.fetch_sub(1, Ordering::SeqCst);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

async fn scenario() -> anyhow::Result<()> {
    // The proxy reads each request to know a sync's from the others, so this server
    // speaks plain HTTP, on loopback (the explicit flag servers keep for that).
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_on(data.path(), &["--plain-http"])?;
    committee(&server, "c1")?;
    let code = enrollment_code(&server.data_dir, &["c1"], "volunteer", "测试志愿者", "1h")?;
    let proxy = SlowProxy::start(server.addr)?;

    let dir = tempfile::tempdir()?;
    // No background sync: the volunteer's button starts each one.
    let driver = Driver::start_with(dir.path(), &[("DOORSTEP_SYNC_INTERVAL_SECS", "3600")])?;
    let w = driver.open().await?;
    w.first_run_enroll(&proxy.url(), &code, PIN).await?;
    w.wait_for_text("#sync-last", "还没有同步过").await?;
    register(&w, "测试李一", "11010119400101003").await?;
    w.wait_for_text("#sync-pending", "待上传 1 条").await?;

    let idle_ms = slowest_search(&w).await?;

    // The link turns slow; the volunteer syncs and goes on working.
    proxy.slow.store(true, Ordering::SeqCst);
    w.click("#sync-now").await?;
    w.wait_for_text("#sync-state", "正在同步").await?;
    let mut waited = Duration::ZERO;
    while proxy.held.load(Ordering::SeqCst) == 0 {
        anyhow::ensure!(waited < HOLD, "the sync request never reached the proxy");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    let busy_ms = slowest_search(&w).await?;
    let started = Instant::now();
    register(&w, "测试李二", "11010119400101011").await?;
    w.click("#nav-residents").await?;
    w.wait_until_texts("#resident-list .resident-name", "both residents", |t| {
        t.len() == 2
    })
    .await?;
    let answered = started.elapsed();
    // Not a timing: the request is still being held, so nothing the window did waited
    // for the sync.
    anyhow::ensure!(
        proxy.held.load(Ordering::SeqCst) == 1,
        "the window waited for the sync ({} ms)",
        answered.as_millis()
    );
    w.screenshot(&target_dir()?.join("e2e").join("sync-crawling.png"))
        .await?;
    eprintln!(
        "slow link: the slowest of 10 searches took {idle_ms:.1} ms idle and {busy_ms:.1} ms \
         while a sync request was held {} s; registering a resident and listing through the \
         window (WebDriver clicks and typing) took {} ms meanwhile",
        HOLD.as_secs(),
        answered.as_millis(),
    );

    // The slow sync ends; the resident registered meanwhile waits for the next one.
    proxy.slow.store(false, Ordering::SeqCst);
    w.wait_for_text("#sync-last", "上次同步").await?;
    w.wait_for_text("#sync-pending", "待上传 1 条").await?;
    w.click("#sync-now").await?;
    w.wait_for_text("#sync-pending", "待上传 0 条").await?;
    Ok(())
}

/// The slowest of ten resident searches, timed in the window from the command's call
/// to its answer, in milliseconds.
async fn slowest_search(w: &AppWindow) -> anyhow::Result<f64> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        (async () => {
            let slowest = 0;
            for (let i = 0; i < 10; i++) {
                const start = performance.now();
                await window.__TAURI_INTERNALS__.invoke("search_residents", { query: "测试" });
                slowest = Math.max(slowest, performance.now() - start);
            }
            done(slowest);
        })().catch(() => done(-1));
    "#;
    let slowest = w
        .client
        .execute_async(script, vec![])
        .await?
        .as_f64()
        .unwrap_or(-1.0);
    anyhow::ensure!(slowest >= 0.0, "the search command failed");
    Ok(slowest)
}

async fn register(w: &AppWindow, name: &str, id17: &str) -> anyhow::Result<()> {
    let id_number = IdNumber::complete(id17).expect("17 digits");
    w.click("#nav-residents").await?;
    w.click("#resident-new").await?;
    w.type_into("#resident-name", name).await?;
    w.type_into("#resident-id-number", &id_number).await?;
    w.click("#register-submit").await?;
    w.wait_for_text("#resident-title", name).await?;
    Ok(())
}
