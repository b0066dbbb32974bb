//! Accepting one uploaded document, without IO: the changes a device sent are parsed,
//! merged into what is held, checked (complete history, the kind it claims, the size
//! limit) and compared for new conflicts. The server stores what this decides; the
//! decision itself needs no database and is tested here.

use automerge::{ActorId, AutoCommit, Change};

use crate::attest::{self, AttestFault, Author};
use crate::rules::{self, RuleBreach};
use crate::value::{self, Fields};

/// Why an uploaded document is refused. `code` is the protocol's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    #[error("change {index}: not an Automerge change ({reason})")]
    InvalidChange { index: usize, reason: String },
    #[error("the changes do not apply ({0})")]
    ChangesDoNotApply(String),
    #[error(
        "the changes depend on changes the server does not have; send every unacknowledged change"
    )]
    MissingDependencies,
    #[error("the document says kind {found:?}, the request {claimed:?}")]
    KindMismatch { found: String, claimed: String },
    #[error("the document would hold {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the stored document cannot be loaded ({0})")]
    StoredUnreadable(String),
    #[error("the changes would inflate to more than {limit} bytes")]
    Inflated { limit: usize },
    #[error("the changes carry {ops} operations; the limit is {limit}")]
    TooManyOperations { ops: usize, limit: usize },
    #[error(transparent)]
    Attestation(#[from] AttestFault),
    #[error(transparent)]
    Rule(#[from] RuleBreach),
}

impl UploadRefusal {
    /// The protocol's code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            UploadRefusal::InvalidChange { .. } | UploadRefusal::ChangesDoNotApply(_) => {
                "invalid_change"
            }
            UploadRefusal::MissingDependencies => "missing_dependencies",
            UploadRefusal::KindMismatch { .. } => "kind_mismatch",
            UploadRefusal::TooLarge { .. } => "document_too_large",
            UploadRefusal::StoredUnreadable(_) => "storage",
            UploadRefusal::Inflated { .. } => "change_too_large",
            UploadRefusal::TooManyOperations { .. } => "too_many_operations",
            UploadRefusal::Attestation(fault) => fault.code(),
            UploadRefusal::Rule(breach) => breach.code(),
        }
    }
}

/// A document after an accepted upload.
#[derive(Debug)]
pub struct Merged {
    /// The document as it is to be stored.
    pub snapshot: Vec<u8>,
    /// Fields in conflict now that were not before the upload, sorted.
    pub new_conflicts: Vec<String>,
    /// The attachments the document now refers to (see [`crate::blobs::referenced`]).
    pub blobs: Vec<String>,
}

/// The most bytes one document's changes may inflate to. A change may come as a
/// compressed chunk, which Automerge inflates whole while parsing it: a few kilobytes
/// can claim gigabytes, so the size is measured first, with a bounded reader.
pub const MAX_INFLATED_BYTES: usize = 64 * 1024 * 1024;

/// The most operations one document's changes may carry (each costs memory to apply).
pub const MAX_OPERATIONS: usize = 500_000;

/// Automerge's chunk header: magic bytes, a 4-byte checksum, the chunk type.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const COMPRESSED_CHUNK: u8 = 2;

/// What a chunk inflates to, when it is a compressed one; `None` past `budget` bytes
/// (nothing beyond the budget is inflated).
fn inflated_len(bytes: &[u8], budget: usize) -> Option<usize> {
    use std::io::Read;
    if bytes.len() < 9 || bytes[..4] != MAGIC || bytes[8] != COMPRESSED_CHUNK {
        return Some(0);
    }
    let mut rest = &bytes[9..];
    // A malformed length is left for the parser to refuse.
    let Ok(len) = leb128::read::unsigned(&mut rest) else {
        return Some(0);
    };
    let data = rest
        .get(..usize::try_from(len).unwrap_or(usize::MAX))
        .unwrap_or(rest);
    let mut inflater = flate2::bufread::DeflateDecoder::new(data)
        .take(u64::try_from(budget).unwrap_or(u64::MAX) + 1);
    let n = std::io::copy(&mut inflater, &mut std::io::sink()).unwrap_or(0);
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    (n <= budget).then_some(n)
}

/// Parses uploaded changes, each from its raw bytes, refusing those that would inflate
/// past [`MAX_INFLATED_BYTES`] together or carry more than [`MAX_OPERATIONS`].
pub fn parse_changes<B: AsRef<[u8]>>(raw: &[B]) -> Result<Vec<Change>, UploadRefusal> {
    parse_within(raw, MAX_INFLATED_BYTES, MAX_OPERATIONS)
}

/// Parses changes a device receives: bounded in what they inflate to (the whole history
/// of a record may come at once, so four times an upload's budget) but not in
/// operations, which the server bounded upload by upload.
pub fn parse_received<B: AsRef<[u8]>>(raw: &[B]) -> Result<Vec<Change>, UploadRefusal> {
    parse_within(raw, 4 * MAX_INFLATED_BYTES, usize::MAX)
}

fn parse_within<B: AsRef<[u8]>>(
    raw: &[B],
    max_inflated: usize,
    max_operations: usize,
) -> Result<Vec<Change>, UploadRefusal> {
    let mut budget = max_inflated;
    let mut ops = 0usize;
    let mut changes = Vec::with_capacity(raw.len());
    for (index, bytes) in raw.iter().enumerate() {
        let bytes = bytes.as_ref();
        let inflated = inflated_len(bytes, budget).ok_or(UploadRefusal::Inflated {
            limit: max_inflated,
        })?;
        budget -= inflated;
        let change = crate::apply::parse_change(bytes)
            .map_err(|reason| UploadRefusal::InvalidChange { index, reason })?;
        ops += change.len();
        if ops > max_operations {
            return Err(UploadRefusal::TooManyOperations {
                ops,
                limit: max_operations,
            });
        }
        if !canonical(&change) {
            return Err(UploadRefusal::InvalidChange {
                index,
                reason: "not encoded as Automerge encodes it".into(),
            });
        }
        changes.push(change);
    }
    Ok(changes)
}

/// Whether a change decodes and encodes again to itself (the same hash, which covers
/// its uncompressed bytes). Automerge writes every change so; a change written by hand
/// otherwise (columns that decode but are not as Automerge lays them out) reaches
/// Automerge's internals, which fuzzing found to panic on them, once in a destructor
/// while unwinding, which no `catch_unwind` survives.
fn canonical(change: &Change) -> bool {
    std::panic::catch_unwind(|| Change::from(change.decode()).hash() == change.hash())
        .unwrap_or(false)
}

/// What an upload is checked against: the committee of the record, the attestation of
/// each change (in the changes' order), and the enrolled author bound to an actor.
pub struct Trust<'a, 'r> {
    pub doc_id: &'a str,
    pub committee: &'a str,
    pub signatures: &'a [serde_bytes::ByteBuf],
    pub author_of: &'a dyn Fn(&ActorId) -> Option<&'r Author>,
    /// For change `i` that the uploading device took from another device's bundle: its
    /// author as the key roster the device held then had it, when that roster was one
    /// the server issued before the author was revoked (see `protocol::Relayed`). A
    /// revoked author's changes are taken when every one of them in the upload is so.
    pub relayed: &'a dyn Fn(usize) -> Option<&'r Author>,
}

/// No change relayed (a [`Trust::relayed`] for uploads that claim none).
pub fn none_relayed<'r>(_: usize) -> Option<&'r Author> {
    None
}

impl std::fmt::Debug for Trust<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field("doc_id", &self.doc_id)
            .field("committee", &self.committee)
            .field("signatures", &self.signatures.len())
            .finish_non_exhaustive()
    }
}

/// Merges `changes` into the stored document (`None`: a new one) and decides whether
/// the result may be stored: every change not stored before signed by its enrolled,
/// unrevoked author of the record's committee, the write rules kept, its history
/// complete, its `kind` the one `claimed`, its size within `limit` bytes.
pub fn merge_upload(
    stored: Option<&[u8]>,
    changes: Vec<Change>,
    claimed: &str,
    limit: usize,
    trust: &Trust<'_, '_>,
) -> Result<Merged, UploadRefusal> {
    let mut doc = load_stored(stored)?;
    // Changes stored before were verified when they came; a resent one is not again.
    let fresh: Vec<(usize, &Change)> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| doc.get_change_by_hash(&c.hash()).is_none())
        .collect();
    // A revoked author stands as the roster the uploading device held had it, when
    // every one of the author's new changes was relayed before the revocation.
    let mut relays: std::collections::HashMap<ActorId, Option<&Author>> =
        std::collections::HashMap::new();
    for (index, change) in &fresh {
        let actor = change.actor_id();
        let Some(now) = (trust.author_of)(actor).filter(|a| a.revoked) else {
            continue;
        };
        let then = (trust.relayed)(*index).filter(|then| !then.revoked && then.key == now.key);
        relays
            .entry(actor.clone())
            .and_modify(|held| {
                if then.is_none() {
                    *held = None;
                }
            })
            .or_insert(then);
    }
    let author_of = |actor: &ActorId| match relays.get(actor) {
        Some(Some(then)) => Some(*then),
        _ => (trust.author_of)(actor),
    };
    attest::verify(
        trust.doc_id,
        fresh.iter().copied(),
        trust.signatures,
        trust.committee,
        &author_of,
    )?;
    let mut actors: Vec<ActorId> = fresh.iter().map(|(_, c)| c.actor_id().clone()).collect();
    actors.sort();
    actors.dedup();
    // Only an application's events and a visit plan's outcomes need the record as it was.
    let before = if claimed == crate::application::KIND || claimed == crate::visit::KIND {
        doc.clone()
    } else {
        AutoCommit::new()
    };
    let merged = merge_into(&mut doc, changes, claimed, limit)?;
    rules::check(claimed, &before, &doc, &actors, &|actor| {
        author_of(actor).and_then(|a| a.role_in(trust.committee))
    })?;
    Ok(merged)
}

fn load_stored(stored: Option<&[u8]>) -> Result<AutoCommit, UploadRefusal> {
    match stored {
        Some(bytes) => {
            crate::apply::load(bytes).map_err(|e| UploadRefusal::StoredUnreadable(e.to_string()))
        }
        None => Ok(AutoCommit::new()),
    }
}

/// Merges without checking authors or rules: what [`merge_upload`] does after them.
fn merge_into(
    doc: &mut AutoCommit,
    changes: Vec<Change>,
    claimed: &str,
    limit: usize,
) -> Result<Merged, UploadRefusal> {
    let before = Fields::scan(&*doc).conflicted();
    crate::apply::apply_changes(doc, changes)
        .map_err(|e| UploadRefusal::ChangesDoNotApply(e.to_string()))?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(UploadRefusal::MissingDependencies);
    }
    let found = value::text(&*doc, "kind").unwrap_or_default();
    if found != claimed {
        return Err(UploadRefusal::KindMismatch {
            found,
            claimed: claimed.to_owned(),
        });
    }
    // Changes Automerge took but cannot save, or save so that they load again (fuzzing
    // found both): stored, the record would be unreadable for everyone.
    let snapshot = crate::apply::save(doc).map_err(|_| {
        UploadRefusal::ChangesDoNotApply("the record they make cannot be saved".into())
    })?;
    let heads = doc.get_heads();
    if !crate::apply::load(&snapshot).is_ok_and(|mut again| again.get_heads() == heads) {
        return Err(UploadRefusal::ChangesDoNotApply(
            "the record they make does not load again".into(),
        ));
    }
    if snapshot.len() > limit {
        return Err(UploadRefusal::TooLarge {
            size: snapshot.len(),
            limit,
        });
    }
    let mut new_conflicts: Vec<String> = Fields::scan(&*doc)
        .conflicted()
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    new_conflicts.sort();
    Ok(Merged {
        snapshot,
        new_conflicts,
        blobs: crate::blobs::referenced(&*doc),
    })
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT};

    use super::*;

    const LIMIT: usize = 1 << 20;

    /// Merging as the server does once authors and rules are checked.
    fn unchecked(
        stored: Option<&[u8]>,
        changes: Vec<Change>,
        claimed: &str,
        limit: usize,
    ) -> Result<Merged, UploadRefusal> {
        merge_into(&mut load_stored(stored)?, changes, claimed, limit)
    }

    fn doc(actor: u8) -> AutoCommit {
        AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]))
    }

    /// A resident document with a name, and its changes as a device uploads them.
    fn resident(actor: u8) -> (AutoCommit, Vec<Vec<u8>>) {
        let mut d = doc(actor);
        d.put(ROOT, "kind", "resident").expect("put");
        d.put(ROOT, "name", "测试").expect("put");
        d.commit();
        let raw = d
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        (d, raw)
    }

    #[test]
    fn a_compressed_change_is_measured_and_a_bomb_refused_before_it_inflates() {
        use std::io::Write;
        // A real change large enough that Automerge sends it compressed.
        let mut d = doc(3);
        d.put(ROOT, "kind", "resident").expect("put");
        d.put(ROOT, "notes", "测试".repeat(5_000)).expect("put");
        d.commit();
        let mut change = d.get_changes(&[])[0].clone();
        let compressed = change.bytes().to_vec();
        assert_eq!(compressed[8], COMPRESSED_CHUNK, "Automerge compressed it");
        assert!(inflated_len(&compressed, MAX_INFLATED_BYTES).is_some_and(|n| n > 0));
        assert_eq!(parse_changes(&[compressed]).expect("parsed").len(), 1);

        // A few kilobytes that would inflate past the limit (4 MiB here, to stay quick;
        // the same reader bounds the real 64 MiB).
        let limit = 4 << 20;
        let mut deflate =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..5 {
            deflate.write_all(&zeros).expect("deflate");
        }
        let body = deflate.finish().expect("deflate");
        let mut bomb = MAGIC.to_vec();
        bomb.extend([0, 0, 0, 0, COMPRESSED_CHUNK]);
        leb128::write::unsigned(&mut bomb, body.len() as u64).expect("length");
        bomb.extend(&body);
        assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
        assert_eq!(
            parse_within(&[bomb], limit, MAX_OPERATIONS).map(|c| c.len()),
            Err(UploadRefusal::Inflated { limit })
        );
        assert_eq!(
            UploadRefusal::Inflated { limit: 1 }.code(),
            "change_too_large"
        );
    }

    #[test]
    fn a_document_with_too_many_operations_is_refused() {
        let mut d = doc(4);
        d.put(ROOT, "kind", "resident").expect("put");
        let list = d
            .put_object(ROOT, "many", automerge::ObjType::List)
            .expect("list");
        for i in 0..60 {
            d.insert(&list, i, 1).expect("insert");
        }
        d.commit();
        let raw: Vec<Vec<u8>> = d
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        assert_eq!(
            parse_within(&raw, MAX_INFLATED_BYTES, 100).map(|c| c.len()),
            Ok(1)
        );
        assert_eq!(
            parse_within(&raw, MAX_INFLATED_BYTES, 50).map(|c| c.len()),
            Err(UploadRefusal::TooManyOperations { ops: 62, limit: 50 })
        );
    }

    #[test]
    fn a_new_document_is_accepted_with_its_snapshot() {
        let (d, raw) = resident(1);
        let merged = unchecked(None, parse_changes(&raw).expect("parse"), "resident", LIMIT)
            .expect("accepted");
        let mut back = AutoCommit::load(&merged.snapshot).expect("load");
        assert_eq!(back.get_heads(), d.clone().get_heads());
        assert!(merged.new_conflicts.is_empty());
    }

    #[test]
    fn garbage_bytes_are_refused_naming_the_change() {
        let (_, mut raw) = resident(1);
        raw.push(b"not a change".to_vec());
        let err = parse_changes(&raw).expect_err("garbage");
        assert_eq!(err.code(), "invalid_change");
        assert!(matches!(err, UploadRefusal::InvalidChange { index: 1, .. }));
    }

    #[test]
    fn a_change_without_its_history_is_refused() {
        let (mut d, _) = resident(1);
        let heads = d.get_heads();
        d.put(ROOT, "name", "测试二").expect("put");
        d.commit();
        let later: Vec<Vec<u8>> = d
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let err = unchecked(
            None,
            parse_changes(&later).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect_err("missing history");
        assert_eq!(err, UploadRefusal::MissingDependencies);
    }

    #[test]
    fn a_document_claiming_another_kind_is_refused() {
        let (_, raw) = resident(1);
        let err = unchecked(
            None,
            parse_changes(&raw).expect("parse"),
            "application",
            LIMIT,
        )
        .expect_err("kind");
        assert_eq!(err.code(), "kind_mismatch");
    }

    #[test]
    fn a_document_over_the_limit_is_refused() {
        let (_, raw) = resident(1);
        let err = unchecked(None, parse_changes(&raw).expect("parse"), "resident", 10)
            .expect_err("too large");
        assert!(matches!(err, UploadRefusal::TooLarge { limit: 10, .. }));
        assert_eq!(err.code(), "document_too_large");
    }

    #[test]
    fn unreadable_stored_bytes_are_the_servers_fault_not_the_devices() {
        let (_, raw) = resident(1);
        let err = unchecked(
            Some(b"corrupt".as_slice()),
            parse_changes(&raw).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect_err("corrupt store");
        assert_eq!(err.code(), "storage");
    }

    #[test]
    fn only_conflicts_the_upload_creates_are_reported() {
        // Two devices edit the name concurrently: the second upload makes the conflict.
        let (mut a, raw) = resident(1);
        let stored =
            unchecked(None, parse_changes(&raw).expect("parse"), "resident", LIMIT).expect("first");
        let mut b = AutoCommit::load(&stored.snapshot)
            .expect("load")
            .with_actor(ActorId::from(vec![2u8; 16]));
        let heads = a.get_heads();
        a.put(ROOT, "name", "甲改的").expect("put");
        a.commit();
        b.put(ROOT, "name", "乙改的").expect("put");
        b.commit();
        let from_a: Vec<Vec<u8>> = a
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let from_b: Vec<Vec<u8>> = b
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let after_a = unchecked(
            Some(&stored.snapshot),
            parse_changes(&from_a).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect("a");
        assert!(after_a.new_conflicts.is_empty());
        let after_b = unchecked(
            Some(&after_a.snapshot),
            parse_changes(&from_b).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect("b");
        assert_eq!(after_b.new_conflicts, ["name"]);
        // The same conflict uploaded again is not new.
        let again = unchecked(
            Some(&after_b.snapshot),
            parse_changes(&from_b).expect("parse"),
            "resident",
            LIMIT,
        )
        .expect("again");
        assert!(again.new_conflicts.is_empty());
    }

    /// Each of `changes` of record `d1` attested by `signing`.
    fn signed_by(
        signing: &ed25519_dalek::SigningKey,
        changes: &[Change],
    ) -> Vec<serde_bytes::ByteBuf> {
        use ed25519_dalek::Signer;
        changes
            .iter()
            .map(|c| {
                let message = attest::change_message("d1", &c.hash());
                serde_bytes::ByteBuf::from(signing.sign(&message).to_bytes().to_vec())
            })
            .collect()
    }

    #[test]
    fn only_changes_new_to_the_server_need_their_authors_signature() {
        use crate::keys::PublicKey;
        use crate::protocol::Role;
        use ed25519_dalek::SigningKey;
        let signing = SigningKey::from_bytes(&[5; 32]);
        let author = Author {
            device_id: "d1".into(),
            key: PublicKey::from_bytes(signing.verifying_key().as_bytes()).expect("key"),
            grants: vec![("c1".into(), Role::Volunteer)],
            revoked: false,
        };
        let (_, raw) = resident(1);
        let changes = parse_changes(&raw).expect("parse");
        let signed = signed_by(&signing, &changes);
        let author_of = |a: &ActorId| (a == &ActorId::from(vec![1u8; 16])).then_some(&author);
        let trust = |signatures| Trust {
            doc_id: "d1",
            committee: "c1",
            signatures,
            author_of: &author_of,
            relayed: &none_relayed,
        };
        let err = merge_upload(None, changes.clone(), "resident", LIMIT, &trust(&[]))
            .expect_err("unsigned");
        assert_eq!(err.code(), "attestation_missing");
        let stored = merge_upload(None, changes.clone(), "resident", LIMIT, &trust(&signed))
            .expect("signed");
        // Sent again without its signature (a relay that lost it): already held.
        merge_upload(
            Some(&stored.snapshot),
            changes,
            "resident",
            LIMIT,
            &trust(&[]),
        )
        .expect("already stored");
    }

    #[test]
    fn a_revoked_authors_changes_are_taken_only_when_each_was_relayed_before_the_revocation() {
        use crate::keys::PublicKey;
        use crate::protocol::Role;
        use ed25519_dalek::SigningKey;
        let signing = SigningKey::from_bytes(&[5; 32]);
        let key = PublicKey::from_bytes(signing.verifying_key().as_bytes()).expect("key");
        // Revoked now: no grant left. As the roster the relaying device held had it: a
        // volunteer of c1.
        let now = Author {
            device_id: "d1".into(),
            key,
            grants: Vec::new(),
            revoked: true,
        };
        let then = Author {
            grants: vec![("c1".into(), Role::Volunteer)],
            revoked: false,
            ..now.clone()
        };
        let other_key = Author {
            key: PublicKey::from_bytes(SigningKey::from_bytes(&[6; 32]).verifying_key().as_bytes())
                .expect("key"),
            ..then.clone()
        };
        let (mut doc, mut raw) = resident(1);
        let heads = doc.get_heads();
        doc.put(ROOT, "phone", "13800000000").expect("put");
        doc.commit();
        raw.extend(
            doc.get_changes(&heads)
                .iter()
                .map(|c| c.raw_bytes().to_vec()),
        );
        let changes = parse_changes(&raw).expect("parse");
        assert!(changes.len() >= 2, "two changes at least");
        let signed = signed_by(&signing, &changes);
        let now: &'static Author = Box::leak(Box::new(now));
        let author_of = |_: &ActorId| Some(now);
        let upload = |relayed: &dyn Fn(usize) -> Option<&'static Author>| {
            let trust = Trust {
                doc_id: "d1",
                committee: "c1",
                signatures: &signed,
                author_of: &author_of,
                relayed,
            };
            merge_upload(None, changes.clone(), "resident", LIMIT, &trust).map_err(|e| e.code())
        };
        let then: &'static Author = Box::leak(Box::new(then));
        let other_key: &'static Author = Box::leak(Box::new(other_key));
        assert_eq!(upload(&none_relayed).err(), Some("author_revoked"));
        assert!(
            upload(&|_| Some(then)).is_ok(),
            "every change relayed in time"
        );
        assert_eq!(
            upload(&|i| (i == 0).then_some(then)).err(),
            Some("author_revoked"),
            "one of them not"
        );
        assert_eq!(
            upload(&|_| Some(other_key)).err(),
            Some("author_revoked"),
            "a roster binding another key to the actor"
        );
    }
}
