//! Every refusal the server gives: an HTTP status, a machine-readable code the app
//! translates, and an English message for administrators. Nothing here names a person.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doorstep_core::protocol::ApiError;

/// A refused request or a failure while serving it.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Failure {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For `request_replayed`: the last request counter the server took from the device
    /// (sent as a header, so that the device signs its next request above it).
    pub last_counter: Option<u64>,
}

impl Failure {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            code,
            message: message.into(),
            last_counter: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn too_large(code: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::PAYLOAD_TOO_LARGE, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A failure of the server's own storage: logged, answered with a retryable 503.
    pub fn storage(err: impl std::fmt::Display) -> Failure {
        tracing::error!(error = %err, "storage failure");
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the server could not reach its database; try again",
        )
    }

    /// The database is known to be unreachable right now (nothing logged again).
    pub fn unavailable() -> Failure {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the server could not reach its database; try again",
        )
    }

    /// The database's disk is full: nothing was stored; the device tries again later.
    pub fn storage_full(err: impl std::fmt::Display) -> Failure {
        tracing::error!(error = %err, "the database's disk is full");
        Failure::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "storage_full",
            "the server's disk is full; nothing was stored; try again later",
        )
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Failure {
        if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            Failure::storage_full(err)
        } else {
            Failure::storage(err)
        }
    }
}

/// How long a device waits before trying again after the database was unreachable or
/// full (it retries by itself; this is the hint).
pub const RETRY_AFTER_SECS: &str = "10";

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = ApiError {
            code: self.code.to_owned(),
            message: self.message,
        };
        // A refused request's body may be left unread; closing the connection keeps the
        // client from sending its next request into what remains of it.
        let mut response = (
            self.status,
            [(axum::http::header::CONNECTION, "close")],
            Json(body),
        )
            .into_response();
        if let Some(last) = self.last_counter
            && let Ok(value) = axum::http::HeaderValue::from_str(&last.to_string())
        {
            response
                .headers_mut()
                .insert(doorstep_core::protocol::COUNTER_HEADER, value);
        }
        if matches!(
            self.status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::INSUFFICIENT_STORAGE
        ) {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}
