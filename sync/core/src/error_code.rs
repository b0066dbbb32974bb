//! Every error code a person can meet, as one closed enum.
//!
//! The window translates a code (`errors.<code>` in its catalogs) and never reads an error's
//! English message. Because the list is closed, the contract test exports it to TypeScript
//! and the frontend's i18n test checks that every code has Chinese and English text; a code
//! added here without text fails `make test`. A code never changes once released.
//!
//! The sync server answers refusals with codes of its own protocol
//! ([`crate::protocol::ERROR_CODES`]); [`ErrorCode::from_server`] keeps those a volunteer
//! can act on and calls the rest [`ErrorCode::ServerRefused`].
//!
//! ```
//! use doorstep_core::ErrorCode;
//! assert_eq!(ErrorCode::IdChecksum.as_str(), "id_checksum");
//! assert_eq!(ErrorCode::from_server("device_revoked"), ErrorCode::DeviceRevoked);
//! assert_eq!(ErrorCode::from_server("blob_hash_mismatch"), ErrorCode::ServerRefused);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ts_rs::TS,
    strum::EnumIter,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    // A resident's own fields.
    NameEmpty,
    NameTooLong,
    NameChars,
    IdEmpty,
    IdLength,
    IdChars,
    IdRegion,
    IdBirthDate,
    IdChecksum,
    IdDuplicate,
    PhoneInvalid,
    EmergencyPhoneMissing,
    EmergencyNameMissing,
    GenderInvalid,
    GenderDisagreesWithId,
    BirthDateDisagreesWithId,
    TextTooLong,
    TextChars,
    // An application's form, attachments, consents and decisions.
    InvalidInput,
    NotEligible,
    ServiceUnknown,
    ApplicationLocked,
    AttachmentEmpty,
    AttachmentTooLarge,
    AttachmentSlotUnknown,
    AttachmentNotPhoto,
    AttachmentNotPhotoOrPdf,
    PhotoQualityInvalid,
    PhotoUnreadable,
    StampFontMissing,
    DateInvalid,
    DateInPast,
    DateInFuture,
    DateBeforeStart,
    PeriodTooLong,
    SignatureMissing,
    WrongType,
    NumberTooSmall,
    NumberTooLarge,
    ChoiceInvalid,
    Required,
    ConsentDeclined,
    ConsentMissing,
    ConsentNotNeeded,
    AuthorizationMissing,
    ReviewTextRequired,
    OwnWork,
    DecisionUnknown,
    NotSupervisor,
    // The store, the records and the catalog.
    DataDirUnusable,
    StorageFailed,
    DiskFull,
    SchemaTooNew,
    NotFound,
    RecordMalformed,
    RecordQuarantined,
    InvalidBytes,
    UnknownKind,
    NoConflict,
    NotAConflictValue,
    DatabaseKeyWrong,
    DatabaseKeyMissing,
    KeyringUnavailable,
    CatalogInvalid,
    ServicesEmpty,
    Internal,
    // The PIN and the lock.
    PinTooShort,
    PinTooLong,
    PinDigitsOnly,
    PinNotSet,
    PinEmpty,
    PinWrong,
    PinWait,
    PinRequired,
    Locked,
    // The people of a shared tablet (doorstep_device::members).
    MemberRemoved,
    MemberUnknown,
    MemberOtherCommittee,
    MemberOtherServer,
    MemberAlreadyHere,
    MemberNotFirst,
    MemberChanged,
    /// Enrolling a tablet again on its first person's PIN is for a tablet whose people
    /// were all removed; someone here can still unlock it.
    TabletInUse,
    // Sync, and the server's refusals a volunteer can act on.
    ServerUrlInvalid,
    ServerUnreachable,
    // The server's identity: its key pinned at enrollment, and its TLS certificate
    // (doorstep_core::server_identity).
    ServerIdentity,
    ServerKeyMissing,
    RequestSignatureInvalid,
    PlainHttpRemote,
    EnrollTextInvalid,
    // The server's sync log did not hold against a checkpoint it signed before
    // (doorstep_core::merkle_log).
    ServerLogUntrusted,
    ServerRefused,
    NotEnrolled,
    SyncIncomplete,
    EnrollmentUnknown,
    EnrollmentExpired,
    EnrollmentUsed,
    ActorTaken,
    DeviceRevoked,
    DeviceUnknown,
    DeviceForbidden,
    TokenMissing,
    TokenMalformed,
    TokenUnknown,
    StorageUnavailable,
    StorageFull,
    RoleForbidden,
    CommitteeForbidden,
    CommitteeRequired,
    CrossCommittee,
    DocumentTooLarge,
    RequestTooLarge,
    // A record the server refused alone (the others of its sync went in).
    InvalidChange,
    MissingDependencies,
    KindMismatch,
    DuplicateDocument,
    InvalidDocId,
    NoChanges,
    ChangeTooLarge,
    TooManyOperations,
    // A record refused for who wrote it or what they may write (doorstep_core::rules).
    AttestationMissing,
    AttestationInvalid,
    AuthorUnknown,
    AuthorRevoked,
    AuthorCommittee,
    RuleForbidden,
    EventAltered,
    FourEyes,
    // The server's key roster (doorstep_core::key_roster).
    KeyRosterInvalid,
    KeyRosterMissing,
    // Offline bundles.
    BundleInvalid,
    BundleForged,
    /// Signed by someone this device's key roster does not hold: a tablet or person
    /// enrolled after it last synced, or nobody enrolled at all.
    BundleSignerUnknown,
    BundleForeign,
    BundleDamaged,
    BundleTooNew,
    BundleIncomplete,
    BundleUnreadable,
    BundleUnwritable,
    // Read-aloud and the receipt.
    TtsUnavailable,
    TtsFailed,
    ReceiptFontMissing,
    ReceiptUnwritable,
    ReceiptUnopenable,
    // Roster import and export.
    RosterFormat,
    RosterEmpty,
    RosterColumns,
    RosterTooLarge,
    RosterUnreadable,
    RosterEncoding,
    IdNumberNotText,
    IdDuplicateInFile,
    CommitteeNotYours,
    ExportFailed,
    ExportUnwritable,
    ExportUnopenable,
}

impl ErrorCode {
    /// The code as the window and the catalogs spell it (`id_checksum`).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Every code, in declaration order.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        <ErrorCode as strum::IntoEnumIterator>::iter()
    }

    /// What a device shows for a server refusal with protocol code `code`: the same code
    /// when it is one a volunteer can act on, [`ErrorCode::ServerRefused`] otherwise (a
    /// newer server's code, or one about the protocol itself).
    pub fn from_server(code: &str) -> ErrorCode {
        if !crate::protocol::ERROR_CODES.contains(&code) {
            return ErrorCode::ServerRefused;
        }
        code.parse().unwrap_or(ErrorCode::ServerRefused)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code reads as its spelling, so tests and the window's JSON compare alike.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ErrorCode> for &str {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself() {
        for code in ErrorCode::all() {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
        assert!(ErrorCode::all().count() > 100);
    }

    #[test]
    fn server_codes_pass_through_only_when_known_to_both() {
        assert_eq!(
            ErrorCode::from_server("enrollment_used"),
            ErrorCode::EnrollmentUsed
        );
        // Not a protocol code, though the device knows it.
        assert_eq!(
            ErrorCode::from_server("pin_wrong"),
            ErrorCode::ServerRefused
        );
        assert_eq!(
            ErrorCode::from_server("from_the_future"),
            ErrorCode::ServerRefused
        );
        // Every protocol code a volunteer can meet maps to itself.
        for code in crate::protocol::ERROR_CODES {
            let mapped = ErrorCode::from_server(code);
            assert!(mapped == ErrorCode::ServerRefused || mapped.as_str() == *code);
        }
    }
}
