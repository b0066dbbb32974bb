//! Device keys against a real server: enrollment binds the device's Ed25519 public key
//! and its Automerge actor to its identity, and an actor belongs to one key for good.

use doorstep_device::Device;
use doorstep_tests::fleet::{TestDevice, committee, enroll_body, enrollment_code, mock_keyring};
use doorstep_tests::{ServerProcess, admin};

/// Enrolls `code` over raw HTTP with `key` (hex) and `actor` (hex): status and code.
fn enroll_as(
    server: &ServerProcess,
    code: &str,
    key: &str,
    actor: &str,
) -> anyhow::Result<(u16, String)> {
    let response = reqwest::blocking::Client::new()
        .post(server.url("/v1/enroll"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "code": code, "public_key": key, "actor": actor }).to_string())
        .send()?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().unwrap_or_default();
    Ok((status, body["code"].as_str().unwrap_or_default().to_owned()))
}

#[test]
fn enrollment_binds_the_devices_key_and_actor_and_no_other_key_may_claim_the_actor()
-> anyhow::Result<()> {
    mock_keyring();
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者")?;
    let key = tablet.device.public_key()?;

    // The key is the device's own and stays with it: reopened, it is the same.
    let data = tablet.dir.path().to_owned();
    let actor = tablet.device.actor_hex();
    drop(tablet.device);
    let reopened = Device::open(&data)?;
    assert_eq!(reopened.public_key()?, key);
    assert_eq!(reopened.actor_hex(), actor);
    // Another device's key is another key.
    let other_dir = tempfile::tempdir()?;
    let other = Device::open(other_dir.path())?;
    assert_ne!(other.public_key()?, key);

    // The server lists the device with its key's fingerprint, as the tablet computes it.
    let listed = admin(&server.data_dir, &["device", "list"])?;
    assert!(
        listed.lines().any(|l| l.ends_with(&key.fingerprint())),
        "device list: {listed}"
    );

    // Another key claiming the tablet's actor is refused, and the code stays usable.
    let code = enrollment_code(&server.data_dir, &["c1"], "volunteer", "测试乙", "1h")?;
    let stranger = other.public_key()?.to_hex();
    assert_eq!(
        enroll_as(&server, &code, &stranger, &actor)?,
        (409, "actor_taken".to_owned())
    );
    let body: serde_json::Value = serde_json::from_str(&enroll_body(&code)?)?;
    assert_eq!(
        enroll_as(
            &server,
            &code,
            body["public_key"].as_str().unwrap_or_default(),
            body["actor"].as_str().unwrap_or_default()
        )?
        .0,
        200,
        "a fresh actor enrolls with the same code"
    );

    // Even once the tablet is revoked, its actor stays its key's.
    let device_id = listed
        .lines()
        .find(|l| l.ends_with(&key.fingerprint()))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_default()
        .to_owned();
    admin(&server.data_dir, &["device", "revoke", &device_id])?;
    let code = enrollment_code(&server.data_dir, &["c1"], "volunteer", "测试丙", "1h")?;
    assert_eq!(
        enroll_as(&server, &code, &stranger, &actor)?,
        (409, "actor_taken".to_owned())
    );
    // The tablet itself, found again and enrolled anew, keeps its key and actor.
    let mut reopened = reopened;
    reopened.enroll(&server.base_url(), &code, "测试平板")?;
    let listed = admin(&server.data_dir, &["device", "list"])?;
    assert_eq!(
        listed
            .lines()
            .filter(|l| l.ends_with(&key.fingerprint()))
            .count(),
        2,
        "revoked and enrolled again: {listed}"
    );
    Ok(())
}
