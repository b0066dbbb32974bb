//! This device's side of attestations (see `doorstep_core::attest`): every change it
//! makes is signed with its key as it is saved, in the same transaction; the signatures
//! that came with others' changes are kept beside them; and whatever leaves the device
//! (a sync, a bundle) carries each change's signature.

use std::sync::Arc;

use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use doorstep_core::attest::{SIGNATURE_LEN, change_message};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::error::DeviceError;
use crate::secret::DeviceKey;

/// Who signs this device's changes: its actor and its key.
#[derive(Debug, Clone)]
pub struct Signer {
    pub(crate) actor: ActorId,
    pub(crate) key: Arc<DeviceKey>,
    /// On a tablet shared by several people, the key roster version it holds (see
    /// [`Signer::note_shared`]).
    pub(crate) shared_under: Option<String>,
}

impl Signer {
    /// This signer's signature of `message` (64 bytes).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message)
    }

    /// Signs the changes of this device's actor made after `since` (all for a new
    /// record): the attestations to keep in the row of the chunk that holds them
    /// (hash and signature, each pair after the other; `None` when there are none).
    pub(crate) fn sign_new(
        &self,
        doc_id: &str,
        doc: &mut AutoCommit,
        since: &[ChangeHash],
    ) -> Option<Vec<u8>> {
        // Metadata only: the hashes without encoding the changes again.
        let mut out = Vec::new();
        for change in doc.get_changes_meta(since) {
            if *change.actor == self.actor {
                out.extend_from_slice(&change.hash.0);
                out.extend_from_slice(&self.key.sign(&change_message(doc_id, &change.hash)));
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// On a tablet shared by several people, notes the key roster version this device
    /// held when each of this signer's changes after `since` was made: another member
    /// who syncs them sends it along, so that the server takes them even if their author
    /// was removed in between (as a change relayed from a bundle, `keep_relayed`).
    pub(crate) fn note_shared(
        &self,
        tx: &Transaction<'_>,
        doc_id: &str,
        doc: &mut AutoCommit,
        since: &[ChangeHash],
    ) -> Result<(), DeviceError> {
        let Some(roster) = &self.shared_under else {
            return Ok(());
        };
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO taken_under (doc_id, hash, roster) VALUES (?1, ?2, ?3)",
        )?;
        for change in doc.get_changes_meta(since) {
            if *change.actor == self.actor {
                insert.execute(params![doc_id, change.hash.to_string(), roster])?;
            }
        }
        Ok(())
    }
}

/// The length of one attestation kept in a chunk's row: a change hash and its signature.
const PAIR_LEN: usize = 32 + SIGNATURE_LEN;

/// Moves the attestations kept in the rows of record `doc_id`'s chunks into
/// `signatures`, before the chunks are folded into a snapshot.
pub(crate) fn keep_from_chunks(tx: &Transaction<'_>, doc_id: &str) -> Result<(), DeviceError> {
    let mut insert = tx.prepare_cached(INSERT)?;
    for (hash, signature) in in_chunks(tx, doc_id)? {
        insert.execute(params![doc_id, hash.to_string(), signature.as_slice()])?;
    }
    Ok(())
}

/// The attestations kept in the rows of record `doc_id`'s chunks. A malformed entry,
/// which this device never writes, is left out.
fn in_chunks(
    conn: &rusqlite::Connection,
    doc_id: &str,
) -> Result<Vec<(ChangeHash, [u8; SIGNATURE_LEN])>, DeviceError> {
    let mut select = conn.prepare_cached(
        "SELECT signatures FROM chunks WHERE doc_id = ?1 AND signatures IS NOT NULL",
    )?;
    let blobs = select.query_map([doc_id], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for blob in blobs {
        for pair in blob?.chunks_exact(PAIR_LEN) {
            let (hash, signature) = pair.split_at(32);
            if let (Ok(hash), Ok(signature)) = (ChangeHash::try_from(hash), signature.try_into()) {
                out.push((hash, signature));
            }
        }
    }
    Ok(out)
}

const INSERT: &str =
    "INSERT OR IGNORE INTO signatures (doc_id, hash, signature) VALUES (?1, ?2, ?3)";

/// Keeps the signatures that came with received changes of record `doc_id`
/// (`signatures[i]` for `changes[i]`; a missing or malformed one is not kept).
pub(crate) fn keep_received(
    tx: &Transaction<'_>,
    doc_id: &str,
    changes: &[Change],
    signatures: &[serde_bytes::ByteBuf],
) -> Result<(), DeviceError> {
    let mut insert = tx.prepare_cached(INSERT)?;
    for (change, signature) in changes.iter().zip(signatures) {
        if signature.len() == SIGNATURE_LEN {
            insert.execute(params![
                doc_id,
                change.hash().to_string(),
                signature.as_slice()
            ])?;
        }
    }
    Ok(())
}

/// Notes, for each of `changes` of record `doc_id` that another device made and that
/// did not come from the server (a bundle's), the key roster version this device holds
/// (`roster`; nothing when it holds none): what it tells the server when it sends them.
pub(crate) fn keep_relayed(
    tx: &Transaction<'_>,
    doc_id: &str,
    changes: &[Change],
    own: &ActorId,
    roster: &str,
    from_server: doorstep_core::key_roster::FromServer<'_>,
) -> Result<(), DeviceError> {
    if roster.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO taken_under (doc_id, hash, roster) VALUES (?1, ?2, ?3)",
    )?;
    for change in changes {
        let hash = change.hash();
        if change.actor_id() != own && !from_server(&hash) {
            insert.execute(params![doc_id, hash.to_string(), roster])?;
        }
    }
    Ok(())
}

/// The changes among `changes` of record `doc_id` this device took from a bundle, or
/// that a member of this shared tablet made, with the roster version it held then (for
/// an upload's `relayed`).
pub(crate) fn relayed_of(
    conn: &rusqlite::Connection,
    doc_id: &str,
    changes: &[Change],
) -> Result<Vec<doorstep_core::protocol::Relayed>, DeviceError> {
    let mut select =
        conn.prepare_cached("SELECT roster FROM taken_under WHERE doc_id = ?1 AND hash = ?2")?;
    let mut out = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        let roster: Option<String> = select
            .query_row(params![doc_id, change.hash().to_string()], |r| r.get(0))
            .optional()?;
        if let (Some(roster), Ok(change)) = (roster, u32::try_from(index)) {
            out.push(doorstep_core::protocol::Relayed { change, roster });
        }
    }
    Ok(out)
}

/// The stored signature of each change of record `doc_id`, in order (empty where none
/// is held).
pub(crate) fn signatures_of(
    conn: &rusqlite::Connection,
    doc_id: &str,
    changes: &[Change],
) -> Result<Vec<serde_bytes::ByteBuf>, DeviceError> {
    let mut select =
        conn.prepare_cached("SELECT signature FROM signatures WHERE doc_id = ?1 AND hash = ?2")?;
    let mut out = Vec::with_capacity(changes.len());
    let mut chunks: Option<Vec<(ChangeHash, [u8; SIGNATURE_LEN])>> = None;
    for change in changes {
        let hash = change.hash();
        let mut signature: Option<Vec<u8>> = select
            .query_row(params![doc_id, hash.to_string()], |r| r.get(0))
            .optional()?;
        if signature.is_none() {
            // Not yet moved out of the row of the chunk that holds the change.
            let chunks = match &mut chunks {
                Some(c) => c,
                None => chunks.insert(in_chunks(conn, doc_id)?),
            };
            signature = chunks
                .iter()
                .find(|(h, _)| *h == hash)
                .map(|(_, s)| s.to_vec());
        }
        out.push(serde_bytes::ByteBuf::from(signature.unwrap_or_default()));
    }
    Ok(out)
}

impl crate::Device {
    /// The key this device signs with, from the keyring (made there on first use).
    pub(crate) fn signing_key(&self) -> Result<&Arc<DeviceKey>, DeviceError> {
        if let Some(key) = self.signing_key.get() {
            return Ok(key);
        }
        let key = Arc::new(crate::secret::signing_key(&self.data_dir, &self.active)?);
        Ok(self.signing_key.get_or_init(|| key))
    }

    /// Who signs the changes this device makes.
    pub fn signer(&self) -> Result<Signer, DeviceError> {
        let shared: bool = self
            .store
            .conn()
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM members)")?
            .query_row([], |r| r.get(0))?;
        let shared_under = if shared {
            self.trusted()?.map(|t| t.roster.version.clone())
        } else {
            None
        };
        Ok(Signer {
            actor: self.actor.clone(),
            key: Arc::clone(self.signing_key()?),
            shared_under,
        })
    }

    /// The attestation of each change going out in a sync or a bundle, in order: the one
    /// stored, or, for this device's own change saved before changes were signed, one
    /// made now (and kept); empty for another's change that came without one.
    pub(crate) fn attest_outgoing(
        &self,
        doc_id: &str,
        changes: &[Change],
    ) -> Result<Vec<serde_bytes::ByteBuf>, DeviceError> {
        let mut out = signatures_of(self.store.conn(), doc_id, changes)?;
        let mut signer: Option<Signer> = None;
        for (change, signature) in changes.iter().zip(out.iter_mut()) {
            if signature.is_empty() && change.actor_id() == &self.actor {
                let signer = match &mut signer {
                    Some(s) => s,
                    None => signer.insert(self.signer()?),
                };
                let hash = change.hash();
                let made = signer.key.sign(&change_message(doc_id, &hash));
                self.store.conn().prepare_cached(INSERT)?.execute(params![
                    doc_id,
                    hash.to_string(),
                    made.as_slice()
                ])?;
                *signature = serde_bytes::ByteBuf::from(made.to_vec());
            }
        }
        Ok(out)
    }

    /// The stored attestation of each change, in order (empty where none is held), as a
    /// sync or a bundle carries them.
    pub fn attestations(
        &self,
        doc_id: &str,
        changes: &[Change],
    ) -> Result<Vec<serde_bytes::ByteBuf>, DeviceError> {
        signatures_of(self.store.conn(), doc_id, changes)
    }
}
