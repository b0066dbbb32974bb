//! One sync as a state machine with no IO. [`SyncRun::next`] says which request to send
//! next and [`SyncRun::answer`] takes what came back; each borrows the device only for
//! the moment it decides. Whoever drives the run does the sending ([`drive`] with any
//! [`Transport`]), so the device is never held while a request crawls over a village
//! link: the window goes on answering, and a record typed during a sync simply goes up
//! with the next one.
//!
//! A run has three stages: records both ways (one or more rounds, until the server has
//! nothing more), then attachments up (the server takes only an attachment that a record
//! it accepted refers to), then attachments down. A device that receives a record before
//! its attachment is on the server asks for it again at its next sync.

use std::collections::VecDeque;

use doorstep_core::ErrorCode;
use doorstep_core::protocol::{self, BlobStatus, SyncRequest, SyncResponse};

use super::request_auth::RequestSigner;
use super::transport::{RetryPolicy, Transport, exchange};
use super::{RefusedRecord, Sent, SyncPhase, SyncReport};
use crate::access::DeviceAccess;
use crate::device::Device;
use crate::error::DeviceError;

/// Attachments go up in pieces of this size, each a resumable step.
pub const BLOB_PIECE: usize = 1024 * 1024;
/// Status checks one attachment's upload may take before the sync gives up on it for now
/// (each either completes the upload or learns where to resume).
const BLOB_TURNS: u32 = 4;

/// One request a run wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub method: &'static str,
    /// The path and query, such as `/v1/sync`.
    pub path: String,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
}

/// Runs a whole sync over `transport`, lending the device only between requests. A
/// certificate the transport moved to (a rotation the server's key bound) is kept
/// however the sync ended, so that the old one is never taken again.
pub fn drive(
    access: &mut impl DeviceAccess,
    transport: &mut dyn Transport,
    retry: &RetryPolicy,
) -> Result<SyncReport, DeviceError> {
    let outcome = drive_run(access, transport, retry);
    let trust = transport.server_trust();
    if let Err(e) = access.with_device(|device| device.keep_server_trust(trust)) {
        tracing::error!(error = %e, "the server's new certificate could not be kept");
    }
    outcome
}

fn drive_run(
    access: &mut impl DeviceAccess,
    transport: &mut dyn Transport,
    retry: &RetryPolicy,
) -> Result<SyncReport, DeviceError> {
    // A log that did not hold stops every sync until a person decides.
    access.with_device(|device| device.ensure_log_trusted())?;
    // Records set aside earlier may be readable now (an updated build).
    access.with_device(|device| device.retry_set_aside())?;
    let mut run = access.with_device(|device| SyncRun::start(device))?;
    let outcome = run_requests(access, transport, retry, &mut run);
    if let Err(DeviceError::Server { code, .. }) = &outcome
        && code == "device_revoked"
    {
        // The member whose token this sync went with was removed (not whoever unlocked
        // meanwhile): they no longer unlock, and the next sync goes with another's.
        let slot = run.slot.clone();
        if let Err(e) = access.with_device(|device| device.note_member_removed(&slot)) {
            tracing::error!(error = %e, "a removed member could not be noted");
        }
    }
    outcome.map(|()| run.report)
}

fn run_requests(
    access: &mut impl DeviceAccess,
    transport: &mut dyn Transport,
    retry: &RetryPolicy,
    run: &mut SyncRun,
) -> Result<(), DeviceError> {
    while let Some(out) = access.with_device(|device| run.next(device))? {
        let outcome = exchange(
            transport,
            retry,
            out.method,
            &out.path,
            out.content_type,
            Some(&run.signer),
            out.body,
            &mut run.report,
        );
        access.with_device(|device| run.answer(device, outcome))?;
        access.between_steps();
    }
    Ok(())
}

/// Where a run is.
#[derive(Debug)]
enum Stage {
    /// Attachments not yet on the server (after the records that refer to them); the
    /// one in hand, if any.
    Upload {
        pending: VecDeque<String>,
        current: Option<BlobUpload>,
        done: u64,
        total: u64,
    },
    /// Records both ways, in batches: `sent` is what the request in flight carries,
    /// `after` the last record gathered, `gathered` whether every waiting record has
    /// been (later rounds only ask for what others wrote).
    Records {
        rounds: u32,
        sent: Option<Sent>,
        /// The checkpoints the request in flight carried (held, and given by others):
        /// the answer is checked against these, not against what the device holds by
        /// the time it comes back.
        logs: Option<LogsSent>,
        after: Option<String>,
        gathered: bool,
        batching: Batching,
    },
    /// Attachments received records refer to; the one asked for, if any.
    Download {
        wanted: VecDeque<String>,
        asked: Option<String>,
        total: u64,
    },
    Done,
}

/// How waiting records are split into requests: at most `max_docs` records and about
/// `max_bytes` bytes each, halved when the server says a request was too large.
#[derive(Debug)]
struct Batching {
    max_docs: usize,
    max_bytes: usize,
    /// Where the batch in flight started (to gather it again, smaller).
    start: Option<String>,
    /// Records and changes the request in flight carries.
    carrying: (usize, usize),
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            max_docs: super::DOCS_PER_REQUEST,
            max_bytes: super::BYTES_PER_REQUEST,
            start: None,
            carrying: (0, 0),
        }
    }
}

/// One attachment on its way up.
#[derive(Debug)]
struct BlobUpload {
    sha: String,
    size: u64,
    /// Bytes of earlier attachments uploaded in this run, for the progress bar.
    before: u64,
    turns: u32,
    /// `None`: the next request asks the server how much it has; `Some(offset)`: the
    /// next request sends the piece from there.
    offset: Option<u64>,
}

/// One sync in progress.
#[derive(Debug)]
pub struct SyncRun {
    signer: RequestSigner,
    /// The server's id of the member whose token syncs, which the log entries its sync
    /// writes name, and their name.
    device_id: String,
    volunteer: String,
    /// That member's slot (see members.rs).
    slot: String,
    stage: Stage,
    report: SyncReport,
}

impl SyncRun {
    /// Starts a sync: the device must be enrolled.
    pub fn start(device: &Device) -> Result<SyncRun, DeviceError> {
        device.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        // The active member's token, or another member's once the server removed them.
        let slot = device.sync_slot()?;
        let who = device.identity_of(&slot)?;
        Ok(SyncRun {
            slot,
            signer: RequestSigner::new(who.token, who.key),
            device_id: who.id,
            volunteer: who.name,
            stage: Stage::Records {
                rounds: 0,
                sent: None,
                logs: None,
                after: None,
                gathered: false,
                batching: Batching::default(),
            },
            report: SyncReport::default(),
        })
    }

    /// The attachments not yet on the server, once the records that refer to them are:
    /// the server takes only attachments its accepted records refer to.
    fn upload_stage(device: &Device) -> Result<Stage, DeviceError> {
        let pending =
            device.blob_names("SELECT sha256 FROM blobs WHERE uploaded = 0 ORDER BY sha256")?;
        let total: i64 = device.store.conn().query_row(
            "SELECT coalesce(sum(length(bytes)), 0) FROM blobs WHERE uploaded = 0",
            [],
            |r| r.get(0),
        )?;
        let total = u64::try_from(total).unwrap_or(0);
        if !pending.is_empty() {
            device.progress.tell(SyncPhase::Upload, 0, total);
        }
        Ok(Stage::Upload {
            pending: pending.into(),
            current: None,
            done: 0,
            total,
        })
    }

    /// The attachments received records refer to and this device lacks.
    fn download_stage(device: &Device) -> Result<Stage, DeviceError> {
        let wanted = device.blob_names("SELECT sha256 FROM blob_wanted ORDER BY sha256")?;
        Ok(Stage::Download {
            total: wanted.len() as u64,
            wanted: wanted.into(),
            asked: None,
        })
    }

    /// What this run has done so far.
    pub fn report(&self) -> &SyncReport {
        &self.report
    }

    /// What signs every request the run sends.
    pub fn signer(&self) -> &RequestSigner {
        &self.signer
    }

    /// The next request to send, or `None` when the sync is complete.
    pub fn next(&mut self, device: &mut Device) -> Result<Option<Outgoing>, DeviceError> {
        loop {
            match &mut self.stage {
                Stage::Upload {
                    pending,
                    current,
                    done,
                    ..
                } => {
                    if current.is_none() {
                        let Some(sha) = pending.pop_front() else {
                            self.stage = Self::download_stage(device)?;
                            continue;
                        };
                        let size = device.blob_size(&sha)?;
                        *current = Some(BlobUpload {
                            sha,
                            size,
                            before: *done,
                            turns: 0,
                            offset: None,
                        });
                    }
                    let Some(blob) = current.as_mut() else {
                        continue;
                    };
                    return Ok(Some(match blob.offset {
                        None => {
                            blob.turns += 1;
                            if blob.turns > BLOB_TURNS {
                                return Err(DeviceError::Network(
                                    "the attachment upload did not complete; the next sync resumes it"
                                        .into(),
                                ));
                            }
                            Outgoing {
                                method: "GET",
                                path: format!("/v1/blobs/{}/status", blob.sha),
                                content_type: None,
                                body: Vec::new(),
                            }
                        }
                        Some(offset) => Outgoing {
                            method: "PUT",
                            path: format!(
                                "/v1/blobs/{}?offset={offset}&size={}",
                                blob.sha, blob.size
                            ),
                            content_type: Some("application/octet-stream"),
                            body: device.blob_piece(&blob.sha, offset, BLOB_PIECE)?,
                        },
                    }));
                }
                Stage::Records {
                    sent,
                    logs,
                    after,
                    gathered,
                    batching,
                    ..
                } => {
                    let (docs, carried) = if *gathered {
                        batching.carrying = (0, 0);
                        (Vec::new(), Sent::default())
                    } else {
                        batching.start = after.clone();
                        let batch = device.collect_dirty(
                            after.as_deref(),
                            batching.max_docs,
                            batching.max_bytes,
                        )?;
                        *after = batch.last;
                        *gathered = !batch.full;
                        batching.carrying = (
                            batch.uploads.len(),
                            batch.uploads.iter().map(|d| d.changes.len()).sum::<usize>(),
                        );
                        for id in batch.refused_here {
                            self.report.refused.push(RefusedRecord {
                                doc_id: id,
                                code: ErrorCode::DocumentTooLarge,
                            });
                        }
                        (batch.uploads, batch.sent)
                    };
                    *sent = Some(carried);
                    let carried_logs = LogsSent {
                        held: device.log_held()?,
                        seen: device.log_seen()?,
                        audit: device.log_audit_asks()?,
                    };
                    let request = SyncRequest {
                        key_roster: device.key_roster_version()?,
                        sync_id: uuid::Uuid::new_v4().to_string(),
                        cursor: device.cursor()?,
                        volunteer: self.volunteer.clone(),
                        docs,
                        log_held: carried_logs.held.clone(),
                        log_seen: carried_logs.seen.clone(),
                        log_audit: carried_logs.audit.clone(),
                    };
                    *logs = Some(carried_logs);
                    return Ok(Some(Outgoing {
                        method: "POST",
                        path: "/v1/sync".into(),
                        content_type: Some(protocol::CBOR),
                        body: protocol::to_cbor(&request),
                    }));
                }
                Stage::Download {
                    wanted,
                    asked,
                    total,
                } => {
                    let Some(sha) = wanted.pop_front() else {
                        self.stage = Stage::Done;
                        continue;
                    };
                    let n = *total - wanted.len() as u64 - 1;
                    device.progress.tell(SyncPhase::Download, n, *total);
                    let path = format!("/v1/blobs/{sha}");
                    *asked = Some(sha);
                    return Ok(Some(Outgoing {
                        method: "GET",
                        path,
                        content_type: None,
                        body: Vec::new(),
                    }));
                }
                Stage::Done => return Ok(None),
            }
        }
    }

    /// Takes the outcome of the request [`SyncRun::next`] gave: a 2xx body, or the
    /// refusal or network failure it came to. An error ends the run.
    pub fn answer(
        &mut self,
        device: &mut Device,
        outcome: Result<Vec<u8>, DeviceError>,
    ) -> Result<(), DeviceError> {
        match &mut self.stage {
            Stage::Upload {
                pending: _,
                current,
                done,
                total,
            } => {
                let Some(blob) = current.as_mut() else {
                    return Ok(());
                };
                let body = match outcome {
                    Ok(body) => body,
                    // Another attempt already stored this piece (an answer was lost):
                    // ask again where to resume.
                    Err(DeviceError::Server { code, .. })
                        if code == "offset_mismatch" && blob.offset.is_some() =>
                    {
                        blob.offset = None;
                        return Ok(());
                    }
                    // Refused: it stays here, waiting, and is tried again next time.
                    Err(DeviceError::Server { code, .. }) => {
                        self.report.blob_refusals.push(code);
                        *current = None;
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                let status: BlobStatus = serde_json::from_slice(&body)
                    .map_err(|e| DeviceError::Network(format!("unexpected blob status: {e}")))?;
                if status.complete {
                    device.mark_blob_uploaded(&blob.sha)?;
                    *done = blob.before + blob.size;
                    device.progress.tell(SyncPhase::Upload, *done, *total);
                    self.report.blobs_sent += 1;
                    *current = None;
                    return Ok(());
                }
                let offset = status.received.min(blob.size);
                if blob.offset.is_some() {
                    *done = blob.before + offset;
                    device.progress.tell(SyncPhase::Upload, *done, *total);
                }
                if offset >= blob.size {
                    return Err(DeviceError::Network(
                        "the attachment upload did not complete; the next sync resumes it".into(),
                    ));
                }
                blob.offset = Some(offset);
                Ok(())
            }
            Stage::Records {
                rounds,
                sent,
                logs,
                after,
                gathered,
                batching,
            } => {
                let body = match outcome {
                    Ok(body) => body,
                    // The server takes less at once than this device sent: the same
                    // records again, in smaller requests; a single record too large
                    // for any request waits here with why.
                    Err(DeviceError::Server {
                        status: 413,
                        code,
                        message,
                    }) if batching.carrying.0 > 0
                        && (code == "too_many_documents" || code == "request_too_large") =>
                    {
                        let carried = sent.take().unwrap_or_default();
                        if batching.max_docs > 1 && batching.carrying.0 > 1 {
                            batching.max_docs = (batching.carrying.0 / 2).max(1);
                            batching.max_bytes = (batching.max_bytes / 2).max(1);
                            *after = batching.start.clone();
                            *gathered = false;
                        } else {
                            for id in device.refuse_here(&carried, &code, &message)? {
                                self.report.refused.push(RefusedRecord {
                                    doc_id: id,
                                    code: ErrorCode::DocumentTooLarge,
                                });
                            }
                        }
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                self.report.sent_docs += batching.carrying.0;
                self.report.sent_changes += batching.carrying.1;
                let response: SyncResponse = protocol::from_cbor(&body)
                    .map_err(|e| DeviceError::Network(format!("unexpected sync answer: {e}")))?;
                self.report.accepted_changes += response.accepted;
                let carried = sent.take().unwrap_or_default();
                let fetch_more = response.more;
                // Nothing of an answer is taken before its logs hold.
                let carried_logs = logs.take().unwrap_or_default();
                device.check_checkpoints(
                    &carried_logs,
                    &response.checkpoints,
                    &response.seen,
                    response.key_roster.as_ref(),
                    true,
                )?;
                device.check_log_entries(
                    &carried_logs,
                    &response.checkpoints,
                    &response.written,
                    &response.audit,
                    response.key_roster.as_ref(),
                    &self.device_id,
                )?;
                if device.apply_answer(&carried, response, &mut self.report)? {
                    // The server's database was restored: everything again, from the
                    // first record and the first change.
                    *after = None;
                    *gathered = false;
                }
                // More to fetch, or more of ours to send.
                let more = fetch_more || !*gathered;
                *rounds += 1;
                device
                    .progress
                    .tell(SyncPhase::Records, u64::from(self.report.round_trips), 0);
                if !more {
                    self.stage = Self::upload_stage(device)?;
                }
                Ok(())
            }
            Stage::Download { asked, .. } => {
                let Some(sha) = asked.take() else {
                    return Ok(());
                };
                let bytes = match outcome {
                    Ok(bytes) => bytes,
                    // Not on the server yet (its uploader has not synced): later.
                    Err(DeviceError::Server { code, .. }) => {
                        self.report.blob_refusals.push(code);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                if device.receive_blob(&sha, &bytes)? {
                    self.report.blobs_received += 1;
                } else {
                    self.report.blob_refusals.push("blob_hash_mismatch".into());
                }
                Ok(())
            }
            Stage::Done => Ok(()),
        }
    }

    /// The report of a finished run.
    pub fn finish(self) -> SyncReport {
        self.report
    }
}

/// The checkpoints a sync request carried.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogsSent {
    pub(crate) held: Vec<protocol::HeldCheckpoint>,
    pub(crate) seen: Vec<protocol::HeldCheckpoint>,
    /// The entries of this device's it asked to be shown again.
    pub(crate) audit: Vec<protocol::LogEntryAsk>,
}
