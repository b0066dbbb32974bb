//! The channel to the server: HTTPS by default, and a device that talks only to the
//! server whose key its enrollment text pinned. A man in the middle on loopback with
//! his own certificate, one replaying the server's binding, and one showing a
//! certificate the server rotated away from are each refused before the device sends
//! anything; a rotation the server's key binds is followed without enrolling again.

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::server_identity::EnrollText;
use doorstep_device::{Device, DeviceError, ErrorCode, HttpTransport};
use doorstep_tests::fleet::{TestDevice, committee, enrollment_text, mock_keyring, server_db};
use doorstep_tests::{ServerProcess, workspace_binary};

fn resident(n: u32) -> ResidentInput {
    ResidentInput {
        name: format!("测试{n}"),
        id_number: IdNumber::complete(&format!("11010119400101{n:03}")).expect("17 digits"),
        ..ResidentInput::default()
    }
}

fn pending(device: &Device) -> anyhow::Result<u64> {
    Ok(device.sync_status()?.pending_docs)
}

fn refused_as_not_our_server(outcome: anyhow::Result<doorstep_device::SyncReport>) {
    let e = outcome.expect_err("a server that is not this device's");
    let code = e
        .downcast_ref::<DeviceError>()
        .map(DeviceError::code)
        .unwrap_or_else(|| panic!("not a device error: {e}"));
    assert_eq!(code, ErrorCode::ServerIdentity, "{e}");
}

#[test]
fn a_device_talks_only_to_the_server_its_key_pins_and_follows_a_rotation() -> anyhow::Result<()> {
    mock_keyring();
    let mut server = ServerProcess::start()?;
    let (addr, data) = (server.addr, server.data_dir.clone());
    committee(&server, "c1")?;
    let mut tablet = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者")?;
    tablet.device.register_resident(&resident(1))?;
    tablet.sync(&server)?;
    let first = tablet
        .device
        .enrollment()?
        .and_then(|e| e.server_trust)
        .expect("trust");
    assert_eq!(first.serial, 1);
    let genuine = server_db(&data)?.tls_current()?;
    assert_eq!(
        first.tls_pin.as_deref(),
        Some(genuine.binding.tls_pin.as_str())
    );
    server.kill();

    // A man in the middle: another server (its own key and certificate) at the address.
    tablet.device.register_resident(&resident(2))?;
    {
        let impostor_data = tempfile::tempdir()?;
        let impostor = ServerProcess::start_at(impostor_data.path(), addr, &[])?;
        refused_as_not_our_server(tablet.sync(&impostor));
        assert_eq!(pending(&tablet.device)?, 1, "the work stays on the tablet");
        let mut seen = server_db(&impostor.data_dir)?;
        assert_eq!(
            seen.int("SELECT count(*) FROM syncs")?,
            0,
            "nothing reached it"
        );
        assert_eq!(seen.int("SELECT count(*) FROM changes")?, 0);
    }

    // The server's own binding replayed by a server presenting another certificate.
    let forged = doorstep_server::tls::make_certificate()?;
    server_db(&data)?.put_tls(
        &forged.cert_pem,
        &forged.key_pem,
        &genuine.binding.tls_pin,
        genuine.binding.serial,
    )?;
    {
        let replaying = ServerProcess::start_at(&data, addr, &[])?;
        refused_as_not_our_server(tablet.sync(&replaying));
        assert_eq!(pending(&tablet.device)?, 1);
    }
    let g = &genuine;
    server_db(&data)?.put_tls(
        &g.cert_pem,
        &g.key_pem,
        &g.binding.tls_pin,
        g.binding.serial,
    )?;

    // A rotation: the server's key binds the new certificate, and the tablet moves to it
    // at its next sync, with no new enrollment.
    let said = server.admin(&["tls", "rotate"])?;
    assert!(said.contains("certificate serial: 2"), "{said}");
    let rotated = server_db(&data)?.tls_current()?;
    assert_ne!(rotated.binding.tls_pin, genuine.binding.tls_pin);
    {
        let restarted = ServerProcess::start_at(&data, addr, &[])?;
        tablet.sync(&restarted)?;
        assert_eq!(pending(&tablet.device)?, 0, "the waiting record went up");
    }
    let moved = tablet
        .device
        .enrollment()?
        .and_then(|e| e.server_trust)
        .expect("trust");
    assert_eq!(moved.serial, 2);
    assert_eq!(
        moved.tls_pin.as_deref(),
        Some(rotated.binding.tls_pin.as_str())
    );

    // The old certificate shown again (by whoever kept its key): its binding is older than
    // the one the tablet saw, and it is refused.
    tablet.device.register_resident(&resident(3))?;
    server_db(&data)?.put_tls(
        &g.cert_pem,
        &g.key_pem,
        &g.binding.tls_pin,
        g.binding.serial,
    )?;
    {
        let stale = ServerProcess::start_at(&data, addr, &[])?;
        refused_as_not_our_server(tablet.sync(&stale));
    }
    let r = &rotated;
    server_db(&data)?.put_tls(
        &r.cert_pem,
        &r.key_pem,
        &r.binding.tls_pin,
        r.binding.serial,
    )?;
    let back = ServerProcess::start_at(&data, addr, &[])?;
    tablet.sync(&back)?;
    assert_eq!(pending(&tablet.device)?, 0);
    Ok(())
}

#[test]
fn enrolling_checks_the_servers_key_against_the_text() -> anyhow::Result<()> {
    mock_keyring();
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let text = enrollment_text(&server, &["c1"], "volunteer", "测试志愿者", "1h")?;
    assert!(text.server_key.is_some(), "the text pins the server's key");

    // Another server's key in the text: refused, and the code is not spent.
    let other = ServerProcess::start()?;
    let wrong = EnrollText {
        server_key: Some(server_db(&other.data_dir)?.server_key_pin()?),
        ..text.clone()
    };
    let dir = tempfile::tempdir()?;
    let mut device = Device::open(dir.path())?;
    let e = device
        .enroll(&wrong, "测试平板")
        .expect_err("another server's key");
    assert_eq!(e.code(), ErrorCode::ServerIdentity, "{e}");
    assert!(device.enrollment()?.is_none());

    // A bare code over HTTPS has nothing to check the server by.
    let bare = EnrollText::from_form(&server.base_url(), &text.code)?;
    let e = device.enroll(&bare, "测试平板").expect_err("no key to pin");
    assert_eq!(e.code(), ErrorCode::ServerKeyMissing, "{e}");

    // Plain HTTP reaches this machine only.
    let e = HttpTransport::new("http://192.0.2.7:8787", None).expect_err("plain HTTP away");
    assert_eq!(e.code(), ErrorCode::PlainHttpRemote);

    // The whole text, pasted into the code box, enrolls.
    let pasted = EnrollText::from_form("", &text.to_text())?;
    let enrolled = device.enroll(&pasted, "测试平板")?;
    assert_eq!(enrolled.server_url, server.base_url());
    assert!(enrolled.server_trust.and_then(|t| t.tls_pin).is_some());
    device.sync_now()?;
    Ok(())
}

#[test]
fn an_operators_certificate_is_kept_and_another_one_needs_a_rotation() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let own = doorstep_server::tls::make_certificate()?;
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, &own.cert_pem)?;
    std::fs::write(&key, &own.key_pem)?;
    let data = tempfile::tempdir()?;
    let (cert_arg, key_arg) = (cert.to_string_lossy(), key.to_string_lossy());
    let server = ServerProcess::start_on(
        data.path(),
        &["--tls-cert", &cert_arg, "--tls-key", &key_arg],
    )?;
    let shown = server.admin(&["tls", "show"])?;
    assert!(shown.contains(&own.pin), "{shown}");
    drop(server);

    let serve = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        let mut command = std::process::Command::new(workspace_binary("doorstep-server")?);
        command
            .args(["serve", "--listen"])
            .args(args)
            .env("DOORSTEP_SERVER_DATA", data.path())
            .env("RUST_LOG", "warn");
        if let Some(url) = doorstep_tests::process::database_for(data.path())? {
            command.env("DOORSTEP_DATABASE", url);
        }
        Ok(command.output()?)
    };
    // Another certificate would strand every enrolled device: refused, with the way out.
    let other = doorstep_server::tls::make_certificate()?;
    std::fs::write(&cert, &other.cert_pem)?;
    std::fs::write(&key, &other.key_pem)?;
    let out = serve(&[
        "127.0.0.1:0",
        "--tls-cert",
        &cert_arg,
        "--tls-key",
        &key_arg,
    ])?;
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("tls rotate"), "{said}");

    // Plain HTTP is for this machine only.
    let out = serve(&["0.0.0.0:0", "--plain-http"])?;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--plain-http serves this machine only"));
    Ok(())
}
