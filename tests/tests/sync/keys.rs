//! Device keys against a real server: enrollment binds the device's Ed25519 public key
//! and its Automerge actor to its identity, and an actor belongs to one key for good.

use doorstep_device::Device;
use doorstep_device::secret::{DeviceKey, signing_key};
use doorstep_tests::fleet::{
    TestDevice, committee, enroll_body, enrollment_code, mock_keyring, server_db,
    signed_enroll_body,
};
use doorstep_tests::{ServerProcess, admin};

/// Posts an enrollment request `body` over raw HTTP: status and code.
fn post_enroll(server: &ServerProcess, body: String) -> anyhow::Result<(u16, String)> {
    let response = doorstep_tests::raw_client()
        .post(server.url("/v1/enroll"))
        .header("content-type", "application/json")
        .body(body)
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
    let stranger = signing_key(other_dir.path(), "")?;
    assert_eq!(
        post_enroll(&server, signed_enroll_body(&code, &stranger, &actor))?,
        (409, "actor_taken".to_owned())
    );
    // Naming the tablet's own public key does not help without its private key: the
    // signature, made with another key, is refused.
    let forged = {
        let mut body: serde_json::Value =
            serde_json::from_str(&signed_enroll_body(&code, &stranger, &actor))?;
        body["public_key"] = serde_json::Value::String(key.to_hex());
        body.to_string()
    };
    assert_eq!(
        post_enroll(&server, forged)?,
        (400, "signature_invalid".to_owned())
    );
    assert_eq!(
        post_enroll(&server, enroll_body(&code)?)?.0,
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
        post_enroll(&server, signed_enroll_body(&code, &stranger, &actor))?,
        (409, "actor_taken".to_owned())
    );
    // A key never seen before, signing for itself, is no better.
    let fresh = DeviceKey::generate()?;
    assert_eq!(
        post_enroll(&server, signed_enroll_body(&code, &fresh, &actor))?,
        (409, "actor_taken".to_owned())
    );
    // The tablet itself, found again and enrolled anew, keeps its key and actor.
    let mut reopened = reopened;
    let text = doorstep_core::server_identity::EnrollText {
        server: Some(server.base_url()),
        server_key: Some(
            doorstep_tests::fleet::ServerDb::open(&server.data_dir)?.server_key_pin()?,
        ),
        code,
    };
    reopened.enroll(&text, "测试平板")?;
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

#[test]
fn a_supervisors_tablet_checks_the_key_the_server_holds_for_it() -> anyhow::Result<()> {
    mock_keyring();
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let sup = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let mine = sup.device.public_key()?.fingerprint();
    let views = sup.device.enrolled_device_views()?;
    let me = views
        .iter()
        .find(|v| v.this_device)
        .ok_or_else(|| anyhow::anyhow!("this device is listed"))?;
    assert_eq!(me.info.key_fingerprint, mine);
    assert!(me.key_matches);

    // The server's record is changed behind the tablet's back: the server no longer
    // takes the tablet's signed requests, and the tablet says why.
    let other = DeviceKey::generate()?.public().to_hex();
    server_db(&server.data_dir)?.execute(&format!(
        "UPDATE devices SET public_key = '{other}' WHERE role = 'supervisor'"
    ))?;
    let e = sup
        .device
        .enrolled_device_views()
        .expect_err("a key the tablet does not hold went unnoticed");
    assert_eq!(
        e.code(),
        doorstep_device::ErrorCode::RequestSignatureInvalid
    );
    Ok(())
}

#[test]
fn changes_saved_before_signing_are_signed_as_they_go_up_and_others_read_them() -> anyhow::Result<()>
{
    use doorstep_core::id_number::IdNumber;
    use doorstep_core::resident::ResidentInput;
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    let id = a
        .device
        .register_resident(&ResidentInput {
            name: "测试老人".into(),
            id_number: IdNumber::complete("11010119400101001").expect("17 digits"),
            ..ResidentInput::default()
        })?
        .id;
    // As a tablet updated from a build that did not sign: its saved change has none.
    let key = doorstep_device::secret::load_or_create(a.dir.path(), true)?;
    let raw = doorstep_device::store::Store::open(
        &a.dir.path().join(doorstep_device::DATABASE_FILE),
        &key,
    )?;
    // Its signature is kept in its chunk's row until the chunk is compacted.
    let removed = raw.conn().execute("DELETE FROM signatures", [])?
        + raw.conn().execute(
            "UPDATE chunks SET signatures = NULL WHERE signatures IS NOT NULL",
            [],
        )?;
    assert_eq!(removed, 1);
    drop(raw);
    let up = a.sync(&server)?;
    assert!(up.refused.is_empty(), "{:?}", up.refused);
    assert_eq!(up.accepted_changes, 1);
    b.sync(&server)?;
    assert_eq!(b.device.resident(&id)?.name, "测试老人");
    Ok(())
}
