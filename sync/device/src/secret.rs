//! The database key and the one place that touches the OS keyring.
//!
//! Each data folder's SQLite file is encrypted (SQLCipher) with a random 256-bit key.
//! The key lives only in the keyring store the process set as default with
//! `keyring_core::set_default_store` (the OS keyring in the app, a mock store in tests),
//! under an entry named after the data folder, and in memory while the store is open.

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

/// The keyring entry of a data folder's sync token (given by the server at enrollment).
fn token_entry(data_dir: &Path) -> Result<Entry, DeviceError> {
    let canonical = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let user = format!("sync-token:{}", &hex::encode(digest)[..32]);
    Entry::new(KEYRING_SERVICE, &user).map_err(|e| DeviceError::Keyring(e.to_string()))
}

/// Keeps `data_dir`'s sync token in the keyring (never in the database or a file).
pub fn store_token(data_dir: &Path, token: &str) -> Result<(), DeviceError> {
    token_entry(data_dir)?
        .set_password(token)
        .map_err(|e| DeviceError::Keyring(e.to_string()))
}

/// `data_dir`'s sync token, if the device is enrolled.
pub fn load_token(data_dir: &Path) -> Result<Option<Zeroizing<String>>, DeviceError> {
    match token_entry(data_dir)?.get_password() {
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
    fn keys_are_random() {
        let a = DbKey::generate().expect("key");
        let b = DbKey::generate().expect("key");
        assert_ne!(a.bytes(), b.bytes());
        assert_eq!(a.pragma_value().len(), 67);
    }
}
