//! Conflicts: a field to which two devices wrote different values without seeing each
//! other's write (the same value written twice is no conflict). Automerge keeps every such value; this lists them with who wrote each
//! and when, so a person can choose. The choice is an ordinary later write, so it is
//! recorded in history like any other change.

use automerge::AutoCommit;
use serde::Serialize;

use crate::error::CoreError;
use crate::provenance::{Author, change_of_op};
use crate::value::{self, FieldValue};

/// One of the values a conflicted field holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ConflictValue {
    pub value: FieldValue,
    /// Names this value among the others (the id of the operation that wrote it), so a
    /// person can choose a value a screen shows masked: see [`resolve_choice`].
    pub choice: String,
    /// Who wrote it, from the change that made it (`None` if that change is unknown).
    pub author: Option<Author>,
}

/// A field holding more than one concurrent value; `values[0]` is the one shown for now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FieldConflict {
    pub field: String,
    pub values: Vec<ConflictValue>,
}

/// Every conflicted field among `fields` in `doc`.
pub fn conflicts(doc: &mut AutoCommit, fields: &[&str]) -> Result<Vec<FieldConflict>, CoreError> {
    let mut found = Vec::new();
    let mut changes = None;
    for field in fields {
        let all = value::get_all(doc, field)?;
        if !value::disagree(&all) {
            continue;
        }
        let changes = changes.get_or_insert_with(|| doc.get_changes(&[]));
        // get_all lists the winner last; show it first.
        let values = all
            .iter()
            .rev()
            .map(|(value, op)| ConflictValue {
                value: value.clone(),
                choice: op.to_string(),
                author: change_of_op(changes, op).map(Author::of),
            })
            .collect();
        found.push(FieldConflict {
            field: (*field).to_owned(),
            values,
        });
    }
    Ok(found)
}

/// Whether any of `fields` is conflicted (cheaper than listing them).
pub fn has_conflicts(doc: &AutoCommit, fields: &[&str]) -> Result<bool, CoreError> {
    for field in fields {
        if value::disagree(&value::get_all(doc, field)?) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Settles `field` on `chosen`: a new write that supersedes every concurrent value.
/// The caller commits it with a `resolve_conflict` note.
pub fn resolve(doc: &mut AutoCommit, field: &str, chosen: &FieldValue) -> Result<(), CoreError> {
    value::put(doc, field, chosen)
}

/// When `other` is conflicted too, its value written by the author of `field`'s value
/// `chosen` (fields a change writes together, such as a visit's assignee and their
/// name), so that settling one settles both alike.
pub fn written_with(
    doc: &AutoCommit,
    field: &str,
    chosen: &FieldValue,
    other: &str,
) -> Result<Option<FieldValue>, CoreError> {
    let others = value::get_all(doc, other)?;
    if others.len() < 2 {
        return Ok(None);
    }
    let actor_of = |op: &automerge::ObjId| {
        op.to_string()
            .split_once('@')
            .map(|(_, actor)| actor.to_owned())
    };
    let Some(author) = value::get_all(doc, field)?
        .into_iter()
        .find(|(v, _)| v == chosen)
        .and_then(|(_, op)| actor_of(&op))
    else {
        return Ok(None);
    };
    Ok(others
        .into_iter()
        .find(|(_, op)| actor_of(op).as_deref() == Some(author.as_str()))
        .map(|(v, _)| v))
}

/// The value of `field` that [`ConflictValue::choice`] `choice` names, if the field
/// still holds it.
pub fn chosen_value(
    doc: &AutoCommit,
    field: &str,
    choice: &str,
) -> Result<Option<FieldValue>, CoreError> {
    Ok(value::get_all(doc, field)?
        .into_iter()
        .find(|(_, op)| op.to_string() == choice)
        .map(|(v, _)| v))
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::provenance::ChangeNote;

    #[test]
    fn concurrent_writes_are_both_listed_with_their_authors_and_resolving_clears_them() {
        let mut a = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
        value::put(&mut a, "phone", &FieldValue::Text("13800000001".into())).expect("put");
        ChangeNote::new("register_resident", "甲").commit(&mut a, 1_000);
        let mut b = a.fork().with_actor(ActorId::from([2u8; 16]));
        value::put(&mut a, "phone", &FieldValue::Text("13800000002".into())).expect("put");
        ChangeNote::new("update_resident", "甲").commit(&mut a, 2_000);
        value::put(&mut b, "phone", &FieldValue::Text("13800000003".into())).expect("put");
        ChangeNote::new("update_resident", "乙").commit(&mut b, 3_000);
        a.merge(&mut b).expect("merge");

        let found = conflicts(&mut a, &["phone", "name"]).expect("conflicts");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "phone");
        let mut pairs: Vec<(String, String, i64)> = found[0]
            .values
            .iter()
            .map(|v| {
                let who = v.author.clone().expect("author known");
                (
                    v.value.as_text().expect("text").to_owned(),
                    who.volunteer,
                    who.at,
                )
            })
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("13800000002".to_owned(), "甲".to_owned(), 2_000),
                ("13800000003".to_owned(), "乙".to_owned(), 3_000)
            ]
        );

        resolve(&mut a, "phone", &FieldValue::Text("13800000003".into())).expect("resolve");
        ChangeNote::new("resolve_conflict", "甲").commit(&mut a, 4_000);
        assert!(!has_conflicts(&a, &["phone"]).expect("check"));
        b.merge(&mut a).expect("merge back");
        assert!(!has_conflicts(&b, &["phone"]).expect("check"));
        assert_eq!(value::text(&b, "phone").expect("text"), "13800000003");
    }
}
