//! The error shape that reaches the frontend: a stable `code`, an English `message` for
//! logs and fallbacks, and per-field codes for forms. Never personal data.

use doorstep_core::FieldError;
use doorstep_device::DeviceError;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct UiError {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl From<DeviceError> for UiError {
    fn from(e: DeviceError) -> Self {
        if !matches!(e, DeviceError::Invalid(_)) {
            tracing::error!(code = e.code(), error = %e, "command failed");
        }
        UiError {
            code: e.code(),
            fields: e.field_errors().map(|f| f.0.clone()).unwrap_or_default(),
            message: e.to_string(),
        }
    }
}

impl UiError {
    pub fn internal(message: &str) -> UiError {
        UiError {
            code: "internal",
            message: message.to_owned(),
            fields: Vec::new(),
        }
    }
}
