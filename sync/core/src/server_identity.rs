//! How a device knows its server, and keeps knowing it when the server's certificate
//! changes.
//!
//! The server has one long-lived Ed25519 key (the one that signs key rosters). What an
//! administrator hands a device to enroll it, the *enrollment text* (also its QR code),
//! carries the server's address, the SHA-256 of that key and the one-time code. The
//! server's TLS certificate (made on its first start, or the operator's own) is bound to
//! the key by a [`TlsBinding`]: the key's signature over the SHA-256 of the
//! certificate's public key (its SubjectPublicKeyInfo) and a serial number that grows
//! with every rotation. A device accepts a certificate only when a binding signed by
//! the key it pinned names it, and never one older than the newest binding it has
//! seen: a man in the middle has no binding for his own certificate, and a certificate
//! the server has rotated away from stays refused.

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::keys::PublicKey;

/// The version of the enrollment text this build writes.
pub const ENROLL_TEXT_VERSION: u32 = 2;

/// What enrolls a device: where its server is, which key the server holds, and the
/// one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollText {
    /// The server's address (`https://host:port`); `None` when the administrator did
    /// not give one, and the person enrolling types it.
    pub server: Option<String>,
    /// The SHA-256 of the server's Ed25519 public key, in hex ([`key_pin`]).
    pub server_key: Option<String>,
    pub code: String,
}

/// Why a text is not an enrollment text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrollTextError {
    #[error("the enrollment text is not one this app reads")]
    Unreadable,
    #[error("the enrollment text is from a newer version of Doorstep")]
    Newer,
    #[error("the enrollment text has no code")]
    NoCode,
    #[error("the server key in the enrollment text is not a SHA-256 in hex")]
    BadKey,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    doorstep_enroll: u32,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    server_key: Option<String>,
    code: String,
}

impl EnrollText {
    /// The text as the server prints it and its QR code holds (one line of JSON).
    pub fn to_text(&self) -> String {
        let wire = Wire {
            doorstep_enroll: ENROLL_TEXT_VERSION,
            server: self.server.clone(),
            server_key: self.server_key.clone(),
            code: self.code.clone(),
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Reads an enrollment text (version 1, before server keys, or 2).
    pub fn parse(text: &str) -> Result<EnrollText, EnrollTextError> {
        let wire: Wire =
            serde_json::from_str(text.trim()).map_err(|_| EnrollTextError::Unreadable)?;
        if wire.doorstep_enroll > ENROLL_TEXT_VERSION {
            return Err(EnrollTextError::Newer);
        }
        let code = wire.code.trim().to_owned();
        if code.is_empty() {
            return Err(EnrollTextError::NoCode);
        }
        let server_key = match wire.server_key.map(|k| k.trim().to_ascii_lowercase()) {
            Some(k) if is_sha256_hex(&k) => Some(k),
            Some(_) => return Err(EnrollTextError::BadKey),
            None => None,
        };
        let server = wire.server.as_deref().and_then(server_address);
        Ok(EnrollText {
            server,
            server_key,
            code,
        })
    }

    /// What a person typed into the enrollment form: the whole enrollment text pasted
    /// into the code box (the typed address is used only when the text names none),
    /// or a bare code with the typed address.
    pub fn from_form(server: &str, code: &str) -> Result<EnrollText, EnrollTextError> {
        let typed_server = server_address(server);
        if code.trim_start().starts_with('{') {
            let mut text = EnrollText::parse(code)?;
            if text.server.is_none() {
                text.server = typed_server;
            }
            return Ok(text);
        }
        Ok(EnrollText {
            server: typed_server,
            server_key: None,
            code: code.trim().to_owned(),
        })
    }
}

/// A server's address as typed or read: without the spaces and trailing slashes around
/// it (all of them, in any order, so that reading an address again gives it back).
fn server_address(text: &str) -> Option<String> {
    Some(
        text.trim_end_matches(|c: char| c == '/' || c.is_whitespace())
            .trim_start()
            .to_owned(),
    )
    .filter(|s| !s.is_empty())
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The SHA-256 of an Ed25519 public key in hex: what an enrollment text pins.
pub fn key_pin(key: &PublicKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The SHA-256 of a certificate's SubjectPublicKeyInfo in hex (as HTTP public key
/// pinning defined it): what a [`TlsBinding`] names. `None` when `cert_der` is not a
/// certificate.
pub fn certificate_pin(cert_der: &[u8]) -> Option<String> {
    let der = rustls_pki_types::CertificateDer::from(cert_der);
    let cert = webpki::EndEntityCert::try_from(&der).ok()?;
    Some(hex::encode(Sha256::digest(
        cert.subject_public_key_info().as_ref(),
    )))
}

/// The server key's word that a TLS certificate is the server's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TlsBinding {
    /// The server's Ed25519 public key, hex.
    pub server_key: String,
    /// The certificate's [`certificate_pin`].
    pub tls_pin: String,
    /// Grows with every rotation; a device refuses a binding older than one it saw.
    #[ts(type = "number")]
    pub serial: u64,
    /// The server key's signature of [`binding_message`], hex.
    pub signature: String,
}

/// Why a certificate is not accepted as the server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    #[error("the server's key is not the one this device was enrolled with")]
    OtherServer,
    #[error("the server's certificate is not the one its key vouches for")]
    OtherCertificate,
    #[error("the server's key did not sign this certificate's binding")]
    BadSignature,
    #[error("the certificate's binding is older than one this device has seen")]
    Stale,
}

/// What the server key signs to bind a certificate.
pub fn binding_message(server_key: &str, tls_pin: &str, serial: u64) -> Vec<u8> {
    format!("doorstep-tls-binding-v1\n{server_key}\n{tls_pin}\n{serial}").into_bytes()
}

impl TlsBinding {
    /// Binds the certificate whose pin is `tls_pin` to `key`.
    pub fn sign(key: &SigningKey, tls_pin: &str, serial: u64) -> TlsBinding {
        let server_key = hex::encode(key.verifying_key().as_bytes());
        let signature = key.sign(&binding_message(&server_key, tls_pin, serial));
        TlsBinding {
            signature: hex::encode(signature.to_bytes()),
            server_key,
            tls_pin: tls_pin.to_owned(),
            serial,
        }
    }

    /// Checks that this binding is signed by the key whose [`key_pin`] is `pinned`,
    /// names the certificate the server presented (`presented`), and is no older than
    /// `min_serial`. Returns the server's key.
    pub fn check(
        &self,
        pinned: &str,
        presented: &str,
        min_serial: u64,
    ) -> Result<PublicKey, BindingError> {
        let key = PublicKey::from_hex(&self.server_key).ok_or(BindingError::OtherServer)?;
        if key_pin(&key) != pinned.to_ascii_lowercase() {
            return Err(BindingError::OtherServer);
        }
        let signature = hex::decode(&self.signature).map_err(|_| BindingError::BadSignature)?;
        if !key.verifies(
            &binding_message(&self.server_key, &self.tls_pin, self.serial),
            &signature,
        ) {
            return Err(BindingError::BadSignature);
        }
        if self.tls_pin != presented.to_ascii_lowercase() {
            return Err(BindingError::OtherCertificate);
        }
        if self.serial < min_serial {
            return Err(BindingError::Stale);
        }
        Ok(key)
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn server() -> (SigningKey, String) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let pin = key_pin(&PublicKey::from_bytes(key.verifying_key().as_bytes()).unwrap());
        (key, pin)
    }

    #[test]
    fn an_address_read_again_is_the_same_address() {
        // Found by the enroll_text fuzz target: a slash after a tab left the tab behind.
        for typed in [
            "http://192.0.2.7:8787/\t/",
            " http://192.0.2.7:8787 / ",
            "]\t/",
        ] {
            let text = EnrollText::from_form(typed, "ABCD").unwrap();
            assert!(
                !text
                    .server
                    .as_deref()
                    .unwrap()
                    .ends_with(char::is_whitespace)
            );
            assert_eq!(EnrollText::parse(&text.to_text()).unwrap(), text);
        }
    }

    #[test]
    fn enrollment_text_round_trips_and_reads_version_one() {
        let text = EnrollText {
            server: Some("https://192.0.2.7:8787".into()),
            server_key: Some("ab".repeat(32)),
            code: "K7M2-Q9XD".into(),
        };
        assert_eq!(EnrollText::parse(&text.to_text()).unwrap(), text);
        let v1 = r#"{"doorstep_enroll":1,"server":"http://192.0.2.7:8787/","code":"ABCD"}"#;
        let read = EnrollText::parse(v1).unwrap();
        assert_eq!(read.server.as_deref(), Some("http://192.0.2.7:8787"));
        assert_eq!(read.server_key, None);
    }

    #[test]
    fn bad_enrollment_texts_are_refused_with_their_reason() {
        assert_eq!(EnrollText::parse("hello"), Err(EnrollTextError::Unreadable));
        assert_eq!(
            EnrollText::parse(r#"{"doorstep_enroll":3,"code":"A"}"#),
            Err(EnrollTextError::Newer)
        );
        assert_eq!(
            EnrollText::parse(r#"{"doorstep_enroll":2,"code":"  "}"#),
            Err(EnrollTextError::NoCode)
        );
        assert_eq!(
            EnrollText::parse(r#"{"doorstep_enroll":2,"code":"A","server_key":"xyz"}"#),
            Err(EnrollTextError::BadKey)
        );
    }

    #[test]
    fn the_form_takes_a_pasted_text_or_a_bare_code() {
        let pasted = EnrollText {
            server: None,
            server_key: Some("cd".repeat(32)),
            code: "K7M2".into(),
        }
        .to_text();
        let read = EnrollText::from_form("https://10.0.0.2:8787/", &pasted).unwrap();
        assert_eq!(read.server.as_deref(), Some("https://10.0.0.2:8787"));
        assert_eq!(read.server_key, Some("cd".repeat(32)));
        let bare = EnrollText::from_form("http://127.0.0.1:1", " K7M2 ").unwrap();
        assert_eq!((bare.code.as_str(), bare.server_key), ("K7M2", None));
    }

    #[test]
    fn a_binding_holds_only_for_its_key_its_certificate_and_a_fresh_serial() {
        let (key, pin) = server();
        let binding = TlsBinding::sign(&key, &"11".repeat(32), 3);
        assert!(binding.check(&pin, &"11".repeat(32), 3).is_ok());
        assert_eq!(
            binding.check(&pin, &"22".repeat(32), 0),
            Err(BindingError::OtherCertificate)
        );
        assert_eq!(
            binding.check(&pin, &"11".repeat(32), 4),
            Err(BindingError::Stale)
        );
        assert_eq!(
            binding.check(&"00".repeat(32), &"11".repeat(32), 0),
            Err(BindingError::OtherServer)
        );
        // Another certificate named under the same signature: the signature fails.
        let mut swapped = binding.clone();
        swapped.tls_pin = "22".repeat(32);
        assert_eq!(
            swapped.check(&pin, &"22".repeat(32), 0),
            Err(BindingError::BadSignature)
        );
        let mut older = binding;
        older.serial = 9;
        assert_eq!(
            older.check(&pin, &"11".repeat(32), 0),
            Err(BindingError::BadSignature)
        );
    }
}
