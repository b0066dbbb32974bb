//! Visits between tablets through a real server: a supervisor's assignment made offline
//! reaches the volunteer's tablet and shows in their day; the visit marked done reaches
//! the supervisor; two supervisors assigning one resident offline meet as a conflict on
//! every tablet; and a volunteer's tablet cannot assign (its own device refuses, and the
//! server refuses a crafted upload) nor alter or remove an outcome.

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use doorstep_core::date::format_ymd;
use doorstep_core::visit::{self, Assignment, Outcome, OutcomeInput, Purpose};
use doorstep_device::DeviceError;
use doorstep_device::visits::VisitWhen;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, register, server_db};
use doorstep_tests::principal::{Principal, changes_of, pull, raw_sync};

fn to(member: &str, name: &str, due: &str) -> Assignment {
    Assignment {
        assignee: member.into(),
        assignee_name: name.into(),
        due: due.into(),
        purpose: Purpose::Certification,
        service: String::new(),
    }
}

#[test]
fn an_assignment_made_offline_reaches_the_volunteer_and_the_outcome_comes_back()
-> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut boss = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任甲")?;
    let mut chief = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任乙")?;
    let first = register(&mut volunteer.device, "测试甲", "11010519400301001")?;
    let second = register(&mut volunteer.device, "测试乙", "11010519410301002")?;
    volunteer.sync(&server)?;
    boss.sync(&server)?;
    chief.sync(&server)?;
    let me = volunteer.device.member_id()?;
    let today = format_ymd(volunteer.device.today());

    // Offline, the supervisor assigns the first resident; it reaches the volunteer.
    boss.device
        .assign_visit(&first, &to(&me, "测试志愿者甲", &today))?;
    boss.sync(&server)?;
    volunteer.sync(&server)?;
    let day = volunteer.device.my_visits(0, 20)?;
    assert_eq!(day.len(), 1);
    assert_eq!((&day[0].resident, day[0].when), (&first, VisitWhen::Today));
    // The volunteer's own tablet will not assign.
    let refused = volunteer
        .device
        .assign_visit(&second, &to(&me, "测试志愿者甲", &today));
    assert!(
        matches!(refused, Err(DeviceError::NotSupervisor)),
        "{refused:?}"
    );

    // Marked done: it leaves the volunteer's day and reaches the supervisor.
    volunteer.device.record_visit_outcome(
        &first,
        &OutcomeInput {
            outcome: Outcome::ApplicationStarted,
            on: today.clone(),
            next_due: String::new(),
            note: String::new(),
        },
    )?;
    assert!(volunteer.device.my_visits(0, 20)?.is_empty());
    volunteer.sync(&server)?;
    boss.sync(&server)?;
    let plan = boss.device.visit_plan(&first)?.expect("the plan");
    assert_eq!(plan.open, None);
    assert_eq!(plan.plan.outcomes.len(), 1);
    assert_eq!(plan.plan.outcomes[0].by, me);
    assert_eq!(
        plan.plan.outcomes[0].outcome,
        Some(Outcome::ApplicationStarted)
    );

    // Two supervisors assign the second resident offline, differently: every tablet
    // shows the conflict once they have synced.
    boss.device
        .assign_visit(&second, &to(&me, "测试志愿者甲", &today))?;
    chief
        .device
        .assign_visit(&second, &to("someone-else", "测试志愿者乙", "2027-01-05"))?;
    boss.sync(&server)?;
    chief.sync(&server)?;
    boss.sync(&server)?;
    volunteer.sync(&server)?;
    for device in [&boss.device, &chief.device, &volunteer.device] {
        let plan = device.visit_plan(&second)?.expect("the plan");
        assert!(plan.conflicted, "the conflict shows");
    }
    // A supervisor settles it; the volunteer's list of conflicts does not offer it.
    let plan_id = visit::plan_id(&second);
    assert!(
        boss.device
            .conflicted_records()?
            .contains(&(plan_id.clone(), "visit".into()))
    );
    assert!(
        !volunteer
            .device
            .conflicted_records()?
            .iter()
            .any(|(id, _)| *id == plan_id)
    );
    assert_eq!(
        boss.device.visit_plan(&second)?,
        chief.device.visit_plan(&second)?
    );
    Ok(())
}

#[test]
fn a_volunteers_tablet_cannot_assign_nor_alter_or_remove_an_outcome() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut boss = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let resident = register(&mut volunteer.device, "测试甲", "11010519400301001")?;
    let other = register(&mut volunteer.device, "测试乙", "11010519410301002")?;
    volunteer.sync(&server)?;
    boss.sync(&server)?;
    let me = volunteer.device.member_id()?;
    let today = format_ymd(boss.device.today());
    boss.device
        .assign_visit(&resident, &to(&me, "测试志愿者甲", &today))?;
    boss.sync(&server)?;
    volunteer.sync(&server)?;
    volunteer.device.record_visit_outcome(
        &resident,
        &OutcomeInput {
            outcome: Outcome::NotHome,
            on: today.clone(),
            next_due: String::new(),
            note: String::new(),
        },
    )?;
    volunteer.sync(&server)?;

    // A lost volunteer tablet, with its own key and a raw client.
    let mallory = Principal::new(&server, &["c1"], "volunteer")?;
    let docs = pull(&server, &mallory)?;
    let plan_id = visit::plan_id(&resident);
    let plan = docs.get(plan_id.as_str()).expect("mallory reads the plan");
    let outcome_key = plan
        .keys(ROOT)
        .find(|k| k.starts_with(visit::OUTCOME_PREFIX))
        .expect("an outcome");
    let edited = |edit: &dyn Fn(&mut automerge::AutoCommit)| {
        let mut d = plan.clone().with_actor(mallory.actor.clone());
        let heads = d.get_heads();
        edit(&mut d);
        d.commit();
        changes_of(&mut d, &heads)
    };
    let new_plan = {
        let mut d = mallory.doc();
        visit::write_new(&mut d, other.as_str()).expect("new");
        visit::assign(&mut d, &to("mallory", "测试", &today), "测试", 1).expect("assign");
        d.commit();
        changes_of(&mut d, &[])
    };
    let attacks = [
        (
            "a new plan assigning a resident",
            mallory.upload(visit::plan_id(&other).as_str(), "visit", new_plan),
            "rule_forbidden",
        ),
        (
            "a plan reassigned",
            mallory.upload(
                plan_id.as_str(),
                "visit",
                edited(&|d| {
                    visit::assign(d, &to("mallory", "测试", "2027-02-01"), "测试", 2)
                        .expect("assign");
                }),
            ),
            "rule_forbidden",
        ),
        (
            "an outcome changed",
            mallory.upload(
                plan_id.as_str(),
                "visit",
                edited(&|d| {
                    let Ok(Some((_, obj))) = d.get(ROOT, outcome_key.as_str()) else {
                        unreachable!("the outcome is there");
                    };
                    d.put(&obj, "outcome", "deceased").expect("put");
                }),
            ),
            "event_altered",
        ),
        (
            "an outcome removed",
            mallory.upload(
                plan_id.as_str(),
                "visit",
                edited(&|d| d.delete(ROOT, outcome_key.as_str()).expect("delete")),
            ),
            "event_altered",
        ),
    ];
    let changes = || -> anyhow::Result<i64> {
        server_db(&server.data_dir)?.int("SELECT count(*) FROM changes")
    };
    for (name, upload, code) in attacks {
        let before = changes()?;
        let answer = raw_sync(&server, mallory.token(), 0, vec![upload])?;
        assert_eq!(answer.accepted, 0, "{name}");
        assert_eq!(
            answer.refused.first().map(|r| r.code.as_str()),
            Some(code),
            "{name}"
        );
        assert_eq!(changes()?, before, "{name}: nothing stored");
    }
    // The supervisor's reassignment still goes through, and the volunteer sees it.
    boss.sync(&server)?;
    boss.device
        .assign_visit(&resident, &to(&me, "测试志愿者甲", "2027-02-01"))?;
    boss.sync(&server)?;
    volunteer.sync(&server)?;
    let day = volunteer.device.my_visits(0, 20)?;
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].due, "2027-02-01");
    Ok(())
}
