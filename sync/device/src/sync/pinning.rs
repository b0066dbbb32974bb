//! HTTPS to the server this device enrolled with, and no other.
//!
//! The device pinned the server's key at enrollment (its SHA-256 is in the enrollment
//! text). It accepts a TLS certificate only when the server key's [`TlsBinding`] names
//! it: before it sends anything that matters (a token, a record) to a server it has not
//! bound yet, it fetches the binding over a connection that records which certificate
//! was presented and checks the two against each other. The certificate's pin is kept,
//! so later syncs go straight to a connection that accepts that certificate alone;
//! when the server presents another one (a rotation), the device checks the new
//! binding the same way and moves to it, never to a binding older than one it saw.
//! Certificate authorities play no part: nobody but the server's key can vouch.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use doorstep_core::server_identity::{TlsBinding, certificate_pin};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};

/// What a device knows its server by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTrust {
    /// The SHA-256 of the server's key, hex (`doorstep_core::server_identity::key_pin`).
    pub server_key: String,
    /// The pin of the certificate the key last bound, once the device has seen it.
    pub tls_pin: Option<String>,
    /// That binding's serial: an older binding is refused.
    pub serial: u64,
}

/// Why a server was not bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No answer (the device may try again later).
    Network(String),
    /// An answer from a server that is not this device's.
    Identity(String),
}

/// Which certificates a connection accepts, and the pin of the one it was shown.
#[derive(Debug)]
struct PinVerifier {
    /// `None`: any certificate (only to fetch the binding, which is then checked).
    accept: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let pin = certificate_pin(end_entity.as_ref()).ok_or(rustls::Error::InvalidCertificate(
            CertificateError::BadEncoding,
        ))?;
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(pin.clone());
        match &self.accept {
            Some(accepted) if *accepted != pin => Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// An HTTPS client that accepts the certificate pinned `accept` (any, when `None`) and
/// notes in `seen` the pin of the certificate it was shown.
pub(super) fn client(
    accept: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
) -> Result<reqwest::blocking::Client, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinVerifier {
        accept,
        seen,
        provider: Arc::clone(&provider),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(config)
        // Never followed: a redirect could lead to another connection, or to plain HTTP.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| e.to_string())
}

/// Fetches the server's binding of the certificate it presents and checks it against
/// `trust`; returns the trust moved to that certificate.
pub(super) fn bind(base: &str, trust: &ServerTrust) -> Result<ServerTrust, Refusal> {
    let seen = Arc::new(Mutex::new(None));
    let probe = client(None, Arc::clone(&seen)).map_err(Refusal::Network)?;
    let response = probe
        .get(format!("{base}/v1/tls"))
        .timeout(Duration::from_secs(30))
        .send()
        .map_err(|e| Refusal::Network(without_url(&e)))?;
    let presented = seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .ok_or_else(|| Refusal::Identity("the server presented no certificate".into()))?;
    match response.status().as_u16() {
        200 => {}
        502..=504 => return Err(Refusal::Network(format!("{}", response.status()))),
        other => {
            return Err(Refusal::Identity(format!(
                "the server answered {other} when asked for its certificate's binding"
            )));
        }
    }
    let binding: TlsBinding = response
        .json()
        .map_err(|_| Refusal::Identity("the certificate's binding is unreadable".into()))?;
    binding
        .check(&trust.server_key, &presented, trust.serial)
        .map_err(|e| Refusal::Identity(e.to_string()))?;
    if trust.tls_pin.as_deref() != Some(presented.as_str()) {
        tracing::info!(
            serial = binding.serial,
            "the server's certificate is bound by its key"
        );
    }
    Ok(ServerTrust {
        server_key: trust.server_key.clone(),
        tls_pin: Some(presented),
        serial: binding.serial,
    })
}

/// A reqwest error's text without the URL (which is not secret, but keeps logs short).
pub(super) fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<server>");
    }
    text
}
