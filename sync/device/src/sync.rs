//! The device's side of sync: enrollment with a one-time code, and [`Device::sync_now`].
//!
//! The device remembers, per document, the heads the server has acknowledged
//! (`synced`) and which documents changed since (`dirty`). A sync sends every dirty
//! document's changes after its acknowledged heads, with the last cursor the device
//! stored; the answer's changes, the new cursor and the new acknowledged heads are saved
//! in one transaction. Nothing is marked synced before the server's answer arrives, and
//! every request can be resent (same `sync_id`) without effect, so a lost answer or an
//! interrupted sync is simply retried. A record edited while its request is away keeps
//! waiting: it is acknowledged at the heads it was sent with, not the heads it has now.
//!
//! The order of requests is decided in [`run`] (a state machine with no IO); this file
//! holds what a sync reads from and writes to the store, and `transport` the HTTP.

use automerge::{AutoCommit, ChangeHash};
use doorstep_core::key_roster::FromServer;
use doorstep_core::protocol::{Committee, EnrollRequest, EnrollResponse, Role, SyncResponse};
use doorstep_core::server_identity::EnrollText;
use doorstep_core::value::{self, Fields};
use doorstep_core::{DocId, ErrorCode};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::device::Device;
use crate::docs::{self, Access, Loaded};
use crate::error::DeviceError;
use crate::projection::project;
use crate::secret;
use crate::store;
use std::sync::Arc;

mod batch;
mod log_audit;
pub(crate) mod log_trust;
mod pinning;
pub(crate) mod refusals;
mod request_auth;
pub mod run;
mod status;
mod transport;

pub use batch::{BYTES_PER_REQUEST, DOCS_PER_REQUEST, MAX_RECORD_BYTES};
pub use pinning::ServerTrust;
use refusals::note_refusal;
pub use refusals::{AsideView, RefusedRecord, RefusedView};
pub use request_auth::{RequestAuth, RequestSigner};
pub use run::{Outgoing, SyncRun, drive};
pub use status::{StatusLine, SyncState};
pub(crate) use transport::exchange;
pub use transport::{HttpAnswer, HttpTransport, NetworkError, RetryPolicy, Transport};

pub use crate::progress::{ProgressFn, ProgressListener, SyncPhase, SyncProgress};

const META_CURSOR: &str = "sync.cursor";
pub(crate) const META_ENROLLMENT: &str = "sync.enrollment";
const META_LAST_SYNC: &str = "sync.last_at";
/// The server database's epoch as last seen (see [`SyncResponse::epoch`]).
const META_EPOCH: &str = "sync.epoch";

/// What a device knows of its enrollment (the token itself is in the keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub server_url: String,
    pub device_id: String,
    pub role: Role,
    pub name: String,
    pub committees: Vec<Committee>,
    /// What the device knows the server by over HTTPS (see [`pinning`]); devices
    /// enrolled before it had none, and pin the key of their first roster instead.
    #[serde(default)]
    pub server_trust: Option<ServerTrust>,
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
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
    /// Records the server refused (they stay waiting here, with why).
    pub refused: Vec<RefusedRecord>,
    /// Records received that could not be stored here, set aside for a person.
    pub set_aside: usize,
    /// The server's database had been restored from a backup: this sync sent every
    /// record again.
    pub resent_after_restore: bool,
    /// Attachments uploaded (or found already on the server) and downloaded.
    pub blobs_sent: usize,
    pub blobs_received: usize,
    /// Codes of attachments the server refused (they stay here and are tried again).
    pub blob_refusals: Vec<String>,
}

/// Fields of one record that became conflicted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
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
    /// Of the waiting records, those the server refused (not sent until changed).
    pub refused_docs: u64,
    /// Received records set aside here.
    pub aside_docs: u64,
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

/// Trades a one-time `code` for an enrollment of the identity that `key` and `actor`
/// stand for (the key's signature of both shows the device holds it): the device's
/// own, or a member's of a shared tablet (members.rs).
pub(crate) fn trade_code(
    transport: &mut dyn Transport,
    code: &str,
    actor: &str,
    key: &secret::DeviceKey,
    device_label: &str,
) -> Result<EnrollResponse, DeviceError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(DeviceError::Server {
            status: 400,
            code: "enrollment_unknown".into(),
            message: "enter the enrollment code".into(),
        });
    }
    let public_key = key.public().to_hex();
    let signature = hex::encode(key.sign(&doorstep_core::keys::enrollment_message(
        code,
        actor,
        &public_key,
    )));
    let request = EnrollRequest {
        code: code.to_owned(),
        device_label: device_label.to_owned(),
        public_key,
        actor: actor.to_owned(),
        signature,
    };
    let body = serde_json::to_vec(&request).map_err(|e| DeviceError::Network(e.to_string()))?;
    let answer = exchange(
        transport,
        &RetryPolicy::default(),
        "POST",
        "/v1/enroll",
        Some("application/json"),
        None,
        body,
        &mut SyncReport::default(),
    )?;
    serde_json::from_slice(&answer)
        .map_err(|e| DeviceError::Network(format!("unexpected enrollment answer: {e}")))
}

impl Device {
    /// Trades an enrollment text's one-time code for this device's identity on the
    /// server the text names, checking that the server holds the key the text pins;
    /// the token goes to the keyring. Enrolling again replaces the old enrollment.
    pub fn enroll(
        &mut self,
        text: &EnrollText,
        device_label: &str,
    ) -> Result<Enrollment, DeviceError> {
        let server_url = text
            .server
            .as_deref()
            .ok_or_else(|| DeviceError::ServerUrl(String::new()))?;
        let trust = text.server_key.clone().map(|server_key| ServerTrust {
            server_key,
            tls_pin: None,
            serial: 0,
        });
        let mut transport = HttpTransport::new(server_url, trust)?;
        self.enroll_with(&mut transport, text, device_label)
    }

    /// [`Device::enroll`] over a given transport.
    pub fn enroll_with(
        &mut self,
        transport: &mut dyn Transport,
        text: &EnrollText,
        device_label: &str,
    ) -> Result<Enrollment, DeviceError> {
        let server_url = text.server.clone().unwrap_or_default();
        // The device's own enrollment is the first person's: only they enroll it again.
        if !self.active.is_empty() {
            return Err(DeviceError::Member(ErrorCode::MemberNotFirst));
        }
        // Made (and kept in the keyring) on first need; the server binds it, with this
        // device's actor id, to the identity the code was made for, once the signature
        // shows the device holds it.
        let key = Arc::clone(self.signing_key()?);
        let response = trade_code(transport, &text.code, &self.actor_hex(), &key, device_label)?;
        // The server must hold the key the text pins: its roster is signed with it.
        if let Some(pinned) = &text.server_key {
            let held = response
                .key_roster
                .as_ref()
                .and_then(|r| doorstep_core::keys::PublicKey::from_hex(&r.server_key))
                .map(|k| doorstep_core::server_identity::key_pin(&k));
            if held.as_deref() != Some(pinned.as_str()) {
                return Err(DeviceError::ServerIdentity(
                    "the server's key is not the one in the enrollment text".into(),
                ));
            }
        }
        secret::store_token(&self.data_dir, "", &response.token)?;
        let enrollment = Enrollment {
            server_url: server_url.trim().trim_end_matches('/').to_owned(),
            device_id: response.device_id,
            role: response.role,
            name: response.name,
            committees: response.committees,
            server_trust: transport.server_trust().or_else(|| {
                text.server_key.clone().map(|server_key| ServerTrust {
                    server_key,
                    tls_pin: None,
                    serial: 0,
                })
            }),
        };
        let json =
            serde_json::to_vec(&enrollment).map_err(|e| DeviceError::Network(e.to_string()))?;
        let tx = self.store.conn().unchecked_transaction()?;
        store::put_meta(&tx, META_ENROLLMENT, &json)?;
        // The server this device chose to enroll with: its key is pinned from now on.
        if let Some(signed) = &response.key_roster {
            self.take_key_roster(&tx, signed, true)?;
        }
        // The person the code was made for signs every change from now on.
        let name = enrollment.name.trim();
        if !name.is_empty() {
            store::put_meta(&tx, crate::device::VOLUNTEER_KEY, name.as_bytes())?;
        }
        // A new identity starts from the beginning of its scope, and from the log as the
        // server it enrolled with signs it now (perhaps with another key).
        store::put_meta(&tx, META_CURSOR, &0u64.to_be_bytes())?;
        tx.execute("DELETE FROM log_checkpoints", [])?;
        tx.execute("DELETE FROM log_seen", [])?;
        tx.execute("DELETE FROM log_own", [])?;
        tx.execute("DELETE FROM synced", [])?;
        // The new identity may be allowed what the old one was refused: try again.
        tx.execute("DELETE FROM refused", [])?;
        // Members added under the old enrollment were that server's: their PINs and
        // secrets go with them (their enrollments stay on that server, to revoke there).
        let former = self.forget_members(&tx)?;
        tx.execute("DELETE FROM members", [])?;
        tx.execute(
            "DELETE FROM meta WHERE key IN ('member.active', 'member.primary_removed_at')",
            [],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO dirty (doc_id) SELECT doc_id FROM docs",
            [],
        )?;
        tx.commit()?;
        for slot in former {
            if let Err(e) = secret::forget_member(&self.data_dir, &slot) {
                tracing::warn!(error = %e, "a former member's secrets stay in the keyring");
            }
        }
        if !name.is_empty() {
            self.volunteer = name.to_owned();
        }
        Ok(enrollment)
    }

    /// This device's enrollment as its active member holds it (their id, role and
    /// name; see members.rs), if it has one.
    pub fn enrollment(&self) -> Result<Option<Enrollment>, DeviceError> {
        self.active_enrollment()
    }

    /// Whether the device is enrolled, what waits to be sent, and when it last synced.
    pub fn sync_status(&self) -> Result<SyncStatus, DeviceError> {
        let pending: i64 = self.store.conn().query_row(
            "SELECT count(*) FROM dirty JOIN docs USING (doc_id) WHERE quarantined IS NULL",
            [],
            |r| r.get(0),
        )?;
        let count = |sql: &str| -> Result<u64, DeviceError> {
            let n: i64 = self.store.conn().query_row(sql, [], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        let last = self
            .store
            .meta(META_LAST_SYNC)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(i64::from_be_bytes);
        Ok(SyncStatus {
            enrolled: self.enrollment()?.is_some(),
            pending_docs: u64::try_from(pending).unwrap_or(0),
            last_sync_at: last,
            refused_docs: count("SELECT count(*) FROM refused JOIN dirty USING (doc_id)")?,
            aside_docs: count("SELECT count(*) FROM received_aside")?,
        })
    }

    /// Calls `listener` as syncs progress (attachments up, records, attachments down).
    pub fn on_sync_progress(&mut self, listener: impl Fn(&SyncProgress) + Send + 'static) {
        self.progress = ProgressListener(Some(Box::new(listener)));
    }

    /// Syncs with the enrolled server now, retrying network failures with backoff.
    pub fn sync_now(&mut self) -> Result<SyncReport, DeviceError> {
        let mut transport = self.transport()?;
        self.sync_with(&mut transport, &RetryPolicy::default())
    }

    /// [`Device::sync_now`] over a given transport and retry policy: [`run::drive`]
    /// with this device.
    pub fn sync_with(
        &mut self,
        transport: &mut dyn Transport,
        retry: &RetryPolicy,
    ) -> Result<SyncReport, DeviceError> {
        drive(self, transport, retry)
    }

    /// The blob names a one-column query lists.
    pub(crate) fn blob_names(&self, sql: &str) -> Result<Vec<String>, DeviceError> {
        let mut stmt = self.store.conn().prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An attachment's size in bytes.
    fn blob_size(&self, sha: &str) -> Result<u64, DeviceError> {
        let size: Option<i64> = self
            .store
            .conn()
            .prepare_cached("SELECT length(bytes) FROM blobs WHERE sha256 = ?1")?
            .query_row([sha], |r| r.get(0))
            .optional()?;
        let size = size.ok_or_else(|| DeviceError::NotFound(format!("blob {sha}")))?;
        Ok(u64::try_from(size).unwrap_or(0))
    }

    /// Up to `len` bytes of an attachment from `offset`.
    fn blob_piece(&self, sha: &str, offset: u64, len: usize) -> Result<Vec<u8>, DeviceError> {
        // SQLite's substr counts from 1, and on a blob in bytes.
        let from = i64::try_from(offset).unwrap_or(i64::MAX).saturating_add(1);
        let piece: Option<Vec<u8>> = self
            .store
            .conn()
            .prepare_cached("SELECT substr(bytes, ?2, ?3) FROM blobs WHERE sha256 = ?1")?
            .query_row(params![sha, from, len as i64], |r| r.get(0))
            .optional()?;
        piece.ok_or_else(|| DeviceError::NotFound(format!("blob {sha}")))
    }

    fn mark_blob_uploaded(&self, sha: &str) -> Result<(), DeviceError> {
        self.store
            .conn()
            .execute("UPDATE blobs SET uploaded = 1 WHERE sha256 = ?1", [sha])?;
        Ok(())
    }

    /// Keeps a downloaded attachment if its bytes are the ones named; `false` if not.
    fn receive_blob(&mut self, sha: &str, bytes: &[u8]) -> Result<bool, DeviceError> {
        if crate::attachments::sha256_hex(bytes) != sha {
            return Ok(false);
        }
        let now = self.now();
        let tx = self.store.transaction()?;
        crate::attachments::put_blob(&tx, sha, bytes, true, now)?;
        tx.commit()?;
        Ok(true)
    }

    pub(crate) fn cursor(&self) -> Result<u64, DeviceError> {
        Ok(self
            .store
            .meta(META_CURSOR)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Whether a record is as it was when its changes went up (`sent`: the heads then),
    /// or, for one not sent, has no change of this device's waiting: only then may what
    /// the server answered be taken as all there is of it.
    fn unchanged_since(
        &self,
        id: &DocId,
        sent: Option<&[ChangeHash]>,
    ) -> Result<bool, DeviceError> {
        match sent {
            Some(heads) => {
                match docs::load_for(&self.store, &self.cache, id, &self.actor, Access::Read) {
                    Ok(mut loaded) => Ok(loaded.doc.get_heads() == heads),
                    Err(DeviceError::Quarantined(_) | DeviceError::NotFound(_)) => Ok(false),
                    Err(e) => Err(e),
                }
            }
            None => Ok(self
                .store
                .conn()
                .prepare_cached("SELECT 1 FROM dirty WHERE doc_id = ?1")?
                .query_row([id.as_str()], |_| Ok(()))
                .optional()?
                .is_none()),
        }
    }

    /// Stores an answer in one transaction: the received changes, the acknowledged heads
    /// of everything sent and received, and the new cursor. A record edited here while
    /// the request was away keeps waiting: the server has only the heads that were sent.
    /// Returns whether the server's database changed epoch (it was restored): then every
    /// record is waiting again and the cursor starts over, so that the rest of this sync
    /// sends everything the server may have lost.
    pub(crate) fn apply_answer(
        &mut self,
        sent: &Sent,
        response: SyncResponse,
        report: &mut SyncReport,
    ) -> Result<bool, DeviceError> {
        let now = self.now();
        let seen = self.store.meta(META_EPOCH)?;
        let restored = !response.epoch.is_empty()
            && seen
                .as_deref()
                .is_some_and(|e| e != response.epoch.as_bytes());
        let refusals: Vec<(DocId, String, String)> = response
            .refused
            .iter()
            .filter_map(|r| {
                let id = DocId::parse(&r.doc_id)?;
                sent.heads(&id)?;
                Some((id, r.code.clone(), r.message.clone()))
            })
            .collect();
        let is_refused = |id: &DocId| refusals.iter().any(|(r, _, _)| r == id);
        // Decided before anything is merged: merging changes the heads.
        let mut unchanged: Vec<(DocId, bool)> = Vec::new();
        for (id, heads) in &sent.0 {
            unchanged.push((id.clone(), self.unchanged_since(id, Some(heads))?));
        }
        for download in &response.docs {
            let Some(id) = DocId::parse(&download.doc_id) else {
                continue;
            };
            if sent.heads(&id).is_none() {
                let clean = self.unchanged_since(&id, None)?;
                unchanged.push((id, clean));
            }
        }
        let is_unchanged = |id: &DocId| unchanged.iter().any(|(u, clean)| u == id && *clean);
        let tx = self.store.conn().unchecked_transaction()?;
        if restored {
            // What the server was told may be gone: nothing is taken as acknowledged
            // but what this very answer took, and everything goes up again (the server
            // stores each change once, so nothing is doubled).
            tracing::warn!("the server's database was restored: sending every record again");
            tx.execute("DELETE FROM synced", [])?;
            tx.execute("DELETE FROM refused", [])?;
            tx.execute(
                "INSERT OR IGNORE INTO dirty (doc_id) SELECT doc_id FROM docs",
                [],
            )?;
            report.resent_after_restore = true;
        }
        if !response.epoch.is_empty() {
            store::put_meta(&tx, META_EPOCH, response.epoch.as_bytes())?;
        }
        // The roster first: what came with it is checked against it.
        if let Some(signed) = &response.key_roster {
            self.take_key_roster(&tx, signed, false)?;
        }
        let mut touched: Vec<(DocId, AutoCommit)> = Vec::new();
        let mut incomplete = false;
        for download in response.docs {
            report.received_docs += 1;
            report.received_changes += download.changes.len();
            if refusals::is_aside(&tx, &download.doc_id)? {
                // Its later changes join it, and with them it may now be whole (a fix
                // made on another device): try again.
                refusals::join_aside(&tx, &download)?;
                let delivered = delivered_hashes(&download);
                let from_server = |h: &ChangeHash| delivered.contains(h);
                if let Some((id, doc)) =
                    self.merge_aside(&tx, &download.doc_id, &from_server, now)?
                {
                    touched.push((id, doc));
                }
                continue;
            }
            // Each record alone: one that cannot be stored is set aside, and the rest
            // of the answer goes in.
            tx.execute_batch("SAVEPOINT received")?;
            let merged = match self.merge_changes(
                &tx,
                &download.doc_id,
                &download.kind,
                &download.committee,
                &download.changes,
                &download.signatures,
                &|_| true,
                now,
            ) {
                Ok(merged) => {
                    tx.execute_batch("RELEASE received")?;
                    merged
                }
                Err(e) if refusals::is_record_fault(&e) => {
                    tx.execute_batch("ROLLBACK TO received; RELEASE received")?;
                    tracing::warn!(code = e.code().as_str(), error = %e, "a received record is set aside");
                    refusals::set_aside(&tx, &download, &e, now)?;
                    report.set_aside += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match merged {
                Merged::Done {
                    id,
                    doc,
                    newly,
                    apart,
                } => {
                    tx.execute(
                        "UPDATE docs SET committee = ?2 WHERE doc_id = ?1 AND committee IS NULL",
                        params![id.as_str(), &download.committee],
                    )?;
                    if let Some(apart) = apart {
                        refusals::keep_apart(&tx, &download, apart, now)?;
                        report.set_aside += 1;
                    }
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
        // A refused record stays waiting, with why, at the heads it was sent with.
        for (id, code, message) in &refusals {
            if let Some(heads) = sent.heads(id) {
                note_refusal(&tx, id, heads, code, message, now)?;
                report.refused.push(RefusedRecord {
                    doc_id: id.clone(),
                    code: ErrorCode::from_server(code),
                });
            }
        }
        // Everything else sent is acknowledged: the server has it at the heads it was
        // sent at.
        for (id, heads) in &sent.0 {
            if is_refused(id) {
                continue;
            }
            tx.prepare_cached("DELETE FROM refused WHERE doc_id = ?1")?
                .execute([id.as_str()])?;
            if touched.iter().any(|(t, _)| t == id) {
                continue;
            }
            mark_synced(&tx, id, heads, is_unchanged(id))?;
        }
        for (id, doc) in &mut touched {
            let clean = is_unchanged(id) && !is_refused(id);
            if clean {
                mark_synced(&tx, id, &doc.get_heads(), true)?;
            } else if let Some(heads) = sent.heads(id).filter(|_| !is_refused(id)) {
                mark_synced(&tx, id, heads, false)?;
            }
        }
        // Changes whose dependencies did not come are not kept: ask for everything again.
        let cursor = if incomplete || restored {
            0
        } else {
            response.cursor
        };
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
        Ok(restored)
    }
}

/// What one request carried: each record sent, at the heads it had then.
#[derive(Debug, Default)]
pub(crate) struct Sent(Vec<(DocId, Vec<ChangeHash>)>);

impl Sent {
    fn heads(&self, id: &DocId) -> Option<&[ChangeHash]> {
        self.0
            .iter()
            .find(|(sent, _)| sent == id)
            .map(|(_, heads)| heads.as_slice())
    }
}

/// What merging one record's changes came to.
pub(crate) enum Merged {
    /// Stored; the document now, the fields that became conflicted, and the changes
    /// that did not hold against the key roster, not merged.
    Done {
        id: DocId,
        doc: Box<AutoCommit>,
        newly: Vec<String>,
        apart: Option<crate::trust::Apart>,
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
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn merge_changes(
        &self,
        tx: &rusqlite::Transaction<'_>,
        doc_id: &str,
        expected_kind: &str,
        committee: &str,
        raw: &[serde_bytes::ByteBuf],
        signatures: &[serde_bytes::ByteBuf],
        from_server: FromServer<'_>,
        now: i64,
    ) -> Result<Merged, DeviceError> {
        let id = DocId::parse(doc_id).ok_or(DeviceError::InvalidBytes)?;
        // Bounded as the server bounds uploads: a compressed change is measured before
        // it inflates, and a record of too many operations is refused (and set aside).
        let changes =
            doorstep_core::upload::parse_received(raw).map_err(|_| DeviceError::InvalidBytes)?;
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
        crate::attest::keep_received(tx, id.as_str(), &changes, signatures)?;
        crate::attest::keep_relayed(
            tx,
            id.as_str(),
            &changes,
            &self.actor,
            &self.key_roster_version()?,
            from_server,
        )?;
        let apart = self.apply_checked(
            id.as_str(),
            expected_kind,
            committee,
            &mut loaded.doc,
            changes,
            raw,
            signatures,
            from_server,
        )?;
        if !loaded.doc.get_missing_deps(&[]).is_empty() {
            return Ok(Merged::Incomplete);
        }
        let kind = value::text(&loaded.doc, "kind")?;
        if kind != expected_kind {
            // A record whose changes were all kept apart has no kind: it is refused for
            // why they were (the caller sets it aside whole), not for its kind.
            return Err(match apart {
                Some(apart) => apart.fault(),
                None => DeviceError::UnknownKind(kind),
            });
        }
        let signer = self.signer()?;
        // Storing the record lists its changes and saves it, which walks what Automerge
        // took again: fuzzing found changes it applies and then panics listing
        // ("MissingOps"), on a record it had and on a new one. Such a record is refused like any other bad one (the caller
        // rolls back what was written of it), as the server refuses one that does not
        // load again, instead of ending the app.
        let stored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if created {
                // Its history lists every change, as saving an existing record lists
                // those it gained: fuzzing found a record Automerge builds and saves
                // but cannot list.
                drop(loaded.doc.get_changes(&[]));
                docs::insert_new(tx, &signer, &id, &kind, &mut loaded.doc, now)?;
            } else {
                docs::save_changes(tx, &signer, &id, &mut loaded)?;
            }
            project(&self.catalog, tx, &id, &mut loaded.doc, now)
        }));
        match stored {
            Ok(result) => drop(result?),
            Err(_) => {
                tracing::warn!("a received record's changes could not be stored");
                return Err(DeviceError::InvalidBytes);
            }
        }
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
            apart,
        })
    }
}

/// The hashes of the changes the server delivered of one record (those that parse).
fn delivered_hashes(download: &doorstep_core::protocol::DocDownload) -> Vec<ChangeHash> {
    download
        .changes
        .iter()
        .filter_map(|c| automerge::Change::from_bytes(c.to_vec()).ok())
        .map(|c| c.hash())
        .collect()
}

/// Notes the heads the server has of a record; `done`: nothing of this device's waits.
fn mark_synced(
    tx: &rusqlite::Transaction<'_>,
    id: &DocId,
    heads: &[ChangeHash],
    done: bool,
) -> Result<(), DeviceError> {
    tx.prepare_cached(
        "INSERT INTO synced (doc_id, heads) VALUES (?1, ?2)
         ON CONFLICT (doc_id) DO UPDATE SET heads = excluded.heads",
    )?
    .execute(params![id.as_str(), heads_bytes(heads)])?;
    if done {
        tx.prepare_cached("DELETE FROM dirty WHERE doc_id = ?1")?
            .execute([id.as_str()])?;
    }
    Ok(())
}
