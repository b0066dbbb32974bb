//! A token that can be lost: every request a device makes is signed with its key, so a
//! token copied off a tablet (from a backup of its keyring, a log, a shoulder) is worth
//! nothing alone; a signed request sent again, or under another body, or signed by
//! another device's key, is refused too. Nothing is read or written for any of them.

use std::process::Command;

use doorstep_core::protocol::{self, COUNTER_HEADER, SIGNATURE_HEADER, SyncRequest};
use doorstep_device::sync::{RequestAuth, RequestSigner};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, server_db};
use doorstep_tests::principal::Principal;
use zeroize::Zeroizing;

/// A sync that asks for every record of the committee.
fn read_all() -> Vec<u8> {
    protocol::to_cbor(&SyncRequest {
        key_roster: String::new(),
        log_held: Vec::new(),
        log_seen: Vec::new(),
        log_audit: Vec::new(),
        sync_id: uuid::Uuid::new_v4().to_string(),
        cursor: 0,
        volunteer: String::new(),
        docs: Vec::new(),
    })
}

/// `curl` in a process of its own, holding nothing but the token: status and code.
fn curl(
    server: &ServerProcess,
    token: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, String) {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), body).expect("body");
    let out = Command::new("curl")
        .args(["-ksS", "-X", method, "-w", "\n%{http_code}"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", &format!("content-type: {}", protocol::CBOR)])
        .arg("--data-binary")
        .arg(format!("@{}", file.path().display()))
        .arg(server.url(path))
        .output()
        .expect("curl runs (scripts/install-deps.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    let code = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (status.trim().parse().unwrap_or(0), code)
}

fn send(
    server: &ServerProcess,
    auth: &RequestAuth,
    body: Vec<u8>,
) -> anyhow::Result<(u16, String, Option<String>)> {
    let response = doorstep_tests::raw_client()
        .post(server.url("/v1/sync"))
        .bearer_auth(auth.token.as_str())
        .header(COUNTER_HEADER, auth.counter.to_string())
        .header(SIGNATURE_HEADER, auth.signature.as_str())
        .header("content-type", protocol::CBOR)
        .body(body)
        .send()?;
    let status = response.status().as_u16();
    let last = response
        .headers()
        .get(COUNTER_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let code = serde_json::from_slice::<serde_json::Value>(&response.bytes()?)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok((status, code, last))
}

#[test]
fn a_captured_token_alone_reads_and_writes_nothing() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者")?;
    tablet
        .device
        .register_resident(&doorstep_core::resident::ResidentInput {
            name: "测试老人".into(),
            id_number: doorstep_core::id_number::IdNumber::complete("11010119400101001")
                .expect("17 digits"),
            ..Default::default()
        })?;
    tablet.sync(&server)?;
    let owner = Principal::new(&server, &["c1"], "volunteer")?;
    let other = Principal::new(&server, &["c1"], "volunteer")?;
    let counts = || -> anyhow::Result<(i64, i64)> {
        let mut db = server_db(&server.data_dir)?;
        Ok((
            db.int("SELECT count(*) FROM changes")?,
            db.int("SELECT count(*) FROM log")?,
        ))
    };
    let before = counts()?;

    // The token alone, from another process: every route that reads or writes refuses.
    let body = owner.new_resident_sync();
    for (method, path, body) in [
        ("POST", "/v1/sync", body.clone()),
        ("POST", "/v1/sync", read_all()),
        ("GET", "/v1/log", Vec::new()),
        ("GET", "/v1/chain", Vec::new()),
        ("GET", &format!("/v1/blobs/{}", "ab".repeat(32)), Vec::new()),
        (
            "GET",
            &format!("/v1/blobs/{}/status", "ab".repeat(32)),
            Vec::new(),
        ),
    ] {
        let (status, code) = curl(&server, owner.token(), method, path, &body);
        assert_eq!(
            (status, code.as_str()),
            (401, "request_unsigned"),
            "{method} {path}"
        );
    }
    assert_eq!(counts()?, before, "nothing stored, nothing logged");

    // Signed by another device's key: refused.
    let stolen = RequestSigner::new(
        Zeroizing::new(owner.token().to_owned()),
        std::sync::Arc::clone(&other.key),
    );
    let (status, code, _) = send(
        &server,
        &stolen.sign("POST", "/v1/sync", &body),
        body.clone(),
    )?;
    assert_eq!((status, code.as_str()), (401, "request_signature_invalid"));

    // A signed request whose body was swapped on the way: refused.
    let signer = RequestSigner::new(
        Zeroizing::new(owner.token().to_owned()),
        std::sync::Arc::clone(&owner.key),
    );
    let auth = signer.sign("POST", "/v1/sync", &body);
    let (status, code, _) = send(&server, &auth, owner.new_resident_sync())?;
    assert_eq!((status, code.as_str()), (401, "request_signature_invalid"));
    assert_eq!(counts()?, before);

    // Signed as its device signs it: taken. Sent again as it was: refused, and the server
    // says the last counter it took, so that the device signs above it.
    let (status, _, _) = send(&server, &auth, body.clone())?;
    assert_eq!(status, 200);
    let taken = counts()?;
    assert!(taken.0 > before.0, "the signed upload went in");
    let (status, code, last) = send(&server, &auth, body)?;
    assert_eq!((status, code.as_str()), (401, "request_replayed"));
    assert_eq!(last, Some(auth.counter.to_string()));
    assert_eq!(counts()?, taken, "the replay stored and logged nothing");

    // The tablet itself goes on syncing.
    tablet.sync(&server)?;
    Ok(())
}
