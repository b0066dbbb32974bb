//! Visits on the device: a supervisor's assignments, a volunteer's day ordered by due
//! date then address with what each file lacks, outcomes and the next visit proposed,
//! and two supervisors' offline assignments of one resident meeting as a conflict.

use doorstep_core::DocId;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_core::visit::{Assignment, Outcome, OutcomeInput, Purpose};
use doorstep_device::visits::{Missing, VisitWhen};
use doorstep_device::{Device, DeviceError};
use tempfile::TempDir;

mod common;
use common::{authorize, open_dir, raw_db};

fn open(name: &str) -> (TempDir, Device) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer(name).expect("name");
    (dir, device)
}

fn resident(n: u32, address: &str, phone: &str) -> ResidentInput {
    ResidentInput {
        name: format!("测试居民{n}"),
        id_number: IdNumber::complete(&format!("11010519400301{n:03}")).expect("17 digits"),
        phone: phone.into(),
        address: address.into(),
        ..ResidentInput::default()
    }
}

fn assignment(assignee: &str, due: &str, purpose: Purpose) -> Assignment {
    Assignment {
        assignee: assignee.into(),
        assignee_name: format!("志愿者{assignee}"),
        due: due.into(),
        purpose,
        service: if purpose == Purpose::Service {
            "senior_allowance".into()
        } else {
            String::new()
        },
    }
}

#[test]
fn a_volunteers_day_lists_visits_by_due_date_then_address_with_what_each_file_lacks() {
    let (_dir, mut device) = open("测试主任");
    let me = device.member_id().expect("member");
    let today = (2026, 12, 7);
    let people: Vec<DocId> = [
        ("测试路9号", "13800000001"),
        ("测试路2号", ""),
        ("测试路1号", "13800000003"),
        ("测试路5号", "13800000004"),
        ("测试路3号", "13800000005"),
    ]
    .iter()
    .enumerate()
    .map(|(n, (address, phone))| {
        device
            .register_resident(&resident(n as u32 + 1, address, phone))
            .expect("register")
            .id
    })
    .collect();
    authorize(&mut device, &people[3], &["senior_allowance"]);
    let plans = [
        (0, "2026-12-04", Purpose::Checkup),
        (1, "2026-12-07", Purpose::Certification),
        (2, "2026-12-10", Purpose::Checkup),
        (3, "2026-12-10", Purpose::Service),
        (4, "2027-01-05", Purpose::Checkup),
    ];
    for (at, due, purpose) in plans {
        device
            .assign_visit(&people[at], &assignment(&me, due, purpose))
            .expect("assign");
    }
    // Another volunteer's visit is not on this list.
    let other = device
        .register_resident(&resident(9, "测试路0号", "13800000009"))
        .expect("register")
        .id;
    device
        .assign_visit(
            &other,
            &assignment("someone-else", "2026-12-01", Purpose::Checkup),
        )
        .expect("assign");

    let day = device.visits_of(&me, today, 0, 50).expect("visits");
    let shown: Vec<(&str, &str, VisitWhen, Vec<Missing>)> = day
        .iter()
        .map(|v| {
            (
                v.address.as_str(),
                v.due.as_str(),
                v.when,
                v.missing.clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("测试路9号", "2026-12-04", VisitWhen::Overdue, vec![]),
            (
                "测试路2号",
                "2026-12-07",
                VisitWhen::Today,
                vec![Missing::Phone, Missing::Authorization]
            ),
            // Same day: by address.
            ("测试路1号", "2026-12-10", VisitWhen::ThisWeek, vec![]),
            ("测试路5号", "2026-12-10", VisitWhen::ThisWeek, vec![]),
            ("测试路3号", "2027-01-05", VisitWhen::Later, vec![]),
        ]
    );
    let second_page = device.visits_of(&me, today, 2, 2).expect("page");
    assert_eq!(second_page, day[2..4]);

    // Nobody home: the next visit is proposed, and the list moves it there.
    let not_home = OutcomeInput {
        outcome: Outcome::NotHome,
        on: "2026-12-04".into(),
        next_due: "2026-12-11".into(),
        note: "邻居说周末在家".into(),
    };
    device
        .record_visit_outcome(&people[0], &not_home)
        .expect("outcome");
    let day = device.visits_of(&me, today, 0, 50).expect("visits");
    let moved = day
        .iter()
        .find(|v| v.resident == people[0])
        .expect("still due");
    assert_eq!((moved.due.as_str(), moved.proposed), ("2026-12-11", true));
    // Deceased: no visit due any more; the plan keeps both outcomes.
    let deceased = OutcomeInput {
        outcome: Outcome::Deceased,
        on: "2026-12-11".into(),
        next_due: String::new(),
        note: String::new(),
    };
    device
        .record_visit_outcome(&people[0], &deceased)
        .expect("outcome");
    assert!(
        !device
            .visits_of(&me, today, 0, 50)
            .expect("visits")
            .iter()
            .any(|v| v.resident == people[0])
    );
    let plan = device.visit_plan(&people[0]).expect("plan").expect("made");
    assert_eq!(plan.plan.outcomes.len(), 2);
    assert_eq!(plan.open, None);
    // Nothing more to record on it, and bad input refused.
    let again = device.record_visit_outcome(&people[0], &deceased);
    assert!(matches!(again, Err(DeviceError::NotFound(_))), "{again:?}");
    let bad = device.assign_visit(&people[1], &assignment("", "2026-12-40", Purpose::Checkup));
    assert!(matches!(bad, Err(DeviceError::Invalid(_))), "{bad:?}");
    let unplanned = device
        .register_resident(&resident(7, "测试路7号", ""))
        .expect("register");
    assert_eq!(device.visit_plan(&unplanned.id).expect("plan"), None);
}

#[test]
fn two_supervisors_assigning_one_resident_offline_meet_as_a_conflict_a_person_settles() {
    let (_a_dir, mut a) = open("测试主任甲");
    let (_b_dir, mut b) = open("测试主任乙");
    let person = a
        .register_resident(&resident(1, "测试路1号", "13800000001"))
        .expect("register")
        .id;
    b.merge_record(&person, &a.export_record(&person).expect("export"))
        .expect("merge");
    let plan_a = a
        .assign_visit(&person, &assignment("m1", "2026-12-10", Purpose::Checkup))
        .expect("assign");
    let plan_b = b
        .assign_visit(&person, &assignment("m2", "2026-12-12", Purpose::Checkup))
        .expect("assign");
    assert_eq!(plan_a, plan_b, "one plan per resident, on every device");
    b.merge_record(&plan_a, &a.export_record(&plan_a).expect("export"))
        .expect("merge");
    a.merge_record(&plan_b, &b.export_record(&plan_b).expect("export"))
        .expect("merge");
    for device in [&a, &b] {
        let plan = device.visit_plan(&person).expect("plan").expect("made");
        assert!(plan.conflicted);
        assert!(
            device
                .conflicted_records()
                .expect("conflicts")
                .contains(&(plan_a.clone(), "visit".into()))
        );
    }
    assert_eq!(
        a.visit_plan(&person).expect("plan"),
        b.visit_plan(&person).expect("plan"),
        "both show the same"
    );
    // A person settles who goes (their name follows, as the same supervisor wrote it)
    // and when; the other device takes it.
    for field in ["assignee", "due"] {
        let choice = a
            .conflicts(&plan_a)
            .expect("conflicts")
            .into_iter()
            .find(|c| c.field == field)
            .expect("conflicted field");
        let chosen = choice
            .values
            .iter()
            .map(|v| v.value.clone())
            .find(|v| matches!(v, FieldValue::Text(t) if t == "m2" || t == "志愿者m2" || t == "2026-12-12"))
            .expect("b's value");
        a.resolve_conflict(&plan_a, field, &chosen)
            .expect("resolve");
        if field == "assignee" {
            let left: Vec<String> = a
                .conflicts(&plan_a)
                .expect("conflicts")
                .into_iter()
                .map(|c| c.field)
                .collect();
            assert_eq!(left, ["due"], "the name was settled with the assignee");
        }
    }
    b.merge_record(&plan_a, &a.export_record(&plan_a).expect("export"))
        .expect("merge");
    let settled = b.visit_plan(&person).expect("plan").expect("made");
    assert!(!settled.conflicted);
    let open = settled.open.expect("due");
    assert_eq!(
        (
            open.assignee.as_str(),
            open.assignee_name.as_str(),
            open.due.as_str()
        ),
        ("m2", "志愿者m2", "2026-12-12")
    );
    assert_eq!(
        b.visits_of("m2", (2026, 12, 7), 0, 10)
            .expect("visits")
            .len(),
        1
    );
}

#[test]
fn a_list_of_residents_is_assigned_at_once_and_the_overview_counts_each_persons_visits() {
    let (_dir, mut device) = open("测试主任");
    let today = (2026, 12, 7);
    let people: Vec<DocId> = (1..=5)
        .map(|n| {
            device
                .register_resident(&resident(n, &format!("测试路{n}号"), "13800000000"))
                .expect("register")
                .id
        })
        .collect();
    // Three at once to one volunteer, one to another; an unknown resident refuses the
    // whole list before anything is assigned.
    let unknown = DocId::parse("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11").expect("id");
    let refused = device.assign_visits(
        &[people[0].clone(), unknown],
        &assignment("m1", "2026-12-10", Purpose::Certification),
    );
    assert!(
        matches!(refused, Err(DeviceError::NotFound(_))),
        "{refused:?}"
    );
    assert_eq!(device.visit_plan(&people[0]).expect("plan"), None);
    let assigned = device
        .assign_visits(
            &people[..3],
            &assignment("m1", "2026-12-10", Purpose::Certification),
        )
        .expect("assign");
    assert_eq!(assigned, 3);
    device
        .assign_visit(
            &people[3],
            &assignment("m2", "2026-12-01", Purpose::Checkup),
        )
        .expect("assign");
    device
        .record_visit_outcome(
            &people[0],
            &OutcomeInput {
                outcome: Outcome::Visited,
                on: "2026-12-06".into(),
                next_due: String::new(),
                note: String::new(),
            },
        )
        .expect("outcome");
    let overview = device.visit_overview(today).expect("overview");
    let counts: Vec<(&str, u64, u64, u64)> = overview
        .counts
        .iter()
        .map(|c| (c.assignee.as_str(), c.planned, c.overdue, c.done))
        .collect();
    assert_eq!(counts, [("m1", 2, 0, 1), ("m2", 0, 1, 0)]);
    // Of five residents one was visited this year.
    let unvisited: u64 = overview.unvisited.iter().map(|(_, n)| n).sum();
    assert_eq!(unvisited, 4);

    // The supervisor's table: open visits by date, then those done; words as given.
    let labels: std::collections::BTreeMap<String, String> = [
        ("resident", "居民"),
        ("purpose.certification", "养老金认证"),
        ("purpose.checkup", "探访"),
        ("outcome.visited", "已走访"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let table = device.visits_table(None, &labels, "zh-CN").expect("table");
    assert_eq!(table.headers[1], "居民");
    assert_eq!(
        table.headers[3], "assignee",
        "a key with no label stands for itself"
    );
    let rows: Vec<(&str, &str, &str, &str)> = table
        .rows
        .iter()
        .map(|r| (r[1].as_str(), r[4].as_str(), r[5].as_str(), r[6].as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("测试居民4", "2026-12-01", "探访", ""),
            ("测试居民2", "2026-12-10", "养老金认证", ""),
            ("测试居民3", "2026-12-10", "养老金认证", ""),
            ("测试居民1", "", "", "已走访"),
        ]
    );
    let bytes = table
        .write(doorstep_device::roster::Format::Xlsx, &|_, _| {})
        .expect("xlsx");
    assert!(bytes.starts_with(b"PK"));
}

#[test]
fn the_visit_list_prints_each_visit_in_large_type_with_the_outcomes_to_tick() {
    let (_dir, mut device) = open("测试志愿者");
    let me = device.member_id().expect("member");
    let labels: std::collections::BTreeMap<String, String> = [
        ("title", "走访单"),
        ("address", "住址"),
        ("due", "走访日期"),
        ("purpose", "目的"),
        ("missing", "缺"),
        ("outcome", "结果"),
        ("none", "没有安排给你的走访。"),
        ("purpose.certification", "养老金认证"),
        ("missing.phone", "电话"),
        ("missing.authorization", "授权委托"),
        ("outcome.not_home", "不在家"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let empty = device.visit_list(&labels, "zh-CN").expect("list");
    assert_eq!(
        empty.sections,
        [("没有安排给你的走访。".to_owned(), vec![])]
    );
    let person = device
        .register_resident(&resident(1, "测试路1号", ""))
        .expect("register")
        .id;
    device
        .assign_visit(
            &person,
            &assignment(&me, "2026-12-10", Purpose::Certification),
        )
        .expect("assign");
    let list = device.visit_list(&labels, "zh-CN").expect("list");
    assert!(
        list.title.starts_with("走访单 · 测试志愿者 · "),
        "{}",
        list.title
    );
    assert_eq!(list.sections.len(), 1);
    let (heading, lines) = &list.sections[0];
    assert_eq!(heading, "1. 测试居民1");
    assert_eq!(
        lines[..4],
        [
            "住址：测试路1号",
            "走访日期：2026年12月10日",
            "目的：养老金认证",
            "缺：电话、授权委托",
        ]
    );
    assert!(
        lines[4].starts_with("结果：□ outcome.visited"),
        "a key with no word stands: {}",
        lines[4]
    );
    assert!(lines[4].contains("□ 不在家"));
    if doorstep_device::receipt::find_font().is_some() {
        let (pdf, count) = device.visit_list_pdf(&labels, "zh-CN").expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(count, 1);
    }
}

#[test]
fn a_database_from_before_visits_fills_its_residents_addresses_when_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer("测试主任").expect("name");
    let person = device
        .register_resident(&resident(1, "测试路1号", "13800000001"))
        .expect("register")
        .id;
    let me = device.member_id().expect("member");
    device
        .assign_visit(&person, &assignment(&me, "2026-12-10", Purpose::Checkup))
        .expect("assign");
    drop(device);
    // As migration 13 leaves a database of a build before it: addresses empty, and the
    // request to fill them.
    raw_db(dir.path())
        .conn()
        .execute_batch(
            "UPDATE residents SET address = '';
             INSERT INTO meta (key, value) VALUES ('reproject_residents', x'01');",
        )
        .expect("as before");
    let device = open_dir(dir.path()).expect("reopen");
    let day = device.visits_of(&me, (2026, 12, 7), 0, 10).expect("visits");
    assert_eq!(day[0].address, "测试路1号");
    drop(device);
    let asked: i64 = raw_db(dir.path())
        .conn()
        .query_row(
            "SELECT count(*) FROM meta WHERE key = 'reproject_residents'",
            [],
            |r| r.get(0),
        )
        .expect("meta");
    assert_eq!(asked, 0, "done once");
}
