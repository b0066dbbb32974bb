//! The device's secrets and the one place that touches the OS keyring.
//!
//! Each data folder's SQLite file is encrypted (SQLCipher) with a random 256-bit key.
//! The key lives only in the keyring store the process set as default with
//! `keyring_core::set_default_store` (the OS keyring in the app, a mock store in tests),
//! under an entry named after the data folder, and in memory while the store is open.
//! The device's signing key (Ed25519, its public half bound to the device at
//! enrollment) and its sync token are kept the same way, each in an entry of its own.

use std::fmt;
use std::path::Path;

use keyring_core::Entry;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::DeviceError;

/// The keyring service name of Doorstep's entries.
pub const KEYRING_SERVICE: &str = "org.doorstep.app";

/// A database key: no `Clone`, no `Serialize`, redacted `Debug`, zeroized on drop.
pub struct DbKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for DbKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DbKey(<redacted>)")
    }
}

impl DbKey {
    /// A fresh random key from the OS.
    pub fn generate() -> Result<DbKey, DeviceError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| DeviceError::Keyring(e.to_string()))?;
        Ok(DbKey(bytes))
    }

    /// A key from its 32 bytes (a key unwrapped from elsewhere, or a fixed test key).
    pub fn from_bytes(bytes: [u8; 32]) -> DbKey {
        DbKey(Zeroizing::new(bytes))
    }

    fn from_slice(bytes: &[u8]) -> Option<DbKey> {
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(DbKey(Zeroizing::new(array)))
    }

    /// The SQLCipher `PRAGMA key` value for a raw key: `x'<64 hex digits>'`.
    pub(crate) fn pragma_value(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", hex::encode(self.0.as_ref())))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_ref()
    }
}

/// The keyring entry of a data folder's key: one per folder, so two folders on one
/// machine (two test devices, a demo and a real one) never share a key.
fn entry_for(data_dir: &Path) -> Result<Entry, DeviceError> {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let user = format!("db-key:{}", &hex::encode(digest)[..32]);
    Entry::new(KEYRING_SERVICE, &user).map_err(|e| DeviceError::Keyring(e.to_string()))
}

/// The key of `data_dir`'s database: read from the keyring, or — when the database does
/// not exist yet — generated and stored there first. A database whose key is gone is
/// never replaced by a new one: that is an error, and the file is left untouched.
pub fn load_or_create(data_dir: &Path, database_exists: bool) -> Result<DbKey, DeviceError> {
    let entry = entry_for(data_dir)?;
    match entry.get_secret() {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            DbKey::from_slice(&bytes)
                .ok_or_else(|| DeviceError::Keyring("the stored database key is malformed".into()))
        }
        Err(keyring_core::Error::NoEntry) if !database_exists => {
            let key = DbKey::generate()?;
            entry
                .set_secret(key.bytes())
                .map_err(|e| DeviceError::Keyring(e.to_string()))?;
            Ok(key)
        }
        Err(keyring_core::Error::NoEntry) => Err(DeviceError::KeyMissing),
        Err(e) => Err(DeviceError::Keyring(e.to_string())),
    }
}

/// The device's Ed25519 signing key: no `Clone`, no `Serialize`, redacted `Debug`,
/// zeroized on drop (ed25519-dalek's `zeroize` feature).
pub struct DeviceKey(ed25519_dalek::SigningKey);

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKey(public {})", self.public().fingerprint())
    }
}

impl DeviceKey {
    /// A fresh key from the OS's randomness.
    pub fn generate() -> Result<DeviceKey, DeviceError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| DeviceError::Keyring(e.to_string()))?;
        Ok(DeviceKey(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// Its public half, which the server binds to the device.
    pub fn public(&self) -> doorstep_core::keys::PublicKey {
        doorstep_core::keys::PublicKey::from_bytes(self.0.verifying_key().as_bytes())
            .unwrap_or_else(|| unreachable!("a key made from a random seed is never weak"))
    }

    /// Its signature of `message` (64 bytes).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.0.sign(message).to_bytes()
    }
}

/// The keyring entry `what` of a data folder's member in `slot` (empty: the first
/// person, whose entries are named after the folder alone; see members.rs).
fn member_entry(data_dir: &Path, what: &str, slot: &str) -> Result<Entry, DeviceError> {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let mut user = format!("{what}:{}", &hex::encode(digest)[..32]);
    if !slot.is_empty() {
        user.push(':');
        user.push_str(slot);
    }
    Entry::new(KEYRING_SERVICE, &user).map_err(|e| DeviceError::Keyring(e.to_string()))
}

/// The signing key of `data_dir`'s member in `slot`. The first person's is made and kept
/// in the keyring the first time it is needed (a device made before keys existed gains
/// one then); another member's was kept when they were added, and a missing one is an
/// error (a new key would not be the one the server bound). Only the seed is stored.
pub fn signing_key(data_dir: &Path, slot: &str) -> Result<DeviceKey, DeviceError> {
    let entry = member_entry(data_dir, "signing-key", slot)?;
    match entry.get_secret() {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let seed: &[u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| DeviceError::Keyring("the stored signing key is malformed".into()))?;
            Ok(DeviceKey(ed25519_dalek::SigningKey::from_bytes(seed)))
        }
        Err(keyring_core::Error::NoEntry) if !slot.is_empty() => Err(DeviceError::Keyring(
            "a member's signing key is missing from the keyring".into(),
        )),
        Err(keyring_core::Error::NoEntry) => {
            let key = DeviceKey::generate()?;
            let seed = Zeroizing::new(key.0.to_bytes());
            entry
                .set_secret(seed.as_slice())
                .map_err(|e| DeviceError::Keyring(e.to_string()))?;
            Ok(key)
        }
        Err(e) => Err(DeviceError::Keyring(e.to_string())),
    }
}

/// Keeps the signing key made for `data_dir`'s member in `slot` (its seed only).
pub fn store_signing_key(data_dir: &Path, slot: &str, key: &DeviceKey) -> Result<(), DeviceError> {
    let seed = Zeroizing::new(key.0.to_bytes());
    member_entry(data_dir, "signing-key", slot)?
        .set_secret(seed.as_slice())
        .map_err(|e| DeviceError::Keyring(e.to_string()))
}

/// Keeps the sync token of `data_dir`'s member in `slot` (given by the server at
/// enrollment) in the keyring (never in the database or a file).
pub fn store_token(data_dir: &Path, slot: &str, token: &str) -> Result<(), DeviceError> {
    member_entry(data_dir, "sync-token", slot)?
        .set_password(token)
        .map_err(|e| DeviceError::Keyring(e.to_string()))
}

/// Forgets the signing key and token of `data_dir`'s member in `slot` (a member of an
/// enrollment replaced by a new one).
pub fn forget_member(data_dir: &Path, slot: &str) -> Result<(), DeviceError> {
    for what in ["signing-key", "sync-token"] {
        match member_entry(data_dir, what, slot)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => {}
            Err(e) => return Err(DeviceError::Keyring(e.to_string())),
        }
    }
    Ok(())
}

/// The sync token of `data_dir`'s member in `slot`, if they are enrolled.
pub fn load_token(data_dir: &Path, slot: &str) -> Result<Option<Zeroizing<String>>, DeviceError> {
    match member_entry(data_dir, "sync-token", slot)?.get_password() {
        Ok(token) => Ok(Some(Zeroizing::new(token))),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(DeviceError::Keyring(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_show_the_key() {
        let key = DbKey::generate().expect("key");
        let shown = format!("{key:?}");
        assert_eq!(shown, "DbKey(<redacted>)");
        assert!(!shown.contains(&hex::encode(key.bytes())));
    }

    #[test]
    fn a_signing_key_shows_only_its_public_fingerprint_and_signs() {
        let key = DeviceKey::generate().expect("key");
        let shown = format!("{key:?}");
        assert_eq!(
            shown,
            format!("DeviceKey(public {})", key.public().fingerprint())
        );
        assert!(!shown.contains(&hex::encode(key.0.to_bytes())));
        let signature = key.sign(b"a change hash");
        assert!(key.public().verifies(b"a change hash", &signature));
        let other = DeviceKey::generate().expect("key");
        assert_ne!(key.public(), other.public());
        assert!(!other.public().verifies(b"a change hash", &signature));
    }

    #[test]
    fn keys_are_random() {
        let a = DbKey::generate().expect("key");
        let b = DbKey::generate().expect("key");
        assert_ne!(a.bytes(), b.bytes());
        assert_eq!(a.pragma_value().len(), 67);
    }
}
