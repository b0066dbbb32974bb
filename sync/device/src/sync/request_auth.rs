//! Every request a device makes with its token is signed with its key: the method, the
//! path and query, a counter and the body (`doorstep_core::keys::request_message`). A
//! token copied off a tablet, without the key that never leaves its keyring, can neither
//! upload nor download anything, and a request sent again is refused because its
//! counter was used.
//!
//! The counter is this process's: microseconds since the epoch when first used, and one
//! more for each request, so that it grows across restarts without being stored. When
//! the server has taken a larger one from the device (the tablet's clock went back, or
//! two requests crossed on the way), it says which, and the next request is signed above
//! it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use doorstep_core::keys::request_message;
use zeroize::Zeroizing;

use crate::secret::DeviceKey;

/// The last counter this process signed with (or the server said it took).
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// What authenticates one request: the token, the counter and the key's signature.
#[derive(Clone)]
pub struct RequestAuth {
    pub token: Zeroizing<String>,
    pub counter: u64,
    /// Hex.
    pub signature: String,
}

impl std::fmt::Debug for RequestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestAuth")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

/// Signs a device's requests with its key.
#[derive(Clone)]
pub struct RequestSigner {
    token: Zeroizing<String>,
    key: Arc<DeviceKey>,
}

impl std::fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSigner").finish_non_exhaustive()
    }
}

impl RequestSigner {
    pub fn new(token: Zeroizing<String>, key: Arc<DeviceKey>) -> RequestSigner {
        RequestSigner { token, key }
    }

    /// The authentication of `method` to `path` (with its query) carrying `body` (as
    /// sent before any compression), under a counter never used before by this process.
    pub fn sign(&self, method: &str, path: &str, body: &[u8]) -> RequestAuth {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2))
            .unwrap_or(0);
        let mut counter = 0;
        // Larger than any before, and than the clock.
        let _ = COUNTER.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            counter = last.saturating_add(1).max(now);
            Some(counter)
        });
        let signature = self.key.sign(&request_message(method, path, counter, body));
        RequestAuth {
            token: self.token.clone(),
            counter,
            signature: hex::encode(signature),
        }
    }

    /// Notes that the server took `last` from this device: later requests sign above it.
    pub fn server_took(last: u64) {
        COUNTER.fetch_max(last, Ordering::SeqCst);
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn counters_grow_and_jump_past_what_the_server_took() {
        let signer = RequestSigner::new(
            Zeroizing::new("t".into()),
            Arc::new(DeviceKey::generate().unwrap()),
        );
        let a = signer.sign("GET", "/v1/log", b"");
        let b = signer.sign("GET", "/v1/log", b"");
        assert!(b.counter > a.counter);
        assert_ne!(a.signature, b.signature);
        RequestSigner::server_took(b.counter + 1_000_000_000);
        let c = signer.sign("GET", "/v1/log", b"");
        assert!(c.counter > b.counter + 1_000_000_000);
        let key = signer.key.public();
        let message = request_message("GET", "/v1/log", c.counter, b"");
        assert!(key.verifies(&message, &hex::decode(&c.signature).unwrap()));
    }
}
