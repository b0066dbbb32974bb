//! # doorstep-server
//!
//! The sync server: enrollment of devices with one-time codes, the batched sync of
//! Automerge changes scoped by committee, and the hash-chained sync log supervisors
//! read. The HTTP API lives under `/v1/` ([`router`]) with `/healthz`; `/metrics` is
//! served on an address of its own for the operator's monitoring ([`metrics_router`]). Storage is SQLite or PostgreSQL ([`store::Store`], [`db`]).

pub mod db;
pub mod error;
pub mod metrics;
pub mod store;
pub mod tls;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use doorstep_core::protocol::{self, CodeRequest, EnrollRequest, Limits, SyncRequest};
use serde::Serialize;

use crate::error::Failure;
use crate::store::{DeviceAuth, LogQuery, Store};

/// The body of `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// Where the server reads the time (milliseconds since the epoch): [`now_ms`] when it
/// serves, a clock the test moves in tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    limits: Limits,
    metrics: Arc<metrics::Metrics>,
    clock: Clock,
    /// The server key's binding of the certificate presented (none over plain HTTP).
    tls: Option<doorstep_core::server_identity::TlsBinding>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Store, limits: Limits) -> AppState {
        AppState {
            store: Arc::new(Mutex::new(store)),
            limits,
            metrics: Arc::new(metrics::Metrics::default()),
            clock: Arc::new(now_ms),
            tls: None,
        }
    }

    /// The same state serving over TLS with the certificate `binding` binds.
    pub fn with_tls(self, binding: doorstep_core::server_identity::TlsBinding) -> AppState {
        AppState {
            tls: Some(binding),
            ..self
        }
    }

    /// The same state reading the time from `clock` (enrollment expiry, the log's times).
    pub fn with_clock(self, clock: Clock) -> AppState {
        AppState { clock, ..self }
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Runs `f` on the store on a blocking thread (SQLite calls block).
    async fn with_store<T, F>(&self, f: F) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, Failure> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            // A request that panicked held the store inside a transaction, which rolled
            // back as the panic unwound: the store is whole, and later requests go on.
            let mut guard = store.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(Failure::storage)?
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The server's HTTP routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/tls", get(tls_binding))
        .route("/v1/enroll", post(enroll))
        .route("/v1/enrollments", post(create_enrollment))
        .route("/v1/sync", post(sync))
        .route("/v1/log", get(log_page))
        .route("/v1/chain", get(chain))
        .route("/v1/devices", get(devices))
        .route("/v1/devices/{device_id}/revoke", post(revoke))
        .route("/v1/blobs/{sha256}", get(blob_get).put(blob_put))
        .route("/v1/blobs/{sha256}/status", get(blob_status))
        // Bodies are read by the handlers with the configured limit and a coded error.
        .layer(DefaultBodyLimit::disable())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// The operator's metrics (Prometheus), on a listener of their own: never beside the API
/// that tablets reach.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .with_state(state)
}

async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The server key's binding of the certificate this server presents: what a device
/// checks against the key it pinned before it sends anything.
async fn tls_binding(
    State(state): State<AppState>,
) -> Result<Json<doorstep_core::server_identity::TlsBinding>, Failure> {
    state.tls.clone().map(Json).ok_or_else(|| {
        Failure::not_found(
            "not_tls",
            "this server speaks plain HTTP (on this machine only): it has no certificate",
        )
    })
}

async fn not_found() -> Failure {
    Failure::not_found(
        "no_such_endpoint",
        "no such endpoint; the API is under /v1/",
    )
}

async fn method_not_allowed() -> Failure {
    Failure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// The OpenAPI document of the HTTP API, as kept in `sync/server/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// How far over its limit a declared body may be and still be read (and dropped) before
/// the refusal, so that the client hears it.
const DRAIN_BEYOND_LIMIT: usize = 1024 * 1024;

/// Reads a request body of at most `limit` bytes whose media type is `expected`.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    expected: &str,
    limit: usize,
) -> Result<Bytes, Failure> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if media.as_deref() != Some(expected) {
        return Err(Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the body as {expected}"),
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        Failure::too_large(
            "request_too_large",
            format!("the request is larger than {limit} bytes; send fewer documents at once"),
        )
    };
    if let Some(declared) = declared.filter(|&n| n > limit) {
        // Read what was sent before answering, when it is not far over: a client still
        // writing its body when the connection closes (over TLS above all) sees a broken
        // pipe instead of this answer, and cannot learn to send less.
        if declared <= limit.saturating_add(DRAIN_BEYOND_LIMIT) {
            // Each piece is dropped as it comes (nothing is held), for a few seconds at most.
            let drain = async move {
                use http_body_util::BodyExt;
                let mut body = body;
                while let Some(Ok(_)) = body.frame().await {}
            };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
        }
        return Err(too_large());
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    let deflated = match encoding.as_deref() {
        None | Some("identity") => false,
        Some(protocol::DEFLATE) => true,
        Some(_) => {
            return Err(Failure::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_encoding",
                "send the body uncompressed or as deflate",
            ));
        }
    };
    let wire = axum::body::to_bytes(body, limit).await.map_err(|e| {
        let limited = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if limited {
            too_large()
        } else {
            Failure::bad_request("body_unreadable", "the request body could not be read")
        }
    })?;
    if !deflated {
        return Ok(wire);
    }
    protocol::inflate(&wire, limit)
        .map(Bytes::from)
        .map_err(|reason| {
            if reason.contains("inflates to more") {
                too_large()
            } else {
                Failure::bad_request("invalid_body", reason)
            }
        })
}

/// Whether the client takes deflate-compressed answers.
fn accepts_deflate(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().unwrap_or("").trim() == protocol::DEFLATE)
}

/// The device behind the request's bearer token.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<DeviceAuth, Failure> {
    let unauthorized =
        |code, message: &str| Failure::new(StatusCode::UNAUTHORIZED, code, message.to_owned());
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("token_missing", "this request needs the device's token"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or_else(|| unauthorized("token_malformed", "send the token as `Bearer <token>`"))?
        .to_owned();
    state.with_store(move |s| s.authenticate(&token)).await
}

/// Checks that `device`'s key signed this request (its method, path and query, counter
/// and `body` as decoded) and takes the counter, which must be larger than any the
/// server took from the device before: a token alone, or a request sent again, gets
/// nothing.
async fn verify_request(
    state: &AppState,
    device: &DeviceAuth,
    parts: &Parts,
    body: &[u8],
) -> Result<(), Failure> {
    let unauthorized =
        |code, message: &str| Failure::new(StatusCode::UNAUTHORIZED, code, message.to_owned());
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(counter), Some(signature)) = (
        header(protocol::COUNTER_HEADER),
        header(protocol::SIGNATURE_HEADER),
    ) else {
        return Err(unauthorized(
            "request_unsigned",
            "sign the request with the device's key (x-doorstep-counter, x-doorstep-signature)",
        ));
    };
    let invalid = || {
        unauthorized(
            "request_signature_invalid",
            "the request is not signed by this device's key",
        )
    };
    // Counters are stored as signed 64-bit numbers: one beyond them is never a device's.
    let counter: u64 = counter
        .trim()
        .parse()
        .ok()
        .filter(|&c| i64::try_from(c).is_ok())
        .ok_or_else(invalid)?;
    let signature = hex::decode(signature.trim()).map_err(|_| invalid())?;
    let key = doorstep_core::keys::PublicKey::from_hex(&device.public_key).ok_or_else(|| {
        unauthorized(
            "request_signature_invalid",
            "this device has no key on this server; enroll it again",
        )
    })?;
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |p| p.as_str());
    let message = doorstep_core::keys::request_message(parts.method.as_str(), path, counter, body);
    if !key.verifies(&message, &signature) {
        return Err(invalid());
    }
    let id = device.device_id.clone();
    match state
        .with_store(move |s| s.take_request_counter(&id, counter))
        .await?
    {
        Ok(()) => Ok(()),
        Err(last) => Err(Failure {
            last_counter: Some(last),
            ..unauthorized(
                "request_replayed",
                "this request's counter was used before; sign it again with a larger one",
            )
        }),
    }
}

/// The device behind a request with no body: its token and its signature.
async fn authenticate_signed(state: &AppState, parts: &Parts) -> Result<DeviceAuth, Failure> {
    let device = authenticate(state, &parts.headers).await?;
    verify_request(state, &device, parts, &[]).await?;
    Ok(device)
}

async fn enroll(State(state): State<AppState>, req: Request) -> Result<Response, Failure> {
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body, "application/json", 64 * 1024).await?;
    let request: EnrollRequest = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::bad_request(
            "invalid_body",
            format!("the enrollment request is not valid: {e}"),
        )
    })?;
    let now = state.now();
    let response = state.with_store(move |s| s.enroll(&request, now)).await;
    state.metrics.count_enrollment(response.is_ok());
    Ok(Json(response?).into_response())
}

/// A supervisor's device asks for a volunteer's one-time code.
async fn create_enrollment(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, Failure> {
    let (parts, body) = req.into_parts();
    let device = authenticate(&state, &parts.headers).await?;
    let bytes = read_body(&parts.headers, body, "application/json", 64 * 1024).await?;
    verify_request(&state, &device, &parts, &bytes).await?;
    let request: CodeRequest = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::bad_request(
            "invalid_body",
            format!("the code request is not valid: {e}"),
        )
    })?;
    let now = state.now();
    let made = state
        .with_store(move |s| s.enrollment_create_by(&device, &request, now))
        .await?;
    tracing::info!("an enrollment code was made by a supervisor");
    Ok(Json(made).into_response())
}

async fn sync(State(state): State<AppState>, req: Request) -> Result<Response, Failure> {
    let started = Instant::now();
    let result = sync_inner(&state, req).await;
    state.metrics.count_sync(
        result
            .as_ref()
            .map(|(_, accepted)| *accepted)
            .map_err(|f| f.code),
        started.elapsed(),
    );
    result.map(|(response, _)| response)
}

async fn sync_inner(state: &AppState, req: Request) -> Result<(Response, u64), Failure> {
    let (parts, body) = req.into_parts();
    let device = authenticate(state, &parts.headers).await?;
    let limits = state.limits;
    let bytes = read_body(&parts.headers, body, protocol::CBOR, limits.request_bytes).await?;
    verify_request(state, &device, &parts, &bytes).await?;
    let request: SyncRequest = protocol::from_cbor(&bytes).map_err(|e| {
        Failure::bad_request(
            "invalid_body",
            format!("the sync request is not valid CBOR of the v1 protocol: {e}"),
        )
    })?;
    let now = state.now();
    let response = state
        .with_store(move |s| s.sync(&device, &request, &limits, now))
        .await?;
    let accepted = response.accepted;
    let body = protocol::to_cbor(&response);
    let answer = if accepts_deflate(&parts.headers) && body.len() > 512 {
        (
            [
                (header::CONTENT_TYPE, protocol::CBOR),
                (header::CONTENT_ENCODING, protocol::DEFLATE),
            ],
            protocol::deflate(&body),
        )
            .into_response()
    } else {
        ([(header::CONTENT_TYPE, protocol::CBOR)], body).into_response()
    };
    Ok((answer, accepted))
}

async fn log_page(
    State(state): State<AppState>,
    parts: Parts,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Failure> {
    let device = authenticate_signed(&state, &parts).await?;
    let Query(query) = query.map_err(|e| {
        Failure::bad_request(
            "invalid_query",
            format!("the log filters are not valid: {e}"),
        )
    })?;
    let page = state
        .with_store(move |s| s.log_page(&device, &query))
        .await?;
    Ok(Json(page).into_response())
}

async fn chain(State(state): State<AppState>, parts: Parts) -> Result<Response, Failure> {
    let device = authenticate_signed(&state, &parts).await?;
    let states = state.with_store(move |s| s.chain_states(&device)).await?;
    Ok(Json(states).into_response())
}

async fn devices(State(state): State<AppState>, parts: Parts) -> Result<Response, Failure> {
    let device = authenticate_signed(&state, &parts).await?;
    let list = state.with_store(move |s| s.devices_for(&device)).await?;
    Ok(Json(list).into_response())
}

async fn revoke(
    State(state): State<AppState>,
    parts: Parts,
    Path(device_id): Path<String>,
) -> Result<Response, Failure> {
    let device = authenticate_signed(&state, &parts).await?;
    let now = state.now();
    let revoked = state
        .with_store(move |s| s.revoke_by(&device, &device_id, now))
        .await?;
    tracing::info!(device = %revoked.device_id, "device revoked by a supervisor");
    Ok(Json(revoked).into_response())
}

/// Where a blob request starts, and (for uploads) the blob's whole size.
#[derive(Debug, Default, serde::Deserialize)]
struct BlobRange {
    #[serde(default)]
    offset: u64,
    size: Option<u64>,
}

fn blob_range(
    query: Result<Query<BlobRange>, axum::extract::rejection::QueryRejection>,
) -> Result<BlobRange, Failure> {
    query.map(|Query(q)| q).map_err(|e| {
        Failure::bad_request(
            "invalid_query",
            format!("offset and size must be numbers: {e}"),
        )
    })
}

async fn blob_status(
    State(state): State<AppState>,
    parts: Parts,
    Path(sha256): Path<String>,
) -> Result<Response, Failure> {
    let device = authenticate_signed(&state, &parts).await?;
    let status = state
        .with_store(move |s| s.blob_status(&device, &sha256))
        .await?;
    Ok(Json(status).into_response())
}

async fn blob_put(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
    query: Result<Query<BlobRange>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Failure> {
    let (parts, body) = req.into_parts();
    let device = authenticate(&state, &parts.headers).await?;
    let range = blob_range(query)?;
    let size = range
        .size
        .ok_or_else(|| Failure::bad_request("invalid_query", "say the attachment's size"))?;
    let limits = state.limits;
    let bytes = read_body(
        &parts.headers,
        body,
        "application/octet-stream",
        limits.request_bytes,
    )
    .await?;
    verify_request(&state, &device, &parts, &bytes).await?;
    let now = state.now();
    let status = state
        .with_store(move |s| {
            let piece = store::BlobPiece {
                sha256: &sha256,
                offset: range.offset,
                size,
                bytes: &bytes,
            };
            s.blob_put(&device, &piece, &limits, now)
        })
        .await?;
    Ok(Json(status).into_response())
}

async fn blob_get(
    State(state): State<AppState>,
    parts: Parts,
    Path(sha256): Path<String>,
    query: Result<Query<BlobRange>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Failure> {
    let device = authenticate_signed(&state, &parts).await?;
    let range = blob_range(query)?;
    let bytes = state
        .with_store(move |s| s.blob_get(&device, &sha256, range.offset))
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Database;

    #[tokio::test]
    async fn a_request_that_panics_does_not_take_the_store_down() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&Database::Sqlite(dir.path().to_path_buf())).expect("open");
        let state = AppState::new(store, Limits::default());
        let failed = state
            .with_store(|_| -> Result<(), Failure> { panic!("a bug while holding the store") })
            .await;
        assert!(failed.is_err(), "the panicking request fails");
        let committees = state
            .with_store(|s| s.committees())
            .await
            .expect("later requests are answered");
        assert!(committees.is_empty());
    }
}
