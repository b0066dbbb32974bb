//! The write rules of a visit plan (`visit` records): its assignment — every root field
//! but the outcomes — is written by supervisors only, so a volunteer's tablet cannot
//! assign itself or anyone else; each outcome (`outcome:<id>`) is a map written whole by
//! the one who recorded it, of any role, and never changed or removed after.
//!
//! Authorship is by operation, as for application events: every value put carries the
//! actor that put it, so the check holds when one upload carries changes of several
//! authors.

use std::collections::HashMap;

use automerge::{ActorId, ObjId, ROOT, ReadDoc};

use super::{EventOps, RuleBreach, actor_of, ops_of};
use crate::protocol::Role;
use crate::visit::{KIND, OUTCOME_PREFIX};

/// Checks what new changes by `roles`' actors did to a plan (`before` empty for a new one).
pub(super) fn check(
    before: &impl ReadDoc,
    after: &impl ReadDoc,
    roles: &HashMap<&ActorId, Role>,
) -> Result<(), RuleBreach> {
    let forbidden = |role: Role| RuleBreach::Record {
        role: role.as_str(),
        kind: format!("{KIND} assignment"),
    };
    let mut keys: Vec<String> = before.keys(ROOT).chain(after.keys(ROOT)).collect();
    keys.sort();
    keys.dedup();
    let only_supervisors = roles.values().all(|r| *r == Role::Supervisor);
    for key in keys.iter().filter(|k| !k.starts_with(OUTCOME_PREFIX)) {
        let old = op_ids(before, key);
        let new = op_ids(after, key);
        let mut overwritten_by_supervisor = false;
        for op in new.iter().filter(|op| !old.contains(op)) {
            let role = actor_of(op)
                .and_then(|actor| roles.get(&&actor).copied())
                .ok_or(RuleBreach::UnknownAuthor)?;
            if role != Role::Supervisor {
                return Err(forbidden(role));
            }
            overwritten_by_supervisor = true;
        }
        // A value gone with no supervisor's in its place: a deletion, which only an
        // upload of supervisors alone may carry (the app never deletes one).
        let removed = old.iter().any(|op| !new.contains(op));
        if removed && !overwritten_by_supervisor && !only_supervisors {
            return Err(forbidden(Role::Volunteer));
        }
    }
    for key in keys.iter().filter(|k| k.starts_with(OUTCOME_PREFIX)) {
        let old = outcome_of(before, key)?;
        let new = outcome_of(after, key)?;
        match (old, new) {
            (Some(old), Some(new)) if old == new => {}
            (Some(_), _) => return Err(RuleBreach::EventAltered),
            (None, None) => {}
            (None, Some((obj, ops))) => {
                if !well_formed(after, &obj) {
                    return Err(RuleBreach::EventAltered);
                }
                let creator = ops.creator.as_ref().ok_or(RuleBreach::EventAltered)?;
                if !roles.contains_key(&creator) {
                    return Err(RuleBreach::EventAltered);
                }
                if ops
                    .puts
                    .values()
                    .flatten()
                    .any(|(_, author)| author.as_ref() != Some(creator))
                {
                    return Err(RuleBreach::EventAltered);
                }
            }
        }
    }
    Ok(())
}

/// The keys of an outcome, each holding one scalar.
const OUTCOME_KEYS: &[&str] = &[
    "round", "due", "outcome", "on", "next_due", "note", "by", "by_name", "at",
];

/// Whether a new outcome is one the app writes: a map of exactly [`OUTCOME_KEYS`], each one
/// scalar; a known outcome; its dates written as dates (the next one empty, or after the
/// visit it answers). An outcome another author trimmed or nested objects in is not.
fn well_formed(doc: &impl ReadDoc, obj: &ObjId) -> bool {
    use crate::value::{FieldValue, get_in};
    use crate::visit::{Outcome, canonical};
    if !matches!(doc.object_type(obj), Ok(automerge::ObjType::Map)) {
        return false;
    }
    let keys: Vec<String> = doc.keys(obj).collect();
    if keys.len() != OUTCOME_KEYS.len() || !keys.iter().all(|k| OUTCOME_KEYS.contains(&k.as_str()))
    {
        return false;
    }
    let scalars = keys.iter().all(|k| {
        let all = doc.get_all(obj, k.as_str()).unwrap_or_default();
        all.len() == 1 && matches!(all[0].0, automerge::Value::Scalar(_))
    });
    if !scalars {
        return false;
    }
    let text = |k: &str| match get_in(doc, obj, k) {
        Ok(Some(FieldValue::Text(t))) => Some(t),
        _ => None,
    };
    let (Some(due), Some(on), Some(next), Some(outcome)) =
        (text("due"), text("on"), text("next_due"), text("outcome"))
    else {
        return false;
    };
    canonical(&due).is_some()
        && canonical(&on).is_some()
        && Outcome::parse(&outcome).is_some()
        && (next.is_empty() || (canonical(&next).is_some() && next > due))
}

/// The ids of the operations holding a root field's values (every concurrent one).
fn op_ids(doc: &impl ReadDoc, key: &str) -> Vec<ObjId> {
    doc.get_all(ROOT, key)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

/// The outcome under `key`, with what it holds; an error when the key holds several
/// values (an outcome's key is its own: nobody else writes it).
fn outcome_of(doc: &impl ReadDoc, key: &str) -> Result<Option<(ObjId, EventOps)>, RuleBreach> {
    let all = doc.get_all(ROOT, key).unwrap_or_default();
    match all.as_slice() {
        [] => Ok(None),
        [(value, obj)] => Ok(Some((obj.clone(), ops_of(doc, value, obj)))),
        _ => Err(RuleBreach::EventAltered),
    }
}

#[cfg(test)]
mod tests {
    use automerge::AutoCommit;

    use super::super::check as check_record;
    use super::*;
    use crate::visit::{self, Assignment, Outcome, OutcomeInput, Purpose};

    fn actor(name: &str) -> ActorId {
        ActorId::from(name.as_bytes())
    }

    fn role_of(actor: &ActorId) -> Option<Role> {
        match actor.to_bytes() {
            b"boss" | b"chief" => Some(Role::Supervisor),
            b"vola" | b"volb" => Some(Role::Volunteer),
            _ => None,
        }
    }

    fn assignment(assignee: &str) -> Assignment {
        Assignment {
            assignee: assignee.into(),
            assignee_name: "测试".into(),
            due: "2026-12-10".into(),
            purpose: Purpose::Checkup,
            service: String::new(),
        }
    }

    fn outcome() -> OutcomeInput {
        OutcomeInput {
            outcome: Outcome::NotHome,
            on: "2026-12-10".into(),
            next_due: "2026-12-17".into(),
            note: String::new(),
        }
    }

    /// `change` applied by `who` to a copy of `doc`, checked: the rule's code or "ok".
    fn by(who: &str, doc: &AutoCommit, change: impl FnOnce(&mut AutoCommit)) -> &'static str {
        let before = doc.clone();
        let mut after = doc.clone().with_actor(actor(who));
        change(&mut after);
        after.commit();
        let mut merged = before.clone();
        merged.merge(&mut after).expect("merge");
        match check_record(KIND, &before, &merged, &[actor(who)], &role_of) {
            Ok(()) => "ok",
            Err(e) => e.code(),
        }
    }

    fn plan() -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(actor("boss"));
        visit::write_new(&mut doc, "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11").expect("new");
        visit::assign(&mut doc, &assignment("m1"), "测试主任", 1).expect("assign");
        doc.commit();
        doc
    }

    #[test]
    fn only_a_supervisor_assigns_and_anyone_records_an_outcome() {
        let empty = AutoCommit::new();
        let create = |doc: &mut AutoCommit| {
            visit::write_new(doc, "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11").expect("new");
            visit::assign(doc, &assignment("m1"), "测试", 1).expect("assign");
        };
        assert_eq!(by("chief", &empty, create), "ok");
        assert_eq!(by("vola", &empty, create), "rule_forbidden");
        let doc = plan();
        let reassign = |doc: &mut AutoCommit| {
            visit::assign(doc, &assignment("m2"), "测试", 2).expect("assign");
        };
        assert_eq!(by("chief", &doc, reassign), "ok");
        assert_eq!(by("vola", &doc, reassign), "rule_forbidden");
        let delete = |doc: &mut AutoCommit| {
            use automerge::transaction::Transactable;
            doc.delete(ROOT, "due").expect("delete");
        };
        assert_eq!(by("vola", &doc, delete), "rule_forbidden");
        let record = |doc: &mut AutoCommit| {
            visit::record_outcome(doc, "x1", "2026-12-10", &outcome(), ("m1", "测试"), 3)
                .expect("outcome");
        };
        assert_eq!(by("vola", &doc, record), "ok");
        assert_eq!(by("boss", &doc, record), "ok");
        assert_eq!(by("nobody", &doc, record), "author_unknown");
    }

    #[test]
    fn an_outcome_is_as_the_app_writes_it_or_refused() {
        use automerge::transaction::Transactable;
        let doc = plan();
        /// An outcome as the app writes it, then changed by `edit` in the same change.
        fn written<'a>(
            edit: &'a dyn Fn(&mut AutoCommit, &ObjId),
        ) -> impl FnOnce(&mut AutoCommit) + 'a {
            move |d: &mut AutoCommit| {
                visit::record_outcome(d, "x1", "2026-12-10", &outcome(), ("m1", "测试"), 3)
                    .expect("outcome");
                let Ok(Some((_, obj))) = d.get(ROOT, "outcome:x1") else {
                    panic!("no outcome");
                };
                edit(d, &obj);
            }
        }
        assert_eq!(by("vola", &doc, written(&|_, _| {})), "ok");
        type Edit<'a> = &'a dyn Fn(&mut AutoCommit, &ObjId);
        let cases: [(&str, Edit<'_>); 6] = [
            ("a key taken out", &|d, o| {
                d.delete(o, "next_due").expect("delete")
            }),
            ("a key added", &|d, o| {
                d.put(o, "extra", "x").map(drop).expect("put")
            }),
            ("an object inside", &|d, o| {
                d.put_object(o, "note", automerge::ObjType::Map)
                    .map(drop)
                    .expect("put")
            }),
            ("a date not written as one", &|d, o| {
                d.put(o, "on", "2026-12-+1").map(drop).expect("put")
            }),
            ("a next visit before this one", &|d, o| {
                d.put(o, "next_due", "2026-12-01").map(drop).expect("put")
            }),
            ("an outcome no build knows", &|d, o| {
                d.put(o, "outcome", "vanished").map(drop).expect("put")
            }),
        ];
        for (name, edit) in cases {
            assert_eq!(by("vola", &doc, written(edit)), "event_altered", "{name}");
        }
        let scalar = |d: &mut AutoCommit| d.put(ROOT, "outcome:x2", "done").map(drop).expect("put");
        assert_eq!(by("vola", &doc, scalar), "event_altered", "not a map");
    }

    #[test]
    fn an_outcome_is_never_changed_or_removed_and_is_written_whole() {
        let mut doc = plan().with_actor(actor("vola"));
        visit::record_outcome(&mut doc, "x1", "2026-12-10", &outcome(), ("m1", "测试"), 3)
            .expect("outcome");
        doc.commit();
        let key = format!("{OUTCOME_PREFIX}x1");
        let change_note = |doc: &mut AutoCommit| {
            use automerge::transaction::Transactable;
            let Ok(Some((_, obj))) = doc.get(ROOT, key.as_str()) else {
                panic!("no outcome");
            };
            doc.put(&obj, "note", "改过").expect("put");
        };
        assert_eq!(by("boss", &doc, change_note), "event_altered");
        assert_eq!(by("vola", &doc, change_note), "event_altered");
        let remove = |doc: &mut AutoCommit| {
            use automerge::transaction::Transactable;
            doc.delete(ROOT, key.as_str()).expect("delete");
        };
        assert_eq!(by("boss", &doc, remove), "event_altered");
    }
}
