//! Background sync: every few seconds, if the device is enrolled and its server answers
//! its health check, sync. What the status line shows is kept in a
//! [`doorstep_device::sync::StatusLine`], apart from the device.

use std::time::Duration;

use doorstep_device::{DeviceError, HttpTransport, RetryPolicy, SyncReport};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The event the window hears after every sync that received something.
pub const SYNCED_EVENT: &str = "doorstep://synced";

/// Starts the background sync thread.
pub fn start<R: Runtime>(app: AppHandle<R>) {
    let every = app.state::<AppState>().settings.sync_interval;
    let spawned = std::thread::Builder::new()
        .name("background-sync".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let state = app.state::<AppState>();
                if let Err(e) = sync_if_reachable(&app, &state) {
                    tracing::debug!(code = e.code().as_str(), "background sync did not run");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "background sync cannot start; the Sync button still works");
    }
}

fn sync_if_reachable<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<(), DeviceError> {
    let transport = {
        let device = state.device();
        if device.enrollment()?.is_none() {
            return Ok(());
        }
        device.transport()?
    };
    let online = transport.reachable(PROBE_TIMEOUT);
    state.sync.set_online(online);
    if online && !state.sync.is_running() {
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
    state.sync.begin();
    // The device is lent to the sync between its requests only: the window's commands
    // go on while a request crawls over a slow link.
    let outcome = doorstep_device::sync::drive(&mut &state.device, &mut transport, policy);
    // The server removed whoever is at work here: the window locks, for good for them.
    if state.device().active_member_removed().unwrap_or(false) {
        tracing::warn!("the member at work was removed by the server: locked");
        state.session.lock();
    }
    if let Err(e) = state.sync.remember_figures(&state.device()) {
        tracing::debug!(code = e.code().as_str(), "status figures not read");
    }
    state.sync.finish(&outcome);
    match &outcome {
        Ok(report) if report.received_docs > 0 || report.blobs_received > 0 => {
            if let Err(e) = app.emit(SYNCED_EVENT, report) {
                tracing::warn!(error = %e, "cannot tell the window about the sync");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::info!(code = e.code().as_str(), "sync failed"),
    }
    outcome
}
