//! Write rules: who may write what, as data. The device applies them before it saves
//! anything, the server on every change it receives, and (later) every device on what it
//! receives, so that a lost volunteer tablet, or anything holding its token, cannot
//! approve an application or rewrite a decision.
//!
//! | record kind     | who may create and edit it (of their committees) |
//! |-----------------|--------------------------------------------------|
//! | `resident`      | volunteer, supervisor                            |
//! | `authorization` | volunteer, supervisor                            |
//! | `application`   | volunteer, supervisor                            |
//! | `visit`         | its plan: supervisor; outcomes: volunteer, supervisor |
//!
//! | application event | who may append it                               |
//! |-------------------|-------------------------------------------------|
//! | `submitted`       | volunteer, supervisor                           |
//! | `consent`         | volunteer, supervisor (the resident's decision) |
//! | `returned`        | supervisor                                      |
//! | `approved`        | supervisor                                      |
//! | `rejected`        | supervisor                                      |
//! | `filed`           | supervisor                                      |
//! | `reopened`        | supervisor                                      |
//!
//! A visit plan's assignment (who visits, when, what for) is a supervisor's to write;
//! anyone of the committee may add an outcome, each written whole by its author and
//! never changed or removed after ([`visits`]).
//!
//! And for every application: nobody deletes or alters an event once appended (events are
//! only ever added, each written whole by its author); nobody decides (returns,
//! approves, rejects) an application whose latest submission they made (four eyes, by
//! the signing key, not by the name shown); an application's content (everything but
//! its events) changes only while it is a draft, returned, or reopened by a supervisor
//! (a change that itself reopens it is a supervisor's).
//!
//! Authorship here is Automerge's: every operation carries the actor that made it, and
//! the server binds each actor to one device's key, role and committees.

use std::collections::{BTreeMap, HashMap};

use automerge::{ActorId, ObjId, ObjType, ROOT, ReadDoc, Value};

use crate::application::{self, EventKind};
use crate::protocol::Role;
use crate::{authorization, resident, visit};

mod visits;

const EVERYONE: &[Role] = &[Role::Volunteer, Role::Supervisor];
const SUPERVISORS: &[Role] = &[Role::Supervisor];

/// Which roles may create and edit each kind of record.
pub const RECORD_WRITERS: &[(&str, &[Role])] = &[
    (resident::KIND, EVERYONE),
    (authorization::KIND, EVERYONE),
    (application::KIND, EVERYONE),
    (visit::KIND, EVERYONE),
];

/// Which roles may append each kind of application event.
pub const EVENT_WRITERS: &[(EventKind, &[Role])] = &[
    (EventKind::Submitted, EVERYONE),
    (EventKind::Consent, EVERYONE),
    (EventKind::Returned, SUPERVISORS),
    (EventKind::Approved, SUPERVISORS),
    (EventKind::Rejected, SUPERVISORS),
    (EventKind::Filed, SUPERVISORS),
    (EventKind::Reopened, SUPERVISORS),
];

/// Events that decide an application: four eyes apply to them.
const DECISIONS: &[EventKind] = &[
    EventKind::Returned,
    EventKind::Approved,
    EventKind::Rejected,
];

/// Whether `role` may create and edit records of `kind`.
pub fn may_write(role: Role, kind: &str) -> bool {
    RECORD_WRITERS
        .iter()
        .any(|(k, roles)| *k == kind && roles.contains(&role))
}

/// Whether `role` may append an event of `kind`.
pub fn may_append(role: Role, kind: EventKind) -> bool {
    EVENT_WRITERS
        .iter()
        .any(|(k, roles)| *k == kind && roles.contains(&role))
}

/// Why a record's new changes break a rule. `code` is the protocol's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleBreach {
    #[error("a {role} may not write {kind} records")]
    Record { role: &'static str, kind: String },
    #[error("a {role} may not append a {event} event")]
    Event { role: &'static str, event: String },
    #[error("an event once appended may not be changed or removed")]
    EventAltered,
    #[error("the device that made the latest submission may not decide it")]
    FourEyes,
    #[error("a change was made by an actor no enrolled device holds")]
    UnknownAuthor,
    #[error("the application is submitted or decided: its content may not change")]
    Locked,
}

impl RuleBreach {
    /// The protocol's code.
    pub fn code(&self) -> &'static str {
        match self {
            RuleBreach::Record { .. } | RuleBreach::Event { .. } => "rule_forbidden",
            RuleBreach::EventAltered => "event_altered",
            RuleBreach::FourEyes => "four_eyes",
            RuleBreach::UnknownAuthor => "author_unknown",
            RuleBreach::Locked => "application_locked",
        }
    }
}

/// One event as written: who created it and every value put in it, with who put it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EventOps {
    creator: Option<ActorId>,
    /// Key → every (value, author) held there, in Automerge's order.
    puts: BTreeMap<String, Vec<(String, Option<ActorId>)>>,
}

fn actor_of(id: &ObjId) -> Option<ActorId> {
    match id {
        ObjId::Root => None,
        ObjId::Id(_, actor, _) => Some(actor.clone()),
    }
}

/// The events of a document, by object, each with its ops; in list order.
fn events_of(doc: &impl ReadDoc) -> Vec<(ObjId, EventOps)> {
    let mut out = Vec::new();
    let Ok(Some((Value::Object(ObjType::List), list))) = doc.get(ROOT, "events") else {
        return out;
    };
    for i in 0..doc.length(&list) {
        let Ok(Some((value, obj))) = doc.get(&list, i) else {
            continue;
        };
        let ops = ops_of(doc, &value, &obj);
        out.push((obj, ops));
    }
    out
}

/// What an appended object (an event, an outcome) holds, with who put each value.
fn ops_of(doc: &impl ReadDoc, value: &Value<'_>, obj: &ObjId) -> EventOps {
    let mut puts = BTreeMap::new();
    if matches!(value, Value::Object(ObjType::Map)) {
        for key in doc.keys(obj) {
            let values = doc
                .get_all(obj, key.as_str())
                .unwrap_or_default()
                .into_iter()
                .map(|(v, op)| (v.to_string(), actor_of(&op)))
                .collect();
            puts.insert(key, values);
        }
    } else {
        // Anything but a map is written as its value.
        puts.insert(String::new(), vec![(value.to_string(), actor_of(obj))]);
    }
    EventOps {
        creator: actor_of(obj),
        puts,
    }
}

/// Whether an application's content (fields, attachments, notes: everything but its
/// events) may change: while it is a draft or returned, or submitted again after a
/// supervisor reopened it.
pub fn content_open(app: &application::Application) -> bool {
    use application::Status;
    match app.status {
        Status::Draft | Status::Returned => true,
        Status::Submitted => reopened(app),
        Status::Approved | Status::Rejected | Status::Filed => false,
    }
}

/// Whether the latest decision-bearing event (consent aside) reopened the application.
pub fn reopened(app: &application::Application) -> bool {
    app.events
        .iter()
        .rev()
        .find(|e| e.kind != EventKind::Consent)
        .is_some_and(|e| e.kind == EventKind::Reopened)
}

/// Everything of a document but its events, as text: two states compare equal when
/// nothing outside the events differs (every concurrent value included).
fn outside_events(doc: &impl ReadDoc) -> String {
    fn walk(doc: &impl ReadDoc, obj: &ObjId, out: &mut String) {
        match doc.object_type(obj) {
            Ok(ObjType::Map | ObjType::Table) => {
                for key in doc.keys(obj) {
                    if obj == &ROOT && key == "events" {
                        continue;
                    }
                    out.push_str(&format!("{key:?}:["));
                    for (value, id) in doc.get_all(obj, key.as_str()).unwrap_or_default() {
                        match value {
                            Value::Object(_) => walk(doc, &id, out),
                            Value::Scalar(s) => out.push_str(&format!("{s:?}")),
                        }
                        out.push(',');
                    }
                    out.push(']');
                }
            }
            Ok(ObjType::List) => {
                out.push('[');
                for i in 0..doc.length(obj) {
                    for (value, id) in doc.get_all(obj, i).unwrap_or_default() {
                        match value {
                            Value::Object(_) => walk(doc, &id, out),
                            Value::Scalar(s) => out.push_str(&format!("{s:?}")),
                        }
                        out.push(',');
                    }
                }
                out.push(']');
            }
            Ok(ObjType::Text) => out.push_str(&format!("{:?}", doc.text(obj).unwrap_or_default())),
            Err(_) => {}
        }
    }
    let mut out = String::new();
    walk(doc, &ROOT, &mut out);
    out
}

/// The event kind a value names (`"approved"` as Automerge prints a string: quoted).
fn kind_named(printed: &str) -> Option<EventKind> {
    let text = printed.trim_matches('"');
    EVENT_WRITERS
        .iter()
        .map(|(k, _)| *k)
        .find(|k| k.as_str() == text)
}

/// Checks what new changes did to a record: `before` is the record as it was held
/// (an empty document for a new one), `after` with the changes applied, `new_actors`
/// the authors of the new changes, and `role_of` finds an author's role. Every rule of
/// the module's table is applied.
pub fn check(
    kind: &str,
    before: &impl ReadDoc,
    after: &impl ReadDoc,
    new_actors: &[ActorId],
    role_of: &dyn Fn(&ActorId) -> Option<Role>,
) -> Result<(), RuleBreach> {
    let mut roles: HashMap<&ActorId, Role> = HashMap::new();
    for actor in new_actors {
        let role = role_of(actor).ok_or(RuleBreach::UnknownAuthor)?;
        if !may_write(role, kind) {
            return Err(RuleBreach::Record {
                role: role.as_str(),
                kind: kind.to_owned(),
            });
        }
        roles.insert(actor, role);
    }
    if kind == visit::KIND {
        return visits::check(before, after, &roles);
    }
    if kind != application::KIND {
        return Ok(());
    }
    let old: HashMap<ObjId, EventOps> = events_of(before).into_iter().collect();
    let now = events_of(after);
    // A submitted or decided application's content is frozen, unless these changes
    // reopen it (which only a supervisor's may, checked below).
    let open = application::read(before).map_or(true, |app| content_open(&app));
    let reopening = now.iter().any(|(obj, ops)| {
        !old.contains_key(obj)
            && ops.puts.get("kind").is_some_and(|all| {
                all.iter()
                    .any(|(v, _)| kind_named(v) == Some(EventKind::Reopened))
            })
    });
    if !open && !reopening && outside_events(before) != outside_events(after) {
        return Err(RuleBreach::Locked);
    }
    // Nothing appended is ever changed or removed.
    for (obj, ops) in &old {
        if !now.iter().any(|(o, n)| o == obj && n == ops) {
            return Err(RuleBreach::EventAltered);
        }
    }
    // Each new event is written whole by its creator, who may append its kind.
    let mut submitter: Option<ActorId> = None;
    for (obj, ops) in &now {
        let kinds: Vec<Option<EventKind>> = ops
            .puts
            .get("kind")
            .map(|all| all.iter().map(|(v, _)| kind_named(v)).collect())
            .unwrap_or_default();
        let single = match kinds.as_slice() {
            [one] => *one,
            _ => None,
        };
        if !old.contains_key(obj) {
            let creator = ops.creator.as_ref().ok_or(RuleBreach::EventAltered)?;
            let role = *roles.get(creator).ok_or(RuleBreach::EventAltered)?;
            if ops
                .puts
                .values()
                .flatten()
                .any(|(_, author)| author.as_ref() != Some(creator))
            {
                return Err(RuleBreach::EventAltered);
            }
            if let Some(event) = single {
                if !may_append(role, event) {
                    return Err(RuleBreach::Event {
                        role: role.as_str(),
                        event: event.as_str().to_owned(),
                    });
                }
                if DECISIONS.contains(&event) && submitter.as_ref() == Some(creator) {
                    return Err(RuleBreach::FourEyes);
                }
            } else if kinds.len() > 1 {
                return Err(RuleBreach::EventAltered);
            }
        }
        if single == Some(EventKind::Submitted) {
            submitter = ops.creator.clone();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{Event, append_event};
    use automerge::AutoCommit;
    use automerge::transaction::Transactable;

    fn actor(n: u8) -> ActorId {
        ActorId::from(vec![n; 16])
    }

    const VOLUNTEER: u8 = 1;
    const SUPERVISOR: u8 = 2;
    const OTHER_SUPERVISOR: u8 = 3;

    fn role_of(a: &ActorId) -> Option<Role> {
        match a.to_bytes()[0] {
            VOLUNTEER => Some(Role::Volunteer),
            SUPERVISOR | OTHER_SUPERVISOR => Some(Role::Supervisor),
            _ => None,
        }
    }

    fn event(kind: EventKind) -> Event {
        Event {
            id: format!("e-{}", kind.as_str()),
            kind,
            at: 1,
            by: "测试".into(),
            device: String::new(),
            text: String::new(),
            consent: None,
        }
    }

    /// A submitted application made by the volunteer.
    fn submitted() -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(actor(VOLUNTEER));
        doc.put(ROOT, "kind", "application").expect("put");
        append_event(&mut doc, &event(EventKind::Submitted)).expect("event");
        doc.commit();
        doc
    }

    /// Applies `edit` as `by` on a copy of `before`, and checks the result.
    fn by(
        before: &AutoCommit,
        who: u8,
        edit: impl FnOnce(&mut AutoCommit),
    ) -> Result<(), &'static str> {
        let mut after = before.clone().with_actor(actor(who));
        edit(&mut after);
        after.commit();
        check("application", before, &after, &[actor(who)], &role_of).map_err(|e| e.code())
    }

    #[test]
    fn only_a_supervisor_other_than_the_submitter_decides() {
        let doc = submitted();
        for kind in [
            EventKind::Approved,
            EventKind::Returned,
            EventKind::Rejected,
            EventKind::Filed,
            EventKind::Reopened,
        ] {
            let decide = |d: &mut AutoCommit| append_event(d, &event(kind)).expect("event");
            assert_eq!(
                by(&doc, VOLUNTEER, decide),
                Err("rule_forbidden"),
                "{kind:?}"
            );
            assert_eq!(by(&doc, SUPERVISOR, decide), Ok(()), "{kind:?}");
        }
        let consent = |d: &mut AutoCommit| append_event(d, &event(EventKind::Consent)).expect("e");
        assert_eq!(by(&doc, VOLUNTEER, consent), Ok(()));

        // A supervisor who submitted it may not approve it; another may.
        let mut own = doc.clone().with_actor(actor(SUPERVISOR));
        append_event(&mut own, &event(EventKind::Submitted)).expect("event");
        own.commit();
        let approve = |d: &mut AutoCommit| append_event(d, &event(EventKind::Approved)).expect("e");
        assert_eq!(by(&own, SUPERVISOR, approve), Err("four_eyes"));
        assert_eq!(by(&own, OTHER_SUPERVISOR, approve), Ok(()));
        // An unknown actor writes nothing.
        assert_eq!(
            by(&doc, 9, |d| d.put(ROOT, "x", 1).map(drop).expect("put")),
            Err("author_unknown")
        );
    }

    #[test]
    fn nobody_alters_or_removes_an_event() {
        let mut doc = submitted();
        let mut sup = doc.clone().with_actor(actor(SUPERVISOR));
        append_event(&mut sup, &event(EventKind::Returned)).expect("event");
        sup.commit();
        doc.merge(&mut sup).expect("merge");
        let list = |d: &AutoCommit| match d.get(ROOT, "events").expect("get") {
            Some((_, id)) => id,
            None => unreachable!("events"),
        };
        let second = |d: &AutoCommit| match d.get(list(d), 1).expect("get") {
            Some((_, id)) => id,
            None => unreachable!("event"),
        };
        // Turning the return into an approval, as the volunteer or even as a supervisor.
        for who in [VOLUNTEER, OTHER_SUPERVISOR] {
            let flip = |d: &mut AutoCommit| {
                let obj = second(d);
                d.put(obj, "kind", "approved").expect("put");
            };
            assert_eq!(by(&doc, who, flip), Err("event_altered"));
        }
        assert_eq!(
            by(&doc, VOLUNTEER, |d| {
                let l = list(d);
                d.delete(l, 1).expect("delete");
            }),
            Err("event_altered")
        );
        assert_eq!(
            by(&doc, VOLUNTEER, |d| {
                d.put_object(ROOT, "events", ObjType::List)
                    .map(drop)
                    .expect("put");
            }),
            Err("event_altered")
        );
        // Editing a field is not an event.
        assert_eq!(
            by(&doc, VOLUNTEER, |d| d
                .put(ROOT, "x", 1)
                .map(drop)
                .expect("put")),
            Ok(())
        );
    }

    #[test]
    fn a_volunteer_cannot_slip_a_decision_into_a_fresh_event() {
        let doc = submitted();
        // A new event map written by the volunteer but claiming its kind as approved.
        assert_eq!(
            by(&doc, VOLUNTEER, |d| {
                let mut e = event(EventKind::Consent);
                e.kind = EventKind::Approved;
                append_event(d, &e).expect("event");
            }),
            Err("rule_forbidden")
        );
    }

    #[test]
    fn a_submitted_applications_content_is_frozen_until_a_supervisor_reopens_it() {
        let doc = submitted();
        let edit = |d: &mut AutoCommit| d.put(ROOT, "x", 2).map(drop).expect("put");
        // Submitted: nobody changes its content, not even a supervisor, without reopening.
        assert_eq!(by(&doc, VOLUNTEER, edit), Err("application_locked"));
        assert_eq!(by(&doc, SUPERVISOR, edit), Err("application_locked"));
        // A supervisor's change that reopens it may change it (an approved one here).
        let mut approved = doc.clone().with_actor(actor(SUPERVISOR));
        append_event(&mut approved, &event(EventKind::Approved)).expect("event");
        approved.commit();
        assert_eq!(
            by(&approved, OTHER_SUPERVISOR, |d| {
                append_event(d, &event(EventKind::Reopened)).expect("event");
                d.put(ROOT, "x", 2).map(drop).expect("put");
            }),
            Ok(())
        );
        // Reopened, the volunteer corrects it; returned, likewise.
        let mut reopened = approved.clone().with_actor(actor(OTHER_SUPERVISOR));
        append_event(&mut reopened, &event(EventKind::Reopened)).expect("event");
        reopened.commit();
        assert_eq!(by(&reopened, VOLUNTEER, edit), Ok(()));
        let mut returned = doc.clone().with_actor(actor(SUPERVISOR));
        append_event(&mut returned, &event(EventKind::Returned)).expect("event");
        returned.commit();
        assert_eq!(by(&returned, VOLUNTEER, edit), Ok(()));
    }
}
