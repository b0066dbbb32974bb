//! The supervisor's console on the device: rosters in and out, the review queue, a
//! change after approval, and the overview of certifications falling due.
//!
//! - an XLSX roster of 1,000 residents with 10 bad rows: each bad row reported with its
//!   line and reason, the rest imported; importing it again adds nothing; exported with
//!   ID numbers revealed it imports into another device unchanged; masked, it cannot
//! - CSV the same way; a numeric ID cell and missing columns are refused clearly
//! - applications export: masked unless revealed, filtered by status
//! - review queue: submitted applications, oldest first; approval takes one out; a change
//!   after approval puts it back
//! - overview: counts by service and status (certifications: `tests/certifications.rs`)

use std::collections::{BTreeMap, BTreeSet};

use doorstep_core::DocId;
use doorstep_core::application::{EventKind, Status};
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_device::roster::{self, ExportFilter, Format};
use doorstep_device::{Device, now_ms, today_china};
use tempfile::TempDir;

mod common;
use common::{open_dir, pension_application, review};

fn open(volunteer: &str) -> (TempDir, Device) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer(volunteer).expect("volunteer");
    (dir, device)
}

/// A valid synthetic ID number, distinct for each `n` below 100,000.
fn id_number(n: usize) -> String {
    let birth = format!("19{:02}{:02}{:02}", 30 + n % 30, 1 + n % 12, 1 + n % 28);
    IdNumber::complete(&format!("110105{birth}{:03}", n % 1000))
        .map(|id| {
            // Vary the region code too, so that 100,000 numbers differ.
            let region = 110_000 + (n / 1000) % 900;
            IdNumber::complete(&format!("{region}{}", &id[6..17])).unwrap_or(id)
        })
        .expect("17 digits")
}

const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"];
const GIVEN: [&str; 10] = [
    "秀英", "桂兰", "建国", "玉兰", "德明", "淑珍", "国强", "凤英", "志华", "春生",
];

fn name(n: usize) -> String {
    format!("测{}{}", SURNAMES[n % 8], GIVEN[(n / 8) % 10])
}

/// A roster of `n` rows as cells (header first); rows listed in `bad` are spoiled, each
/// in its own way, and the expected code of each is returned beside it.
fn roster_rows(n: usize) -> (Vec<Vec<String>>, BTreeMap<usize, &'static str>) {
    let mut rows = vec![
        [
            "姓名",
            "身份证号",
            "电话",
            "性别",
            "出生日期",
            "地址",
            "备注",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let mut expected = BTreeMap::new();
    for i in 0..n {
        let id = id_number(i);
        let birth = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
        let gender = if id.as_bytes()[16] % 2 == 1 {
            "男"
        } else {
            "女"
        };
        let mut row = vec![
            name(i),
            id.clone(),
            format!("139{:08}", i),
            gender.to_owned(),
            birth,
            format!("测试村{}组", i % 9 + 1),
            String::new(),
        ];
        // The file's line: the header is line 1.
        let line = i + 2;
        match i {
            100 => {
                let last = if id.ends_with('0') { "1" } else { "0" };
                row[1] = format!("{}{last}", &id[..17]);
                expected.insert(line, "id_checksum");
            }
            200 => {
                row[0] = String::new();
                expected.insert(line, "name_empty");
            }
            300 => {
                row[1] = "12345".into();
                expected.insert(line, "id_length");
            }
            400 => {
                row[2] = "12345".into();
                expected.insert(line, "phone_invalid");
            }
            500 => {
                row[4] = "1901-01-01".into();
                expected.insert(line, "birth_date_disagrees_with_id");
            }
            600 => {
                row[3] = "不详".into();
                expected.insert(line, "gender_invalid");
            }
            700 | 800 => {
                // The same person as rows 10 and 11 again.
                let first = i / 70;
                row[0] = name(first);
                row[1] = id_number(first);
                row[3] = if row[1].as_bytes()[16] % 2 == 1 {
                    "男"
                } else {
                    "女"
                }
                .into();
                row[4] = format!("{}-{}-{}", &row[1][6..10], &row[1][10..12], &row[1][12..14]);
                expected.insert(line, "id_duplicate_in_file");
            }
            900 => {
                row[4] = "2001-02-30".into();
                expected.insert(line, "date_invalid");
            }
            950 => {
                row[1] = "11010519450815001Y".into();
                expected.insert(line, "id_chars");
            }
            _ => {}
        }
        rows.push(row);
    }
    (rows, expected)
}

fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            sheet
                .write_string(r as u32, c as u16, value)
                .expect("write cell");
        }
    }
    workbook.save_to_buffer().expect("xlsx")
}

fn people(device: &Device) -> BTreeSet<(String, String)> {
    let table = device.residents_table(None, true).expect("table");
    table
        .rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

#[test]
fn an_xlsx_roster_of_1000_with_10_bad_rows_round_trips_and_never_duplicates() {
    let (rows, expected) = roster_rows(1000);
    assert_eq!(expected.len(), 10);
    let bytes = xlsx(&rows);
    let roster = roster::read_roster(&bytes, Format::Xlsx).expect("read");
    assert_eq!(
        roster.headers.last(),
        Some(&("备注".to_owned(), None)),
        "unknown columns are shown as ignored"
    );

    let (_a_dir, mut a) = open("测试主任");
    let preview = a.preview_roster(&roster).expect("preview");
    assert_eq!(
        (preview.rows, preview.new, preview.already_registered),
        (1000, 990, 0)
    );
    assert_eq!(preview.sample.len(), 20);
    assert!(preview.sample[0].id_number_masked.contains('*'));
    assert!(
        a.list_residents().expect("list").is_empty(),
        "a preview saves nothing"
    );

    let told = std::cell::RefCell::new(Vec::new());
    let report = a
        .import_roster(&roster, None, &|done, total| {
            told.borrow_mut().push((done, total))
        })
        .expect("import");
    assert_eq!(
        (report.rows, report.added, report.already_registered),
        (1000, 990, 0)
    );
    let rejected: BTreeMap<usize, &str> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.problems[0].code.as_str()))
        .collect();
    for (line, code) in &expected {
        let got = rejected.get(line).copied().unwrap_or("accepted");
        assert_eq!(got, *code, "line {line}");
    }
    // A repeated person points at the line that has them first (row 10 is line 12).
    let repeated = report.rejected.iter().find(|r| r.line == 702).expect("702");
    assert_eq!(repeated.problems[0].first_line, Some(12));
    assert_eq!(rejected.len(), 10, "{rejected:?}");
    let told = told.into_inner();
    assert_eq!(told.first(), Some(&(0, 990)));
    assert_eq!(told.last(), Some(&(990, 990)));
    assert_eq!(a.list_residents().expect("list").len(), 990);

    // The same file again adds nothing and reports the same bad rows.
    let again = a.import_roster(&roster, None, &|_, _| {}).expect("again");
    assert_eq!((again.added, again.already_registered), (0, 990));
    assert_eq!(again.rejected.len(), 10);
    assert_eq!(a.list_residents().expect("list").len(), 990);

    // Exported with ID numbers revealed, it imports into another device unchanged.
    let table = a.residents_table(None, true).expect("export");
    let exported = table.write(Format::Xlsx, &|_, _| {}).expect("xlsx");
    let (_b_dir, mut b) = open("测试主任乙");
    let back = roster::read_roster(&exported, Format::Xlsx).expect("read export");
    let report = b
        .import_roster(&back, None, &|_, _| {})
        .expect("import export");
    assert_eq!((report.added, report.rejected.len()), (990, 0));
    assert_eq!(people(&a), people(&b));

    // Masked, an export shows no ID number and cannot be imported as one.
    let masked = a.residents_table(None, false).expect("masked");
    assert!(masked.rows.iter().all(|r| r[1].contains("**************")));
    let bytes = masked.write(Format::Xlsx, &|_, _| {}).expect("xlsx");
    let back = roster::read_roster(&bytes, Format::Xlsx).expect("read masked");
    let (_c_dir, mut c) = open("测试主任丙");
    let report = c
        .import_roster(&back, None, &|_, _| {})
        .expect("import masked");
    assert_eq!((report.added, report.rejected.len()), (0, 990));
}

#[test]
fn a_csv_roster_imports_and_bad_files_are_refused_clearly() {
    let (rows, _) = roster_rows(30);
    let mut csv = String::from("\u{feff}");
    for row in &rows {
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    let roster = roster::read_roster(csv.as_bytes(), Format::Csv).expect("read csv");
    let (_dir, mut device) = open("测试主任");
    let report = device
        .import_roster(&roster, None, &|_, _| {})
        .expect("import");
    assert_eq!(report.added, 30);
    let round = device
        .residents_table(None, true)
        .expect("table")
        .write(Format::Csv, &|_, _| {})
        .expect("csv");
    let again = roster::read_roster(&round, Format::Csv).expect("read export");
    let report = device
        .import_roster(&again, None, &|_, _| {})
        .expect("again");
    assert_eq!((report.added, report.already_registered), (0, 30));

    let code = |bytes: &[u8], format| {
        roster::read_roster(bytes, format)
            .map(|_| "read")
            .unwrap_or_else(|e| e.code().as_str())
    };
    assert_eq!(code(b"", Format::Csv), "roster_empty");
    assert_eq!(
        code("电话,地址\n1,2\n".as_bytes(), Format::Csv),
        "roster_columns"
    );
    assert_eq!(code(b"\xff\xfe\x00", Format::Csv), "roster_encoding");
    assert_eq!(code(b"not a workbook", Format::Xlsx), "roster_unreadable");

    // An ID number typed as a number has lost its last digits: said so, not guessed.
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "姓名").expect("cell");
    sheet.write_string(0, 1, "身份证号").expect("cell");
    sheet.write_string(1, 0, "测试甲").expect("cell");
    sheet
        .write_number(1, 1, 110_105_194_508_150_014.0)
        .expect("cell");
    let bytes = workbook.save_to_buffer().expect("xlsx");
    let roster = roster::read_roster(&bytes, Format::Xlsx).expect("read");
    let preview = device.preview_roster(&roster).expect("preview");
    assert_eq!(preview.rejected.len(), 1);
    assert_eq!(preview.rejected[0].problems[0].code, "id_number_not_text");
    assert_eq!(preview.rejected[0].line, 2);
}

fn register(device: &mut Device, n: usize) -> DocId {
    let input = ResidentInput {
        name: name(n),
        id_number: id_number(n),
        ..ResidentInput::default()
    };
    device.register_resident(&input).expect("register").id
}

/// `today` shifted by `days` (may cross months), as `YYYY-MM-DD`.
fn shifted(days: i64) -> String {
    let ms = now_ms() + days * 86_400_000;
    let (y, m, d) = doorstep_core::date::china_date(ms);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn the_queue_follows_decisions_and_a_change_after_approval_reopens_review() {
    let (_dir, mut device) = open("测试志愿者");
    let (_sdir, mut sup) = open("测试主管");
    let first = register(&mut device, 1);
    let second = register(&mut device, 2);
    let a = pension_application(&mut device, &first, None);
    let b = pension_application(&mut device, &second, None);
    assert!(
        device.review_queue(now_ms()).expect("queue").is_empty(),
        "drafts wait"
    );
    device.submit_application(&a).expect("submit a");
    device.submit_application(&b).expect("submit b");
    let queue = device
        .review_queue(now_ms() + 3 * 86_400_000)
        .expect("queue");
    assert_eq!(
        queue.iter().map(|q| q.id.clone()).collect::<Vec<_>>(),
        [a.clone(), b.clone()]
    );
    assert_eq!(queue[0].age_days, 3);
    assert_eq!(queue[0].submitted_by, "测试志愿者");
    assert_eq!(queue[0].resident_name, name(1));

    assert_eq!(
        review(&mut sup, &mut device, &a, EventKind::Approved, "").expect("approve"),
        Status::Approved
    );
    let queue = device.review_queue(now_ms()).expect("queue");
    assert_eq!(queue.len(), 1);
    // Changed after approval: back for review, the change and the reopening recorded.
    device
        .set_application_field(
            &a,
            "pension_account",
            &FieldValue::Text("6222000099990000".into()),
        )
        .expect("change after approval");
    let app = device.application(&a).expect("read");
    assert_eq!(app.status, Status::Submitted);
    assert!(app.events.iter().any(|e| e.kind == EventKind::Reopened));
    assert_eq!(device.review_queue(now_ms()).expect("queue").len(), 2);
    // Reopened, it takes further corrections (without a second reopening) until the
    // supervisor decides again; a plain submitted one does not.
    device
        .set_application_field(&a, "pension_type", &FieldValue::Text("employee".into()))
        .expect("a second correction");
    let app = device.application(&a).expect("read");
    let reopenings = app
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Reopened)
        .count();
    assert_eq!((app.status, reopenings), (Status::Submitted, 1));
    let err = device
        .set_application_field(&b, "pension_type", &FieldValue::Text("employee".into()))
        .expect_err("submitted is locked");
    assert_eq!(err.code(), "application_locked");
    // A filed application stays filed.
    review(&mut sup, &mut device, &b, EventKind::Approved, "").expect("approve b");
    review(&mut sup, &mut device, &b, EventKind::Filed, "GOV-2026-0001").expect("filed");
    let err = device
        .set_application_field(&b, "pension_account", &FieldValue::Text("1".into()))
        .expect_err("filed is final");
    assert_eq!(err.code(), "application_locked");
}

#[test]
fn the_overview_counts_applications_and_residents() {
    let (_dir, mut device) = open("测试志愿者");
    let (_sdir, mut sup) = open("测试主管");
    let first = register(&mut device, 1);
    let second = register(&mut device, 2);
    let approved = register(&mut device, 3);
    pension_application(&mut device, &first, Some(&shifted(-365 + 10)));
    pension_application(&mut device, &second, None);
    let app = pension_application(&mut device, &approved, None);
    device.submit_application(&app).expect("submit");
    review(&mut sup, &mut device, &app, EventKind::Approved, "").expect("approve");

    let overview = device.overview(today_china()).expect("overview");
    let count = |status: &str| {
        overview
            .counts
            .iter()
            .filter(|c| c.service == "pension_certification" && c.status == status)
            .map(|c| c.count)
            .sum::<u64>()
    };
    assert_eq!((count("draft"), count("approved")), (2, 1));
    assert_eq!(overview.residents.iter().map(|(_, n)| n).sum::<u64>(), 3);

    // The applications export: masked unless revealed, filtered by status.
    let labels = BTreeMap::from([("status.approved".to_owned(), "已通过".to_owned())]);
    let filter = ExportFilter {
        status: Some("approved".into()),
        ..ExportFilter::default()
    };
    let table = device
        .applications_table(&filter, &labels, "zh-CN", false)
        .expect("table");
    assert_eq!(table.rows.len(), 1);
    let row = &table.rows[0];
    assert_eq!(row[1], name(3));
    assert!(row[2].starts_with("**************"), "masked: {}", row[2]);
    assert_eq!(row[4], "养老金领取资格认证");
    assert_eq!(row[5], "已通过");
    assert!(
        row[10].contains("养老金类型: 城乡居民养老保险"),
        "{}",
        row[10]
    );
    let revealed = device
        .applications_table(&filter, &labels, "zh-CN", true)
        .expect("table");
    assert_eq!(revealed.rows[0][2], id_number(3));
    let bytes = revealed.write(Format::Xlsx, &|_, _| {}).expect("xlsx");
    assert!(bytes.starts_with(b"PK"), "an XLSX is a zip");
}

#[test]
fn a_real_committee_roster_is_read_under_its_title_and_any_roster_can_be_laid_out() {
    let (rows, _) = roster_rows(3);
    let (_dir, device) = open("测试主任");
    // As committees keep them: a title, a date line, then headers as people write them.
    let mut csv = String::from("示范村60岁以上老人花名册,,,\n制表日期：2026年11月,,,\n");
    csv.push_str("序号,老人姓名,* 身份证号码（18位）,联系 电话\n");
    for (i, row) in rows.iter().skip(1).enumerate() {
        csv.push_str(&format!("{},{},{},{}\n", i + 1, row[0], row[1], row[2]));
    }
    let roster = roster::read_roster(csv.as_bytes(), Format::Csv).expect("found its header");
    let layout = roster.layout.clone().expect("layout");
    assert_eq!(layout.header_line, 3);
    assert_eq!(
        layout.columns,
        [
            None,
            Some("name".into()),
            Some("id_number".into()),
            Some("phone".into())
        ]
    );
    assert_eq!(device.preview_roster(&roster).expect("preview").new, 3);

    // Headers the app cannot know: the file's first lines, to lay it out by hand.
    let mut odd = String::from("编号,老人信息,证号\n");
    for (i, row) in rows.iter().skip(1).enumerate() {
        odd.push_str(&format!("{},{},{}\n", i + 1, row[0], row[1]));
    }
    assert_eq!(
        roster::read_roster(odd.as_bytes(), Format::Csv)
            .map(|_| "read")
            .unwrap_or_else(|e| e.code().as_str()),
        "roster_columns"
    );
    let unlaid = roster::read_roster_as(odd.as_bytes(), Format::Csv, None, None).expect("head");
    assert!(unlaid.layout.is_none() && unlaid.rows.is_empty());
    let preview = device.preview_roster(&unlaid).expect("preview");
    assert_eq!(preview.head.len(), 4);
    assert_eq!(preview.head[0].1, ["编号", "老人信息", "证号"]);
    // ID numbers in the head are masked but for the last four.
    assert!(
        preview.head[1].1[2].starts_with("**************"),
        "{:?}",
        preview.head[1]
    );
    let given = roster::RosterLayout {
        header_line: 1,
        columns: vec![None, Some("name".into()), Some("id_number".into())],
    };
    let laid =
        roster::read_roster_as(odd.as_bytes(), Format::Csv, None, Some(&given)).expect("laid out");
    assert_eq!(laid.rows.len(), 3);
    assert_eq!(device.preview_roster(&laid).expect("preview").new, 3);
    // A layout naming one field twice, or no ID number, is refused.
    let twice = roster::RosterLayout {
        header_line: 1,
        columns: vec![
            Some("name".into()),
            Some("name".into()),
            Some("id_number".into()),
        ],
    };
    let no_id = roster::RosterLayout {
        header_line: 1,
        columns: vec![None, Some("name".into()), None],
    };
    for bad in [twice, no_id] {
        let err =
            roster::read_roster_as(odd.as_bytes(), Format::Csv, None, Some(&bad)).expect_err("bad");
        assert_eq!(err.code(), "roster_columns");
    }
}

/// A legacy-Excel roster as a clerk keeps it (`tests/data/make_kept_roster_xls.py`): an
/// instructions sheet first, a merged title and a date line, a household's address merged
/// over its three rows, a name merged over two rows, a totals line and who drew it up.
#[test]
fn an_xls_roster_as_a_clerk_keeps_it_fills_a_merged_address_and_flags_a_merged_name() {
    let bytes = include_bytes!("data/kept_roster.xls");
    let roster = roster::read_roster(bytes, Format::Xlsx).expect("read");
    assert_eq!(roster.sheets, ["填表说明", "花名册"]);
    assert_eq!(roster.sheet.as_deref(), Some("花名册"));
    assert_eq!(roster.layout.as_ref().map(|l| l.header_line), Some(3));
    let merged: Vec<(usize, usize, &str, bool)> = roster
        .merged
        .iter()
        .map(|m| (m.first_line, m.last_line, m.field.as_str(), m.filled))
        .collect();
    assert_eq!(
        merged,
        [(7, 8, "name", false), (4, 6, "address", true)],
        "the name column's merge comes first: merges are listed by column"
    );
    let addresses: Vec<(usize, &str)> = roster
        .rows
        .iter()
        .map(|(line, r)| (*line, r.address.as_str()))
        .collect();
    assert_eq!(
        addresses,
        [
            (4, "测试路1号"),
            (5, "测试路1号"),
            (6, "测试路1号"),
            (7, "测试路2号"),
            (8, ""),
        ]
    );
    let ignored: Vec<usize> = roster.ignored.iter().map(|i| i.line).collect();
    assert_eq!(ignored, [1, 2, 9, 11]);
    let (_dir, mut device) = open("测试主任");
    let preview = device.preview_roster(&roster).expect("preview");
    assert_eq!(preview.new, 4);
    assert_eq!(preview.merged_cells, 2);
    let refused: Vec<(usize, Vec<&str>)> = preview
        .rejected
        .iter()
        .map(|r| {
            (
                r.line,
                r.problems.iter().map(|p| p.field.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(refused, [(8, vec!["name"])], "the merged name's second row");
    let report = device
        .import_roster(&roster, None, &|_, _| {})
        .expect("import");
    assert_eq!(report.added, 4);
}
