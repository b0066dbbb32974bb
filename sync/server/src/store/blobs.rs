//! Attachments (photos, signatures): uploaded in pieces, resumable, stored once by
//! SHA-256. A device may check, complete or read an attachment only when a record of
//! one of its committees that the server accepted refers to it; about any other it
//! learns exactly what it would of an attachment that does not exist.

use crate::db::Tx;
use crate::params;
use doorstep_core::protocol::{BlobStatus, Limits};

use super::Store;
use super::enrollment::DeviceAuth;
use super::sha256_hex;
use crate::error::Failure;

/// One piece of an attachment upload.
#[derive(Debug, Clone, Copy)]
pub struct BlobPiece<'a> {
    pub sha256: &'a str,
    /// Where the piece starts in the attachment.
    pub offset: u64,
    /// The attachment's whole size.
    pub size: u64,
    pub bytes: &'a [u8],
}

impl Store {
    /// How much of a blob the server holds, for a blob the device's committees' records
    /// refer to; of any other, what is said of a blob the server has never seen.
    pub fn blob_status(
        &mut self,
        device: &DeviceAuth,
        sha256: &str,
    ) -> Result<BlobStatus, Failure> {
        check_sha(sha256)?;
        let mut tx = self.db.begin(false)?;
        if !referenced(tx.as_mut(), device, sha256)? {
            return Ok(unknown_blob(sha256));
        }
        blob_row(tx.as_mut(), sha256)
    }

    /// Stores bytes `offset..` of a blob of `size` bytes. Pieces must come in order
    /// (`offset` equal to what the server holds); the last one completes the blob, whose
    /// SHA-256 must then match its name.
    pub fn blob_put(
        &mut self,
        device: &DeviceAuth,
        piece: &BlobPiece<'_>,
        limits: &Limits,
        now: i64,
    ) -> Result<BlobStatus, Failure> {
        let BlobPiece {
            sha256,
            offset,
            size,
            bytes,
        } = *piece;
        check_sha(sha256)?;
        if size == 0 {
            return Err(Failure::bad_request(
                "blob_empty",
                "an attachment cannot be empty",
            ));
        }
        if size > limits.blob_bytes {
            return Err(Failure::too_large(
                "blob_too_large",
                format!(
                    "the attachment is {size} bytes; the limit is {}",
                    limits.blob_bytes
                ),
            ));
        }
        let mut tx = self.db.begin(true)?;
        if !referenced(tx.as_mut(), device, sha256)? {
            // The same answer whether or not the server holds it.
            return Err(Failure::new(
                axum::http::StatusCode::CONFLICT,
                "blob_unreferenced",
                "no record of this device's committees refers to this attachment; \
                 send the record first",
            ));
        }
        // Uploads left unfinished too long go first, so that no device can fill the
        // disk with starts it never completes.
        expire_partial(tx.as_mut(), now, limits.partial_blob_hours)?;
        let status = blob_row(tx.as_mut(), sha256)?;
        if status.complete {
            tx.commit()?;
            return Ok(status);
        }
        if status.size.is_some_and(|known| known != size) {
            return Err(Failure::bad_request(
                "blob_size_mismatch",
                "this attachment was started with another size",
            ));
        }
        if offset != status.received {
            return Err(Failure::new(
                axum::http::StatusCode::CONFLICT,
                "offset_mismatch",
                format!(
                    "the server holds {} bytes of this attachment; resume there",
                    status.received
                ),
            ));
        }
        let end = offset + bytes.len() as u64;
        if end > size {
            return Err(Failure::bad_request(
                "blob_overflow",
                "more bytes than the attachment's size",
            ));
        }
        if bytes.is_empty() {
            return Err(Failure::bad_request("blob_empty", "send at least one byte"));
        }
        let offset_i = i64::try_from(offset).map_err(Failure::storage)?;
        let size_i = i64::try_from(size).map_err(Failure::storage)?;
        let end_i = i64::try_from(end).map_err(Failure::storage)?;
        tx.execute(
            "INSERT INTO blobs (sha256, size, received, created_at) VALUES (?1, ?2, 0, ?3)
             ON CONFLICT (sha256) DO NOTHING",
            params![sha256, size_i, now],
        )?;
        tx.execute(
            "INSERT INTO blob_chunks (sha256, at, bytes) VALUES (?1, ?2, ?3)",
            params![sha256, offset_i, bytes],
        )?;
        // `created_at` of an unfinished upload is when its last piece came: an upload
        // that goes on, however slowly, is never swept away.
        tx.execute(
            "UPDATE blobs SET received = ?2, created_at = ?3 WHERE sha256 = ?1",
            params![sha256, end_i, now],
        )?;
        if end == size {
            let whole = read_blob(tx.as_mut(), sha256)?;
            if sha256_hex(&whole) != sha256 {
                // Start over: a piece was damaged on the way.
                tx.execute("DELETE FROM blob_chunks WHERE sha256 = ?1", params![sha256])?;
                tx.execute("DELETE FROM blobs WHERE sha256 = ?1", params![sha256])?;
                tx.commit()?;
                return Err(Failure::bad_request(
                    "blob_hash_mismatch",
                    "the attachment's bytes do not match its SHA-256; send it again",
                ));
            }
            tx.execute(
                "UPDATE blobs SET complete = 1 WHERE sha256 = ?1",
                params![sha256],
            )?;
        }
        let status = blob_row(tx.as_mut(), sha256)?;
        tx.commit()?;
        Ok(status)
    }

    /// A complete blob's bytes from `offset`, if the device's committees may read it.
    pub fn blob_get(
        &mut self,
        device: &DeviceAuth,
        sha256: &str,
        offset: u64,
    ) -> Result<Vec<u8>, Failure> {
        check_sha(sha256)?;
        let mut tx = self.db.begin(false)?;
        let complete = tx
            .query_opt(
                "SELECT 1 FROM blobs WHERE sha256 = ?1 AND complete = 1",
                params![sha256],
            )?
            .is_some();
        if !complete || !referenced(tx.as_mut(), device, sha256)? {
            return Err(Failure::not_found(
                "blob_unknown",
                "no such attachment for this device's committees",
            ));
        }
        let whole = read_blob(tx.as_mut(), sha256)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(whole.len());
        Ok(whole[start..].to_vec())
    }
}

/// The pieces and the uploads unfinished since before `?1`: run at every piece
/// received, so found through `blobs_unfinished` and never by reading every attachment
/// (checked by `plans.rs`).
pub(super) const EXPIRE_CHUNKS: &str = "DELETE FROM blob_chunks WHERE sha256 IN (
    SELECT sha256 FROM blobs WHERE complete = 0 AND created_at < ?1)";
pub(super) const EXPIRE_BLOBS: &str = "DELETE FROM blobs WHERE complete = 0 AND created_at < ?1";

/// Deletes the unfinished uploads whose last piece came more than `hours` (at least
/// one) before `now`; returns how many.
pub(super) fn expire_partial(tx: &mut dyn Tx, now: i64, hours: u32) -> Result<u64, Failure> {
    let before = now - i64::from(hours.max(1)) * 3_600_000;
    tx.execute(EXPIRE_CHUNKS, params![before])?;
    let n = tx.execute(EXPIRE_BLOBS, params![before])?;
    if n > 0 {
        tracing::info!(uploads = n, "unfinished attachment uploads expired");
    }
    Ok(n)
}

pub(super) fn check_sha(sha256: &str) -> Result<(), Failure> {
    if doorstep_core::blobs::is_sha256_hex(sha256) {
        Ok(())
    } else {
        Err(Failure::bad_request(
            "invalid_blob_hash",
            "an attachment is named by its SHA-256 in lowercase hex",
        ))
    }
}

pub(super) fn blob_row(tx: &mut dyn Tx, sha256: &str) -> Result<BlobStatus, Failure> {
    Ok(
        match tx.query_opt(
            "SELECT size, received, complete FROM blobs WHERE sha256 = ?1",
            params![sha256],
        )? {
            Some(row) => BlobStatus {
                sha256: sha256.to_owned(),
                size: u64::try_from(row.int(0)?).ok(),
                received: u64::try_from(row.int(1)?).unwrap_or(0),
                complete: row.int(2)? != 0,
            },
            None => unknown_blob(sha256),
        },
    )
}

/// Whether an accepted record of one of the device's committees refers to the blob.
fn referenced(tx: &mut dyn Tx, device: &DeviceAuth, sha256: &str) -> Result<bool, Failure> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM blob_refs WHERE sha256 = ?1 AND committee_id IN (
                SELECT committee_id FROM device_committees WHERE device_id = ?2)",
            params![sha256, &device.device_id],
        )?
        .is_some())
}

/// What is said of a blob the server has never seen.
fn unknown_blob(sha256: &str) -> BlobStatus {
    BlobStatus {
        sha256: sha256.to_owned(),
        size: None,
        received: 0,
        complete: false,
    }
}

/// Notes that accepted records of these committees refer to these blobs
/// (`(sha256, committee)`).
pub(super) fn add_refs(tx: &mut dyn Tx, refs: &[(String, String)]) -> Result<(), Failure> {
    for batch in refs.chunks(200) {
        let mut sql = String::from("INSERT INTO blob_refs (sha256, committee_id) VALUES ");
        let mut values: Vec<crate::db::Val> = Vec::with_capacity(batch.len() * 2);
        for (i, (sha, committee)) in batch.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(?{}, ?{})", 2 * i + 1, 2 * i + 2));
            values.push(crate::db::Val::from(sha.as_str()));
            values.push(crate::db::Val::from(committee.as_str()));
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        tx.execute(&sql, &values)?;
    }
    Ok(())
}

pub(super) fn read_blob(tx: &mut dyn Tx, sha256: &str) -> Result<Vec<u8>, Failure> {
    let mut whole = Vec::new();
    for row in tx.query(
        "SELECT bytes FROM blob_chunks WHERE sha256 = ?1 ORDER BY at",
        params![sha256],
    )? {
        whole.extend_from_slice(&row.bytes(0)?);
    }
    Ok(whole)
}
