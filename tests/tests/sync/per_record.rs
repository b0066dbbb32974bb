//! One bad record stops nothing else: the server refuses it alone with its code and
//! takes the rest of the request; the device keeps it waiting with its reason and sends
//! it again only once it changes; a received record a device cannot store is set aside
//! and the rest of the answer is stored.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use doorstep_core::id_number::IdNumber;
use doorstep_core::protocol::{DocUpload, SyncResponse};
use doorstep_core::resident::{ResidentInput, ResidentPatch};
use doorstep_device::ErrorCode;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee};

use doorstep_tests::principal::Principal;
use serde_bytes::ByteBuf;

fn resident(n: u32) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁"][n as usize % 4]),
        id_number: IdNumber::complete(&format!("320106194103{n:02}{n:03}")).expect("17 digits"),
        ..ResidentInput::default()
    }
}

/// A document's changes by `writer`: `fields` set one commit each.
fn doc_changes(writer: &Principal, fields: &[(&str, &str)]) -> Vec<ByteBuf> {
    let mut doc = writer.doc();
    for (key, value) in fields {
        doc.put(ROOT, *key, *value).expect("put");
        doc.commit();
    }
    doc.get_changes(&[])
        .iter()
        .map(|c| ByteBuf::from(c.raw_bytes().to_vec()))
        .collect()
}

/// An Automerge compressed change chunk of under a megabyte that would inflate to
/// 80 MiB (the server measures it with a bounded reader and refuses it).
fn inflation_bomb() -> ByteBuf {
    use std::io::Write;
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..80 {
        deflate.write_all(&zeros).expect("deflate");
    }
    let body = deflate.finish().expect("deflate");
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    leb128::write::unsigned(&mut chunk, body.len() as u64).expect("length");
    chunk.extend(body);
    assert!(chunk.len() < 1 << 20);
    ByteBuf::from(chunk)
}

fn raw_sync(
    server: &ServerProcess,
    token: &str,
    docs: Vec<DocUpload>,
) -> anyhow::Result<SyncResponse> {
    // From a cursor past everything: the answer carries the decisions, no records.
    doorstep_tests::principal::raw_sync(server, token, 1 << 40, docs)
}

#[test]
fn the_server_refuses_each_poisoned_record_alone_and_takes_the_rest() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start_on(dir.path(), &["--max-document-bytes", "1048576"])?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let me = Principal::new(&server, &["c1"], "volunteer")?;
    let them = Principal::new(&server, &["c2"], "volunteer")?;
    let (mine, theirs) = (me.token(), them.token());
    let foreign = uuid::Uuid::now_v7().to_string();
    let resident = [("kind", "resident"), ("name", "测试"), ("id_number", "x")];
    raw_sync(
        &server,
        theirs,
        vec![them.upload(&foreign, "resident", doc_changes(&them, &resident))],
    )?;

    let good = [
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    ];
    let bad_bytes = uuid::Uuid::now_v7().to_string();
    let too_large = uuid::Uuid::now_v7().to_string();
    let wrong_kind = uuid::Uuid::now_v7().to_string();
    let padding = "x".repeat(1_100_000);
    let bomb = uuid::Uuid::now_v7().to_string();
    let mut docs = vec![
        me.upload(&good[0], "resident", doc_changes(&me, &resident)),
        me.upload(
            &bad_bytes,
            "resident",
            vec![ByteBuf::from(b"not automerge".to_vec())],
        ),
        me.upload(&foreign, "resident", doc_changes(&me, &resident)),
        me.upload(
            &too_large,
            "resident",
            doc_changes(&me, &[("kind", "resident"), ("pad", &padding)]),
        ),
        me.upload(&wrong_kind, "application", doc_changes(&me, &resident)),
        me.upload(&bomb, "resident", vec![inflation_bomb()]),
    ];
    docs.push(me.upload(&good[1], "resident", doc_changes(&me, &resident)));
    let answer = raw_sync(&server, mine, docs)?;

    let mut refused: Vec<(String, String)> = answer
        .refused
        .iter()
        .map(|r| (r.doc_id.clone(), r.code.clone()))
        .collect();
    refused.sort();
    let mut want = vec![
        (bad_bytes, "invalid_change".to_owned()),
        (foreign, "cross_committee".to_owned()),
        (too_large, "document_too_large".to_owned()),
        (wrong_kind, "kind_mismatch".to_owned()),
        (bomb, "change_too_large".to_owned()),
    ];
    want.sort();
    assert_eq!(refused, want);
    assert!(answer.refused.iter().all(|r| !r.message.is_empty()));
    // Both good records went in, with all their changes.
    assert_eq!(answer.accepted, 6);
    let mut db = doorstep_tests::fleet::server_db(&server.data_dir)?;
    for id in &good {
        assert_eq!(
            db.int(&format!("SELECT count(*) FROM docs WHERE doc_id = '{id}'"))?,
            1
        );
    }
    assert_eq!(
        db.int("SELECT count(*) FROM docs")?,
        3,
        "the foreign one and the two"
    );
    Ok(())
}

#[test]
fn a_refused_record_stays_waiting_with_its_reason_while_the_others_sync() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start_on(dir.path(), &["--max-document-bytes", "4096"])?;
    committee(&server, "c1")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    let first = a.device.register_resident(&resident(1))?.id;
    let second = a.device.register_resident(&resident(2))?.id;
    // The third grows past the server's limit, edit by edit.
    let third = a.device.register_resident(&resident(3))?.id;
    for i in 0..60 {
        let edit = ResidentPatch {
            address: Some(format!("测试村{i}组，门牌号很长很长的一条地址 {i}")),
            ..ResidentPatch::default()
        };
        a.device.update_resident(&third, edit)?;
    }

    let report = a.sync(&server)?;
    assert_eq!(report.sent_docs, 3);
    assert_eq!(report.refused.len(), 1, "{:?}", report.refused);
    assert_eq!(report.refused[0].doc_id, third);
    assert_eq!(report.refused[0].code, ErrorCode::DocumentTooLarge);
    let status = a.device.sync_status()?;
    assert_eq!((status.pending_docs, status.refused_docs), (1, 1));
    let shown = a.device.refused_views()?;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].id, third);
    assert_eq!(shown[0].resident_name, "测试丁");
    assert_eq!(shown[0].code, ErrorCode::DocumentTooLarge);

    // The others reached the other device.
    b.sync(&server)?;
    assert!(b.device.resident(&first).is_ok() && b.device.resident(&second).is_ok());
    assert!(b.device.resident(&third).is_err());

    // Unchanged, it is not sent again; changed, it is.
    assert_eq!(a.sync(&server)?.sent_docs, 0);
    let edit = ResidentPatch {
        phone: Some("13900001111".into()),
        ..ResidentPatch::default()
    };
    a.device.update_resident(&third, edit)?;
    let again = a.sync(&server)?;
    assert_eq!((again.sent_docs, again.refused.len()), (1, 1));
    // And the others stay acknowledged.
    assert_eq!(a.device.sync_status()?.pending_docs, 1);
    Ok(())
}

#[test]
fn a_received_record_that_cannot_be_stored_is_set_aside_and_the_rest_is_stored()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start_on(dir.path(), &[])?;
    committee(&server, "c1")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    let good = a.device.register_resident(&resident(1))?.id;
    a.sync(&server)?;
    // A resident with an empty name, from a device that skipped every check.
    let me = Principal::new(&server, &["c1"], "volunteer")?;
    let rogue = me.token();
    let poisoned = uuid::Uuid::now_v7().to_string();
    let mut bad = me.doc();
    for (key, value) in [("kind", "resident"), ("name", ""), ("id_number", "")] {
        bad.put(ROOT, key, value)?;
    }
    bad.commit();
    let changes_of = |doc: &mut AutoCommit, since: &[automerge::ChangeHash]| -> Vec<ByteBuf> {
        doc.get_changes(since)
            .iter()
            .map(|c| ByteBuf::from(c.raw_bytes().to_vec()))
            .collect()
    };
    raw_sync(
        &server,
        rogue,
        vec![me.upload(&poisoned, "resident", changes_of(&mut bad, &[]))],
    )?;

    let report = b.sync(&server)?;
    assert_eq!(report.set_aside, 1);
    assert!(
        b.device.resident(&good).is_ok(),
        "the rest of the answer is stored"
    );
    let aside = b.device.records_aside()?;
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0].doc_id, poisoned);
    assert_eq!(aside[0].code, ErrorCode::RecordMalformed);
    assert_eq!(b.device.sync_status()?.aside_docs, 1);

    // A later change that leaves it unreadable joins it aside; syncs go on.
    let heads = bad.get_heads();
    bad.put(ROOT, "phone", "1")?;
    bad.commit();
    raw_sync(
        &server,
        rogue,
        vec![me.upload(&poisoned, "resident", changes_of(&mut bad, &heads))],
    )?;
    let second = a.device.register_resident(&resident(2))?.id;
    a.sync(&server)?;
    b.sync(&server)?;
    assert!(b.device.resident(&second).is_ok());
    assert_eq!(b.device.records_aside()?[0].changes, 2);
    assert_eq!(b.sync(&server)?.set_aside, 0);

    // Fixed later (a name and ID number written on another device), it is stored with
    // all its history and is no longer aside.
    let heads = bad.get_heads();
    let fixed = resident(3);
    bad.put(ROOT, "name", fixed.name.as_str())?;
    bad.put(ROOT, "id_number", fixed.id_number.as_str())?;
    bad.put(
        ROOT,
        "created_at",
        automerge::ScalarValue::Timestamp(1_780_272_000_000),
    )?;
    bad.commit();
    raw_sync(
        &server,
        rogue,
        vec![me.upload(&poisoned, "resident", changes_of(&mut bad, &heads))],
    )?;
    b.sync(&server)?;
    let left = b.device.records_aside()?;
    assert!(left.is_empty(), "{left:?}");
    let id = doorstep_core::DocId::parse(&poisoned).expect("a UUID");
    assert_eq!(b.device.resident(&id)?.name, fixed.name);
    assert_eq!(b.device.sync_status()?.aside_docs, 0);
    Ok(())
}
