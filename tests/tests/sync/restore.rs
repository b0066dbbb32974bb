//! The server's database restored from a backup taken before some syncs: the devices
//! notice (a device's cursor is past every change the database holds, so the server
//! takes a new epoch), send everything they hold again, and every acknowledged change is
//! on the server once more. SQLite only: the files are copied as an operator's backup.

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::{ResidentInput, ResidentPatch};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, server_db};

fn resident(n: u32) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁"][n as usize % 4]),
        id_number: IdNumber::complete(&format!("320106195202{n:02}{n:03}")).expect("17 digits"),
        ..ResidentInput::default()
    }
}

/// The server's database files (the SQLite file and its write-ahead log).
fn database_files(dir: &std::path::Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    Ok(std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("server.sqlite3"))
        })
        .collect())
}

#[test]
fn a_server_restored_from_an_older_backup_gets_every_acknowledged_change_back() -> anyhow::Result<()>
{
    if doorstep_tests::process::postgres_backend() {
        return Ok(()); // The backup is a copy of SQLite's files.
    }
    let dir = tempfile::tempdir()?;
    let backup = tempfile::tempdir()?;
    let mut server = ServerProcess::start_on(dir.path(), &[])?;
    let addr = server.addr;
    committee(&server, "r1")?;
    let mut a = TestDevice::enrolled(&server, "r1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "r1", "volunteer", "测试志愿者乙")?;
    let first = a.device.register_resident(&resident(1))?.id;
    a.sync(&server)?;
    b.sync(&server)?;

    // The nightly backup, taken with the server stopped.
    server.kill();
    for file in database_files(dir.path())? {
        std::fs::copy(&file, backup.path().join(file.file_name().expect("a name")))?;
    }
    let mut server = ServerProcess::start_at(dir.path(), addr, &[])?;
    // A day of work after it: all acknowledged by the server.
    let second = a.device.register_resident(&resident(2))?.id;
    a.sync(&server)?;
    let third = b.device.register_resident(&resident(3))?.id;
    let edit = ResidentPatch {
        phone: Some("13900002222".into()),
        ..ResidentPatch::default()
    };
    b.device.update_resident(&first, edit)?;
    b.sync(&server)?;
    a.sync(&server)?;
    assert_eq!(a.device.sync_status()?.pending_docs, 0);
    assert_eq!(b.device.sync_status()?.pending_docs, 0);

    // The disk is lost; the operator restores last night's backup.
    server.kill();
    for file in database_files(dir.path())? {
        std::fs::remove_file(file)?;
    }
    for file in database_files(backup.path())? {
        std::fs::copy(&file, dir.path().join(file.file_name().expect("a name")))?;
    }
    let server = ServerProcess::start_at(dir.path(), addr, &[])?;
    assert_eq!(server_db(dir.path())?.int("SELECT count(*) FROM docs")?, 1);

    // Each device notices at its next sync that the log lost entries whose checkpoint it
    // held: it stops and keeps the evidence. Told of the restore, a person lets it go on,
    // and it sends everything again.
    for device in [&mut a, &mut b] {
        let stopped = device.sync(&server).expect_err("the log lost entries");
        assert_eq!(
            stopped
                .downcast_ref::<doorstep_device::DeviceError>()
                .map(doorstep_device::DeviceError::code),
            Some(doorstep_core::ErrorCode::ServerLogUntrusted),
            "{stopped}"
        );
        assert_eq!(device.device.log_evidence()?.len(), 1);
        device.device.accept_server_log()?;
    }
    let report = b.sync(&server)?;
    assert!(report.resent_after_restore, "{report:?}");
    let report = a.sync(&server)?;
    assert!(report.resent_after_restore, "{report:?}");
    b.sync(&server)?;
    assert_eq!(server_db(dir.path())?.int("SELECT count(*) FROM docs")?, 3);

    // A device enrolled afterwards gets all of it, as last written.
    let mut c = TestDevice::enrolled(&server, "r1", "volunteer", "测试志愿者丙")?;
    c.sync(&server)?;
    for id in [&first, &second, &third] {
        assert!(c.device.resident(id).is_ok(), "{id} came back");
    }
    assert_eq!(c.device.resident(&first)?.phone, "13900002222");
    // And nothing is sent again once everyone has.
    assert!(!a.sync(&server)?.resent_after_restore);
    let verdict = server.admin(&["log", "verify"])?;
    assert!(verdict.contains("every chain intact"), "{verdict}");
    Ok(())
}

#[test]
fn an_operator_who_restored_a_database_tells_the_devices_to_send_again() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "r2")?;
    let mut a = TestDevice::enrolled(&server, "r2", "volunteer", "测试志愿者甲")?;
    a.device.register_resident(&resident(4))?;
    a.device.register_resident(&resident(5))?;
    a.sync(&server)?;
    assert_eq!(a.sync(&server)?.sent_docs, 0);
    let said = server.admin(&["restored"])?;
    assert!(said.contains("new epoch"), "{said}");
    let report = a.sync(&server)?;
    assert!(report.resent_after_restore);
    assert_eq!(report.sent_docs, 2);
    assert_eq!(a.device.sync_status()?.pending_docs, 0);
    Ok(())
}
