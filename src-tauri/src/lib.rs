//! # doorstep-app
//!
//! The Tauri 2 shell of Doorstep. Glue only: each command locks the open
//! [`doorstep_device::Device`], calls one use-case method, and turns its error into a
//! [`UiError`] (`{code, message, fields}`) that the frontend translates by `code`.
//!
//! The data folder is `DOORSTEP_DATA_DIR` when set (tests and demos), otherwise the
//! platform's app data folder. The service catalog is the built-in one, or the folder
//! named by `DOORSTEP_CATALOG_DIR` ([`doorstep_device::settings`] reads them all).

mod background;
mod camera;
mod commands;
mod console;
mod keystore;
mod speech;
mod visits;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use doorstep_device::Device;
use doorstep_device::session::Session;
use doorstep_device::settings::{self, Settings};
use tauri::{App, Builder, Manager, WebviewUrl, WebviewWindowBuilder, Wry};

pub use doorstep_device::UiError;

/// The open device, shared by the commands and the background sync, with the
/// lock state and what the status line shows.
pub struct AppState {
    device: Mutex<Device>,
    session: Session,
    sync: Arc<doorstep_device::sync::StatusLine>,
    /// Held for a whole sync, so that two never run at once; the device itself is
    /// held only between a sync's requests.
    syncing: Mutex<()>,
    speaker: speech::Speaker,
    settings: Settings,
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
            commands::enroll_again,
            commands::add_member,
            commands::add_member_by_name,
            commands::members,
            commands::lock,
            commands::enter_resident_mode,
            commands::leave_resident_mode,
            commands::record_consent,
            commands::speak,
            commands::read_aloud_available,
            commands::stop_speaking,
            commands::speaking,
            commands::save_receipt,
            commands::open_receipt,
            commands::sync_state,
            commands::sync_now,
            commands::refused_records,
            commands::records_aside,
            commands::log_evidence,
            commands::accept_server_log,
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
            commands::certifications_to_visit,
            visits::my_visits,
            visits::visit_plan,
            visits::visitors,
            visits::assign_visit,
            visits::record_visit_outcome,
            visits::assign_visits,
            visits::visit_overview,
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
            console::export_visits,
            console::print_visit_list,
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
    let settings = Settings::from_env();
    let data_dir = match &settings.data_dir {
        Some(dir) => dir.clone(),
        None => app
            .path()
            .app_data_dir()
            .context("the platform has no app data folder")?,
    };
    // A catalog that does not pass its checks stops start-up, naming the file, the line
    // and the field, rather than offering a volunteer a broken form.
    let catalog = match &settings.catalog_dir {
        Some(dir) => {
            doorstep_device::catalog::load_dir(dir).context("loading the service catalog")?
        }
        None => {
            doorstep_device::catalog::builtin().context("checking the built-in service catalog")?
        }
    };
    let store = keystore::choose().context("choosing the keyring for the database key")?;
    tracing::info!(store, "keyring chosen");
    let device = Device::open_with_catalog(&data_dir, catalog)
        .with_context(|| format!("opening the data folder {}", data_dir.display()))?;
    tracing::info!(actor = %device.actor_hex(), "device store open");
    let mut device = device;
    if let Some(at) = &settings.enroll {
        // A failure is logged and the app opens anyway: it works offline.
        match device.enroll_at_start(at, &device_label()) {
            Ok(Some(e)) => tracing::info!(device_id = %e.device_id, "enrolled"),
            Ok(None) => tracing::info!("already enrolled; the enrollment code is not needed"),
            Err(e) => tracing::warn!(code = e.code().as_str(), error = %e, "enrollment failed"),
        }
    }
    let sync = Arc::new(doorstep_device::sync::StatusLine::default());
    let progress = Arc::clone(&sync);
    device.on_sync_progress(move |p| progress.set_progress(p));
    let mock_camera = settings.mock_camera;
    app.manage(AppState {
        device: Mutex::new(device),
        session: Session::new(settings.idle_lock, std::time::Instant::now()),
        sync,
        syncing: Mutex::new(()),
        speaker: speech::Speaker::new(settings.speech_off),
        settings,
    });
    background::start(app.handle().clone());
    // The web view keeps its storage (the language choice) inside the data folder too,
    // so that one folder holds everything of this device.
    let window = WebviewWindowBuilder::new(app, "main", WebviewUrl::default())
        .title("上门办 Doorstep")
        .inner_size(1200.0, 780.0)
        .min_inner_size(360.0, 560.0)
        .data_directory(data_dir.join("webview"))
        .build()
        .context("opening the main window")?;
    camera::enable(&window, mock_camera).context("switching the window's camera on")?;
    Ok(())
}

/// How supervisors tell this tablet from others: the machine's name where it has one.
pub(crate) fn device_label() -> String {
    settings::device_label(settings::hostname().as_deref())
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
