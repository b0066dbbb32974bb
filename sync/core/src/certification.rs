//! The yearly pension certification (养老金领取资格认证): when each resident's falls due,
//! and whether it is done, due or overdue.
//!
//! A certification holds for twelve months. Each resident's certification has a
//! window in which it is to be done:
//! - with a certification known (one the committee filed with the government, or the
//!   date a volunteer recorded from the resident's own papers), the month twelve months
//!   after it: the resident is **done** until that month begins, **due** through it, and
//!   **overdue** once it has passed with no newer certification known;
//! - with none known, the twelve months from the resident's most recent birthday month
//!   (the national rule's default cycle): **due**, since nothing says it was done. It is
//!   never called overdue without a record to count from.
//!
//! Everything that is not done needs a visit (or a volunteer to record the date of a
//! certification done elsewhere). A certification the committee filed closes the window:
//! the next falls due a year on. Everything here is a pure function of dates, so every
//! device and every test gets the same answer for the same day.

use serde::{Deserialize, Serialize};

use crate::date::{Ymd, is_real_date};

/// Where a resident's certification stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CertificationState {
    /// Past its certification month with no newer certification known.
    Overdue,
    /// In (or, with none known, before) its certification month.
    Due,
    /// Certified, and the next certification month has not begun.
    Done,
}

impl CertificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificationState::Overdue => "overdue",
            CertificationState::Due => "due",
            CertificationState::Done => "done",
        }
    }
}

/// How the last certification is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CertifiedBy {
    /// The committee filed a certification application with the government: the date it
    /// was filed and the government's reference.
    Filed,
    /// A volunteer recorded the date of the last certification (from the resident's own
    /// papers or the government app), with no reference.
    Recorded,
}

/// The last certification known of a resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCertification {
    pub on: Ymd,
    pub by: CertifiedBy,
    /// The government's reference, for a filed one (may be empty).
    pub reference: String,
}

impl LastCertification {
    /// The later of two; on the same day a filed one (it has a reference) wins.
    pub fn later(a: Option<LastCertification>, b: LastCertification) -> LastCertification {
        match a {
            Some(a) if (a.on, a.by == CertifiedBy::Filed) >= (b.on, b.by == CertifiedBy::Filed) => {
                a
            }
            _ => b,
        }
    }
}

/// What a resident's certification year looks like on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificationYear {
    pub state: CertificationState,
    /// The window the state is about: the next (done), the current (due), the one that
    /// passed (overdue). Its first and last days.
    pub from: Ymd,
    pub by: Ymd,
    /// The window comes from the last certification (`true`) or the birthday month.
    pub from_last: bool,
}

impl CertificationYear {
    /// It needs a visit: due or overdue.
    pub fn needs_visit(&self) -> bool {
        self.state != CertificationState::Done
    }
}

/// The last day of a month.
pub fn last_day(year: u32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|d| is_real_date(year, month, *d))
        .unwrap_or(28)
}

/// The last day of the month `months` after `(year, month)`.
fn end_of_month_after(year: u32, month: u32, months: u32) -> Ymd {
    let index = year * 12 + (month - 1) + months;
    let (y, m) = (index / 12, index % 12 + 1);
    (y, m, last_day(y, m))
}

/// The certification year of a resident born on `birth` (if known) whose last known
/// certification is `last`, on `today`. `None` when neither is known: nothing to go by.
pub fn certification_year(
    birth: Option<Ymd>,
    last: Option<&LastCertification>,
    today: Ymd,
) -> Option<CertificationYear> {
    let this_month = (today.0, today.1);
    if let Some(last) = last {
        let month = (last.on.0 + 1, last.on.1);
        let state = if this_month < month {
            CertificationState::Done
        } else if this_month == month {
            CertificationState::Due
        } else {
            CertificationState::Overdue
        };
        return Some(CertificationYear {
            state,
            from: (month.0, month.1, 1),
            by: end_of_month_after(month.0, month.1, 0),
            from_last: true,
        });
    }
    let birthday_month = birth?.1;
    if !(1..=12).contains(&birthday_month) {
        return None;
    }
    // The most recent birthday month: this year's once it has begun, else last year's.
    let year = if today.1 >= birthday_month {
        today.0
    } else {
        today.0.checked_sub(1)?
    };
    Some(CertificationYear {
        state: CertificationState::Due,
        from: (year, birthday_month, 1),
        by: end_of_month_after(year, birthday_month, 11),
        from_last: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(on: Ymd) -> LastCertification {
        LastCertification {
            on,
            by: CertifiedBy::Filed,
            reference: "GOV-1".into(),
        }
    }

    fn state(birth: Option<Ymd>, last: Option<Ymd>, today: Ymd) -> (CertificationState, Ymd, Ymd) {
        let last = last.map(filed);
        let year = certification_year(birth, last.as_ref(), today).expect("known");
        (year.state, year.from, year.by)
    }

    use CertificationState::{Done, Due, Overdue};

    #[test]
    fn a_certification_holds_until_its_month_a_year_on() {
        let birth = Some((1950, 3, 9));
        // Certified 20 December 2025: done through November 2026.
        let last = Some((2025, 12, 20));
        let december = ((2026, 12, 1), (2026, 12, 31));
        assert_eq!(
            state(birth, last, (2025, 12, 20)),
            (Done, december.0, december.1)
        );
        assert_eq!(
            state(birth, last, (2026, 11, 30)),
            (Done, december.0, december.1)
        );
        // Due for the whole of December 2026, from its first day to its last.
        assert_eq!(
            state(birth, last, (2026, 12, 1)),
            (Due, december.0, december.1)
        );
        assert_eq!(
            state(birth, last, (2026, 12, 31)),
            (Due, december.0, december.1)
        );
        // Overdue from January, and stays so: the year turns with it.
        assert_eq!(
            state(birth, last, (2027, 1, 1)),
            (Overdue, december.0, december.1)
        );
        assert_eq!(
            state(birth, last, (2028, 6, 1)),
            (Overdue, december.0, december.1)
        );
    }

    #[test]
    fn the_last_certification_overrides_the_birthday_month() {
        // Born in March, last certified in July: due in July, not March.
        let year = certification_year(
            Some((1950, 3, 9)),
            Some(&filed((2026, 7, 2))),
            (2027, 3, 15),
        )
        .expect("known");
        assert_eq!(
            (year.state, year.from, year.by, year.from_last),
            (Done, (2027, 7, 1), (2027, 7, 31), true)
        );
        // Certified on 29 February: due in February a year on, to its 28th.
        assert_eq!(
            state(None, Some((2028, 2, 29)), (2029, 2, 10)),
            (Due, (2029, 2, 1), (2029, 2, 28))
        );
        // A certification dated ahead of today (a fast clock) is simply done.
        assert_eq!(
            state(None, Some((2027, 1, 1)), (2026, 12, 1)),
            (Done, (2028, 1, 1), (2028, 1, 31))
        );
    }

    #[test]
    fn with_none_known_it_is_due_in_the_twelve_months_from_the_birthday_month() {
        let birth = Some((1948, 6, 30));
        // From June 2026 to May 2027, whichever day.
        let window = ((2026, 6, 1), (2027, 5, 31));
        for today in [(2026, 6, 1), (2026, 12, 31), (2027, 5, 31)] {
            assert_eq!(
                state(birth, None, today),
                (Due, window.0, window.1),
                "{today:?}"
            );
        }
        // Before June 2026 it is the window from June 2025; after May 2027, June 2027's.
        assert_eq!(
            state(birth, None, (2026, 5, 31)),
            (Due, (2025, 6, 1), (2026, 5, 31))
        );
        assert_eq!(
            state(birth, None, (2027, 6, 1)),
            (Due, (2027, 6, 1), (2028, 5, 31))
        );
        // Born in January: the window ends in December of the same year.
        assert_eq!(
            state(Some((1950, 1, 2)), None, (2026, 1, 1)),
            (Due, (2026, 1, 1), (2026, 12, 31))
        );
        let year = certification_year(birth, None, (2026, 7, 5)).expect("known");
        assert!(!year.from_last);
        // Nothing to go by.
        assert_eq!(certification_year(None, None, (2026, 1, 5)), None);
        assert_eq!(
            certification_year(Some((1950, 13, 1)), None, (2026, 1, 5)),
            None
        );
    }

    #[test]
    fn a_visit_is_needed_unless_done() {
        let needs = |birth: Option<Ymd>, last: Option<Ymd>, today: Ymd| {
            certification_year(birth, last.map(filed).as_ref(), today)
                .expect("known")
                .needs_visit()
        };
        assert!(
            needs(Some((1948, 6, 30)), None, (2026, 5, 31)),
            "none known"
        );
        assert!(!needs(None, Some((2026, 3, 1)), (2026, 12, 31)), "done");
        assert!(needs(None, Some((2025, 12, 20)), (2026, 12, 1)), "due");
        assert!(needs(None, Some((2025, 11, 20)), (2026, 12, 1)), "overdue");
        assert_eq!(last_day(2026, 2), 28);
        assert_eq!(last_day(2028, 2), 29);
        assert_eq!(last_day(2026, 4), 30);
    }

    #[test]
    fn the_later_certification_is_kept_and_a_filed_one_wins_a_tie() {
        let recorded = |on: Ymd| LastCertification {
            on,
            by: CertifiedBy::Recorded,
            reference: String::new(),
        };
        let a = LastCertification::later(None, recorded((2026, 1, 1)));
        let b = LastCertification::later(Some(a.clone()), filed((2025, 1, 1)));
        assert_eq!(b, a);
        let c = LastCertification::later(Some(a), filed((2026, 1, 1)));
        assert_eq!(c.by, CertifiedBy::Filed);
        let d = LastCertification::later(Some(c.clone()), recorded((2026, 1, 1)));
        assert_eq!(d, c);
    }
}
