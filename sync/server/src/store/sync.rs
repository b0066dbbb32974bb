//! Accepting a device's upload (checking it, merging, detecting conflicts, storing each
//! change once) and answering with what the device lacks, in one transaction with the
//! log entry that records it.

use crate::db::{Tx, Val};
use crate::params;
use automerge::{ActorId, Change};
use doorstep_core::attest::Author;
use doorstep_core::keys::PublicKey;
use doorstep_core::protocol::{
    DocConflicts, DocDownload, DocHashes, DocRefusal, DocUpload, Limits, Role, SyncRequest,
    SyncResponse,
};
use doorstep_core::upload::{self, Trust, UploadRefusal};

use super::Store;
use super::enrollment::DeviceAuth;
use super::log::append_log;
use crate::error::Failure;

/// Changes stored per statement.
const INSERT_BATCH: usize = 200;

/// Snapshots updated by one statement (each may be up to the document size limit).
const SNAPSHOT_BATCH: usize = 50;

/// The most changes one answer carries before it says `more`: a device holds every
/// record of an answer in memory while it stores them (at 50,000 a device enrolled
/// again over 100,000 records peaked at 871 MB; at 5,000, see BENCHMARKS.md).
const CHANGES_PER_ANSWER: i64 = 5_000;

impl Store {
    /// Applies one sync: stores the changes the device sent (each once), answers with
    /// the changes of its scope since its cursor, and appends the log entries.
    pub fn sync(
        &mut self,
        device: &DeviceAuth,
        req: &SyncRequest,
        limits: &Limits,
        now: i64,
    ) -> Result<SyncResponse, Failure> {
        check_request(req, limits)?;
        let mut tx = self.db.begin(true)?;
        let epoch = current_epoch(tx.as_mut(), device, req.cursor)?;
        let replay = tx
            .query_opt(
                "SELECT 1 FROM syncs WHERE device_id = ?1 AND sync_id = ?2",
                params![&device.device_id, &req.sync_id],
            )?
            .is_some();
        // A handful of statements for the whole request, however many documents it
        // carries: on PostgreSQL each statement is a round trip to another process.
        let mut known = known_docs(tx.as_mut(), &req.docs)?;
        let mut parsed: Vec<Option<Result<Vec<Change>, UploadRefusal>>> = req
            .docs
            .iter()
            .map(|u| Some(upload::parse_changes(&u.changes)))
            .collect();
        // Whoever uploads, each change is its author's: found by the actor it names.
        let authors = authors_of(
            tx.as_mut(),
            parsed
                .iter()
                .flatten()
                .flatten()
                .flatten()
                .map(Change::actor_id),
        )?;
        let author_of = |actor: &ActorId| authors.get(actor);
        let relayed = relayed_authors(tx.as_mut(), req, &parsed, &authors)?;
        // Each document is decided alone, before anything is stored: one the server
        // cannot take is refused with its code, and the others go in.
        let mut refused = Vec::new();
        let mut uploads = Vec::with_capacity(req.docs.len());
        let mut seen = std::collections::HashSet::new();
        for (n, (upload, parsed)) in req.docs.iter().zip(&mut parsed).enumerate() {
            let decided = check_doc(upload, limits, &mut seen).and_then(|()| {
                let (committee, snapshot) =
                    committee_for(device, upload, known.remove(&upload.doc_id))?;
                let is_new = snapshot.is_none();
                let changes = parsed
                    .take()
                    .unwrap_or_else(|| upload::parse_changes(&upload.changes))
                    .map_err(|e| refused_doc(&upload.doc_id, &e))?;
                let trust = Trust {
                    doc_id: &upload.doc_id,
                    committee: &committee,
                    signatures: &upload.signatures,
                    author_of: &author_of,
                    relayed: &|i| relayed.get(&(n, i)),
                };
                let merged = upload::merge_upload(
                    snapshot.as_deref(),
                    changes.clone(),
                    &upload.kind,
                    limits.document_bytes,
                    &trust,
                )
                .map_err(|e| refused_doc(&upload.doc_id, &e))?;
                Ok((upload, committee, is_new, changes, merged))
            });
            match decided {
                Ok(accepted) => uploads.push(accepted),
                Err(failure) => {
                    tracing::info!(code = failure.code, "a document of a sync was refused");
                    refused.push(DocRefusal {
                        doc_id: upload.doc_id.clone(),
                        code: failure.code.to_owned(),
                        message: failure.message,
                    });
                }
            }
        }
        let new_docs: Vec<(&str, &str, &str)> = uploads
            .iter()
            .filter(|(_, _, is_new, _, _)| *is_new)
            .map(|(upload, committee, _, _, _)| {
                (
                    upload.doc_id.as_str(),
                    committee.as_str(),
                    upload.kind.as_str(),
                )
            })
            .collect();
        for batch in new_docs.chunks(INSERT_BATCH) {
            let mut sql =
                String::from("INSERT INTO docs (doc_id, committee_id, kind, snapshot) VALUES ");
            let mut values: Vec<Val> = Vec::with_capacity(batch.len() * 4);
            for (i, (doc_id, committee, kind)) in batch.iter().enumerate() {
                let n = values.len();
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(?{}, ?{}, ?{}, ?{})", n + 1, n + 2, n + 3, n + 4));
                values.extend([
                    Val::from(*doc_id),
                    Val::from(*committee),
                    Val::from(*kind),
                    Val::from(Vec::<u8>::new()),
                ]);
            }
            tx.execute(&sql, &values)?;
        }
        // Every change of every document in one statement; those already stored are
        // skipped, and only the new ones come back.
        let mut new_hashes: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        let rows: Vec<(&str, &str, &Change, String)> = uploads
            .iter()
            .flat_map(|(upload, committee, _, changes, _)| {
                changes.iter().enumerate().map(move |(i, c)| {
                    let signature = upload
                        .signatures
                        .get(i)
                        .map(hex::encode)
                        .unwrap_or_default();
                    (upload.doc_id.as_str(), committee.as_str(), c, signature)
                })
            })
            .collect();
        for batch in rows.chunks(INSERT_BATCH) {
            let mut sql = String::from(
                "INSERT INTO changes (doc_id, committee_id, hash, bytes, signature, device_id) \
                 VALUES ",
            );
            let mut values: Vec<Val> = vec![Val::from(&device.device_id)];
            for (i, (doc_id, committee, change, signature)) in batch.iter().enumerate() {
                let n = values.len();
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(?{}, ?{}, ?{}, ?{}, ?{}, ?1)",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                ));
                values.extend([
                    Val::from(*doc_id),
                    Val::from(*committee),
                    Val::Text(change.hash().to_string()),
                    Val::from(change.raw_bytes()),
                    Val::from(signature.as_str()),
                ]);
            }
            sql.push_str(" ON CONFLICT DO NOTHING RETURNING doc_id, hash");
            for row in tx.query(&sql, &values)? {
                new_hashes
                    .entry(row.text(0)?)
                    .or_default()
                    .push(row.text(1)?);
            }
        }
        let mut received: Vec<(String, DocHashes)> = Vec::new();
        let mut conflicts: Vec<(String, DocConflicts)> = Vec::new();
        let mut snapshots: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut accepted = 0u64;
        let mut refs: Vec<(String, String)> = Vec::new();
        for (upload, committee, _, _, merged) in uploads {
            let Some(new_hashes) = new_hashes.remove(&upload.doc_id) else {
                continue;
            };
            refs.extend(merged.blobs.into_iter().map(|sha| (sha, committee.clone())));
            let (saved, newly) = (merged.snapshot, merged.new_conflicts);
            snapshots.push((&upload.doc_id, saved));
            accepted += new_hashes.len() as u64;
            if !newly.is_empty() {
                conflicts.push((
                    committee.clone(),
                    DocConflicts {
                        doc_id: upload.doc_id.clone(),
                        fields: newly,
                    },
                ));
            }
            received.push((
                committee,
                DocHashes {
                    doc_id: upload.doc_id.clone(),
                    hashes: new_hashes,
                },
            ));
        }
        for batch in snapshots.chunks(SNAPSHOT_BATCH) {
            let rows: Vec<(Val, Val)> = batch
                .iter()
                .map(|(doc_id, snapshot)| (Val::from(*doc_id), Val::from(snapshot.as_slice())))
                .collect();
            tx.update_each("docs", "doc_id", "snapshot", &rows)?;
        }
        refs.sort();
        refs.dedup();
        super::blobs::add_refs(tx.as_mut(), &refs)?;
        let (response_docs, sent, cursor, more) =
            changes_since(tx.as_mut(), device, req.cursor, limits)?;
        let mut written = Vec::new();
        if !replay {
            tx.execute(
                "INSERT INTO syncs (device_id, sync_id, time) VALUES (?1, ?2, ?3)",
                params![&device.device_id, &req.sync_id, now],
            )?;
            // A refusal is logged under the committee the device named, or its first.
            let refused_log: Vec<(String, DocRefusal)> = refused
                .iter()
                .map(|r| {
                    let named = req
                        .docs
                        .iter()
                        .find(|d| d.doc_id == r.doc_id)
                        .and_then(|d| d.committee.clone())
                        .filter(|c| device.committees.contains(c));
                    let committee = named
                        .or_else(|| device.committees.first().cloned())
                        .unwrap_or_default();
                    (committee, r.clone())
                })
                .filter(|(c, _)| !c.is_empty())
                .collect();
            if !received.is_empty() || !sent.is_empty() || !refused_log.is_empty() {
                written = append_log(
                    tx.as_mut(),
                    device,
                    req,
                    now,
                    &received,
                    &sent,
                    &conflicts,
                    &refused_log,
                )?;
            }
        }
        tx.execute(
            "UPDATE devices SET last_sync_at = ?2 WHERE device_id = ?1",
            params![&device.device_id, now],
        )?;
        let key_roster = super::key_roster::for_committees(
            tx.as_mut(),
            &device.committees,
            &req.key_roster,
            now,
        )?;
        let signer = super::merkle::LogSigner::load(tx.as_mut())?;
        let held = super::merkle::witness(
            tx.as_mut(),
            &signer,
            &device.device_id,
            &device.committees,
            &req.log_held,
            now,
        )?;
        let checkpoints = super::merkle::checkpoints(
            tx.as_mut(),
            &signer,
            &device.committees,
            &held,
            |tree, committee, size| {
                // Each entry this sync wrote, with its inclusion proof in the checkpoint.
                for entry in written
                    .iter_mut()
                    .filter(|e| e.committee == committee && (1..=size).contains(&e.seq))
                {
                    entry.proof = tree
                        .inclusion(size, entry.seq - 1)?
                        .into_iter()
                        .map(|h| serde_bytes::ByteBuf::from(h.to_vec()))
                        .collect();
                }
                Ok(())
            },
        )?;
        let seen =
            super::merkle::seen_proofs(tx.as_mut(), &signer, &device.committees, &req.log_seen)?;
        let audit = super::log::audit(tx.as_mut(), &device.committees, &req.log_audit)?;
        tx.commit()?;
        Ok(SyncResponse {
            cursor,
            more,
            accepted,
            docs: response_docs,
            conflicts: conflicts.into_iter().map(|(_, c)| c).collect(),
            refused,
            epoch,
            key_roster,
            checkpoints,
            seen,
            written,
            audit,
        })
    }
}

/// This database's epoch, renewed first when `cursor` is past every change it holds: a
/// device was told of changes the database no longer has (it was restored from a
/// backup), so every device must send what it holds again.
fn current_epoch(tx: &mut dyn Tx, device: &DeviceAuth, cursor: u64) -> Result<String, Failure> {
    let newest = tx
        .query_one("SELECT coalesce(max(seq), 0) FROM changes", &[])?
        .int(0)?;
    if cursor > u64::try_from(newest).unwrap_or(0) {
        let epoch = uuid::Uuid::new_v4().to_string();
        tx.execute(
            "UPDATE server_meta SET value = ?1 WHERE key = 'epoch'",
            crate::params![&epoch],
        )?;
        tracing::warn!(
            device = %device.device_id,
            "a device's cursor is past every change held: the database was restored; \
             a new epoch asks every device to send again"
        );
        return Ok(epoch);
    }
    Ok(tx
        .query_opt("SELECT value FROM server_meta WHERE key = 'epoch'", &[])?
        .map(|row| row.text(0))
        .transpose()?
        .unwrap_or_default())
}

/// The enrolled authors bound to `actors`, each with its key, role, committees and
/// whether it is revoked. An actor bound to no usable key is not among them.
/// The authors of changes relayed from bundles as the key roster version each claim
/// names had them, by (document, change) of the request: only for a change whose author
/// is revoked now, and only when this database issued that version before the
/// revocation (the author enrolled by then, revoked in a later version).
fn relayed_authors(
    tx: &mut dyn Tx,
    req: &SyncRequest,
    parsed: &[Option<Result<Vec<Change>, UploadRefusal>>],
    authors: &std::collections::HashMap<ActorId, Author>,
) -> Result<std::collections::HashMap<(usize, usize), Author>, Failure> {
    use std::collections::HashMap;
    let mut versions: HashMap<&str, Option<(i64, i64)>> = HashMap::new();
    let mut then: HashMap<(ActorId, &str), Option<Author>> = HashMap::new();
    let mut out = HashMap::new();
    for (n, (upload, parsed)) in req.docs.iter().zip(parsed).enumerate() {
        let Some(Ok(changes)) = parsed else {
            continue;
        };
        for claim in &upload.relayed {
            let index = claim.change as usize;
            let Some(change) = changes.get(index) else {
                continue;
            };
            let actor = change.actor_id();
            if !authors.get(actor).is_some_and(|a| a.revoked) {
                continue;
            }
            let version = match versions.get(claim.roster.as_str()) {
                Some(v) => *v,
                None => {
                    let v = super::key_roster::version(tx, &claim.roster)?;
                    versions.insert(&claim.roster, v);
                    v
                }
            };
            let Some((seq, since)) = version else {
                continue;
            };
            let key = (actor.clone(), claim.roster.as_str());
            if !then.contains_key(&key) {
                let author = author_in_version(tx, actor, seq, since)?;
                then.insert(key.clone(), author);
            }
            if let Some(Some(author)) = then.get(&key) {
                out.insert((n, index), author.clone());
            }
        }
    }
    Ok(out)
}

/// The author bound to `actor` as key roster version `seq` (issued at `since`) had it:
/// its enrollments made by then and revoked in a later version.
fn author_in_version(
    tx: &mut dyn Tx,
    actor: &ActorId,
    seq: i64,
    since: i64,
) -> Result<Option<Author>, Failure> {
    let rows = tx.query(
        "SELECT d.device_id, d.public_key, d.role, dc.committee_id
         FROM devices d LEFT JOIN device_committees dc ON dc.device_id = d.device_id
         WHERE d.actor = ?1 AND d.enrolled_at <= ?2 AND d.revoked_in > ?3
         ORDER BY d.enrolled_at, d.device_id",
        params![actor.to_hex_string(), since, seq],
    )?;
    let mut author: Option<Author> = None;
    for row in rows {
        let (Some(key), Some(role)) = (
            PublicKey::from_hex(&row.text(1)?),
            Role::parse(&row.text(2)?),
        ) else {
            continue;
        };
        let author = author.get_or_insert_with(|| Author {
            device_id: row.text(0).unwrap_or_default(),
            key,
            grants: Vec::new(),
            revoked: false,
        });
        if let Some(committee) = row.opt_text(3)? {
            author.grants.push((committee, role));
        }
    }
    Ok(author)
}

fn authors_of<'a>(
    tx: &mut dyn Tx,
    actors: impl Iterator<Item = &'a ActorId>,
) -> Result<std::collections::HashMap<ActorId, Author>, Failure> {
    let mut wanted: Vec<&ActorId> = actors.collect();
    wanted.sort();
    wanted.dedup();
    let mut authors = std::collections::HashMap::new();
    for batch in wanted.chunks(INSERT_BATCH) {
        let marks: Vec<String> = (1..=batch.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT d.actor, d.device_id, d.public_key, d.role,
                    CASE WHEN d.revoked_at IS NULL THEN 0 ELSE 1 END, dc.committee_id
             FROM devices d LEFT JOIN device_committees dc ON dc.device_id = d.device_id
             WHERE d.actor IN ({})
             ORDER BY d.enrolled_at, d.device_id",
            marks.join(", ")
        );
        let values: Vec<Val> = batch.iter().map(|a| Val::Text(a.to_hex_string())).collect();
        for row in tx.query(&sql, &values)? {
            let (Some(actor), Some(key), Some(role)) = (
                hex::decode(row.text(0)?).ok().map(ActorId::from),
                PublicKey::from_hex(&row.text(2)?),
                Role::parse(&row.text(3)?),
            ) else {
                continue;
            };
            let revoked = row.int(4)? != 0;
            // Only enrollments in force grant anything; an actor whose every enrollment
            // is revoked is a revoked author.
            let author = authors.entry(actor).or_insert_with(|| Author {
                device_id: row.text(1).unwrap_or_default(),
                key,
                grants: Vec::new(),
                revoked: true,
            });
            if !revoked {
                if author.revoked {
                    author.revoked = false;
                    author.device_id = row.text(1)?;
                    author.key = key;
                }
                if let Some(committee) = row.opt_text(5)? {
                    author.grants.push((committee, role));
                }
            }
        }
    }
    Ok(authors)
}

/// Why one document is refused, naming it.
fn refused_doc(doc_id: &str, e: &UploadRefusal) -> Failure {
    let message = format!("document {doc_id}: {e}");
    match e {
        UploadRefusal::TooLarge { .. } => Failure::too_large(e.code(), message),
        UploadRefusal::StoredUnreadable(_) => {
            tracing::error!(error = %e, "a stored document cannot be loaded");
            Failure::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                message,
            )
        }
        _ => Failure::bad_request(e.code(), message),
    }
}

/// Refusals of the whole request that need no database: its id and its size.
pub(super) fn check_request(req: &SyncRequest, limits: &Limits) -> Result<(), Failure> {
    if req.sync_id.is_empty() || req.sync_id.len() > 64 {
        return Err(Failure::bad_request(
            "invalid_sync_id",
            "sync_id must be 1–64 characters",
        ));
    }
    if req.docs.len() > limits.documents_per_request {
        return Err(Failure::too_large(
            "too_many_documents",
            format!(
                "{} documents in one request; the limit is {}",
                req.docs.len(),
                limits.documents_per_request
            ),
        ));
    }
    Ok(())
}

/// Refusals of one document that need no database: its id, kind and size, and whether
/// it already came in this request.
pub(super) fn check_doc<'r>(
    d: &'r DocUpload,
    limits: &Limits,
    seen: &mut std::collections::HashSet<&'r str>,
) -> Result<(), Failure> {
    if uuid::Uuid::parse_str(&d.doc_id).is_err() {
        return Err(Failure::bad_request(
            "invalid_doc_id",
            "document ids are UUIDs",
        ));
    }
    if !seen.insert(d.doc_id.as_str()) {
        return Err(Failure::bad_request(
            "duplicate_document",
            format!("document {} appears twice in one request", d.doc_id),
        ));
    }
    if !matches!(
        d.kind.as_str(),
        "resident" | "authorization" | "application" | "visit"
    ) {
        return Err(Failure::bad_request(
            "unknown_kind",
            format!("document {}: unknown kind", d.doc_id),
        ));
    }
    if d.changes.is_empty() {
        return Err(Failure::bad_request(
            "no_changes",
            format!("document {} carries no changes", d.doc_id),
        ));
    }
    let bytes: usize = d.changes.iter().map(|c| c.len()).sum();
    if bytes > limits.document_bytes {
        return Err(Failure::too_large(
            "document_too_large",
            format!(
                "document {} carries {bytes} bytes; the limit is {}",
                d.doc_id, limits.document_bytes
            ),
        ));
    }
    Ok(())
}

/// The committee of an uploaded document: fixed when the server first saw it; for a
/// new document, the device's committee (or the one it names, if it has several).
pub(super) fn committee_for(
    device: &DeviceAuth,
    upload: &DocUpload,
    known: Option<(String, String, Vec<u8>)>,
) -> Result<(String, Option<Vec<u8>>), Failure> {
    if let Some((committee, kind, snapshot)) = known {
        if !device.committees.contains(&committee) {
            return Err(Failure::forbidden(
                "cross_committee",
                format!("document {} belongs to another committee", upload.doc_id),
            ));
        }
        if kind != upload.kind {
            return Err(Failure::bad_request(
                "kind_mismatch",
                format!("document {} is a {kind}", upload.doc_id),
            ));
        }
        return Ok((committee, Some(snapshot)));
    }
    let committee = match (&upload.committee, device.committees.as_slice()) {
        (Some(c), scope) if scope.contains(c) => c.clone(),
        (Some(c), _) => {
            return Err(Failure::forbidden(
                "committee_forbidden",
                format!("committee {c} is not one of this device's"),
            ));
        }
        (None, [only]) => only.clone(),
        (None, _) => {
            return Err(Failure::bad_request(
                "committee_required",
                format!(
                    "document {} is new: say which committee it belongs to",
                    upload.doc_id
                ),
            ));
        }
    };
    Ok((committee, None))
}

/// A stored document's committee, kind and snapshot, by its id.
type KnownDocs = std::collections::HashMap<String, (String, String, Vec<u8>)>;

/// Committee, kind and snapshot of the request's documents the server already holds.
pub(super) fn known_docs(tx: &mut dyn Tx, docs: &[DocUpload]) -> Result<KnownDocs, Failure> {
    let mut known = std::collections::HashMap::new();
    for batch in docs.chunks(INSERT_BATCH) {
        let marks: Vec<String> = (1..=batch.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT doc_id, committee_id, kind, snapshot FROM docs WHERE doc_id IN ({})",
            marks.join(", ")
        );
        let values: Vec<Val> = batch.iter().map(|d| Val::from(&d.doc_id)).collect();
        for row in tx.query(&sql, &values)? {
            known.insert(row.text(0)?, (row.text(1)?, row.text(2)?, row.bytes(3)?));
        }
    }
    Ok(known)
}

type Sent = (Vec<DocDownload>, Vec<(String, DocHashes)>, u64, bool);

/// The changes of the device's scope stored after `cursor`, other than its own, up to the
/// response limit; the new cursor; and whether more remain.
pub(super) fn changes_since(
    tx: &mut dyn Tx,
    device: &DeviceAuth,
    cursor: u64,
    limits: &Limits,
) -> Result<Sent, Failure> {
    let cursor_i = i64::try_from(cursor).unwrap_or(i64::MAX);
    // One indexed range per committee (committee_id, seq), merged here: a single query
    // over all of them with ORDER BY seq lets a planner walk every change in the table.
    let mut rows = Vec::new();
    for committee in &device.committees {
        rows.extend(tx.query(
            "SELECT c.seq, c.doc_id, d.kind, c.committee_id, c.hash, c.bytes, c.signature
             FROM changes c JOIN docs d ON d.doc_id = c.doc_id
             WHERE c.committee_id = ?1 AND c.seq > ?2 AND c.device_id != ?3
             ORDER BY c.seq LIMIT ?4",
            params![
                committee,
                cursor_i,
                &device.device_id,
                CHANGES_PER_ANSWER + 1
            ],
        )?);
    }
    if device.committees.len() > 1 {
        rows.sort_by_key(|r| r.int(0).unwrap_or(i64::MAX));
    }
    let mut docs: Vec<DocDownload> = Vec::new();
    let mut sent: Vec<(String, DocHashes)> = Vec::new();
    let mut index = std::collections::HashMap::<String, usize>::new();
    let mut bytes = 0usize;
    let mut last_seq = None;
    let mut more = false;
    for (n, row) in rows.into_iter().enumerate() {
        let change = row.bytes(5)?;
        if n as i64 == CHANGES_PER_ANSWER
            || (bytes > 0 && bytes + change.len() > limits.response_bytes)
        {
            more = true;
            break;
        }
        bytes += change.len();
        let doc_id = row.text(1)?;
        let i = match index.get(&doc_id) {
            Some(&i) => i,
            None => {
                let committee = row.text(3)?;
                docs.push(DocDownload {
                    doc_id: doc_id.clone(),
                    kind: row.text(2)?,
                    committee: committee.clone(),
                    changes: Vec::new(),
                    signatures: Vec::new(),
                });
                sent.push((
                    committee,
                    DocHashes {
                        doc_id: doc_id.clone(),
                        hashes: Vec::new(),
                    },
                ));
                index.insert(doc_id, docs.len() - 1);
                docs.len() - 1
            }
        };
        docs[i].changes.push(serde_bytes::ByteBuf::from(change));
        let signature = hex::decode(row.text(6)?).unwrap_or_default();
        docs[i]
            .signatures
            .push(serde_bytes::ByteBuf::from(signature));
        sent[i].1.hashes.push(row.text(4)?);
        last_seq = Some(row.int(0)?);
    }
    let new_cursor = if more {
        last_seq.map_or(cursor, |s| u64::try_from(s).unwrap_or(cursor))
    } else {
        // Past everything in scope, the device's own changes included.
        let mut max = 0;
        for committee in &device.committees {
            max = max.max(
                tx.query_one(
                    "SELECT coalesce(max(seq), 0) FROM changes WHERE committee_id = ?1",
                    params![committee],
                )?
                .int(0)?,
            );
        }
        cursor.max(u64::try_from(max).unwrap_or(0))
    };
    Ok((docs, sent, new_cursor, more))
}
