//! History of a record: each change in causal order with its author and time, and which
//! fields it changed from what to what.

use automerge::AutoCommit;
use serde::Serialize;

use crate::error::CoreError;
use crate::key_roster::Signed;
use crate::provenance::Author;
use crate::value::{self, FieldValue};

/// One field changed by one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<FieldValue>,
    pub to: Option<FieldValue>,
}

/// One change of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct HistoryEntry {
    /// The change hash, hex.
    pub change: String,
    pub author: Author,
    pub fields: Vec<FieldChange>,
    /// Whose key signed the change, as the device checked it against its key roster
    /// ([`Signed::Unchecked`] until it is).
    pub signed: Signed,
    /// The signer as the roster names it (the person and the device), for a change its
    /// author signed.
    pub signer: String,
}

/// The history of `doc` over `fields`, oldest first. A field's "from" is its value just
/// before the change (on the branch the change was made on), its "to" the value the
/// change wrote.
pub fn history(doc: &mut AutoCommit, fields: &[&str]) -> Result<Vec<HistoryEntry>, CoreError> {
    let changes = doc.get_changes(&[]);
    let mut out = Vec::with_capacity(changes.len());
    for change in &changes {
        let before = change.deps().to_vec();
        let after = [change.hash()];
        let mut changed = Vec::new();
        for field in fields {
            let from = if before.is_empty() {
                None
            } else {
                value::get_at(doc, field, &before)?
            };
            let to = value::get_at(doc, field, &after)?;
            if from != to {
                changed.push(FieldChange {
                    field: (*field).to_owned(),
                    from,
                    to,
                });
            }
        }
        out.push(HistoryEntry {
            change: change.hash().to_string(),
            author: Author::of(change),
            fields: changed,
            signed: Signed::Unchecked,
            signer: String::new(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::ChangeNote;

    #[test]
    fn lists_each_change_with_from_and_to() {
        let mut doc = AutoCommit::new();
        value::put(&mut doc, "phone", &FieldValue::Text("1".into())).expect("put");
        value::put(&mut doc, "name", &FieldValue::Text("甲".into())).expect("put");
        ChangeNote::new("register_resident", "志愿者").commit(&mut doc, 10);
        value::put(&mut doc, "phone", &FieldValue::Text("2".into())).expect("put");
        ChangeNote::new("update_resident", "志愿者").commit(&mut doc, 20);

        let h = history(&mut doc, &["name", "phone"]).expect("history");
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].author.what, "register_resident");
        assert_eq!(h[0].fields.len(), 2);
        assert_eq!(h[1].author.at, 20);
        assert_eq!(h[1].author.volunteer, "志愿者");
        assert_eq!(
            h[1].fields,
            [FieldChange {
                field: "phone".into(),
                from: Some(FieldValue::Text("1".into())),
                to: Some(FieldValue::Text("2".into())),
            }]
        );
    }
}
