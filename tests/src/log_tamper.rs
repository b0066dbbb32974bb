//! The server's sync log tampered with as an intruder holding its database would: an
//! entry rewritten with everything beside it recomputed (the hash chain, the filter
//! columns, the Merkle tree), or the newest entries deleted with their tree hashes, so
//! that the database agrees with itself and only checkpoints held elsewhere reveal it.

use anyhow::Context;
use doorstep_core::merkle_log::{self, MemoryTree};
use doorstep_core::protocol::LogBody;
use doorstep_server::db::Val;
use sha2::{Digest, Sha256};

use crate::fleet::ServerDb;

/// The chain's hash of an entry (as the server computes it).
fn entry_hash(prev: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

impl ServerDb {
    /// The bodies of `committee`'s log entries, in order.
    pub fn log_bodies(&mut self, committee: &str) -> anyhow::Result<Vec<LogBody>> {
        let rows = self.0.query(
            "SELECT body FROM log WHERE committee_id = ?1 ORDER BY seq",
            &[Val::from(committee)],
        )?;
        rows.iter()
            .map(|r| Ok(serde_json::from_str(&r.text(0)?)?))
            .collect()
    }

    /// Rewrites `committee`'s log entries with `edit` and recomputes everything kept
    /// beside them: each entry's chain hashes and filter columns, and the whole tree.
    pub fn rewrite_log(
        &mut self,
        committee: &str,
        mut edit: impl FnMut(&mut LogBody),
    ) -> anyhow::Result<()> {
        let bodies = self.log_bodies(committee)?;
        anyhow::ensure!(!bodies.is_empty(), "committee {committee} has no log");
        let mut prev = "0".repeat(64);
        let mut tree = MemoryTree::default();
        for mut body in bodies {
            edit(&mut body);
            let json = body.to_json();
            let hash = entry_hash(&prev, &json);
            self.0.execute(
                "UPDATE log SET body = ?3, prev_hash = ?4, hash = ?5, device_id = ?6,
                        volunteer = ?7, time = ?8, conflicts = ?9
                 WHERE committee_id = ?1 AND seq = ?2",
                &[
                    Val::from(committee),
                    Val::from(i64::try_from(body.seq)?),
                    Val::from(json.as_str()),
                    Val::from(prev.as_str()),
                    Val::from(hash.as_str()),
                    Val::from(body.device_id.as_str()),
                    Val::from(body.volunteer.as_str()),
                    Val::from(body.time),
                    Val::from(i64::try_from(body.conflicts.len())?),
                ],
            )?;
            tree.append(json.as_bytes());
            prev = hash;
        }
        self.0.execute(
            "DELETE FROM log_tree WHERE committee_id = ?1",
            &[Val::from(committee)],
        )?;
        for (index, hash) in tree.stored() {
            self.0.execute(
                "INSERT INTO log_tree (committee_id, idx, hash) VALUES (?1, ?2, ?3)",
                &[
                    Val::from(committee),
                    Val::from(i64::try_from(index)?),
                    Val::from(hex::encode(hash)),
                ],
            )?;
        }
        Ok(())
    }

    /// Deletes `committee`'s log entries beyond the first `keep`, with their tree hashes:
    /// the log then agrees with itself as it was at `keep` entries.
    pub fn truncate_log(&mut self, committee: &str, keep: u64) -> anyhow::Result<()> {
        let keep = i64::try_from(keep)?;
        let deleted = self.0.execute(
            "DELETE FROM log WHERE committee_id = ?1 AND seq > ?2",
            &[Val::from(committee), Val::from(keep)],
        )?;
        anyhow::ensure!(
            deleted > 0,
            "committee {committee}'s log has no entry beyond {keep}"
        );
        let kept = i64::try_from(merkle_log::stored_hash_count(u64::try_from(keep)?))?;
        self.0.execute(
            "DELETE FROM log_tree WHERE committee_id = ?1 AND idx >= ?2",
            &[Val::from(committee), Val::from(kept)],
        )?;
        Ok(())
    }

    /// How many entries `committee`'s log holds.
    pub fn log_size(&mut self, committee: &str) -> anyhow::Result<u64> {
        let rows = self.0.query(
            "SELECT count(*) FROM log WHERE committee_id = ?1",
            &[Val::from(committee)],
        )?;
        Ok(u64::try_from(rows.first().context("a count")?.int(0)?)?)
    }
}
