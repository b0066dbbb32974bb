//! A lost volunteer tablet in an attacker's hands: its token, its key and a raw HTTP
//! client, against a real server holding an honest volunteer's submitted application.
//! Every attack is refused with a machine-readable code, stores nothing, leaves the
//! server serving and every honest device's records as they were; then an honest
//! supervisor's approval still goes through.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, Value};
use doorstep_core::application::{self, Event, EventKind, Status};
use doorstep_core::id_number::IdNumber;
use doorstep_core::protocol::{self, DocUpload, SyncRequest, SyncResponse};
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::FieldValue;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, server_db};
use doorstep_tests::principal::{Principal, changes_of, pull, raw_sync};
use doorstep_tests::signed::SignAs;
use serde_bytes::ByteBuf;

fn event(kind: EventKind, by: &str) -> Event {
    Event {
        id: uuid::Uuid::now_v7().to_string(),
        kind,
        at: 1_780_000_000_000,
        by: by.into(),
        device: String::new(),
        text: String::new(),
        consent: None,
    }
}

/// `doc` as `actor` edits it: the new changes after `edit`.
fn edited(doc: &AutoCommit, actor: &ActorId, edit: impl FnOnce(&mut AutoCommit)) -> Vec<ByteBuf> {
    let mut d = doc.clone().with_actor(actor.clone());
    let heads = d.get_heads();
    edit(&mut d);
    d.commit();
    changes_of(&mut d, &heads)
}

fn events_list(doc: &AutoCommit) -> automerge::ObjId {
    match doc.get(ROOT, "events") {
        Ok(Some((Value::Object(ObjType::List), id))) => id,
        _ => unreachable!("an application has events"),
    }
}

fn first_event(doc: &AutoCommit) -> automerge::ObjId {
    match doc.get(events_list(doc), 0) {
        Ok(Some((_, id))) => id,
        _ => unreachable!("a submitted application has an event"),
    }
}

fn append(kind: EventKind) -> impl FnOnce(&mut AutoCommit) {
    move |d: &mut AutoCommit| application::append_event(d, &event(kind, "测试")).expect("event")
}

/// An upload of `changes` signed by `p`, then altered by `tamper`.
fn signed_by(
    p: &Principal,
    doc_id: &str,
    kind: &str,
    changes: Vec<ByteBuf>,
    tamper: impl FnOnce(&mut DocUpload),
) -> DocUpload {
    let mut upload = p.upload(doc_id, kind, changes);
    tamper(&mut upload);
    upload
}

struct Attack {
    name: &'static str,
    token: String,
    upload: DocUpload,
    code: &'static str,
}

#[test]
#[expect(clippy::too_many_lines, reason = "one table of attacks")]
fn a_lost_volunteer_tablet_cannot_decide_forge_or_rewrite_anything() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut supervisor = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;

    // The honest work: a submitted application.
    let (_, app) = volunteer.submitted_allowance(&ResidentInput {
        name: "测试老人".into(),
        id_number: IdNumber::complete("11010119400101001").expect("17 digits"),
        ..ResidentInput::default()
    })?;
    volunteer.sync(&server)?;
    supervisor.sync(&server)?;

    // The lost tablet (mallory), a volunteer of another committee (eve), a second
    // supervisor, and a tablet about to be revoked.
    let mallory = Principal::new(&server, &["c1"], "volunteer")?;
    let eve = Principal::new(&server, &["c2"], "volunteer")?;
    let boss = Principal::new(&server, &["c1"], "supervisor")?;
    let lost = Principal::new(&server, &["c1"], "volunteer")?;

    let docs = pull(&server, &mallory)?;
    let app_id = app.as_str().to_owned();
    let app_doc = docs.get(&app_id).expect("mallory reads the application");
    let m = &mallory.actor;
    let on_app = |changes: Vec<ByteBuf>| mallory.upload(&app_id, "application", changes);

    // Records of others, to relay or replay.
    let new_id = || uuid::Uuid::now_v7().to_string();
    let resident_by = |p: &Principal| {
        let mut d = p.doc();
        d.put(ROOT, "kind", "resident").expect("put");
        d.put(ROOT, "name", "测试").expect("put");
        d.commit();
        changes_of(&mut d, &[])
    };
    let eves_record = resident_by(&eve);
    let eves_doc = new_id();
    let answer = raw_sync(
        &server,
        eve.token(),
        0,
        vec![eve.upload(&eves_doc, "resident", eves_record.clone())],
    )?;
    assert_eq!(answer.accepted, 1, "{:?}", answer.refused);
    let lost_record = resident_by(&lost);
    server.admin(&["device", "revoke", &lost.enrolled.device_id])?;
    // Key roster versions a relay may name: the one the revocation made, the first this
    // database issued (before the lost tablet was enrolled), and one it never issued.
    let (at_revocation, before_enrollment) = {
        let mut db = server_db(&server.data_dir)?;
        (
            db.text("SELECT version FROM key_roster_versions ORDER BY seq DESC LIMIT 1")?,
            db.text("SELECT version FROM key_roster_versions ORDER BY seq LIMIT 1")?,
        )
    };
    let relayed_under = |roster: &str| {
        let record = lost_record.clone();
        let count = u32::try_from(record.len()).expect("a few changes");
        let roster = roster.to_owned();
        signed_by(&lost, &new_id(), "resident", record, move |u| {
            u.relayed = (0..count)
                .map(|change| protocol::Relayed {
                    change,
                    roster: roster.clone(),
                })
                .collect();
        })
    };

    // A new application that comes with its decision already in it.
    let born_approved = {
        let mut d = mallory.doc();
        d.put(ROOT, "kind", "application").expect("put");
        d.put_object(ROOT, "events", ObjType::List).expect("list");
        application::append_event(&mut d, &event(EventKind::Submitted, "测试")).expect("e");
        application::append_event(&mut d, &event(EventKind::Approved, "测试")).expect("e");
        d.commit();
        changes_of(&mut d, &[])
    };
    // A supervisor's own submission, approved by the same supervisor.
    let self_approved = {
        let mut d = boss.doc();
        d.put(ROOT, "kind", "application").expect("put");
        application::append_event(&mut d, &event(EventKind::Submitted, "测试")).expect("e");
        application::append_event(&mut d, &event(EventKind::Approved, "测试")).expect("e");
        d.commit();
        changes_of(&mut d, &[])
    };
    let approval = edited(app_doc, m, append(EventKind::Approved));
    let forged_actor = ActorId::from(
        (0..supervisor.device.actor_hex().len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&supervisor.device.actor_hex()[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()?,
    );
    let as_supervisor = edited(app_doc, &forged_actor, append(EventKind::Approved));
    let as_nobody = edited(
        app_doc,
        &ActorId::from(uuid::Uuid::new_v4().into_bytes().as_slice()),
        |d| d.put(ROOT, "notes_x", "x").map(drop).expect("put"),
    );
    let two_edits = {
        let mut d = app_doc.clone().with_actor(m.clone());
        let heads = d.get_heads();
        application::append_event(&mut d, &event(EventKind::Consent, "测试")).expect("e");
        d.commit();
        d.put(ROOT, "x", 1).expect("put");
        d.commit();
        changes_of(&mut d, &heads)
    };
    let consent_turned_approval = {
        let mut d = app_doc.clone().with_actor(m.clone());
        let heads = d.get_heads();
        let mut consent = event(EventKind::Consent, "测试");
        consent.consent = None;
        application::append_event(&mut d, &consent).expect("e");
        d.commit();
        let list = events_list(&d);
        let last = match d.get(&list, d.length(&list) - 1) {
            Ok(Some((_, id))) => id,
            _ => unreachable!("just appended"),
        };
        d.put(&last, "kind", "approved").expect("put");
        d.commit();
        changes_of(&mut d, &heads)
    };

    // The honest application's whole signed history, as the server sends it.
    let replayed = {
        let answer = raw_sync(&server, mallory.token(), 0, Vec::new())?;
        let d = answer
            .docs
            .into_iter()
            .find(|d| d.doc_id == app_id)
            .expect("the application comes down");
        assert_eq!(d.signatures.len(), d.changes.len());
        DocUpload {
            doc_id: new_id(),
            kind: "application".into(),
            committee: None,
            changes: d.changes,
            signatures: d.signatures,
            relayed: Vec::new(),
        }
    };
    let v = || mallory.token().to_owned();
    let attack = |name, upload, code| Attack {
        name,
        token: v(),
        upload,
        code,
    };
    let mut attacks = vec![
        // Decisions a volunteer's key may not make.
        attack(
            "approve as a volunteer",
            on_app(approval.clone()),
            "rule_forbidden",
        ),
        attack(
            "reject as a volunteer",
            on_app(edited(app_doc, m, append(EventKind::Rejected))),
            "rule_forbidden",
        ),
        attack(
            "return as a volunteer",
            on_app(edited(app_doc, m, append(EventKind::Returned))),
            "rule_forbidden",
        ),
        attack(
            "file as a volunteer",
            on_app(edited(app_doc, m, append(EventKind::Filed))),
            "rule_forbidden",
        ),
        attack(
            "reopen as a volunteer",
            on_app(edited(app_doc, m, append(EventKind::Reopened))),
            "rule_forbidden",
        ),
        attack(
            "a new application born approved",
            mallory.upload(&new_id(), "application", born_approved),
            "rule_forbidden",
        ),
        attack(
            "a consent turned into an approval",
            on_app(consent_turned_approval),
            "rule_forbidden",
        ),
        attack(
            "a submitted application's account changed",
            on_app(edited(app_doc, m, |d| {
                let fields = match d.get(ROOT, "fields") {
                    Ok(Some((_, id))) => id,
                    _ => unreachable!("an application has fields"),
                };
                d.put(&fields, "bank_account", "6222000099998888")
                    .expect("put");
            })),
            "application_locked",
        ),
        attack(
            "a submitted application's attachment removed",
            on_app(edited(app_doc, m, |d| {
                d.delete(ROOT, "attachments").expect("delete");
            })),
            "application_locked",
        ),
        attack(
            "a signed history replayed as a new record",
            replayed,
            "attestation_invalid",
        ),
        // Rewriting what was written.
        attack(
            "turn the submission into an approval",
            on_app(edited(app_doc, m, |d| {
                let e = first_event(d);
                d.put(&e, "kind", "approved").expect("put");
            })),
            "event_altered",
        ),
        attack(
            "rewrite who submitted",
            on_app(edited(app_doc, m, |d| {
                let e = first_event(d);
                d.put(&e, "by", "别人").expect("put");
            })),
            "event_altered",
        ),
        attack(
            "delete the submission",
            on_app(edited(app_doc, m, |d| {
                let l = events_list(d);
                d.delete(&l, 0).expect("delete");
            })),
            "event_altered",
        ),
        attack(
            "replace the whole history",
            on_app(edited(app_doc, m, |d| {
                d.put_object(ROOT, "events", ObjType::List)
                    .map(drop)
                    .expect("put");
            })),
            "event_altered",
        ),
        attack(
            "drop the history for a scalar",
            on_app(edited(app_doc, m, |d| {
                d.put(ROOT, "events", "none").map(drop).expect("put");
            })),
            "event_altered",
        ),
        Attack {
            name: "a supervisor approves their own submission",
            token: boss.token().to_owned(),
            upload: boss.upload(&new_id(), "application", self_approved),
            code: "four_eyes",
        },
        // Signatures.
        attack(
            "an approval with no signature",
            signed_by(&mallory, &app_id, "application", approval.clone(), |u| {
                u.signatures.clear();
            }),
            "attestation_missing",
        ),
        attack(
            "an empty signature",
            signed_by(&mallory, &app_id, "application", approval.clone(), |u| {
                u.signatures[0] = ByteBuf::new();
            }),
            "attestation_missing",
        ),
        attack(
            "two changes, one signature",
            signed_by(&mallory, &app_id, "application", two_edits.clone(), |u| {
                u.signatures.truncate(1);
            }),
            "attestation_missing",
        ),
        attack(
            "the supervisor's actor, the volunteer's key",
            on_app(as_supervisor),
            "attestation_invalid",
        ),
        attack(
            "an actor no device holds",
            on_app(as_nobody),
            "author_unknown",
        ),
        attack(
            "a flipped bit in the signature",
            signed_by(&mallory, &app_id, "application", two_edits.clone(), |u| {
                let mut s = u.signatures[1].to_vec();
                s[5] ^= 1;
                u.signatures[1] = ByteBuf::from(s);
            }),
            "attestation_invalid",
        ),
        attack(
            "a truncated signature",
            signed_by(&mallory, &app_id, "application", two_edits.clone(), |u| {
                let s = u.signatures[0][..63].to_vec();
                u.signatures[0] = ByteBuf::from(s);
            }),
            "attestation_invalid",
        ),
        attack(
            "signatures swapped between changes",
            signed_by(&mallory, &app_id, "application", two_edits.clone(), |u| {
                u.signatures.swap(0, 1);
            }),
            "attestation_invalid",
        ),
        attack(
            "another change's signature replayed",
            signed_by(&mallory, &app_id, "application", two_edits.clone(), |u| {
                u.signatures[1] = u.signatures[0].clone();
            }),
            "attestation_invalid",
        ),
        attack(
            "a change signed by another key",
            signed_by(&mallory, &app_id, "application", two_edits.clone(), |u| {
                let other = eve.upload(&app_id, "application", two_edits.clone());
                u.signatures = other.signatures;
            }),
            "attestation_invalid",
        ),
        // Authors who may not write here.
        attack(
            "a revoked tablet's record relayed",
            lost.upload(&new_id(), "resident", lost_record.clone()),
            "author_revoked",
        ),
        attack(
            "a revoked tablet's record relayed, claimed taken under the roster of its revocation",
            relayed_under(&at_revocation),
            "author_revoked",
        ),
        attack(
            "a revoked tablet's record relayed, claimed taken under a roster from before it was enrolled",
            relayed_under(&before_enrollment),
            "author_revoked",
        ),
        attack(
            "a revoked tablet's record relayed, claimed taken under a roster never issued",
            relayed_under("00000000-0000-4000-8000-000000000000"),
            "author_revoked",
        ),
        attack(
            "another committee's signed record replayed here",
            eve.upload(&new_id(), "resident", eves_record.clone()),
            "author_committee",
        ),
        attack(
            "another committee's record written to",
            mallory.upload(
                &eves_doc,
                "resident",
                edited(docs.get(&eves_doc).unwrap_or(&AutoCommit::new()), m, |d| {
                    d.put(ROOT, "name", "x").map(drop).expect("put");
                }),
            ),
            "cross_committee",
        ),
        attack(
            "a new record named for another committee",
            signed_by(
                &mallory,
                &new_id(),
                "resident",
                resident_by(&mallory),
                |u| {
                    u.committee = Some("c2".into());
                },
            ),
            "committee_forbidden",
        ),
    ];
    // The revoked tablet's own token is refused whole; a relay is refused per record.
    attacks.push(Attack {
        name: "a revoked tablet's record sent with its own token",
        token: lost.token().to_owned(),
        upload: lost.upload(&new_id(), "resident", resident_by(&lost)),
        code: "device_revoked",
    });
    assert!(attacks.len() >= 28, "{} attacks", attacks.len());

    let counts = || -> anyhow::Result<(i64, i64)> {
        let mut db = server_db(&server.data_dir)?;
        Ok((
            db.int("SELECT count(*) FROM changes")?,
            db.int("SELECT count(*) FROM docs")?,
        ))
    };
    let client = doorstep_tests::raw_client();
    let mut failures = Vec::new();
    for a in &attacks {
        assert!(protocol::ERROR_CODES.contains(&a.code), "{}", a.code);
        let before = counts()?;
        let body = protocol::to_cbor(&SyncRequest {
            key_roster: String::new(),
            log_held: Vec::new(),
            log_seen: Vec::new(),
            log_audit: Vec::new(),
            sync_id: uuid::Uuid::new_v4().to_string(),
            cursor: 0,
            volunteer: String::new(),
            docs: vec![a.upload.clone()],
        });
        let response = client
            .post(server.url("/v1/sync"))
            .sign_as(&a.token, "POST", "/v1/sync", &body)
            .header("content-type", protocol::CBOR)
            .body(body)
            .send()?;
        let status = response.status().as_u16();
        let bytes = response.bytes()?;
        let got = if status == 200 {
            let answer: SyncResponse = protocol::from_cbor(&bytes).map_err(anyhow::Error::msg)?;
            match (answer.accepted, answer.refused.first()) {
                (0, Some(r)) if r.doc_id == a.upload.doc_id => r.code.clone(),
                (accepted, _) => format!("<accepted {accepted}>"),
            }
        } else {
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            body["code"].as_str().unwrap_or("<none>").to_owned()
        };
        if got != a.code {
            failures.push(format!("{}: got {got}, want {}", a.name, a.code));
        }
        if counts()? != before {
            failures.push(format!("{}: something was stored", a.name));
        }
        // A refusal of one record (the request itself was answered) is evidence in the
        // sync log: the latest entry names the record and the code.
        if status == 200 {
            let logged = server_db(&server.data_dir)?.int(&format!(
                "SELECT count(*) FROM log WHERE id = (SELECT max(id) FROM log)
                 AND body LIKE '%\"refused\"%' AND body LIKE '%{}%' AND body LIKE '%{}%'",
                a.upload.doc_id, a.code
            ))?;
            if logged != 1 {
                failures.push(format!("{}: the refusal is not in the sync log", a.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let distinct: std::collections::HashSet<&str> = attacks.iter().map(|a| a.name).collect();
    assert_eq!(distinct.len(), attacks.len());

    // The honest photo, known by its hash to a device of another committee.
    let photo = doorstep_server::store::sha256_hex(doorstep_tests::SAMPLE_PHOTO);
    let never_sent = "7".repeat(64);
    let blob_counts = || -> anyhow::Result<(i64, i64)> {
        let mut db = server_db(&server.data_dir)?;
        Ok((
            db.int("SELECT count(*) FROM blobs")?,
            db.int("SELECT count(*) FROM blob_refs")?,
        ))
    };
    let before = blob_counts()?;
    let blob_status = |sha: &str| -> anyhow::Result<serde_json::Value> {
        let response = client
            .get(server.url(&format!("/v1/blobs/{sha}/status")))
            .sign_as(eve.token(), "GET", &format!("/v1/blobs/{sha}/status"), b"")
            .send()?;
        let mut body: serde_json::Value = serde_json::from_slice(&response.bytes()?)?;
        body["sha256"] = serde_json::Value::Null;
        Ok(body)
    };
    let mut blob_attacks = 0;
    // Probing whether the server holds it: the same answer as for one never sent.
    blob_attacks += 1;
    assert_eq!(blob_status(&photo)?, blob_status(&never_sent)?);
    // Claiming it by sending its first bytes under its name.
    blob_attacks += 1;
    let claim_path = format!(
        "/v1/blobs/{photo}?offset=0&size={}",
        doorstep_tests::SAMPLE_PHOTO.len()
    );
    let claim = client
        .put(server.url(&claim_path))
        .sign_as(
            eve.token(),
            "PUT",
            &claim_path,
            &doorstep_tests::SAMPLE_PHOTO[..100],
        )
        .header("content-type", "application/octet-stream")
        .body(doorstep_tests::SAMPLE_PHOTO[..100].to_vec())
        .send()?;
    assert_eq!(claim.status(), 409);
    let body: serde_json::Value = serde_json::from_slice(&claim.bytes()?)?;
    assert_eq!(body["code"], "blob_unreferenced");
    // Reading it.
    blob_attacks += 1;
    let read = client
        .get(server.url(&format!("/v1/blobs/{photo}")))
        .sign_as(eve.token(), "GET", &format!("/v1/blobs/{photo}"), b"")
        .send()?;
    assert_eq!(read.status(), 404);
    let body: serde_json::Value = serde_json::from_slice(&read.bytes()?)?;
    assert_eq!(body["code"], "blob_unknown");
    assert_eq!(blob_counts()?, before, "nothing stored");
    eprintln!(
        "{} attacks, each refused with its code",
        attacks.len() + blob_attacks
    );

    // The server still serves, and the honest devices see the application as it was.
    assert_eq!(client.get(server.url("/healthz")).send()?.status(), 200);
    for d in [&mut volunteer, &mut supervisor] {
        d.sync(&server)?;
        let read = d.device.application(&app)?;
        assert_eq!(read.status, Status::Submitted);
        assert_eq!(
            read.events
                .iter()
                .filter(|e| e.kind != EventKind::Consent)
                .count(),
            1
        );
    }

    // The volunteer's own tablet refuses a decision before saving anything.
    let err = volunteer
        .device
        .record_review(&app, EventKind::Approved, "")
        .expect_err("a volunteer may not approve");
    assert_eq!(err.code(), doorstep_core::ErrorCode::NotSupervisor);

    // And an honest supervisor's approval, signed by its own key, goes through.
    let approve = boss.upload(
        &app_id,
        "application",
        edited(app_doc, &boss.actor, append(EventKind::Approved)),
    );
    let answer = raw_sync(&server, boss.token(), 0, vec![approve])?;
    assert_eq!(answer.accepted, 1, "{:?}", answer.refused);
    volunteer.sync(&server)?;
    assert_eq!(volunteer.device.application(&app)?.status, Status::Approved);
    // Changing it now would reopen it, which is a supervisor's to do: the volunteer's
    // tablet refuses, and offers no change.
    let err = volunteer
        .device
        .set_application_field(&app, "account_holder", &FieldValue::Text("测试".into()))
        .expect_err("an approved application is not the volunteer's to reopen");
    assert_eq!(err.code(), doorstep_core::ErrorCode::ApplicationLocked);
    assert!(!volunteer.device.application_view(&app, None)?.amendable);
    Ok(())
}
