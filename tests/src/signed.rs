//! Raw requests signed as a device signs them. A test that holds a device's token (a
//! test device's or a raw principal's, which register their keys here) signs its raw
//! requests with that device's key, found by the token: the server takes no
//! request on a token alone. A token nobody registered (made up, or another server's)
//! goes unsigned, as an attacker holding only a token would send it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use doorstep_core::protocol::{COUNTER_HEADER, SIGNATURE_HEADER};
use doorstep_device::secret::DeviceKey;
use doorstep_device::sync::{RequestAuth, RequestSigner};
use zeroize::Zeroizing;

fn keys() -> &'static Mutex<HashMap<String, Arc<DeviceKey>>> {
    static KEYS: std::sync::OnceLock<Mutex<HashMap<String, Arc<DeviceKey>>>> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Mutex::default)
}

/// Notes that `token` is held by the device with `key`.
pub fn register(token: &str, key: Arc<DeviceKey>) {
    keys()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(token.to_owned(), key);
}

/// The authentication a device holding `token` gives `method` to `path` with `body`;
/// `None` for a token no test device holds.
pub fn auth(token: &str, method: &str, path: &str, body: &[u8]) -> Option<RequestAuth> {
    let key = keys()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(token)
        .cloned()?;
    Some(RequestSigner::new(Zeroizing::new(token.to_owned()), key).sign(method, path, body))
}

/// Signs raw requests as the device holding a token would.
pub trait SignAs: Sized {
    /// The token, with the signature of `method` to `path` (and query) carrying `body`
    /// when a test device holds the token.
    fn sign_as(self, token: &str, method: &str, path: &str, body: &[u8]) -> Self;
}

impl SignAs for reqwest::blocking::RequestBuilder {
    fn sign_as(self, token: &str, method: &str, path: &str, body: &[u8]) -> Self {
        let request = self.bearer_auth(token);
        match auth(token, method, path, body) {
            Some(a) => request
                .header(COUNTER_HEADER, a.counter.to_string())
                .header(SIGNATURE_HEADER, a.signature),
            None => request,
        }
    }
}

impl SignAs for reqwest::RequestBuilder {
    fn sign_as(self, token: &str, method: &str, path: &str, body: &[u8]) -> Self {
        let request = self.bearer_auth(token);
        match auth(token, method, path, body) {
            Some(a) => request
                .header(COUNTER_HEADER, a.counter.to_string())
                .header(SIGNATURE_HEADER, a.signature),
            None => request,
        }
    }
}
