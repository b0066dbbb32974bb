//! Every kind of bad request the server can meet, each answered with a clear 4xx and a
//! machine-readable code (or, for a bad document in a sync, that document refused alone
//! with its code); nothing is stored, nothing panics, and the server keeps serving.

use automerge::ROOT;
use automerge::transaction::Transactable;
use doorstep_core::protocol::{self, DocUpload, SyncRequest, SyncResponse};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{committee, enroll_body, enrollment_code};
use doorstep_tests::principal::Principal;
use doorstep_tests::signed::SignAs;

use super::raw::{enroll_raw, token_for};
use serde_bytes::ByteBuf;

/// A raw request and the refusal it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    token: Option<String>,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    encoding: Option<&'static str>,
}

/// A record document's changes, as `writer`'s device would send them.
fn record_changes(
    writer: &Principal,
    kind: &str,
    n: usize,
    padding: usize,
) -> (String, Vec<ByteBuf>) {
    let mut doc = writer.doc();
    doc.put(ROOT, "kind", kind).expect("put");
    doc.put(ROOT, "name", "测试").expect("put");
    doc.put(ROOT, "pad", "x".repeat(padding)).expect("put");
    doc.commit();
    for i in 1..n {
        doc.put(ROOT, "address", format!("测试路 {i} 号"))
            .expect("put");
        doc.commit();
    }
    let changes = doc
        .get_changes(&[])
        .iter()
        .map(|c| ByteBuf::from(c.raw_bytes().to_vec()))
        .collect();
    (uuid::Uuid::now_v7().to_string(), changes)
}

fn sync_body(docs: Vec<DocUpload>) -> Vec<u8> {
    protocol::to_cbor(&SyncRequest {
        key_roster: String::new(),
        log_held: Vec::new(),
        log_seen: Vec::new(),
        log_audit: Vec::new(),
        sync_id: uuid::Uuid::new_v4().to_string(),
        cursor: 0,
        volunteer: String::new(),
        docs,
    })
}

fn counts(server: &ServerProcess) -> anyhow::Result<(i64, i64, i64, i64)> {
    let mut db = doorstep_tests::fleet::server_db(&server.data_dir)?;
    Ok((
        db.int("SELECT count(*) FROM docs")?,
        db.int("SELECT count(*) FROM changes")?,
        // Entries other than refusals: a refused record's evidence is logged.
        db.int(r#"SELECT count(*) FROM log WHERE body NOT LIKE '%"refused"%'"#)?,
        db.int("SELECT count(*) FROM devices")?,
    ))
}

#[test]
#[expect(clippy::too_many_lines, reason = "one table of cases")]
fn every_bad_request_gets_a_coded_4xx_and_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start_on(
        dir.path(),
        &[
            "--max-request-bytes",
            "65536",
            "--max-documents",
            "5",
            "--max-document-bytes",
            "8192",
        ],
    )?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let writer = Principal::new(&server, &["c1"], "volunteer")?;
    let volunteer = writer.token().to_owned();
    let other = token_for(&server, &["c2"], "volunteer")?;
    let supervisor = token_for(&server, &["c1", "c2"], "supervisor")?;
    let revoked_code = enrollment_code(&server.data_dir, &["c1"], "volunteer", "测试丙", "1h")?;
    let revoked = enroll_raw(&server, &revoked_code)?;
    server.admin(&["device", "revoke", &revoked.device_id])?;
    let used_code = enrollment_code(&server.data_dir, &["c1"], "volunteer", "测试丁", "1h")?;
    enroll_raw(&server, &used_code)?;
    let expired_code = enrollment_code(&server.data_dir, &["c1"], "volunteer", "测试戊", "1ms")?;
    std::thread::sleep(std::time::Duration::from_millis(20));

    // A document of c1, stored by a valid sync, for the cross-committee cases.
    let (c1_doc, c1_changes) = record_changes(&writer, "resident", 1, 0);
    let first_body = sync_body(vec![writer.upload(&c1_doc, "resident", c1_changes.clone())]);
    let first = doorstep_tests::raw_client()
        .post(server.url("/v1/sync"))
        .sign_as(&volunteer, "POST", "/v1/sync", &first_body)
        .header("content-type", protocol::CBOR)
        .body(first_body)
        .send()?;
    assert_eq!(first.status(), 200);
    let before = counts(&server)?;

    let (doc, changes) = record_changes(&writer, "resident", 3, 0);
    let valid = sync_body(vec![writer.upload(&doc, "resident", changes.clone())]);
    let sync_with = |docs: Vec<DocUpload>| sync_body(docs);
    let mut flipped = changes[0].to_vec();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let (big_doc, big_changes) = record_changes(&writer, "resident", 1, 10_000);
    let many: Vec<DocUpload> = (0..6)
        .map(|_| {
            let (d, c) = record_changes(&writer, "resident", 1, 0);
            writer.upload(&d, "resident", c)
        })
        .collect();
    let mut named = writer.upload(&doc, "resident", changes.clone());
    named.committee = Some("c2".into());
    let shape = |f: &dyn Fn(&mut SyncRequest)| {
        let mut req = SyncRequest {
            key_roster: String::new(),
            log_held: Vec::new(),
            log_seen: Vec::new(),
            log_audit: Vec::new(),
            sync_id: "s".into(),
            cursor: 0,
            volunteer: String::new(),
            docs: vec![writer.upload(&doc, "resident", changes.clone())],
        };
        f(&mut req);
        protocol::to_cbor(&req)
    };
    let v = || Some(volunteer.clone());
    let cbor = Some(protocol::CBOR);
    let json = Some("application/json");
    let sync = |name, token: Option<String>, ct, body: Vec<u8>, status, code| Case {
        name,
        method: "POST",
        path: "/v1/sync",
        token,
        content_type: ct,
        body,
        status,
        code,
        encoding: None,
    };
    let enroll = |name, ct, body: Vec<u8>, status, code| Case {
        name,
        method: "POST",
        path: "/v1/enroll",
        token: None,
        content_type: ct,
        body,
        status,
        code,
        encoding: None,
    };
    let code_body = |code: &str| enroll_body(code).expect("key").into_bytes();
    // A fresh code for the requests with a bad key: refused before the code is looked
    // at, it stays unused (checked after the table).
    let keyless_code = enrollment_code(&server.data_dir, &["c1"], "volunteer", "测试己", "1h")?;
    let with = |key: &str, actor: &str| {
        serde_json::json!({ "code": keyless_code, "public_key": key, "actor": actor })
            .to_string()
            .into_bytes()
    };
    let good: serde_json::Value = serde_json::from_str(&enroll_body("x")?)?;
    let good_key = good["public_key"].as_str().unwrap_or_default().to_owned();
    let good_actor = good["actor"].as_str().unwrap_or_default().to_owned();
    let cases = vec![
        // Tokens.
        sync("no token", None, cbor, valid.clone(), 401, "token_missing"),
        sync(
            "basic auth",
            Some("\u{0}basic".into()),
            cbor,
            valid.clone(),
            401,
            "token_malformed",
        ),
        sync(
            "empty bearer",
            Some(String::new()),
            cbor,
            valid.clone(),
            401,
            "token_malformed",
        ),
        sync(
            "forged token",
            Some(format!("dst_{}", "ab".repeat(32))),
            cbor,
            valid.clone(),
            401,
            "token_unknown",
        ),
        sync(
            "overlong token",
            Some("x".repeat(300)),
            cbor,
            valid.clone(),
            401,
            "token_malformed",
        ),
        sync(
            "revoked device",
            Some(revoked.token.clone()),
            cbor,
            valid.clone(),
            403,
            "device_revoked",
        ),
        // Media types and bodies.
        sync(
            "JSON content type",
            v(),
            json,
            valid.clone(),
            415,
            "unsupported_media_type",
        ),
        sync(
            "no content type",
            v(),
            None,
            valid.clone(),
            415,
            "unsupported_media_type",
        ),
        sync(
            "text content type",
            v(),
            Some("text/plain"),
            valid.clone(),
            415,
            "unsupported_media_type",
        ),
        sync("empty body", v(), cbor, Vec::new(), 400, "invalid_body"),
        sync(
            "truncated body",
            v(),
            cbor,
            valid[..valid.len() / 2].to_vec(),
            400,
            "invalid_body",
        ),
        sync(
            "corrupted body",
            v(),
            cbor,
            valid.iter().map(|b| b ^ 0x5a).collect(),
            400,
            "invalid_body",
        ),
        sync(
            "JSON in a CBOR body",
            v(),
            cbor,
            b"{\"sync_id\":\"s\"}".to_vec(),
            400,
            "invalid_body",
        ),
        sync(
            "CBOR of another shape",
            v(),
            cbor,
            protocol::to_cbor(&vec![1, 2, 3]),
            400,
            "invalid_body",
        ),
        sync(
            "oversized request",
            v(),
            cbor,
            vec![0u8; 70_000],
            413,
            "request_too_large",
        ),
        // The protocol.
        sync(
            "empty sync id",
            v(),
            cbor,
            shape(&|r| r.sync_id.clear()),
            400,
            "invalid_sync_id",
        ),
        sync(
            "overlong sync id",
            v(),
            cbor,
            shape(&|r| r.sync_id = "s".repeat(65)),
            400,
            "invalid_sync_id",
        ),
        sync(
            "document id not a UUID",
            v(),
            cbor,
            shape(&|r| r.docs[0].doc_id = "resident-1".into()),
            200,
            "invalid_doc_id",
        ),
        sync(
            "document twice",
            v(),
            cbor,
            // The first copy is refused too (not Automerge), so nothing is stored.
            shape(&|r| {
                r.docs[0].changes = vec![ByteBuf::from(b"hello".to_vec())];
                r.docs.push(r.docs[0].clone());
            }),
            200,
            "duplicate_document",
        ),
        sync(
            "unknown kind",
            v(),
            cbor,
            shape(&|r| r.docs[0].kind = "payment".into()),
            200,
            "unknown_kind",
        ),
        sync(
            "no changes",
            v(),
            cbor,
            shape(&|r| r.docs[0].changes.clear()),
            200,
            "no_changes",
        ),
        sync(
            "not Automerge bytes",
            v(),
            cbor,
            shape(&|r| r.docs[0].changes = vec![ByteBuf::from(b"hello".to_vec())]),
            200,
            "invalid_change",
        ),
        sync(
            "truncated change",
            v(),
            cbor,
            shape(&|r| {
                r.docs[0].changes = vec![ByteBuf::from(changes[0][..changes[0].len() - 5].to_vec())]
            }),
            200,
            "invalid_change",
        ),
        sync(
            "corrupted change",
            v(),
            cbor,
            shape(&|r| r.docs[0].changes = vec![ByteBuf::from(flipped.clone())]),
            200,
            "invalid_change",
        ),
        sync(
            "missing dependencies",
            v(),
            cbor,
            shape(&|r| {
                r.docs[0].changes.remove(0);
                r.docs[0].signatures.remove(0);
            }),
            200,
            "missing_dependencies",
        ),
        sync(
            "kind differs from content",
            v(),
            cbor,
            shape(&|r| r.docs[0].kind = "application".into()),
            200,
            "kind_mismatch",
        ),
        sync(
            "kind differs from the stored document",
            v(),
            cbor,
            sync_with(vec![writer.upload(
                &c1_doc,
                "application",
                c1_changes.clone(),
            )]),
            200,
            "kind_mismatch",
        ),
        sync(
            "too many documents",
            v(),
            cbor,
            sync_with(many.clone()),
            413,
            "too_many_documents",
        ),
        sync(
            "document too large",
            v(),
            cbor,
            sync_with(vec![writer.upload(
                &big_doc,
                "resident",
                big_changes.clone(),
            )]),
            200,
            "document_too_large",
        ),
        sync(
            "another committee's document",
            Some(other.clone()),
            cbor,
            sync_with(vec![writer.upload(&c1_doc, "resident", c1_changes.clone())]),
            200,
            "cross_committee",
        ),
        sync(
            "naming a committee not one's own",
            v(),
            cbor,
            sync_with(vec![named.clone()]),
            200,
            "committee_forbidden",
        ),
        sync(
            "new document, several committees, none named",
            Some(supervisor.clone()),
            cbor,
            // Past everything stored: the answer carries nothing, and logs nothing.
            shape(&|r| r.cursor = 1 << 40),
            200,
            "committee_required",
        ),
        // Enrollment.
        enroll(
            "unknown code",
            json,
            code_body("AAAA-BBBB-CCCC"),
            404,
            "enrollment_unknown",
        ),
        enroll(
            "replayed code",
            json,
            code_body(&used_code),
            409,
            "enrollment_used",
        ),
        enroll(
            "expired code",
            json,
            code_body(&expired_code),
            410,
            "enrollment_expired",
        ),
        enroll(
            "malformed enrollment JSON",
            json,
            b"{\"code\":".to_vec(),
            400,
            "invalid_body",
        ),
        enroll(
            "enrollment without a public key",
            json,
            serde_json::json!({ "code": keyless_code })
                .to_string()
                .into_bytes(),
            400,
            "public_key_invalid",
        ),
        enroll(
            "enrollment with a key too short",
            json,
            with(&good_key[..62], &good_actor),
            400,
            "public_key_invalid",
        ),
        enroll(
            "enrollment with a weak (small-order) key",
            json,
            with(
                "0100000000000000000000000000000000000000000000000000000000000000",
                &good_actor,
            ),
            400,
            "public_key_invalid",
        ),
        enroll(
            "enrollment with a key that is not hex",
            json,
            with(&"zz".repeat(32), &good_actor),
            400,
            "public_key_invalid",
        ),
        enroll(
            "enrollment signed by another key than it names",
            json,
            {
                let mut body: serde_json::Value =
                    serde_json::from_str(&enroll_body(&keyless_code)?)?;
                body["public_key"] = serde_json::Value::String(good_key.clone());
                body.to_string().into_bytes()
            },
            400,
            "signature_invalid",
        ),
        enroll(
            "enrollment without an actor",
            json,
            with(&good_key, ""),
            400,
            "actor_invalid",
        ),
        enroll(
            "enrollment with an actor too long",
            json,
            with(&good_key, &"ab".repeat(33)),
            400,
            "actor_invalid",
        ),
        enroll(
            "enrollment without a code field",
            json,
            b"{}".to_vec(),
            400,
            "invalid_body",
        ),
        enroll(
            "enrollment as CBOR",
            cbor,
            code_body("X"),
            415,
            "unsupported_media_type",
        ),
        enroll(
            "oversized enrollment",
            json,
            vec![b' '; 70_000],
            413,
            "request_too_large",
        ),
        // The log.
        Case {
            name: "volunteer reads the log",
            method: "GET",
            path: "/v1/log",
            token: v(),
            content_type: None,
            body: Vec::new(),
            status: 403,
            code: "role_forbidden",
            encoding: None,
        },
        Case {
            name: "log of a foreign committee",
            method: "GET",
            path: "/v1/log?committee=c9",
            token: Some(supervisor.clone()),
            content_type: None,
            body: Vec::new(),
            status: 403,
            code: "committee_forbidden",
            encoding: None,
        },
        Case {
            name: "log with a bad filter",
            method: "GET",
            path: "/v1/log?limit=many",
            token: Some(supervisor.clone()),
            content_type: None,
            body: Vec::new(),
            status: 400,
            code: "invalid_query",
            encoding: None,
        },
        Case {
            name: "log without token",
            method: "GET",
            path: "/v1/log",
            token: None,
            content_type: None,
            body: Vec::new(),
            status: 401,
            code: "token_missing",
            encoding: None,
        },
        // Paths and methods.
        Case {
            name: "unknown path",
            method: "GET",
            path: "/v2/sync",
            token: None,
            content_type: None,
            body: Vec::new(),
            status: 404,
            code: "no_such_endpoint",
            encoding: None,
        },
        Case {
            name: "GET on sync",
            method: "GET",
            path: "/v1/sync",
            token: v(),
            content_type: None,
            body: Vec::new(),
            status: 405,
            code: "method_not_allowed",
            encoding: None,
        },
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let distinct: std::collections::HashSet<&str> = cases.iter().map(|c| c.name).collect();
    assert_eq!(distinct.len(), cases.len(), "case names repeat");
    for case in &cases {
        assert!(
            protocol::ERROR_CODES.contains(&case.code),
            "{}: {} is not a documented code",
            case.name,
            case.code
        );
    }
    let client = doorstep_tests::raw_client();
    let mut failures = Vec::new();
    for case in &cases {
        let mut request = match case.method {
            "GET" => client.get(server.url(case.path)),
            _ => client.post(server.url(case.path)),
        };
        if let Some(token) = &case.token {
            request = match token.strip_prefix('\u{0}') {
                Some(rest) => request.header("authorization", format!("Basic {rest}")),
                // Signed as the device holding the token signs (over the body as the
                // server decodes it), so that each case meets the check it is about.
                None => {
                    let decoded = match case.encoding {
                        Some("deflate") => protocol::inflate(&case.body, 64 << 20)
                            .unwrap_or_else(|_| case.body.clone()),
                        _ => case.body.clone(),
                    };
                    request.sign_as(token, case.method, case.path, &decoded)
                }
            };
        }
        if let Some(ct) = case.content_type {
            request = request.header("content-type", ct);
        }
        if let Some(encoding) = case.encoding {
            request = request.header("content-encoding", encoding);
        }
        let response = match request.body(case.body.clone()).send() {
            Ok(response) => response,
            Err(e) => {
                failures.push(format!("{}: no answer: {e:?}", case.name));
                continue;
            }
        };
        let status = response.status().as_u16();
        let bytes = response.bytes()?;
        // A request refused whole answers a JSON error; a sync whose documents are
        // refused one by one answers 200 with each refusal (and takes none of them).
        let (code, message) = if status == 200 {
            match protocol::from_cbor::<SyncResponse>(&bytes) {
                Ok(answer) if answer.accepted == 0 => answer
                    .refused
                    .iter()
                    .find(|r| r.code == case.code)
                    .or(answer.refused.first())
                    .map(|r| (r.code.clone(), r.message.clone()))
                    .unwrap_or_else(|| ("<none>".into(), String::new())),
                Ok(_) => ("<accepted>".into(), String::new()),
                Err(_) => ("<not a sync answer>".into(), String::new()),
            }
        } else {
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            (
                body["code"].as_str().unwrap_or("<none>").to_owned(),
                body["message"].as_str().unwrap_or_default().to_owned(),
            )
        };
        if status != case.status || code != case.code {
            failures.push(format!(
                "{}: got {status} {code}, want {} {}",
                case.name, case.status, case.code
            ));
        }
        assert!(!message.is_empty(), "{}: no message", case.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Nothing was stored by any of them (the refused enrollments made no device).
    assert_eq!(counts(&server)?, before);
    // A code sent with a bad key was not used up: with a good key it enrolls.
    enroll_raw(&server, &keyless_code)?;
    // And the server still serves.
    let health = client.get(server.url("/healthz")).send()?;
    assert_eq!(health.status(), 200);
    let ok = client
        .post(server.url("/v1/sync"))
        .sign_as(&volunteer, "POST", "/v1/sync", &valid)
        .header("content-type", protocol::CBOR)
        .body(valid)
        .send()?;
    assert_eq!(ok.status(), 200);
    Ok(())
}
