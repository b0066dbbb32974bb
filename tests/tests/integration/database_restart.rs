//! PostgreSQL stopped and started under a running server while 50 devices sync: no
//! request hangs, none writes half, the server process is never restarted, and every
//! device converges with nothing lost once the database is back. The cluster is the
//! test's own (doorstep_tests::pg_cluster), so the restart disturbs no other test.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee};
use doorstep_tests::pg_cluster::PrivateCluster;

const DEVICES: usize = 50;

fn resident(device: usize, round: usize) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁"][round % 4]),
        id_number: IdNumber::complete(&format!(
            "320106{}{:02}{:02}{device:03}",
            1910 + device,
            1 + round / 28 % 12,
            1 + round % 28
        ))
        .expect("17 digits"),
        ..ResidentInput::default()
    }
}

#[test]
fn postgres_restarts_under_fifty_syncing_devices_and_nothing_is_lost() -> anyhow::Result<()> {
    let cluster = PrivateCluster::start()?;
    let dir = tempfile::tempdir()?;
    let mut server = ServerProcess::start_with_database(dir.path(), &cluster.url())?;
    committee(&server, "pg1")?;
    let pid = server.pid();
    let mut devices = (0..DEVICES)
        .map(|i| TestDevice::enrolled(&server, "pg1", "volunteer", &format!("测试志愿者{i}")))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let stop = AtomicBool::new(false);
    let failures = AtomicUsize::new(0);
    let resumed: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    let synced_after = AtomicUsize::new(0);
    let slowest = std::sync::Mutex::new(Duration::ZERO);
    let registered: Vec<usize> = std::thread::scope(|scope| {
        let threads: Vec<_> = devices
            .iter_mut()
            .enumerate()
            .map(|(d, test)| {
                let (stop, failures, resumed, synced_after, slowest, server) =
                    (&stop, &failures, &resumed, &synced_after, &slowest, &server);
                scope.spawn(move || {
                    let mut round = 0;
                    let mut counted = false;
                    while !stop.load(Ordering::SeqCst) {
                        test.device
                            .register_resident(&resident(d, round))
                            .expect("register");
                        round += 1;
                        let started = Instant::now();
                        let outcome = test.sync(server);
                        let took = started.elapsed();
                        {
                            let mut s = slowest.lock().expect("slowest");
                            *s = (*s).max(took);
                        }
                        match outcome {
                            Err(_) => {
                                failures.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(_) => {
                                let back = resumed.lock().expect("resumed");
                                if !counted && back.is_some_and(|at| started > at) {
                                    counted = true;
                                    synced_after.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    round
                })
            })
            .collect();
        // Let them sync, pull the database away, give it back.
        std::thread::sleep(Duration::from_secs(2));
        cluster.stop().expect("stop PostgreSQL");
        std::thread::sleep(Duration::from_secs(4));
        cluster.resume().expect("start PostgreSQL");
        *resumed.lock().expect("resumed") = Some(Instant::now());
        let deadline = Instant::now() + Duration::from_secs(120);
        while synced_after.load(Ordering::SeqCst) < DEVICES && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        stop.store(true, Ordering::SeqCst);
        threads
            .into_iter()
            .map(|t| t.join().expect("a device thread panicked"))
            .collect()
    });
    let failed = failures.load(Ordering::SeqCst);
    let slowest = *slowest.lock().expect("slowest");
    eprintln!(
        "database restart: {failed} syncs failed while PostgreSQL was away; the slowest \
         sync took {:.1} s; {} of {DEVICES} devices synced after it came back",
        slowest.as_secs_f64(),
        synced_after.load(Ordering::SeqCst)
    );
    assert!(
        failed > 0,
        "the outage was not felt: the test proves nothing"
    );
    assert_eq!(
        synced_after.load(Ordering::SeqCst),
        DEVICES,
        "every device syncs again"
    );
    assert!(
        slowest < Duration::from_secs(60),
        "a sync hung for {slowest:?}"
    );
    assert!(
        !server.has_exited() && server.pid() == pid,
        "the server was never restarted"
    );

    // Everything written anywhere reaches everyone.
    for _ in 0..2 {
        for test in &mut devices {
            test.sync(&server)?;
        }
    }
    let total: usize = registered.iter().sum();
    for test in &devices {
        assert_eq!(test.device.list_residents()?.len(), total);
        assert_eq!(test.device.sync_status()?.pending_docs, 0);
    }
    // Nothing half-written: the committee's hash chain holds.
    let verdict = server.admin(&["log", "verify"])?;
    assert!(verdict.contains("every chain intact"), "{verdict}");
    Ok(())
}
