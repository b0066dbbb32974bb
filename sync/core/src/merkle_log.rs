//! The sync log as a verifiable Merkle log: one RFC 6962 tree per committee, whose leaves
//! are the log entries' bodies, and checkpoints (tree heads) the server signs in the C2SP
//! `tlog-checkpoint` form as `signed-note`s with its Ed25519 key.
//!
//! The tree arithmetic (hashes, inclusion and consistency proofs) is the `tlog_tiles`
//! crate's; the note format and its signatures are the `signed_note` crate's. This module
//! names Doorstep's logs and checks what a server sends against the key a device pinned:
//! a checkpoint whose signature, origin or proofs do not hold is refused, and a newer
//! checkpoint must be consistent with the one a device holds (an append-only log never
//! shrinks and never changes what it said).
//!
//! ```
//! use doorstep_core::merkle_log::{self, CheckpointHead};
//! let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
//! let leaf = merkle_log::leaf_hash(b"{\"seq\":1}");
//! let note = merkle_log::sign_checkpoint(&key, "r1", 1, leaf);
//! let public = doorstep_core::keys::PublicKey::from_bytes(key.verifying_key().as_bytes()).unwrap();
//! let head = merkle_log::open_checkpoint(&note, &public, "r1").unwrap();
//! assert_eq!(head, CheckpointHead { size: 1, root: leaf });
//! assert!(merkle_log::open_checkpoint(&note, &public, "r2").is_err());
//! ```

use ed25519_dalek::Signer as _;
use signed_note::Note;
use tlog_tiles::checkpoint::Checkpoint;
use tlog_tiles::tlog::{self, Hash};

use crate::keys::PublicKey;

/// The name the server signs its checkpoints under (a signed-note key name).
pub const KEY_NAME: &str = "doorstep-sync-log";

/// The longest proof a tree of 2^64 leaves can need.
pub const MAX_PROOF: usize = 64;

/// A checkpoint's content: how many entries the committee's log held, and their root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointHead {
    pub size: u64,
    pub root: [u8; 32],
}

/// Why a checkpoint or a proof is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogProofError {
    #[error("the checkpoint is not well formed")]
    Malformed,
    #[error("the checkpoint is not signed by the server's key")]
    BadSignature,
    #[error("the checkpoint is for another log ({0})")]
    OtherLog(String),
    #[error("the log holds {new} entries, fewer than the {old} it signed before")]
    Truncated { old: u64, new: u64 },
    #[error("the log of {new} entries does not extend the one of {old} it signed before")]
    Inconsistent { old: u64, new: u64 },
    #[error("entry {index} is not in the log of {size} entries")]
    NotIncluded { index: u64, size: u64 },
}

/// The origin line of a committee's log.
pub fn origin(committee: &str) -> String {
    // An origin is one line; a committee id never holds a line break, but an origin
    // made from one that did would read as two lines.
    let clean: String = committee.chars().filter(|c| !c.is_control()).collect();
    format!("doorstep sync log {clean}")
}

/// The hash of a leaf (RFC 6962: SHA-256 of 0x00 and the entry's bytes).
pub fn leaf_hash(entry: &[u8]) -> [u8; 32] {
    tlog::record_hash(entry).0
}

/// The hash of an interior node over two children (RFC 6962).
pub fn node_hash(left: [u8; 32], right: [u8; 32]) -> [u8; 32] {
    tlog::node_hash(Hash(left), Hash(right)).0
}

/// The root of the empty tree.
pub fn empty_root() -> [u8; 32] {
    tlog::EMPTY_HASH.0
}

/// The server key as a signed-note signer and verifier.
struct NoteKey {
    key_id: u32,
    signing: Option<ed25519_dalek::SigningKey>,
    verifying: ed25519_dalek::VerifyingKey,
}

impl NoteKey {
    fn new(verifying: ed25519_dalek::VerifyingKey) -> NoteKey {
        let encoded = [&[1u8][..], verifying.as_bytes()].concat();
        NoteKey {
            key_id: signed_note::key_id(KEY_NAME, &encoded),
            signing: None,
            verifying,
        }
    }
}

impl signed_note::Signer for NoteKey {
    fn name(&self) -> &str {
        KEY_NAME
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let key = self.signing.as_ref().ok_or_else(signature::Error::new)?;
        Ok(key.sign(msg).to_bytes().to_vec())
    }
}

impl signed_note::Verifier for NoteKey {
    fn name(&self) -> &str {
        KEY_NAME
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(sig)
            .is_ok_and(|s| self.verifying.verify_strict(msg, &s).is_ok())
    }
}

impl signed_note::Verifiers for NoteKey {
    fn verifier(
        &self,
        name: &str,
        id: u32,
    ) -> Result<&dyn signed_note::Verifier, signed_note::VerificationError> {
        if name == KEY_NAME && id == self.key_id {
            Ok(self)
        } else {
            Err(signed_note::VerificationError::UnknownKey {
                name: name.to_owned(),
                id,
            })
        }
    }
}

/// The signed checkpoint of `committee`'s log at `size` entries with root `root`: a
/// signed note whose text is the C2SP checkpoint.
pub fn sign_checkpoint(
    key: &ed25519_dalek::SigningKey,
    committee: &str,
    size: u64,
    root: [u8; 32],
) -> String {
    let text = Checkpoint::new(&origin(committee), size, Hash(root), "")
        .map(|c| c.to_bytes())
        // The origin is never empty and there is no extension: nothing to refuse.
        .unwrap_or_default();
    let signer = NoteKey {
        signing: Some(key.clone()),
        ..NoteKey::new(key.verifying_key())
    };
    let mut note = match Note::new(&text, &[]) {
        Ok(note) => note,
        Err(_) => return String::new(),
    };
    if note.add_sigs(&[&signer]).is_err() {
        return String::new();
    }
    String::from_utf8(note.to_bytes()).unwrap_or_default()
}

/// Checks that `note` is a checkpoint of `committee`'s log signed by `server_key`, and
/// returns its head.
pub fn open_checkpoint(
    note: &str,
    server_key: &PublicKey,
    committee: &str,
) -> Result<CheckpointHead, LogProofError> {
    let verifying = ed25519_dalek::VerifyingKey::from_bytes(server_key.as_bytes())
        .map_err(|_| LogProofError::BadSignature)?;
    let verifier = NoteKey::new(verifying);
    let parsed = Note::from_bytes(note.as_bytes()).map_err(|_| LogProofError::Malformed)?;
    parsed
        .verify(&verifier)
        .map_err(|_| LogProofError::BadSignature)?;
    let checkpoint = Checkpoint::from_bytes(parsed.text()).map_err(|_| LogProofError::Malformed)?;
    if checkpoint.origin() != origin(committee) {
        return Err(LogProofError::OtherLog(checkpoint.origin().to_owned()));
    }
    Ok(CheckpointHead {
        size: checkpoint.size(),
        root: checkpoint.hash().0,
    })
}

fn hashes(proof: &[[u8; 32]]) -> Result<Vec<Hash>, LogProofError> {
    if proof.len() > MAX_PROOF {
        return Err(LogProofError::Malformed);
    }
    Ok(proof.iter().map(|h| Hash(*h)).collect())
}

/// Checks that `new` extends `old`: the log only grew, and its first `old.size` entries
/// are the ones `old` covered (`proof` is the consistency proof between them).
pub fn check_consistency(
    old: &CheckpointHead,
    new: &CheckpointHead,
    proof: &[[u8; 32]],
) -> Result<(), LogProofError> {
    let inconsistent = LogProofError::Inconsistent {
        old: old.size,
        new: new.size,
    };
    if new.size < old.size {
        return Err(LogProofError::Truncated {
            old: old.size,
            new: new.size,
        });
    }
    if old.size == 0 {
        return Ok(());
    }
    if old.size == new.size {
        return if old.root == new.root && proof.is_empty() {
            Ok(())
        } else {
            Err(inconsistent)
        };
    }
    tlog::check_tree(
        &hashes(proof)?,
        new.size,
        Hash(new.root),
        old.size,
        Hash(old.root),
    )
    .map_err(|_| inconsistent)
}

/// Checks that the entry whose leaf hash is `leaf` is entry `index` (from 0) of the log
/// `head` covers (`proof` is its inclusion proof).
pub fn check_inclusion(
    head: &CheckpointHead,
    index: u64,
    leaf: [u8; 32],
    proof: &[[u8; 32]],
) -> Result<(), LogProofError> {
    tlog::check_record(
        &hashes(proof)?,
        head.size,
        Hash(head.root),
        index,
        Hash(leaf),
    )
    .map_err(|_| LogProofError::NotIncluded {
        index,
        size: head.size,
    })
}

/// Reads a tree's stored hashes (see [`stored_hashes`]) by their stored-hash index.
pub trait StoredHashes {
    type Error;
    fn read(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, Self::Error>;
}

/// Adapts a [`StoredHashes`] to the tree crate, keeping the reader's error aside.
struct Reader<'a, R: StoredHashes> {
    inner: &'a R,
    error: std::cell::RefCell<Option<R::Error>>,
}

impl<R: StoredHashes> tlog::HashReader for Reader<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog::Error> {
        match self.inner.read(indexes) {
            Ok(found) if found.len() == indexes.len() => Ok(found.into_iter().map(Hash).collect()),
            Ok(_) => Err(tlog::Error::IndexesNotInTree),
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                Err(tlog::Error::IndexesNotInTree)
            }
        }
    }
}

/// A failure of the tree's arithmetic over stored hashes: the reader's own error, or
/// stored hashes that do not make a tree.
#[derive(Debug)]
pub enum TreeError<E> {
    Read(E),
    Tree(String),
}

fn run<R: StoredHashes, T>(
    reader: &R,
    f: impl FnOnce(&Reader<'_, R>) -> Result<T, tlog::Error>,
) -> Result<T, TreeError<R::Error>> {
    let adapted = Reader {
        inner: reader,
        error: std::cell::RefCell::new(None),
    };
    let out = f(&adapted);
    if let Some(e) = adapted.error.into_inner() {
        return Err(TreeError::Read(e));
    }
    out.map_err(|e| TreeError::Tree(e.to_string()))
}

/// Stored hashes by their stored-hash index.
pub type Indexed = Vec<(u64, [u8; 32])>;

/// The stored hashes to add, as (stored-hash index, hash), when entry `index` (from 0)
/// with leaf hash `leaf` is appended to a tree of `index` entries.
pub fn stored_hashes<R: StoredHashes>(
    index: u64,
    leaf: [u8; 32],
    reader: &R,
) -> Result<Indexed, TreeError<R::Error>> {
    let first = tlog::stored_hash_index(0, index);
    let new = run(reader, |r| {
        tlog::stored_hashes_for_record_hash(index, Hash(leaf), r)
    })?;
    Ok(new
        .into_iter()
        .enumerate()
        .map(|(i, h)| (first + i as u64, h.0))
        .collect())
}

/// The root of the tree's first `size` entries.
pub fn tree_root<R: StoredHashes>(size: u64, reader: &R) -> Result<[u8; 32], TreeError<R::Error>> {
    run(reader, |r| tlog::tree_hash(size, r)).map(|h| h.0)
}

/// The consistency proof from the tree's first `old` entries to its first `new`.
pub fn consistency_proof<R: StoredHashes>(
    old: u64,
    new: u64,
    reader: &R,
) -> Result<Vec<[u8; 32]>, TreeError<R::Error>> {
    if old == 0 || old >= new {
        return Ok(Vec::new());
    }
    run(reader, |r| tlog::prove_tree(new, old, r)).map(|p| p.into_iter().map(|h| h.0).collect())
}

/// The inclusion proof of entry `index` in the tree's first `size` entries.
pub fn inclusion_proof<R: StoredHashes>(
    size: u64,
    index: u64,
    reader: &R,
) -> Result<Vec<[u8; 32]>, TreeError<R::Error>> {
    if index >= size {
        return Err(TreeError::Tree(format!(
            "entry {index} is beyond a tree of {size}"
        )));
    }
    run(reader, |r| tlog::prove_record(size, index, r))
        .map(|p| p.into_iter().map(|h| h.0).collect())
}

/// How many hashes a tree of `size` entries stores.
pub fn stored_hash_count(size: u64) -> u64 {
    tlog::stored_hash_count(size)
}

/// A whole tree in memory, built entry by entry: to rebuild a log from its entries and
/// compare it with the one stored.
#[derive(Debug, Default, Clone)]
pub struct MemoryTree {
    hashes: std::collections::HashMap<u64, [u8; 32]>,
    size: u64,
}

impl StoredHashes for MemoryTree {
    type Error = ();
    fn read(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, ()> {
        indexes
            .iter()
            .map(|i| self.hashes.get(i).copied().ok_or(()))
            .collect()
    }
}

impl MemoryTree {
    /// Appends the entry whose bytes are `entry`.
    pub fn append(&mut self, entry: &[u8]) {
        // Every hash the tree crate asks for was stored by an earlier append.
        if let Ok(add) = stored_hashes(self.size, leaf_hash(entry), &*self) {
            self.hashes.extend(add);
        }
        self.size += 1;
    }

    /// How many entries it holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The stored hash of stored-hash index `index`.
    pub fn hash(&self, index: u64) -> Option<[u8; 32]> {
        self.hashes.get(&index).copied()
    }

    /// Every stored hash, by stored-hash index.
    pub fn stored(&self) -> impl Iterator<Item = (u64, [u8; 32])> + '_ {
        self.hashes.iter().map(|(i, h)| (*i, *h))
    }

    /// The root of its first `size` entries (`None` beyond its size).
    pub fn root(&self, size: u64) -> Option<[u8; 32]> {
        (size <= self.size)
            .then(|| tree_root(size, self).ok())
            .flatten()
    }
}

/// The first entry (from 0) under the stored hash of stored-hash index `index`.
pub fn first_leaf(index: u64) -> u64 {
    let (level, n) = tlog::split_stored_hash_index(index);
    n.checked_shl(u32::from(level)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (ed25519_dalek::SigningKey, PublicKey) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let public = PublicKey::from_bytes(key.verifying_key().as_bytes()).expect("a key");
        (key, public)
    }

    #[test]
    fn a_growing_log_proves_consistency_and_inclusion_and_a_rewritten_one_does_not() {
        let (key, public) = key();
        let mut log = MemoryTree::default();
        let mut heads = Vec::new();
        for n in 0..37u32 {
            log.append(format!("entry {n}").as_bytes());
            let root = tree_root(log.size(), &log).expect("root");
            let note = sign_checkpoint(&key, "c", log.size(), root);
            heads.push(open_checkpoint(&note, &public, "c").expect("signed"));
        }
        for old in &heads {
            for new in heads.iter().filter(|h| h.size >= old.size) {
                let proof = consistency_proof(old.size, new.size, &log).expect("proof");
                check_consistency(old, new, &proof).expect("consistent");
            }
        }
        let last = heads.last().expect("heads");
        for i in 0..last.size {
            let proof = inclusion_proof(last.size, i, &log).expect("proof");
            let leaf = leaf_hash(format!("entry {i}").as_bytes());
            check_inclusion(last, i, leaf, &proof).expect("included");
            let other = leaf_hash(b"another entry");
            assert!(check_inclusion(last, i, other, &proof).is_err());
        }

        // The same number of entries, one of them rewritten: not an extension.
        let mut forked = MemoryTree::default();
        for n in 0..37u32 {
            let text = if n == 20 {
                "rewritten".into()
            } else {
                format!("entry {n}")
            };
            forked.append(text.as_bytes());
        }
        let old = heads[25];
        let new = CheckpointHead {
            size: 37,
            root: tree_root(37, &forked).expect("root"),
        };
        let proof = consistency_proof(26, 37, &forked).expect("proof");
        assert_eq!(
            check_consistency(&old, &new, &proof),
            Err(LogProofError::Inconsistent { old: 26, new: 37 })
        );
        // Fewer entries than signed before.
        assert_eq!(
            check_consistency(&heads[30], &heads[10], &[]),
            Err(LogProofError::Truncated { old: 31, new: 11 })
        );
    }

    #[test]
    fn a_checkpoint_is_refused_when_altered_or_signed_by_another_key() {
        let (key, public) = key();
        let note = sign_checkpoint(&key, "c", 5, [9; 32]);
        assert!(note.starts_with("doorstep sync log c\n5\n"), "{note}");
        let other = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
        let forged = sign_checkpoint(&other, "c", 5, [9; 32]);
        assert_eq!(
            open_checkpoint(&forged, &public, "c"),
            Err(LogProofError::BadSignature)
        );
        let altered = note.replacen("\n5\n", "\n6\n", 1);
        assert_eq!(
            open_checkpoint(&altered, &public, "c"),
            Err(LogProofError::BadSignature)
        );
        assert_eq!(
            open_checkpoint("not a note", &public, "c"),
            Err(LogProofError::Malformed)
        );
        assert!(matches!(
            open_checkpoint(&note, &public, "d"),
            Err(LogProofError::OtherLog(_))
        ));
    }
}
