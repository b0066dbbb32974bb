//! Scalar field values of records and typed access to them by path.
//!
//! A field path names a scalar in a record document: `phone` at the root, or
//! `needs.hearing` one map down. Conflicts and history are computed over these paths,
//! the same way for every record kind.

use automerge::{
    ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A scalar value as records hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    Text(String),
    Bool(bool),
    Int(i64),
    /// Milliseconds since the epoch.
    Time(i64),
    /// Present but holding no scalar (an object or null).
    Null,
}

impl FieldValue {
    fn from_value(value: &Value<'_>) -> FieldValue {
        match value {
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(t) => FieldValue::Text(t.to_string()),
                ScalarValue::Boolean(b) => FieldValue::Bool(*b),
                ScalarValue::Int(i) => FieldValue::Int(*i),
                ScalarValue::Uint(u) => FieldValue::Int(i64::try_from(*u).unwrap_or(i64::MAX)),
                ScalarValue::Counter(c) => FieldValue::Int(i64::from(c)),
                ScalarValue::Timestamp(t) => FieldValue::Time(*t),
                _ => FieldValue::Null,
            },
            Value::Object(_) => FieldValue::Null,
        }
    }

    fn to_scalar(&self) -> ScalarValue {
        match self {
            FieldValue::Text(t) => ScalarValue::Str(t.as_str().into()),
            FieldValue::Bool(b) => ScalarValue::Boolean(*b),
            FieldValue::Int(i) => ScalarValue::Int(*i),
            FieldValue::Time(t) => ScalarValue::Timestamp(*t),
            FieldValue::Null => ScalarValue::Null,
        }
    }

    /// The text, when this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Splits `a.b` into the parent map key and the field key.
fn split(path: &str) -> (Option<&str>, &str) {
    match path.split_once('.') {
        Some((parent, key)) => (Some(parent), key),
        None => (None, path),
    }
}

/// The map holding `path`'s field, at `heads` when given.
fn parent_obj(
    doc: &impl ReadDoc,
    parent: Option<&str>,
    heads: Option<&[ChangeHash]>,
) -> Result<Option<ObjId>, CoreError> {
    let Some(parent) = parent else {
        return Ok(Some(ROOT));
    };
    let found = match heads {
        Some(h) => doc.get_at(ROOT, parent, h)?,
        None => doc.get(ROOT, parent)?,
    };
    Ok(match found {
        Some((Value::Object(ObjType::Map), id)) => Some(id),
        _ => None,
    })
}

/// The current value of the field at `path` (the winner when values conflict).
pub fn get(doc: &impl ReadDoc, path: &str) -> Result<Option<FieldValue>, CoreError> {
    let (parent, key) = split(path);
    match parent_obj(doc, parent, None)? {
        Some(obj) => get_in(doc, &obj, key),
        None => Ok(None),
    }
}

/// The current value under `key` of the map `obj`.
pub fn get_in(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Result<Option<FieldValue>, CoreError> {
    Ok(doc.get(obj, key)?.map(|(v, _)| FieldValue::from_value(&v)))
}

/// The value of the field at `path` as of `heads`.
pub fn get_at(
    doc: &impl ReadDoc,
    path: &str,
    heads: &[ChangeHash],
) -> Result<Option<FieldValue>, CoreError> {
    let (parent, key) = split(path);
    let Some(obj) = parent_obj(doc, parent, Some(heads))? else {
        return Ok(None);
    };
    Ok(doc
        .get_at(&obj, key, heads)?
        .map(|(v, _)| FieldValue::from_value(&v)))
}

/// Whether concurrent values disagree: two devices that wrote the same value without
/// seeing each other (two supervisors planning one visit alike) left nothing to choose.
pub fn disagree<T>(all: &[(FieldValue, T)]) -> bool {
    all.iter()
        .any(|(v, _)| all.first().is_some_and(|(first, _)| v != first))
}

/// Whether the concurrent values of `key` in `obj` differ (see [`disagree`]):
/// looked up only for the rare field Automerge marks conflicted.
fn values_disagree(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    let all: Vec<(FieldValue, ())> = doc
        .get_all(obj, key)
        .unwrap_or_default()
        .into_iter()
        .map(|(v, _)| (FieldValue::from_value(&v), ()))
        .collect();
    disagree(&all)
}

/// Every concurrent value of the field at `path`, with the id of the op that wrote it.
pub fn get_all(doc: &impl ReadDoc, path: &str) -> Result<Vec<(FieldValue, ObjId)>, CoreError> {
    let (parent, key) = split(path);
    let Some(obj) = parent_obj(doc, parent, None)? else {
        return Ok(Vec::new());
    };
    Ok(doc
        .get_all(&obj, key)?
        .into_iter()
        .map(|(v, id)| (FieldValue::from_value(&v), id))
        .collect())
}

/// Writes the field at `path`, creating its parent map when missing.
pub fn put(doc: &mut impl Transactable, path: &str, value: &FieldValue) -> Result<(), CoreError> {
    let (parent, key) = split(path);
    let obj = match parent {
        None => ROOT,
        Some(parent) => match doc.get(ROOT, parent)? {
            Some((Value::Object(ObjType::Map), id)) => id,
            _ => doc.put_object(ROOT, parent, ObjType::Map)?,
        },
    };
    doc.put(&obj, key, value.to_scalar())?;
    Ok(())
}

/// Every scalar field of a record read in one pass: the root map and the maps one
/// level down (`needs.hearing`), each with its current value and whether it is
/// conflicted. Reading a record field by field costs a lookup through each key's
/// history; this costs one scan, which matters on every save.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    values: std::collections::HashMap<String, (FieldValue, bool)>,
}

impl Fields {
    /// Scans `doc`'s current state.
    pub fn scan(doc: &impl ReadDoc) -> Fields {
        let mut values = std::collections::HashMap::new();
        for item in doc.map_range(ROOT, ..) {
            if item.value == automerge::ValueRef::Object(ObjType::Map) {
                let obj = item.id();
                for inner in doc.map_range(&obj, ..) {
                    let path = format!("{}.{}", item.key, inner.key);
                    let value = FieldValue::from_value(&inner.value.into_value());
                    let conflict = inner.conflict && values_disagree(doc, &obj, &inner.key);
                    values.insert(path, (value, conflict));
                }
            } else {
                let value = FieldValue::from_value(&item.value.clone().into_value());
                let conflict = item.conflict && values_disagree(doc, &ROOT, &item.key);
                values.insert(item.key.into_owned(), (value, conflict));
            }
        }
        Fields { values }
    }

    /// The current value at `path`.
    pub fn get(&self, path: &str) -> Option<&FieldValue> {
        self.values.get(path).map(|(v, _)| v)
    }

    /// The text at `path`, or empty when missing or not text.
    pub fn text(&self, path: &str) -> String {
        self.get(path)
            .and_then(FieldValue::as_text)
            .map(str::to_owned)
            .unwrap_or_default()
    }

    /// Whether the value at `path` is `true`.
    pub fn flag(&self, path: &str) -> bool {
        matches!(self.get(path), Some(FieldValue::Bool(true)))
    }

    /// The time (ms since the epoch) at `path`, when it holds one.
    pub fn time(&self, path: &str) -> Option<i64> {
        match self.get(path) {
            Some(FieldValue::Time(t) | FieldValue::Int(t)) => Some(*t),
            _ => None,
        }
    }

    /// Records a local write of `value` at `path`: it supersedes every value the field
    /// held, so the field is no longer conflicted.
    pub fn set(&mut self, path: &str, value: FieldValue) {
        self.values.insert(path.to_owned(), (value, false));
    }

    /// Every path holding more than one concurrent value, sorted.
    pub fn conflicted(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .values
            .iter()
            .filter(|(_, (_, conflict))| *conflict)
            .map(|(path, _)| path.clone())
            .collect();
        out.sort();
        out
    }

    /// Whether any of `paths` holds more than one concurrent value.
    pub fn any_conflict(&self, paths: &[&str]) -> bool {
        paths
            .iter()
            .any(|p| self.values.get(*p).is_some_and(|(_, conflict)| *conflict))
    }
}

/// Refuses a document whose `kind` is not `kind`.
pub fn expect_kind(doc: &impl ReadDoc, kind: &'static str) -> Result<(), CoreError> {
    if text(doc, "kind")? == kind {
        Ok(())
    } else {
        Err(CoreError::Malformed {
            kind,
            reason: format!("kind is not {kind}"),
        })
    }
}

/// The time (ms since the epoch) of the field at `path`, when it holds one.
pub fn time(doc: &impl ReadDoc, path: &str) -> Result<Option<i64>, CoreError> {
    Ok(match get(doc, path)? {
        Some(FieldValue::Time(t) | FieldValue::Int(t)) => Some(t),
        _ => None,
    })
}

/// The text of the field at `path`, or empty when missing or not text.
pub fn text(doc: &impl ReadDoc, path: &str) -> Result<String, CoreError> {
    Ok(get(doc, path)?
        .and_then(|v| v.as_text().map(str::to_owned))
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use automerge::AutoCommit;

    use super::*;

    #[test]
    fn puts_and_gets_nested_paths() {
        let mut doc = AutoCommit::new();
        put(&mut doc, "phone", &FieldValue::Text("1".into())).expect("put");
        put(&mut doc, "needs.hearing", &FieldValue::Bool(true)).expect("put");
        put(&mut doc, "needs.vision", &FieldValue::Bool(false)).expect("put");
        assert_eq!(
            get(&doc, "phone").expect("get"),
            Some(FieldValue::Text("1".into()))
        );
        assert_eq!(
            get(&doc, "needs.hearing").expect("get"),
            Some(FieldValue::Bool(true))
        );
        assert_eq!(get(&doc, "needs.mobility").expect("get"), None);
        assert_eq!(get(&doc, "missing.x").expect("get"), None);
    }

    #[test]
    fn a_scan_reads_nested_fields_and_flags_only_conflicted_ones() {
        let mut a = AutoCommit::new().with_actor(automerge::ActorId::from([1u8; 16]));
        put(&mut a, "phone", &FieldValue::Text("1".into())).expect("put");
        put(&mut a, "needs.hearing", &FieldValue::Bool(true)).expect("put");
        a.commit();
        let mut b = a.fork().with_actor(automerge::ActorId::from([2u8; 16]));
        put(&mut a, "phone", &FieldValue::Text("2".into())).expect("put");
        put(&mut b, "phone", &FieldValue::Text("3".into())).expect("put");
        a.merge(&mut b).expect("merge");
        let fields = Fields::scan(&a);
        assert!(fields.flag("needs.hearing"));
        assert!(fields.any_conflict(&["phone"]));
        assert!(!fields.any_conflict(&["needs.hearing", "missing"]));
        assert_eq!(fields.conflicted(), ["phone"]);
        assert_eq!(fields.get("phone"), get(&a, "phone").expect("get").as_ref());
    }
}
