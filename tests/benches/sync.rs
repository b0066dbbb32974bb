//! Sync benchmarks, printing figures (no timed assertions). Needs the release server:
//!
//! ```sh
//! cargo build --release -p doorstep-server
//! cargo bench -p doorstep-tests --bench sync                     # SQLite
//! DOORSTEP_TEST_POSTGRES=$(scripts/postgres.sh) DOORSTEP_TEST_BACKEND=postgres \
//!   cargo bench -p doorstep-tests --bench sync                   # PostgreSQL
//! ```
//!
//! 1. One device with `DOORSTEP_BENCH_RECORDS` records (10,000) of which 50 changed:
//!    this protocol's round trips, bytes and time, against (a) an Automerge sync
//!    handshake on every document and (b) uploading the changed documents whole,
//!    measured in the same run.
//! 2. `DOORSTEP_BENCH_DEVICES` simulated devices (1,000) each syncing 50 changes
//!    against one server: total time, p50/p99 latency, errors.
//! 3. A first sync of `DOORSTEP_BENCH_BACKLOG` records (100,000) from one device, then
//!    the same device enrolled again (everything waits again): time, requests, bytes,
//!    and the peak memory (RSS) of the server process and of the device's process,
//!    against the per-record time of section 1's first sync.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use doorstep_core::id_number::IdNumber;
use doorstep_core::protocol::{self, SyncRequest};
use doorstep_core::provenance::ChangeNote;
use doorstep_core::resident::{self, ResidentInput};
use doorstep_device::RetryPolicy;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, enrollment_code, enrollment_text};
use doorstep_tests::principal::{Principal, changes_of};
use doorstep_tests::signed::SignAs;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn resident_input(n: usize) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁", "戊", "己"][n % 6]),
        id_number: IdNumber::complete(&format!(
            "32010619{:02}{:02}{:02}{:03}",
            30 + n % 40,
            1 + n % 12,
            1 + n % 28,
            n % 1000
        ))
        .unwrap(),
        phone: format!("139{:08}", n),
        address: format!("测试路 {n} 号"),
        ..ResidentInput::default()
    }
}

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn kb(n: u64) -> String {
    format!("{:.1} KB", n as f64 / 1000.0)
}

/// Runs the Automerge sync protocol between `a` and `b` until neither has anything to
/// say; returns (messages, bytes).
fn handshake(a: &mut AutoCommit, b: &mut AutoCommit) -> (u64, u64) {
    let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
    let (mut messages, mut bytes) = (0u64, 0u64);
    loop {
        let mut quiet = true;
        if let Some(m) = a.sync().generate_sync_message(&mut sa) {
            let encoded = m.encode();
            messages += 1;
            bytes += encoded.len() as u64;
            b.sync()
                .receive_sync_message(&mut sb, sync::Message::decode(&encoded).unwrap())
                .unwrap();
            quiet = false;
        }
        if let Some(m) = b.sync().generate_sync_message(&mut sb) {
            let encoded = m.encode();
            messages += 1;
            bytes += encoded.len() as u64;
            a.sync()
                .receive_sync_message(&mut sa, sync::Message::decode(&encoded).unwrap())
                .unwrap();
            quiet = false;
        }
        if quiet {
            return (messages, bytes);
        }
    }
}

/// Returns the first sync's time per record (the baseline of section 3).
fn one_device_fifty_changes(server: &ServerProcess) -> Duration {
    let records = env_usize("DOORSTEP_BENCH_RECORDS", 10_000);
    committee(server, "bench1").unwrap();
    let mut device = TestDevice::enrolled(server, "bench1", "volunteer", "测试志愿者").unwrap();
    let inputs: Vec<ResidentInput> = (0..records).map(resident_input).collect();
    let start = Instant::now();
    for chunk in inputs.chunks(2_000) {
        device.device.register_residents(chunk).unwrap();
    }
    let registered = start.elapsed();
    let mut transport = device.device.transport().unwrap();
    let policy = RetryPolicy::default();
    let start = Instant::now();
    let first = device.device.sync_with(&mut transport, &policy).unwrap();
    let first_time = start.elapsed();

    // The server's copy of every record before the edits, for the handshake baseline.
    let ids: Vec<_> = device
        .device
        .list_residents()
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let before: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| device.device.export_record(id).unwrap())
        .collect();

    // 50 records change offline.
    let changed: Vec<usize> = (0..50).map(|i| i * (ids.len() / 50)).collect();
    for &i in &changed {
        let mut form = device.device.resident(&ids[i]).unwrap().to_input();
        form.address = format!("测试新村 {i} 号");
        device.device.update_resident(&ids[i], &form).unwrap();
    }
    let mut raw_change_bytes = 0u64;
    let mut whole_doc_bytes = 0u64;
    for &i in &changed {
        let mut now = AutoCommit::load(&device.device.export_record(&ids[i]).unwrap()).unwrap();
        let mut old = AutoCommit::load(&before[i]).unwrap();
        let heads = old.get_heads();
        raw_change_bytes += now
            .get_changes(&heads)
            .iter()
            .map(|c| c.raw_bytes().len() as u64)
            .sum::<u64>();
        whole_doc_bytes += now.save().len() as u64;
    }

    let start = Instant::now();
    let report = device.device.sync_with(&mut transport, &policy).unwrap();
    let sync_time = start.elapsed();
    let ours = report.bytes_up + report.bytes_down;

    // (a) A handshake on every document, as if each were synced on its own.
    let start = Instant::now();
    let (mut messages, mut handshake_bytes) = (0u64, 0u64);
    for (i, id) in ids.iter().enumerate() {
        let mut local = AutoCommit::load(&device.device.export_record(id).unwrap()).unwrap();
        let mut remote = AutoCommit::load(&before[i]).unwrap();
        let (m, b) = handshake(&mut local, &mut remote);
        messages += m;
        handshake_bytes += b;
    }
    let handshake_time = start.elapsed();

    println!("## One device, {records} records, 50 changed\n");
    println!(
        "Registered in {} ; first sync of all {records} records: {} round trips, {} up, {} down, {}.\n",
        ms(registered),
        first.round_trips,
        kb(first.bytes_up),
        kb(first.bytes_down),
        ms(first_time)
    );
    println!("| | round trips / messages | bytes | time |\n|---|---|---|---|");
    println!(
        "| Doorstep batched sync | {} round trips | {} ({} up, {} down) | {} |",
        report.round_trips,
        kb(ours),
        kb(report.bytes_up),
        kb(report.bytes_down),
        ms(sync_time)
    );
    println!(
        "| (a) Automerge sync handshake per document | {messages} messages | {} | {} (in process, no network) |",
        kb(handshake_bytes),
        ms(handshake_time)
    );
    println!(
        "| (b) the 50 changed documents uploaded whole | 1 request | {} | — |",
        kb(whole_doc_bytes)
    );
    println!(
        "| raw bytes of the 50 new changes | — | {} | — |\n",
        kb(raw_change_bytes)
    );
    println!(
        "Ratios: {:.1}× fewer bytes than (a); {:.2}× the raw change bytes; (b) is {:.1}× ours.\n",
        handshake_bytes as f64 / ours as f64,
        ours as f64 / raw_change_bytes as f64,
        whole_doc_bytes as f64 / ours as f64
    );
    first_time / u32::try_from(records).unwrap_or(u32::MAX)
}

/// The peak resident memory of process `pid` (`self` for this one), in MB.
fn peak_rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Forgets this process's peak memory so far (Linux), so the next peak is the sync's.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn first_sync_of_a_backlog(per_record_baseline: Option<Duration>) {
    let records = env_usize("DOORSTEP_BENCH_BACKLOG", 100_000);
    // A server of its own, so that its peak memory is this section's.
    let server = ServerProcess::start().unwrap();
    committee(&server, "bench3").unwrap();
    let mut device = TestDevice::enrolled(&server, "bench3", "volunteer", "测试志愿者").unwrap();
    let start = Instant::now();
    // Section 1's inputs repeat after 21,000; here each block of 21,000 is another
    // district of the same city.
    let inputs: Vec<ResidentInput> = (0..records)
        .map(|n| {
            let mut input = resident_input(n);
            let district = format!("3201{:02}", 2 + n / 21_000);
            input.id_number =
                IdNumber::complete(&format!("{district}{}", &input.id_number[6..17])).unwrap();
            input
        })
        .collect();
    for chunk in inputs.chunks(2_000) {
        device.device.register_residents(chunk).unwrap();
    }
    drop(inputs);
    let registered = start.elapsed();
    let mut transport = device.device.transport().unwrap();
    let policy = RetryPolicy::default();
    let pid = server.pid().to_string();
    println!(
        "## First sync of a backlog of {records} records
"
    );
    println!(
        "Registered in {}.
",
        ms(registered)
    );
    println!(
        "| sync | time | per record | requests | up | down | server peak RSS | device peak RSS |\n|---|---|---|---|---|---|---|---|"
    );
    for label in ["first sync", "after enrolling again"] {
        if label != "first sync" {
            let text =
                enrollment_text(&server, &["bench3"], "volunteer", "测试志愿者", "1h").unwrap();
            device.device.enroll(&text, "bench tablet").unwrap();
        }
        reset_peak_rss();
        let start = Instant::now();
        let report = device.device.sync_with(&mut transport, &policy).unwrap();
        let took = start.elapsed();
        assert_eq!(report.sent_docs, records, "{label}: every record went up");
        assert!(report.refused.is_empty(), "{label}: {:?}", report.refused);
        println!(
            "| {label} | {} | {:.2} ms | {} | {} | {} | {:.0} MB | {:.0} MB |",
            ms(took),
            took.as_secs_f64() * 1e3 / records as f64,
            report.round_trips,
            kb(report.bytes_up),
            kb(report.bytes_down),
            peak_rss_mb(&pid),
            peak_rss_mb("self"),
        );
        if let (Some(base), "first sync") = (per_record_baseline, label) {
            println!(
                "\nPer record, {:.2}× the first sync of section 1's smaller device ({:.2} ms).\n",
                took.as_secs_f64() / records as f64 / base.as_secs_f64(),
                base.as_secs_f64() * 1e3
            );
        }
    }
    // A new tablet of the committee pulls everything, checking every change against the
    // key roster (signature, author, rules) before it merges it.
    let mut fresh = TestDevice::enrolled(&server, "bench3", "supervisor", "测试主任").unwrap();
    reset_peak_rss();
    let start = Instant::now();
    let report = fresh.device.sync_with(&mut transport, &policy).unwrap();
    let took = start.elapsed();
    assert!(report.received_docs >= records, "every record came down");
    assert_eq!(report.set_aside, 0, "every change verified");
    println!(
        "| a new tablet's first pull (verified) | {} | {:.2} ms | {} | {} | {} | {:.0} MB | {:.0} MB |",
        ms(took),
        took.as_secs_f64() * 1e3 / records as f64,
        report.round_trips,
        kb(report.bytes_up),
        kb(report.bytes_down),
        peak_rss_mb(&pid),
        peak_rss_mb("self"),
    );
    println!();
}

/// One simulated device's sync of 50 changes: 10 new records with 5 changes each, each
/// change signed by the device's key (the server verifies every one).
fn simulated_request(device: usize, principal: &Principal) -> SyncRequest {
    let mut docs = Vec::with_capacity(10);
    for r in 0..10 {
        let mut doc = principal.doc();
        let n = device * 10 + r;
        let valid = resident_input(n).validate().unwrap();
        resident::write_new(&mut doc, &valid, 1_764_000_000_000).unwrap();
        ChangeNote::new("register_resident", "测试志愿者").commit(&mut doc, 1_764_000_000_000);
        for e in 1..5 {
            let mut form = resident_input(n);
            form.address = format!("测试路 {n}-{e} 号");
            resident::write_changes(&mut doc, &form.validate().unwrap()).unwrap();
            ChangeNote::new("update_resident", "测试志愿者")
                .commit(&mut doc, 1_764_000_000_000 + e);
        }
        docs.push(principal.upload(
            &uuid::Uuid::now_v7().to_string(),
            "resident",
            changes_of(&mut doc, &[]),
        ));
    }
    SyncRequest {
        // The roster it was given at enrollment: later enrollments make it stale, and
        // the answer brings the new one, as for a real tablet.
        key_roster: principal
            .enrolled
            .key_roster
            .as_ref()
            .and_then(|r| r.open(None).ok())
            .map(|r| r.version)
            .unwrap_or_default(),
        sync_id: uuid::Uuid::new_v4().to_string(),
        cursor: 0,
        volunteer: "测试志愿者".into(),
        docs,
        log_held: Vec::new(),
        log_seen: Vec::new(),
        log_audit: Vec::new(),
    }
}

/// Whether a (deflated) sync answer carries a checkpoint of the device's committee that
/// the server's key signed.
fn checkpoints_hold(wire: &[u8], server_key: &doorstep_core::keys::PublicKey) -> bool {
    // Small answers travel uncompressed.
    let body = protocol::inflate(wire, 64 << 20).unwrap_or_else(|_| wire.to_vec());
    let Ok(answer) = protocol::from_cbor::<protocol::SyncResponse>(&body) else {
        return false;
    };
    !answer.checkpoints.is_empty()
        && answer.checkpoints.iter().all(|c| {
            doorstep_core::merkle_log::open_checkpoint(&c.note, server_key, &c.committee)
                .is_ok_and(|head| head.size > 0)
        })
}

fn many_devices(server: &ServerProcess) {
    let devices = env_usize("DOORSTEP_BENCH_DEVICES", 1_000);
    let concurrency = env_usize("DOORSTEP_BENCH_CONCURRENCY", 32);
    // Devices spread over committees (a village committee has a handful of volunteers);
    // each device receives what the others of its committee sent before it.
    let committees = env_usize("DOORSTEP_BENCH_COMMITTEES", 100).max(1);
    for c in 0..committees {
        committee(server, &format!("load{c}")).unwrap();
    }
    let start = Instant::now();
    let mut principals = Vec::with_capacity(devices);
    for d in 0..devices {
        let code = enrollment_code(
            &server.data_dir,
            &[&format!("load{}", d % committees)],
            "volunteer",
            "测试志愿者",
            "1h",
        )
        .unwrap();
        principals.push(Principal::enroll(server, &code).unwrap());
    }
    let enrolled = start.elapsed();
    let bodies: Vec<Vec<u8>> = principals
        .iter()
        .enumerate()
        .map(|(d, p)| protocol::to_cbor(&simulated_request(d, p)))
        .collect();
    let tokens: Vec<String> = principals.iter().map(|p| p.token().to_owned()).collect();
    // Each answer's checkpoints are checked as a device checks them: against the server
    // key the device was enrolled with.
    let server_key = principals[0]
        .enrolled
        .key_roster
        .as_ref()
        .and_then(|r| r.server_key())
        .expect("enrollment brings the server's key");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = server.url("/v1/sync");
    let (latencies, errors, total, down) = runtime.block_on(async move {
        let client = doorstep_tests::raw_async_client();
        let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(devices);
        for (token, body) in tokens.into_iter().zip(bodies) {
            let client = client.clone();
            let url = url.clone();
            let permit = std::sync::Arc::clone(&semaphore)
                .acquire_owned()
                .await
                .unwrap();
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let answer = client
                    .post(url)
                    .sign_as(&token, "POST", "/v1/sync", &body)
                    .header("content-type", protocol::CBOR)
                    .header("accept-encoding", protocol::DEFLATE)
                    .body(body)
                    .send()
                    .await;
                let (ok, bytes) = match answer {
                    Ok(r) if r.status() == 200 => {
                        let wire = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                        (checkpoints_hold(&wire, &server_key), wire.len() as u64)
                    }
                    _ => (false, 0),
                };
                drop(permit);
                (sent.elapsed(), ok, bytes)
            }));
        }
        let mut latencies = Vec::with_capacity(devices);
        let mut errors = 0;
        let mut down = 0u64;
        for t in tasks {
            let (latency, ok, bytes) = t.await.unwrap();
            latencies.push(latency);
            down += bytes;
            if !ok {
                errors += 1;
            }
        }
        (latencies, errors, start.elapsed(), down)
    });
    let mut latencies = latencies;
    println!(
        "## {devices} devices in {committees} committees, 50 changes each, {concurrency} at a time\n"
    );
    println!(
        "Enrolled in {} (one-time code made by the CLI, then traded over HTTP).\n",
        ms(enrolled)
    );
    println!(
        "| total | syncs/s | p50 | p99 | max | errors | received (compressed) |\n|---|---|---|---|---|---|---|"
    );
    let max = *latencies.iter().max().unwrap();
    println!(
        "| {} | {:.0} | {} | {} | {} | {errors} | {} |\n",
        ms(total),
        devices as f64 / total.as_secs_f64(),
        ms(pct(&mut latencies, 0.5)),
        ms(pct(&mut latencies, 0.99)),
        ms(max),
        kb(down)
    );
}

fn main() {
    doorstep_tests::fleet::mock_keyring();
    let backend = if doorstep_tests::process::postgres_backend() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("# Sync benchmarks on {backend}\n");
    let server = ServerProcess::start()
        .expect("a release doorstep-server: run `cargo build --release -p doorstep-server` first");
    let baseline = if std::env::var("DOORSTEP_BENCH_SKIP_ONE").is_err() {
        Some(one_device_fifty_changes(&server))
    } else {
        None
    };
    if std::env::var("DOORSTEP_BENCH_SKIP_MANY").is_err() {
        many_devices(&server);
    }
    first_sync_of_a_backlog(baseline);
}
