//! Verifying the sync log as it is stored: each committee's hash chain, every entry's
//! filter columns against its content, its Merkle tree against its entries, and every
//! checkpoint a device said it holds (its witness) against the tree.

use doorstep_core::merkle_log;
use doorstep_core::protocol::{ChainBreak, ChainState, LogBody};

use super::Store;
use super::enrollment::{DeviceAuth, require_supervisor};
use super::log::{GENESIS, entry_hash};
use crate::db::Tx;
use crate::error::Failure;
use crate::params;

/// Where a committee's log breaks: the entry (or, for a checkpoint, its size) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub committee: String,
    pub seq: u64,
    pub reason: String,
}

impl Store {
    /// Checks every committee's log (or one's). Returns the number of entries checked,
    /// or the first break found.
    pub fn log_verify(&mut self, committee: Option<&str>) -> Result<Result<u64, Broken>, Failure> {
        let mut tx = self.db.begin(false)?;
        let committees: Vec<String> = match committee {
            Some(c) => vec![c.to_owned()],
            None => tx
                .query(
                    "SELECT committee_id FROM log UNION SELECT committee_id FROM log_witness
                     ORDER BY 1",
                    &[],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<_, _>>()?,
        };
        let mut checked = 0;
        for committee in &committees {
            match verify_committee(tx.as_mut(), committee)? {
                Ok(n) => checked += n,
                Err(broken) => return Ok(Err(broken)),
            }
        }
        Ok(Ok(checked))
    }

    /// The state of each of a supervisor's committees' logs.
    pub fn chain_states(&mut self, device: &DeviceAuth) -> Result<Vec<ChainState>, Failure> {
        require_supervisor(device, "only supervisors check the sync log")?;
        let mut out = Vec::with_capacity(device.committees.len());
        for committee in &device.committees {
            let state = match self.log_verify(Some(committee))? {
                Ok(entries) => ChainState {
                    committee: committee.clone(),
                    entries,
                    broken: None,
                },
                Err(broken) => ChainState {
                    committee: committee.clone(),
                    entries: broken.seq.saturating_sub(1),
                    broken: Some(ChainBreak {
                        seq: broken.seq,
                        reason: broken.reason,
                    }),
                },
            };
            out.push(state);
        }
        Ok(out)
    }
}

fn verify_committee(tx: &mut dyn Tx, committee: &str) -> Result<Result<u64, Broken>, Failure> {
    let broken = |seq: u64, reason: String| {
        Ok(Err(Broken {
            committee: committee.to_owned(),
            seq,
            reason,
        }))
    };
    let rows = tx.query(
        "SELECT seq, body, prev_hash, hash, device_id, time, conflicts, volunteer FROM log
         WHERE committee_id = ?1 ORDER BY seq",
        params![committee],
    )?;
    let mut expected_prev = GENESIS.to_owned();
    let mut tree = merkle_log::MemoryTree::default();
    let mut size = 0u64;
    for row in rows {
        let seq = u64::try_from(row.int(0)?).unwrap_or(0);
        let body = row.text(1)?;
        let prev_hash = row.text(2)?;
        let hash = row.text(3)?;
        if seq != size + 1 {
            return broken(seq, format!("entry {} is missing", size + 1));
        }
        if prev_hash != expected_prev {
            return broken(
                seq,
                "its previous hash does not match the entry before it".into(),
            );
        }
        if entry_hash(&prev_hash, &body) != hash {
            return broken(seq, "its content does not match its hash".into());
        }
        let parsed = match serde_json::from_str::<LogBody>(&body) {
            Ok(b) if b.committee == committee && b.seq == seq => b,
            _ => {
                return broken(seq, "its content does not name its place in the log".into());
            }
        };
        if parsed.to_json() != body {
            return broken(seq, "its content is not in the log's own form".into());
        }
        if row.text(4)? != parsed.device_id
            || row.int(5)? != parsed.time
            || row.int(6)? != parsed.conflicts.len() as i64
            || row.text(7)? != parsed.volunteer
        {
            return broken(
                seq,
                "its filter columns (device, time, conflicts or volunteer) do not match its \
                 content"
                    .into(),
            );
        }
        tree.append(body.as_bytes());
        expected_prev = hash;
        size += 1;
    }
    // The stored tree is the one the entries make.
    let stored = tx.query(
        "SELECT idx, hash FROM log_tree WHERE committee_id = ?1 ORDER BY idx",
        params![committee],
    )?;
    let made = merkle_log::stored_hash_count(size);
    if stored.len() as u64 != made {
        return broken(
            size,
            format!(
                "its Merkle tree holds {} hashes where its {size} entries make {}",
                stored.len(),
                made
            ),
        );
    }
    for row in stored {
        let index = u64::try_from(row.int(0)?).unwrap_or(u64::MAX);
        let hash = super::merkle::parse_hash(&row.text(1)?);
        if hash.is_none() || tree.hash(index) != hash {
            let first = merkle_log::first_leaf(index) + 1;
            return broken(
                first,
                format!("its Merkle tree does not match its entries from entry {first}"),
            );
        }
    }
    // Every checkpoint a device holds is one of this log's.
    let public = super::merkle::LogSigner::load(tx)?.public;
    let witnesses = tx.query(
        "SELECT device_id, size, note FROM log_witness WHERE committee_id = ?1 ORDER BY device_id",
        params![committee],
    )?;
    for row in witnesses {
        let device = row.text(0)?;
        let claimed = u64::try_from(row.int(1)?).unwrap_or(0);
        let note = row.text(2)?;
        let head = match merkle_log::open_checkpoint(&note, &public, committee) {
            Ok(head) if head.size == claimed => head,
            _ => {
                return broken(
                    claimed,
                    format!(
                        "the checkpoint device {device} holds is not signed by this server's key"
                    ),
                );
            }
        };
        if head.size > size {
            return broken(
                head.size,
                format!(
                    "device {device} holds a checkpoint of {} entries but the log has {size}: \
                     newer entries were deleted",
                    head.size
                ),
            );
        }
        let root = tree
            .root(head.size)
            .ok_or_else(|| Failure::storage("the rebuilt tree lacks a hash"))?;
        if root != head.root {
            return broken(
                head.size,
                format!(
                    "the log's first {} entries are not those of the checkpoint device {device} \
                     holds: they were rewritten",
                    head.size
                ),
            );
        }
    }
    Ok(Ok(size))
}
