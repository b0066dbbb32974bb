//! The `visit` record: a resident's visit plan. A supervisor assigns the resident to a
//! volunteer with a due date and a purpose; the volunteer who goes records what came of
//! it and may propose the next visit.
//!
//! Layout (schema 1), all at the root: `kind = "visit"`, `schema`, `resident` (DocId),
//! and the assignment a supervisor writes: `assignee` (the volunteer's member id),
//! `assignee_name`, `due` (`YYYY-MM-DD`), `purpose` (`checkup`, `certification` or
//! `service`), `service` (a catalog code, for `service`), `assigned_by` (a name),
//! `assigned_at` (timestamp). Each outcome is a map under a key of its own,
//! `outcome:<id>`: `round` (the plan's `assigned_at` when it was recorded: the assignment
//! it answers), `due` (the visit it answers), `outcome`, `on` (`YYYY-MM-DD`),
//! `next_due` (the next visit proposed, or empty), `note`, `by` (member id), `by_name`,
//! `at` (timestamp).
//!
//! A resident has one plan, whose id is derived from the resident's ([`plan_id`]): two
//! supervisors who assign the same resident offline write the same record, and their
//! assignments meet as a conflict on its fields, shown and resolved like any other.
//! Outcomes are kept under keys of their own so that outcomes recorded concurrently,
//! even on plans created concurrently, are all kept.
//!
//! The visit due ([`open_visit`]) is derived, never stored: the assigned one, or, once an
//! outcome of this assignment answers it, the next one that outcome proposed, and so on;
//! none once an outcome answers the last without proposing another. A reassignment, even
//! to the same day, starts afresh. Every replica derives the same.

use automerge::{
    AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ErrorCode;
use crate::date::parse_ymd;
use crate::error::{CoreError, FieldErrors};
use crate::field::Field;
use crate::ids::DocId;
use crate::value::{self, FieldValue};

pub const KIND: &str = "visit";
pub const SCHEMA: i64 = 1;

/// The prefix of an outcome's key.
pub const OUTCOME_PREFIX: &str = "outcome:";

/// The fields of an assignment: only a supervisor writes them, and they are the
/// conflict-tracked fields of a plan.
pub const FIELDS: &[&str] = &["assignee", "assignee_name", "due", "purpose", "service"];

/// What a visit is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A check-up visit: how the resident is, what they need.
    Checkup,
    /// The yearly pension certification.
    Certification,
    /// A service to apply for (its code in `service`).
    Service,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Checkup => "checkup",
            Purpose::Certification => "certification",
            Purpose::Service => "service",
        }
    }

    pub fn parse(text: &str) -> Option<Purpose> {
        [Purpose::Checkup, Purpose::Certification, Purpose::Service]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// What came of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The resident was seen; nothing to apply for now.
    Visited,
    /// An application was started for the resident.
    ApplicationStarted,
    /// Nobody was home: another visit is needed.
    NotHome,
    Moved,
    Deceased,
    Declined,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Visited,
        Outcome::ApplicationStarted,
        Outcome::NotHome,
        Outcome::Moved,
        Outcome::Deceased,
        Outcome::Declined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Visited => "visited",
            Outcome::ApplicationStarted => "application_started",
            Outcome::NotHome => "not_home",
            Outcome::Moved => "moved",
            Outcome::Deceased => "deceased",
            Outcome::Declined => "declined",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// Whether a next visit may follow: not for a resident who moved away or died.
    pub fn may_propose_next(self) -> bool {
        !matches!(self, Outcome::Moved | Outcome::Deceased)
    }
}

/// An assignment as a supervisor makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Assignment {
    /// The volunteer's member id, and their name as shown.
    pub assignee: String,
    pub assignee_name: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub purpose: Purpose,
    /// The service's catalog code, for [`Purpose::Service`]; empty otherwise.
    #[serde(default)]
    pub service: String,
}

impl Assignment {
    /// Checks the assignment: each field in error with its code.
    pub fn validate(&self) -> Result<(), CoreError> {
        let mut errors = FieldErrors::default();
        if self.assignee.trim().is_empty() {
            errors.push(Field::Assignee, ErrorCode::Required);
        }
        if canonical(&self.due).is_none() {
            errors.push(Field::Due, ErrorCode::DateInvalid);
        }
        if (self.purpose == Purpose::Service) == self.service.trim().is_empty() {
            errors.push(Field::Services, ErrorCode::Required);
        }
        errors.into_result()
    }
}

/// What a volunteer records after a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct OutcomeInput {
    pub outcome: Outcome,
    /// The day of the visit, `YYYY-MM-DD`.
    pub on: String,
    /// The next visit proposed (`YYYY-MM-DD`), or empty.
    #[serde(default)]
    pub next_due: String,
    #[serde(default)]
    pub note: String,
}

impl OutcomeInput {
    /// Checks the outcome of the visit due `due`: each field in error with its code. A
    /// next visit comes after this one, and not after a move or a death.
    pub fn validate(&self, due: &str) -> Result<(), CoreError> {
        let mut errors = FieldErrors::default();
        let on = canonical(&self.on);
        if on.is_none() {
            errors.push(Field::VisitedOn, ErrorCode::DateInvalid);
        }
        if !self.next_due.is_empty() {
            let after = parse_ymd(due).max(on);
            match canonical(&self.next_due) {
                Some(next) if self.outcome.may_propose_next() && Some(next) > after => {}
                _ => errors.push(Field::NextDue, ErrorCode::DateInvalid),
            }
        }
        errors.into_result()
    }
}

/// One outcome as read from a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RecordedOutcome {
    /// Its key in the record (`outcome:<id>`): the same on every replica.
    pub key: String,
    /// The assignment it answers (the plan's `assigned_at` then), and the due date of
    /// the visit it answers.
    pub round: i64,
    pub due: String,
    /// `None` for a value this version does not know.
    pub outcome: Option<Outcome>,
    pub on: String,
    pub next_due: String,
    pub note: String,
    pub by: String,
    pub by_name: String,
    pub at: i64,
}

/// A resident's visit plan as read from its document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Plan {
    pub resident: String,
    /// `None` until a supervisor assigns the resident (or when the fields are unreadable).
    pub assignment: Option<Assignment>,
    pub assigned_by: String,
    pub assigned_at: i64,
    /// Every outcome, by the day of the visit then key.
    pub outcomes: Vec<RecordedOutcome>,
}

/// The visit a plan has due: to whom, when and what for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct OpenVisit {
    pub assignee: String,
    pub assignee_name: String,
    pub due: String,
    pub purpose: Purpose,
    pub service: String,
    /// Whether it is a next visit a volunteer proposed (not the one a supervisor set).
    pub proposed: bool,
}

/// `text` as a date when it is one written as `YYYY-MM-DD` exactly (dates are compared as
/// text in lists and rows, so `2027-+1-05` is not one).
pub fn canonical(text: &str) -> Option<crate::date::Ymd> {
    parse_ymd(text).filter(|d| crate::date::format_ymd(*d) == text)
}

/// The id of `resident`'s visit plan: the same on every device, so that plans made
/// offline for one resident are one record.
pub fn plan_id(resident: &DocId) -> DocId {
    let digest = Sha256::digest(format!("doorstep-visit-plan\n{}", resident.as_str()));
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    // A UUID of version 8 (custom) and the RFC 4122 variant.
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    DocId::parse(&text).unwrap_or_else(|| resident.clone())
}

/// Writes a new plan's identity (uncommitted): its kind and resident.
pub fn write_new(doc: &mut AutoCommit, resident: &str) -> Result<(), CoreError> {
    doc.put(ROOT, "kind", KIND)?;
    doc.put(ROOT, "schema", SCHEMA)?;
    doc.put(ROOT, "resident", resident)?;
    Ok(())
}

/// Writes an assignment (uncommitted); `assignment` must have been validated. Only the
/// fields that change are written, so that a reassignment to another volunteer does not
/// also contend on the due date.
pub fn assign(
    doc: &mut AutoCommit,
    assignment: &Assignment,
    by: &str,
    now_ms: i64,
) -> Result<(), CoreError> {
    let values = [
        ("assignee", assignment.assignee.as_str()),
        ("assignee_name", assignment.assignee_name.as_str()),
        ("due", assignment.due.as_str()),
        ("purpose", assignment.purpose.as_str()),
        ("service", assignment.service.as_str()),
    ];
    for (field, text) in values {
        // A field that differs, or holds concurrent values (a reassignment settles them).
        let held = value::get_all(&*doc, field)?;
        let same = matches!(held.as_slice(), [(FieldValue::Text(t), _)] if t == text);
        if !same {
            doc.put(ROOT, field, text)?;
        }
    }
    doc.put(ROOT, "assigned_by", by)?;
    doc.put(ROOT, "assigned_at", ScalarValue::Timestamp(now_ms))?;
    Ok(())
}

/// Records the outcome of the visit due `due` (uncommitted) under key `outcome:<id>`;
/// `input` must have been validated against `due`.
pub fn record_outcome(
    doc: &mut AutoCommit,
    id: &str,
    due: &str,
    input: &OutcomeInput,
    by: (&str, &str),
    now_ms: i64,
) -> Result<(), CoreError> {
    // The assignment it answers: a reassignment (even for the same day) starts afresh.
    let round = value::time(&*doc, "assigned_at")?.unwrap_or(0);
    let obj = doc.put_object(ROOT, format!("{OUTCOME_PREFIX}{id}"), ObjType::Map)?;
    doc.put(&obj, "round", ScalarValue::Timestamp(round))?;
    doc.put(&obj, "due", due)?;
    doc.put(&obj, "outcome", input.outcome.as_str())?;
    doc.put(&obj, "on", input.on.as_str())?;
    doc.put(&obj, "next_due", input.next_due.as_str())?;
    doc.put(&obj, "note", input.note.as_str())?;
    doc.put(&obj, "by", by.0)?;
    doc.put(&obj, "by_name", by.1)?;
    doc.put(&obj, "at", ScalarValue::Timestamp(now_ms))?;
    Ok(())
}

/// Reads a plan document.
pub fn read(doc: &impl ReadDoc) -> Result<Plan, CoreError> {
    value::expect_kind(doc, KIND)?;
    let text = |field: &str| value::text(doc, field);
    let assignee = text("assignee")?;
    let purpose = Purpose::parse(&text("purpose")?);
    let assignment = match purpose {
        Some(purpose) if !assignee.is_empty() => Some(Assignment {
            assignee,
            assignee_name: text("assignee_name")?,
            due: text("due")?,
            purpose,
            service: text("service")?,
        }),
        _ => None,
    };
    let mut outcomes = Vec::new();
    for key in doc.keys(ROOT) {
        if !key.starts_with(OUTCOME_PREFIX) {
            continue;
        }
        let Some((Value::Object(ObjType::Map), obj)) = doc.get(ROOT, key.as_str())? else {
            continue;
        };
        let field = |name: &str| -> Result<String, CoreError> {
            Ok(value::get_in(doc, &obj, name)?
                .and_then(|v| v.as_text().map(str::to_owned))
                .unwrap_or_default())
        };
        let time = |name: &str| -> Result<i64, CoreError> {
            Ok(match value::get_in(doc, &obj, name)? {
                Some(FieldValue::Time(t)) => t,
                _ => 0,
            })
        };
        let (at, round) = (time("at")?, time("round")?);
        outcomes.push(RecordedOutcome {
            round,
            due: field("due")?,
            outcome: Outcome::parse(&field("outcome")?),
            on: field("on")?,
            next_due: field("next_due")?,
            note: field("note")?,
            by: field("by")?,
            by_name: field("by_name")?,
            at,
            key,
        });
    }
    outcomes.sort_by(|a, b| (&a.on, &a.key).cmp(&(&b.on, &b.key)));
    Ok(Plan {
        resident: text("resident")?,
        assignment,
        assigned_by: text("assigned_by")?,
        assigned_at: value::time(doc, "assigned_at")?.unwrap_or(0),
        outcomes,
    })
}

/// The visit due on a plan: the assigned one; once an outcome answers it, the next one
/// that outcome proposed (of several answering one visit, the one proposing the latest,
/// then the greatest key); none when the last is answered with no next one.
pub fn open_visit(plan: &Plan) -> Option<OpenVisit> {
    let assignment = plan.assignment.as_ref()?;
    let mut due = assignment.due.clone();
    let mut proposed = false;
    // Each step moves to a later date, so it ends within as many steps as outcomes.
    for _ in 0..=plan.outcomes.len() {
        // A proposal that is no date after this one counts as none.
        let proposal = |o: &RecordedOutcome| -> String {
            match canonical(&o.next_due) {
                Some(_) if o.next_due.as_str() > due.as_str() => o.next_due.clone(),
                _ => String::new(),
            }
        };
        let answer = plan
            .outcomes
            .iter()
            .filter(|o| o.round == plan.assigned_at && o.due == due)
            .map(|o| (proposal(o), &o.key))
            .max();
        match answer {
            None => {
                return Some(OpenVisit {
                    assignee: assignment.assignee.clone(),
                    assignee_name: assignment.assignee_name.clone(),
                    due,
                    purpose: if proposed {
                        Purpose::Checkup
                    } else {
                        assignment.purpose
                    },
                    service: if proposed {
                        String::new()
                    } else {
                        assignment.service.clone()
                    },
                    proposed,
                });
            }
            Some((next, _)) if !next.is_empty() => {
                due = next;
                proposed = true;
            }
            Some(_) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resident() -> DocId {
        DocId::parse("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11").expect("id")
    }

    fn assignment(assignee: &str, due: &str) -> Assignment {
        Assignment {
            assignee: assignee.into(),
            assignee_name: format!("测试{assignee}"),
            due: due.into(),
            purpose: Purpose::Certification,
            service: String::new(),
        }
    }

    fn outcome(outcome: Outcome, on: &str, next_due: &str) -> OutcomeInput {
        OutcomeInput {
            outcome,
            on: on.into(),
            next_due: next_due.into(),
            note: String::new(),
        }
    }

    #[test]
    fn a_plans_id_is_a_uuid_derived_from_the_residents() {
        let id = plan_id(&resident());
        assert_eq!(id, plan_id(&resident()));
        assert_ne!(id, resident());
        assert_eq!(&id.as_str()[14..15], "8");
    }

    #[test]
    fn the_visit_due_follows_the_outcomes_and_their_proposals() {
        let mut doc = AutoCommit::new();
        write_new(&mut doc, resident().as_str()).expect("new");
        assert_eq!(open_visit(&read(&doc).expect("read")), None);
        assign(&mut doc, &assignment("m1", "2026-12-10"), "测试主任", 1).expect("assign");
        let open = open_visit(&read(&doc).expect("read")).expect("open");
        assert_eq!((open.due.as_str(), open.proposed), ("2026-12-10", false));
        // Nobody home: the volunteer proposes another day.
        let first = outcome(Outcome::NotHome, "2026-12-09", "2026-12-16");
        first.validate("2026-12-10").expect("valid");
        record_outcome(&mut doc, "a", "2026-12-10", &first, ("m1", "测试m1"), 2).expect("done");
        let open = open_visit(&read(&doc).expect("read")).expect("open");
        assert_eq!((open.due.as_str(), open.proposed), ("2026-12-16", true));
        assert_eq!(open.purpose, Purpose::Checkup);
        // Seen, nothing more proposed: no visit due.
        let second = outcome(Outcome::Visited, "2026-12-16", "");
        record_outcome(&mut doc, "b", "2026-12-16", &second, ("m1", "测试m1"), 3).expect("done");
        let plan = read(&doc).expect("read");
        assert_eq!(plan.outcomes.len(), 2);
        assert_eq!(open_visit(&plan), None);
        // Reassigned for the same day it was last answered: due again (a new round).
        assign(&mut doc, &assignment("m3", "2026-12-16"), "测试主任", 3).expect("assign");
        let open = open_visit(&read(&doc).expect("read")).expect("due again");
        assert_eq!(
            (open.assignee.as_str(), open.due.as_str()),
            ("m3", "2026-12-16")
        );
        // A supervisor reassigns for a new date: due again, to the other volunteer.
        assign(&mut doc, &assignment("m2", "2027-01-05"), "测试主任", 4).expect("assign");
        let open = open_visit(&read(&doc).expect("read")).expect("open");
        assert_eq!(
            (open.assignee.as_str(), open.due.as_str()),
            ("m2", "2027-01-05")
        );
    }

    /// The field a validation refused, or `None` when it passed.
    fn refused(result: Result<(), CoreError>) -> Option<Field> {
        match result {
            Ok(()) => None,
            Err(CoreError::Invalid(errors)) => errors.0.first().map(|e| e.field),
            Err(other) => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn outcomes_and_assignments_are_checked() {
        let due = "2026-12-10";
        let moved = outcome(Outcome::Moved, "2026-12-09", "2027-01-01");
        assert_eq!(
            refused(moved.validate(due)),
            Some(Field::NextDue),
            "nobody to visit"
        );
        let early = outcome(Outcome::NotHome, "2026-12-12", "2026-12-11");
        assert_eq!(
            refused(early.validate(due)),
            Some(Field::NextDue),
            "after this one"
        );
        let odd = outcome(Outcome::Visited, "12/9", "");
        assert_eq!(refused(odd.validate(due)), Some(Field::VisitedOn));
        assert_eq!(
            refused(assignment("", due).validate()),
            Some(Field::Assignee)
        );
        assert_eq!(
            refused(assignment("m1", "2026-13-10").validate()),
            Some(Field::Due)
        );
        let mut service = assignment("m1", due);
        service.purpose = Purpose::Service;
        assert_eq!(refused(service.validate()), Some(Field::Services));
        service.service = "senior_allowance".into();
        assert_eq!(refused(service.validate()), None);
    }

    #[test]
    fn plans_made_offline_for_one_resident_meet_as_one_with_a_conflict_and_every_outcome() {
        let mut base = AutoCommit::new();
        write_new(&mut base, resident().as_str()).expect("new");
        // Two supervisors' tablets create the plan each on their own.
        let mut a = AutoCommit::new().with_actor(automerge::ActorId::from(b"aaaa".as_slice()));
        let mut b = AutoCommit::new().with_actor(automerge::ActorId::from(b"bbbb".as_slice()));
        for (doc, who) in [(&mut a, "m1"), (&mut b, "m2")] {
            write_new(doc, resident().as_str()).expect("new");
            assign(doc, &assignment(who, "2026-12-10"), "测试主任", 1).expect("assign");
            let input = outcome(Outcome::NotHome, "2026-12-10", "");
            record_outcome(doc, who, "2026-12-10", &input, (who, who), 2).expect("outcome");
        }
        a.merge(&mut b).expect("merge");
        b.merge(&mut a).expect("merge");
        let (plan_a, plan_b) = (read(&a).expect("a"), read(&b).expect("b"));
        assert_eq!(plan_a, plan_b);
        assert_eq!(plan_a.outcomes.len(), 2, "both outcomes kept");
        assert!(crate::conflict::has_conflicts(&a, FIELDS).expect("conflicts"));
    }
}
