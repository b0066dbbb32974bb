//! The supervisor's commands: the sync log and its chain, the review queue and decisions,
//! the overview, exports, roster import and devices. Each is a few lines over
//! `doorstep_device`'s console and roster modules; the long ones report progress as
//! `doorstep://progress` events.

use std::collections::BTreeMap;
use std::path::PathBuf;

use doorstep_device::console::DeviceView;
use doorstep_device::records::{ChainState, Committee, Decision, DeviceInfo, LogEntry, LogPage};
use doorstep_device::roster::{
    self, ExportFilter, Exported, Format, ImportReport, RosterLayout, RosterPreview, Table, Task,
    TaskProgress, save_export, save_file,
};
use doorstep_device::{
    Device, DeviceError, ErrorCode, LogFilter, Overview, QueueItem, RecordChanges,
};
use tauri::{AppHandle, Emitter, Manager};

use crate::UiError;
use crate::commands::{decode, doc_id, unlocked, unlocked_shared};

/// The event long tasks report their progress with.
pub const PROGRESS_EVENT: &str = "doorstep://progress";

fn progress_to(app: &AppHandle, task: Task) -> impl Fn(usize, usize) + use<> {
    let app = app.clone();
    move |done, total| {
        // A window that went away misses a progress step; nothing else depends on it.
        let _ = app.emit(PROGRESS_EVENT, TaskProgress { task, done, total });
    }
}

/// The committees this device serves (a supervisor's several), for the filters.
#[tauri::command]
pub async fn console_committees(app: AppHandle) -> Result<Vec<Committee>, UiError> {
    unlocked(&app, |d| {
        Ok(d.enrollment()?.map(|e| e.committees).unwrap_or_default())
    })
    .await
}

#[tauri::command]
pub async fn log_page(app: AppHandle, filter: LogFilter) -> Result<LogPage, UiError> {
    unlocked(&app, move |d| d.log_page(&filter)).await
}

#[tauri::command]
pub async fn log_entry_records(
    app: AppHandle,
    entry: LogEntry,
) -> Result<Vec<RecordChanges>, UiError> {
    unlocked(&app, move |d| d.log_entry_records(&entry)).await
}

#[tauri::command]
pub async fn chain_states(app: AppHandle) -> Result<Vec<ChainState>, UiError> {
    unlocked(&app, |d| d.chain_states()).await
}

#[tauri::command]
pub async fn enrolled_devices(app: AppHandle) -> Result<Vec<DeviceView>, UiError> {
    unlocked(&app, |d| d.enrolled_device_views()).await
}

/// Revokes a lost device: only with the supervisor's PIN (wrong ones count towards the
/// waits, as at unlocking).
#[tauri::command]
pub async fn revoke_device(
    app: AppHandle,
    device_id: String,
    pin: String,
) -> Result<DeviceInfo, UiError> {
    unlocked(&app, move |d| {
        let now = d.now();
        d.check_pin(&pin, now)?;
        d.revoke_device(&device_id)
    })
    .await
}

#[tauri::command]
pub async fn review_queue(app: AppHandle) -> Result<Vec<QueueItem>, UiError> {
    unlocked(&app, |d| d.review_queue(d.now())).await
}

/// A supervisor's decision: `returned` (with a comment), `approved`, `rejected` (with a
/// reason) or `filed` (with the government system's reference number).
#[tauri::command]
pub async fn record_review(
    app: AppHandle,
    id: String,
    decision: Decision,
    text: String,
) -> Result<&'static str, UiError> {
    unlocked(&app, move |d| {
        Ok(d.record_review(&doc_id(&id)?, decision.event(), &text)?
            .as_str())
    })
    .await
}

#[tauri::command]
pub async fn overview(app: AppHandle) -> Result<Overview, UiError> {
    unlocked(&app, |d| d.overview(d.today())).await
}

/// Where exports go ([`doorstep_device::settings::Settings::exports_dir`]).
fn exports_dir(app: &AppHandle, d: &Device) -> PathBuf {
    let downloads = app.path().download_dir().ok();
    let settings = &app.state::<crate::AppState>().settings;
    settings.exports_dir(downloads.as_deref(), d.data_dir())
}

/// Writes `table` as `format` into the exports folder as `<stem> <date-time>`, telling
/// `progress` as rows are written: what every table export ends with.
fn save_table(
    handle: &AppHandle,
    d: &Device,
    table: &Table,
    format: Format,
    stem: &str,
    revealed: bool,
    progress: &dyn Fn(usize, usize),
) -> Result<Exported, DeviceError> {
    let bytes = table.write(format, progress)?;
    save_export(
        &exports_dir(handle, d),
        stem,
        format,
        &bytes,
        table.rows.len(),
        revealed,
        d.now(),
    )
}

/// Exports the applications the filter selects. `labels` are the headers and status
/// names in the supervisor's language; `pin`, when given and right, reveals ID numbers.
#[tauri::command]
pub async fn export_applications(
    app: AppHandle,
    filter: ExportFilter,
    format: Format,
    labels: BTreeMap<String, String>,
    lang: String,
    pin: Option<String>,
) -> Result<Exported, UiError> {
    let progress = progress_to(&app, Task::Export);
    let handle = app.clone();
    unlocked(&app, move |d| {
        let revealed = d.reveal_with(pin.as_deref(), "export")?;
        let table = d.applications_table(&filter, &labels, &lang, revealed)?;
        let stem = if lang == "en" {
            "applications"
        } else {
            "申请"
        };
        save_table(&handle, d, &table, format, stem, revealed, &progress)
    })
    .await
}

/// Exports every visit plan (of one committee, or all): who visits whom, when, what for,
/// and what came of the last visit. `labels` are the headers and words in the
/// supervisor's language.
#[tauri::command]
pub async fn export_visits(
    app: AppHandle,
    committee: Option<String>,
    format: Format,
    labels: BTreeMap<String, String>,
    lang: String,
) -> Result<Exported, UiError> {
    let progress = progress_to(&app, Task::Export);
    let handle = app.clone();
    unlocked(&app, move |d| {
        let committee = committee.filter(|c| !c.is_empty());
        let table = d.visits_table(committee.as_deref(), &labels, &lang)?;
        let stem = if lang == "en" {
            "visits"
        } else {
            "走访安排"
        };
        save_table(&handle, d, &table, format, stem, false, &progress)
    })
    .await
}

/// Prints this device's user's visits as a large-print PDF into the exports folder.
/// `labels` are its words in the window's language.
#[tauri::command]
pub async fn print_visit_list(
    app: AppHandle,
    labels: BTreeMap<String, String>,
    lang: String,
) -> Result<Exported, UiError> {
    let handle = app.clone();
    unlocked(&app, move |d| {
        let (pdf, count) = d.visit_list_pdf(&labels, &lang)?;
        let stem = if lang == "en" {
            "visit list"
        } else {
            "走访单"
        };
        save_file(
            &exports_dir(&handle, d),
            stem,
            "pdf",
            &pdf,
            count,
            false,
            d.now(),
        )
    })
    .await
}

/// Exports the residents (of one committee, or all) as a roster.
#[tauri::command]
pub async fn export_residents(
    app: AppHandle,
    committee: Option<String>,
    format: Format,
    pin: Option<String>,
) -> Result<Exported, UiError> {
    let progress = progress_to(&app, Task::Export);
    let handle = app.clone();
    unlocked(&app, move |d| {
        let revealed = d.reveal_with(pin.as_deref(), "export")?;
        let committee = committee.filter(|c| !c.is_empty());
        let table = d.residents_table(committee.as_deref(), revealed)?;
        save_table(&handle, d, &table, format, "居民名单", revealed, &progress)
    })
    .await
}

/// Opens the exports folder in the system's file manager; answers the folder.
#[tauri::command]
pub async fn open_exports(app: AppHandle) -> Result<String, UiError> {
    let handle = app.clone();
    unlocked(&app, move |d| {
        let dir = exports_dir(&handle, d);
        std::fs::create_dir_all(&dir).map_err(|e| DeviceError::File {
            code: ErrorCode::ExportUnwritable,
            reason: e.to_string(),
        })?;
        opener::open(&dir).map_err(|e| DeviceError::File {
            code: ErrorCode::ExportUnopenable,
            reason: e.to_string(),
        })?;
        Ok(dir.display().to_string())
    })
    .await
}

fn roster_of(
    name: &str,
    base64: &str,
    sheet: Option<&str>,
    layout: Option<&RosterLayout>,
) -> Result<roster::Roster, UiError> {
    let format = Format::of_name(name).ok_or_else(|| {
        UiError::plain(
            ErrorCode::RosterFormat,
            "choose an .xlsx, .xls or .csv file",
        )
    })?;
    let bytes = decode(base64)?;
    Ok(roster::read_roster_as(&bytes, format, sheet, layout)?)
}

/// Reads a roster file (of a workbook, sheet `sheet`, or the first whose header row is
/// found) and says what importing it would do; saves nothing.
#[tauri::command]
pub async fn preview_roster(
    app: AppHandle,
    name: String,
    base64: String,
    sheet: Option<String>,
    layout: Option<RosterLayout>,
) -> Result<RosterPreview, UiError> {
    let roster = roster_of(&name, &base64, sheet.as_deref(), layout.as_ref())?;
    unlocked(&app, move |d| d.preview_roster(&roster)).await
}

/// Imports a roster file into `committee`.
#[tauri::command]
pub async fn import_roster(
    app: AppHandle,
    name: String,
    base64: String,
    committee: Option<String>,
    sheet: Option<String>,
    layout: Option<RosterLayout>,
) -> Result<ImportReport, UiError> {
    let roster = roster_of(&name, &base64, sheet.as_deref(), layout.as_ref())?;
    let progress = progress_to(&app, Task::Import);
    unlocked_shared(&app, move |device| {
        roster::import(device, &roster, committee.as_deref(), &progress)
    })
    .await
}
