//! Property: assignments, reassignments and outcomes made on random replicas, merged in
//! random order, leave every replica with the same plan and the same visit due — what
//! each device's list of visits is made from.

use automerge::{ActorId, AutoCommit};
use doorstep_core::visit::{self, Assignment, Outcome, OutcomeInput, Purpose};
use proptest::prelude::*;

const RESIDENT: &str = "0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11";
const REPLICAS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    /// Replica `at` assigns the resident to volunteer `who`, due on day `day`.
    Assign { at: usize, who: u8, day: u8 },
    /// Replica `at` records an outcome of the visit it sees due, proposing a next one
    /// `next` days later (or none).
    Outcome {
        at: usize,
        outcome: usize,
        next: Option<u8>,
    },
    /// Replica `to` takes everything replica `from` has.
    Merge { from: usize, to: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..REPLICAS, 0u8..3, 1u8..28).prop_map(|(at, who, day)| Op::Assign { at, who, day }),
        (
            0..REPLICAS,
            0..Outcome::ALL.len(),
            proptest::option::of(1u8..20)
        )
            .prop_map(|(at, outcome, next)| Op::Outcome { at, outcome, next }),
        (0..REPLICAS, 0..REPLICAS).prop_map(|(from, to)| Op::Merge { from, to }),
    ]
}

fn date(day: u32) -> String {
    // Days from 2026-12-01, across the new year.
    let (y, m, d) = if day <= 31 {
        (2026, 12, day)
    } else {
        (2027, 1, day - 31)
    };
    format!("{y:04}-{m:02}-{d:02}")
}

fn day_of(text: &str) -> u32 {
    let d: u32 = text[8..10].parse().unwrap_or(1);
    if text.starts_with("2026") { d } else { 31 + d }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn plans_converge_whatever_the_order(
        created_apart in proptest::collection::vec(any::<bool>(), REPLICAS),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let mut replicas: Vec<AutoCommit> = (0..REPLICAS)
            .map(|i| AutoCommit::new().with_actor(ActorId::from(vec![i as u8 + 1; 16])))
            .collect();
        // Some replicas make the plan on their own (offline), the rest start from the
        // first one's.
        visit::write_new(&mut replicas[0], RESIDENT).expect("new");
        replicas[0].commit();
        for (i, apart) in created_apart.iter().enumerate().skip(1) {
            if *apart {
                visit::write_new(&mut replicas[i], RESIDENT).expect("new");
                replicas[i].commit();
            } else {
                let (first, rest) = replicas.split_at_mut(1);
                rest[i - 1].merge(&mut first[0]).expect("merge");
            }
        }
        let mut keys = 0;
        for op in ops {
            match op {
                Op::Assign { at, who, day } => {
                    let a = Assignment {
                        assignee: format!("m{who}"),
                        assignee_name: format!("测试{who}"),
                        due: date(u32::from(day)),
                        purpose: Purpose::Checkup,
                        service: String::new(),
                    };
                    visit::assign(&mut replicas[at], &a, "测试主任", i64::from(day)).expect("assign");
                    replicas[at].commit();
                }
                Op::Outcome { at, outcome, next } => {
                    let plan = visit::read(&replicas[at]).expect("read");
                    let Some(open) = visit::open_visit(&plan) else { continue };
                    let due = day_of(&open.due);
                    let input = OutcomeInput {
                        outcome: Outcome::ALL[outcome],
                        on: open.due.clone(),
                        next_due: next
                            .filter(|n| due + u32::from(*n) <= 59)
                            .map(|n| date(due + u32::from(n)))
                            .unwrap_or_default(),
                        note: String::new(),
                    };
                    if input.validate(&open.due).is_err() {
                        continue;
                    }
                    keys += 1;
                    visit::record_outcome(
                        &mut replicas[at], &format!("k{keys}"), &open.due, &input, ("m0", "测试"), 0,
                    ).expect("outcome");
                    replicas[at].commit();
                }
                Op::Merge { from, to } if from != to => {
                    let mut source = replicas[from].clone();
                    replicas[to].merge(&mut source).expect("merge");
                }
                Op::Merge { .. } => {}
            }
        }
        // Everyone meets everyone: in two orders, the same outcome.
        for i in 0..REPLICAS {
            for j in 0..REPLICAS {
                if i != j {
                    let mut source = replicas[j].clone();
                    replicas[i].merge(&mut source).expect("merge");
                }
            }
        }
        let first = visit::read(&replicas[0]).expect("read");
        prop_assert_eq!(first.outcomes.len(), keys, "every outcome kept");
        for replica in &replicas[1..] {
            let plan = visit::read(replica).expect("read");
            prop_assert_eq!(&plan, &first);
            prop_assert_eq!(visit::open_visit(&plan), visit::open_visit(&first));
        }
    }
}
