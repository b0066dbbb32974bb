//! The sync log: one hash-chained entry per sync and committee, its pages for the
//! supervisors' console, each chain's state, and its verification.

use crate::db::Tx;
use crate::params;
use doorstep_core::merkle_log;
use doorstep_core::protocol::{
    DocConflicts, DocHashes, DocRefusal, LogBody, LogEntry, LogEntryAsk, LogEntryRef, LogPage,
    MAX_LOG_AUDIT, SyncRequest,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Store;
use super::enrollment::{DeviceAuth, require_supervisor};
use crate::error::Failure;

/// The hash before a committee's first log entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The most entries one page of the log holds (the API document says the same).
pub const MAX_LOG_PAGE: u32 = 500;

/// Filters of a log page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogQuery {
    pub committee: Option<String>,
    pub device: Option<String>,
    /// The volunteer's name as the device gave it.
    pub volunteer: Option<String>,
    /// Entries at or after this time (ms).
    pub from: Option<i64>,
    /// Entries before this time (ms).
    pub to: Option<i64>,
    #[serde(default)]
    pub conflicts_only: bool,
    /// Only entries older than this position (from the previous page's `next_before`).
    pub before: Option<i64>,
    pub limit: Option<u32>,
    /// The sizes of the checkpoints the reader holds, `committee:size` separated by
    /// commas: each checkpoint of the page comes with its consistency proof from those.
    pub held: Option<String>,
}

/// `committee:size,committee:size` (a committee id may hold a colon; the size is after
/// the last).
fn parse_held(text: Option<&str>) -> Result<Vec<(String, u64)>, Failure> {
    let bad = || {
        Failure::bad_request(
            "invalid_query",
            "held is committee:size pairs separated by commas",
        )
    };
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .take(1000)
        .map(|pair| {
            let (committee, size) = pair.rsplit_once(':').ok_or_else(bad)?;
            Ok((committee.to_owned(), size.parse().map_err(|_| bad())?))
        })
        .collect()
}

impl Store {
    /// A page of the sync log for a supervisor, newest first.
    pub fn log_page(&mut self, device: &DeviceAuth, q: &LogQuery) -> Result<LogPage, Failure> {
        require_supervisor(device, "only supervisors read the sync log")?;
        if let Some(c) = &q.committee
            && !device.committees.contains(c)
        {
            return Err(Failure::forbidden(
                "committee_forbidden",
                format!("committee {c} is not one of yours"),
            ));
        }
        let limit = q.limit.unwrap_or(50);
        if !(1..=MAX_LOG_PAGE).contains(&limit) {
            return Err(Failure::bad_request(
                "invalid_query",
                format!("limit is from 1 to {MAX_LOG_PAGE} entries"),
            ));
        }
        let mut tx = self.db.begin(false)?;
        let rows = tx.query(
            "SELECT id, body, prev_hash, hash FROM log
             WHERE committee_id IN (SELECT committee_id FROM device_committees WHERE device_id = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR committee_id = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR device_id = ?3)
               AND (CAST(?4 AS BIGINT) IS NULL OR time >= ?4)
               AND (CAST(?5 AS BIGINT) IS NULL OR time < ?5)
               AND (?6 = 0 OR conflicts > 0)
               AND (CAST(?7 AS BIGINT) IS NULL OR id < ?7)
               AND (CAST(?9 AS TEXT) IS NULL OR volunteer = ?9)
             ORDER BY id DESC LIMIT ?8",
            params![
                &device.device_id,
                q.committee.as_deref(),
                q.device.as_deref(),
                q.from,
                q.to,
                q.conflicts_only,
                q.before,
                i64::from(limit) + 1,
                q.volunteer
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            ],
        )?;
        let mut entries = Vec::new();
        let mut last_id = None;
        let mut more = false;
        for row in rows {
            if entries.len() == limit as usize {
                more = true;
                break;
            }
            let body: LogBody = serde_json::from_str(&row.text(1)?).map_err(Failure::storage)?;
            last_id = Some(row.int(0)?);
            entries.push(LogEntry {
                seq: body.seq,
                committee: body.committee,
                device_id: body.device_id,
                volunteer: body.volunteer,
                time: body.time,
                sync_id: body.sync_id,
                received: body.received,
                sent: body.sent,
                conflicts: body.conflicts,
                refused: body.refused,
                prev_hash: row.text(2)?,
                hash: row.text(3)?,
                proof: Vec::new(),
            });
        }
        // Each entry with its inclusion proof in its committee's checkpoint, and each
        // checkpoint with its consistency proof from the one the reader holds.
        let mut committees: Vec<String> = entries.iter().map(|e| e.committee.clone()).collect();
        committees.sort();
        committees.dedup();
        let held = parse_held(q.held.as_deref())?;
        let signer = super::merkle::LogSigner::load(tx.as_mut())?;
        let checkpoints = super::merkle::checkpoints(
            tx.as_mut(),
            &signer,
            &committees,
            &held,
            |tree, committee, size| {
                for entry in entries.iter_mut().filter(|e| e.committee == committee) {
                    entry.proof = tree
                        .inclusion(size, entry.seq.saturating_sub(1))?
                        .iter()
                        .map(hex::encode)
                        .collect();
                }
                Ok(())
            },
        )?;
        Ok(LogPage {
            entries,
            checkpoints,
            next_before: if more { last_id } else { None },
        })
    }
}

pub(super) fn entry_hash(prev_hash: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// Appends one entry per committee the sync touched to that committee's chain; returns
/// each by reference (without its inclusion proof, which needs the checkpoint).
#[allow(clippy::too_many_arguments)]
pub(super) fn append_log(
    tx: &mut dyn Tx,
    device: &DeviceAuth,
    req: &SyncRequest,
    now: i64,
    received: &[(String, DocHashes)],
    sent: &[(String, DocHashes)],
    conflicts: &[(String, DocConflicts)],
    refused: &[(String, DocRefusal)],
) -> Result<Vec<LogEntryRef>, Failure> {
    let mut written = Vec::new();
    let mut committees: Vec<&String> = received
        .iter()
        .map(|(c, _)| c)
        .chain(sent.iter().map(|(c, _)| c))
        .chain(refused.iter().map(|(c, _)| c))
        .collect();
    committees.sort();
    committees.dedup();
    for committee in committees {
        let pick = |list: &[(String, DocHashes)]| -> Vec<DocHashes> {
            list.iter()
                .filter(|(c, _)| c == committee)
                .map(|(_, h)| h.clone())
                .collect()
        };
        let conflicts: Vec<DocConflicts> = conflicts
            .iter()
            .filter(|(c, _)| c == committee)
            .map(|(_, d)| d.clone())
            .collect();
        let last = tx.query_opt(
            "SELECT seq, hash FROM log WHERE committee_id = ?1 ORDER BY seq DESC LIMIT 1",
            params![committee],
        )?;
        let (seq, prev_hash) = match last {
            Some(row) => (row.int(0)? + 1, row.text(1)?),
            None => (1, GENESIS.to_owned()),
        };
        let body = LogBody {
            committee: committee.clone(),
            seq: u64::try_from(seq).unwrap_or(0),
            device_id: device.device_id.clone(),
            volunteer: if req.volunteer.is_empty() {
                device.name.clone()
            } else {
                req.volunteer.chars().take(80).collect()
            },
            time: now,
            sync_id: req.sync_id.clone(),
            received: pick(received),
            sent: pick(sent),
            conflicts,
            refused: refused
                .iter()
                .filter(|(c, _)| c == committee)
                .map(|(_, r)| r.clone())
                .collect(),
        };
        let body_json = body.to_json();
        let hash = entry_hash(&prev_hash, &body_json);
        tx.execute(
            "INSERT INTO log (committee_id, seq, device_id, time, conflicts, body, prev_hash, hash,
                              volunteer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                committee,
                seq,
                &device.device_id,
                now,
                body.conflicts.len() as i64,
                &body_json,
                prev_hash,
                hash,
                &body.volunteer
            ],
        )?;
        let leaf = merkle_log::leaf_hash(body_json.as_bytes());
        super::merkle::Tree::new(tx, committee).append(body.seq - 1, leaf)?;
        written.push(LogEntryRef {
            committee: committee.clone(),
            seq: body.seq,
            leaf: serde_bytes::ByteBuf::from(leaf.to_vec()),
            device_id: body.device_id,
            volunteer: body.volunteer,
            time: now,
            conflicts: body.conflicts.len() as u64,
            proof: Vec::new(),
        });
    }
    Ok(written)
}

/// Each entry a device asks to be shown again (of its committees; the first
/// [`MAX_LOG_AUDIT`]), as the log holds it now: the leaf hash of the body stored and the
/// filter columns stored beside it, which the device compares with what it kept when the
/// entry was written. An entry the log does not hold comes back with an empty leaf.
pub(super) fn audit(
    tx: &mut dyn Tx,
    committees: &[String],
    asks: &[LogEntryAsk],
) -> Result<Vec<LogEntryRef>, Failure> {
    let mut out = Vec::new();
    for ask in asks
        .iter()
        .filter(|a| committees.contains(&a.committee))
        .take(MAX_LOG_AUDIT)
    {
        let row = tx.query_opt(
            "SELECT body, device_id, volunteer, time, conflicts FROM log
             WHERE committee_id = ?1 AND seq = ?2",
            params![&ask.committee, i64::try_from(ask.seq).unwrap_or(i64::MAX)],
        )?;
        out.push(match row {
            Some(row) => LogEntryRef {
                committee: ask.committee.clone(),
                seq: ask.seq,
                leaf: serde_bytes::ByteBuf::from(
                    merkle_log::leaf_hash(row.text(0)?.as_bytes()).to_vec(),
                ),
                device_id: row.text(1)?,
                volunteer: row.text(2)?,
                time: row.int(3)?,
                conflicts: u64::try_from(row.int(4)?).unwrap_or(0),
                proof: Vec::new(),
            },
            None => LogEntryRef {
                committee: ask.committee.clone(),
                seq: ask.seq,
                leaf: serde_bytes::ByteBuf::new(),
                device_id: String::new(),
                volunteer: String::new(),
                time: 0,
                conflicts: 0,
                proof: Vec::new(),
            },
        });
    }
    Ok(out)
}
