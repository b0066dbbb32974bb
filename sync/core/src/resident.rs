//! The `resident` record: its form, validation, and its layout in an Automerge document
//! (one document per resident).
//!
//! Layout (schema 1), all scalars unless noted: `kind = "resident"`, `schema = 1`, `name`,
//! `gender` (`male`, `female` or empty), `birth_date` (`YYYY-MM-DD`, from the ID number),
//! `id_number`, `phone`, `address`, `needs.{hearing,vision,mobility}` (booleans),
//! `emergency.{name,phone,relation}`, `notes` (Automerge text, merged character by
//! character) and `created_at`. Edits write only the fields that changed, so two devices
//! editing different fields of one resident never conflict.

use automerge::{
    AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::error::{CoreError, FieldErrors};
use crate::field::Field;
use crate::id_number::IdNumber;
use crate::phone;
use crate::value::{self, FieldValue, Fields};

pub const KIND: &str = "resident";
pub const SCHEMA: i64 = 1;
/// Longest accepted name, in characters.
pub const NAME_MAX_CHARS: usize = 50;
/// Longest accepted address or emergency-contact text, in characters.
pub const TEXT_MAX_CHARS: usize = 200;

/// The scalar fields of a resident, as conflicts and history report them.
pub const FIELDS: &[&str] = &[
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "address",
    "needs.hearing",
    "needs.vision",
    "needs.mobility",
    "emergency.name",
    "emergency.phone",
    "emergency.relation",
];

/// Help a resident needs during a visit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
pub struct Needs {
    #[serde(default)]
    pub hearing: bool,
    #[serde(default)]
    pub vision: bool,
    #[serde(default)]
    pub mobility: bool,
}

/// Someone to call for the resident.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
pub struct EmergencyContact {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub relation: String,
}

/// What a volunteer types to register or edit a resident. Only name and ID number are
/// required.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct ResidentInput {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    /// `male`, `female`, or empty to take it from the ID number.
    #[serde(default)]
    pub gender: String,
    /// `YYYY-MM-DD` as stated (a roster column, say), or empty to take it from the ID
    /// number; when given it must agree with the ID number.
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub needs: Needs,
    #[serde(default)]
    pub emergency: EmergencyContact,
}

/// An edit of a resident: the fields given replace the ones on record; the fields left
/// out stay as they are. An edit form that shows only some fields (the ID number only
/// masked, no emergency contact) thus never resets the others.
#[derive(Clone, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ResidentPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<Needs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<EmergencyPatch>,
}

/// An edit of the emergency contact, field by field (its phone, shown masked, is left
/// out unless retyped). Its `Debug` is [`ResidentPatch`]'s: which fields, not values.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct EmergencyPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
}

impl ResidentPatch {
    /// The whole form this edit makes of `current`. A new ID number without a gender or
    /// birth date takes both from the new number, as registering does (the old ones
    /// came from the old number and would contradict it).
    pub fn apply(&self, current: &Resident) -> ResidentInput {
        let mut input = current.to_input();
        let pick = |given: &Option<String>, field: &mut String| {
            if let Some(v) = given {
                field.clone_from(v);
            }
        };
        let new_id = self
            .id_number
            .as_ref()
            .is_some_and(|id| id.trim() != current.id_number);
        if new_id {
            input.gender.clear();
            input.birth_date.clear();
        }
        pick(&self.name, &mut input.name);
        pick(&self.id_number, &mut input.id_number);
        pick(&self.phone, &mut input.phone);
        pick(&self.gender, &mut input.gender);
        pick(&self.birth_date, &mut input.birth_date);
        pick(&self.address, &mut input.address);
        if let Some(needs) = self.needs {
            input.needs = needs;
        }
        if let Some(e) = &self.emergency {
            pick(&e.name, &mut input.emergency.name);
            pick(&e.phone, &mut input.emergency.phone);
            pick(&e.relation, &mut input.emergency.relation);
        }
        input
    }
}

/// A whole form as an edit that gives every field.
impl From<&ResidentInput> for ResidentPatch {
    fn from(input: &ResidentInput) -> Self {
        Self {
            name: Some(input.name.clone()),
            id_number: Some(input.id_number.clone()),
            phone: Some(input.phone.clone()),
            gender: Some(input.gender.clone()),
            birth_date: Some(input.birth_date.clone()),
            address: Some(input.address.clone()),
            needs: Some(input.needs),
            emergency: Some(EmergencyPatch {
                name: Some(input.emergency.name.clone()),
                phone: Some(input.emergency.phone.clone()),
                relation: Some(input.emergency.relation.clone()),
            }),
        }
    }
}

impl std::fmt::Debug for EmergencyPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmergencyPatch")
            .field("name", &self.name.is_some())
            .field("phone", &self.phone.is_some())
            .field("relation", &self.relation.is_some())
            .finish()
    }
}

/// Which fields an edit gives, never their values (personal data stays out of logs).
impl std::fmt::Debug for ResidentPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given = [
            ("name", self.name.is_some()),
            ("id_number", self.id_number.is_some()),
            ("phone", self.phone.is_some()),
            ("gender", self.gender.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("address", self.address.is_some()),
            ("needs", self.needs.is_some()),
            ("emergency", self.emergency.is_some()),
        ];
        let fields: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
        f.debug_struct("ResidentPatch")
            .field("fields", &fields)
            .finish()
    }
}

/// A resident input that passed validation, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidResident {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: String,
    pub gender: &'static str,
    pub address: String,
    pub needs: Needs,
    pub emergency: EmergencyContact,
}

impl ValidResident {
    /// Every scalar field with its value, in [`FIELDS`] order.
    pub fn field_values(&self) -> Vec<(&'static str, FieldValue)> {
        let (y, m, d) = self.id_number.birth_date();
        let text = |s: &str| FieldValue::Text(s.to_owned());
        vec![
            ("name", text(&self.name)),
            ("gender", text(self.gender)),
            (
                "birth_date",
                FieldValue::Text(format!("{y:04}-{m:02}-{d:02}")),
            ),
            ("id_number", text(self.id_number.as_str())),
            ("phone", text(&self.phone)),
            ("address", text(&self.address)),
            ("needs.hearing", FieldValue::Bool(self.needs.hearing)),
            ("needs.vision", FieldValue::Bool(self.needs.vision)),
            ("needs.mobility", FieldValue::Bool(self.needs.mobility)),
            ("emergency.name", text(&self.emergency.name)),
            ("emergency.phone", text(&self.emergency.phone)),
            ("emergency.relation", text(&self.emergency.relation)),
        ]
    }
}

fn check_text(errors: &mut FieldErrors, field: Field, text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() > max {
        errors.push(field, ErrorCode::TextTooLong);
    } else if text.chars().any(char::is_control) {
        errors.push(field, ErrorCode::TextChars);
    }
    text.to_owned()
}

impl ResidentInput {
    /// Checks every field and reports all refused fields together.
    pub fn validate(&self) -> Result<ValidResident, CoreError> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(Field::Name, ErrorCode::NameEmpty);
        } else if name.chars().count() > NAME_MAX_CHARS {
            errors.push(Field::Name, ErrorCode::NameTooLong);
        } else if name.chars().any(char::is_control) {
            errors.push(Field::Name, ErrorCode::NameChars);
        }
        let id_number = IdNumber::parse(&self.id_number)
            .map_err(|e| errors.push(Field::IdNumber, e.code()))
            .ok();
        let phone = phone::normalize(&self.phone)
            .map_err(|code| errors.push(Field::Phone, code))
            .ok();
        let from_id = id_number.as_ref().map(IdNumber::gender);
        let gender = match (self.gender.trim(), from_id) {
            ("", Some(g)) => Some(g),
            ("", None) => None,
            (given @ ("male" | "female"), Some(g)) if given != g => {
                errors.push(Field::Gender, ErrorCode::GenderDisagreesWithId);
                None
            }
            ("male", _) => Some("male"),
            ("female", _) => Some("female"),
            _ => {
                errors.push(Field::Gender, ErrorCode::GenderInvalid);
                None
            }
        };
        let stated_birth = self.birth_date.trim();
        if !stated_birth.is_empty() {
            match (crate::date::parse_ymd(stated_birth), &id_number) {
                (None, _) => errors.push(Field::BirthDate, ErrorCode::DateInvalid),
                (Some(date), Some(id)) if date != id.birth_date() => {
                    errors.push(Field::BirthDate, ErrorCode::BirthDateDisagreesWithId);
                }
                _ => {}
            }
        }
        let address = check_text(&mut errors, Field::Address, &self.address, TEXT_MAX_CHARS);
        let emergency = EmergencyContact {
            name: check_text(
                &mut errors,
                Field::EmergencyName,
                &self.emergency.name,
                NAME_MAX_CHARS,
            ),
            relation: check_text(
                &mut errors,
                Field::EmergencyRelation,
                &self.emergency.relation,
                NAME_MAX_CHARS,
            ),
            phone: phone::normalize(&self.emergency.phone)
                .map_err(|code| errors.push(Field::EmergencyPhone, code))
                .unwrap_or_default(),
        };
        // A contact is someone to call: a name needs a number, and a number a name.
        let named = !emergency.name.is_empty() || !emergency.relation.is_empty();
        if named && self.emergency.phone.trim().is_empty() {
            errors.push(Field::EmergencyPhone, ErrorCode::EmergencyPhoneMissing);
        } else if !named && !emergency.phone.is_empty() {
            errors.push(Field::EmergencyName, ErrorCode::EmergencyNameMissing);
        }
        match (id_number, phone, gender) {
            (Some(id_number), Some(phone), Some(gender)) if errors.is_empty() => {
                Ok(ValidResident {
                    name: name.to_owned(),
                    id_number,
                    phone,
                    gender,
                    address,
                    needs: self.needs,
                    emergency,
                })
            }
            _ => Err(CoreError::Invalid(errors)),
        }
    }
}

/// A resident as read from their document.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Resident {
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub needs: Needs,
    pub emergency: EmergencyContact,
    pub notes: String,
    pub created_at: i64,
}

impl Resident {
    /// The form that would save this resident as it is (to edit one field of it).
    pub fn to_input(&self) -> ResidentInput {
        ResidentInput {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            gender: self.gender.clone(),
            birth_date: self.birth_date.clone(),
            address: self.address.clone(),
            needs: self.needs,
            emergency: self.emergency.clone(),
        }
    }
}

impl std::fmt::Debug for Resident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resident")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// Writes a new resident into an empty document (uncommitted; the caller commits with a
/// note and time).
pub fn write_new(
    doc: &mut AutoCommit,
    valid: &ValidResident,
    now_ms: i64,
) -> Result<(), CoreError> {
    doc.put(ROOT, "kind", KIND)?;
    doc.put(ROOT, "schema", SCHEMA)?;
    for (path, v) in valid.field_values() {
        value::put(doc, path, &v)?;
    }
    doc.put(ROOT, "created_at", ScalarValue::Timestamp(now_ms))?;
    doc.put_object(ROOT, "notes", ObjType::Text)?;
    Ok(())
}

/// Writes the fields whose values differ from the document's current ones; returns the
/// paths written (empty when nothing changed) and the document's fields after the write,
/// so that the caller need not read the document again.
pub fn write_changes(
    doc: &mut AutoCommit,
    valid: &ValidResident,
) -> Result<(Vec<&'static str>, Fields), CoreError> {
    let fields = Fields::scan(doc);
    write_changes_over(doc, valid, fields)
}

/// [`write_changes`] over `fields`, a scan of `doc` the caller already made.
pub fn write_changes_over(
    doc: &mut AutoCommit,
    valid: &ValidResident,
    mut fields: Fields,
) -> Result<(Vec<&'static str>, Fields), CoreError> {
    let mut written = Vec::new();
    for (path, v) in valid.field_values() {
        if fields.get(path) != Some(&v) {
            value::put(doc, path, &v)?;
            fields.set(path, v);
            written.push(path);
        }
    }
    Ok((written, fields))
}

/// Replaces the notes text, as a minimal character edit so concurrent edits merge.
pub fn write_notes(doc: &mut AutoCommit, notes: &str) -> Result<(), CoreError> {
    let obj = match doc.get(ROOT, "notes")? {
        Some((Value::Object(ObjType::Text), id)) => id,
        _ => doc.put_object(ROOT, "notes", ObjType::Text)?,
    };
    doc.update_text(&obj, notes)?;
    Ok(())
}

/// Reads a resident document, refusing anything that is not one.
pub fn read(doc: &impl ReadDoc) -> Result<Resident, CoreError> {
    read_fields(doc, &Fields::scan(doc))
}

/// Reads a resident from `fields`, a scan of `doc` (which still gives the notes text).
pub fn read_fields(doc: &impl ReadDoc, fields: &Fields) -> Result<Resident, CoreError> {
    if fields.text("kind") != KIND {
        return Err(malformed("kind is not resident"));
    }
    let name = fields.text("name");
    let id_number = fields.text("id_number");
    if name.is_empty() || id_number.is_empty() {
        return Err(malformed("name or ID number missing"));
    }
    let notes = match doc.get(ROOT, "notes")? {
        Some((Value::Object(ObjType::Text), id)) => doc.text(&id)?,
        _ => String::new(),
    };
    Ok(Resident {
        name,
        gender: fields.text("gender"),
        birth_date: fields.text("birth_date"),
        id_number,
        phone: fields.text("phone"),
        address: fields.text("address"),
        needs: Needs {
            hearing: fields.flag("needs.hearing"),
            vision: fields.flag("needs.vision"),
            mobility: fields.flag("needs.mobility"),
        },
        emergency: EmergencyContact {
            name: fields.text("emergency.name"),
            phone: fields.text("emergency.phone"),
            relation: fields.text("emergency.relation"),
        },
        notes,
        created_at: fields
            .time("created_at")
            .ok_or_else(|| malformed("created_at is missing"))?,
    })
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
            ..ResidentInput::default()
        }
    }

    fn on_record() -> Resident {
        let mut form = input("测试居民", "11010519491231002X", "13800138000");
        form.needs.hearing = true;
        form.emergency = EmergencyContact {
            name: "测试女儿".into(),
            phone: "13900139000".into(),
            relation: "女儿".into(),
        };
        let valid = form.validate().expect("valid");
        let mut doc = AutoCommit::new();
        write_new(&mut doc, &valid, 1).expect("write");
        read(&doc).expect("read")
    }

    #[test]
    fn an_edit_keeps_the_fields_it_leaves_out() {
        let current = on_record();
        let patch: ResidentPatch = serde_json::from_str(
            r#"{"name": "测试居民乙", "address": "一组3号", "emergency": {"relation": "儿子"}}"#,
        )
        .expect("patch");
        let edited = patch.apply(&current);
        assert_eq!(edited.name, "测试居民乙");
        assert_eq!(edited.address, "一组3号");
        assert_eq!(edited.id_number, "11010519491231002X");
        assert_eq!(edited.phone, "13800138000");
        assert!(edited.needs.hearing, "needs stay");
        assert_eq!(edited.emergency.relation, "儿子");
        assert_eq!(
            edited.emergency.phone, "13900139000",
            "the rest of the contact stays"
        );
        assert_eq!(edited.gender, current.gender);
        edited.validate().expect("still valid");
        assert_eq!(
            format!("{patch:?}"),
            r#"ResidentPatch { fields: ["name", "address", "emergency"] }"#,
            "a patch's Debug names fields, never values"
        );

        // A new ID number brings its own gender and birth date.
        let patch = ResidentPatch {
            id_number: Some("110105196003150013".into()),
            ..ResidentPatch::default()
        };
        let valid = patch.apply(&current).validate().expect("valid");
        assert_eq!(valid.gender, "male");
        assert!(
            valid
                .field_values()
                .contains(&("birth_date", FieldValue::Text("1960-03-15".into())))
        );

        let unknown = serde_json::from_str::<ResidentPatch>(r#"{"nmae": "x"}"#);
        assert!(unknown.is_err(), "a misspelt field is refused, not ignored");
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let mut bad = input("  ", "110105194912310021", "123");
        bad.emergency.phone = "12".into();
        let err = bad.validate().expect_err("bad");
        let CoreError::Invalid(errors) = err else {
            panic!("expected invalid input");
        };
        assert_eq!(errors.code_for(Field::Name), Some(ErrorCode::NameEmpty));
        assert_eq!(
            errors.code_for(Field::IdNumber),
            Some(ErrorCode::IdChecksum)
        );
        assert_eq!(errors.code_for(Field::Phone), Some(ErrorCode::PhoneInvalid));
        assert_eq!(
            errors.code_for(Field::EmergencyPhone),
            Some(ErrorCode::PhoneInvalid)
        );
    }

    #[test]
    fn an_emergency_contact_has_a_name_and_a_phone() {
        let mut nameless = input("测试", "11010519491231002X", "");
        nameless.emergency.phone = "13900001111".into();
        let CoreError::Invalid(errors) = nameless.validate().expect_err("no name") else {
            panic!("expected invalid input");
        };
        assert_eq!(
            errors.code_for(Field::EmergencyName),
            Some(ErrorCode::EmergencyNameMissing)
        );
        let mut unreachable = input("测试", "11010519491231002X", "");
        unreachable.emergency.name = "测试女儿".into();
        let CoreError::Invalid(errors) = unreachable.validate().expect_err("no phone") else {
            panic!("expected invalid input");
        };
        assert_eq!(
            errors.code_for(Field::EmergencyPhone),
            Some(ErrorCode::EmergencyPhoneMissing)
        );
        unreachable.emergency.phone = "13900001111".into();
        assert!(unreachable.validate().is_ok());
        assert!(
            input("测试", "11010519491231002X", "").validate().is_ok(),
            "no contact at all is fine"
        );
    }

    #[test]
    fn gender_comes_from_the_id_and_must_agree_with_it() {
        // 17th digit 2 (even): female.
        let v = input("测试", "11010519491231002X", "")
            .validate()
            .expect("valid");
        assert_eq!(v.gender, "female");
        let mut wrong = input("测试", "11010519491231002X", "");
        wrong.gender = "male".into();
        let CoreError::Invalid(errors) = wrong.validate().expect_err("disagrees") else {
            panic!("expected invalid input");
        };
        assert_eq!(
            errors.code_for(Field::Gender),
            Some(ErrorCode::GenderDisagreesWithId)
        );
    }

    #[test]
    fn a_stated_birth_date_must_agree_with_the_id() {
        let mut i = input("测试", "11010519491231002X", "");
        i.birth_date = "1949-12-31".into();
        assert!(i.validate().is_ok());
        i.birth_date = "1949-12-30".into();
        let CoreError::Invalid(errors) = i.validate().expect_err("disagrees") else {
            panic!("expected invalid input");
        };
        assert_eq!(
            errors.code_for(Field::BirthDate),
            Some(ErrorCode::BirthDateDisagreesWithId)
        );
        i.birth_date = "1949-13-01".into();
        let CoreError::Invalid(errors) = i.validate().expect_err("not a date") else {
            panic!("expected invalid input");
        };
        assert_eq!(
            errors.code_for(Field::BirthDate),
            Some(ErrorCode::DateInvalid)
        );
    }

    #[test]
    fn round_trips_through_a_document() {
        let mut i = input(" 测试甲 ", "11010519491231002x", "138 0013 8000");
        i.needs.hearing = true;
        i.address = "测试路 1 号".into();
        let valid = i.validate().expect("valid");
        let mut doc = AutoCommit::new();
        write_new(&mut doc, &valid, 1_700_000_000_000).expect("write");
        write_notes(&mut doc, "耳背，请大声说").expect("notes");
        let bytes = doc.save();
        let loaded = AutoCommit::load(&bytes).expect("load");
        let r = read(&loaded).expect("read");
        assert_eq!(r.name, "测试甲");
        assert_eq!(r.id_number, "11010519491231002X");
        assert_eq!(r.birth_date, "1949-12-31");
        assert_eq!(r.phone, "13800138000");
        assert!(r.needs.hearing && !r.needs.vision);
        assert_eq!(r.notes, "耳背，请大声说");
        assert_eq!(r.created_at, 1_700_000_000_000);
    }

    #[test]
    fn edits_write_only_changed_fields() {
        let valid = input("测试", "11010519491231002X", "")
            .validate()
            .expect("valid");
        let mut doc = AutoCommit::new();
        write_new(&mut doc, &valid, 1).expect("write");
        let mut edit = input("测试", "11010519491231002X", "13800138000");
        edit.needs.vision = true;
        let (written, fields) =
            write_changes(&mut doc, &edit.validate().expect("valid")).expect("edit");
        assert_eq!(written, ["phone", "needs.vision"]);
        let rescanned = Fields::scan(&doc);
        for path in FIELDS {
            assert_eq!(fields.get(path), rescanned.get(path), "{path}");
        }
    }

    #[test]
    fn refuses_a_document_of_another_kind() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "kind", "application").expect("put");
        assert!(matches!(read(&doc), Err(CoreError::Malformed { .. })));
    }
}
