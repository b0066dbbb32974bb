//! Background sync: every few seconds, if the device is enrolled and its server answers
//! its health check, sync. The state the status line shows is kept apart from the device
//! so that reading it never waits for a sync in progress.

use std::sync::Mutex;
use std::time::Duration;

use doorstep_device::{Device, DeviceError, HttpTransport, RetryPolicy, SyncProgress, SyncReport};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::AppState;

/// Environment variable overriding the background sync interval, in seconds.
pub const SYNC_INTERVAL_ENV: &str = "DOORSTEP_SYNC_INTERVAL_SECS";
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The event the window hears after every sync that received something.
pub const SYNCED_EVENT: &str = "doorstep://synced";

/// What the status line shows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncView {
    /// Whether the server answered the last time it was tried (`None`: not tried yet).
    pub online: Option<bool>,
    pub running: bool,
    /// The code of the last sync's failure, cleared by a successful sync.
    pub last_error: Option<String>,
    pub last_report: Option<SyncReport>,
    /// How far the sync in progress has got.
    pub progress: Option<SyncProgress>,
    /// Enrolled, records waiting, last sync time and conflicted records, as last read
    /// from the device.
    #[serde(skip)]
    pub known: Option<(bool, u64, Option<i64>, usize)>,
}

#[derive(Debug, Default)]
pub struct SyncCell(pub Mutex<SyncView>);

impl SyncCell {
    pub fn get(&self) -> SyncView {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut SyncView)) {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// Keeps the status line's figures (enrolled, waiting, last sync, conflicts) as
    /// `device` has them now.
    pub fn remember_figures(&self, device: &Device) -> Result<(), DeviceError> {
        let status = device.sync_status()?;
        let conflicts = device.conflicted_records()?.len();
        self.update(|v| {
            v.known = Some((
                status.enrolled,
                status.pending_docs,
                status.last_sync_at,
                conflicts,
            ));
        });
        Ok(())
    }
}

fn interval() -> Duration {
    std::env::var(SYNC_INTERVAL_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(DEFAULT_INTERVAL, Duration::from_secs)
}

/// Starts the background sync thread.
pub fn start<R: Runtime>(app: AppHandle<R>) {
    let every = interval();
    let spawned = std::thread::Builder::new()
        .name("background-sync".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let state = app.state::<AppState>();
                if let Err(e) = sync_if_reachable(&app, &state) {
                    tracing::debug!(code = e.code(), "background sync did not run");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "background sync cannot start; the Sync button still works");
    }
}

fn sync_if_reachable<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<(), DeviceError> {
    let server = {
        let device = state.device();
        match device.enrollment()? {
            Some(e) => e.server_url,
            None => return Ok(()),
        }
    };
    let transport = HttpTransport::new(&server)?;
    let online = transport.reachable(PROBE_TIMEOUT);
    state.sync.update(|v| v.online = Some(online));
    if online && !state.sync.get().running {
        // One attempt: the next tick is the retry.
        let policy = RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        };
        run_sync(app, state, transport, &policy)?;
    }
    Ok(())
}

/// Runs one sync and records its outcome for the status line; tells the window when
/// something arrived.
pub fn run_sync<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    mut transport: HttpTransport,
    policy: &RetryPolicy,
) -> Result<SyncReport, DeviceError> {
    // A second sync waits for the one running (the Sync button during a background sync).
    let _one_at_a_time = state
        .syncing
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.sync.update(|v| {
        v.running = true;
        v.progress = None;
    });
    // The device is lent to the sync between its requests only: the window's commands
    // go on while a request crawls over a slow link.
    let outcome = doorstep_device::sync::drive(&mut &state.device, &mut transport, policy);
    if let Err(e) = state.sync.remember_figures(&state.device()) {
        tracing::debug!(code = e.code(), "status figures not read");
    }
    state.sync.update(|v| {
        v.running = false;
        v.progress = None;
        match &outcome {
            Ok(report) => {
                v.online = Some(true);
                v.last_error = None;
                v.last_report = Some(report.clone());
            }
            Err(e) => {
                if matches!(e, DeviceError::Network(_)) {
                    v.online = Some(false);
                }
                v.last_error = Some(e.code().to_owned());
            }
        }
    });
    match &outcome {
        Ok(report) if report.received_docs > 0 || report.blobs_received > 0 => {
            if let Err(e) = app.emit(SYNCED_EVENT, report) {
                tracing::warn!(error = %e, "cannot tell the window about the sync");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::info!(code = e.code(), "sync failed"),
    }
    outcome
}
