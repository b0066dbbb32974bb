//! A supervisor's decisions on an application: which may follow its status, which need
//! words, and which one may not take on one's own work. The device enforces them when a
//! decision is recorded and offers the same list to the window, which shows only those.

use serde::{Deserialize, Serialize};

use crate::application::{EventKind, Status};

/// A decision on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Back to the volunteer with a comment.
    Returned,
    Approved,
    /// Refused, with the reason.
    Rejected,
    /// Entered into the government system, with its reference.
    Filed,
}

impl Decision {
    /// The review event that records it.
    pub fn event(self) -> EventKind {
        match self {
            Decision::Returned => EventKind::Returned,
            Decision::Approved => EventKind::Approved,
            Decision::Rejected => EventKind::Rejected,
            Decision::Filed => EventKind::Filed,
        }
    }

    /// The decision an event records, if it records one.
    pub fn of_event(kind: EventKind) -> Option<Decision> {
        match kind {
            EventKind::Returned => Some(Decision::Returned),
            EventKind::Approved => Some(Decision::Approved),
            EventKind::Rejected => Some(Decision::Rejected),
            EventKind::Filed => Some(Decision::Filed),
            EventKind::Submitted | EventKind::Consent | EventKind::Reopened => None,
        }
    }

    /// The decisions that may follow `status`: a submitted application is returned,
    /// approved or rejected; an approved one is marked filed.
    pub fn after(status: Status) -> &'static [Decision] {
        match status {
            Status::Submitted => &[Decision::Approved, Decision::Returned, Decision::Rejected],
            Status::Approved => &[Decision::Filed],
            Status::Draft | Status::Returned | Status::Rejected | Status::Filed => &[],
        }
    }

    /// A return's comment, a rejection's reason and the government system's reference
    /// are required; an approval needs no words.
    pub fn needs_text(self) -> bool {
        self != Decision::Approved
    }

    /// Whether it judges the work, which nobody may do of what they submitted or
    /// changed themselves; filing only records what was done.
    pub fn judges(self) -> bool {
        self != Decision::Filed
    }
}

/// A decision the window may offer, and whether it asks for words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DecisionOffer {
    pub decision: Decision,
    pub needs_text: bool,
}

/// The decisions that may be taken on an application in `status` by someone who did
/// (`own_work`) or did not submit or change it.
pub fn offers(status: Status, own_work: bool) -> Vec<DecisionOffer> {
    Decision::after(status)
        .iter()
        .filter(|d| !(own_work && d.judges()))
        .map(|&decision| DecisionOffer {
            decision,
            needs_text: decision.needs_text(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(status: Status, own_work: bool) -> Vec<Decision> {
        offers(status, own_work)
            .iter()
            .map(|o| o.decision)
            .collect()
    }

    #[test]
    fn a_submitted_application_is_judged_and_an_approved_one_filed() {
        assert_eq!(
            kinds(Status::Submitted, false),
            [Decision::Approved, Decision::Returned, Decision::Rejected]
        );
        assert_eq!(kinds(Status::Approved, false), [Decision::Filed]);
        for status in [
            Status::Draft,
            Status::Returned,
            Status::Rejected,
            Status::Filed,
        ] {
            assert!(kinds(status, false).is_empty(), "{status:?}");
        }
    }

    #[test]
    fn nobody_judges_their_own_work_but_they_may_file_it() {
        assert!(kinds(Status::Submitted, true).is_empty());
        assert_eq!(kinds(Status::Approved, true), [Decision::Filed]);
    }

    #[test]
    fn every_decision_but_approval_needs_words() {
        let needing: Vec<Decision> = offers(Status::Submitted, false)
            .into_iter()
            .chain(offers(Status::Approved, false))
            .filter(|o| o.needs_text)
            .map(|o| o.decision)
            .collect();
        assert_eq!(
            needing,
            [Decision::Returned, Decision::Rejected, Decision::Filed]
        );
    }

    #[test]
    fn each_decision_is_its_own_event() {
        for d in [
            Decision::Returned,
            Decision::Approved,
            Decision::Rejected,
            Decision::Filed,
        ] {
            assert_eq!(Decision::of_event(d.event()), Some(d));
        }
        assert_eq!(Decision::of_event(EventKind::Consent), None);
    }
}
