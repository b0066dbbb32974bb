//! # doorstep-app
//!
//! The Tauri 2 shell of Doorstep. Glue only: each command locks the open
//! [`doorstep_device::Device`], calls one use-case method, and turns its error into a
//! [`UiError`] (`{code, message, fields}`) that the frontend translates by `code`.
//!
//! The data folder is `DOORSTEP_DATA_DIR` when set (tests and demos), otherwise the
//! platform's app data folder. The service catalog is the built-in one, or the folder
//! named by `DOORSTEP_CATALOG_DIR`.

mod background;
mod commands;
mod console;
mod error;
mod keystore;
mod session;
mod speech;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use doorstep_device::Device;
use tauri::{App, Builder, Manager, WebviewUrl, WebviewWindowBuilder, Wry};

pub use error::UiError;

/// Environment variable naming the data folder.
pub const DATA_DIR_ENV: &str = "DOORSTEP_DATA_DIR";

/// Environment variable naming a folder with a service catalog to use instead of the
/// built-in one.
pub const CATALOG_DIR_ENV: &str = "DOORSTEP_CATALOG_DIR";

/// With [`SERVER_URL_ENV`]: a one-time enrollment code the app trades for its sync
/// identity at start, when it has none yet (`make run` makes one for a demo committee).
pub const ENROLL_CODE_ENV: &str = "DOORSTEP_ENROLL_CODE";

/// The sync server to enroll with.
pub const SERVER_URL_ENV: &str = "DOORSTEP_SERVER_URL";

/// Environment variable naming the folder exports are saved in (instead of the
/// person's Downloads folder).
pub const EXPORT_DIR_ENV: &str = "DOORSTEP_EXPORT_DIR";

/// The open device, shared by the commands and the background sync, with the
/// lock state and what the status line shows.
pub struct AppState {
    device: Mutex<Device>,
    session: doorstep_device::session::Session,
    sync: Arc<background::SyncCell>,
    /// Held for a whole sync, so that two never run at once; the device itself is
    /// held only between a sync's requests.
    syncing: Mutex<()>,
    speaker: speech::Speaker,
}

impl AppState {
    /// The device. A command that panicked held it inside a store transaction, which
    /// rolled back as the panic unwound, so the device is whole: the app goes on rather
    /// than refusing every later command until it is restarted.
    fn device(&self) -> MutexGuard<'_, Device> {
        self.device.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Registers the commands and opens the device's store when the app starts.
pub fn setup(builder: Builder<Wry>) -> Builder<Wry> {
    builder
        .invoke_handler(tauri::generate_handler![
            commands::start_state,
            commands::enroll,
            commands::set_pin,
            commands::unlock,
            commands::lock,
            commands::enter_resident_mode,
            commands::leave_resident_mode,
            commands::record_consent,
            commands::speak,
            commands::stop_speaking,
            commands::speaking,
            commands::save_receipt,
            commands::open_receipt,
            commands::sync_state,
            commands::sync_now,
            commands::search_residents,
            commands::register_resident,
            commands::update_resident,
            commands::resident,
            commands::history,
            commands::services_for,
            commands::services,
            commands::authorizations_of,
            commands::record_authorization,
            commands::store_blob,
            commands::blob,
            commands::remove_attachment,
            commands::attach_file,
            commands::start_application,
            commands::application,
            commands::set_application_field,
            commands::type_application_field,
            commands::submit_application,
            commands::list_applications,
            commands::conflicted_records,
            commands::resolve_conflict,
            console::console_committees,
            console::log_page,
            console::log_entry_records,
            console::chain_states,
            console::enrolled_devices,
            console::revoke_device,
            console::review_queue,
            console::record_review,
            console::overview,
            console::export_applications,
            console::export_residents,
            console::open_exports,
            console::preview_roster,
            console::import_roster,
        ])
        .setup(|app| {
            open_device(app).map_err(|e| {
                // The whole chain, so the message names the catalog file, line and field.
                let message = format!("{e:#}");
                tracing::error!(%message, "Doorstep cannot start");
                message.into()
            })
        })
}

/// Opens the device's store and catalog, then the main window.
fn open_device(app: &mut App<Wry>) -> anyhow::Result<()> {
    let data_dir = match std::env::var_os(DATA_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => app
            .path()
            .app_data_dir()
            .context("the platform has no app data folder")?,
    };
    // A catalog that does not pass its checks stops start-up, naming the file, the line
    // and the field, rather than offering a volunteer a broken form.
    let catalog = match std::env::var_os(CATALOG_DIR_ENV) {
        Some(dir) if !dir.is_empty() => doorstep_device::catalog::load_dir(&PathBuf::from(dir))
            .context("loading the service catalog")?,
        _ => {
            doorstep_device::catalog::builtin().context("checking the built-in service catalog")?
        }
    };
    let store = keystore::choose().context("choosing the keyring for the database key")?;
    tracing::info!(store, "keyring chosen");
    let device = Device::open_with_catalog(&data_dir, catalog)
        .with_context(|| format!("opening the data folder {}", data_dir.display()))?;
    tracing::info!(actor = %device.actor_hex(), "device store open");
    let mut device = device;
    enroll_from_env(&mut device);
    let sync = Arc::new(background::SyncCell::default());
    let progress = Arc::clone(&sync);
    device.on_sync_progress(move |p| progress.update(|v| v.progress = Some(p.clone())));
    app.manage(AppState {
        device: Mutex::new(device),
        session: session::from_env(),
        sync,
        syncing: Mutex::new(()),
        speaker: speech::Speaker::default(),
    });
    background::start(app.handle().clone());
    // The web view keeps its storage (the language choice) inside the data folder too,
    // so that one folder holds everything of this device.
    WebviewWindowBuilder::new(app, "main", WebviewUrl::default())
        .title("上门办 Doorstep")
        .inner_size(1200.0, 780.0)
        .min_inner_size(360.0, 560.0)
        .data_directory(data_dir.join("webview"))
        .build()
        .context("opening the main window")?;
    Ok(())
}

/// Enrolls the device with the code and server named in the environment, when it is
/// not enrolled yet. A failure is logged and the app opens anyway: it works offline.
fn enroll_from_env(device: &mut Device) {
    let (Some(code), Some(url)) = (
        std::env::var(ENROLL_CODE_ENV)
            .ok()
            .filter(|c| !c.trim().is_empty()),
        std::env::var(SERVER_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty()),
    ) else {
        return;
    };
    match device.enrollment() {
        Ok(Some(_)) => tracing::info!("already enrolled; the enrollment code is not needed"),
        Ok(None) => match device.enroll(&url, &code, &device_label()) {
            Ok(e) => tracing::info!(device_id = %e.device_id, role = e.role.as_str(), "enrolled"),
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "enrollment failed; working offline")
            }
        },
        Err(e) => tracing::warn!(code = e.code(), "cannot read the enrollment"),
    }
}

/// How supervisors tell this tablet from others in their list of devices: the
/// machine's name where it has one.
pub(crate) fn device_label() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().chars().take(60).collect::<String>())
        .filter(|h| !h.is_empty() && h != "localhost")
        .map_or_else(|| "上门办".to_owned(), |h| format!("上门办 · {h}"))
}

/// Runs the app until its window closes.
#[expect(
    clippy::disallowed_methods,
    reason = "tauri::generate_context! expands to a std::process::exit call"
)]
pub fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    setup(Builder::default())
        .run(tauri::generate_context!())
        .context("running the Doorstep window")
}
