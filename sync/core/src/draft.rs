//! What a volunteer typed into an application's form, kept exactly as typed.
//!
//! A draft keeps every keystroke that reached the device, valid or not: a half-typed
//! phone number survives a flat battery. A field's text that passes the catalog's checks
//! is stored as its value under `fields`; text that does not is stored as typed under
//! `typed` (and the field has no value), with its problem shown to the volunteer.
//! Validation gates submission, not saving.
//!
//! ```
//! use doorstep_core::catalog::{FieldDef, FieldKind};
//! use doorstep_core::draft::value_from_text;
//! use doorstep_core::value::FieldValue;
//! use doorstep_core::ErrorCode;
//!
//! let phone: FieldDef = toml::from_str(
//!     "key = 'phone'\ntype = 'phone'\nlabel = { zh-CN = '电话', en = 'Phone' }",
//! )
//! .unwrap();
//! let today = (2026, 12, 1);
//! assert_eq!(value_from_text(&phone, "1381234", today), Err(ErrorCode::PhoneInvalid));
//! assert_eq!(value_from_text(&phone, " ", today), Ok(FieldValue::Null));
//! ```

use std::collections::BTreeMap;

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, Value, transaction::Transactable};

use crate::ErrorCode;
use crate::application::check_value;
use crate::catalog::{FieldDef, FieldKind, Service};
use crate::date::{Ymd, parse_ymd};
use crate::error::CoreError;
use crate::value::{self, FieldValue};

/// The map of texts that did not pass their checks, keyed by field.
const TYPED: &str = "typed";

/// Checks what the catalog asks beyond the value's type that needs the date: a `past`
/// date may not lie after `today`.
pub fn check_on(def: &FieldDef, v: &FieldValue, today: Ymd) -> Result<(), ErrorCode> {
    if def.past
        && let FieldValue::Text(t) = v
        && parse_ymd(t).is_some_and(|d| d > today)
    {
        return Err(ErrorCode::DateInFuture);
    }
    Ok(())
}

/// The value a text stands for in a field of `def`'s kind on `today`, checked against
/// the catalog: an empty text is no value; otherwise the error is a field code.
pub fn value_from_text(def: &FieldDef, text: &str, today: Ymd) -> Result<FieldValue, ErrorCode> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(FieldValue::Null);
    }
    let v = match def.kind {
        FieldKind::Number => match trimmed.parse::<i64>() {
            Ok(n) => FieldValue::Int(n),
            Err(_) => return Err(ErrorCode::WrongType),
        },
        FieldKind::Bool => match trimmed {
            "true" => FieldValue::Bool(true),
            "false" => FieldValue::Bool(false),
            _ => return Err(ErrorCode::WrongType),
        },
        _ => FieldValue::Text(text.to_owned()),
    };
    let v = check_value(def, &v)?;
    check_on(def, &v, today)?;
    Ok(v)
}

/// The texts kept as typed because they did not pass their checks, by field key.
pub fn typed(doc: &impl ReadDoc) -> Result<BTreeMap<String, String>, CoreError> {
    let mut out = BTreeMap::new();
    if let Some((Value::Object(ObjType::Map), obj)) = doc.get(ROOT, TYPED)? {
        for key in doc.keys(&obj) {
            if let Some(FieldValue::Text(t)) = value::get_in(doc, &obj, &key)? {
                out.insert(key, t);
            }
        }
    }
    Ok(out)
}

/// Writes what was typed into field `def` (uncommitted): its value when the text passes
/// the checks, else the text itself. Returns the text's problem, if any, and whether
/// the document changed.
pub fn put_text(
    doc: &mut AutoCommit,
    def: &FieldDef,
    text: &str,
    today: Ymd,
) -> Result<(Option<ErrorCode>, bool), CoreError> {
    let key = def.key.get_ref().as_str();
    let path = format!("fields.{key}");
    let current = value::get(doc, &path)?;
    let kept = typed(doc)?.remove(key);
    let mut changed = false;
    let problem = match value_from_text(def, text, today) {
        Ok(v) => {
            if kept.is_some() {
                remove(doc, TYPED, key)?;
                changed = true;
            }
            if v == FieldValue::Null {
                if current.is_some() {
                    remove(doc, "fields", key)?;
                    changed = true;
                }
            } else if current.as_ref() != Some(&v) {
                value::put(doc, &path, &v)?;
                changed = true;
            }
            None
        }
        Err(code) => {
            if kept.as_deref() != Some(text) {
                value::put(
                    doc,
                    &format!("{TYPED}.{key}"),
                    &FieldValue::Text(text.to_owned()),
                )?;
                changed = true;
            }
            if current.is_some() {
                remove(doc, "fields", key)?;
                changed = true;
            }
            Some(code)
        }
    };
    Ok((problem, changed))
}

/// Forgets a text kept as typed once the field got a checked value another way (a
/// settled conflict, an import). Uncommitted; whether the document changed.
pub fn forget_text(doc: &mut AutoCommit, key: &str) -> Result<bool, CoreError> {
    if typed(doc)?.contains_key(key) {
        remove(doc, TYPED, key)?;
        return Ok(true);
    }
    Ok(false)
}

/// The fields of `service` whose typed text does not pass its checks, with the problem.
pub fn problems(
    typed: &BTreeMap<String, String>,
    service: &Service,
    today: Ymd,
) -> Vec<(String, ErrorCode)> {
    typed
        .iter()
        .filter_map(|(key, text)| {
            let def = service.field(key)?;
            value_from_text(def, text, today)
                .err()
                .map(|code| (key.clone(), code))
        })
        .collect()
}

fn remove(doc: &mut AutoCommit, map: &str, key: &str) -> Result<(), CoreError> {
    if let Some((Value::Object(ObjType::Map), obj)) = doc.get(ROOT, map)? {
        doc.delete(&obj, key)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Ymd = (2026, 12, 1);

    fn def(kind: &str) -> FieldDef {
        toml::from_str(&format!(
            "key = 'f'\ntype = '{kind}'\nlabel = {{ zh-CN = '字段', en = 'Field' }}\nmin = 1\nmax = 9"
        ))
        .expect("field definition")
    }

    fn doc() -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put_object(ROOT, "fields", ObjType::Map)
            .expect("fields");
        doc
    }

    #[test]
    fn a_text_that_fails_its_check_is_kept_as_typed_and_the_value_goes() {
        let phone = def("phone");
        let mut d = doc();
        assert_eq!(
            put_text(&mut d, &phone, "13812345678", TODAY).expect("in memory"),
            (None, true)
        );
        assert_eq!(
            value::get(&d, "fields.f").expect("in memory"),
            Some(FieldValue::Text("13812345678".into()))
        );
        assert_eq!(
            put_text(&mut d, &phone, "1381", TODAY).expect("in memory"),
            (Some(ErrorCode::PhoneInvalid), true)
        );
        assert_eq!(value::get(&d, "fields.f").expect("in memory"), None);
        assert_eq!(
            typed(&d).expect("in memory").get("f").map(String::as_str),
            Some("1381")
        );
        // The same text again changes nothing.
        assert_eq!(
            put_text(&mut d, &phone, "1381", TODAY).expect("in memory"),
            (Some(ErrorCode::PhoneInvalid), false)
        );
        // Finished: the value is back and the kept text gone.
        assert_eq!(
            put_text(&mut d, &phone, "13812345678", TODAY).expect("in memory"),
            (None, true)
        );
        assert!(typed(&d).expect("in memory").is_empty());
    }

    #[test]
    fn an_emptied_field_has_no_value_and_no_kept_text() {
        let n = def("number");
        let mut d = doc();
        assert_eq!(
            put_text(&mut d, &n, "12", TODAY).expect("in memory"),
            (Some(ErrorCode::NumberTooLarge), true)
        );
        assert_eq!(
            put_text(&mut d, &n, "", TODAY).expect("in memory"),
            (None, true)
        );
        assert!(typed(&d).expect("in memory").is_empty());
        assert_eq!(value::get(&d, "fields.f").expect("in memory"), None);
        assert_eq!(
            put_text(&mut d, &n, "x", TODAY).expect("in memory"),
            (Some(ErrorCode::WrongType), true)
        );
        assert_eq!(
            put_text(&mut d, &n, "3", TODAY).expect("in memory"),
            (None, true)
        );
        assert_eq!(
            value::get(&d, "fields.f").expect("in memory"),
            Some(FieldValue::Int(3))
        );
        assert!(forget_text(&mut d, "f").is_ok_and(|changed| !changed));
    }

    #[test]
    fn dates_and_choices_are_checked_like_saved_values() {
        assert_eq!(
            value_from_text(&def("date"), "2027-1-", TODAY),
            Err(ErrorCode::DateInvalid)
        );
        assert_eq!(
            value_from_text(&def("date"), "2026-02-28", TODAY),
            Ok(FieldValue::Text("2026-02-28".into()))
        );
        assert_eq!(
            value_from_text(&def("bool"), "true", TODAY),
            Ok(FieldValue::Bool(true))
        );
        assert_eq!(
            value_from_text(&def("choice"), "nope", TODAY),
            Err(ErrorCode::ChoiceInvalid)
        );
        let mut past = def("date");
        past.past = true;
        assert_eq!(
            value_from_text(&past, "2026-12-02", TODAY),
            Err(ErrorCode::DateInFuture)
        );
        assert!(value_from_text(&past, "2026-12-01", TODAY).is_ok());
    }
}
