//! The `resident` record: its input form, validation, and its layout in an Automerge
//! document (one document per resident, scalar fields at the root).
//!
//! Layout (schema 1): `kind = "resident"`, `schema = 1`, `name`, `id_number`, `phone`,
//! `created_at` (ms since the epoch). Scalar fields merge as last-writer-wins with both
//! values kept by Automerge when written concurrently, so conflicts can be shown later.

use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, Value, transaction::Transactable};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, FieldErrors};
use crate::field::Field;
use crate::id_number::IdNumber;
use crate::phone;

pub const KIND: &str = "resident";
pub const SCHEMA: i64 = 1;
/// Longest accepted name, in characters.
pub const NAME_MAX_CHARS: usize = 50;

/// What a volunteer types to register a resident.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ResidentInput {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
}

/// A resident input that passed validation, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidResident {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: String,
}

impl ResidentInput {
    /// Checks every field and reports all refused fields together.
    pub fn validate(&self) -> Result<ValidResident, CoreError> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(Field::Name, "name_empty");
        } else if name.chars().count() > NAME_MAX_CHARS {
            errors.push(Field::Name, "name_too_long");
        } else if name.chars().any(char::is_control) {
            errors.push(Field::Name, "name_chars");
        }
        let id_number = IdNumber::parse(&self.id_number)
            .map_err(|e| errors.push(Field::IdNumber, e.code()))
            .ok();
        let phone = phone::normalize(&self.phone)
            .map_err(|code| errors.push(Field::Phone, code))
            .ok();
        match (id_number, phone) {
            (Some(id_number), Some(phone)) if errors.is_empty() => Ok(ValidResident {
                name: name.to_owned(),
                id_number,
                phone,
            }),
            _ => Err(CoreError::Invalid(errors)),
        }
    }
}

/// A resident as read from its document.
#[derive(Clone, PartialEq, Eq)]
pub struct Resident {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub created_at: i64,
}

impl std::fmt::Debug for Resident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Writes a new resident into an empty document (one uncommitted change; the caller
/// commits with a message and time).
pub fn write_new(
    doc: &mut AutoCommit,
    valid: &ValidResident,
    now_ms: i64,
) -> Result<(), CoreError> {
    use automerge::ROOT;
    doc.put(ROOT, "kind", KIND)?;
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "name", valid.name.as_str())?;
    doc.put(ROOT, "id_number", valid.id_number.as_str())?;
    doc.put(ROOT, "phone", valid.phone.as_str())?;
    doc.put(ROOT, "created_at", ScalarValue::Timestamp(now_ms))?;
    // Free-text notes merge character by character.
    doc.put_object(ROOT, "notes", ObjType::Text)?;
    Ok(())
}

/// Reads a resident document, refusing anything that is not one.
pub fn read(doc: &impl ReadDoc) -> Result<Resident, CoreError> {
    let kind = get_str(doc, "kind")?;
    if kind != KIND {
        return Err(malformed("kind is not resident"));
    }
    Ok(Resident {
        name: get_str(doc, "name")?,
        id_number: get_str(doc, "id_number")?,
        phone: get_str(doc, "phone")?,
        created_at: match doc.get(automerge::ROOT, "created_at")? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Timestamp(t) | ScalarValue::Int(t) => *t,
                _ => return Err(malformed("created_at is not a time")),
            },
            _ => return Err(malformed("created_at is missing")),
        },
    })
}

fn get_str(doc: &impl ReadDoc, key: &str) -> Result<String, CoreError> {
    match doc.get(automerge::ROOT, key)? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(text) => Ok(text.to_string()),
            _ => Err(malformed("a text field holds another type")),
        },
        _ => Err(malformed("a required field is missing")),
    }
}

fn malformed(reason: &str) -> CoreError {
    CoreError::Malformed {
        kind: KIND,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, id: &str, phone: &str) -> ResidentInput {
        ResidentInput {
            name: name.into(),
            id_number: id.into(),
            phone: phone.into(),
        }
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let err = input("  ", "110105194912310021", "123")
            .validate()
            .expect_err("bad");
        let CoreError::Invalid(errors) = err else {
            panic!("expected invalid input");
        };
        assert_eq!(errors.code_for(Field::Name), Some("name_empty"));
        assert_eq!(errors.code_for(Field::IdNumber), Some("id_checksum"));
        assert_eq!(errors.code_for(Field::Phone), Some("phone_invalid"));
    }

    #[test]
    fn round_trips_through_a_document() {
        let valid = input(" 测试甲 ", "11010519491231002x", "138 0013 8000")
            .validate()
            .expect("valid");
        let mut doc = AutoCommit::new();
        write_new(&mut doc, &valid, 1_700_000_000_000).expect("write");
        let bytes = doc.save();
        let loaded = AutoCommit::load(&bytes).expect("load");
        let r = read(&loaded).expect("read");
        assert_eq!(r.name, "测试甲");
        assert_eq!(r.id_number, "11010519491231002X");
        assert_eq!(r.phone, "13800138000");
        assert_eq!(r.created_at, 1_700_000_000_000);
    }

    #[test]
    fn refuses_a_document_of_another_kind() {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "kind", "application")
            .expect("put");
        assert!(matches!(read(&doc), Err(CoreError::Malformed { .. })));
    }
}
