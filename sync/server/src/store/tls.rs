//! The server's TLS certificate, kept in the database beside the server's key so that
//! every server process on one database presents the same certificate, and the
//! server key's binding of it ([`TlsBinding`]) that devices check.
//!
//! A certificate is made on the first start (or is the operator's own); a rotation
//! installs another one with the next serial, and devices move to it at their next
//! sync because the key they pinned at enrollment binds it.

use doorstep_core::keys::PublicKey;
use doorstep_core::server_identity::{TlsBinding, key_pin};

use super::Store;
use crate::db::Tx;
use crate::error::Failure;
use crate::params;

/// The certificate a server presents, its private key and the server key's binding.
#[derive(Clone)]
pub struct TlsIdentity {
    pub cert_pem: String,
    pub key_pem: String,
    pub binding: TlsBinding,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

/// A certificate and its private key, PEM, with the pin of the certificate.
#[derive(Clone)]
pub struct Certificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub pin: String,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The pin of the server's key, which enrollment texts carry.
    pub fn server_key_pin(&mut self) -> Result<String, Failure> {
        let mut tx = self.db.begin(false)?;
        let key = super::key_roster::server_key(tx.as_mut())?;
        let public = PublicKey::from_bytes(key.verifying_key().as_bytes())
            .ok_or_else(|| Failure::storage("the server's key is unusable"))?;
        Ok(key_pin(&public))
    }

    /// The certificate this server presents, made by `make` on the database's first
    /// start (when no other server process made one first).
    pub fn tls_identity(
        &mut self,
        make: impl FnOnce() -> Result<Certificate, Failure>,
    ) -> Result<TlsIdentity, Failure> {
        if let Some(found) = self.tls_current()? {
            return Ok(found);
        }
        let made = make()?;
        let mut tx = self.db.begin(true)?;
        for (key, value) in [
            ("tls_cert", made.cert_pem.as_str()),
            ("tls_key", made.key_pem.as_str()),
            ("tls_pin", made.pin.as_str()),
            ("tls_serial", "1"),
        ] {
            tx.execute(
                "INSERT INTO server_meta (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![key, value],
            )?;
        }
        tx.commit()?;
        self.tls_current()?
            .ok_or_else(|| Failure::storage("the server's certificate was not kept"))
    }

    /// Replaces the server's certificate by `next` with the next serial; the server
    /// key binds it, so devices move to it without enrolling again.
    pub fn tls_rotate(&mut self, next: &Certificate) -> Result<TlsIdentity, Failure> {
        let mut tx = self.db.begin(true)?;
        let serial = meta(tx.as_mut(), "tls_serial")?
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
            .saturating_add(1)
            .to_string();
        for (key, value) in [
            ("tls_cert", next.cert_pem.as_str()),
            ("tls_key", next.key_pem.as_str()),
            ("tls_pin", next.pin.as_str()),
            ("tls_serial", serial.as_str()),
        ] {
            tx.execute(
                "INSERT INTO server_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
        }
        tx.commit()?;
        self.tls_current()?
            .ok_or_else(|| Failure::storage("the server's certificate was not kept"))
    }

    /// The certificate in force, if one was made.
    pub fn tls_current(&mut self) -> Result<Option<TlsIdentity>, Failure> {
        let mut tx = self.db.begin(false)?;
        let tx = tx.as_mut();
        let (Some(cert_pem), Some(key_pem), Some(pin), Some(serial)) = (
            meta(tx, "tls_cert")?,
            meta(tx, "tls_key")?,
            meta(tx, "tls_pin")?,
            meta(tx, "tls_serial")?,
        ) else {
            return Ok(None);
        };
        let serial = serial
            .parse::<u64>()
            .map_err(|_| Failure::storage("the certificate's serial is unreadable"))?;
        let key = super::key_roster::server_key(tx)?;
        Ok(Some(TlsIdentity {
            cert_pem,
            key_pem,
            binding: TlsBinding::sign(&key, &pin, serial),
        }))
    }
}

fn meta(tx: &mut dyn Tx, key: &str) -> Result<Option<String>, Failure> {
    tx.query_opt("SELECT value FROM server_meta WHERE key = ?1", params![key])?
        .map(|row| row.text(0))
        .transpose()
}
