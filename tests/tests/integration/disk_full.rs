//! The server's disk fills up: a sync is answered 507 `storage_full` (with Retry-After),
//! nothing of it is stored, the server keeps serving, and once space is freed the same
//! records go up. The data folder is a small tmpfs of the test's own (mounting needs
//! root, as CI runs; the test says so otherwise).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::DeviceError;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, server_db};

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, size: &str) -> anyhow::Result<SmallDisk> {
        std::fs::create_dir_all(at)?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .context("running mount")?;
        anyhow::ensure!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(SmallDisk(at.to_owned()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the disk at `dir` but for nothing: returns the filler's path.
fn fill(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path)?;
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    Ok(path)
}

fn resident(n: usize) -> ResidentInput {
    ResidentInput {
        name: "测试甲".into(),
        id_number: IdNumber::complete(&format!("32010619500101{n:03}")).expect("17 digits"),
        address: format!("测试村{n}组"),
        ..ResidentInput::default()
    }
}

#[test]
fn a_full_disk_answers_507_stores_nothing_and_recovers_when_space_returns() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let disk = SmallDisk::mount(&root.path().join("data"), "8m")?;
    let server = ServerProcess::start_on(&disk.0, &[])?;
    committee(&server, "d1")?;
    let mut device = TestDevice::enrolled(&server, "d1", "volunteer", "测试志愿者甲")?;
    device.device.register_resident(&resident(1))?;
    device.sync(&server)?;
    let docs = |server: &ServerProcess| -> anyhow::Result<i64> {
        server_db(&server.data_dir)?.int("SELECT count(*) FROM docs")
    };
    assert_eq!(docs(&server)?, 1);

    let filler = fill(&disk.0)?;
    for n in 2..40 {
        device.device.register_resident(&resident(n))?;
    }
    let refused = device.sync(&server).expect_err("the disk is full");
    let refused = refused
        .downcast_ref::<DeviceError>()
        .context("a device error")?;
    assert!(
        matches!(refused, DeviceError::Server { status: 507, code, .. } if code == "storage_full"),
        "{refused}"
    );
    assert_eq!(
        device.device.sync_status()?.pending_docs,
        38,
        "nothing lost here"
    );
    // The server still answers, and says when to come back.
    let client = doorstep_tests::raw_client();
    assert_eq!(client.get(server.url("/healthz")).send()?.status(), 200);

    // Space comes back: nothing of the refused sync was stored, and now all of it is.
    std::fs::remove_file(filler)?;
    assert_eq!(docs(&server)?, 1, "nothing partial");
    device.sync(&server)?;
    assert_eq!(docs(&server)?, 39);
    assert_eq!(device.device.sync_status()?.pending_docs, 0);
    let verdict = server.admin(&["log", "verify"])?;
    assert!(verdict.contains("every chain intact"), "{verdict}");
    drop(server);
    Ok(())
}

/// A tablet's data folder (a 4 MB tmpfs of the test's own) fills up, then turns
/// read-only: each save is refused with a clear error, every save acknowledged before is
/// there, and saving goes on once the fault clears.
#[test]
fn a_tablets_full_or_read_only_disk_is_a_clear_error_loses_nothing_and_recovers()
-> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let disk = SmallDisk::mount(&root.path().join("tablet"), "4m")?;
    doorstep_tests::fleet::mock_keyring();
    let mut device = doorstep_device::Device::open(&disk.0)?;
    let mut saved = Vec::new();
    for n in 0..5 {
        saved.push(device.register_resident(&resident(n))?.id);
    }
    let filler = fill(&disk.0)?;
    // Saves until the disk refuses one (the WAL may still hold a little).
    let mut refused = None;
    for n in 5..400 {
        match device.register_resident(&resident(n)) {
            Ok(r) => saved.push(r.id),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.context("the full disk refused a save")?;
    assert_eq!(refused.code(), "disk_full", "{refused}");
    for id in &saved {
        device.resident(id)?;
    }
    std::fs::remove_file(&filler)?;
    saved.push(device.register_resident(&resident(400))?.id);

    // The card comes back read-only (the system remounts a failing card so) while the
    // app is closed: opening is refused with a clear error, and nothing is lost.
    drop(device);
    let remount = |mode: &str| -> anyhow::Result<()> {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&disk.0)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "remount {mode}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(())
    };
    remount("ro")?;
    let refused = doorstep_device::Device::open(&disk.0)
        .err()
        .context("a read-only data folder is refused")?;
    assert_eq!(refused.code(), "data_dir_unusable", "{refused}");
    remount("rw")?;
    let mut device = doorstep_device::Device::open(&disk.0)?;
    saved.push(device.register_resident(&resident(402))?.id);
    drop(device);
    // Everything is there after the app starts again.
    let device = doorstep_device::Device::open(&disk.0)?;
    for id in &saved {
        device.resident(id)?;
    }
    eprintln!(
        "a tablet's disk full then read-only: {} saves kept, each fault a clear refusal, saving \
         went on after each",
        saved.len()
    );
    Ok(())
}

/// A tablet's data folder (a 4 MB tmpfs of the test's own) has 64 KB left when it syncs
/// an answer of 300 residents from another tablet: the sync is refused `disk_full`, the
/// tablet's own unsent work is still there, and once space is freed the next sync takes
/// everything both ways.
#[test]
fn a_tablets_disk_filling_during_a_sync_is_a_clear_error_and_the_next_sync_takes_everything()
-> anyhow::Result<()> {
    use doorstep_tests::fleet::{FAST_RETRY, enrollment_text, resident_ids};
    let root = tempfile::tempdir()?;
    let disk = SmallDisk::mount(&root.path().join("tablet"), "4m")?;
    let server = ServerProcess::start()?;
    committee(&server, "d3")?;
    let mut feeder = TestDevice::enrolled(&server, "d3", "volunteer", "测试志愿者甲")?;
    for n in 0..300 {
        feeder.device.register_resident(&resident(n))?;
    }
    feeder.sync(&server)?;

    let text = enrollment_text(&server, &["d3"], "volunteer", "测试志愿者乙", "1h")?;
    let mut tablet = doorstep_device::Device::open(&disk.0)?;
    tablet.enroll(&text, "test tablet")?;
    let mut own = Vec::new();
    for n in 500..503 {
        own.push(tablet.register_resident(&resident(n))?.id);
    }
    let reserve = disk.0.join("reserve");
    std::fs::write(&reserve, vec![0u8; 64 * 1024])?;
    let filler = fill(&disk.0)?;
    std::fs::remove_file(&reserve)?;

    let refused = tablet
        .sync_with(&mut tablet.transport()?, &FAST_RETRY)
        .err()
        .context("the answer does not fit in 64 KB")?;
    assert_eq!(refused.code(), "disk_full", "{refused}");
    for id in &own {
        tablet.resident(id)?;
    }

    std::fs::remove_file(&filler)?;
    tablet.sync_with(&mut tablet.transport()?, &FAST_RETRY)?;
    feeder.sync(&server)?;
    assert_eq!(resident_ids(&tablet)?.len(), 303);
    assert_eq!(resident_ids(&tablet)?, resident_ids(&feeder.device)?);
    assert_eq!(tablet.sync_status()?.pending_docs, 0);
    eprintln!(
        "a tablet's disk full during a sync: refused disk_full, its 3 own records kept; after \
         space was freed both tablets hold the same 303 residents"
    );
    Ok(())
}
