//! An application's attachments, in its document's map `attachments`, keyed by the
//! blob's SHA-256 (a map, so attaching on two devices keeps both). Each entry: `slot`,
//! `name`, `mime`, `size`, `added_at`; for a photo taken with the guided camera its
//! `quality` record (JSON, see [`crate::photo_quality`]); for a stamped copy of a photo,
//! `stamp_of` (the original's SHA-256), `stamp_date` and `stamp_by` (what the stamp
//! says: the day and the volunteer's name).

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::Serialize;

use crate::error::CoreError;
use crate::photo_quality::PhotoQuality;
use crate::value::{self, FieldValue};

/// What was stamped onto a copy of a photo, and of which photo it is a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Stamp {
    /// The original's SHA-256: kept beside the copy, unchanged.
    pub of: String,
    /// The day stamped, `YYYY-MM-DD`.
    pub date: String,
    /// The volunteer's name stamped.
    pub by: String,
}

/// An attachment of an application.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Attachment {
    pub sha256: String,
    pub slot: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub added_at: i64,
    /// How a photo taken with the guided camera was taken (none for a chosen file).
    pub quality: Option<PhotoQuality>,
    /// The record holds a quality record that does not read as one.
    pub quality_unreadable: bool,
    /// This is a copy of another attachment with the date and the volunteer's name
    /// stamped on it.
    pub stamp: Option<Stamp>,
}

fn attachments_obj(doc: &impl ReadDoc) -> Result<Option<ObjId>, CoreError> {
    Ok(match doc.get(ROOT, "attachments")? {
        Some((Value::Object(ObjType::Map), id)) => Some(id),
        _ => None,
    })
}

fn text_in(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Result<String, CoreError> {
    Ok(value::get_in(doc, obj, key)?
        .as_ref()
        .and_then(FieldValue::as_text)
        .unwrap_or_default()
        .to_owned())
}

fn int_in(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Result<i64, CoreError> {
    Ok(match value::get_in(doc, obj, key)? {
        Some(FieldValue::Int(i) | FieldValue::Time(i)) => i,
        _ => 0,
    })
}

/// Adds an attachment entry keyed by its hash (re-attaching the same blob changes
/// nothing but its slot).
pub fn write(doc: &mut AutoCommit, a: &Attachment) -> Result<(), CoreError> {
    let obj = match attachments_obj(doc)? {
        Some(id) => id,
        None => doc.put_object(ROOT, "attachments", ObjType::Map)?,
    };
    let entry = doc.put_object(&obj, a.sha256.as_str(), ObjType::Map)?;
    doc.put(&entry, "slot", a.slot.as_str())?;
    doc.put(&entry, "name", a.name.as_str())?;
    doc.put(&entry, "mime", a.mime.as_str())?;
    doc.put(&entry, "size", a.size)?;
    doc.put(&entry, "added_at", ScalarValue::Timestamp(a.added_at))?;
    if let Some(q) = &a.quality {
        doc.put(&entry, "quality", q.to_json())?;
    }
    if let Some(s) = &a.stamp {
        doc.put(&entry, "stamp_of", s.of.as_str())?;
        doc.put(&entry, "stamp_date", s.date.as_str())?;
        doc.put(&entry, "stamp_by", s.by.as_str())?;
    }
    Ok(())
}

/// Removes the attachment with this hash, and any stamped copy of it; whether there
/// was one.
pub fn remove(doc: &mut AutoCommit, sha256: &str) -> Result<bool, CoreError> {
    let Some(obj) = attachments_obj(doc)? else {
        return Ok(false);
    };
    if doc.get(&obj, sha256)?.is_none() {
        return Ok(false);
    }
    let copies: Vec<String> = read_all(doc)?
        .into_iter()
        .filter(|a| a.stamp.as_ref().is_some_and(|s| s.of == sha256))
        .map(|a| a.sha256)
        .collect();
    doc.delete(&obj, sha256)?;
    for copy in copies {
        doc.delete(&obj, copy.as_str())?;
    }
    Ok(true)
}

/// Every attachment of the document, in hash order.
pub fn read_all(doc: &impl ReadDoc) -> Result<Vec<Attachment>, CoreError> {
    let mut attachments = Vec::new();
    let Some(obj) = attachments_obj(doc)? else {
        return Ok(attachments);
    };
    for hash in doc.keys(&obj) {
        if let Some((Value::Object(ObjType::Map), entry)) = doc.get(&obj, &hash)? {
            let kept = text_in(doc, &entry, "quality")?;
            let quality = (!kept.is_empty())
                .then(|| PhotoQuality::parse(&kept).ok())
                .flatten();
            let of = text_in(doc, &entry, "stamp_of")?;
            let stamp = if of.is_empty() {
                None
            } else {
                Some(Stamp {
                    of,
                    date: text_in(doc, &entry, "stamp_date")?,
                    by: text_in(doc, &entry, "stamp_by")?,
                })
            };
            attachments.push(Attachment {
                quality_unreadable: !kept.is_empty() && quality.is_none(),
                quality,
                slot: text_in(doc, &entry, "slot")?,
                name: text_in(doc, &entry, "name")?,
                mime: text_in(doc, &entry, "mime")?,
                size: int_in(doc, &entry, "size")?,
                added_at: int_in(doc, &entry, "added_at")?,
                stamp,
                sha256: hash,
            });
        }
    }
    Ok(attachments)
}
