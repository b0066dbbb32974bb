//! A roster file's cell as read, and the error a file that cannot be used gives.

use doorstep_core::ErrorCode;

use crate::error::DeviceError;

/// A cell as read: text, or a number (which an ID number must not be).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Text(String),
    Number(String),
}

impl Cell {
    pub(super) fn text(&self) -> String {
        match self {
            Cell::Text(t) | Cell::Number(t) => t.trim().to_owned(),
        }
    }
}

/// A roster or export file that cannot be used, with its code.
pub(crate) fn file_error(code: ErrorCode, reason: impl Into<String>) -> DeviceError {
    DeviceError::File {
        code,
        reason: reason.into(),
    }
}
