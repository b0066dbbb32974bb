//! The device API as the app uses it, against real SQLite files in temporary folders.
//!
//! - registration, validation and persistence across reopening
//! - edits, history (who, when, from what to what) and notes
//! - replicas: fork and merge, field-level merging, conflicts with authors, resolution
//! - search by name, pinyin and number suffixes
//! - damaged data: corrupt chunks are quarantined, invalid bytes refused; compaction

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::{EmergencyContact, Needs, ResidentInput, ResidentPatch};
use doorstep_core::value::FieldValue;
use doorstep_core::{DocId, Field};
use doorstep_device::ErrorCode;
use doorstep_device::docs::{COMPACT_AFTER, COMPACT_BYTES_MIN};
use doorstep_device::{DATABASE_FILE, Device};
use tempfile::TempDir;

mod common;
use common::{open_dir, raw_db};

fn input(name: &str, first17: &str, phone: &str) -> ResidentInput {
    ResidentInput {
        name: name.into(),
        id_number: IdNumber::complete(first17).expect("17 digits"),
        phone: phone.into(),
        ..ResidentInput::default()
    }
}

fn open_device(volunteer: &str) -> (TempDir, Device) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    device.set_volunteer(volunteer).expect("volunteer");
    (dir, device)
}

/// Two devices holding the same resident record.
fn two_replicas() -> (TempDir, Device, TempDir, Device, DocId, ResidentInput) {
    let (da, mut a) = open_device("志愿者甲");
    let (db, mut b) = open_device("志愿者乙");
    let form = input("测试张三", "11010119450815001", "13800000001");
    let id = a.register_resident(&form).expect("register").id;
    b.merge_record(&id, &a.export_record(&id).expect("export"))
        .expect("merge");
    (da, a, db, b, id, form)
}

fn exchange(a: &mut Device, b: &mut Device, id: &DocId) {
    let from_a = a.export_record(id).expect("export a");
    let from_b = b.export_record(id).expect("export b");
    a.merge_record(id, &from_b).expect("merge into a");
    b.merge_record(id, &from_a).expect("merge into b");
}

#[test]
fn a_registered_resident_survives_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let id = {
        let mut device = open_dir(dir.path()).expect("open");
        let mut form = input("测试丙", "11010119450815001", "13800138000");
        form.address = "测试村 3 组".into();
        device.register_resident(&form).expect("register").id
    };
    assert!(dir.path().join(DATABASE_FILE).is_file());
    let device = open_dir(dir.path()).expect("reopen");
    let list = device.list_residents().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].id_number_masked, "**************0014");
    assert_eq!(list[0].phone_masked, "138****8000");
    let full = device.resident(&id).expect("load document");
    assert_eq!(full.id_number, "110101194508150014");
    assert_eq!(full.address, "测试村 3 组");
    assert_eq!(full.gender, "male");
    assert_eq!(full.birth_date, "1945-08-15");
}

#[test]
fn the_actor_is_stable_per_data_folder_and_distinct_between_folders() {
    let a = tempfile::tempdir().expect("temp dir");
    let b = tempfile::tempdir().expect("temp dir");
    let first = open_dir(a.path()).expect("open").actor_hex();
    assert_eq!(open_dir(a.path()).expect("reopen").actor_hex(), first);
    assert_ne!(open_dir(b.path()).expect("open").actor_hex(), first);
}

#[test]
fn invalid_input_saves_nothing() {
    let (_dir, mut device) = open_device("志愿者");
    let mut bad = input("", "11010119450815001", "");
    let wrong = if bad.id_number.ends_with('0') {
        "1"
    } else {
        "0"
    };
    bad.id_number.replace_range(17.., wrong);
    let err = device.register_resident(&bad).expect_err("refused");
    assert_eq!(err.code(), "invalid_input");
    let fields = err.field_errors().expect("field errors");
    assert_eq!(fields.code_for(Field::Name), Some(ErrorCode::NameEmpty));
    assert_eq!(
        fields.code_for(Field::IdNumber),
        Some(ErrorCode::IdChecksum)
    );
    assert!(device.list_residents().expect("list").is_empty());
}

#[test]
fn the_same_id_number_is_not_registered_twice() {
    let (_dir, mut device) = open_device("志愿者");
    let first = device
        .register_resident(&input("测试丁", "44030419800101123", ""))
        .expect("first");
    let err = device
        .register_resident(&input("测试戊", "44030419800101123", ""))
        .expect_err("duplicate");
    assert_eq!(
        err.field_errors().and_then(|f| f.code_for(Field::IdNumber)),
        Some(ErrorCode::IdDuplicate)
    );
    // Editing the resident who holds the number is not a duplicate.
    device
        .update_resident(
            &first.id,
            &input("测试丁", "44030419800101123", "13900000000"),
        )
        .expect("edit self");
    assert_eq!(device.list_residents().expect("list").len(), 1);
}

/// Regression: an edit form that sent name, phone and address reset the resident's
/// recorded needs and emergency contact. Fields an edit leaves out stay as they are.
#[test]
fn an_edit_leaves_the_fields_it_does_not_give_as_they_are() {
    let (_dir, mut d) = open_device("志愿者甲");
    let mut form = input("测试丁", "11010119450815001", "13800138000");
    form.needs.vision = true;
    form.emergency = EmergencyContact {
        name: "测试丁女儿".into(),
        phone: "13900139000".into(),
        relation: "女儿".into(),
    };
    let id = d.register_resident(&form).expect("register").id;
    let edit = ResidentPatch {
        address: Some("测试村 5 组".into()),
        ..ResidentPatch::default()
    };
    d.update_resident(&id, edit).expect("edit");
    let r = d.resident(&id).expect("read");
    assert_eq!(r.address, "测试村 5 组");
    assert!(r.needs.vision, "needs kept");
    assert_eq!(r.emergency, form.emergency, "emergency contact kept");
    assert_eq!(r.phone, "13800138000");
    let last = d.history(&id).expect("history").pop().expect("entry");
    let changed: Vec<&str> = last.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(changed, ["address"], "only the edited field is written");

    // A whole form still replaces everything it gives.
    let mut whole = form.clone();
    whole.needs = Needs::default();
    d.update_resident(&id, &whole).expect("whole edit");
    assert!(!d.resident(&id).expect("read").needs.vision);
}

#[test]
fn history_names_who_changed_which_field_from_what_to_what() {
    let (_dir, mut device) = open_device("志愿者甲");
    let form = input("测试", "11010119450815001", "13800000001");
    let id = device.register_resident(&form).expect("register").id;
    let mut edit = form.clone();
    edit.phone = "13800000002".into();
    device.update_resident(&id, &edit).expect("edit");
    // An edit that changes nothing adds nothing to history.
    device.update_resident(&id, &edit).expect("same edit");

    let history = device.history(&id).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].author.what, "register_resident");
    assert_eq!(history[1].author.what, "update_resident");
    assert_eq!(history[1].author.volunteer, "志愿者甲");
    assert_eq!(history[1].author.device, device.actor_hex());
    assert!(history[1].author.at >= history[0].author.at && history[0].author.at > 0);
    let change = &history[1].fields;
    assert_eq!(change.len(), 1);
    assert_eq!(change[0].field, "phone");
    assert_eq!(change[0].from, Some(FieldValue::Text("13800000001".into())));
    assert_eq!(change[0].to, Some(FieldValue::Text("13800000002".into())));
}

#[test]
fn edits_of_different_fields_on_two_devices_merge_without_conflict() {
    let (_da, mut a, _db, mut b, id, form) = two_replicas();
    let mut on_a = form.clone();
    on_a.phone = "13800000009".into();
    a.update_resident(&id, &on_a).expect("edit a");
    let mut on_b = form.clone();
    on_b.address = "测试镇 8 号".into();
    b.update_resident(&id, &on_b).expect("edit b");
    exchange(&mut a, &mut b, &id);
    for d in [&a, &b] {
        let r = d.resident(&id).expect("read");
        assert_eq!(r.phone, "13800000009");
        assert_eq!(r.address, "测试镇 8 号");
        assert!(d.conflicts(&id).expect("conflicts").is_empty());
    }
}

#[test]
fn notes_merge_character_by_character() {
    let (_da, mut a, _db, mut b, id, _) = two_replicas();
    a.set_resident_notes(&id, "耳背").expect("notes a");
    exchange(&mut a, &mut b, &id);
    a.set_resident_notes(&id, "耳背，腿脚不便")
        .expect("notes a");
    b.set_resident_notes(&id, "左耳背").expect("notes b");
    exchange(&mut a, &mut b, &id);
    let na = a.resident(&id).expect("a").notes;
    assert_eq!(na, b.resident(&id).expect("b").notes);
    assert_eq!(na, "左耳背，腿脚不便");
}

#[test]
fn concurrent_values_are_kept_as_a_conflict_and_resolving_is_recorded() {
    let (_da, mut a, _db, mut b, id, form) = two_replicas();
    let mut on_a = form.clone();
    on_a.phone = "13800000002".into();
    a.update_resident(&id, &on_a).expect("edit a");
    let mut on_b = form.clone();
    on_b.phone = "13800000003".into();
    b.update_resident(&id, &on_b).expect("edit b");
    exchange(&mut a, &mut b, &id);

    for d in [&a, &b] {
        assert!(d.list_residents().expect("list")[0].conflicted);
        assert_eq!(
            d.conflicted_records().expect("conflicted"),
            [(id.clone(), "resident".to_owned())]
        );
        let conflicts = d.conflicts(&id).expect("conflicts");
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, "phone");
        let mut seen: Vec<(String, String)> = conflicts[0]
            .values
            .iter()
            .map(|v| {
                let author = v.author.clone().expect("author");
                (
                    v.value.as_text().expect("text").to_owned(),
                    author.volunteer,
                )
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                ("13800000002".to_owned(), "志愿者甲".to_owned()),
                ("13800000003".to_owned(), "志愿者乙".to_owned())
            ]
        );
    }

    // Screens see the phones masked, and choose one by its choice.
    let shown = b.conflicts_shown(&id).expect("shown");
    let mut masked: Vec<&str> = shown[0]
        .values
        .iter()
        .map(|v| v.value.as_text().expect("text"))
        .collect();
    masked.sort();
    assert_eq!(masked, ["138****0002", "138****0003"]);
    // The conflicts screen says so, and with the PIN (only) shows both whole.
    b.set_pin("246801").expect("pin");
    let views = b.conflicted_views(None).expect("views");
    assert!(views[0].masked && !views[0].revealed);
    let phones = |views: &[doorstep_device::ConflictedRecord]| {
        let mut p: Vec<String> = views[0].conflicts[0]
            .values
            .iter()
            .map(|v| v.value.as_text().expect("text").to_owned())
            .collect();
        p.sort();
        p
    };
    assert_eq!(phones(&views), ["138****0002", "138****0003"]);
    let err = b
        .conflicted_views(Some("000000"))
        .expect_err("a wrong PIN shows nothing");
    assert_eq!(err.code(), "pin_wrong");
    let views = b
        .conflicted_views(Some("246801"))
        .expect("views with the PIN");
    assert!(views[0].masked && views[0].revealed);
    assert_eq!(phones(&views), ["13800000002", "13800000003"]);
    let err = b
        .resolve_conflict_choice(&id, "phone", "1@00", "")
        .expect_err("no such choice");
    assert_eq!(err.code(), "not_a_conflict_value");
    let raw = b.conflicts(&id).expect("conflicts");
    let choice = |phone: &str| {
        raw[0]
            .values
            .iter()
            .find(|v| v.value.as_text() == Some(phone))
            .expect("value")
            .choice
            .clone()
    };
    assert!(
        shown[0]
            .values
            .iter()
            .any(|v| v.choice == choice("13800000002")),
        "a masked value keeps its choice"
    );

    // Only one of the field's values can be chosen.
    let err = b
        .resolve_conflict(&id, "phone", &FieldValue::Text("13900000000".into()))
        .expect_err("not a value");
    assert_eq!(err.code(), "not_a_conflict_value");
    b.resolve_conflict_choice(&id, "phone", &choice("13800000002"), " 居民确认是这个号码 ")
        .expect("resolve");
    assert!(!b.list_residents().expect("list")[0].conflicted);
    assert!(b.conflicted_records().expect("conflicted").is_empty());
    let err = b
        .resolve_conflict(&id, "phone", &FieldValue::Text("13800000002".into()))
        .expect_err("nothing left");
    assert_eq!(err.code(), "no_conflict");

    exchange(&mut a, &mut b, &id);
    assert!(!a.list_residents().expect("list")[0].conflicted);
    assert_eq!(a.resident(&id).expect("a").phone, "13800000002");
    let last = a.history(&id).expect("history").pop().expect("entry");
    assert_eq!(last.author.what, "resolve_conflict");
    assert_eq!(last.author.volunteer, "志愿者乙");
    assert_eq!(
        last.author.note, "居民确认是这个号码",
        "the note travels with the choice"
    );
}

#[test]
fn merging_the_same_bytes_twice_changes_nothing() {
    let (_da, a, _db, mut b, id, _) = two_replicas();
    let bytes = a.export_record(&id).expect("export");
    let again = b.merge_record(&id, &bytes).expect("merge again");
    assert_eq!(again.new_changes, 0);
    assert!(!again.created);
    assert_eq!(b.history(&id).expect("history").len(), 1);
}

#[test]
fn invalid_bytes_are_refused_and_nothing_is_stored() {
    let (_dir, mut device) = open_device("志愿者");
    let id = DocId::parse("0192f0c8-7a1e-7cc3-9a4e-3b1f2a9d8e11").expect("id");
    let err = device
        .merge_record(&id, b"not automerge at all")
        .expect_err("garbage");
    assert_eq!(err.code(), "invalid_bytes");
    let (_other_dir, mut other) = open_device("志愿者");
    let other_id = other
        .register_resident(&input("测试", "11010119450815001", ""))
        .expect("register")
        .id;
    let good = other.export_record(&other_id).expect("export");
    let err = device
        .merge_record(&id, &good[..good.len() / 2])
        .expect_err("truncated");
    assert_eq!(err.code(), "invalid_bytes");
    assert!(device.list_residents().expect("list").is_empty());
}

#[test]
fn search_finds_by_name_pinyin_and_number_suffixes() {
    let (_dir, mut device) = open_device("志愿者");
    device
        .register_resident(&input("张三", "11010119450815001", "13800001234"))
        .expect("register");
    let lisi = device
        .register_resident(&input("李四", "32010620000229456", "13900005678"))
        .expect("register")
        .id;
    device
        .register_resident(&input("张小红", "44030419800101123", ""))
        .expect("register");
    assert_eq!(names(&device, "张"), ["张三", "张小红"]);
    assert_eq!(names(&device, "小红"), ["张小红"]);
    assert_eq!(names(&device, "zs"), ["张三"]);
    assert_eq!(names(&device, "ZS"), ["张三"]);
    assert_eq!(names(&device, "zhangsan"), ["张三"]);
    assert_eq!(names(&device, "zhang"), ["张三", "张小红"]);
    assert_eq!(names(&device, "zxh"), ["张小红"]);
    assert_eq!(names(&device, "0014"), ["张三"]);
    assert_eq!(names(&device, "5678"), ["李四"]);
    assert_eq!(names(&device, "wangwu"), Vec::<String>::new());
    assert_eq!(names(&device, " ").len(), 3);
    // A rename re-indexes the name.
    device
        .update_resident(&lisi, &input("王五", "32010620000229456", "13900005678"))
        .expect("rename");
    assert_eq!(names(&device, "wangwu"), ["王五"]);
    assert_eq!(names(&device, "王"), ["王五"]);
    assert!(names(&device, "ls").is_empty() && names(&device, "李").is_empty());
}

#[test]
fn a_corrupt_record_is_quarantined_and_the_rest_keeps_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (bad, good) = {
        let mut device = open_dir(dir.path()).expect("open");
        let bad = device
            .register_resident(&input("测试坏", "11010119450815001", ""))
            .expect("register")
            .id;
        let good = device
            .register_resident(&input("测试好", "32010620000229456", ""))
            .expect("register")
            .id;
        (bad, good)
    };
    {
        let store = raw_db(dir.path());
        let conn = store.conn();
        conn.execute(
            "UPDATE chunks SET bytes = substr(bytes, 1, length(bytes) / 2) WHERE doc_id = ?1",
            [bad.as_str()],
        )
        .expect("damage");
    }
    let mut device = open_dir(dir.path()).expect("reopen");
    let err = device.resident(&bad).expect_err("corrupt");
    assert_eq!(err.code(), "record_quarantined");
    // Still quarantined on the next attempt, and the rest works.
    assert_eq!(
        device.resident(&bad).expect_err("still").code(),
        "record_quarantined"
    );
    assert_eq!(device.resident(&good).expect("good").name, "测试好");
    device
        .register_resident(&input("测试新", "44030419800101123", ""))
        .expect("register after");
}

#[test]
fn many_edits_are_compacted_without_losing_any() {
    let dir = tempfile::tempdir().expect("temp dir");
    let id = {
        let mut device = open_dir(dir.path()).expect("open");
        let mut form = input("测试", "11010119450815001", "");
        let id = device.register_resident(&form).expect("register").id;
        for n in 0..(COMPACT_AFTER + 8) {
            form.address = format!("测试路 {n} 号");
            device.update_resident(&id, &form).expect("edit");
        }
        id
    };
    let store = raw_db(dir.path());
    let conn = store.conn();
    let chunks: i64 = conn
        .query_row(
            "SELECT count(*) FROM chunks WHERE doc_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .expect("count");
    assert!(chunks < COMPACT_AFTER, "{chunks} chunks left");
    let (incremental, snapshot): (i64, i64) = conn
        .query_row(
            "SELECT coalesce(sum(length(bytes)) FILTER (WHERE kind = 'incremental'), 0),
                    sum(length(bytes)) FILTER (WHERE kind = 'snapshot')
             FROM chunks WHERE doc_id = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("sizes");
    assert!(
        incremental <= snapshot.max(COMPACT_BYTES_MIN),
        "incremental chunks of {incremental} bytes outweigh a snapshot of {snapshot}"
    );
    let device = open_dir(dir.path()).expect("reopen");
    assert_eq!(
        device.resident(&id).expect("read").address,
        format!("测试路 {} 号", COMPACT_AFTER + 7)
    );
    assert_eq!(
        device.history(&id).expect("history").len() as i64,
        COMPACT_AFTER + 9
    );
}

#[test]
fn services_are_offered_by_eligibility_with_reasons() {
    let (_dir, mut device) = open_device("志愿者");
    // Born 1945-08-15: 81 on 2026-11-28.
    let old = device
        .register_resident(&input("测试", "11010119450815001", ""))
        .expect("register")
        .id;
    // Born 2000-02-29: 26.
    let young = device
        .register_resident(&input("测试二", "32010620000229456", ""))
        .expect("register")
        .id;
    let today = (2026, 11, 28);
    let offer = |id, code: &str| {
        device
            .services_for(id, today)
            .expect("services")
            .into_iter()
            .find(|s| s.code == code)
            .expect("offered")
    };
    assert!(offer(&old, "senior_allowance").eligibility.eligible);
    let refused = offer(&young, "senior_allowance");
    assert!(!refused.eligibility.eligible);
    assert!(refused.eligibility.unmet[0].zh_cn.contains("80"));
    let dibao = offer(&young, "minimum_living_allowance");
    assert!(dibao.eligibility.eligible);
    assert_eq!(dibao.eligibility.to_confirm.len(), 1);
    assert_eq!(device.services_for(&old, today).expect("all").len(), 6);
}

#[test]
fn a_full_disk_is_a_clear_error_and_saves_nothing() {
    let (_dir, mut device) = open_device("志愿者");
    let first = device
        .register_resident(&input("测试", "11010119450815001", ""))
        .expect("register");
    // Cap the database at its current size: the next page it needs is refused, as on a
    // full disk (SQLITE_FULL).
    let pages: i64 = device
        .store()
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    device
        .store()
        .conn()
        .pragma_update(None, "max_page_count", pages)
        .expect("cap");
    let mut big = input("测试满", "32010620000229456", "");
    big.address = "测".repeat(190);
    let mut failed = None;
    for n in 0..200 {
        big.id_number =
            IdNumber::complete(&format!("320106200002{:05}", 29000 + n)).expect("17 digits");
        if let Err(e) = device.register_resident(&big) {
            failed = Some(e);
            break;
        }
    }
    let err = failed.expect("the capped database fills up");
    assert_eq!(err.code(), "disk_full");
    let listed = device.list_residents().expect("list");
    assert!(
        listed.iter().all(|r| device.resident(&r.id).is_ok()),
        "no half-written record"
    );
    assert_eq!(device.resident(&first.id).expect("first").name, "测试");
    // With space again, saving works.
    device
        .store()
        .conn()
        .pragma_update(None, "max_page_count", 1_073_741_823i64)
        .expect("uncap");
    device
        .register_resident(&input("测试后", "44030419800101123", ""))
        .expect("register after");
}

#[test]
fn a_roster_is_registered_all_or_nothing() {
    let (_dir, mut device) = open_device("志愿者");
    let good: Vec<ResidentInput> = (0..20)
        .map(|n| input(&format!("测试{n}"), &format!("44030419800101{n:03}"), ""))
        .collect();
    let mut with_bad = good.clone();
    with_bad[7].name.clear();
    let (at, err) = device
        .register_residents(&with_bad)
        .expect_err("one bad row");
    assert_eq!(at, 7);
    assert_eq!(err.code(), "invalid_input");
    assert!(device.list_residents().expect("list").is_empty());
    let mut duplicated = good.clone();
    duplicated[12].id_number = duplicated[3].id_number.clone();
    let (at, _) = device
        .register_residents(&duplicated)
        .expect_err("duplicate");
    assert_eq!(at, 12);
    assert_eq!(device.register_residents(&good).expect("roster").len(), 20);
    assert_eq!(device.search_residents("测试7").expect("search").len(), 1);
}

fn names(device: &Device, q: &str) -> Vec<String> {
    let mut n: Vec<String> = device
        .search_residents(q)
        .expect("search")
        .into_iter()
        .map(|r| r.name)
        .collect();
    n.sort();
    n
}

#[test]
fn a_cached_record_is_never_used_after_another_writer_changed_it() {
    let (dir, mut a) = open_device("志愿者甲");
    let form = input("测试", "11010119450815001", "13800000001");
    let id = a.register_resident(&form).expect("register").id;
    assert_eq!(a.resident(&id).expect("read").phone, "13800000001");
    // A second writer on the same database (another process, say) edits the record.
    let mut b = open_dir(dir.path()).expect("second writer");
    let mut on_b = form.clone();
    on_b.phone = "13800000002".into();
    b.update_resident(&id, &on_b).expect("edit b");
    // The first device sees it and builds on it rather than on its cached copy.
    assert_eq!(a.resident(&id).expect("read").phone, "13800000002");
    let mut on_a = on_b.clone();
    on_a.address = "测试路".into();
    a.update_resident(&id, &on_a).expect("edit a");
    let r = b.resident(&id).expect("read");
    assert_eq!(
        (r.phone.as_str(), r.address.as_str()),
        ("13800000002", "测试路")
    );
    assert!(b.conflicts(&id).expect("conflicts").is_empty());
}

/// Every change a device saves carries its signature out, whether it is still kept in
/// its chunk's row or was moved to the signatures table when the chunks were folded.
#[test]
fn every_saved_change_is_signed_before_and_after_compaction() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut device = open_dir(dir.path()).expect("open");
    let key = device.public_key().expect("key");
    let mut form = input("测试", "11010119450815001", "");
    let id = device.register_resident(&form).expect("register").id;
    let check = |device: &Device, expected: usize| {
        let mut doc =
            automerge::AutoCommit::load(&device.export_record(&id).expect("export")).expect("load");
        let changes = doc.get_changes(&[]);
        assert_eq!(changes.len(), expected);
        let signatures = device
            .attestations(id.as_str(), &changes)
            .expect("attestations");
        for (change, signature) in changes.iter().zip(&signatures) {
            let message = doorstep_core::attest::change_message(id.as_str(), &change.hash());
            assert!(
                key.verifies(&message, signature),
                "change {} unsigned",
                change.hash()
            );
        }
    };
    let in_table = |dir: &std::path::Path| -> i64 {
        raw_db(dir)
            .conn()
            .query_row("SELECT count(*) FROM signatures", [], |r| r.get(0))
            .expect("count")
    };
    for n in 0..3 {
        form.address = format!("测试路 {n} 号");
        device.update_resident(&id, &form).expect("edit");
    }
    check(&device, 4);
    assert_eq!(
        in_table(dir.path()),
        0,
        "kept in the chunks' rows until folded"
    );
    let edits = COMPACT_AFTER as usize + 4;
    for n in 0..edits {
        form.address = format!("测试路 {n} 号之一");
        device.update_resident(&id, &form).expect("edit");
    }
    check(&device, 4 + edits);
    let in_chunks: i64 = raw_db(dir.path())
        .conn()
        .query_row(
            "SELECT coalesce(sum(length(signatures)), 0) / 96 FROM chunks",
            [],
            |r| r.get(0),
        )
        .expect("count");
    let moved = in_table(dir.path());
    assert!(moved > 0, "moved when the chunks were folded");
    assert_eq!(moved + in_chunks, 4 + edits as i64, "each kept once");
    drop(device);
    check(&open_dir(dir.path()).expect("reopen"), 4 + edits);
}
