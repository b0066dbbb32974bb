//! What goes up in one request: the waiting records in `doc_id` order, a batch at a
//! time, under limits of records and bytes (which a run halves when a server takes less),
//! so that any backlog, a first sync of a whole roster or a re-enrollment goes up in
//! requests a server takes, and an interrupted sync resumes with what still waits.

use doorstep_core::DocId;
use doorstep_core::protocol::DocUpload;
use rusqlite::params;

use super::refusals::{self, note_refusal};
use super::{Sent, heads_from};
use crate::device::Device;
use crate::docs::{self, Access};
use crate::error::DeviceError;

/// The most records one request carries (fewer when the server says so).
pub const DOCS_PER_REQUEST: usize = 1_000;
/// The most change bytes of one record this device sends: three quarters of a
/// server's default request limit (32 MiB), so that the request's framing fits too.
/// Beyond, the record waits here with why; below, the server judges it by its own
/// limits.
pub const MAX_RECORD_BYTES: usize = 24 * 1024 * 1024;
/// About the most change bytes one request carries (one record may pass it).
pub const BYTES_PER_REQUEST: usize = 4 * 1024 * 1024;
/// Dirty records read from the store at a time while a batch is gathered.
const DIRTY_PAGE: usize = 500;

/// One request's worth of waiting records.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) uploads: Vec<DocUpload>,
    pub(crate) sent: Sent,
    /// The last record looked at: the next batch starts after it.
    pub(crate) last: Option<String>,
    /// Whether the batch stopped at a limit (more may wait after `last`).
    pub(crate) full: bool,
    /// Records refused here, too large for any request.
    pub(crate) refused_here: Vec<DocId>,
}

impl Device {
    /// The next batch of dirty records after `after` (in `doc_id` order), each with its
    /// changes since the heads the server acknowledged and the heads it is at now; at
    /// most [`DOCS_PER_REQUEST`] records and about [`BYTES_PER_REQUEST`] bytes, so that
    /// any backlog goes up in requests the server takes. A dirty record with nothing
    /// new is simply synced; one the server refused and not changed since stays
    /// waiting, unsent; one too large for any request is refused here.
    pub(crate) fn collect_dirty(
        &mut self,
        after: Option<&str>,
        max_docs: usize,
        max_bytes: usize,
    ) -> Result<Batch, DeviceError> {
        type Dirty = (
            String,
            String,
            Option<Vec<u8>>,
            Option<String>,
            Option<Vec<u8>>,
            Option<String>,
        );
        let mut batch = Batch::default();
        let mut bytes = 0usize;
        let mut nothing_new = Vec::new();
        let mut too_large = Vec::new();
        let mut from = after.map(str::to_owned);
        'pages: loop {
            let page: Vec<Dirty> = {
                let mut stmt = self.store.conn().prepare_cached(
                    "SELECT d.doc_id, d.kind, s.heads, d.committee, r.heads, r.code FROM dirty
                     JOIN docs d USING (doc_id) LEFT JOIN synced s USING (doc_id)
                     LEFT JOIN refused r USING (doc_id)
                     WHERE d.quarantined IS NULL AND (?1 IS NULL OR d.doc_id > ?1)
                     ORDER BY d.doc_id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![from, DIRTY_PAGE as i64], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            let last_page = page.len() < DIRTY_PAGE;
            for (doc_id, kind, heads, committee, refused_at, refused_code) in page {
                if batch.uploads.len() >= max_docs || bytes >= max_bytes {
                    batch.full = true;
                    break 'pages;
                }
                from = Some(doc_id.clone());
                let id =
                    DocId::parse(&doc_id).ok_or_else(|| DeviceError::NotFound(doc_id.clone()))?;
                let mut loaded = match docs::load_for(
                    &self.store,
                    &self.cache,
                    &id,
                    &self.actor,
                    Access::Read,
                ) {
                    Ok(loaded) => loaded,
                    // A quarantined record stays on the device for a person to look at.
                    Err(DeviceError::Quarantined(_)) => continue,
                    Err(e) => return Err(e),
                };
                let now_heads = loaded.doc.get_heads();
                // Refused for what the record holds: not again until it changes. Refused
                // for anything else (the server's storage, the device's committees): each
                // sync tries again.
                if refused_code
                    .as_deref()
                    .is_some_and(refusals::is_about_the_record)
                    && refused_at.as_deref().map(heads_from).as_ref() == Some(&now_heads)
                {
                    continue;
                }
                let since = heads.as_deref().map(heads_from).unwrap_or_default();
                let new = loaded.doc.get_changes(&since);
                if new.is_empty() {
                    nothing_new.push(id);
                    continue;
                }
                let signatures = self.attest_outgoing(&doc_id, &new)?;
                let relayed = crate::attest::relayed_of(self.store.conn(), &doc_id, &new)?;
                let changes: Vec<serde_bytes::ByteBuf> = new
                    .iter()
                    .map(|c| serde_bytes::ByteBuf::from(c.raw_bytes().to_vec()))
                    .collect();
                let size: usize = changes.iter().map(|c| c.len()).sum();
                if size > MAX_RECORD_BYTES {
                    too_large.push((id, now_heads, size));
                    continue;
                }
                bytes += size;
                batch.last = Some(doc_id.clone());
                batch.sent.0.push((id, now_heads));
                batch.uploads.push(DocUpload {
                    doc_id,
                    kind,
                    committee,
                    changes,
                    signatures,
                    relayed,
                });
            }
            if last_page {
                break;
            }
        }
        if batch.last.is_none() {
            batch.last = from;
        }
        if !nothing_new.is_empty() || !too_large.is_empty() {
            let now = self.now();
            let tx = self.store.transaction()?;
            for id in &nothing_new {
                tx.prepare_cached("DELETE FROM dirty WHERE doc_id = ?1")?
                    .execute([id.as_str()])?;
                tx.prepare_cached("DELETE FROM refused WHERE doc_id = ?1")?
                    .execute([id.as_str()])?;
            }
            for (id, heads, size) in &too_large {
                let message = format!(
                    "the record holds {size} bytes of changes; no request may carry more \
                     than {MAX_RECORD_BYTES}"
                );
                note_refusal(&tx, id, heads, "document_too_large", &message, now)?;
                batch.refused_here.push(id.clone());
            }
            tx.commit()?;
        }
        Ok(batch)
    }
}
