//! # doorstep-device
//!
//! Everything a field device does with records, offline: the SQLite store of Automerge
//! documents ([`store`]) and the use-case API that the app shell wraps ([`Device`]).
//! Every save that the volunteer is told is safe is committed with `synchronous=FULL`.
//! The database is encrypted at rest (SQLCipher) with a random key kept in the keyring
//! store the process chose ([`secret`]).
//!
//! Long work borrows the device a step at a time through [`DeviceAccess`] (the device
//! itself, or the mutex the window's commands share): a sync ([`sync::drive`], over the
//! IO-free [`sync::SyncRun`]) between its requests, a roster import ([`roster::import`])
//! between its batches, so the window answers meanwhile.
//!
//! ```
//! use doorstep_core::resident::ResidentInput;
//! use doorstep_device::Device;
//!
//! // The app uses the OS keyring; this example keeps the database key in memory.
//! keyring_core::set_default_store(keyring_core::mock::Store::new().expect("mock store"));
//! let dir = tempfile::tempdir().expect("temp dir");
//! let mut device = Device::open(dir.path()).expect("open");
//! let input = ResidentInput {
//!     name: "测试乙".into(),
//!     id_number: "110101194508150014".into(),
//!     ..ResidentInput::default()
//! };
//! device.register_resident(&input).expect("register");
//! assert_eq!(device.list_residents().expect("list").len(), 1);
//! ```

pub mod access;
pub mod applications;
pub mod attachments;
pub mod attest;
pub mod bundle;
pub mod catalog;
pub mod certifications;
pub mod clock;
mod conflicts;
pub mod console;
pub mod dates;
mod device;
pub mod docs;
pub mod error;
mod file_out;
pub mod members;
pub mod pin;
pub mod progress;
pub mod projection;
pub mod receipt;
pub mod roster;
pub mod secret;
pub mod session;
pub mod settings;
pub mod stamp;
pub mod store;
pub mod sync;
mod trust;
pub mod ui_error;
pub mod views;
pub mod visit_list;
pub mod visits;

pub use access::DeviceAccess;
pub use applications::{ApplicationSummary, TypedText};
pub use attachments::MAX_ATTACHMENT_BYTES;
pub use certifications::CertificationView;
pub use console::{LogFilter, Overview, QueueItem, RecordChanges};
pub use dates::today_china;
pub use device::{
    DATABASE_FILE, Device, MergeOutcome, SEARCH_LIMIT, ServiceOffer, mask_phone, now_ms,
};
pub use doorstep_core::ErrorCode;
pub use doorstep_core::server_identity::EnrollText;
pub use error::DeviceError;
pub use projection::ResidentSummary;
pub use ui_error::UiError;

/// The record types of `doorstep-core` that pass through this API, for the app shell:
/// it depends on this crate alone.
pub mod records {
    pub use doorstep_core::application::EventKind;
    pub use doorstep_core::authorization::AuthorizationInput;
    pub use doorstep_core::catalog::Service;
    pub use doorstep_core::history::HistoryEntry;
    pub use doorstep_core::protocol::{ChainState, Committee, DeviceInfo, LogEntry, LogPage};
    pub use doorstep_core::resident::{ResidentInput, ResidentPatch};
    pub use doorstep_core::review::Decision;
    pub use doorstep_core::value::FieldValue;
    pub use doorstep_core::visit::{Assignment, OutcomeInput};
    pub use doorstep_core::{DocId, FieldError, FieldErrors};
}
pub use sync::log_trust::{EvidenceKind, LogEvidence};
pub use sync::{
    Enrollment, HttpTransport, RetryPolicy, SyncProgress, SyncReport, SyncStatus, Transport,
};
pub use views::{
    ApplicationRow, ApplicationView, AuthorizationView, ConflictedRecord, ResidentView,
};
