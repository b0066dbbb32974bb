//! The error shape that reaches the frontend: a stable `code`, an English `message` for
//! logs and fallbacks, per-field codes for forms, and for a refused PIN how long to
//! wait. Never personal data.

use doorstep_core::{ErrorCode, FieldError};
use serde::Serialize;

use crate::DeviceError;

/// A refused command, as the window receives it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct UiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<FieldError>>", optional)]
    pub fields: Vec<FieldError>,
    /// For `pin_wrong` and `pin_wait`: wrong PINs in a row, and milliseconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub failures: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub wait_ms: Option<i64>,
}

impl From<DeviceError> for UiError {
    fn from(e: DeviceError) -> Self {
        let expected = matches!(
            e,
            DeviceError::Invalid(_)
                | DeviceError::Pin(_)
                | DeviceError::PinRefused(_)
                | DeviceError::Network(_)
                | DeviceError::ServerKeyMissing
                | DeviceError::PlainHttpRemote
                | DeviceError::EnrollText(_)
                | DeviceError::File { .. }
                | DeviceError::Server { .. }
        );
        if !expected {
            tracing::error!(code = e.code().as_str(), error = %e, "command failed");
        }
        let (failures, wait_ms) = match &e {
            DeviceError::PinRefused(r) => (Some(r.failures), Some(r.wait_ms)),
            _ => (None, None),
        };
        UiError {
            code: e.code(),
            fields: e.field_errors().map(|f| f.0.clone()).unwrap_or_default(),
            message: e.to_string(),
            failures,
            wait_ms,
        }
    }
}

impl UiError {
    pub fn plain(code: ErrorCode, message: &str) -> UiError {
        UiError {
            code,
            message: message.to_owned(),
            fields: Vec::new(),
            failures: None,
            wait_ms: None,
        }
    }

    pub fn internal(message: &str) -> UiError {
        UiError::plain(ErrorCode::Internal, message)
    }

    /// The app is locked (idle, or not unlocked yet): enter the PIN.
    pub fn locked() -> UiError {
        UiError::plain(ErrorCode::Locked, "the app is locked; enter the PIN")
    }
}
