//! Attachments on the device: blobs stored once by their SHA-256, and a record's
//! attachments added and removed, each file judged by its bytes; a photo taken with the
//! guided camera keeps its quality record, and an ID-card photo gets a copy stamped with
//! the day and the volunteer's name beside the original ([`crate::stamp`]).

use doorstep_core::ErrorCode;
use doorstep_core::application::{self, Attachment};
use doorstep_core::attachment::Stamp;
use doorstep_core::catalog::Capture;
use doorstep_core::date::format_ymd;
use doorstep_core::photo_quality::PhotoQuality;
use doorstep_core::{DocId, Field, FieldErrors};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::device::Device;
use crate::docs;
use crate::error::DeviceError;
use crate::projection::project;
use crate::stamp;

/// The largest attachment accepted, in bytes (a phone photo is 2–6 MB).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Device {
    /// Stores a blob once (by its SHA-256) and returns its hash. Refuses blobs larger
    /// than [`MAX_ATTACHMENT_BYTES`] and empty ones.
    pub fn store_blob(&mut self, bytes: &[u8]) -> Result<String, DeviceError> {
        check_blob(bytes)?;
        let sha = sha256_hex(bytes);
        let now = self.now();
        let tx = self.store.transaction()?;
        put_blob(&tx, &sha, bytes, false, now)?;
        tx.commit()?;
        Ok(sha)
    }

    /// A stored blob's bytes.
    pub fn blob(&self, sha256: &str) -> Result<Vec<u8>, DeviceError> {
        self.store
            .conn()
            .prepare_cached("SELECT bytes FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |r| r.get(0))
            .optional()?
            .ok_or_else(|| DeviceError::NotFound(format!("blob {sha256}")))
    }

    pub(crate) fn has_blob(&self, sha256: &str) -> Result<bool, DeviceError> {
        Ok(self
            .store
            .conn()
            .prepare_cached("SELECT 1 FROM blobs WHERE sha256 = ?1")?
            .query_row([sha256], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Attaches a file to a slot of a draft (or returned) application. The slot says which
    /// files it takes, and the bytes say what the file is: its media type is the one found
    /// in them, whatever the name claims. The blob is stored once however often it is
    /// attached; returns its SHA-256.
    pub fn attach_file(
        &mut self,
        id: &DocId,
        slot: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<String, DeviceError> {
        self.attach_photo(id, slot, name, bytes, None)
    }

    /// [`Device::attach_file`] for a photo taken with the guided camera, with its quality
    /// record (JSON from the window: see `doorstep_core::photo_quality`), which is
    /// checked before anything is saved and kept with the attachment.
    pub fn attach_photo(
        &mut self,
        id: &DocId,
        slot: &str,
        name: &str,
        bytes: &[u8],
        quality: Option<&str>,
    ) -> Result<String, DeviceError> {
        check_blob(bytes)?;
        let quality = match quality {
            None => None,
            Some(json) => Some(PhotoQuality::parse(json).map_err(|_| {
                let mut errors = FieldErrors::default();
                errors.push_key(Field::Attachment, slot, ErrorCode::PhotoQualityInvalid);
                DeviceError::Invalid(errors)
            })?),
        };
        let (mut loaded, approved) = self.load_changeable(id)?;
        let app = application::read(&loaded.doc)?;
        let Some(def) = self
            .catalog
            .service(&app.service)
            .and_then(|s| s.attachment(slot))
        else {
            let mut errors = FieldErrors::default();
            errors.push_key(Field::Attachment, slot, ErrorCode::AttachmentSlotUnknown);
            return Err(DeviceError::Invalid(errors));
        };
        let Some(mime) = def.accepts.media_type(bytes) else {
            let mut errors = FieldErrors::default();
            errors.push_key(Field::Attachment, slot, def.accepts.refusal_code());
            return Err(DeviceError::Invalid(errors));
        };
        let sha = sha256_hex(bytes);
        let now = self.now();
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        // An ID-card photo gets a copy with the day and the volunteer's name on it,
        // drawn here (never by the window), before anything is saved.
        let stamped = match def.capture {
            Some(Capture::IdCard) => {
                let (copy, stamp) = self.stamped_copy(bytes, &sha)?;
                Some((sha256_hex(&copy), copy, stamp))
            }
            None => None,
        };
        application::write_attachment(
            &mut loaded.doc,
            &Attachment {
                sha256: sha.clone(),
                slot: slot.to_owned(),
                name: name.trim().chars().take(120).collect(),
                mime: mime.to_owned(),
                size,
                added_at: now,
                // A quality record belongs to a photo, not to a PDF.
                quality: quality.filter(|_| mime.starts_with("image/")),
                quality_unreadable: false,
                stamp: None,
            },
        )?;
        if let Some((copy_sha, copy, stamp)) = &stamped {
            application::write_attachment(
                &mut loaded.doc,
                &Attachment {
                    sha256: copy_sha.clone(),
                    slot: slot.to_owned(),
                    name: format!("{slot}-dated.jpg"),
                    mime: "image/jpeg".to_owned(),
                    size: i64::try_from(copy.len()).unwrap_or(i64::MAX),
                    added_at: now,
                    quality: None,
                    quality_unreadable: false,
                    stamp: Some(stamp.clone()),
                },
            )?;
        }
        if approved {
            self.reopen(&mut loaded.doc, now)?;
        }
        self.note("attach_file").commit(&mut loaded.doc, now);
        let signer = self.signer()?;
        let tx = self.store.transaction()?;
        put_blob(&tx, &sha, bytes, false, now)?;
        if let Some((copy_sha, copy, _)) = &stamped {
            put_blob(&tx, copy_sha, copy, false, now)?;
        }
        docs::save_changes(&tx, &signer, id, &mut loaded)?;
        project(&self.catalog, &tx, id, &mut loaded.doc, now)?;
        tx.commit()?;
        self.cache.borrow_mut().put_owned(id, loaded.doc);
        Ok(sha)
    }

    /// A copy of the photo `bytes` (whose hash is `sha`) stamped with today's date and
    /// this device's volunteer, with what the stamp says.
    fn stamped_copy(&self, bytes: &[u8], sha: &str) -> Result<(Vec<u8>, Stamp), DeviceError> {
        let font_file = crate::receipt::find_font().ok_or_else(|| DeviceError::Photo {
            code: ErrorCode::StampFontMissing,
            reason: "no CJK font installed".into(),
        })?;
        let font = std::fs::read(&font_file).map_err(|e| DeviceError::Photo {
            code: ErrorCode::StampFontMissing,
            reason: format!("{}: {e}", font_file.display()),
        })?;
        let today = self.today();
        let copy = stamp::stamp(bytes, &stamp::stamp_text(today, &self.volunteer), &font)?;
        Ok((
            copy,
            Stamp {
                of: sha.to_owned(),
                date: format_ymd(today),
                by: self.volunteer.trim().to_owned(),
            },
        ))
    }

    /// Removes an attachment from a draft (or returned) application, to retake a photo
    /// or drop a wrong file. The blob stays on the device (another record may use it),
    /// and the attachment stays in the record's history.
    pub fn remove_attachment(&mut self, id: &DocId, sha256: &str) -> Result<(), DeviceError> {
        let (mut loaded, approved) = self.load_changeable(id)?;
        let sha = sha256.trim().to_ascii_lowercase();
        if !application::remove_attachment(&mut loaded.doc, &sha)? {
            return Err(DeviceError::NotFound(format!("attachment {sha}")));
        }
        self.save_change(id, loaded, approved, "remove_attachment")
    }
}

fn check_blob(bytes: &[u8]) -> Result<(), DeviceError> {
    if bytes.is_empty() {
        return Err(DeviceError::AttachmentEmpty);
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(DeviceError::AttachmentTooLarge {
            size: bytes.len(),
            max: MAX_ATTACHMENT_BYTES,
        });
    }
    Ok(())
}

/// Stores a blob once, however often it arrives; `uploaded` when the server is known to
/// hold it already. A blob that records were waiting for is no longer wanted.
pub(crate) fn put_blob(
    tx: &rusqlite::Transaction<'_>,
    sha: &str,
    bytes: &[u8],
    uploaded: bool,
    now: i64,
) -> Result<usize, DeviceError> {
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO blobs (sha256, size, bytes, created_at, uploaded)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![sha, bytes.len() as i64, bytes, now, uploaded])?;
    tx.prepare_cached("DELETE FROM blob_wanted WHERE sha256 = ?1")?
        .execute([sha])?;
    Ok(inserted)
}
