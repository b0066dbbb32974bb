//! The server's SQLite database fails: one to three writes or syncs in a row return an
//! I/O error, at a random point of each of 16 rounds of syncs (`doorstep_power_cut`
//! watches the in-process server's data folder only). A sync caught in it is refused
//! with a retryable 503 `storage_unavailable` and nothing of it is half stored; the
//! tablet keeps its work, and its next sync, once the fault has passed, takes
//! everything. At the end both tablets hold the same records, every one on the server,
//! and every committee's log verifies.

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::{DeviceError, RetryPolicy};
use doorstep_power_cut::{Fault, Plan};
use doorstep_tests::fleet::resident_ids;
use doorstep_tests::in_process::InProcessServer;

/// One attempt per sync: a refusal reaches the test instead of being retried away.
const ONE_ATTEMPT: RetryPolicy = RetryPolicy {
    attempts: 1,
    first_wait: std::time::Duration::ZERO,
    max_wait: std::time::Duration::ZERO,
};

fn resident(n: u64) -> anyhow::Result<ResidentInput> {
    Ok(ResidentInput {
        name: "测试甲".into(),
        id_number: IdNumber::complete(&format!("3201061951{:02}01{:03}", 1 + n / 1000, n % 1000))
            .ok_or_else(|| anyhow::anyhow!("17 digits"))?,
        address: format!("测试村{n}组"),
        ..ResidentInput::default()
    })
}

#[test]
fn server_io_errors_refuse_a_sync_whole_and_the_next_one_takes_everything() -> anyhow::Result<()> {
    // The server's connections must be opened through the faulty VFS.
    doorstep_power_cut::register()?;
    let server = InProcessServer::start()?;
    server.committee("e1")?;
    let mut a = server.device("e1", "测试志愿者甲")?;
    let mut b = server.device("e1", "测试志愿者乙")?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64
        | 1;
    let mut rng = seed;
    let mut next = move |below: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % below
    };
    let (mut refused, mut registered) = (0, 0u64);
    for round in 0..16 {
        for _ in 0..3 {
            a.device.register_resident(&resident(registered)?)?;
            registered += 1;
        }
        // Counted from here: the writes and syncs of this round's first sync attempts.
        let plan = Plan {
            at: 1 + next(30),
            fault: Fault::IoError { count: 1 + next(3) },
        };
        doorstep_power_cut::install(server.data_dir(), plan)?;
        let mut attempts = 0;
        loop {
            attempts += 1;
            anyhow::ensure!(attempts <= 10, "round {round} ({plan:?}): never synced");
            match a.device.sync_with(&mut server.transport(), &ONE_ATTEMPT) {
                Ok(_) => break,
                Err(DeviceError::Server { status, code, .. }) => {
                    anyhow::ensure!(
                        status == 503 && code == "storage_unavailable",
                        "round {round}, seed {seed}: refused {status} {code}"
                    );
                    refused += 1;
                    anyhow::ensure!(
                        a.device.sync_status()?.pending_docs > 0,
                        "round {round}, seed {seed}: the refused work left the tablet"
                    );
                }
                Err(e) => anyhow::bail!("round {round}, seed {seed}: {e}"),
            }
        }
        doorstep_power_cut::disarm();
        b.device.sync_with(&mut server.transport(), &ONE_ATTEMPT)?;
    }
    a.device.sync_with(&mut server.transport(), &ONE_ATTEMPT)?;
    assert_eq!(resident_ids(&a.device)?.len() as u64, registered);
    assert_eq!(
        resident_ids(&a.device)?,
        resident_ids(&b.device)?,
        "seed {seed}"
    );
    assert_eq!(a.device.sync_status()?.pending_docs, 0);
    assert!(server.log_intact()?, "seed {seed}: the log does not verify");
    assert!(refused > 0, "seed {seed}: no sync was refused");
    eprintln!(
        "server I/O errors: 16 faults, {refused} syncs refused with 503, {registered} residents \
         on both tablets, the log intact (seed {seed})"
    );
    Ok(())
}
