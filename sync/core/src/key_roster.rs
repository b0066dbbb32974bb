//! The key roster: which keys write for a device's committees, in which role, and which
//! were revoked, as the server vouches for it with its own Ed25519 signature. A device
//! pins the server's key when it enrolls, keeps the last roster it was sent, and checks
//! every change it receives (from the server or a bundle) against it: the author's
//! signature, the author's standing, and the write rules ([`crate::rules`]). What fails
//! is kept apart, never merged.
//!
//! The roster travels as the exact JSON text the server signed, so that what is checked
//! is byte for byte what was signed.

use std::collections::HashMap;

use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::attest::{Author, change_message};
use crate::keys::PublicKey;
use crate::protocol::Role;
pub use crate::protocol::SignedKeyRoster;

/// What the server signs: a fixed tag, then the roster's JSON text.
pub fn key_roster_message(body: &str) -> Vec<u8> {
    let mut message = b"doorstep-key-roster-v1\n".to_vec();
    message.extend_from_slice(body.as_bytes());
    message
}

/// One enrollment of a device that writes for the roster's committees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub device_id: String,
    /// The Automerge actor bound to the key (hex).
    pub actor: String,
    /// The device's Ed25519 public key (hex).
    pub public_key: String,
    /// The person the device was enrolled for, and what the device calls itself.
    pub name: String,
    #[serde(default)]
    pub label: String,
    pub role: Role,
    /// The committees this enrollment writes for (those of the roster's).
    pub committees: Vec<String>,
    pub revoked: bool,
}

/// The keys and roles of a device's committees at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRoster {
    /// Changes whenever any enrollment or revocation does; a device sends the version it
    /// holds, and is sent a new roster only when it differs.
    pub version: String,
    pub issued_at: i64,
    pub committees: Vec<String>,
    pub entries: Vec<KeyEntry>,
}

/// Why a roster is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRosterFault {
    #[error("the roster is signed by another key than the server's this device was enrolled with")]
    KeyChanged,
    #[error("the roster's signature does not hold, or it cannot be read")]
    Invalid,
}

impl SignedKeyRoster {
    /// Signs `roster` with the server's key.
    pub fn sign(roster: &KeyRoster, key: &ed25519_dalek::SigningKey) -> SignedKeyRoster {
        use ed25519_dalek::Signer;
        let body = serde_json::to_string(roster).unwrap_or_default();
        let signature = key.sign(&key_roster_message(&body));
        SignedKeyRoster {
            server_key: hex::encode(key.verifying_key().as_bytes()),
            body,
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// The server key it names, if it is one.
    pub fn server_key(&self) -> Option<PublicKey> {
        PublicKey::from_hex(&self.server_key)
    }

    /// The roster, if it is signed by `pinned` (or, with none pinned yet, by the key it
    /// names) and reads.
    pub fn open(&self, pinned: Option<&PublicKey>) -> Result<KeyRoster, KeyRosterFault> {
        let key = self.server_key().ok_or(KeyRosterFault::Invalid)?;
        if pinned.is_some_and(|p| *p != key) {
            return Err(KeyRosterFault::KeyChanged);
        }
        let signature = hex::decode(&self.signature).map_err(|_| KeyRosterFault::Invalid)?;
        if !key.verifies(&key_roster_message(&self.body), &signature) {
            return Err(KeyRosterFault::Invalid);
        }
        serde_json::from_str(&self.body).map_err(|_| KeyRosterFault::Invalid)
    }
}

/// Where received changes came from: the server checked each change as it took it (a
/// revoked device's changes it holds were taken before the revocation); a peer's bundle
/// was checked by nobody.
pub type FromServer<'a> = &'a dyn Fn(&ChangeHash) -> bool;

/// Why a received change is kept apart, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct Untrusted {
    /// The protocol's error code (`attestation_invalid`, `four_eyes`, ...).
    pub code: &'static str,
    /// The authors of the changes refused, as the roster names them (the person and the
    /// device's label), or the actor's first digits for one it does not know.
    pub authors: Vec<String>,
}

/// A roster read for checking: authors by actor, and the server's key, which vouches
/// for changes stored before changes were signed.
#[derive(Debug, Clone)]
pub struct Trusted {
    pub roster: KeyRoster,
    server: PublicKey,
    authors: HashMap<ActorId, (Author, String)>,
}

impl Trusted {
    /// Reads `roster`, signed by `server`. An actor enrolled more than once holds the
    /// committees of its enrollments in force, and is revoked only when all are.
    pub fn new(roster: KeyRoster, server: PublicKey) -> Trusted {
        let mut authors: HashMap<ActorId, (Author, String)> = HashMap::new();
        for entry in &roster.entries {
            let Ok(actor) = hex::decode(&entry.actor).map(ActorId::from) else {
                continue;
            };
            // A device enrolled before devices had keys signed nothing: only the
            // server's vouch can stand for its changes.
            let key = PublicKey::from_hex(&entry.public_key).unwrap_or(server);
            let grants: Vec<(String, Role)> = entry
                .committees
                .iter()
                .map(|c| (c.clone(), entry.role))
                .collect();
            let named = if entry.label.is_empty() {
                entry.name.clone()
            } else {
                format!("{} ({})", entry.name, entry.label)
            };
            match authors.get_mut(&actor) {
                Some((author, name)) => {
                    if !entry.revoked {
                        if author.revoked {
                            author.grants.clear();
                            author.revoked = false;
                        }
                        author.grants.extend(grants);
                        author.key = key;
                        *name = named;
                    } else if author.revoked {
                        author.grants.extend(grants);
                    }
                }
                None => {
                    let author = Author {
                        device_id: entry.device_id.clone(),
                        key,
                        grants,
                        revoked: entry.revoked,
                    };
                    authors.insert(actor, (author, named));
                }
            }
        }
        Trusted {
            roster,
            server,
            authors,
        }
    }

    /// The author bound to `actor`, if the roster knows it.
    pub fn author_of(&self, actor: &ActorId) -> Option<&Author> {
        self.authors.get(actor).map(|(a, _)| a)
    }

    /// How people know the author of `actor`: the name and device the roster gives, or
    /// the actor's first digits.
    pub fn name_of(&self, actor: &ActorId) -> String {
        match self.authors.get(actor) {
            Some((_, name)) => name.clone(),
            None => {
                let hex = actor.to_hex_string();
                format!("?{}", &hex[..hex.len().min(8)])
            }
        }
    }

    /// Whether `signature` of change `hash` of `doc_id` verifies, and by whom: the
    /// author's key, or the server's (a change it stored before changes were signed).
    pub fn signed_by(&self, doc_id: &str, change: &Change, signature: &[u8]) -> Signed {
        let message = change_message(doc_id, &change.hash());
        match self.author_of(change.actor_id()) {
            Some(author)
                if author.key != self.server && author.key.verifies(&message, signature) =>
            {
                Signed::Author
            }
            _ if self.server.verifies(&message, signature) => Signed::Server,
            _ => Signed::Not,
        }
    }

    /// Checks received changes of record `doc_id` of `kind` in `committee`: `fresh` are
    /// those new here (index into `signatures`), `before` the record as held (empty for a
    /// new one) and `after` with them applied. Each must be signed by its author (or, for
    /// one stored before signing, vouched for by the server), the author enrolled for the
    /// committee and not revoked (unless the server delivered it), and the write rules
    /// kept.
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        &self,
        doc_id: &str,
        kind: &str,
        committee: &str,
        fresh: &[(usize, &Change)],
        signatures: &[impl AsRef<[u8]>],
        before: &AutoCommit,
        after: &AutoCommit,
        from_server: FromServer<'_>,
    ) -> Result<(), Untrusted> {
        let refuse = |code: &'static str, actors: &[&ActorId]| Untrusted {
            code,
            authors: actors.iter().map(|a| self.name_of(a)).collect(),
        };
        for (index, change) in fresh {
            let actor = change.actor_id();
            let signature = signatures
                .get(*index)
                .map(AsRef::as_ref)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| refuse("attestation_missing", &[actor]))?;
            let signed = self.signed_by(doc_id, change, signature);
            let author = self.author_of(actor);
            match (signed, author) {
                (Signed::Not, None) => return Err(refuse("author_unknown", &[actor])),
                (Signed::Not, Some(_)) => return Err(refuse("attestation_invalid", &[actor])),
                (_, None) => return Err(refuse("author_unknown", &[actor])),
                (_, Some(author)) => {
                    if author.revoked && !from_server(&change.hash()) {
                        return Err(refuse("author_revoked", &[actor]));
                    }
                    if author.role_in(committee).is_none() {
                        return Err(refuse("author_committee", &[actor]));
                    }
                }
            }
        }
        let mut actors: Vec<&ActorId> = fresh.iter().map(|(_, c)| c.actor_id()).collect();
        actors.sort();
        actors.dedup();
        let owned: Vec<ActorId> = actors.iter().map(|a| (*a).clone()).collect();
        crate::rules::check(kind, before, after, &owned, &|actor| {
            self.author_of(actor).and_then(|a| a.role_in(committee))
        })
        .map_err(|breach| refuse(breach.code(), &actors))
    }
}

/// Whose key a change's signature verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Signed {
    /// Its author's, as the roster binds it to the change's actor.
    Author,
    /// The server's: a change it stored before changes were signed.
    Server,
    /// Nobody's the roster knows.
    Not,
    /// No signature is held for it.
    Missing,
    /// Not checked: this device holds no key roster (it is not enrolled).
    Unchecked,
}

#[cfg(test)]
mod tests {
    use automerge::ROOT;
    use automerge::transaction::Transactable;
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    fn entry(seed: u8, role: Role, committees: &[&str], revoked: bool) -> KeyEntry {
        let key = SigningKey::from_bytes(&[seed; 32]);
        KeyEntry {
            device_id: format!("d{seed}"),
            actor: hex::encode([seed; 16]),
            public_key: hex::encode(key.verifying_key().as_bytes()),
            name: format!("P{seed}"),
            label: String::new(),
            role,
            committees: committees.iter().map(|c| c.to_string()).collect(),
            revoked,
        }
    }

    fn roster() -> KeyRoster {
        KeyRoster {
            version: "v1".into(),
            issued_at: 0,
            committees: vec!["c1".into()],
            entries: vec![
                entry(1, Role::Volunteer, &["c1"], false),
                entry(2, Role::Supervisor, &["c1"], false),
                entry(3, Role::Volunteer, &["c1"], true),
                entry(4, Role::Volunteer, &["c2"], false),
            ],
        }
    }

    fn server() -> SigningKey {
        SigningKey::from_bytes(&[99; 32])
    }

    fn resident(seed: u8) -> (AutoCommit, Change) {
        let mut doc = AutoCommit::new().with_actor(ActorId::from([seed; 16]));
        doc.put(ROOT, "kind", "resident").expect("put");
        let change = doc.get_changes(&[]).pop().expect("change").clone();
        (doc, change)
    }

    fn sign(seed: u8, change: &Change) -> Vec<u8> {
        SigningKey::from_bytes(&[seed; 32])
            .sign(&change_message("doc", &change.hash()))
            .to_bytes()
            .to_vec()
    }

    fn check(trusted: &Trusted, seed: u8, signer: u8, from_server: bool) -> Result<(), &str> {
        let (after, change) = resident(seed);
        let signatures = [sign(signer, &change)];
        trusted
            .check(
                "doc",
                "resident",
                "c1",
                &[(0, &change)],
                &signatures,
                &AutoCommit::new(),
                &after,
                &|_| from_server,
            )
            .map_err(|u| u.code)
    }

    #[test]
    fn a_roster_opens_only_with_the_pinned_key_and_unaltered() {
        let signed = SignedKeyRoster::sign(&roster(), &server());
        let pinned = signed.server_key().expect("key");
        assert_eq!(signed.open(Some(&pinned)).expect("opens"), roster());
        assert_eq!(signed.open(None).expect("opens unpinned"), roster());
        let other = SignedKeyRoster::sign(&roster(), &SigningKey::from_bytes(&[98; 32]));
        assert_eq!(other.open(Some(&pinned)), Err(KeyRosterFault::KeyChanged));
        let mut altered = signed.clone();
        altered.body = altered.body.replace("\"volunteer\"", "\"supervisor\"");
        assert_eq!(altered.open(Some(&pinned)), Err(KeyRosterFault::Invalid));
        let mut garbled = signed;
        garbled.signature = "zz".into();
        assert_eq!(garbled.open(None), Err(KeyRosterFault::Invalid));
    }

    #[test]
    fn received_changes_are_checked_against_the_roster() {
        let server_key = server();
        let trusted = Trusted::new(
            roster(),
            PublicKey::from_bytes(server_key.verifying_key().as_bytes()).expect("key"),
        );
        assert_eq!(check(&trusted, 1, 1, false), Ok(()));
        assert_eq!(check(&trusted, 1, 2, false), Err("attestation_invalid"));
        assert_eq!(check(&trusted, 9, 9, false), Err("author_unknown"));
        assert_eq!(check(&trusted, 4, 4, false), Err("author_committee"));
        // A revoked device's change: refused from a peer, taken from the server, which
        // took it before the revocation.
        assert_eq!(check(&trusted, 3, 3, false), Err("author_revoked"));
        assert_eq!(check(&trusted, 3, 3, true), Ok(()));
        // The server vouches for a change stored before changes were signed.
        let (after, change) = resident(1);
        let vouch = server_key
            .sign(&change_message("doc", &change.hash()))
            .to_bytes();
        assert_eq!(
            trusted.signed_by("doc", &change, &vouch),
            Signed::Server,
            "vouched"
        );
        let ok = trusted.check(
            "doc",
            "resident",
            "c1",
            &[(0, &change)],
            &[vouch.to_vec()],
            &AutoCommit::new(),
            &after,
            &|_| true,
        );
        assert_eq!(ok, Ok(()));
        let missing = trusted.check(
            "doc",
            "resident",
            "c1",
            &[(0, &change)],
            &[Vec::<u8>::new()],
            &AutoCommit::new(),
            &after,
            &|_| true,
        );
        assert_eq!(missing.map_err(|u| u.code), Err("attestation_missing"));
        // A device enrolled before devices had keys: the server's vouch stands for it.
        let mut r = roster();
        let mut keyless = entry(5, Role::Volunteer, &["c1"], false);
        keyless.public_key = String::new();
        r.entries.push(keyless);
        let trusted = Trusted::new(
            r,
            PublicKey::from_bytes(server_key.verifying_key().as_bytes()).expect("key"),
        );
        let (after, change) = resident(5);
        let vouch = server_key
            .sign(&change_message("doc", &change.hash()))
            .to_bytes();
        assert_eq!(trusted.signed_by("doc", &change, &vouch), Signed::Server);
        let held = trusted.check(
            "doc",
            "resident",
            "c1",
            &[(0, &change)],
            &[vouch.to_vec()],
            &AutoCommit::new(),
            &after,
            &|_| true,
        );
        assert_eq!(held, Ok(()));
    }

    #[test]
    fn re_enrollment_holds_the_grants_in_force() {
        let mut r = roster();
        let mut again = entry(3, Role::Supervisor, &["c1"], false);
        again.device_id = "d3b".into();
        r.entries.push(again);
        let key = PublicKey::from_bytes(server().verifying_key().as_bytes()).expect("key");
        let trusted = Trusted::new(r, key);
        let author = trusted.author_of(&ActorId::from([3; 16])).expect("known");
        assert!(!author.revoked);
        assert_eq!(author.role_in("c1"), Some(Role::Supervisor));
    }
}
