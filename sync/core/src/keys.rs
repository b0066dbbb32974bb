//! Principals' public keys (Ed25519, through ed25519-dalek): how a device's key is
//! written where it travels (64 hex digits), the short fingerprint people compare, and
//! the check of a signature made with it. Making and keeping the private half is the
//! device's business (`doorstep_device::secret`); nothing here holds a secret.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

/// A device's public key: a valid Ed25519 point that is not one of the weak (small
/// order) keys, which would let anyone forge signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The key of 32 raw bytes; `None` unless they are a usable Ed25519 public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<PublicKey> {
        let key = VerifyingKey::from_bytes(bytes).ok()?;
        (!key.is_weak()).then_some(PublicKey(key))
    }

    /// The key as written in requests: exactly 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<PublicKey> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        PublicKey::from_bytes(&bytes)
    }

    /// The key as written in requests (64 lower-case hex digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// Its 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// What a person compares on two screens: the first 64 bits of the key's SHA-256,
    /// in four groups of four hex digits (`3f2a 91c0 7d4e 0b18`).
    pub fn fingerprint(&self) -> String {
        fingerprint_of(self.as_bytes())
    }

    /// Whether `signature` (64 bytes) is this key's signature of `message`. Strict:
    /// signatures that are valid only under lax rules are refused.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        let signature = Signature::from_bytes(&bytes);
        self.0.verify_strict(message, &signature).is_ok()
    }
}

/// The fingerprint of a public key's bytes (see [`PublicKey::fingerprint`]).
pub fn fingerprint_of(key: &[u8; 32]) -> String {
    let digest = Sha256::digest(key);
    let hex = hex::encode(&digest[..8]);
    let groups: Vec<&str> = (0..4).map(|i| &hex[i * 4..i * 4 + 4]).collect();
    groups.join(" ")
}

/// What a device signs at enrollment to prove it holds the key it names: the code as
/// sent, the actor and the public key (hex), on lines of their own after a fixed tag.
pub fn enrollment_message(code: &str, actor: &str, public_key: &str) -> Vec<u8> {
    format!("doorstep-enroll-v1\n{code}\n{actor}\n{public_key}").into_bytes()
}

/// What a device signs for each request it makes with its token: the method, the path
/// with its query, a counter that grows with every request (the server refuses one it
/// has seen, or a smaller one), and the SHA-256 of the body as decoded, on lines of
/// their own after a fixed tag. The token alone, without the key, can ask for nothing.
pub fn request_message(method: &str, path: &str, counter: u64, body: &[u8]) -> Vec<u8> {
    let body = hex::encode(Sha256::digest(body));
    format!("doorstep-request-v1\n{method}\n{path}\n{counter}\n{body}").into_bytes()
}

/// An Automerge actor id as a device declares it at enrollment: 1 to 32 bytes, written
/// in hex. Returns the lower-case form, or `None` for anything else.
pub fn actor_hex(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 || !text.len().is_multiple_of(2) {
        return None;
    }
    hex::decode(text).ok().map(|_| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn pair(seed: u8) -> (SigningKey, PublicKey) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let public = PublicKey::from_bytes(signing.verifying_key().as_bytes()).expect("valid");
        (signing, public)
    }

    #[test]
    fn a_key_round_trips_through_hex_and_has_a_stable_fingerprint() {
        let (_, key) = pair(7);
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(PublicKey::from_hex(&hex), Some(key));
        assert_eq!(PublicKey::from_hex(&hex.to_uppercase()), Some(key));
        let fp = key.fingerprint();
        assert_eq!(fp.len(), 19, "{fp}");
        assert_eq!(fp, key.fingerprint());
        assert_ne!(fp, pair(8).1.fingerprint());
    }

    #[test]
    fn anything_but_a_usable_key_is_refused() {
        let (_, key) = pair(7);
        let hex = key.to_hex();
        for bad in [
            "",
            &hex[..62],
            &format!("{hex}00"),
            &format!("zz{}", &hex[2..]),
            // The identity point: a weak key, whose "signatures" anyone can make.
            "0100000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(PublicKey::from_hex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_the_keys_own_signature_of_the_same_message_verifies() {
        let (signing, key) = pair(7);
        let signature = signing.sign(b"change hash").to_bytes();
        assert!(key.verifies(b"change hash", &signature));
        assert!(!key.verifies(b"another hash", &signature));
        assert!(!pair(8).1.verifies(b"change hash", &signature));
        let mut altered = signature;
        altered[10] ^= 1;
        assert!(!key.verifies(b"change hash", &altered));
        assert!(!key.verifies(b"change hash", &signature[..63]));
    }

    #[test]
    fn actor_ids_are_short_hex() {
        assert_eq!(actor_hex("0A1b"), Some("0a1b".to_owned()));
        assert_eq!(actor_hex(""), None);
        assert_eq!(actor_hex("abc"), None);
        assert_eq!(actor_hex("zz"), None);
        assert_eq!(actor_hex(&"ab".repeat(33)), None);
    }
}
