//! The sync log as this device holds it to account: the last checkpoint of each of its
//! committees' logs it accepted, checked against every newer one before anything of an
//! answer is taken. A checkpoint not signed by the pinned server key, a log shorter than
//! one the server signed before, or one that does not extend it (rewritten, or a fork
//! shown to this device) stops syncing with the server: the work on the tablet stays,
//! both checkpoints and the proof are kept as evidence, and the window says so.

use doorstep_core::keys::PublicKey;
use doorstep_core::merkle_log::{self, CheckpointHead, LogProofError};
use doorstep_core::protocol::{HeldCheckpoint, LogCheckpoint, LogEntry, SignedKeyRoster};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::device::Device;
use crate::error::DeviceError;
use crate::store;
use crate::sync::run::LogsSent;

/// Set when a log did not hold: syncing stays stopped until a person decides.
const META_LOG_STOPPED: &str = "log.stopped";

/// What did not hold, for the window to say in its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// The log is shorter than a checkpoint the server signed before.
    Shrank,
    /// The log does not extend a checkpoint the server signed before (rewritten, or
    /// another history shown to another device).
    Rewritten,
    /// Another device holds a checkpoint of the same size with another root.
    Fork,
    /// A checkpoint not signed by the server's pinned key, or not of the committee's log.
    Signature,
    /// An entry of a page of the log that is not the one the log holds.
    Entry,
}

impl EvidenceKind {
    fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Shrank => "shrank",
            EvidenceKind::Rewritten => "rewritten",
            EvidenceKind::Fork => "fork",
            EvidenceKind::Signature => "signature",
            EvidenceKind::Entry => "entry",
        }
    }

    fn parse(text: &str) -> EvidenceKind {
        match text {
            "shrank" => EvidenceKind::Shrank,
            "fork" => EvidenceKind::Fork,
            "signature" => EvidenceKind::Signature,
            "entry" => EvidenceKind::Entry,
            _ => EvidenceKind::Rewritten,
        }
    }

    fn of(e: &LogProofError) -> EvidenceKind {
        match e {
            LogProofError::Truncated { .. } => EvidenceKind::Shrank,
            LogProofError::Inconsistent { .. } => EvidenceKind::Rewritten,
            LogProofError::NotIncluded { .. } => EvidenceKind::Entry,
            LogProofError::Malformed | LogProofError::BadSignature | LogProofError::OtherLog(_) => {
                EvidenceKind::Signature
            }
        }
    }
}

/// Why a checkpoint did not hold.
type Failed = (EvidenceKind, String);

/// A log that did not hold, as the device kept it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LogEvidence {
    pub committee: String,
    pub kind: EvidenceKind,
    /// What did not hold, in English (for the supervisor and the operator).
    pub reason: String,
    /// The checkpoint this device held (a signed note), empty if none.
    pub held: String,
    /// The checkpoint the server offered (or, for an entry of a log page, the entry).
    pub offered: String,
    /// The proof it offered with it, hex.
    pub proof: Vec<String>,
    /// Milliseconds since the epoch.
    #[ts(type = "number")]
    pub time: i64,
}

fn unhex(proof: &[String]) -> Option<Vec<[u8; 32]>> {
    proof
        .iter()
        .map(|h| hex::decode(h).ok()?.try_into().ok())
        .collect()
}

impl Device {
    /// The checkpoints this device holds, to send with a sync.
    pub(crate) fn log_held(&self) -> Result<Vec<HeldCheckpoint>, DeviceError> {
        self.checkpoint_notes("SELECT committee, note FROM log_checkpoints ORDER BY committee")
    }

    /// Checkpoints other devices held that this one was given, to send with a sync.
    pub(crate) fn log_seen(&self) -> Result<Vec<HeldCheckpoint>, DeviceError> {
        self.checkpoint_notes("SELECT committee, note FROM log_seen ORDER BY committee")
    }

    /// The (committee, note) rows of `sql`.
    fn checkpoint_notes(&self, sql: &str) -> Result<Vec<HeldCheckpoint>, DeviceError> {
        let mut stmt = self.store.conn().prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(HeldCheckpoint {
                committee: r.get(0)?,
                note: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Takes the checkpoints another device of its committees held (from a bundle) as a
    /// witness: one of the same size as this device's but another root proves the server
    /// showed the two devices two logs, and is kept as evidence at once; any other is kept
    /// (the largest per committee) for the next sync to prove the log extends it.
    /// Returns how many proved a fork. Checkpoints not signed by the server are ignored.
    pub(crate) fn take_peer_checkpoints(
        &self,
        peers: &[HeldCheckpoint],
    ) -> Result<usize, DeviceError> {
        let Some(key) = self.log_key(None)? else {
            return Ok(0);
        };
        let mut forks = 0;
        for peer in peers.iter().take(64) {
            let Ok(theirs) = merkle_log::open_checkpoint(&peer.note, &key, &peer.committee) else {
                tracing::warn!("a bundle's checkpoint is not the server's; ignored");
                continue;
            };
            let held = self.held_checkpoint(&peer.committee)?;
            let ours = held
                .as_deref()
                .and_then(|n| merkle_log::open_checkpoint(n, &key, &peer.committee).ok());
            if let Some(ours) = ours
                && ours.size == theirs.size
            {
                if ours.root != theirs.root {
                    let offered = LogCheckpoint {
                        committee: peer.committee.clone(),
                        note: peer.note.clone(),
                        proof: Vec::new(),
                        from_size: 0,
                    };
                    self.stop(
                        &peer.committee,
                        held.as_deref(),
                        &offered,
                        EvidenceKind::Fork,
                        format!(
                            "another device holds a checkpoint of the same {} entries with \
                             another root: the server showed the two devices two logs",
                            theirs.size
                        ),
                    );
                    forks += 1;
                }
                continue;
            }
            self.store.conn().execute(
                "INSERT INTO log_seen (committee, size, note) VALUES (?1, ?2, ?3)
                 ON CONFLICT (committee) DO UPDATE SET size = excluded.size, note = excluded.note
                 WHERE excluded.size > log_seen.size",
                params![
                    &peer.committee,
                    i64::try_from(theirs.size).unwrap_or(i64::MAX),
                    &peer.note
                ],
            )?;
        }
        Ok(forks)
    }

    /// Takes the evidence another device of its committees kept (from a bundle): what
    /// proves itself (two checkpoints the server's key signed of the same size with
    /// different roots) is kept here too, and stops syncing; for any other, both
    /// checkpoints are kept for the next sync to demand the proof that the log extends
    /// them. Returns how many proved themselves.
    pub(crate) fn take_peer_evidence(
        &self,
        evidence: &[LogEvidence],
    ) -> Result<usize, DeviceError> {
        let Some(key) = self.log_key(None)? else {
            return Ok(0);
        };
        let mut proved = 0;
        for e in evidence.iter().take(64) {
            let held = merkle_log::open_checkpoint(&e.held, &key, &e.committee);
            let offered = merkle_log::open_checkpoint(&e.offered, &key, &e.committee);
            let (Ok(held), Ok(offered)) = (held, offered) else {
                // Not two of the server's checkpoints: nothing another device can check.
                continue;
            };
            let kind = if offered.size == held.size && offered.root != held.root {
                EvidenceKind::Fork
            } else {
                // Checkpoints carry no time: which came first, and whether one extends
                // the other, only the server can prove (or fail to) at the next sync.
                self.take_peer_checkpoints(&[
                    HeldCheckpoint {
                        committee: e.committee.clone(),
                        note: e.held.clone(),
                    },
                    HeldCheckpoint {
                        committee: e.committee.clone(),
                        note: e.offered.clone(),
                    },
                ])?;
                continue;
            };
            let known = self
                .log_evidence()?
                .iter()
                .any(|k| k.held == e.held && k.offered == e.offered);
            if !known {
                let offered = LogCheckpoint {
                    committee: e.committee.clone(),
                    note: e.offered.clone(),
                    proof: e.proof.clone(),
                    from_size: 0,
                };
                self.stop(
                    &e.committee,
                    Some(&e.held),
                    &offered,
                    kind,
                    format!("(kept by another device) {}", e.reason),
                );
                proved += 1;
            }
        }
        Ok(proved)
    }

    fn held_checkpoint(&self, committee: &str) -> Result<Option<String>, DeviceError> {
        Ok(self
            .store
            .conn()
            .query_row(
                "SELECT note FROM log_checkpoints WHERE committee = ?1",
                [committee],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Why syncing with the server stopped, if it did.
    pub fn log_stopped(&self) -> Result<Option<String>, DeviceError> {
        Ok(self
            .store
            .meta(META_LOG_STOPPED)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Refuses to sync while a log that did not hold is undecided.
    pub(crate) fn ensure_log_trusted(&self) -> Result<(), DeviceError> {
        match self.log_stopped()? {
            Some(reason) => Err(DeviceError::ServerLog(reason)),
            None => Ok(()),
        }
    }

    /// Every log that did not hold, newest first.
    pub fn log_evidence(&self) -> Result<Vec<LogEvidence>, DeviceError> {
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT committee, reason, held, offered, proof, time, kind FROM log_evidence
             ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            let proof: String = r.get(4)?;
            let kind: String = r.get(6)?;
            Ok(LogEvidence {
                committee: r.get(0)?,
                kind: EvidenceKind::parse(&kind),
                reason: r.get(1)?,
                held: r.get(2)?,
                offered: r.get(3)?,
                proof: serde_json::from_str(&proof).unwrap_or_default(),
                time: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A person who knows why the log did not hold (the server was restored from a
    /// backup and lost entries) lets the device sync again: the evidence stays, the
    /// checkpoints held and the entries kept are let go, and the next sync takes the
    /// server's log as it is.
    pub fn accept_server_log(&mut self) -> Result<(), DeviceError> {
        let tx = self.store.conn().unchecked_transaction()?;
        tx.execute("DELETE FROM log_checkpoints", [])?;
        tx.execute("DELETE FROM log_seen", [])?;
        tx.execute("DELETE FROM log_own", [])?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [META_LOG_STOPPED])?;
        tx.commit()?;
        tracing::warn!("the server's log was accepted as it is after it did not hold");
        Ok(())
    }

    /// The key checkpoints must be signed by: the pinned one, or (before any is pinned)
    /// the one that signed the roster arriving with them.
    pub(crate) fn log_key(
        &self,
        roster: Option<&SignedKeyRoster>,
    ) -> Result<Option<PublicKey>, DeviceError> {
        Ok(self
            .pinned_server_key()?
            .or_else(|| roster.and_then(SignedKeyRoster::server_key)))
    }

    /// Checks every checkpoint of an answer against the one the request carried of its
    /// committee (`sent`), and every checkpoint of another device it carried against the
    /// proof the answer gave of it; keeps those that hold. With `whole` (a sync's
    /// answer), a log the request held a checkpoint of must have its checkpoint in the
    /// answer, once. Anything that does not hold stops syncing: it is kept as evidence and
    /// [`DeviceError::ServerLog`] returned, before anything of the answer is taken.
    pub(crate) fn check_checkpoints(
        &self,
        sent: &LogsSent,
        checkpoints: &[LogCheckpoint],
        seen: &[LogCheckpoint],
        roster: Option<&SignedKeyRoster>,
        whole: bool,
    ) -> Result<(), DeviceError> {
        // A stop found meanwhile (a page of the log, a bundle) stops this sync too.
        self.ensure_log_trusted()?;
        let Some(key) = self.log_key(roster)? else {
            return Ok(());
        };
        for (i, c) in checkpoints.iter().enumerate() {
            if checkpoints[..i].iter().any(|o| o.committee == c.committee) {
                return Err(self.stop(
                    &c.committee,
                    None,
                    c,
                    EvidenceKind::Rewritten,
                    "the server sent two checkpoints of one log".into(),
                ));
            }
        }
        if whole {
            for h in &sent.held {
                if !checkpoints.iter().any(|c| c.committee == h.committee) {
                    let none = LogCheckpoint {
                        committee: h.committee.clone(),
                        note: String::new(),
                        proof: Vec::new(),
                        from_size: 0,
                    };
                    return Err(self.stop(
                        &h.committee,
                        Some(&h.note),
                        &none,
                        EvidenceKind::Rewritten,
                        "the server sent no checkpoint of a log this device holds one of".into(),
                    ));
                }
            }
        }
        let mut accepted = Vec::with_capacity(checkpoints.len());
        for offered in checkpoints {
            let held = sent
                .held
                .iter()
                .find(|h| h.committee == offered.committee)
                .map(|h| h.note.as_str());
            match check_one(&key, held, offered) {
                Ok(head) => accepted.push((offered, head)),
                Err((kind, reason)) => {
                    return Err(self.stop(&offered.committee, held, offered, kind, reason));
                }
            }
        }
        // Every other device's checkpoint the request passed on: the log extends it too,
        // and the server must say so.
        for s in &sent.seen {
            let Some((current, head)) = accepted.iter().find(|(c, _)| c.committee == s.committee)
            else {
                // Not a log of this device's any more: nothing to hold it to.
                self.store.conn().execute(
                    "DELETE FROM log_seen WHERE committee = ?1 AND note = ?2",
                    params![&s.committee, &s.note],
                )?;
                continue;
            };
            let reply = seen
                .iter()
                .find(|r| r.committee == s.committee && r.note == s.note);
            let verdict = merkle_log::open_checkpoint(&s.note, &key, &s.committee)
                .map_err(|e| (EvidenceKind::of(&e), e.to_string()))
                .and_then(|theirs| {
                    let reply = reply.ok_or_else(|| {
                        (
                            EvidenceKind::Rewritten,
                            "the server gave no proof for the checkpoint another device held"
                                .to_owned(),
                        )
                    })?;
                    let proof = unhex(&reply.proof).ok_or_else(malformed)?;
                    if head.size > theirs.size && reply.from_size != theirs.size {
                        return Err((
                            EvidenceKind::Rewritten,
                            "the server did not prove its log extends the checkpoint \
                             another device held"
                                .to_owned(),
                        ));
                    }
                    merkle_log::check_consistency(&theirs, head, &proof).map_err(|e| {
                        (
                            EvidenceKind::of(&e),
                            format!("against the checkpoint another device held: {e}"),
                        )
                    })
                });
            if let Err((kind, reason)) = verdict {
                return Err(self.stop(&s.committee, Some(&s.note), current, kind, reason));
            }
            self.store.conn().execute(
                "DELETE FROM log_seen WHERE committee = ?1 AND note = ?2",
                params![&s.committee, &s.note],
            )?;
        }
        for (offered, head) in accepted {
            // What this device holds now may have moved on while the request was away (a
            // page of the log read meanwhile): a newer one stays, one of the same size
            // must be the same.
            let now_held = self.held_checkpoint(&offered.committee)?;
            let now = now_held
                .as_deref()
                .and_then(|n| merkle_log::open_checkpoint(n, &key, &offered.committee).ok());
            if let Some(now) = now {
                if now.size == head.size && now.root != head.root {
                    return Err(self.stop(
                        &offered.committee,
                        now_held.as_deref(),
                        offered,
                        EvidenceKind::Fork,
                        "a page of the log and a sync showed two logs of the same size".into(),
                    ));
                }
                if now.size > head.size {
                    continue;
                }
            }
            self.store.conn().execute(
                "INSERT INTO log_checkpoints (committee, size, note, time) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (committee) DO UPDATE
                 SET size = excluded.size, note = excluded.note, time = excluded.time",
                params![
                    &offered.committee,
                    i64::try_from(head.size).unwrap_or(i64::MAX),
                    &offered.note,
                    self.now()
                ],
            )?;
        }
        Ok(())
    }

    /// Checks a page of the log a supervisor reads: its checkpoints as a sync's, and
    /// every entry's inclusion in its committee's.
    pub(crate) fn check_log_page(
        &self,
        held: &[HeldCheckpoint],
        checkpoints: &[LogCheckpoint],
        entries: &[LogEntry],
    ) -> Result<(), DeviceError> {
        let sent = LogsSent {
            held: held.to_vec(),
            seen: Vec::new(),
            audit: Vec::new(),
        };
        self.check_checkpoints(&sent, checkpoints, &[], None, false)?;
        let Some(key) = self.log_key(None)? else {
            return Ok(());
        };
        for entry in entries {
            let offered = checkpoints.iter().find(|c| c.committee == entry.committee);
            let verdict = offered
                .ok_or_else(|| "an entry came without its log's checkpoint".to_owned())
                .and_then(|cp| {
                    let head = merkle_log::open_checkpoint(&cp.note, &key, &cp.committee)
                        .map_err(|e| e.to_string())?;
                    let proof =
                        unhex(&entry.proof).ok_or_else(|| "a malformed proof".to_owned())?;
                    let leaf = merkle_log::leaf_hash(
                        doorstep_core::protocol::LogBody::of(entry)
                            .to_json()
                            .as_bytes(),
                    );
                    merkle_log::check_inclusion(&head, entry.seq.saturating_sub(1), leaf, &proof)
                        .map_err(|_| {
                            format!(
                                "its content is not the entry the log of {} entries holds",
                                head.size
                            )
                        })
                });
            if let Err(reason) = verdict {
                return Err(self.stop_for_entry(entry, reason));
            }
        }
        Ok(())
    }

    /// Stops syncing over an entry of the log that does not hold.
    pub(crate) fn stop_for_entry(&self, entry: &LogEntry, reason: String) -> DeviceError {
        self.stop_over_entry(
            &entry.committee,
            entry.seq,
            doorstep_core::protocol::LogBody::of(entry).to_json(),
            entry.proof.clone(),
            &reason,
        )
    }

    /// Stops syncing over entry `seq` of a committee's log, with `note` (the entry as
    /// given, and as kept where the device kept it) and its proof as the evidence's
    /// offered side and the checkpoint this device holds of the committee as its held one.
    pub(crate) fn stop_over_entry(
        &self,
        committee: &str,
        seq: u64,
        note: String,
        proof: Vec<String>,
        reason: &str,
    ) -> DeviceError {
        let offered = LogCheckpoint {
            committee: committee.to_owned(),
            note,
            proof,
            from_size: 0,
        };
        let reason = format!("entry {seq}: {reason}");
        match self.held_checkpoint(committee) {
            Ok(held) => self.stop(
                committee,
                held.as_deref(),
                &offered,
                EvidenceKind::Entry,
                reason,
            ),
            Err(e) => e,
        }
    }

    fn stop(
        &self,
        committee: &str,
        held: Option<&str>,
        offered: &LogCheckpoint,
        kind: EvidenceKind,
        reason: String,
    ) -> DeviceError {
        let reason = format!("committee {committee}'s sync log: {reason}");
        tracing::error!(%reason, "the server's sync log did not hold; syncing stops");
        let kept = (|| -> Result<(), DeviceError> {
            let tx = self.store.conn().unchecked_transaction()?;
            tx.execute(
                "INSERT INTO log_evidence (committee, reason, held, offered, proof, time, kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    committee,
                    &reason,
                    held.unwrap_or_default(),
                    &offered.note,
                    serde_json::to_string(&offered.proof).unwrap_or_default(),
                    self.now(),
                    kind.as_str()
                ],
            )?;
            store::put_meta(&tx, META_LOG_STOPPED, reason.as_bytes())?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = kept {
            tracing::error!(error = %e, "the evidence of a log that did not hold was not kept");
        }
        DeviceError::ServerLog(reason)
    }
}

fn malformed() -> Failed {
    (EvidenceKind::Signature, "a malformed proof".to_owned())
}

/// Checks one offered checkpoint against the held one; returns its head.
fn check_one(
    key: &PublicKey,
    held: Option<&str>,
    offered: &LogCheckpoint,
) -> Result<CheckpointHead, Failed> {
    let new = merkle_log::open_checkpoint(&offered.note, key, &offered.committee)
        .map_err(|e| (EvidenceKind::of(&e), format!("the offered checkpoint: {e}")))?;
    let Some(held) = held else {
        return Ok(new);
    };
    // A held checkpoint was checked when it was taken; its key is the same pinned one.
    let old = merkle_log::open_checkpoint(held, key, &offered.committee)
        .map_err(|e| (EvidenceKind::of(&e), format!("the held checkpoint: {e}")))?;
    let proof = unhex(&offered.proof).ok_or_else(malformed)?;
    if new.size > old.size && offered.from_size != old.size {
        return Err((
            EvidenceKind::Rewritten,
            format!(
                "the server did not prove its log of {} entries extends the {} it signed before",
                new.size, old.size
            ),
        ));
    }
    merkle_log::check_consistency(&old, &new, &proof)
        .map_err(|e| (EvidenceKind::of(&e), e.to_string()))?;
    Ok(new)
}
