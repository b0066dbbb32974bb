//! Loading and saving record documents as chunks, inside the caller's transaction.
//!
//! A new record is saved as a snapshot; each later local change or merged batch as an
//! incremental chunk holding only the new changes (`save_after` the heads at load).
//! When a record's incremental chunks together outweigh its snapshot (as automerge-repo
//! does) and [`COMPACT_BYTES_MIN`], or number [`COMPACT_AFTER`], they are folded into one
//! snapshot in the same transaction: writing stays within about twice the bytes of the
//! changes themselves and a load reads at most twice the snapshot (or the snapshot and
//! 4 KiB). Keys are content hashes, so saving the same bytes twice stores them once.
//! The attestations of this device's own changes ride in the row of the chunk that
//! holds them, and move to their table when the chunk is folded.

use automerge::{ActorId, AutoCommit, ChangeHash};
use doorstep_core::DocId;
use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::attest::Signer;
use crate::error::DeviceError;
use crate::store::{self, ChunkKind, Store};

/// The most incremental chunks a record may gather before they are compacted into a
/// snapshot, however small they are.
pub const COMPACT_AFTER: i64 = 256;
/// Incremental chunks lighter than this are not yet folded, however small the
/// snapshot: a small record's snapshot is rewritten about every sixteenth edit rather
/// than every second one, and a load reads at most this many bytes more.
pub const COMPACT_BYTES_MIN: i64 = 4096;
/// Documents kept decoded in memory.
pub const CACHE_DOCS: usize = 256;

/// How a loaded document will be used: read (the cache keeps its copy) or edited (the
/// cache gives its copy up; the caller puts the saved document back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Edit,
}

/// Recently used documents, decoded. The whole cache is dropped whenever another
/// connection has written to the database (SQLite's `PRAGMA data_version` changed), so a
/// stale entry is never used; this connection's own saves put their result back.
#[derive(Debug, Default)]
pub struct DocCache {
    docs: std::collections::HashMap<DocId, AutoCommit>,
    order: std::collections::VecDeque<DocId>,
    data_version: Option<i64>,
}

impl DocCache {
    /// Forgets everything if the database changed under this connection.
    fn check(&mut self, store: &Store) -> Result<(), DeviceError> {
        let version: i64 = store
            .conn()
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        if self.data_version != Some(version) {
            self.docs.clear();
            self.order.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    fn get(&mut self, id: &DocId, access: Access) -> Option<AutoCommit> {
        match access {
            Access::Read => self.docs.get(id).cloned(),
            Access::Edit => {
                let doc = self.docs.remove(id)?;
                self.order.retain(|o| o != id);
                Some(doc)
            }
        }
    }

    /// Remembers a copy of `doc` as the current state of `id`.
    pub fn put(&mut self, id: &DocId, doc: &AutoCommit) {
        self.put_owned(id, doc.clone());
    }

    /// Remembers `doc` as the current state of `id`.
    pub fn put_owned(&mut self, id: &DocId, doc: AutoCommit) {
        if self.docs.insert(id.clone(), doc).is_none() {
            self.order.push_back(id.clone());
            while self.order.len() > CACHE_DOCS {
                if let Some(old) = self.order.pop_front() {
                    self.docs.remove(&old);
                }
            }
        }
    }
}

/// A record loaded for editing: the document and the heads it was loaded at.
#[derive(Debug)]
pub struct Loaded {
    pub doc: AutoCommit,
    pub heads: Vec<ChangeHash>,
}

/// Loads a record's document from its chunks, with `actor` for new changes.
/// A record whose chunks cannot be read is quarantined and reported as corrupt.
pub fn load(
    store: &Store,
    cache: &std::cell::RefCell<DocCache>,
    id: &DocId,
    actor: &ActorId,
) -> Result<Loaded, DeviceError> {
    load_for(store, cache, id, actor, Access::Read)
}

/// Like [`load`], for `access`.
pub fn load_for(
    store: &Store,
    cache: &std::cell::RefCell<DocCache>,
    id: &DocId,
    actor: &ActorId,
    access: Access,
) -> Result<Loaded, DeviceError> {
    // A cached document is one this connection loaded or saved since the database last
    // changed under it, so its record exists and is not quarantined (only a load that
    // fails sets a record aside, and a record is never deleted).
    let cached = {
        let mut cache = cache.borrow_mut();
        cache.check(store)?;
        cache.get(id, access)
    };
    if let Some(mut doc) = cached {
        if doc.get_actor() != actor {
            doc.set_actor(actor.clone());
        }
        let heads = doc.get_heads();
        return Ok(Loaded { doc, heads });
    }
    let quarantined: Option<Option<String>> = store
        .conn()
        .prepare_cached("SELECT quarantined FROM docs WHERE doc_id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?;
    match quarantined {
        None => return Err(DeviceError::NotFound(id.to_string())),
        Some(Some(_)) => return Err(DeviceError::Quarantined(id.to_string())),
        Some(None) => {}
    }
    let chunks = store.chunks(id.as_str())?;
    match assemble(&chunks) {
        Ok(mut doc) => {
            doc.set_actor(actor.clone());
            let heads = doc.get_heads();
            if access == Access::Read {
                cache.borrow_mut().put(id, &doc);
            }
            Ok(Loaded { doc, heads })
        }
        Err(reason) => {
            store.conn().execute(
                "UPDATE docs SET quarantined = ?2 WHERE doc_id = ?1",
                params![id.as_str(), reason],
            )?;
            tracing::error!(doc = %id, %reason, "record quarantined: its stored bytes do not load");
            Err(DeviceError::Quarantined(id.to_string()))
        }
    }
}

fn assemble(chunks: &[(ChunkKind, Vec<u8>)]) -> Result<AutoCommit, String> {
    let mut doc = AutoCommit::new();
    if chunks.is_empty() {
        return Err("no chunks".into());
    }
    for (_, bytes) in chunks {
        doc.load_incremental(bytes).map_err(|e| e.to_string())?;
    }
    // Changes whose dependencies never arrived are kept by automerge but not applied.
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err("changes with missing dependencies".into());
    }
    Ok(doc)
}

/// Registers a new record and its first snapshot, signing this device's changes.
pub fn insert_new(
    tx: &Transaction<'_>,
    signer: &Signer,
    id: &DocId,
    kind: &str,
    doc: &mut AutoCommit,
    now_ms: i64,
) -> Result<(), DeviceError> {
    let signatures = signer.sign_new(id.as_str(), doc, &[]);
    signer.note_shared(tx, id.as_str(), doc, &[])?;
    let heads = doc.get_heads();
    tx.prepare_cached("INSERT INTO docs (doc_id, kind, created_at) VALUES (?1, ?2, ?3)")?
        .execute(params![id.as_str(), kind, now_ms])?;
    mark_dirty(tx, id)?;
    store::put_signed_chunk(
        tx,
        id.as_str(),
        ChunkKind::Snapshot,
        &store::snapshot_key(&heads),
        &doc.save(),
        signatures.as_deref(),
    )?;
    Ok(())
}

/// Saves what changed in `loaded.doc` since it was loaded (nothing if nothing did),
/// signing this device's new changes, and compacts the record when its incremental
/// chunks have piled up.
pub fn save_changes(
    tx: &Transaction<'_>,
    signer: &Signer,
    id: &DocId,
    loaded: &mut Loaded,
) -> Result<bool, DeviceError> {
    if loaded.doc.get_heads() == loaded.heads {
        return Ok(false);
    }
    let signatures = signer.sign_new(id.as_str(), &mut loaded.doc, &loaded.heads);
    signer.note_shared(tx, id.as_str(), &mut loaded.doc, &loaded.heads)?;
    let bytes = loaded.doc.save_after(&loaded.heads);
    let key = hex::encode(Sha256::digest(&bytes));
    store::put_signed_chunk(
        tx,
        id.as_str(),
        ChunkKind::Incremental,
        &key,
        &bytes,
        signatures.as_deref(),
    )?;
    mark_dirty(tx, id)?;
    // length() of a blob is read from its record header, not from its bytes.
    let (incremental, incremental_bytes, snapshot_bytes): (i64, i64, i64) = tx
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE kind = 'incremental'),
                    coalesce(sum(length(bytes)) FILTER (WHERE kind = 'incremental'), 0),
                    coalesce(sum(length(bytes)) FILTER (WHERE kind = 'snapshot'), 0)
             FROM chunks WHERE doc_id = ?1",
        )?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    if incremental >= COMPACT_AFTER
        || (incremental > 1 && incremental_bytes > snapshot_bytes.max(COMPACT_BYTES_MIN))
    {
        compact(tx, id, &mut loaded.doc)?;
    }
    loaded.heads = loaded.doc.get_heads();
    Ok(true)
}

/// Notes that a record has changes the sync server may not have.
fn mark_dirty(tx: &Transaction<'_>, id: &DocId) -> Result<(), DeviceError> {
    tx.prepare_cached("INSERT OR IGNORE INTO dirty (doc_id) VALUES (?1)")?
        .execute([id.as_str()])?;
    Ok(())
}

/// Replaces every chunk of a record by one snapshot of `doc` (which holds them all).
pub fn compact(tx: &Transaction<'_>, id: &DocId, doc: &mut AutoCommit) -> Result<(), DeviceError> {
    let heads = doc.get_heads();
    let key = store::snapshot_key(&heads);
    let bytes = doc.save();
    crate::attest::keep_from_chunks(tx, id.as_str())?;
    tx.prepare_cached("DELETE FROM chunks WHERE doc_id = ?1 AND key != ?2")?
        .execute(params![id.as_str(), key])?;
    store::put_chunk(tx, id.as_str(), ChunkKind::Snapshot, &key, &bytes)?;
    Ok(())
}
