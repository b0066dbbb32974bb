//! # doorstep-core
//!
//! The record layer of Doorstep with no IO: record kinds and their Automerge layout,
//! validation of what volunteers type (GB 11643 ID numbers, phones, names), masking of
//! personal data for display, and the error codes the UI translates.
//!
//! Nothing here touches a disk, a socket or a clock: callers pass in the time and the
//! actor id, which keeps every function deterministic and testable.
//!
//! ```
//! use doorstep_core::id_number::IdNumber;
//!
//! let id = IdNumber::parse("11010519491231002X").expect("valid GB 11643 number");
//! assert_eq!(id.birth_date(), (1949, 12, 31));
//! assert_eq!(id.masked(), "**************002X");
//! ```

pub mod application;
pub mod apply;
pub mod attachment;
pub mod attest;
pub mod authorization;
pub mod blobs;
pub mod catalog;
pub mod certification;
pub mod conflict;
pub mod date;
pub mod draft;
pub mod error;
pub mod error_code;
pub mod field;
pub mod file_kind;
pub mod history;
pub mod id_number;
pub mod ids;
pub mod key_roster;
pub mod keys;
pub mod mask;
pub mod merkle_log;
pub mod phone;
pub mod photo_quality;
pub mod protocol;
pub mod provenance;
pub mod resident;
pub mod review;
pub mod rules;
pub mod search;
pub mod server_identity;
pub mod upload;
pub mod value;
pub mod visit;

pub use error::{CoreError, FieldError, FieldErrors};
pub use error_code::ErrorCode;
pub use field::Field;
pub use ids::DocId;
