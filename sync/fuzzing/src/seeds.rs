//! The seed corpora: for each target, inputs of the shape it meets in the field (a sync
//! request with real changes, an answer with checkpoints and proofs, the catalog's own
//! files, a roster written by the exporter...), from which the fuzzer mutates. Written to
//! `fuzz/seeds/<target>/` by `DOORSTEP_BLESS=1 cargo test -p doorstep-fuzzing`.

use std::path::Path;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use doorstep_core::protocol::{
    self, DocDownload, DocUpload, HeldCheckpoint, LogCheckpoint, LogEntryAsk, LogEntryRef,
    SyncRequest, SyncResponse,
};
use serde_bytes::ByteBuf;

/// `(target, name, bytes)` of every seed.
pub fn all(catalog_dir: &Path) -> std::io::Result<Vec<(&'static str, String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        out.push((target, name.to_owned(), bytes));
    };
    let (resident, application) = (changes("resident", 1), changes("application", 2));
    let visit = changes("visit", 3);
    let request = SyncRequest {
        sync_id: "0190c5d2-7d3c-7000-8000-000000000001".into(),
        cursor: 41,
        volunteer: "测试志愿者".into(),
        docs: vec![
            upload("r1", "resident", &resident),
            upload("a1", "application", &application),
        ],
        key_roster: "3".into(),
        log_held: vec![held()],
        log_seen: vec![held()],
        log_audit: vec![LogEntryAsk {
            committee: "c1".into(),
            seq: 7,
        }],
    };
    add("sync_request", "request", protocol::to_cbor(&request));
    add(
        "sync_request",
        "request_deflated",
        protocol::deflate(&protocol::to_cbor(&request)),
    );
    let response = SyncResponse {
        cursor: 42,
        more: false,
        accepted: 3,
        docs: vec![DocDownload {
            doc_id: "r2".into(),
            kind: "resident".into(),
            committee: "c1".into(),
            changes: bufs(&resident),
            signatures: vec![ByteBuf::from(vec![1; 64]); resident.len()],
        }],
        conflicts: Vec::new(),
        refused: Vec::new(),
        epoch: "e1".into(),
        key_roster: None,
        checkpoints: vec![LogCheckpoint {
            committee: "c1".into(),
            note: checkpoint_note(),
            proof: vec![hex32(3), hex32(4)],
            from_size: 6,
        }],
        seen: Vec::new(),
        written: vec![entry_ref(8)],
        audit: vec![entry_ref(7)],
    };
    add("sync_response", "response", protocol::to_cbor(&response));
    add(
        "sync_response",
        "response_deflated",
        protocol::deflate(&protocol::to_cbor(&response)),
    );
    for (flags, name, raw) in [
        (0u8, "resident_volunteer", &resident),
        (2 | 4, "application_supervisor", &application),
        (2 | 16, "application_unsigned", &application),
        (3 | 4, "visit_supervisor", &visit),
        (3, "visit_volunteer", &visit),
    ] {
        add("upload", name, pieces(flags, raw));
    }
    for entry in std::fs::read_dir(catalog_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            add("catalog", &name, std::fs::read(&path)?);
        }
    }
    let roster = doorstep_device::roster::Table {
        headers: [
            "姓名",
            "身份证号",
            "性别",
            "出生日期",
            "电话",
            "住址",
            "备注",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![
            [
                "测试甲",
                "11010519500301001X",
                "男",
                "1950-03-01",
                "13800000000",
                "测试路1号",
                "",
            ]
            .map(String::from)
            .to_vec(),
            [
                "测试乙",
                "110105195104020024",
                "女",
                "1951-04-02",
                "",
                "测试路2号",
                "独居",
            ]
            .map(String::from)
            .to_vec(),
        ],
    };
    use doorstep_device::roster::Format;
    let none = |_: usize, _: usize| {};
    if let Ok(xlsx) = roster.write(Format::Xlsx, &none) {
        add("roster_xlsx", "roster", xlsx);
    }
    if let Ok(csv) = roster.write(Format::Csv, &none) {
        add("roster_csv", "roster", csv);
    }
    // A roster as clerks keep one: a title and a date line above the header, a totals
    // line and who drew it up below the table.
    add(
        "roster_csv",
        "kept",
        "测试社区高龄老人花名册\n填报日期：2026年12月\n序号,姓名,身份证号码,备注\n\
         1,测试甲,11010519500301001X,独居\n2,测试乙,110105195104020024,\n合 计,2人\n\n\
         制表人：测试丙\n"
            .as_bytes()
            .to_vec(),
    );
    // A legacy Excel roster (BIFF8), as committees still keep them.
    add(
        "roster_xlsx",
        "roster_xls",
        include_bytes!("../../device/tests/data/roster.xls").to_vec(),
    );
    // One as clerks keep it: an instructions sheet first, a merged title, an address
    // merged over a household's rows, a name merged over two, totals and notes.
    add(
        "roster_xlsx",
        "kept_roster_xls",
        include_bytes!("../../device/tests/data/kept_roster.xls").to_vec(),
    );
    if let Some(huge) = huge_range_workbook() {
        add("roster_xlsx", "huge_range", huge);
    }
    let mut table = Vec::new();
    table.push(7u8);
    for cell in roster.headers.iter().chain(roster.rows.iter().flatten()) {
        table.push(u8::try_from(cell.len()).unwrap_or(0));
        table.extend_from_slice(cell.as_bytes());
    }
    add("table_writer", "roster", table);
    let receipt: Vec<Vec<u8>> = [
        "高龄津贴申请回执",
        "申请人",
        "测试甲",
        "身份证号",
        "320106********1234",
        "代办人",
        "测试志愿者乙（明月村委会）",
        "日期",
        "2026年12月6日",
        "下一步",
        "村委会将在五个工作日内把材料送到街道。",
        "有问题请打电话 0790-1234567。",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    add("receipt_writer", "receipt", pieces(0x14, &receipt));
    let enroll = doorstep_core::server_identity::EnrollText {
        server: Some("https://10.0.0.5:8787".into()),
        server_key: Some(hex32(6)),
        code: "ABCD-EFGH-JKLM".into(),
    };
    add("enroll_text", "qr", enroll.to_text().into_bytes());
    add(
        "enroll_text",
        "typed",
        b"https://10.0.0.5:8787\nABCD-EFGH-JKLM".to_vec(),
    );
    add("checkpoint", "note", checkpoint_note().into_bytes());
    // Files as they are sealed (the targets seal them again around their content).
    add("bundle_file", "envelope", bundle_envelope(&resident));
    add("manifest_file", "manifest", manifest());
    let household = device_records()?;
    // The same, arriving at a device enrolled with a key roster (see `import::Arrival`):
    // signed by the roster's volunteer, by a revoked one, by its supervisor, and with
    // attestations no key of the roster made.
    for (name, arrival) in [
        ("household_enrolled", 16u8),
        ("household_revoked", 16 | 32),
        ("household_supervisor", 16 | 64),
        ("household_forged", 16 | 128),
    ] {
        let mut seed = household.clone();
        seed[0] |= arrival;
        add("bundle_import", name, seed);
    }
    add("bundle_import", "household", household);
    // One resident record (id 0, kind 0, committee named), unattested.
    let mut one = vec![0u8, 16];
    one.extend_from_slice(&pieces(
        u8::try_from(resident.len()).unwrap_or(0),
        &resident,
    ));
    add("bundle_import", "resident", one);
    Ok(out)
}

/// The records a volunteer's device makes for one household (a resident, her signed
/// authorization, a filled-in and submitted senior allowance application with a photo),
/// as the `bundle_import` target takes them (see `import::parse`), their attestations
/// and the photo included.
fn device_records() -> std::io::Result<Vec<u8>> {
    use doorstep_core::id_number::IdNumber;
    use doorstep_core::resident::ResidentInput;
    use doorstep_core::value::FieldValue;
    fn step<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> std::io::Result<T> {
        r.map_err(|e| std::io::Error::other(format!("{what}: {e}")))
    }
    let mut device = crate::import::new_device();
    step("volunteer", device.set_volunteer("测试志愿者"))?;
    let id_number = IdNumber::complete("11010519400301001")
        .ok_or_else(|| std::io::Error::other("a synthetic ID number"))?;
    let resident = step(
        "resident",
        device.register_resident(&ResidentInput {
            name: "测试甲".into(),
            id_number,
            phone: "13800000000".into(),
            ..ResidentInput::default()
        }),
    )?
    .id;
    let (y, m, d) = device.today();
    let signature = step("signature", device.store_blob(b"synthetic signature"))?;
    let authorization = step(
        "authorization",
        device.record_authorization(
            &resident,
            &doorstep_core::authorization::AuthorizationInput {
                services: vec!["senior_allowance".into()],
                valid_from: format!("{y:04}-{m:02}-{d:02}"),
                valid_to: format!("{:04}-{m:02}-{:02}", y + 1, d.min(28)),
                signature,
            },
        ),
    )?;
    let app = step(
        "application",
        device.start_application(&resident, "senior_allowance"),
    )?;
    for (key, value) in [
        ("bank_account", FieldValue::Text("6222000011112222".into())),
        ("account_holder", FieldValue::Text("测试户主".into())),
        ("household_registered_here", FieldValue::Bool(true)),
    ] {
        step(key, device.set_application_field(&app, key, &value))?;
    }
    // A PNG by its signature and header (what the slot checks), then synthetic bytes.
    let photo = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR synthetic photo".to_vec();
    step(
        "photo",
        device.attach_file(&app, "bank_card_photo", "card.png", &photo),
    )?;
    step("submit", device.submit_application(&app))?;
    // Three records (flags: records less one), attested, with an attachment.
    let mut input = vec![2 | 4 | 8];
    for (n, id) in [resident, authorization, app].iter().enumerate() {
        let mut doc = step(
            "load",
            AutoCommit::load(&step("export", device.export_record(id))?),
        )?;
        let raw: Vec<Vec<u8>> = doc
            .get_changes(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        // The record's id (n), its kind (n: resident, authorization, application), its
        // committee named.
        input.push(step("which", u8::try_from(n | n << 2 | 16))?);
        input.extend_from_slice(&pieces(step("count", u8::try_from(raw.len()))?, &raw));
    }
    input.push(step("photo size", u8::try_from(photo.len()))?);
    input.extend_from_slice(&photo);
    Ok(input)
}

fn changes(kind: &str, actor: u8) -> Vec<Vec<u8>> {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]));
    doc.put(ROOT, "kind", kind).expect("put");
    doc.put(ROOT, "schema", 1).expect("put");
    doc.put(ROOT, "name", "测试").expect("put");
    doc.commit();
    if kind == "visit" {
        // A plan assigned, and an outcome under its own key.
        doc.put(ROOT, "assignee", "m1").expect("put");
        doc.put(ROOT, "due", "2026-12-10").expect("put");
        doc.put(ROOT, "purpose", "checkup").expect("put");
        doc.commit();
        let outcome = doc
            .put_object(ROOT, "outcome:o1", automerge::ObjType::Map)
            .expect("put");
        doc.put(&outcome, "due", "2026-12-10").expect("put");
        doc.put(&outcome, "outcome", "not_home").expect("put");
        doc.put(&outcome, "next_due", "2026-12-17").expect("put");
        doc.commit();
    }
    if kind == "application" {
        let events = doc
            .put_object(ROOT, "events", automerge::ObjType::List)
            .expect("put");
        let event = doc
            .insert_object(&events, 0, automerge::ObjType::Map)
            .expect("insert");
        doc.put(&event, "kind", "submitted").expect("put");
        doc.put(&event, "at", 1_700_000_000_000i64).expect("put");
        doc.commit();
    }
    doc.get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

fn bufs(raw: &[Vec<u8>]) -> Vec<ByteBuf> {
    raw.iter().map(|c| ByteBuf::from(c.clone())).collect()
}

fn upload(doc_id: &str, kind: &str, raw: &[Vec<u8>]) -> DocUpload {
    DocUpload {
        doc_id: doc_id.into(),
        kind: kind.into(),
        committee: Some("c1".into()),
        changes: bufs(raw),
        signatures: vec![ByteBuf::from(vec![1; 64]); raw.len()],
        relayed: Vec::new(),
    }
}

fn hex32(b: u8) -> String {
    "0123456789abcdef"
        .chars()
        .nth(usize::from(b % 16))
        .map(|c| c.to_string().repeat(64))
        .unwrap_or_default()
}

fn checkpoint_note() -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    doorstep_core::merkle_log::sign_checkpoint(&key, "c1", 8, [7; 32])
}

fn held() -> HeldCheckpoint {
    HeldCheckpoint {
        committee: "c1".into(),
        note: checkpoint_note(),
    }
}

fn entry_ref(seq: u64) -> LogEntryRef {
    LogEntryRef {
        committee: "c1".into(),
        seq,
        leaf: ByteBuf::from(vec![2; 32]),
        device_id: "0190c5d2-7d3c-7000-8000-000000000002".into(),
        volunteer: "测试志愿者".into(),
        time: 1_700_000_000_000,
        conflicts: 0,
        proof: vec![ByteBuf::from(vec![3; 32]), ByteBuf::from(vec![4; 32])],
    }
}

/// A small workbook whose sheet has a roster's two columns and one cell at the last row
/// and column Excel allows: a used range of 17 billion cells.
fn huge_range_workbook() -> Option<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "姓名").ok()?;
    sheet.write_string(0, 1, "身份证号").ok()?;
    sheet.write_string(1, 0, "测试甲").ok()?;
    sheet.write_string(1, 1, "11010519500301001X").ok()?;
    sheet.write_string(1_048_575, 16_383, "远处").ok()?;
    book.save_to_buffer().ok()
}

/// Length-prefixed pieces after a flags byte (see [`crate::Pieces`]).
fn pieces(flags: u8, raw: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![flags];
    for piece in raw {
        match u8::try_from(piece.len()) {
            Ok(len) if len < 0xff => out.push(len),
            _ => {
                out.push(0xff);
                out.extend_from_slice(&u16::try_from(piece.len()).unwrap_or(0).to_le_bytes());
            }
        }
        out.extend_from_slice(piece);
    }
    out
}

/// A bundle's signed envelope as its writer lays it out (version, signer, signature,
/// body), around a body of one record; the target seals it.
fn bundle_envelope(raw: &[Vec<u8>]) -> Vec<u8> {
    use ciborium::Value;
    let text = |s: &str| Value::Text(s.into());
    let body = Value::Map(vec![
        (text("version"), Value::Integer(2.into())),
        (
            text("created_at"),
            Value::Integer(1_700_000_000_000i64.into()),
        ),
        (
            text("docs"),
            Value::Array(vec![Value::Map(vec![
                (text("doc_id"), text("r1")),
                (text("kind"), text("resident")),
                (text("committee"), text("c1")),
                (
                    text("changes"),
                    Value::Array(raw.iter().map(|c| Value::Bytes(c.clone())).collect()),
                ),
                (text("signatures"), Value::Array(Vec::new())),
            ])]),
        ),
        (text("blobs"), Value::Array(Vec::new())),
    ]);
    let envelope = Value::Map(vec![
        (text("version"), Value::Integer(2.into())),
        (text("actor"), text("0101010101010101")),
        (text("signature"), Value::Bytes(vec![1; 64])),
        (text("body"), Value::Bytes(protocol::to_cbor(&body))),
    ]);
    protocol::to_cbor(&envelope)
}

fn manifest() -> Vec<u8> {
    use ciborium::Value;
    let text = |s: &str| Value::Text(s.into());
    protocol::to_cbor(&Value::Map(vec![
        (text("version"), Value::Integer(1.into())),
        (
            text("docs"),
            Value::Array(vec![Value::Array(vec![
                text("r1"),
                Value::Array(vec![Value::Bytes(vec![5; 32])]),
            ])]),
        ),
        (text("blobs"), Value::Array(vec![text(&hex32(8))])),
    ]))
}
