//! Helpers shared by the device's integration tests.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::path::Path;

use doorstep_device::store::Store;
use doorstep_device::{DATABASE_FILE, Device, DeviceError};

/// Database keys go to an in-memory keyring in tests, never a person's keyring.
pub fn mock_keyring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        keyring_core::set_default_store(keyring_core::mock::Store::new().expect("mock store"));
    });
}

/// Opens a device on `path` with its key in the mock keyring.
pub fn open_dir(path: &Path) -> Result<Device, DeviceError> {
    mock_keyring();
    Device::open(path)
}

/// The device's encrypted database opened directly, for tests that inspect or damage it.
pub fn raw_db(dir: &Path) -> Store {
    mock_keyring();
    let key = doorstep_device::secret::load_or_create(dir, true).expect("key");
    Store::open(&dir.join(DATABASE_FILE), &key).expect("raw open")
}

/// A supervisor's decision on another device: the record goes to the supervisor, the
/// decision comes back.
pub fn review(
    supervisor: &mut Device,
    volunteer: &mut Device,
    app: &doorstep_core::DocId,
    kind: doorstep_core::application::EventKind,
    text: &str,
) -> Result<doorstep_core::application::Status, DeviceError> {
    supervisor
        .merge_record(app, &volunteer.export_record(app).expect("export"))
        .expect("to the supervisor");
    let status = supervisor.record_review(app, kind, text)?;
    volunteer
        .merge_record(app, &supervisor.export_record(app).expect("export"))
        .expect("back to the volunteer");
    Ok(status)
}

/// Records the resident's signed authorization for `services`, valid from today for a
/// year: nothing is submitted on her behalf without one.
pub fn authorize(device: &mut Device, resident: &doorstep_core::DocId, services: &[&str]) {
    let (y, m, d) = device.today();
    let signature = device
        .store_blob(b"synthetic authorization signature")
        .expect("signature");
    let input = doorstep_core::authorization::AuthorizationInput {
        services: services.iter().map(|s| (*s).to_owned()).collect(),
        valid_from: format!("{y:04}-{m:02}-{d:02}"),
        valid_to: format!("{:04}-{m:02}-{:02}", y + 1, d.min(28)),
        signature,
    };
    device
        .record_authorization(resident, &input)
        .expect("authorization");
}

/// The resident agrees, signed, to the use of `data` in the application.
pub fn consent(
    device: &mut Device,
    app: &doorstep_core::DocId,
    data: doorstep_core::catalog::Sensitive,
) {
    let signature = device
        .store_blob(b"synthetic consent signature")
        .expect("signature");
    device
        .record_consent(app, data, true, &signature)
        .expect("consent");
}

/// Synthetic photo bytes: a JPEG's signature, then `tag`, so that different tags are
/// different blobs. Enough for the device, which judges a file by its first bytes.
pub fn jpeg(tag: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend_from_slice(tag);
    bytes
}

/// A synthetic JPEG of exactly `len` bytes (at least 4), filled with `fill`.
pub fn jpeg_of(fill: u8, len: usize) -> Vec<u8> {
    let mut bytes = jpeg(&vec![fill; len.saturating_sub(4)]);
    bytes.truncate(len);
    bytes
}

/// A pension-certification draft ready to submit: its fields filled (the last
/// certification `last` if given), a photo, the resident's authorization and her consent.
pub fn pension_application(
    device: &mut Device,
    resident: &doorstep_core::DocId,
    last: Option<&str>,
) -> doorstep_core::DocId {
    use doorstep_core::value::FieldValue;
    let app = device
        .start_application(resident, "pension_certification")
        .expect("start");
    let text = |t: &str| FieldValue::Text(t.into());
    device
        .set_application_field(&app, "pension_type", &text("resident"))
        .expect("type");
    device
        .set_application_field(&app, "pension_account", &text("6222000011112222"))
        .expect("account");
    device
        .set_application_field(&app, "lives_at_registered_address", &FieldValue::Bool(true))
        .expect("lives");
    if let Some(last) = last {
        device
            .set_application_field(&app, "last_certified_on", &text(last))
            .expect("last");
    }
    device
        .attach_file(&app, "face_photo", "face.jpg", &jpeg(b"synthetic photo"))
        .expect("photo");
    authorize(device, resident, &["pension_certification"]);
    consent(device, &app, doorstep_core::catalog::Sensitive::Face);
    app
}
