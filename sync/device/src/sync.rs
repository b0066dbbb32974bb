//! The device's side of sync: enrollment with a one-time code, and [`Device::sync_now`].
//!
//! The device remembers, per document, the heads the server has acknowledged
//! (`synced`) and which documents changed since (`dirty`). A sync sends every dirty
//! document's changes after its acknowledged heads, with the last cursor the device
//! stored; the answer's changes, the new cursor and the new acknowledged heads are saved
//! in one transaction. Nothing is marked synced before the server's answer arrives, and
//! every request can be resent (same `sync_id`) without effect, so a lost answer or an
//! interrupted sync is simply retried.

use automerge::{AutoCommit, Change, ChangeHash};
use doorstep_core::DocId;
use doorstep_core::protocol::{
    self, BlobStatus, Committee, DocUpload, EnrollRequest, EnrollResponse, Role, SyncRequest,
    SyncResponse,
};
use doorstep_core::value::{self, Fields};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::device::{Device, project};
use crate::docs::{self, Access, Loaded};
use crate::error::DeviceError;
use crate::secret;
use crate::store;

mod transport;

pub(crate) use transport::exchange;
pub use transport::{HttpAnswer, HttpTransport, NetworkError, RetryPolicy, Transport};

const META_CURSOR: &str = "sync.cursor";
const META_ENROLLMENT: &str = "sync.enrollment";
const META_LAST_SYNC: &str = "sync.last_at";
/// Attachments go up in pieces of this size, each a resumable step.
const BLOB_PIECE: usize = 1024 * 1024;

/// What a device knows of its enrollment (the token itself is in the keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub server_url: String,
    pub device_id: String,
    pub role: Role,
    pub name: String,
    pub committees: Vec<Committee>,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Documents and changes sent up.
    pub sent_docs: usize,
    pub sent_changes: usize,
    /// Of those, changes the server had not seen before.
    pub accepted_changes: u64,
    /// Documents and changes received from other devices.
    pub received_docs: usize,
    pub received_changes: usize,
    /// Fields that became conflicted on this device through what was received.
    pub new_conflicts: Vec<NewConflict>,
    pub round_trips: u32,
    /// Request and response body bytes.
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Attempts beyond the first, after network failures.
    pub retries: u32,
    /// Attachments uploaded (or found already on the server) and downloaded.
    pub blobs_sent: usize,
    pub blobs_received: usize,
    /// Codes of attachments the server refused (they stay here and are tried again).
    pub blob_refusals: Vec<String>,
}

/// How far a sync has got, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncProgress {
    /// `upload` (attachments up, `done`/`total` in bytes), `records` (records both ways,
    /// `done` round trips, `total` 0: not known ahead), or `download` (attachments down,
    /// `done`/`total` in attachments).
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// A function told each step of a sync's progress.
pub type ProgressFn = Box<dyn Fn(&SyncProgress) + Send>;

/// Whoever wants to hear a sync's progress.
#[derive(Default)]
pub struct ProgressListener(Option<ProgressFn>);

impl std::fmt::Debug for ProgressListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ProgressListener(set)"
        } else {
            "ProgressListener(none)"
        })
    }
}

impl ProgressListener {
    fn tell(&self, phase: &'static str, done: u64, total: u64) {
        if let Some(listener) = &self.0 {
            listener(&SyncProgress { phase, done, total });
        }
    }
}

/// Fields of one record that became conflicted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewConflict {
    pub doc_id: DocId,
    pub kind: String,
    pub fields: Vec<String>,
}

/// How a device is synced right now, for the status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub enrolled: bool,
    /// Records changed on this device that the server has not acknowledged.
    pub pending_docs: u64,
    /// When the last sync finished (ms since the epoch).
    pub last_sync_at: Option<i64>,
}

fn heads_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn heads_from(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}

impl Device {
    /// Trades a one-time enrollment code for this device's identity on `server_url`;
    /// the token goes to the keyring. Enrolling again replaces the old enrollment.
    pub fn enroll(
        &mut self,
        server_url: &str,
        code: &str,
        device_label: &str,
    ) -> Result<Enrollment, DeviceError> {
        let mut transport = HttpTransport::new(server_url)?;
        self.enroll_with(&mut transport, server_url, code, device_label)
    }

    /// [`Device::enroll`] over a given transport.
    pub fn enroll_with(
        &mut self,
        transport: &mut dyn Transport,
        server_url: &str,
        code: &str,
        device_label: &str,
    ) -> Result<Enrollment, DeviceError> {
        if code.trim().is_empty() {
            return Err(DeviceError::Server {
                status: 400,
                code: "enrollment_unknown".into(),
                message: "enter the enrollment code".into(),
            });
        }
        let request = EnrollRequest {
            code: code.trim().to_owned(),
            device_label: device_label.to_owned(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| DeviceError::Network(e.to_string()))?;
        let mut report = SyncReport::default();
        let answer = exchange(
            transport,
            &RetryPolicy::default(),
            "POST",
            "/v1/enroll",
            Some("application/json"),
            None,
            body,
            &mut report,
        )?;
        let response: EnrollResponse = serde_json::from_slice(&answer)
            .map_err(|e| DeviceError::Network(format!("unexpected enrollment answer: {e}")))?;
        secret::store_token(&self.data_dir, &response.token)?;
        let enrollment = Enrollment {
            server_url: server_url.trim().trim_end_matches('/').to_owned(),
            device_id: response.device_id,
            role: response.role,
            name: response.name,
            committees: response.committees,
        };
        let json =
            serde_json::to_vec(&enrollment).map_err(|e| DeviceError::Network(e.to_string()))?;
        let tx = self.store.transaction()?;
        store::put_meta(&tx, META_ENROLLMENT, &json)?;
        // The person the code was made for signs every change from now on.
        let name = enrollment.name.trim();
        if !name.is_empty() {
            store::put_meta(&tx, crate::device::VOLUNTEER_KEY, name.as_bytes())?;
        }
        // A new identity starts from the beginning of its scope.
        store::put_meta(&tx, META_CURSOR, &0u64.to_be_bytes())?;
        tx.execute("DELETE FROM synced", [])?;
        tx.execute(
            "INSERT OR IGNORE INTO dirty (doc_id) SELECT doc_id FROM docs",
            [],
        )?;
        tx.commit()?;
        if !name.is_empty() {
            self.volunteer = name.to_owned();
        }
        Ok(enrollment)
    }

    /// This device's enrollment, if it has one.
    pub fn enrollment(&self) -> Result<Option<Enrollment>, DeviceError> {
        match self.store.meta(META_ENROLLMENT)? {
            Some(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
            None => Ok(None),
        }
    }

    /// Whether the device is enrolled, what waits to be sent, and when it last synced.
    pub fn sync_status(&self) -> Result<SyncStatus, DeviceError> {
        let pending: i64 = self.store.conn().query_row(
            "SELECT count(*) FROM dirty JOIN docs USING (doc_id) WHERE quarantined IS NULL",
            [],
            |r| r.get(0),
        )?;
        let last = self
            .store
            .meta(META_LAST_SYNC)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(i64::from_be_bytes);
        Ok(SyncStatus {
            enrolled: self.enrollment()?.is_some(),
            pending_docs: u64::try_from(pending).unwrap_or(0),
            last_sync_at: last,
        })
    }

    /// Calls `listener` as syncs progress (attachments up, records, attachments down).
    pub fn on_sync_progress(&mut self, listener: impl Fn(&SyncProgress) + Send + 'static) {
        self.progress = ProgressListener(Some(Box::new(listener)));
    }

    /// Syncs with the enrolled server now, retrying network failures with backoff.
    pub fn sync_now(&mut self) -> Result<SyncReport, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        let mut transport = HttpTransport::new(&enrollment.server_url)?;
        self.sync_with(&mut transport, &RetryPolicy::default())
    }

    /// [`Device::sync_now`] over a given transport and retry policy.
    pub fn sync_with(
        &mut self,
        transport: &mut dyn Transport,
        retry: &RetryPolicy,
    ) -> Result<SyncReport, DeviceError> {
        if self.enrollment()?.is_none() {
            return Err(DeviceError::NotEnrolled);
        }
        let token = secret::load_token(&self.data_dir)?.ok_or(DeviceError::NotEnrolled)?;
        let mut report = SyncReport::default();
        // Attachments first, so that whoever receives a record can fetch what it shows.
        self.upload_blobs(transport, retry, token.as_str(), &mut report)?;
        let mut docs = self.collect_dirty()?;
        report.sent_docs = docs.len();
        report.sent_changes = docs.iter().map(|d| d.changes.len()).sum();
        loop {
            let request = SyncRequest {
                sync_id: uuid::Uuid::new_v4().to_string(),
                cursor: self.cursor()?,
                volunteer: self.volunteer.clone(),
                docs: std::mem::take(&mut docs),
            };
            let sent: Vec<String> = request.docs.iter().map(|d| d.doc_id.clone()).collect();
            let body = exchange(
                transport,
                retry,
                "POST",
                "/v1/sync",
                Some(protocol::CBOR),
                Some(token.as_str()),
                protocol::to_cbor(&request),
                &mut report,
            )?;
            let response: SyncResponse = protocol::from_cbor(&body)
                .map_err(|e| DeviceError::Network(format!("unexpected sync answer: {e}")))?;
            report.accepted_changes += response.accepted;
            let more = response.more;
            self.apply_answer(&sent, response, &mut report)?;
            self.progress
                .tell("records", u64::from(report.round_trips), 0);
            if !more {
                break;
            }
        }
        self.download_blobs(transport, retry, token.as_str(), &mut report)?;
        Ok(report)
    }

    /// The blob names a one-column query lists.
    fn blob_names(&self, sql: &str) -> Result<Vec<String>, DeviceError> {
        let mut stmt = self.store.conn().prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sends every attachment the server does not hold yet, resuming partial uploads.
    fn upload_blobs(
        &mut self,
        transport: &mut dyn Transport,
        retry: &RetryPolicy,
        token: &str,
        report: &mut SyncReport,
    ) -> Result<(), DeviceError> {
        let pending =
            self.blob_names("SELECT sha256 FROM blobs WHERE uploaded = 0 ORDER BY sha256")?;
        if pending.is_empty() {
            return Ok(());
        }
        let total: i64 = self.store.conn().query_row(
            "SELECT coalesce(sum(length(bytes)), 0) FROM blobs WHERE uploaded = 0",
            [],
            |r| r.get(0),
        )?;
        let total = u64::try_from(total).unwrap_or(0);
        let mut done = 0u64;
        self.progress.tell("upload", 0, total);
        for sha in pending {
            let outcome = self.upload_blob(transport, retry, token, &sha, &mut done, total, report);
            match outcome {
                Ok(()) => {
                    self.store
                        .conn()
                        .execute("UPDATE blobs SET uploaded = 1 WHERE sha256 = ?1", [&sha])?;
                    report.blobs_sent += 1;
                }
                Err(DeviceError::Server { code, .. }) => report.blob_refusals.push(code),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one step of upload_blobs, sharing its tally"
    )]
    fn upload_blob(
        &mut self,
        transport: &mut dyn Transport,
        retry: &RetryPolicy,
        token: &str,
        sha: &str,
        done: &mut u64,
        total: u64,
        report: &mut SyncReport,
    ) -> Result<(), DeviceError> {
        let bytes = self.blob(sha)?;
        let size = bytes.len() as u64;
        let before = *done;
        // A few turns at most: each either completes the upload or learns where to resume.
        for _ in 0..4 {
            let body = exchange(
                transport,
                retry,
                "GET",
                &format!("/v1/blobs/{sha}/status"),
                None,
                Some(token),
                Vec::new(),
                report,
            )?;
            let status: BlobStatus = serde_json::from_slice(&body)
                .map_err(|e| DeviceError::Network(format!("unexpected blob status: {e}")))?;
            if status.complete {
                *done = before + size;
                self.progress.tell("upload", *done, total);
                return Ok(());
            }
            let mut offset = status.received.min(size);
            let mut restart = false;
            while offset < size {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                let end = (start + BLOB_PIECE).min(bytes.len());
                match exchange(
                    transport,
                    retry,
                    "PUT",
                    &format!("/v1/blobs/{sha}?offset={offset}&size={size}"),
                    Some("application/octet-stream"),
                    Some(token),
                    bytes[start..end].to_vec(),
                    report,
                ) {
                    Ok(body) => {
                        let status: BlobStatus = serde_json::from_slice(&body).map_err(|e| {
                            DeviceError::Network(format!("unexpected blob status: {e}"))
                        })?;
                        if status.complete {
                            *done = before + size;
                            self.progress.tell("upload", *done, total);
                            return Ok(());
                        }
                        offset = status.received;
                        *done = before + offset.min(size);
                        self.progress.tell("upload", *done, total);
                    }
                    // Another attempt already stored this piece (an answer was lost).
                    Err(DeviceError::Server { code, .. }) if code == "offset_mismatch" => {
                        restart = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if !restart {
                break;
            }
        }
        Err(DeviceError::Network(
            "the attachment upload did not complete; the next sync resumes it".into(),
        ))
    }

    /// Fetches the attachments that received records refer to and this device lacks.
    /// One the server does not have yet (its uploader has not synced) waits for later.
    fn download_blobs(
        &mut self,
        transport: &mut dyn Transport,
        retry: &RetryPolicy,
        token: &str,
        report: &mut SyncReport,
    ) -> Result<(), DeviceError> {
        let wanted = self.blob_names("SELECT sha256 FROM blob_wanted ORDER BY sha256")?;
        let total = wanted.len() as u64;
        for (n, sha) in wanted.into_iter().enumerate() {
            self.progress.tell("download", n as u64, total);
            let bytes = match exchange(
                transport,
                retry,
                "GET",
                &format!("/v1/blobs/{sha}"),
                None,
                Some(token),
                Vec::new(),
                report,
            ) {
                Ok(bytes) => bytes,
                Err(DeviceError::Server { code, .. }) => {
                    report.blob_refusals.push(code);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if crate::applications::sha256_hex(&bytes) != sha {
                report.blob_refusals.push("blob_hash_mismatch".into());
                continue;
            }
            let now = self.now();
            let tx = self.store.transaction()?;
            crate::applications::put_blob(&tx, &sha, &bytes, true, now)?;
            tx.commit()?;
            report.blobs_received += 1;
        }
        Ok(())
    }

    fn cursor(&self) -> Result<u64, DeviceError> {
        Ok(self
            .store
            .meta(META_CURSOR)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Every dirty record's changes after the heads the server acknowledged.
    fn collect_dirty(&mut self) -> Result<Vec<DocUpload>, DeviceError> {
        type Dirty = (String, String, Option<Vec<u8>>, Option<String>);
        let dirty: Vec<Dirty> = {
            let mut stmt = self.store.conn().prepare(
                "SELECT d.doc_id, d.kind, s.heads, d.committee FROM dirty
                 JOIN docs d USING (doc_id) LEFT JOIN synced s USING (doc_id)
                 WHERE d.quarantined IS NULL ORDER BY d.doc_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut uploads = Vec::with_capacity(dirty.len());
        for (doc_id, kind, heads, committee) in dirty {
            let id = DocId::parse(&doc_id).ok_or_else(|| DeviceError::NotFound(doc_id.clone()))?;
            let mut loaded =
                match docs::load_for(&self.store, &self.cache, &id, &self.actor, Access::Read) {
                    Ok(loaded) => loaded,
                    // A quarantined record stays on the device for a person to look at.
                    Err(DeviceError::Quarantined(_)) => continue,
                    Err(e) => return Err(e),
                };
            let since = heads.as_deref().map(heads_from).unwrap_or_default();
            let changes: Vec<serde_bytes::ByteBuf> = loaded
                .doc
                .get_changes(&since)
                .iter()
                .map(|c| serde_bytes::ByteBuf::from(c.raw_bytes().to_vec()))
                .collect();
            if changes.is_empty() {
                continue;
            }
            uploads.push(DocUpload {
                doc_id,
                kind,
                committee,
                changes,
            });
        }
        Ok(uploads)
    }

    /// Stores an answer in one transaction: the received changes, the acknowledged heads
    /// of everything sent and received, and the new cursor.
    fn apply_answer(
        &mut self,
        sent: &[String],
        response: SyncResponse,
        report: &mut SyncReport,
    ) -> Result<(), DeviceError> {
        let now = self.now();
        let tx = self.store.conn().unchecked_transaction()?;
        let mut touched: Vec<(DocId, AutoCommit)> = Vec::new();
        let mut incomplete = false;
        for download in response.docs {
            report.received_docs += 1;
            report.received_changes += download.changes.len();
            match self.merge_changes(
                &tx,
                &download.doc_id,
                &download.kind,
                &download.changes,
                now,
            )? {
                Merged::Done { id, doc, newly } => {
                    tx.execute(
                        "UPDATE docs SET committee = ?2 WHERE doc_id = ?1 AND committee IS NULL",
                        params![id.as_str(), &download.committee],
                    )?;
                    if !newly.is_empty() {
                        report.new_conflicts.push(NewConflict {
                            doc_id: id.clone(),
                            kind: download.kind.clone(),
                            fields: newly,
                        });
                    }
                    touched.push((id, *doc));
                }
                Merged::Quarantined => {}
                Merged::Incomplete => incomplete = true,
            }
        }
        // Everything sent is acknowledged: its heads now are what the server has.
        for doc_id in sent {
            let Some(id) = DocId::parse(doc_id) else {
                continue;
            };
            if touched.iter().any(|(t, _)| *t == id) {
                continue;
            }
            let mut loaded =
                docs::load_for(&self.store, &self.cache, &id, &self.actor, Access::Read)?;
            mark_synced(&tx, &id, &loaded.doc.get_heads())?;
        }
        for (id, doc) in &mut touched {
            mark_synced(&tx, id, &doc.get_heads())?;
        }
        // Changes whose dependencies did not come are not kept: ask for everything again.
        let cursor = if incomplete { 0 } else { response.cursor };
        store::put_meta(&tx, META_CURSOR, &cursor.to_be_bytes())?;
        store::put_meta(&tx, META_LAST_SYNC, &now.to_be_bytes())?;
        tx.commit()?;
        let mut cache = self.cache.borrow_mut();
        for (id, doc) in touched {
            cache.put_owned(&id, doc);
        }
        if incomplete {
            return Err(DeviceError::SyncIncomplete);
        }
        Ok(())
    }
}

/// What merging one record's changes came to.
pub(crate) enum Merged {
    /// Stored; the document now, and the fields that became conflicted.
    Done {
        id: DocId,
        doc: Box<AutoCommit>,
        newly: Vec<String>,
    },
    /// The record is quarantined here; its changes wait.
    Quarantined,
    /// Some changes lack their dependencies; nothing of this record was stored.
    Incomplete,
}

impl Device {
    /// Merges one record's raw changes (from the server or a bundle) inside `tx`: stores
    /// them, updates its list rows, and notes the attachments it refers to that this
    /// device lacks. The caller commits and puts `doc` into the cache.
    pub(crate) fn merge_changes(
        &self,
        tx: &rusqlite::Transaction<'_>,
        doc_id: &str,
        expected_kind: &str,
        raw: &[serde_bytes::ByteBuf],
        now: i64,
    ) -> Result<Merged, DeviceError> {
        let id = DocId::parse(doc_id).ok_or(DeviceError::InvalidBytes)?;
        let mut changes = Vec::with_capacity(raw.len());
        for bytes in raw {
            changes
                .push(Change::try_from(bytes.as_slice()).map_err(|_| DeviceError::InvalidBytes)?);
        }
        let exists = tx
            .prepare_cached("SELECT quarantined IS NOT NULL FROM docs WHERE doc_id = ?1")?
            .query_row([id.as_str()], |r| r.get::<_, bool>(0))
            .optional()?;
        let (mut loaded, created) = match exists {
            Some(true) => return Ok(Merged::Quarantined),
            Some(false) => (
                docs::load_for(&self.store, &self.cache, &id, &self.actor, Access::Edit)?,
                false,
            ),
            None => (
                Loaded {
                    doc: AutoCommit::new().with_actor(self.actor.clone()),
                    heads: Vec::new(),
                },
                true,
            ),
        };
        let before = Fields::scan(&loaded.doc).conflicted();
        loaded.doc.apply_changes(changes)?;
        if !loaded.doc.get_missing_deps(&[]).is_empty() {
            return Ok(Merged::Incomplete);
        }
        let kind = value::text(&loaded.doc, "kind")?;
        if kind != expected_kind {
            return Err(DeviceError::UnknownKind(kind));
        }
        if created {
            docs::insert_new(tx, &id, &kind, &mut loaded.doc, now)?;
        } else {
            docs::save_changes(tx, &id, &mut loaded)?;
        }
        project(&self.catalog, tx, &id, &mut loaded.doc, now)?;
        for sha in doorstep_core::blobs::referenced(&loaded.doc) {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO blob_wanted (sha256)
                 SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1)",
            )?
            .execute([&sha])?;
        }
        let newly = Fields::scan(&loaded.doc)
            .conflicted()
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        Ok(Merged::Done {
            id,
            doc: Box::new(loaded.doc),
            newly,
        })
    }
}

fn mark_synced(
    tx: &rusqlite::Transaction<'_>,
    id: &DocId,
    heads: &[ChangeHash],
) -> Result<(), DeviceError> {
    tx.prepare_cached(
        "INSERT INTO synced (doc_id, heads) VALUES (?1, ?2)
         ON CONFLICT (doc_id) DO UPDATE SET heads = excluded.heads",
    )?
    .execute(params![id.as_str(), heads_bytes(heads)])?;
    tx.prepare_cached("DELETE FROM dirty WHERE doc_id = ?1")?
        .execute([id.as_str()])?;
    Ok(())
}
