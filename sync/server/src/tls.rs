//! TLS for the server: making a certificate on the first start (rcgen), reading an
//! operator's own, and the rustls configuration the server listens with.

use std::sync::Arc;

use doorstep_core::server_identity::certificate_pin;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::store::{Certificate, TlsIdentity};

/// Why a certificate cannot be used, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

fn fail(text: impl Into<String>) -> TlsError {
    TlsError(text.into())
}

/// Names the certificate is made for. Devices do not check them (they check the
/// certificate's key, which the server key binds); other clients may.
const NAMES: [&str; 2] = ["localhost", "doorstep-server"];

/// A new self-signed certificate (ECDSA P-256).
pub fn make_certificate() -> Result<Certificate, TlsError> {
    let names: Vec<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
    let made = rcgen::generate_simple_self_signed(names).map_err(|e| fail(e.to_string()))?;
    certificate(made.cert.pem(), made.signing_key.serialize_pem())
}

/// An operator's certificate (chain) and private key, PEM, checked to be usable.
pub fn certificate(cert_pem: String, key_pem: String) -> Result<Certificate, TlsError> {
    let chain = chain(&cert_pem)?;
    PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| fail("the TLS key is not a private key in PEM"))?;
    let pin = certificate_pin(chain[0].as_ref())
        .ok_or_else(|| fail("the TLS certificate is not a certificate"))?;
    let certificate = Certificate {
        cert_pem,
        key_pem,
        pin,
    };
    server_config(&certificate.cert_pem, &certificate.key_pem)?;
    Ok(certificate)
}

fn chain(cert_pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| fail("the TLS certificate is not PEM"))?;
    if chain.is_empty() {
        return Err(fail("the TLS certificate file holds no certificate"));
    }
    Ok(chain)
}

/// The rustls configuration presenting `identity`'s certificate.
pub fn config_for(identity: &TlsIdentity) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    server_config(&identity.cert_pem, &identity.key_pem)
}

fn server_config(cert_pem: &str, key_pem: &str) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| fail("the TLS key is not a private key in PEM"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain(cert_pem)?, key)
        .map_err(|e| fail(format!("the TLS certificate and key do not fit: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn a_made_certificate_is_usable_and_pinned_by_its_key() {
        let a = make_certificate().unwrap();
        let b = make_certificate().unwrap();
        assert_eq!(a.pin.len(), 64);
        assert_ne!(a.pin, b.pin);
        // The same key in another certificate has the same pin.
        let again = certificate(b.cert_pem.clone(), b.key_pem.clone()).unwrap();
        assert_eq!(again.pin, b.pin);
    }

    #[test]
    fn a_key_that_does_not_fit_the_certificate_is_refused() {
        let a = make_certificate().unwrap();
        let b = make_certificate().unwrap();
        assert!(certificate(a.cert_pem, b.key_pem).is_err());
        assert!(certificate("not a certificate".into(), "nor a key".into()).is_err());
    }
}
