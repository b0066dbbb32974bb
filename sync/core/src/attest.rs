//! Attestations: the author's Ed25519 signature over each Automerge change it makes, so
//! that whoever relays a change (the server, a bundle on a USB stick, another device)
//! cannot alter it or claim it for someone else. The signer is named by the change
//! itself: its actor id, which the server bound to one device's key at enrollment.
//!
//! An attestation signs the record's id and the change's hash (SHA-256 over the change's
//! bytes, as Automerge computes it), after a fixed tag, in the spirit of Keyhive's
//! attestations over commit hashes; the hash covers the change's dependencies, so a
//! signed change also fixes the history it was made on, and the id keeps it to its
//! record (a signed history replayed under another record's id does not verify).

use automerge::{ActorId, Change, ChangeHash};

use crate::keys::PublicKey;
use crate::protocol::Role;

/// The length of a signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// What an author signs for one change of record `doc_id`: a fixed tag, the record's
/// id and a newline, and the change's 32-byte hash.
pub fn change_message(doc_id: &str, hash: &ChangeHash) -> Vec<u8> {
    let mut message = format!("doorstep-change-v2\n{doc_id}\n").into_bytes();
    message.extend_from_slice(&hash.0);
    message
}

/// An enrolled author as the verifier knows it: the key bound to its actor, its role in
/// each committee it writes for, and whether it has been revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub device_id: String,
    pub key: PublicKey,
    /// `(committee, role)` for each committee the author writes for.
    pub grants: Vec<(String, Role)>,
    pub revoked: bool,
}

impl Author {
    /// The author's role in `committee` (a supervisor's, if it holds both), if any.
    pub fn role_in(&self, committee: &str) -> Option<Role> {
        let roles = self.grants.iter().filter(|(c, _)| c == committee);
        roles
            .map(|(_, r)| *r)
            .max_by_key(|r| matches!(r, Role::Supervisor))
    }
}

/// Why a change's attestation does not hold. `code` is the protocol's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestFault {
    #[error("change {index} carries no signature")]
    Missing { index: usize },
    #[error("change {index} was made by an actor no enrolled device holds")]
    UnknownAuthor { index: usize },
    #[error("change {index}'s signature is not its author's")]
    Invalid { index: usize },
    #[error("change {index} was made by a revoked device and reached the server after")]
    Revoked { index: usize },
    #[error("change {index}'s author does not write for this record's committee")]
    Committee { index: usize },
}

impl AttestFault {
    /// The protocol's code.
    pub fn code(&self) -> &'static str {
        match self {
            AttestFault::Missing { .. } => "attestation_missing",
            AttestFault::UnknownAuthor { .. } => "author_unknown",
            AttestFault::Invalid { .. } => "attestation_invalid",
            AttestFault::Revoked { .. } => "author_revoked",
            AttestFault::Committee { .. } => "author_committee",
        }
    }
}

/// Checks that each of `changes` of record `doc_id` carries its author's signature
/// (`signatures[i]` for `changes[i]`), that the author is enrolled, not revoked, and
/// writes for `committee`. `author_of` finds the author bound to an actor.
pub fn verify<'c, 'r, S: AsRef<[u8]>>(
    doc_id: &str,
    changes: impl IntoIterator<Item = (usize, &'c Change)>,
    signatures: &[S],
    committee: &str,
    author_of: &dyn Fn(&ActorId) -> Option<&'r Author>,
) -> Result<(), AttestFault> {
    for (index, change) in changes {
        let signature = signatures
            .get(index)
            .map(AsRef::as_ref)
            .filter(|s| !s.is_empty())
            .ok_or(AttestFault::Missing { index })?;
        let author = author_of(change.actor_id()).ok_or(AttestFault::UnknownAuthor { index })?;
        if !author
            .key
            .verifies(&change_message(doc_id, &change.hash()), signature)
        {
            return Err(AttestFault::Invalid { index });
        }
        if author.revoked {
            return Err(AttestFault::Revoked { index });
        }
        if author.role_in(committee).is_none() {
            return Err(AttestFault::Committee { index });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};
    use ed25519_dalek::{Signer, SigningKey};

    fn author(seed: u8, committees: &[&str]) -> (SigningKey, Author) {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let key = PublicKey::from_bytes(signing.verifying_key().as_bytes()).expect("valid");
        let author = Author {
            device_id: format!("d{seed}"),
            key,
            grants: committees
                .iter()
                .map(|c| ((*c).to_owned(), Role::Volunteer))
                .collect(),
            revoked: false,
        };
        (signing, author)
    }

    fn change(actor: u8) -> Change {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]));
        doc.put(ROOT, "kind", "resident").expect("put");
        doc.commit();
        doc.get_changes(&[])[0].clone()
    }

    fn sign(key: &SigningKey, change: &Change) -> Vec<u8> {
        key.sign(&change_message("d1", &change.hash()))
            .to_bytes()
            .to_vec()
    }

    #[test]
    fn a_change_verifies_only_with_its_authors_signature_for_its_committee() {
        let (key_a, a) = author(1, &["c1"]);
        let (key_b, b) = author(2, &["c1"]);
        let ch = change(1);
        let lookup = |actor: &ActorId| (actor == &ActorId::from(vec![1u8; 16])).then_some(&a);
        let check = |sig: Vec<u8>, committee: &str| {
            verify("d1", [(0, &ch)], &[sig], committee, &lookup).map_err(|e| e.code())
        };
        assert_eq!(check(sign(&key_a, &ch), "c1"), Ok(()));
        assert_eq!(check(Vec::new(), "c1"), Err("attestation_missing"));
        assert_eq!(check(sign(&key_b, &ch), "c1"), Err("attestation_invalid"));
        let mut altered = sign(&key_a, &ch);
        altered[3] ^= 1;
        assert_eq!(check(altered, "c1"), Err("attestation_invalid"));
        assert_eq!(check(sign(&key_a, &ch), "c2"), Err("author_committee"));
        // The same change and signature under another record's id.
        assert_eq!(
            verify("d2", [(0, &ch)], &[sign(&key_a, &ch)], "c1", &lookup).map_err(|e| e.code()),
            Err("attestation_invalid")
        );
        // B's own change, signed by B, but B is bound to no actor here.
        let other = change(2);
        assert_eq!(
            verify("d1", [(0, &other)], &[sign(&key_b, &other)], "c1", &lookup)
                .map_err(|e| e.code()),
            Err("author_unknown")
        );
        let revoked = Author { revoked: true, ..b };
        let by_b = |_: &ActorId| Some(&revoked);
        assert_eq!(
            verify("d1", [(0, &other)], &[sign(&key_b, &other)], "c1", &by_b).map_err(|e| e.code()),
            Err("author_revoked")
        );
        // Fewer signatures than changes.
        let none: [Vec<u8>; 0] = [];
        assert_eq!(
            verify("d1", [(0, &ch)], &none, "c1", &lookup).map_err(|e| e.code()),
            Err("attestation_missing")
        );
    }
}
