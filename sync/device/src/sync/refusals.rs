//! Records refused either way, and why; every other record of the same sync goes on.
//!
//! Up: a record the server refused stays waiting on the device at the heads it was sent
//! with, is not sent again until it changes, and is shown to the volunteer with its
//! reason. Down: a received record this device cannot store (its changes do not apply,
//! or it cannot be shown) is set aside with its changes, later changes of it join it
//! there, and it is listed for the supervisor; the rest of the answer is stored.

use automerge::{AutoCommit, ChangeHash};
use doorstep_core::key_roster::FromServer;
use doorstep_core::{DocId, ErrorCode};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_bytes::ByteBuf;

use super::{Merged, heads_bytes};
use crate::device::Device;
use crate::error::DeviceError;

/// A record the server did not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RefusedRecord {
    pub doc_id: DocId,
    pub code: ErrorCode,
}

/// A refused record as the window lists it: which record, why, since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RefusedView {
    pub id: DocId,
    pub kind: String,
    /// The resident's name (of the record, or of the record's resident).
    pub resident_name: String,
    /// The service of an application.
    pub service: Option<String>,
    pub code: ErrorCode,
    /// When the server last refused it (ms since the epoch).
    pub at: i64,
}

/// Notes that the server (or this device, for a record too large to send) refused a
/// record at `heads`, with `code`: it stays waiting, unsent until it changes.
pub(super) fn note_refusal(
    tx: &rusqlite::Transaction<'_>,
    id: &DocId,
    heads: &[ChangeHash],
    code: &str,
    message: &str,
    now: i64,
) -> Result<(), DeviceError> {
    tx.prepare_cached(
        "INSERT INTO refused (doc_id, heads, code, message, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (doc_id) DO UPDATE SET heads = excluded.heads, code = excluded.code,
             message = excluded.message, at = excluded.at",
    )?
    .execute(params![id.as_str(), heads_bytes(heads), code, message, now])?;
    Ok(())
}

impl Device {
    /// The records the server refused and that have not changed since, newest first.
    pub fn refused_views(&self) -> Result<Vec<RefusedView>, DeviceError> {
        let rows: Vec<(String, String, String, i64)> = {
            let mut stmt = self.store.conn().prepare(
                "SELECT r.doc_id, d.kind, r.code, r.at FROM refused r
                 JOIN docs d USING (doc_id) JOIN dirty USING (doc_id)
                 ORDER BY r.at DESC, r.doc_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (doc_id, kind, code, at) in rows {
            let Some(id) = DocId::parse(&doc_id) else {
                continue;
            };
            let (resident_name, service) = self.named(&id, &kind);
            out.push(RefusedView {
                id,
                kind,
                resident_name,
                service,
                code: ErrorCode::from_server(&code),
                at,
            });
        }
        Ok(out)
    }

    /// Whose record `id` is (the resident's name) and, for an application, its service;
    /// an empty name when the record cannot be read here.
    pub(crate) fn named(&self, id: &DocId, kind: &str) -> (String, Option<String>) {
        let resident_of = |resident: &str| {
            DocId::parse(resident)
                .and_then(|r| self.resident(&r).ok())
                .map(|r| r.name)
                .unwrap_or_default()
        };
        match kind {
            "application" => self
                .application(id)
                .map(|a| (resident_of(&a.resident), Some(a.service)))
                .unwrap_or_default(),
            "authorization" => {
                let resident: Option<String> = self
                    .store
                    .conn()
                    .query_row(
                        "SELECT resident FROM authorizations WHERE doc_id = ?1",
                        [id.as_str()],
                        |r| r.get(0),
                    )
                    .ok();
                (resident.map(|r| resident_of(&r)).unwrap_or_default(), None)
            }
            _ => (self.resident(id).map(|r| r.name).unwrap_or_default(), None),
        }
    }
}

/// A received record set aside, as the window lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AsideView {
    /// The record's id as it came (it may not even be a valid one).
    pub doc_id: String,
    pub kind: String,
    pub committee: String,
    /// Why it could not be stored.
    pub code: ErrorCode,
    /// Changes kept.
    pub changes: usize,
    /// For changes that did not hold against the key roster: whose they claim to be (the
    /// person and device the roster names, or `?` and the first digits of an unknown
    /// author's id).
    pub authors: Vec<String>,
    /// When it was first set aside (ms since the epoch).
    pub at: i64,
}

/// Whether a server's refusal is about what the record holds (it is not sent again
/// until it changes), rather than about the server or this device's standing, which
/// can change by themselves (each sync tries again).
pub(crate) fn is_about_the_record(code: &str) -> bool {
    matches!(
        code,
        "invalid_change"
            | "kind_mismatch"
            | "unknown_kind"
            | "invalid_doc_id"
            | "document_too_large"
            | "change_too_large"
            | "too_many_operations"
    )
}

/// Whether a failure to store one received record is that record's fault (set it
/// aside, go on) rather than the device's (stop: the disk, the file, the key).
pub(crate) fn is_record_fault(e: &DeviceError) -> bool {
    use rusqlite::ErrorCode as Sql;
    match e {
        DeviceError::Storage(sql) => !matches!(
            sql.sqlite_error_code(),
            Some(
                Sql::DiskFull
                    | Sql::SystemIoFailure
                    | Sql::DatabaseCorrupt
                    | Sql::NotADatabase
                    | Sql::DatabaseBusy
                    | Sql::DatabaseLocked
                    | Sql::OutOfMemory
                    | Sql::CannotOpen
                    | Sql::ReadOnly
                    | Sql::PermissionDenied
            )
        ),
        DeviceError::DataDir { .. }
        | DeviceError::WrongKey
        | DeviceError::KeyMissing
        | DeviceError::Keyring(_) => false,
        _ => true,
    }
}

/// Whether `doc_id` is set aside here: its later changes join it rather than merge.
pub(crate) fn is_aside(tx: &rusqlite::Transaction<'_>, doc_id: &str) -> Result<bool, DeviceError> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM received_aside WHERE doc_id = ?1")?
        .exists([doc_id])?)
}

/// Sets a received record aside with its changes and their attestations (added to those
/// already aside), and why: `fault`'s code, and for a change that does not hold against
/// the key roster, whose it claims to be.
pub(crate) fn set_aside(
    tx: &rusqlite::Transaction<'_>,
    download: &doorstep_core::protocol::DocDownload,
    fault: &DeviceError,
    now: i64,
) -> Result<(), DeviceError> {
    let authors = match fault {
        DeviceError::Untrusted { authors, .. } => authors.join("\n"),
        _ => String::new(),
    };
    let (changes, signatures) = joined(tx, download)?;
    tx.prepare_cached(
        "INSERT INTO received_aside (doc_id, kind, committee, changes, signatures, code,
                                     reason, authors, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (doc_id) DO UPDATE SET changes = excluded.changes,
             signatures = excluded.signatures, code = excluded.code,
             reason = excluded.reason, authors = excluded.authors",
    )?
    .execute(params![
        &download.doc_id,
        &download.kind,
        &download.committee,
        doorstep_core::protocol::to_cbor(&changes),
        doorstep_core::protocol::to_cbor(&signatures),
        fault.code().as_str(),
        fault.to_string(),
        authors,
        now
    ])?;
    Ok(())
}

/// Keeps apart the changes of a received record that did not hold against the key
/// roster (the rest of it was stored), in place of any kept before.
pub(crate) fn keep_apart(
    tx: &rusqlite::Transaction<'_>,
    download: &doorstep_core::protocol::DocDownload,
    apart: crate::trust::Apart,
    now: i64,
) -> Result<(), DeviceError> {
    tx.execute(
        "DELETE FROM received_aside WHERE doc_id = ?1",
        [&download.doc_id],
    )?;
    let fault = apart.fault();
    let kept = doorstep_core::protocol::DocDownload {
        doc_id: download.doc_id.clone(),
        kind: download.kind.clone(),
        committee: download.committee.clone(),
        changes: apart.changes,
        signatures: apart.signatures,
    };
    set_aside(tx, &kept, &fault, now)
}

/// Adds later changes of a record set aside to those kept, leaving why as it was.
pub(crate) fn join_aside(
    tx: &rusqlite::Transaction<'_>,
    download: &doorstep_core::protocol::DocDownload,
) -> Result<(), DeviceError> {
    let (changes, signatures) = joined(tx, download)?;
    tx.prepare_cached("UPDATE received_aside SET changes = ?2, signatures = ?3 WHERE doc_id = ?1")?
        .execute(params![
            &download.doc_id,
            doorstep_core::protocol::to_cbor(&changes),
            doorstep_core::protocol::to_cbor(&signatures)
        ])?;
    Ok(())
}

/// The changes kept aside of a record and their attestations (in the same order), with
/// those of `download` added.
fn joined(
    tx: &rusqlite::Transaction<'_>,
    download: &doorstep_core::protocol::DocDownload,
) -> Result<(Vec<ByteBuf>, Vec<ByteBuf>), DeviceError> {
    let kept: Option<(Vec<u8>, Option<Vec<u8>>)> = tx
        .prepare_cached("SELECT changes, signatures FROM received_aside WHERE doc_id = ?1")?
        .query_row([&download.doc_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let unreadable =
        |e: String| DeviceError::Storage(rusqlite::Error::ToSqlConversionFailure(e.into()));
    let (mut changes, mut signatures): (Vec<ByteBuf>, Vec<ByteBuf>) = match kept {
        Some((changes, signatures)) => (
            doorstep_core::protocol::from_cbor(&changes).map_err(unreadable)?,
            match signatures {
                Some(bytes) => doorstep_core::protocol::from_cbor(&bytes).map_err(unreadable)?,
                None => Vec::new(),
            },
        ),
        None => (Vec::new(), Vec::new()),
    };
    signatures.resize(changes.len(), ByteBuf::new());
    for (i, change) in download.changes.iter().enumerate() {
        let signature = download.signatures.get(i).cloned().unwrap_or_default();
        match changes.iter().position(|c| c == change) {
            Some(at) if signatures[at].is_empty() => signatures[at] = signature,
            Some(_) => {}
            None => {
                changes.push(change.clone());
                signatures.push(signature);
            }
        }
    }
    Ok((changes, signatures))
}

impl Device {
    /// Notes that the records a request carried were refused whole (`code`): a request
    /// of one record the server would not take at any size. Returns their ids.
    pub(crate) fn refuse_here(
        &mut self,
        sent: &super::Sent,
        code: &str,
        message: &str,
    ) -> Result<Vec<DocId>, DeviceError> {
        let now = self.now();
        let tx = self.store.transaction()?;
        let mut ids = Vec::new();
        for (id, heads) in &sent.0 {
            // Too large now: not sent again until it changes.
            note_refusal(&tx, id, heads, "document_too_large", message, now)?;
            tracing::info!(code, "a record too large for any request waits here");
            ids.push(id.clone());
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Tries again to store a record set aside, with every change kept of it: stored
    /// (and no longer aside), the document; still not storable, `None`.
    pub(crate) fn merge_aside(
        &self,
        tx: &rusqlite::Transaction<'_>,
        doc_id: &str,
        from_server: FromServer<'_>,
        now: i64,
    ) -> Result<Option<(DocId, AutoCommit)>, DeviceError> {
        let Some((kind, committee, bytes, signatures)) = tx
            .prepare_cached(
                "SELECT kind, committee, changes, signatures FROM received_aside
                 WHERE doc_id = ?1",
            )?
            .query_row([doc_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                ))
            })
            .optional()?
        else {
            return Ok(None);
        };
        let Ok(changes) = doorstep_core::protocol::from_cbor::<Vec<ByteBuf>>(&bytes) else {
            return Ok(None);
        };
        let signatures: Vec<ByteBuf> = signatures
            .and_then(|b| doorstep_core::protocol::from_cbor(&b).ok())
            .unwrap_or_default();
        tx.execute_batch("SAVEPOINT aside")?;
        let merged = self.merge_changes(
            tx,
            doc_id,
            &kind,
            &committee,
            &changes,
            &signatures,
            from_server,
            now,
        );
        match merged {
            Ok(Merged::Done { id, doc, apart, .. }) => {
                tx.execute_batch("RELEASE aside")?;
                tx.execute(
                    "UPDATE docs SET committee = ?2 WHERE doc_id = ?1 AND committee IS NULL",
                    params![doc_id, committee],
                )?;
                match apart {
                    // What holds is stored; what does not stays apart, with why.
                    Some(apart) => {
                        let kept = doorstep_core::protocol::DocDownload {
                            doc_id: doc_id.to_owned(),
                            kind,
                            committee,
                            changes: Vec::new(),
                            signatures: Vec::new(),
                        };
                        keep_apart(tx, &kept, apart, now)?;
                    }
                    None => {
                        tx.execute("DELETE FROM received_aside WHERE doc_id = ?1", [doc_id])?;
                        tracing::info!("a record set aside is now stored");
                    }
                }
                Ok(Some((id, *doc)))
            }
            Ok(_) => {
                tx.execute_batch("ROLLBACK TO aside; RELEASE aside")?;
                Ok(None)
            }
            Err(e) if is_record_fault(&e) => {
                tx.execute_batch("ROLLBACK TO aside; RELEASE aside")?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Tries again to store every record set aside (this build may read what an older
    /// one could not); returns how many are now stored.
    pub fn retry_set_aside(&mut self) -> Result<usize, DeviceError> {
        let ids: Vec<String> = {
            let mut stmt = self
                .store
                .conn()
                .prepare("SELECT doc_id FROM received_aside ORDER BY doc_id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        if ids.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let tx = self.store.conn().unchecked_transaction()?;
        let mut stored = Vec::new();
        for doc_id in &ids {
            if let Some(merged) = self.merge_aside(&tx, doc_id, &|_| false, now)? {
                stored.push(merged);
            }
        }
        tx.commit()?;
        let n = stored.len();
        let mut cache = self.cache.borrow_mut();
        for (id, doc) in stored {
            cache.put_owned(&id, doc);
        }
        Ok(n)
    }

    /// The received records set aside on this device, newest first.
    pub fn records_aside(&self) -> Result<Vec<AsideView>, DeviceError> {
        let mut stmt = self.store.conn().prepare(
            "SELECT doc_id, kind, committee, code, changes, at, authors FROM received_aside
             ORDER BY at DESC, doc_id",
        )?;
        let rows = stmt.query_map([], |r| {
            let changes: Vec<u8> = r.get(4)?;
            let code: String = r.get(3)?;
            Ok(AsideView {
                doc_id: r.get(0)?,
                kind: r.get(1)?,
                committee: r.get(2)?,
                code: code.parse().unwrap_or(ErrorCode::RecordMalformed),
                changes: doorstep_core::protocol::from_cbor::<Vec<ByteBuf>>(&changes)
                    .map_or(0, |c| c.len()),
                at: r.get(5)?,
                authors: r
                    .get::<_, String>(6)?
                    .split('\n')
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
