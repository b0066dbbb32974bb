//! How sync requests travel: the [`Transport`] the device is given (HTTP with reqwest
//! and deflate in the app, anything in tests), retries with backoff, and decoding an
//! answer into a body or a coded refusal.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use doorstep_core::protocol::{self, ApiError};
use doorstep_core::server_identity::key_pin;

use super::SyncReport;
use super::pinning::{self, ServerTrust, without_url};
use super::request_auth::{RequestAuth, RequestSigner};
use crate::device::Device;
use crate::error::DeviceError;
use crate::store;

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
    /// On a `request_replayed` refusal, the last request counter the server took from
    /// this device.
    pub last_counter: Option<u64>,
}

/// A failure to get an answer from this device's server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// No answer (no route, refused, timed out, cut off): worth trying again.
    #[error("network: {0}")]
    Unreachable(String),
    /// An answer from a server that is not the one this device enrolled with (its
    /// certificate is not bound by the pinned key): never worth trying again.
    #[error("server identity: {0}")]
    Identity(String),
}

/// How requests reach the server. The app uses [`HttpTransport`]; tests wrap it to drop,
/// repeat and delay messages.
pub trait Transport {
    /// Sends one request: `method` (`GET`, `POST`, `PUT`) to `path` (such as
    /// `/v1/sync`, with its query), with a body of `content_type` when there is one,
    /// and the device's token and signature when it needs them.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError>;

    /// What the transport knows the server by now, when it checks the server's identity
    /// (HTTPS): the device keeps it, so a certificate it moved to is not checked again.
    fn server_trust(&self) -> Option<ServerTrust> {
        None
    }
}

/// The real transport: HTTPS with reqwest (rustls) to one server, whose certificate the
/// server's pinned key binds ([`super::pinning`]); plain HTTP only to this machine.
#[derive(Debug)]
pub struct HttpTransport {
    client: reqwest::blocking::Client,
    base: String,
    tls: Option<Tls>,
}

/// An HTTPS transport's knowledge of its server.
#[derive(Debug)]
struct Tls {
    trust: ServerTrust,
    /// The pin of the certificate the last connection was shown.
    seen: Arc<Mutex<Option<String>>>,
    /// Whether `client` accepts the bound certificate (else the binding is fetched first).
    bound: bool,
}

impl HttpTransport {
    /// A transport to `server_url`: `https://` with the `trust` the device holds for it,
    /// or `http://` to this machine (tests, tools).
    pub fn new(server_url: &str, trust: Option<ServerTrust>) -> Result<HttpTransport, DeviceError> {
        let base = server_url.trim().trim_end_matches('/').to_owned();
        let parsed =
            reqwest::Url::parse(&base).map_err(|_| DeviceError::ServerUrl(base.clone()))?;
        if parsed.host().is_none() {
            return Err(DeviceError::ServerUrl(base));
        }
        let loopback = loopback_url(&base);
        match parsed.scheme() {
            "http" if loopback => Ok(HttpTransport {
                client: shared_client()?,
                base,
                tls: None,
            }),
            "http" => Err(DeviceError::PlainHttpRemote),
            "https" => {
                let trust = trust.ok_or(DeviceError::ServerKeyMissing)?;
                let seen = Arc::new(Mutex::new(None));
                let client = pinning::client(trust.tls_pin.clone(), Arc::clone(&seen))
                    .map_err(DeviceError::Network)?;
                Ok(HttpTransport {
                    client,
                    base,
                    tls: Some(Tls {
                        bound: trust.tls_pin.is_some(),
                        trust,
                        seen,
                    }),
                })
            }
            _ => Err(DeviceError::ServerUrl(base)),
        }
    }

    /// Whether the server answers its health check within `timeout`: the cheap test a
    /// background sync makes before it takes the store for a whole sync. Any
    /// certificate will do here (nothing is sent): a server that is not this device's
    /// is then refused by the sync itself, which says so.
    pub fn reachable(&self, timeout: Duration) -> bool {
        let client = match &self.tls {
            Some(_) => match pinning::client(None, Arc::new(Mutex::new(None))) {
                Ok(client) => client,
                Err(_) => return false,
            },
            None => self.client.clone(),
        };
        client
            .get(format!("{}/healthz", self.base))
            .timeout(timeout)
            .send()
            .is_ok_and(|r| r.status().is_success())
    }

    /// Checks the server's binding of the certificate it presents and accepts that
    /// certificate alone from now on.
    fn bind(&mut self) -> Result<(), NetworkError> {
        let Some(tls) = &mut self.tls else {
            return Ok(());
        };
        let trust = pinning::bind(&self.base, &tls.trust).map_err(|refusal| match refusal {
            pinning::Refusal::Network(e) => NetworkError::Unreachable(e),
            pinning::Refusal::Identity(e) => {
                tracing::error!(reason = %e, "the server is not the one this device enrolled with");
                NetworkError::Identity(e)
            }
        })?;
        let seen = Arc::new(Mutex::new(None));
        self.client = pinning::client(trust.tls_pin.clone(), Arc::clone(&seen))
            .map_err(NetworkError::Unreachable)?;
        *tls = Tls {
            trust,
            seen,
            bound: true,
        };
        Ok(())
    }

    /// Whether the last connection was refused because the server presented another
    /// certificate than the bound one.
    fn shown_another_certificate(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| {
            let seen = tls.seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.is_some() && *seen != tls.trust.tls_pin
        })
    }
}

/// Whether `url` names this machine.
fn loopback_url(url: &str) -> bool {
    match reqwest::Url::parse(url)
        .ok()
        .as_ref()
        .and_then(reqwest::Url::host)
    {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// One plain-HTTP client per process (for this machine's server).
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
        auth: Option<&RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        if self.tls.as_ref().is_some_and(|tls| !tls.bound) {
            self.bind()?;
        }
        match self.send(method, path, content_type, auth, body.clone()) {
            // The server presents another certificate: if its key binds it (a rotation),
            // move to it and send again; if not, this is not our server.
            Err(_) if self.shown_another_certificate() => {
                self.bind()?;
                self.send(method, path, content_type, auth, body)
            }
            other => other,
        }
    }

    fn server_trust(&self) -> Option<ServerTrust> {
        self.tls.as_ref().map(|tls| tls.trust.clone())
    }
}

impl HttpTransport {
    fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&RequestAuth>,
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
        if let Some(auth) = auth {
            request = request
                .bearer_auth(auth.token.as_str())
                .header(protocol::COUNTER_HEADER, auth.counter.to_string())
                .header(protocol::SIGNATURE_HEADER, auth.signature.as_str());
        }
        request = request.header(reqwest::header::ACCEPT_ENCODING, protocol::DEFLATE);
        let response = request
            .send()
            .map_err(|e| NetworkError::Unreachable(without_url(&e)))?;
        let status = response.status().as_u16();
        let last_counter = response
            .headers()
            .get(protocol::COUNTER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let deflated = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_some_and(|v| {
                v.as_bytes()
                    .eq_ignore_ascii_case(protocol::DEFLATE.as_bytes())
            });
        let wire = response
            .bytes()
            .map_err(|e| NetworkError::Unreachable(without_url(&e)))?
            .to_vec();
        let bytes_received = wire.len() as u64;
        let body = if deflated {
            protocol::inflate(&wire, MAX_ANSWER_BYTES).map_err(NetworkError::Unreachable)?
        } else {
            wire
        };
        Ok(HttpAnswer {
            status,
            body,
            bytes_sent,
            bytes_received,
            last_counter,
        })
    }
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
    signer: Option<&RequestSigner>,
    body: Vec<u8>,
    report: &mut SyncReport,
) -> Result<Vec<u8>, DeviceError> {
    let mut wait = retry.first_wait;
    let mut attempt = 1;
    // Times the server said a counter was used (a clock gone back, or requests crossed):
    // each time the request is signed again above the server's, at once.
    let mut replayed = 0;
    loop {
        // Every attempt is signed afresh: the server takes each counter once.
        let auth = signer.map(|s| s.sign(method, path, &body));
        let outcome = transport.request(method, path, content_type, auth.as_ref(), body.clone());
        if let Ok(answer) = &outcome
            && answer.status == 401
            && let Some(last) = answer.last_counter
            && replayed < 3
        {
            RequestSigner::server_took(last);
            replayed += 1;
            continue;
        }
        let retryable = match &outcome {
            Err(NetworkError::Unreachable(_)) => true,
            Err(NetworkError::Identity(_)) => false,
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
        let answer = outcome.map_err(|e| match e {
            NetworkError::Unreachable(e) => DeviceError::Network(e),
            NetworkError::Identity(e) => DeviceError::ServerIdentity(e),
        })?;
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

impl Device {
    /// A transport to the enrolled server, with what this device knows it by.
    pub fn transport(&self) -> Result<HttpTransport, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let trust = match enrollment.server_trust {
            Some(trust) => Some(trust),
            // Enrolled before enrollment texts carried the server's key: the key of the
            // first roster it was sent stands for it.
            None => self.pinned_server_key()?.map(|key| ServerTrust {
                server_key: key_pin(&key),
                tls_pin: None,
                serial: 0,
            }),
        };
        // Enrolled when the server spoke plain HTTP: it speaks HTTPS at the same address
        // now, and the key this device pinned checks its certificate.
        let url = match enrollment.server_url.strip_prefix("http://") {
            Some(rest) if trust.is_some() && !loopback_url(&enrollment.server_url) => {
                format!("https://{rest}")
            }
            _ => enrollment.server_url,
        };
        HttpTransport::new(&url, trust)
    }

    /// Keeps `trust` (a certificate a transport moved to) unless the device holds a
    /// newer binding, or knows the server by another key.
    pub(crate) fn keep_server_trust(&self, trust: Option<ServerTrust>) -> Result<(), DeviceError> {
        let (Some(trust), Some(mut enrollment)) = (trust, self.primary_enrollment()?) else {
            return Ok(());
        };
        if let Some(held) = &enrollment.server_trust
            && (*held == trust || held.server_key != trust.server_key || held.serial > trust.serial)
        {
            return Ok(());
        }
        enrollment.server_trust = Some(trust);
        let json =
            serde_json::to_vec(&enrollment).map_err(|e| DeviceError::Network(e.to_string()))?;
        let tx = self.store.conn().unchecked_transaction()?;
        store::put_meta(&tx, super::META_ENROLLMENT, &json)?;
        tx.commit()?;
        Ok(())
    }
}
