//! How sync requests travel: the [`Transport`] the device is given (HTTP with reqwest
//! and deflate in the app, anything in tests), retries with backoff, and decoding an
//! answer into a body or a coded refusal.

use std::time::Duration;

use doorstep_core::protocol::{self, ApiError};

use super::SyncReport;
use crate::error::DeviceError;

/// Sync bodies larger than this are compressed.
const COMPRESS_OVER: usize = 512;
/// The largest answer the device accepts once decompressed.
const MAX_ANSWER_BYTES: usize = 256 * 1024 * 1024;

/// An HTTP answer: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    /// The body, decompressed.
    pub body: Vec<u8>,
    /// Bytes on the wire each way (bodies as sent, compressed or not).
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// A failure to get any answer (no route, refused, timed out, cut off).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("network: {0}")]
pub struct NetworkError(pub String);

/// How requests reach the server. The app uses [`HttpTransport`]; tests wrap it to drop,
/// repeat and delay messages.
pub trait Transport {
    /// Sends one request: `method` (`GET`, `POST`, `PUT`) to `path` (such as
    /// `/v1/sync`, with its query), with a body of `content_type` when there is one.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError>;
}

/// The real transport: HTTP(S) with reqwest (rustls) to one server.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::blocking::Client,
    base: String,
}

impl HttpTransport {
    pub fn new(server_url: &str) -> Result<HttpTransport, DeviceError> {
        let base = server_url.trim().trim_end_matches('/').to_owned();
        let parsed =
            reqwest::Url::parse(&base).map_err(|_| DeviceError::ServerUrl(base.clone()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(DeviceError::ServerUrl(base));
        }
        let client = shared_client()?;
        Ok(HttpTransport { client, base })
    }
}

impl HttpTransport {
    /// Whether the server answers its health check within `timeout`: the cheap test a
    /// background sync makes before it takes the store for a whole sync.
    pub fn reachable(&self, timeout: Duration) -> bool {
        self.client
            .get(format!("{}/healthz", self.base))
            .timeout(timeout)
            .send()
            .is_ok_and(|r| r.status().is_success())
    }
}

/// One HTTP client per process: building one reads the system's root certificates,
/// which costs far more than a sync on a slow tablet.
fn shared_client() -> Result<reqwest::blocking::Client, DeviceError> {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| DeviceError::Network(e.to_string()))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

impl Transport for HttpTransport {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.client.get(url),
            "PUT" => self.client.put(url),
            _ => self.client.post(url),
        };
        let mut bytes_sent = 0;
        if let Some(content_type) = content_type {
            // Sync bodies shrink well (actor ids, notes and field names repeat); photos
            // do not, and go as they are.
            let body = if content_type == protocol::CBOR && body.len() > COMPRESS_OVER {
                request = request.header(reqwest::header::CONTENT_ENCODING, protocol::DEFLATE);
                protocol::deflate(&body)
            } else {
                body
            };
            bytes_sent = body.len() as u64;
            request = request
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request = request.header(reqwest::header::ACCEPT_ENCODING, protocol::DEFLATE);
        let response = request.send().map_err(|e| NetworkError(without_url(&e)))?;
        let status = response.status().as_u16();
        let deflated = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_some_and(|v| {
                v.as_bytes()
                    .eq_ignore_ascii_case(protocol::DEFLATE.as_bytes())
            });
        let wire = response
            .bytes()
            .map_err(|e| NetworkError(without_url(&e)))?
            .to_vec();
        let bytes_received = wire.len() as u64;
        let body = if deflated {
            protocol::inflate(&wire, MAX_ANSWER_BYTES).map_err(NetworkError)?
        } else {
            wire
        };
        Ok(HttpAnswer {
            status,
            body,
            bytes_sent,
            bytes_received,
        })
    }
}

/// A reqwest error's text without the URL (which is not secret, but keeps logs short).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<server>");
    }
    text
}

/// How hard [`Device::sync_now`] tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; doubled after each further one.
    pub first_wait: Duration,
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_wait: Duration::from_millis(250),
            max_wait: Duration::from_secs(8),
        }
    }
}

/// Sends `body` and decodes the answer: a 2xx body, a coded refusal, or (after the
/// retries) a network failure.
#[expect(clippy::too_many_arguments, reason = "one request's every part")]
pub(crate) fn exchange(
    transport: &mut dyn Transport,
    retry: &RetryPolicy,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    token: Option<&str>,
    body: Vec<u8>,
    report: &mut SyncReport,
) -> Result<Vec<u8>, DeviceError> {
    let mut wait = retry.first_wait;
    let mut attempt = 1;
    loop {
        let outcome = transport.request(method, path, content_type, token, body.clone());
        let retryable = match &outcome {
            Err(_) => true,
            // The server is restarting or its database is briefly unavailable.
            Ok(answer) => matches!(answer.status, 502..=504),
        };
        if retryable && attempt < retry.attempts {
            tracing::warn!(attempt, "sync request failed; retrying");
            std::thread::sleep(wait);
            wait = (wait * 2).min(retry.max_wait);
            attempt += 1;
            report.retries += 1;
            continue;
        }
        report.bytes_up += match &outcome {
            Ok(answer) => answer.bytes_sent,
            // Sent, perhaps, before the failure: count it (uncompressed, an upper bound).
            Err(_) => body.len() as u64,
        };
        let answer = outcome.map_err(|e| DeviceError::Network(e.0))?;
        report.bytes_down += answer.bytes_received;
        report.round_trips += 1;
        if (200..300).contains(&answer.status) {
            return Ok(answer.body);
        }
        let refusal: ApiError = serde_json::from_slice(&answer.body).unwrap_or(ApiError {
            code: format!("http_{}", answer.status),
            message: String::from_utf8_lossy(&answer.body)
                .chars()
                .take(200)
                .collect(),
        });
        return Err(DeviceError::Server {
            status: answer.status,
            code: refusal.code,
            message: refusal.message,
        });
    }
}
