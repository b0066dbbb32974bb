//! Errors of the core: field validation failures with stable codes, and malformed documents.

use std::fmt;

use serde::Serialize;

use crate::ErrorCode;
use crate::field::Field;

/// One refused field: which field and a stable machine code (`name_empty`, `id_checksum`, …).
/// The UI translates the code; the code never changes once released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FieldError {
    pub field: Field,
    pub code: ErrorCode,
    /// The catalog key, for a form field or attachment slot of an application.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub key: Option<String>,
}

/// Every refused field of one form, so the volunteer sees all problems at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(transparent)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: Field, code: ErrorCode) {
        self.0.push(FieldError {
            field,
            code,
            key: None,
        });
    }

    /// Adds an error on an application's form field or attachment slot `key`.
    pub fn push_key(&mut self, field: Field, key: &str, code: ErrorCode) {
        self.0.push(FieldError {
            field,
            code,
            key: Some(key.to_owned()),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The code of the first error on `field`, if any.
    pub fn code_for(&self, field: Field) -> Option<ErrorCode> {
        self.0.iter().find(|e| e.field == field).map(|e| e.code)
    }

    /// `Ok(())` when nothing was refused, the errors otherwise.
    pub fn into_result(self) -> Result<(), CoreError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Invalid(self))
        }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: {}", e.field.as_str(), e.code)?;
        }
        Ok(())
    }
}

/// Errors of the core. Messages never contain personal data.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("invalid input ({0})")]
    Invalid(FieldErrors),
    #[error("document is not a valid {kind} record: {reason}")]
    Malformed { kind: &'static str, reason: String },
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

impl CoreError {
    /// A stable machine code for the UI.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::Invalid(_) => ErrorCode::InvalidInput,
            CoreError::Malformed { .. } => ErrorCode::RecordMalformed,
            CoreError::Automerge(_) => ErrorCode::RecordMalformed,
        }
    }
}
