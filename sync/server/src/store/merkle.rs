//! Each committee's sync log as a Merkle tree (see `doorstep_core::merkle_log`): the
//! hashes the tree keeps (`log_tree`, by stored-hash index, so that a root or a proof
//! reads at most a few dozen of them), the checkpoints the server signs, and the proofs
//! it sends with them.

use std::cell::RefCell;

use doorstep_core::merkle_log::{self, StoredHashes, TreeError};
use doorstep_core::protocol::{HeldCheckpoint, LogCheckpoint};

use crate::db::{Tx, Val};
use crate::error::Failure;
use crate::params;

/// The stored hashes of one committee's tree, read through a transaction.
pub(super) struct Tree<'a> {
    tx: RefCell<&'a mut dyn Tx>,
    committee: &'a str,
}

impl StoredHashes for Tree<'_> {
    type Error = Failure;

    fn read(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, Failure> {
        if indexes.is_empty() {
            return Ok(Vec::new());
        }
        let mut params: Vec<Val> = vec![self.committee.into()];
        let mut marks = Vec::with_capacity(indexes.len());
        for (i, index) in indexes.iter().enumerate() {
            params.push(i64::try_from(*index).unwrap_or(i64::MAX).into());
            marks.push(format!("?{}", i + 2));
        }
        let rows = self.tx.borrow_mut().query(
            &format!(
                "SELECT idx, hash FROM log_tree WHERE committee_id = ?1 AND idx IN ({})",
                marks.join(", ")
            ),
            &params,
        )?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            found.insert(row.int(0)?, row.text(1)?);
        }
        indexes
            .iter()
            .map(|index| {
                let hex = found
                    .get(&i64::try_from(*index).unwrap_or(i64::MAX))
                    .ok_or_else(|| {
                        Failure::storage(format!(
                            "committee {}'s log tree lacks its hash {index}",
                            self.committee
                        ))
                    })?;
                parse_hash(hex).ok_or_else(|| {
                    Failure::storage(format!(
                        "committee {}'s log tree hash {index} is not a hash",
                        self.committee
                    ))
                })
            })
            .collect()
    }
}

pub(super) fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    hex::decode(hex).ok()?.try_into().ok()
}

fn tree_failure(committee: &str, e: TreeError<Failure>) -> Failure {
    match e {
        TreeError::Read(f) => f,
        TreeError::Tree(why) => {
            Failure::storage(format!("committee {committee}'s log tree: {why}"))
        }
    }
}

impl<'a> Tree<'a> {
    pub(super) fn new(tx: &'a mut dyn Tx, committee: &'a str) -> Tree<'a> {
        Tree {
            tx: RefCell::new(tx),
            committee,
        }
    }

    /// How many entries the committee's log holds.
    pub(super) fn size(&self) -> Result<u64, Failure> {
        let row = self.tx.borrow_mut().query_one(
            "SELECT coalesce(max(seq), 0) FROM log WHERE committee_id = ?1",
            params![self.committee],
        )?;
        Ok(u64::try_from(row.int(0)?).unwrap_or(0))
    }

    /// Adds entry `index` (from 0; the entry of seq `index + 1`) with its leaf hash.
    pub(super) fn append(&self, index: u64, leaf: [u8; 32]) -> Result<(), Failure> {
        let add = merkle_log::stored_hashes(index, leaf, self)
            .map_err(|e| tree_failure(self.committee, e))?;
        let mut tx = self.tx.borrow_mut();
        for (at, hash) in add {
            tx.execute(
                "INSERT INTO log_tree (committee_id, idx, hash) VALUES (?1, ?2, ?3)",
                params![
                    self.committee,
                    i64::try_from(at).unwrap_or(i64::MAX),
                    hex::encode(hash)
                ],
            )?;
        }
        Ok(())
    }

    pub(super) fn root(&self, size: u64) -> Result<[u8; 32], Failure> {
        merkle_log::tree_root(size, self).map_err(|e| tree_failure(self.committee, e))
    }

    pub(super) fn consistency(&self, old: u64, new: u64) -> Result<Vec<[u8; 32]>, Failure> {
        merkle_log::consistency_proof(old, new, self).map_err(|e| tree_failure(self.committee, e))
    }

    pub(super) fn inclusion(&self, size: u64, index: u64) -> Result<Vec<[u8; 32]>, Failure> {
        merkle_log::inclusion_proof(size, index, self).map_err(|e| tree_failure(self.committee, e))
    }
}

/// Keeps the checkpoints a syncing device holds as its witness of the logs (the newest
/// per device and committee), for `log verify` to hold the logs to, and returns the size
/// of each that the server's key signed.
pub(super) fn witness(
    tx: &mut dyn Tx,
    signer: &LogSigner,
    device_id: &str,
    committees: &[String],
    held: &[HeldCheckpoint],
    now: i64,
) -> Result<Vec<(String, u64)>, Failure> {
    let public = &signer.public;
    let mut sizes = Vec::new();
    // A device that holds no checkpoint of a committee any more (it let the log go after
    // a restore, with the PIN) no longer vouches for the one it held.
    for committee in committees
        .iter()
        .filter(|c| !held.iter().any(|h| &h.committee == *c))
    {
        tx.execute(
            "DELETE FROM log_witness WHERE committee_id = ?1 AND device_id = ?2",
            params![committee, device_id],
        )?;
    }
    for h in held.iter().filter(|h| committees.contains(&h.committee)) {
        let Ok(head) = merkle_log::open_checkpoint(&h.note, public, &h.committee) else {
            continue;
        };
        tx.execute(
            "INSERT INTO log_witness (committee_id, device_id, size, note, time)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (committee_id, device_id) DO UPDATE
             SET size = excluded.size, note = excluded.note, time = excluded.time
             WHERE excluded.size >= log_witness.size",
            params![
                &h.committee,
                device_id,
                i64::try_from(head.size).unwrap_or(i64::MAX),
                &h.note,
                now
            ],
        )?;
        sizes.push((h.committee.clone(), head.size));
    }
    Ok(sizes)
}

/// The server's key, read once for all the checkpoints of a request.
pub(super) struct LogSigner {
    key: ed25519_dalek::SigningKey,
    pub(super) public: doorstep_core::keys::PublicKey,
}

impl LogSigner {
    pub(super) fn load(tx: &mut dyn Tx) -> Result<LogSigner, Failure> {
        let key = super::key_roster::server_key(tx)?;
        let public = doorstep_core::keys::PublicKey::from_bytes(key.verifying_key().as_bytes())
            .ok_or_else(|| Failure::storage("the server's key is not a key"))?;
        Ok(LogSigner { key, public })
    }
}

/// The signed checkpoint of each of `committees`' logs as they are now, each with the
/// consistency proof from the size the reader holds (`held`, when that is smaller).
/// `proofs` is called with each committee's tree and the size signed, to prove the
/// entries sent with the checkpoints included in them.
pub(super) fn checkpoints(
    tx: &mut dyn Tx,
    signer: &LogSigner,
    committees: &[String],
    held: &[(String, u64)],
    mut proofs: impl FnMut(&Tree, &str, u64) -> Result<(), Failure>,
) -> Result<Vec<LogCheckpoint>, Failure> {
    let key = &signer.key;
    let mut out = Vec::with_capacity(committees.len());
    for committee in committees {
        let from_size = held
            .iter()
            .find(|(c, _)| c == committee)
            .map_or(0, |(_, size)| *size);
        let tree = Tree::new(tx, committee);
        let size = tree.size()?;
        let root = tree.root(size)?;
        let proof = if from_size > 0 && from_size < size {
            tree.consistency(from_size, size)?
        } else {
            Vec::new()
        };
        proofs(&tree, committee, size)?;
        out.push(LogCheckpoint {
            committee: committee.clone(),
            note: merkle_log::sign_checkpoint(key, committee, size, root),
            proof: proof.iter().map(hex::encode).collect(),
            from_size,
        });
    }
    Ok(out)
}

/// The most checkpoints of other devices one sync may ask proofs for.
const MAX_SEEN: usize = 64;

/// For each checkpoint another device held that this one was given (in a bundle), the
/// consistency proof from its size to the log as it is now (none when it is larger: the
/// device then sees that the log shrank). Checkpoints this server's key did not sign are
/// left out.
pub(super) fn seen_proofs(
    tx: &mut dyn Tx,
    signer: &LogSigner,
    committees: &[String],
    seen: &[HeldCheckpoint],
) -> Result<Vec<LogCheckpoint>, Failure> {
    let public = &signer.public;
    let mut out = Vec::new();
    for s in seen
        .iter()
        .filter(|s| committees.contains(&s.committee))
        .take(MAX_SEEN)
    {
        let Ok(head) = merkle_log::open_checkpoint(&s.note, public, &s.committee) else {
            continue;
        };
        let tree = Tree::new(tx, &s.committee);
        let size = tree.size()?;
        let proof = if head.size > 0 && head.size < size {
            tree.consistency(head.size, size)?
        } else {
            Vec::new()
        };
        out.push(LogCheckpoint {
            committee: s.committee.clone(),
            note: s.note.clone(),
            proof: proof.iter().map(hex::encode).collect(),
            from_size: head.size,
        });
    }
    Ok(out)
}

/// Builds the tree of every committee whose log has entries the tree lacks (a database
/// from before the log was a Merkle log), from the entries' bodies as stored.
pub(super) fn backfill(tx: &mut dyn Tx) -> Result<(), Failure> {
    let behind = tx.query(
        "SELECT committee_id, max(seq) FROM log GROUP BY committee_id",
        &[],
    )?;
    for row in behind {
        let committee = row.text(0)?;
        let size = u64::try_from(row.int(1)?).unwrap_or(0);
        let stored = tx
            .query_one(
                "SELECT count(*) FROM log_tree WHERE committee_id = ?1",
                params![&committee],
            )?
            .int(0)?;
        if u64::try_from(stored).ok() == Some(merkle_log::stored_hash_count(size)) {
            continue;
        }
        // Built afresh: a tree left half made has nothing worth keeping.
        tx.execute(
            "DELETE FROM log_tree WHERE committee_id = ?1",
            params![&committee],
        )?;
        let bodies = tx.query(
            "SELECT seq, body FROM log WHERE committee_id = ?1 ORDER BY seq",
            params![&committee],
        )?;
        let tree = Tree::new(tx, &committee);
        for body in bodies {
            let seq = u64::try_from(body.int(0)?).unwrap_or(0);
            tree.append(
                seq.saturating_sub(1),
                merkle_log::leaf_hash(body.text(1)?.as_bytes()),
            )?;
        }
    }
    Ok(())
}
