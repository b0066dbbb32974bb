//! Errors of the device layer, each with a stable machine code for the UI.

use std::path::PathBuf;

use doorstep_core::ErrorCode;
use doorstep_core::{CoreError, FieldErrors};
use serde::Serialize;

/// Why a PIN was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinRefusal {
    /// `pin_wrong` or `pin_wait`.
    pub code: ErrorCode,
    /// Wrong PINs in a row so far.
    pub failures: u32,
    /// How long until the next try is accepted (0: now).
    pub wait_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// Fields the volunteer has to correct; nothing was saved.
    #[error("invalid input ({0})")]
    Invalid(FieldErrors),
    #[error("the data folder {path} cannot be used: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("the database cannot be opened with this key")]
    WrongKey,
    #[error("the database exists but its key is not in the keyring")]
    KeyMissing,
    #[error("keyring: {0}")]
    Keyring(String),
    #[error(
        "the database was written by a newer Doorstep (schema {found}, this build knows {known})"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error(transparent)]
    Catalog(Box<doorstep_core::catalog::CatalogError>),
    #[error("catalog file {path} cannot be read: {source}")]
    CatalogFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("record {0} not found")]
    NotFound(String),
    #[error("service {0:?} is not in the catalog")]
    ServiceUnknown(String),
    #[error("the resident does not meet the rules of service {0:?}")]
    NotEligible(String),
    #[error("the application is {0} and cannot be changed that way")]
    ApplicationLocked(&'static str),
    #[error("the attachment is empty")]
    AttachmentEmpty,
    #[error("the attachment is {size} bytes, more than the {max} allowed")]
    AttachmentTooLarge { size: usize, max: usize },
    #[error("record {0} is quarantined: its stored bytes could not be loaded")]
    Quarantined(String),
    #[error("the bytes are not a valid Automerge document")]
    InvalidBytes,
    #[error("records of kind {0:?} are not known to this build")]
    UnknownKind(String),
    #[error("field {0} has no conflict to resolve")]
    NoConflict(String),
    #[error("the chosen value is not one of field {0}'s values")]
    NotAConflictValue(String),
    #[error("{0:?} is not a server address (http:// or https:// and a host)")]
    ServerUrl(String),
    #[error("the server cannot be reached: {0}")]
    Network(String),
    /// The server answering is not the one this device enrolled with: its certificate
    /// is not bound by the key the device pinned (a man in the middle, or another
    /// server at the address).
    #[error("the server is not the one this device enrolled with: {0}")]
    ServerIdentity(String),
    /// An HTTPS address with no server key to pin: the enrollment text was not used whole.
    #[error("no server key to check the server by: use the whole enrollment text")]
    ServerKeyMissing,
    /// Plain HTTP to another machine: anyone on the way could read it.
    #[error("plain http:// reaches this machine only; use https://")]
    PlainHttpRemote,
    #[error("the enrollment text cannot be used: {0}")]
    EnrollText(String),
    /// The server refused the request, with its code (`device_revoked`, `enrollment_used`…).
    #[error("the server refused ({status} {code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// A bundle or manifest file that cannot be used: `bundle_invalid`, `bundle_damaged`,
    /// `bundle_too_new`, `bundle_incomplete`, `bundle_unreadable`, `bundle_unwritable`.
    #[error("bundle ({code}): {reason}")]
    Bundle { code: ErrorCode, reason: String },
    /// A received change that does not hold against the key roster: `code` is the
    /// protocol's (`attestation_invalid`, `four_eyes`...), `authors` whose it claims to be.
    /// (Its text names no one: it goes to logs.)
    #[error("a received change does not hold ({code})")]
    Untrusted {
        code: ErrorCode,
        authors: Vec<String>,
    },
    /// The server's sync log did not hold against the checkpoint this device held (it
    /// shrank, was rewritten, or is not signed by the server's key): syncing stopped.
    #[error("the server's sync log cannot be trusted: {0}")]
    ServerLog(String),
    /// The key roster the server sent is not signed by the server's pinned key.
    #[error("the key roster is not the server's ({0})")]
    KeyRoster(String),
    #[error("the PIN cannot be used ({0})")]
    Pin(ErrorCode),
    /// A member of a shared tablet who cannot unlock or be added (`member_removed`...).
    #[error("the member cannot be used ({0})")]
    Member(ErrorCode),
    #[error("the PIN was not accepted ({}); wait {} ms", .0.code, .0.wait_ms)]
    PinRefused(PinRefusal),
    #[error("receipt ({code}): {reason}")]
    Receipt { code: ErrorCode, reason: String },
    /// A photo that could not be read, or stamped.
    #[error("photo ({code}): {reason}")]
    Photo { code: ErrorCode, reason: String },
    #[error("this device is not enrolled with a sync server")]
    NotEnrolled,
    #[error("only a supervisor's device can do this")]
    NotSupervisor,
    /// A supervisor may not decide an application they submitted or changed themselves.
    #[error("this device submitted or changed the application; another supervisor decides it")]
    OwnWork,
    /// A roster or export file that cannot be read or written, with a code for the UI.
    #[error("{reason}")]
    File { code: ErrorCode, reason: String },
    #[error("some received changes lacked their dependencies; the next sync fetches them again")]
    SyncIncomplete,
    #[error(transparent)]
    Core(Box<CoreError>),
    #[error("automerge: {0}")]
    Automerge(Box<automerge::AutomergeError>),
}

impl From<CoreError> for DeviceError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(fields) => DeviceError::Invalid(fields),
            other => DeviceError::Core(Box::new(other)),
        }
    }
}

impl From<automerge::AutomergeError> for DeviceError {
    fn from(e: automerge::AutomergeError) -> Self {
        DeviceError::Automerge(Box::new(e))
    }
}

impl From<doorstep_core::catalog::CatalogError> for DeviceError {
    fn from(e: doorstep_core::catalog::CatalogError) -> Self {
        DeviceError::Catalog(Box::new(e))
    }
}

impl DeviceError {
    /// The error of a store that would not open in `data_dir`: a folder that cannot be
    /// written (a card the system remounted read-only) is the folder's fault, not the
    /// database's, and says so.
    pub(crate) fn opening(data_dir: &std::path::Path, e: DeviceError) -> DeviceError {
        if !matches!(e, DeviceError::Storage(_)) {
            return e;
        }
        let probe = data_dir.join(".doorstep-write-check");
        match std::fs::File::create(&probe) {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                e
            }
            Err(source) => DeviceError::DataDir {
                path: data_dir.to_owned(),
                source,
            },
        }
    }

    /// A stable machine code; the UI translates it and never matches on the message.
    pub fn code(&self) -> ErrorCode {
        match self {
            DeviceError::Invalid(_) => ErrorCode::InvalidInput,
            DeviceError::DataDir { .. } => ErrorCode::DataDirUnusable,
            DeviceError::Storage(e) if is_disk_full(e) => ErrorCode::DiskFull,
            DeviceError::Storage(_) => ErrorCode::StorageFailed,
            DeviceError::WrongKey => ErrorCode::DatabaseKeyWrong,
            DeviceError::KeyMissing => ErrorCode::DatabaseKeyMissing,
            DeviceError::Keyring(_) => ErrorCode::KeyringUnavailable,
            DeviceError::SchemaTooNew { .. } => ErrorCode::SchemaTooNew,
            DeviceError::Catalog(_) | DeviceError::CatalogFile { .. } => ErrorCode::CatalogInvalid,
            DeviceError::NotFound(_) => ErrorCode::NotFound,
            DeviceError::ServiceUnknown(_) => ErrorCode::ServiceUnknown,
            DeviceError::NotEligible(_) => ErrorCode::NotEligible,
            DeviceError::ApplicationLocked(_) => ErrorCode::ApplicationLocked,
            DeviceError::AttachmentEmpty => ErrorCode::AttachmentEmpty,
            DeviceError::AttachmentTooLarge { .. } => ErrorCode::AttachmentTooLarge,
            DeviceError::Quarantined(_) => ErrorCode::RecordQuarantined,
            DeviceError::InvalidBytes => ErrorCode::InvalidBytes,
            DeviceError::UnknownKind(_) => ErrorCode::UnknownKind,
            DeviceError::NoConflict(_) => ErrorCode::NoConflict,
            DeviceError::NotAConflictValue(_) => ErrorCode::NotAConflictValue,
            DeviceError::ServerUrl(_) => ErrorCode::ServerUrlInvalid,
            DeviceError::Network(_) => ErrorCode::ServerUnreachable,
            DeviceError::ServerIdentity(_) => ErrorCode::ServerIdentity,
            DeviceError::ServerLog(_) => ErrorCode::ServerLogUntrusted,
            DeviceError::ServerKeyMissing => ErrorCode::ServerKeyMissing,
            DeviceError::PlainHttpRemote => ErrorCode::PlainHttpRemote,
            DeviceError::EnrollText(_) => ErrorCode::EnrollTextInvalid,
            DeviceError::Server { code, .. } => ErrorCode::from_server(code),
            DeviceError::Bundle { code, .. } => *code,
            DeviceError::Untrusted { code, .. } => *code,
            DeviceError::KeyRoster(_) => ErrorCode::KeyRosterInvalid,
            DeviceError::Pin(code) | DeviceError::Member(code) => *code,
            DeviceError::PinRefused(r) => r.code,
            DeviceError::Receipt { code, .. } | DeviceError::Photo { code, .. } => *code,
            DeviceError::NotEnrolled => ErrorCode::NotEnrolled,
            DeviceError::NotSupervisor => ErrorCode::NotSupervisor,
            DeviceError::OwnWork => ErrorCode::OwnWork,
            DeviceError::File { code, .. } => *code,
            DeviceError::SyncIncomplete => ErrorCode::SyncIncomplete,
            DeviceError::Core(e) => e.code(),
            DeviceError::Automerge(_) => ErrorCode::RecordMalformed,
        }
    }

    /// The refused fields, when the error is about input.
    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            DeviceError::Invalid(fields) => Some(fields),
            _ => None,
        }
    }
}

fn is_disk_full(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull))
}
