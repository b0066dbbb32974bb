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
    /// An approved application opened again for a correction (the volunteer changes it,
    /// then it is decided again).
    Reopened,
}

impl Decision {
    /// The review event that records it.
    pub fn event(self) -> EventKind {
        match self {
            Decision::Returned => EventKind::Returned,
            Decision::Approved => EventKind::Approved,
            Decision::Rejected => EventKind::Rejected,
            Decision::Filed => EventKind::Filed,
            Decision::Reopened => EventKind::Reopened,
        }
    }

    /// The decision an event records, if it records one.
    pub fn of_event(kind: EventKind) -> Option<Decision> {
        match kind {
            EventKind::Returned => Some(Decision::Returned),
            EventKind::Approved => Some(Decision::Approved),
            EventKind::Rejected => Some(Decision::Rejected),
            EventKind::Filed => Some(Decision::Filed),
            EventKind::Reopened => Some(Decision::Reopened),
            EventKind::Submitted | EventKind::Consent => None,
        }
    }

    /// The decisions that may follow `status`: a submitted application is returned,
    /// approved or rejected; an approved one is marked filed, or opened again for a
    /// correction.
    pub fn after(status: Status) -> &'static [Decision] {
        match status {
            Status::Submitted => &[Decision::Approved, Decision::Returned, Decision::Rejected],
            Status::Approved => &[Decision::Filed, Decision::Reopened],
            Status::Draft | Status::Returned | Status::Rejected | Status::Filed => &[],
        }
    }

    /// A return's comment, a rejection's reason and the government system's reference
    /// are required; an approval or a reopening needs no words.
    pub fn needs_text(self) -> bool {
        !matches!(self, Decision::Approved | Decision::Reopened)
    }

    /// Whether it judges the work, which nobody may do of what they submitted or
    /// changed themselves; filing only records what was done, and reopening asks for
    /// the work to be done again.
    pub fn judges(self) -> bool {
        !matches!(self, Decision::Filed | Decision::Reopened)
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
        assert_eq!(
            kinds(Status::Approved, false),
            [Decision::Filed, Decision::Reopened]
        );
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
    fn nobody_judges_their_own_work_but_they_may_file_or_reopen_it() {
        assert!(kinds(Status::Submitted, true).is_empty());
        assert_eq!(
            kinds(Status::Approved, true),
            [Decision::Filed, Decision::Reopened]
        );
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
            Decision::Reopened,
        ] {
            assert_eq!(Decision::of_event(d.event()), Some(d));
        }
        assert_eq!(Decision::of_event(EventKind::Consent), None);
    }
}
