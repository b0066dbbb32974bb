//! The `application` record: one proxy application of one resident for one service.
//!
//! Layout (schema 1): `kind = "application"`, `schema`, `resident` (DocId), `service`
//! (catalog code), `catalog_version`, `fields` (map of the form's scalar values, keyed
//! as in the catalog), `attachments` (see [`crate::attachment`]),
//! `events` (append-only list of events: review decisions, and the resident's consent
//! for each kind of sensitive data with `consent_data`, `consent_agreed`,
//! `consent_signature`), `notes` (text), `created_at`,
//! `created_by.{device,volunteer}`.
//!
//! The status is never stored: it is derived from the events, so that concurrent
//! events from a volunteer and a supervisor are both kept and the outcome is the same
//! on every replica. It is derived in the events' causal order, never by their clocks:
//! events are only ever appended, and Automerge places an element appended by a device
//! after every element that device had seen, ordering concurrent ones by their
//! operation ids (the same on every replica). So the list's order is a causal order with
//! a deterministic tiebreak, and a tablet whose clock is a year wrong orders nothing
//! wrongly; the times are shown to people and decide nothing.

use automerge::{
    AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::attachment;
pub use crate::attachment::{Attachment, remove as remove_attachment, write as write_attachment};
use crate::catalog::{FieldDef, FieldKind, Sensitive, Service};
use crate::date::parse_ymd;
use crate::error::CoreError;
use crate::id_number::IdNumber;
use crate::phone;
use crate::value::{self, FieldValue};

pub const KIND: &str = "application";
pub const SCHEMA: i64 = 1;

/// Kinds of review event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Submitted,
    Returned,
    Approved,
    Rejected,
    Filed,
    /// The resident agreed or declined to the use of one kind of sensitive data; the
    /// status does not change.
    Consent,
    /// An approved application was changed: it goes back to the supervisor for review.
    Reopened,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Submitted => "submitted",
            EventKind::Returned => "returned",
            EventKind::Approved => "approved",
            EventKind::Rejected => "rejected",
            EventKind::Filed => "filed",
            EventKind::Consent => "consent",
            EventKind::Reopened => "reopened",
        }
    }

    fn parse(text: &str) -> Option<EventKind> {
        Some(match text {
            "submitted" => EventKind::Submitted,
            "returned" => EventKind::Returned,
            "approved" => EventKind::Approved,
            "rejected" => EventKind::Rejected,
            "filed" => EventKind::Filed,
            "consent" => EventKind::Consent,
            "reopened" => EventKind::Reopened,
            _ => return None,
        })
    }
}

/// One review event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Event {
    /// Unique per event (device actor + time + counter), the tie-break for ordering.
    pub id: String,
    pub kind: EventKind,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub by: String,
    pub device: String,
    /// A return comment, a rejection reason, or the government reference when filed.
    #[serde(default)]
    pub text: String,
    /// For a consent event: which data, and the resident's decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub consent: Option<Consent>,
}

/// A resident's decision on one kind of sensitive personal data (PIPL art. 29: separate
/// consent for each), signed on screen when agreed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Consent {
    pub data: Sensitive,
    pub agreed: bool,
    /// SHA-256 (hex) of the signature image; empty for a refusal given without one.
    #[serde(default)]
    pub signature: String,
}

/// Where an application stands, derived from its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Returned,
    Approved,
    Rejected,
    Filed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Filed => "filed",
        }
    }
}

/// Folds events, in the order given (the document's list order: causal, see the module
/// documentation), into a status. Their times play no part. An event that makes no
/// sense in the current status (approving a draft) is kept in the list but changes
/// nothing.
pub fn derive_status(events: &[Event]) -> Status {
    fold(events).0
}

/// The decisions a supervisor may make on a submission.
const DECISIONS: [EventKind; 3] = [
    EventKind::Returned,
    EventKind::Approved,
    EventKind::Rejected,
];

/// Folds events into a status, and the positions of two decisions on one submission that
/// contradict each other (made on two tablets offline, neither seeing the other): then
/// the application waits for a supervisor again, who settles it with a new decision,
/// rather than the order of the list silently choosing one.
pub fn fold(events: &[Event]) -> (Status, Vec<usize>) {
    let mut status = Status::Draft;
    // The decision in force on the latest submission, and a contradiction of it.
    let mut decided: Option<usize> = None;
    let mut disputed: Vec<usize> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let decision = DECISIONS.contains(&e.kind);
        match (status, e.kind) {
            (Status::Draft | Status::Returned, EventKind::Submitted) => {
                status = Status::Submitted;
                decided = None;
                disputed.clear();
            }
            (Status::Submitted, _) if decision => {
                status = match e.kind {
                    EventKind::Returned => Status::Returned,
                    EventKind::Approved => Status::Approved,
                    _ => Status::Rejected,
                };
                decided = Some(i);
                disputed.clear();
            }
            (Status::Returned | Status::Approved | Status::Rejected, _) if decision => {
                if let Some(first) = decided.filter(|&d| events[d].kind != e.kind) {
                    status = Status::Submitted;
                    disputed = vec![first, i];
                    decided = None;
                }
            }
            (Status::Approved, EventKind::Filed) => status = Status::Filed,
            (Status::Approved, EventKind::Reopened) => {
                status = Status::Submitted;
                decided = None;
                disputed.clear();
            }
            _ => {}
        }
    }
    (status, disputed)
}

/// The filing that made a filed application filed (its time, and the government's
/// reference as its text): the first filing after the last approval. `None` unless the
/// application is filed.
pub fn filing(app: &Application) -> Option<&Event> {
    if app.status != Status::Filed {
        return None;
    }
    let approved = app
        .events
        .iter()
        .rposition(|e| e.kind == EventKind::Approved)?;
    app.events[approved..]
        .iter()
        .find(|e| e.kind == EventKind::Filed)
}

/// An application as read from its document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Application {
    pub resident: String,
    pub service: String,
    pub catalog_version: String,
    pub fields: Vec<(String, FieldValue)>,
    pub attachments: Vec<Attachment>,
    /// In causal order (the document's list order), not by time.
    pub events: Vec<Event>,
    pub status: Status,
    /// Two decisions on the latest submission that contradict each other (made offline
    /// on two tablets): the application waits for a supervisor to decide it again.
    pub disputed: Vec<Event>,
    pub notes: String,
    pub created_at: i64,
}

/// Writes a new, empty application (uncommitted).
pub fn write_new(
    doc: &mut AutoCommit,
    resident: &str,
    service: &str,
    catalog_version: &str,
    created_by: (&str, &str),
    now_ms: i64,
) -> Result<(), CoreError> {
    doc.put(ROOT, "kind", KIND)?;
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "resident", resident)?;
    doc.put(ROOT, "service", service)?;
    doc.put(ROOT, "catalog_version", catalog_version)?;
    doc.put_object(ROOT, "fields", ObjType::Map)?;
    doc.put_object(ROOT, "attachments", ObjType::Map)?;
    doc.put_object(ROOT, "events", ObjType::List)?;
    doc.put_object(ROOT, "notes", ObjType::Text)?;
    doc.put(ROOT, "created_at", ScalarValue::Timestamp(now_ms))?;
    let by = doc.put_object(ROOT, "created_by", ObjType::Map)?;
    doc.put(&by, "device", created_by.0)?;
    doc.put(&by, "volunteer", created_by.1)?;
    Ok(())
}

/// Checks one typed value against its catalog definition; the error is a field code.
pub fn check_value(def: &FieldDef, v: &FieldValue) -> Result<FieldValue, ErrorCode> {
    let text_len = |t: &str| t.chars().count() as u32;
    match (def.kind, v) {
        (_, FieldValue::Null) => Ok(FieldValue::Null),
        (FieldKind::Text, FieldValue::Text(t)) => {
            let t = t.trim();
            if def.max_length.is_some_and(|max| text_len(t) > max) {
                Err(ErrorCode::TextTooLong)
            } else if t.chars().any(char::is_control) {
                Err(ErrorCode::TextChars)
            } else {
                Ok(FieldValue::Text(t.to_owned()))
            }
        }
        (FieldKind::Number, FieldValue::Int(n)) => {
            if def.min.is_some_and(|min| *n < min) {
                Err(ErrorCode::NumberTooSmall)
            } else if def.max.is_some_and(|max| *n > max) {
                Err(ErrorCode::NumberTooLarge)
            } else {
                Ok(FieldValue::Int(*n))
            }
        }
        (FieldKind::Date, FieldValue::Text(t)) => match parse_ymd(t) {
            Some(_) => Ok(FieldValue::Text(t.clone())),
            None => Err(ErrorCode::DateInvalid),
        },
        (FieldKind::Choice, FieldValue::Text(t)) => {
            if def.options.iter().any(|o| &o.value == t) {
                Ok(FieldValue::Text(t.clone()))
            } else {
                Err(ErrorCode::ChoiceInvalid)
            }
        }
        (FieldKind::Bool, FieldValue::Bool(b)) => Ok(FieldValue::Bool(*b)),
        (FieldKind::Phone, FieldValue::Text(t)) => phone::normalize(t).map(FieldValue::Text),
        (FieldKind::IdNumber, FieldValue::Text(t)) => IdNumber::parse(t)
            .map(|id| FieldValue::Text(id.as_str().to_owned()))
            .map_err(|e| e.code()),
        _ => Err(ErrorCode::WrongType),
    }
}

fn is_filled(v: Option<&FieldValue>) -> bool {
    match v {
        None | Some(FieldValue::Null) => false,
        Some(FieldValue::Text(t)) => !t.trim().is_empty(),
        Some(_) => true,
    }
}

/// What is missing before an application can be submitted: required field keys and
/// required attachment slots.
pub fn missing_for_submit(app: &Application, service: &Service) -> Vec<String> {
    let mut missing = Vec::new();
    for f in service.fields.iter().filter(|f| f.required) {
        let key = f.key.get_ref();
        let v = app.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        if !is_filled(v) {
            missing.push(key.clone());
        }
    }
    for a in service.attachments.iter().filter(|a| a.required) {
        if !app.attachments.iter().any(|x| &x.slot == a.key.get_ref()) {
            missing.push(a.key.get_ref().clone());
        }
    }
    missing
}

fn map_obj(doc: &impl ReadDoc, key: &str) -> Result<Option<automerge::ObjId>, CoreError> {
    Ok(match doc.get(ROOT, key)? {
        Some((Value::Object(ObjType::Map), id)) => Some(id),
        _ => None,
    })
}

/// Appends a review event.
pub fn append_event(doc: &mut AutoCommit, e: &Event) -> Result<(), CoreError> {
    let list = match doc.get(ROOT, "events")? {
        Some((Value::Object(ObjType::List), id)) => id,
        _ => doc.put_object(ROOT, "events", ObjType::List)?,
    };
    let at = doc.length(&list);
    let obj = doc.insert_object(&list, at, ObjType::Map)?;
    doc.put(&obj, "id", e.id.as_str())?;
    doc.put(&obj, "kind", e.kind.as_str())?;
    doc.put(&obj, "at", ScalarValue::Timestamp(e.at))?;
    doc.put(&obj, "by", e.by.as_str())?;
    doc.put(&obj, "device", e.device.as_str())?;
    doc.put(&obj, "text", e.text.as_str())?;
    if let Some(c) = &e.consent {
        doc.put(&obj, "consent_data", c.data.as_str())?;
        doc.put(&obj, "consent_agreed", c.agreed)?;
        doc.put(&obj, "consent_signature", c.signature.as_str())?;
    }
    Ok(())
}

fn scalar_in(
    doc: &impl ReadDoc,
    obj: &automerge::ObjId,
    key: &str,
) -> Result<FieldValue, CoreError> {
    Ok(value::get_in(doc, obj, key)?.unwrap_or(FieldValue::Null))
}

fn text_in(doc: &impl ReadDoc, obj: &automerge::ObjId, key: &str) -> Result<String, CoreError> {
    Ok(scalar_in(doc, obj, key)?
        .as_text()
        .unwrap_or_default()
        .to_owned())
}

fn int_in(doc: &impl ReadDoc, obj: &automerge::ObjId, key: &str) -> Result<i64, CoreError> {
    Ok(match scalar_in(doc, obj, key)? {
        FieldValue::Int(i) | FieldValue::Time(i) => i,
        _ => 0,
    })
}

/// Reads an application document, refusing anything that is not one.
pub fn read(doc: &impl ReadDoc) -> Result<Application, CoreError> {
    value::expect_kind(doc, KIND)?;
    let mut fields = Vec::new();
    if let Some(obj) = map_obj(doc, "fields")? {
        for key in doc.keys(&obj) {
            let v = scalar_in(doc, &obj, &key)?;
            fields.push((key, v));
        }
    }
    let attachments = attachment::read_all(doc)?;
    let mut events = Vec::new();
    if let Some((Value::Object(ObjType::List), list)) = doc.get(ROOT, "events")? {
        for i in 0..doc.length(&list) {
            if let Some((Value::Object(ObjType::Map), obj)) = doc.get(&list, i)? {
                let Some(kind) = EventKind::parse(&text_in(doc, &obj, "kind")?) else {
                    continue;
                };
                let consent = match kind {
                    EventKind::Consent => {
                        let Some(data) = Sensitive::parse(&text_in(doc, &obj, "consent_data")?)
                        else {
                            continue;
                        };
                        Some(Consent {
                            data,
                            agreed: scalar_in(doc, &obj, "consent_agreed")?
                                == FieldValue::Bool(true),
                            signature: text_in(doc, &obj, "consent_signature")?,
                        })
                    }
                    _ => None,
                };
                events.push(Event {
                    id: text_in(doc, &obj, "id")?,
                    kind,
                    at: int_in(doc, &obj, "at")?,
                    by: text_in(doc, &obj, "by")?,
                    device: text_in(doc, &obj, "device")?,
                    text: text_in(doc, &obj, "text")?,
                    consent,
                });
            }
        }
    }
    // Kept in the list's (causal) order: see the module documentation.
    let notes = match doc.get(ROOT, "notes")? {
        Some((Value::Object(ObjType::Text), id)) => doc.text(&id)?,
        _ => String::new(),
    };
    let (status, disputed) = fold(&events);
    Ok(Application {
        resident: value::text(doc, "resident")?,
        service: value::text(doc, "service")?,
        catalog_version: value::text(doc, "catalog_version")?,
        status,
        disputed: disputed.iter().map(|&i| events[i].clone()).collect(),
        fields,
        attachments,
        events,
        notes,
        created_at: value::time(doc, "created_at")?.unwrap_or(0),
    })
}

impl Application {
    /// The resident's latest decision on each kind of sensitive data.
    pub fn consents(&self) -> Vec<(&Event, &Consent)> {
        let mut latest: Vec<(&Event, &Consent)> = Vec::new();
        // Events are in causal (list) order: a later decision replaces an earlier one.
        for e in &self.events {
            if let Some(c) = &e.consent {
                latest.retain(|(_, l)| l.data != c.data);
                latest.push((e, c));
            }
        }
        latest
    }

    /// The decision on `data`, if the resident was asked.
    pub fn consent_for(&self, data: Sensitive) -> Option<bool> {
        self.consents()
            .into_iter()
            .find(|(_, c)| c.data == data)
            .map(|(_, c)| c.agreed)
    }
}

/// The sensitive kinds of data an application of `service` uses (its attachment slots'),
/// each once, in catalog order.
pub fn sensitive_kinds(service: &Service) -> Vec<Sensitive> {
    let mut kinds = Vec::new();
    for a in &service.attachments {
        if let Some(s) = a.sensitive
            && !kinds.contains(&s)
        {
            kinds.push(s);
        }
    }
    kinds
}

/// The kinds of sensitive data the application uses (an attachment of that kind is
/// attached or required) on which the resident has not been asked yet: nothing of that
/// kind may be submitted before she decides.
pub fn unasked_kinds(app: &Application, service: &Service) -> Vec<Sensitive> {
    let mut kinds = Vec::new();
    for a in &service.attachments {
        let used = a.required || app.attachments.iter().any(|x| &x.slot == a.key.get_ref());
        if let Some(s) = a.sensitive
            && used
            && app.consent_for(s).is_none()
            && !kinds.contains(&s)
        {
            kinds.push(s);
        }
    }
    kinds
}

/// Attachment slots that cannot go ahead because the resident declined the use of their
/// kind of data: those attached or required.
pub fn declined_slots(app: &Application, service: &Service) -> Vec<String> {
    service
        .attachments
        .iter()
        .filter(|a| {
            let used = a.required || app.attachments.iter().any(|x| &x.slot == a.key.get_ref());
            used && a
                .sensitive
                .is_some_and(|s| app.consent_for(s) == Some(false))
        })
        .map(|a| a.key.get_ref().clone())
        .collect()
}

/// The conflict-tracked field paths of an application of `service`.
pub fn field_paths(service: &Service) -> Vec<String> {
    service
        .fields
        .iter()
        .map(|f| format!("fields.{}", f.key.get_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, kind: EventKind, at: i64) -> Event {
        Event {
            id: id.into(),
            kind,
            at,
            by: String::new(),
            device: String::new(),
            text: String::new(),
            consent: None,
        }
    }

    #[test]
    fn consent_is_an_event_that_leaves_the_status_and_the_latest_decision_counts() {
        let mut doc = AutoCommit::new();
        write_new(&mut doc, "r", "pension_certification", "v", ("d", "v"), 0).expect("new");
        let consent = |id: &str, at: i64, agreed: bool| Event {
            consent: Some(Consent {
                data: Sensitive::Face,
                agreed,
                signature: if agreed {
                    "ab".repeat(32)
                } else {
                    String::new()
                },
            }),
            ..ev(id, EventKind::Consent, at)
        };
        append_event(&mut doc, &consent("1", 10, false)).expect("declined");
        append_event(&mut doc, &ev("2", EventKind::Submitted, 20)).expect("submitted");
        let app = read(&doc).expect("read");
        assert_eq!(app.status, Status::Submitted);
        assert_eq!(app.consent_for(Sensitive::Face), Some(false));
        assert_eq!(app.consent_for(Sensitive::Health), None);
        append_event(&mut doc, &consent("3", 30, true)).expect("agreed");
        let app = read(&doc).expect("read");
        assert_eq!(app.consent_for(Sensitive::Face), Some(true));
        assert_eq!(app.consents().len(), 1);
        let (_, latest) = app.consents()[0];
        assert_eq!(latest.signature, "ab".repeat(32));
    }

    #[test]
    fn status_follows_the_events_in_their_order_not_their_times() {
        use EventKind::*;
        assert_eq!(derive_status(&[]), Status::Draft);
        assert_eq!(derive_status(&[ev("a", Submitted, 1)]), Status::Submitted);
        let returned = [ev("a", Submitted, 1), ev("b", Returned, 2)];
        assert_eq!(derive_status(&returned), Status::Returned);
        // Times do not matter, order does: a supervisor's clock a year slow.
        let year = 365 * 86_400_000;
        let fixed = [
            ev("a", Submitted, 10 * year),
            ev("b", Returned, 9 * year),
            ev("c", Submitted, 10 * year + 1),
            ev("d", Approved, 9 * year + 1),
            ev("e", Filed, 9 * year + 2),
        ];
        assert_eq!(derive_status(&fixed), Status::Filed);
        let swapped = [ev("a", Returned, 1), ev("b", Submitted, 2)];
        assert_eq!(derive_status(&swapped), Status::Submitted);
        // Approving a draft changes nothing.
        assert_eq!(derive_status(&[ev("a", Approved, 1)]), Status::Draft);
        // A change after approval sends it back for review; a filed one stays filed.
        let reopened = [
            ev("a", Submitted, 1),
            ev("b", Approved, 2),
            ev("c", Reopened, 3),
        ];
        assert_eq!(derive_status(&reopened), Status::Submitted);
        let filed = [
            ev("a", Submitted, 1),
            ev("b", Approved, 2),
            ev("c", Filed, 3),
            ev("d", Reopened, 4),
        ];
        assert_eq!(derive_status(&filed), Status::Filed);
    }

    /// Two supervisors decide offline on one submitted application (a return on `a`, an
    /// approval on `b`) at times `t_return` and `t_approve`; both merge. The status.
    fn race(t_return: i64, t_approve: i64) -> (Status, Status) {
        let mut a = AutoCommit::new().with_actor(automerge::ActorId::from([1u8; 16]));
        write_new(&mut a, "r", "senior_allowance", "v", ("d", "v"), 0).expect("new");
        append_event(&mut a, &ev("1", EventKind::Submitted, 10)).expect("event");
        a.commit();
        let mut b = a.fork().with_actor(automerge::ActorId::from([2u8; 16]));
        append_event(&mut a, &ev("2", EventKind::Returned, t_return)).expect("event");
        a.commit();
        append_event(&mut b, &ev("3", EventKind::Approved, t_approve)).expect("event");
        b.commit();
        a.merge(&mut b).expect("merge");
        b.merge(&mut a).expect("merge");
        let (ra, rb) = (read(&a).expect("a"), read(&b).expect("b"));
        assert_eq!(ra.events.len(), 3);
        assert_eq!(ra.events, rb.events, "the same order on both replicas");
        (ra.status, rb.status)
    }

    #[test]
    fn contradicting_decisions_made_offline_wait_for_a_supervisor_on_every_replica() {
        let (on_a, on_b) = race(20, 21);
        assert_eq!((on_a, on_b), (Status::Submitted, Status::Submitted));
        // Whatever the tablets' clocks said, the outcome is the same.
        assert_eq!(race(21, 20), (on_a, on_b));
        assert_eq!(race(-5, 1_000_000_000_000), (on_a, on_b));
    }

    #[test]
    fn a_dispute_is_named_and_a_later_decision_settles_it() {
        use EventKind::*;
        let disputed = [
            ev("a", Submitted, 1),
            ev("b", Approved, 2),
            ev("c", Returned, 3),
        ];
        assert_eq!(fold(&disputed), (Status::Submitted, vec![1, 2]));
        let settled = [disputed.as_slice(), &[ev("d", Rejected, 4)]].concat();
        assert_eq!(fold(&settled), (Status::Rejected, vec![]));
        // The same decision twice is no dispute.
        let twice = [
            ev("a", Submitted, 1),
            ev("b", Approved, 2),
            ev("c", Approved, 3),
        ];
        assert_eq!(fold(&twice), (Status::Approved, vec![]));
        // A new submission after a return starts afresh.
        let again = [
            ev("a", Submitted, 1),
            ev("b", Returned, 2),
            ev("c", Submitted, 3),
            ev("d", Approved, 4),
        ];
        assert_eq!(fold(&again), (Status::Approved, vec![]));
    }

    #[test]
    fn a_decision_made_after_seeing_an_event_comes_after_it_whatever_the_clocks() {
        // The volunteer's tablet runs a year fast, the supervisor's a year slow.
        let year = 365 * 86_400_000;
        let mut volunteer = AutoCommit::new().with_actor(automerge::ActorId::from([9u8; 16]));
        write_new(&mut volunteer, "r", "senior_allowance", "v", ("d", "v"), 0).expect("new");
        append_event(&mut volunteer, &ev("1", EventKind::Submitted, 2 * year)).expect("event");
        volunteer.commit();
        let mut supervisor = volunteer
            .fork()
            .with_actor(automerge::ActorId::from([1u8; 16]));
        append_event(&mut supervisor, &ev("2", EventKind::Returned, 0)).expect("event");
        supervisor.commit();
        volunteer.merge(&mut supervisor).expect("merge");
        assert_eq!(read(&volunteer).expect("read").status, Status::Returned);
        // Fixed and submitted again (fast clock), then approved (slow clock).
        append_event(&mut volunteer, &ev("3", EventKind::Submitted, 2 * year + 1)).expect("event");
        volunteer.commit();
        supervisor.merge(&mut volunteer).expect("merge");
        append_event(&mut supervisor, &ev("4", EventKind::Approved, 1)).expect("event");
        supervisor.commit();
        volunteer.merge(&mut supervisor).expect("merge");
        let (v, s) = (read(&volunteer).expect("v"), read(&supervisor).expect("s"));
        assert_eq!(v.status, Status::Approved);
        assert_eq!(s.status, Status::Approved);
        let ids: Vec<&str> = v.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "4"]);
    }
}
