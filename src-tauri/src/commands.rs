//! The `#[tauri::command]`s: each a few lines over doorstep-device. They run on the
//! blocking pool (never the window's thread), and all but the few that unlock the app
//! refuse with `locked` while it is locked.

use std::time::Instant;

use doorstep_device::members::MemberView;
use doorstep_device::records::{
    AuthorizationInput, DocId, FieldValue, HistoryEntry, ResidentInput, ResidentPatch, Service,
};
use doorstep_device::session::StartState;
use doorstep_device::sync::{AsideView, RefusedView, SyncState};
use doorstep_device::{
    ApplicationRow, ApplicationView, AuthorizationView, CertificationView, ConflictedRecord,
    Device, DeviceAccess, DeviceError, EnrollText, ErrorCode, LogEvidence, ResidentSummary,
    ResidentView, RetryPolicy, ServiceOffer, SyncReport,
};
use tauri::{AppHandle, Manager};

use crate::background;
use crate::{AppState, UiError};

/// Runs `f` on the open device, on the blocking pool, if the app is unlocked.
pub(crate) async fn unlocked<T: Send + 'static>(
    app: &AppHandle,
    f: impl FnOnce(&mut Device) -> Result<T, DeviceError> + Send + 'static,
) -> Result<T, UiError> {
    unlocked_shared(app, move |shared| shared.with_device(f)).await
}

/// Like [`unlocked`], for long work that borrows the device step by step (a roster
/// import) so that other commands go on meanwhile.
pub(crate) async fn unlocked_shared<T: Send + 'static>(
    app: &AppHandle,
    f: impl FnOnce(&mut &std::sync::Mutex<Device>) -> Result<T, DeviceError> + Send + 'static,
) -> Result<T, UiError> {
    let app = app.clone();
    blocking(move || {
        let state = app.state::<AppState>();
        if !state.session.touch(Instant::now()) {
            return Err(UiError::locked());
        }
        // Someone the server removed stops at once (the roster that says so may come
        // in a sync still running), not when that sync ends.
        if state.device().active_member_removed().unwrap_or(false) {
            state.session.lock();
            return Err(UiError::locked());
        }
        Ok(f(&mut &state.device)?)
    })
    .await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UiError> + Send + 'static,
) -> Result<T, UiError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|_| UiError::internal("a command stopped unexpectedly"))?
}

pub(crate) fn doc_id(text: &str) -> Result<DocId, DeviceError> {
    DocId::parse(text).ok_or_else(|| DeviceError::NotFound("a malformed record id".into()))
}

/// Enrolling and setting the PIN are open before a PIN exists, and afterwards only
/// while unlocked, so nobody can re-enroll or re-PIN a locked tablet.
fn before_pin_or_unlocked(state: &AppState, device: &Device) -> Result<(), UiError> {
    if device.has_pin()? && !state.session.touch(Instant::now()) {
        return Err(UiError::locked());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Start: enrollment, PIN, lock.

fn start_view(state: &AppState, device: &Device) -> Result<StartState, DeviceError> {
    device.start_state(&state.session, Instant::now())
}

/// Where the app stands at start: enrolled or not, PIN set or not, locked or not.
#[tauri::command]
pub async fn start_state(app: AppHandle) -> Result<StartState, UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        let device = state.device();
        Ok(start_view(&state, &device)?)
    })
    .await
}

/// Trades an enrollment code for this device's sync identity. Only before a PIN is set
/// or while unlocked, so nobody can re-enroll a locked tablet.
#[tauri::command]
pub async fn enroll(
    app: AppHandle,
    server_url: String,
    code: String,
) -> Result<StartState, UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        let mut device = state.device();
        before_pin_or_unlocked(&state, &device)?;
        // The code box takes the whole enrollment text (which names the server and pins
        // its key) or a bare code beside a typed address.
        let text = EnrollText::from_form(&server_url, &code)
            .map_err(|e| DeviceError::EnrollText(e.to_string()))?;
        device.enroll(&text, &crate::device_label())?;
        Ok(start_view(&state, &device)?)
    })
    .await
}

/// Enrolls anew a tablet whose people the office all removed (reported lost, then found):
/// its first person's PIN, then a new code from the office. Unlocked as her afterwards.
#[tauri::command]
pub async fn enroll_again(
    app: AppHandle,
    pin: String,
    server_url: String,
    code: String,
) -> Result<StartState, UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        // Nobody stays at work while the tablet changes hands.
        state.session.lock();
        let text = EnrollText::from_form(&server_url, &code)
            .map_err(|e| DeviceError::EnrollText(e.to_string()))?;
        let mut device = state.device();
        let now = device.now();
        device.enroll_again_as_first(&text, &crate::device_label(), &pin, now)?;
        state.session.unlock(Instant::now());
        Ok(start_view(&state, &device)?)
    })
    .await
}

/// Adds a person to this tablet with their own one-time code and PIN (while unlocked):
/// the people it holds afterwards.
#[tauri::command]
pub async fn add_member(
    app: AppHandle,
    code: String,
    pin: String,
) -> Result<Vec<MemberView>, UiError> {
    unlocked(&app, move |device| {
        let text =
            EnrollText::from_form("", &code).map_err(|e| DeviceError::EnrollText(e.to_string()))?;
        device.add_member(&text, &crate::device_label(), &pin)?;
        device.members()
    })
    .await
}

/// Adds a volunteer by name on the authority of the supervisor at work (the server makes
/// their code; needs signal), with the PIN the volunteer chooses.
#[tauri::command]
pub async fn add_member_by_name(
    app: AppHandle,
    name: String,
    pin: String,
) -> Result<Vec<MemberView>, UiError> {
    unlocked(&app, move |device| {
        device.add_member_by_supervisor(&name, &crate::device_label(), &pin)?;
        device.members()
    })
    .await
}

/// The people who may unlock this tablet.
#[tauri::command]
pub async fn members(app: AppHandle) -> Result<Vec<MemberView>, UiError> {
    unlocked(&app, |device| device.members()).await
}

/// Sets the PIN: on first run, or while unlocked. Unlocks the app. A device not enrolled
/// yet (first run without signal) also takes the volunteer's name here.
#[tauri::command]
pub async fn set_pin(
    app: AppHandle,
    pin: String,
    volunteer: Option<String>,
) -> Result<StartState, UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        let mut device = state.device();
        before_pin_or_unlocked(&state, &device)?;
        device.set_pin_as(&pin, volunteer.as_deref().unwrap_or_default())?;
        state.session.unlock(Instant::now());
        Ok(start_view(&state, &device)?)
    })
    .await
}

/// Unlocks the app with a member's PIN (`member`: their id; none or empty: the first
/// person): they are the one who writes and signs from now on.
#[tauri::command]
pub async fn unlock(
    app: AppHandle,
    pin: String,
    member: Option<String>,
) -> Result<StartState, UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        let mut device = state.device();
        let now = device.now();
        device.unlock_member(member.as_deref().unwrap_or_default(), &pin, now)?;
        state.session.unlock(Instant::now());
        Ok(start_view(&state, &device)?)
    })
    .await
}

/// Reads a screen of resident mode aloud (Mandarin, or English).
#[tauri::command]
pub async fn speak(app: AppHandle, text: String, lang: String) -> Result<(), UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        if !state.session.is_unlocked(Instant::now()) {
            return Err(UiError::locked());
        }
        state
            .speaker
            .speak(&text, &lang)
            .map_err(|code| UiError::plain(code, "read-aloud is not available"))
    })
    .await
}

/// Whether resident mode can read aloud in `lang` on this device (a voice is installed).
#[tauri::command]
pub async fn read_aloud_available(app: AppHandle, lang: String) -> Result<bool, UiError> {
    blocking(move || Ok(app.state::<AppState>().speaker.available(&lang))).await
}

/// Stops reading aloud.
#[tauri::command]
pub async fn stop_speaking(app: AppHandle) -> Result<(), UiError> {
    blocking(move || {
        app.state::<AppState>()
            .speaker
            .stop()
            .map_err(|code| UiError::plain(code, "read-aloud cannot be stopped"))
    })
    .await
}

/// Whether resident mode's read-aloud is still speaking.
#[tauri::command]
pub async fn speaking(app: AppHandle) -> Result<bool, UiError> {
    blocking(move || {
        app.state::<AppState>()
            .speaker
            .speaking()
            .map_err(|code| UiError::plain(code, "read-aloud is not available"))
    })
    .await
}

/// Hands the tablet to the resident: no idle lock until the volunteer's PIN ends it.
#[tauri::command]
pub async fn enter_resident_mode(app: AppHandle) -> Result<(), UiError> {
    let state = app.state::<AppState>();
    if !state.session.touch(Instant::now()) {
        return Err(UiError::locked());
    }
    state.session.set_resident_mode(true, Instant::now());
    Ok(())
}

/// Takes the tablet back from the resident: only with the volunteer's PIN (wrong ones
/// count towards the wait, as at unlocking).
#[tauri::command]
pub async fn leave_resident_mode(app: AppHandle, pin: String) -> Result<(), UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        let mut device = state.device();
        let now = device.now();
        device.check_pin(&pin, now)?;
        state.session.set_resident_mode(false, Instant::now());
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn lock(app: AppHandle) -> Result<(), UiError> {
    let state = app.state::<AppState>();
    // The resident's hands are no place for a lock screen: only the PIN ends resident mode.
    if state.session.in_resident_mode() {
        return Err(UiError::locked());
    }
    state.session.lock();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Sync.

/// The status line: online or not, what waits, the last sync, conflicts. Never waits for
/// a sync in progress (it answers with what it knew), and is not activity for the idle
/// lock.
#[tauri::command]
pub async fn sync_state(app: AppHandle) -> Result<SyncState, UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        let unlocked = state.session.is_unlocked(Instant::now());
        if let Ok(device) = state.device.try_lock() {
            state.sync.remember_figures(&device)?;
        }
        Ok(state.sync.get(unlocked))
    })
    .await
}

/// The records the server refused, each with why; they wait here until changed.
#[tauri::command]
pub async fn refused_records(app: AppHandle) -> Result<Vec<RefusedView>, UiError> {
    unlocked(&app, |d| d.refused_views()).await
}

/// The received records this device could not store, set aside for a person.
#[tauri::command]
pub async fn records_aside(app: AppHandle) -> Result<Vec<AsideView>, UiError> {
    unlocked(&app, |d| d.records_aside()).await
}

/// Every sync log of the server's that did not hold against a checkpoint this device
/// held, newest first.
#[tauri::command]
pub async fn log_evidence(app: AppHandle) -> Result<Vec<LogEvidence>, UiError> {
    unlocked(&app, |d| d.log_evidence()).await
}

/// Syncing again after the server's log did not hold (it was restored from a backup, the
/// administrator says): only with the PIN; the evidence stays.
#[tauri::command]
pub async fn accept_server_log(app: AppHandle, pin: String) -> Result<(), UiError> {
    unlocked(&app, move |d| {
        let now = d.now();
        d.check_pin(&pin, now)?;
        d.accept_server_log()
    })
    .await
}

/// Syncs now (the Sync button), with the usual retries.
#[tauri::command]
pub async fn sync_now(app: AppHandle) -> Result<SyncReport, UiError> {
    blocking(move || {
        let state = app.state::<AppState>();
        if !state.session.touch(Instant::now()) {
            return Err(UiError::locked());
        }
        let transport = state.device().transport()?;
        Ok(background::run_sync(
            &app,
            &state,
            transport,
            &RetryPolicy::default(),
        )?)
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Residents.

#[tauri::command]
pub async fn search_residents(
    app: AppHandle,
    query: String,
) -> Result<Vec<ResidentSummary>, UiError> {
    unlocked(&app, move |d| {
        if query.trim().is_empty() {
            d.list_residents_page(0, 50)
        } else {
            d.search_residents(&query)
        }
    })
    .await
}

#[tauri::command]
pub async fn register_resident(
    app: AppHandle,
    input: ResidentInput,
) -> Result<ResidentSummary, UiError> {
    unlocked(&app, move |d| d.register_resident(&input)).await
}

/// Saves an edited resident: the fields the edit leaves out stay as they are.
#[tauri::command]
pub async fn update_resident(
    app: AppHandle,
    id: String,
    edit: ResidentPatch,
) -> Result<ResidentSummary, UiError> {
    unlocked(&app, move |d| d.update_resident(&doc_id(&id)?, edit)).await
}

/// One resident; the ID number and phones masked unless `pin` is given and right.
#[tauri::command]
pub async fn resident(
    app: AppHandle,
    id: String,
    pin: Option<String>,
) -> Result<ResidentView, UiError> {
    unlocked(&app, move |d| {
        d.resident_view(&doc_id(&id)?, pin.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn history(app: AppHandle, id: String) -> Result<Vec<HistoryEntry>, UiError> {
    unlocked(&app, move |d| d.history(&doc_id(&id)?)).await
}

// ---------------------------------------------------------------------------------------
// Catalog, authorizations, applications.

#[tauri::command]
pub async fn services_for(app: AppHandle, resident: String) -> Result<Vec<ServiceOffer>, UiError> {
    unlocked(&app, move |d| {
        d.services_for(&doc_id(&resident)?, d.today())
    })
    .await
}

#[tauri::command]
pub async fn services(app: AppHandle) -> Result<Vec<Service>, UiError> {
    unlocked(&app, |d| {
        Ok(d.catalog().services.values().cloned().collect())
    })
    .await
}

#[tauri::command]
pub async fn authorizations_of(
    app: AppHandle,
    resident: String,
) -> Result<Vec<AuthorizationView>, UiError> {
    unlocked(&app, move |d| d.authorization_views(&doc_id(&resident)?)).await
}

#[tauri::command]
pub async fn record_authorization(
    app: AppHandle,
    resident: String,
    input: AuthorizationInput,
) -> Result<DocId, UiError> {
    unlocked(&app, move |d| {
        d.record_authorization(&doc_id(&resident)?, &input)
    })
    .await
}

/// Decodes a file sent as base64: WebKitGTK's IPC carries no raw bodies, and base64
/// costs a third more where a JSON array of numbers would cost four times as much.
pub(crate) fn decode(base64_bytes: &str) -> Result<Vec<u8>, UiError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(base64_bytes.trim())
        .map_err(|_| UiError::internal("the file's bytes arrived damaged"))
}

/// Stores a file (a drawn signature) as a blob. Returns its SHA-256.
#[tauri::command]
pub async fn store_blob(app: AppHandle, base64: String) -> Result<String, UiError> {
    let bytes = decode(&base64)?;
    unlocked(&app, move |d| d.store_blob(&bytes)).await
}

/// A stored blob's bytes (a signature or photo to show), as base64: WebKitGTK's IPC
/// hands raw response bodies to the page as a list of numbers, not as bytes.
#[tauri::command]
pub async fn blob(app: AppHandle, sha256: String) -> Result<String, UiError> {
    use base64::Engine as _;
    let bytes = unlocked(&app, move |d| d.blob(&sha256)).await?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Removes an attachment from an application (to retake a photo).
#[tauri::command]
pub async fn remove_attachment(app: AppHandle, id: String, sha256: String) -> Result<(), UiError> {
    unlocked(&app, move |d| d.remove_attachment(&doc_id(&id)?, &sha256)).await
}

/// Attaches a file to a slot of an application, with the quality record of a photo
/// taken with the guided camera. Returns its SHA-256. The device judges the file's type
/// from its bytes and checks the quality record.
#[tauri::command]
pub async fn attach_file(
    app: AppHandle,
    id: String,
    slot: String,
    name: String,
    base64: String,
    quality: Option<String>,
) -> Result<String, UiError> {
    let bytes = decode(&base64)?;
    unlocked(&app, move |d| {
        d.attach_photo(&doc_id(&id)?, &slot, &name, &bytes, quality.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn start_application(
    app: AppHandle,
    resident: String,
    service: String,
) -> Result<DocId, UiError> {
    unlocked(&app, move |d| {
        d.start_application(&doc_id(&resident)?, &service)
    })
    .await
}

/// One application; its personal numbers (accounts, phones, ID numbers) masked unless
/// `pin` is given and right.
#[tauri::command]
pub async fn application(
    app: AppHandle,
    id: String,
    pin: Option<String>,
) -> Result<ApplicationView, UiError> {
    unlocked(&app, move |d| {
        d.application_view(&doc_id(&id)?, pin.as_deref())
    })
    .await
}

#[tauri::command]
pub async fn set_application_field(
    app: AppHandle,
    id: String,
    key: String,
    value: FieldValue,
) -> Result<(), UiError> {
    unlocked(&app, move |d| {
        d.set_application_field(&doc_id(&id)?, &key, &value)
    })
    .await
}

/// Saves what was typed into a form field exactly as typed; answers the text's problem
/// (a field code) when it does not pass the catalog's checks, else nothing.
#[tauri::command]
pub async fn type_application_field(
    app: AppHandle,
    id: String,
    key: String,
    text: String,
) -> Result<Option<ErrorCode>, UiError> {
    unlocked(&app, move |d| {
        d.type_application_field(&doc_id(&id)?, &key, &text)
    })
    .await
}

/// Records the resident's decision on one kind of sensitive data; when they agree, their
/// signature (base64 PNG) is stored with it.
#[tauri::command]
pub async fn record_consent(
    app: AppHandle,
    id: String,
    data: String,
    agreed: bool,
    signature: Option<String>,
) -> Result<(), UiError> {
    let signature = signature.as_deref().map(decode).transpose()?;
    unlocked(&app, move |d| {
        d.record_consent_signed(&doc_id(&id)?, &data, agreed, signature.as_deref())
    })
    .await
}

/// Makes the resident's large-print receipt and saves it as a PDF in the data folder's
/// `receipts/`; returns the file's path.
#[tauri::command]
pub async fn save_receipt(
    app: AppHandle,
    id: String,
    labels: doorstep_device::receipt::ReceiptLabels,
) -> Result<String, UiError> {
    unlocked(&app, move |d| {
        Ok(d.save_receipt(&doc_id(&id)?, &labels)?
            .display()
            .to_string())
    })
    .await
}

/// Opens a saved receipt in the system's PDF viewer, to print it.
#[tauri::command]
pub async fn open_receipt(app: AppHandle, path: String) -> Result<(), UiError> {
    unlocked(&app, move |d| {
        opener::open(d.saved_receipt(&path)?).map_err(|e| DeviceError::Receipt {
            code: ErrorCode::ReceiptUnopenable,
            reason: e.to_string(),
        })
    })
    .await
}

#[tauri::command]
pub async fn submit_application(app: AppHandle, id: String) -> Result<&'static str, UiError> {
    unlocked(&app, move |d| {
        Ok(d.submit_application(&doc_id(&id)?)?.as_str())
    })
    .await
}

#[tauri::command]
pub async fn list_applications(
    app: AppHandle,
    resident: Option<String>,
) -> Result<Vec<ApplicationRow>, UiError> {
    unlocked(&app, move |d| {
        let resident = resident.as_deref().map(doc_id).transpose()?;
        d.application_rows(resident.as_ref())
    })
    .await
}

/// The residents whose yearly pension certification needs a visit today.
#[tauri::command]
pub async fn certifications_to_visit(app: AppHandle) -> Result<Vec<CertificationView>, UiError> {
    unlocked(&app, |d| d.certifications_to_visit(d.today())).await
}

// ---------------------------------------------------------------------------------------
// Conflicts.

#[tauri::command]
pub async fn conflicted_records(
    app: AppHandle,
    pin: Option<String>,
) -> Result<Vec<ConflictedRecord>, UiError> {
    unlocked(&app, move |d| d.conflicted_views(pin.as_deref())).await
}

#[tauri::command]
pub async fn resolve_conflict(
    app: AppHandle,
    id: String,
    field: String,
    choice: String,
    note: Option<String>,
) -> Result<(), UiError> {
    unlocked(&app, move |d| {
        d.resolve_conflict_choice(
            &doc_id(&id)?,
            &field,
            &choice,
            note.as_deref().unwrap_or(""),
        )
    })
    .await
}
