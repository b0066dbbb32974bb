//! The entries this device's own syncs wrote to its committees' logs, held to account.
//! Every answer carries, by reference, the entry its sync wrote to each log (the leaf hash
//! of its body and its filter columns, with its inclusion proof in the checkpoint the
//! answer carries); the device keeps them, and every sync asks again for the newest of
//! each committee and for the one least often asked, so that in turn every one is read
//! again. An entry the log no longer holds as it was written (its body or a filter column
//! edited in the server's database, or the entry gone) stops syncing as a log that does
//! not extend a checkpoint does: the evidence is kept and the window says so.

use doorstep_core::merkle_log;
use doorstep_core::protocol::{
    LogCheckpoint, LogEntryAsk, LogEntryRef, MAX_LOG_AUDIT, SignedKeyRoster,
};
use rusqlite::{OptionalExtension, params};

use crate::device::Device;
use crate::error::DeviceError;
use crate::sync::run::LogsSent;

/// The most entries one sync asks again (the server answers up to [`MAX_LOG_AUDIT`]).
const MAX_ASKS: usize = MAX_LOG_AUDIT / 2;

/// An entry as this device kept it when its sync wrote it.
struct Kept {
    leaf: Vec<u8>,
    /// Whose token wrote it (empty for entries kept before tablets were shared).
    device_id: String,
    volunteer: String,
    time: i64,
    conflicts: u64,
}

impl Device {
    /// The entries to ask again with the next sync: per committee, the newest this device
    /// wrote and, of the others, the one least often asked.
    pub(crate) fn log_audit_asks(&self) -> Result<Vec<LogEntryAsk>, DeviceError> {
        let conn = self.store.conn();
        let mut newest = conn.prepare_cached(
            "SELECT committee, max(seq) FROM log_own GROUP BY committee ORDER BY committee",
        )?;
        let newest: Vec<(String, i64)> = newest
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut asks = Vec::new();
        for (committee, seq) in newest {
            let ask = |seq: i64| LogEntryAsk {
                committee: committee.clone(),
                seq: u64::try_from(seq).unwrap_or(0),
            };
            asks.push(ask(seq));
            let older: Option<i64> = conn
                .query_row(
                    "SELECT seq FROM log_own WHERE committee = ?1 AND seq < ?2
                     ORDER BY asked, seq LIMIT 1",
                    params![&committee, seq],
                    |r| r.get(0),
                )
                .optional()?;
            asks.extend(older.map(ask));
        }
        asks.truncate(MAX_ASKS);
        Ok(asks)
    }

    /// Checks the entries an answer says its sync wrote (each included in its committee's
    /// checkpoint, and naming this device) and keeps them; then each entry the request
    /// asked again against what was kept of it. Runs after the answer's checkpoints were
    /// accepted, before anything else of the answer is taken; anything that does not hold
    /// is kept as evidence and stops syncing.
    pub(crate) fn check_log_entries(
        &self,
        sent: &LogsSent,
        checkpoints: &[LogCheckpoint],
        written: &[LogEntryRef],
        audit: &[LogEntryRef],
        roster: Option<&SignedKeyRoster>,
        me: &str,
    ) -> Result<(), DeviceError> {
        let Some(key) = self.log_key(roster)? else {
            return Ok(());
        };
        for entry in written {
            let verdict = checkpoints
                .iter()
                .find(|c| c.committee == entry.committee)
                .ok_or_else(|| "an entry came without its log's checkpoint".to_owned())
                .and_then(|cp| {
                    let head = merkle_log::open_checkpoint(&cp.note, &key, &cp.committee)
                        .map_err(|e| e.to_string())?;
                    let leaf: [u8; 32] = entry
                        .leaf
                        .as_slice()
                        .try_into()
                        .map_err(|_| "a malformed leaf hash".to_owned())?;
                    let proof = entry
                        .proof
                        .iter()
                        .map(|h| h.as_slice().try_into().ok())
                        .collect::<Option<Vec<[u8; 32]>>>()
                        .ok_or_else(|| "a malformed proof".to_owned())?;
                    merkle_log::check_inclusion(&head, entry.seq.saturating_sub(1), leaf, &proof)
                        .map_err(|_| {
                        format!(
                            "the entry this sync wrote is not in the log of {} entries",
                            head.size
                        )
                    })?;
                    if entry.device_id != me {
                        return Err("the entry this sync wrote names another device".to_owned());
                    }
                    Ok(())
                });
            if let Err(reason) = verdict {
                return Err(self.stop_for_ref(entry, None, reason));
            }
            let kept = self.kept_entry(&entry.committee, entry.seq)?;
            if let Some(kept) = kept
                && kept.leaf != entry.leaf.as_slice()
            {
                return Err(self.stop_for_ref(
                    entry,
                    Some(&kept),
                    "the server says this sync wrote an entry where another one of this \
                     device's is"
                        .into(),
                ));
            }
            self.store.conn().execute(
                "INSERT OR IGNORE INTO log_own
                    (committee, seq, leaf, volunteer, time, conflicts, device_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    &entry.committee,
                    i64::try_from(entry.seq).unwrap_or(i64::MAX),
                    entry.leaf.as_slice(),
                    &entry.volunteer,
                    entry.time,
                    i64::try_from(entry.conflicts).unwrap_or(i64::MAX),
                    &entry.device_id
                ],
            )?;
        }
        // An entry kept before tablets were shared names this device as it was enrolled
        // then: one of its members.
        let ours = self.member_ids()?;
        for ask in &sent.audit {
            if !checkpoints.iter().any(|c| c.committee == ask.committee) {
                // Not a log of this device's any more: nothing to hold it to.
                self.store
                    .conn()
                    .execute("DELETE FROM log_own WHERE committee = ?1", [&ask.committee])?;
                continue;
            }
            let Some(kept) = self.kept_entry(&ask.committee, ask.seq)? else {
                continue;
            };
            let answer = audit
                .iter()
                .find(|a| a.committee == ask.committee && a.seq == ask.seq);
            let Some(answer) = answer else {
                let missing = LogEntryRef {
                    committee: ask.committee.clone(),
                    seq: ask.seq,
                    leaf: Default::default(),
                    device_id: String::new(),
                    volunteer: String::new(),
                    time: 0,
                    conflicts: 0,
                    proof: Vec::new(),
                };
                return Err(self.stop_for_ref(
                    &missing,
                    Some(&kept),
                    "the server did not show again an entry this device's sync wrote".into(),
                ));
            };
            let changed = if answer.leaf.is_empty() {
                Some("the log no longer holds it")
            } else if answer.leaf.as_slice() != kept.leaf {
                Some("its body is not the one written")
            } else if kept.device_id.is_empty()
                && answer.device_id != me
                && !ours.contains(&answer.device_id)
            {
                Some("its device column names another device")
            } else if !kept.device_id.is_empty() && answer.device_id != kept.device_id {
                Some("its device column names another device than the one that wrote it")
            } else if answer.volunteer != kept.volunteer {
                Some("its volunteer column was changed")
            } else if answer.time != kept.time {
                Some("its time column was changed")
            } else if answer.conflicts != kept.conflicts {
                Some("its conflicts column was changed")
            } else {
                None
            };
            if let Some(what) = changed {
                return Err(self.stop_for_ref(
                    answer,
                    Some(&kept),
                    format!("an entry this device's sync wrote: {what}"),
                ));
            }
            self.store.conn().execute(
                "UPDATE log_own SET asked = asked + 1 WHERE committee = ?1 AND seq = ?2",
                params![&ask.committee, i64::try_from(ask.seq).unwrap_or(i64::MAX)],
            )?;
        }
        Ok(())
    }

    fn kept_entry(&self, committee: &str, seq: u64) -> Result<Option<Kept>, DeviceError> {
        Ok(self
            .store
            .conn()
            .query_row(
                "SELECT leaf, volunteer, time, conflicts, device_id FROM log_own
                 WHERE committee = ?1 AND seq = ?2",
                params![committee, i64::try_from(seq).unwrap_or(i64::MAX)],
                |r| {
                    Ok(Kept {
                        leaf: r.get(0)?,
                        volunteer: r.get(1)?,
                        time: r.get(2)?,
                        conflicts: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                        device_id: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Stops syncing over an entry this device's sync wrote that does not hold: the
    /// evidence holds the entry as it was kept and as the server gives it now.
    fn stop_for_ref(
        &self,
        entry: &LogEntryRef,
        kept: Option<&Kept>,
        reason: String,
    ) -> DeviceError {
        let describe = |leaf: &[u8], volunteer: &str, time: i64, conflicts: u64| {
            serde_json::json!({
                "leaf": hex::encode(leaf),
                "volunteer": volunteer,
                "time": time,
                "conflicts": conflicts,
            })
        };
        let offered = serde_json::json!({
            "seq": entry.seq,
            "now": {
                "device_id": entry.device_id,
                "entry": describe(&entry.leaf, &entry.volunteer, entry.time, entry.conflicts),
            },
            "written": kept.map(|k| describe(&k.leaf, &k.volunteer, k.time, k.conflicts)),
        });
        self.stop_over_entry(
            &entry.committee,
            entry.seq,
            offered.to_string(),
            entry.proof.iter().map(hex::encode).collect(),
            &reason,
        )
    }
}
