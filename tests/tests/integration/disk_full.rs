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
