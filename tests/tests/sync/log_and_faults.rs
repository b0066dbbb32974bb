//! The sync log as supervisors read it, its hash chain, idempotent resends, revoked
//! devices, and a server killed in the middle of a sync.

use std::time::Duration;

use doorstep_core::id_number::IdNumber;
use doorstep_core::protocol::{self, LogPage, SyncRequest, SyncResponse};
use doorstep_core::resident::ResidentInput;
use doorstep_device::{HttpTransport, RetryPolicy};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, server_db};
use doorstep_tests::signed::SignAs;

fn resident(n: u32) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁"][n as usize % 4]),
        id_number: IdNumber::complete(&format!("110105194001{:02}{:03}", 1 + n % 28, n % 1000))
            .expect("17 digits"),
        ..ResidentInput::default()
    }
}

fn log(server: &ServerProcess, token: &str, query: &str) -> anyhow::Result<LogPage> {
    let response = doorstep_tests::raw_client()
        .get(server.url(&format!("/v1/log{query}")))
        .sign_as(token, "GET", &format!("/v1/log{query}"), b"")
        .send()?;
    anyhow::ensure!(response.status() == 200, "log: {}", response.status());
    Ok(serde_json::from_slice(&response.bytes()?)?)
}

#[test]
fn the_log_chains_every_sync_and_verify_names_a_tampered_entry() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    let mut supervisor = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let sup = supervisor.token()?;
    let a_id = a
        .device
        .enrollment()?
        .map(|e| e.device_id)
        .unwrap_or_default();

    let first = resident(1);
    let id = a.device.register_resident(&first)?.id;
    a.sync(&server)?; // entry 1: A sent one record
    b.sync(&server)?; // entry 2: B received it
    let mut on_a = first.clone();
    on_a.phone = "13900000001".into();
    a.device.update_resident(&id, &on_a)?;
    let mut on_b = first.clone();
    on_b.phone = "13900000002".into();
    b.device.update_resident(&id, &on_b)?;
    a.sync(&server)?; // entry 3
    b.sync(&server)?; // entry 4: the conflict appears on the server
    b.sync(&server)?; // nothing moved: no entry

    // The supervisor's device reads the committee's records too (and its sync of
    // them is logged like any other).
    let reads = supervisor.sync(&server)?;
    assert_eq!(reads.received_docs, 1);
    assert_eq!(supervisor.device.resident(&id)?.name, first.name);
    assert_eq!(supervisor.device.conflicts(&id)?.len(), 1);

    let page = log(&server, &sup, "")?;
    assert_eq!(page.entries[0].sent[0].doc_id, id.as_str());
    let page = log(&server, &sup, "?limit=4&before=5")?;
    let seqs: Vec<u64> = page.entries.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        [4, 3, 2, 1],
        "newest first, one entry per sync that moved something"
    );
    assert_eq!(page.entries[3].device_id, a_id);
    assert_eq!(page.entries[3].volunteer, "测试志愿者甲");
    assert_eq!(page.entries[3].received[0].doc_id, id.as_str());
    assert!(!page.entries[3].received[0].hashes.is_empty());
    assert_eq!(page.entries[2].sent[0].doc_id, id.as_str());
    assert_eq!(page.entries[0].conflicts[0].fields, ["phone"]);
    for pair in page.entries.windows(2) {
        assert_eq!(pair[0].prev_hash, pair[1].hash);
    }

    // Filters and paging.
    let by_a = log(&server, &sup, &format!("?device={a_id}"))?;
    assert!(by_a.entries.iter().all(|e| e.device_id == a_id));
    assert_eq!(by_a.entries.len(), 2);
    let conflicted = log(&server, &sup, "?conflicts_only=true")?;
    assert_eq!(conflicted.entries.len(), 1);
    let one = log(&server, &sup, "?limit=1")?;
    assert_eq!(one.entries[0].seq, 5);
    let next = log(
        &server,
        &sup,
        &format!("?limit=1&before={}", one.next_before.unwrap_or_default()),
    )?;
    assert_eq!(next.entries[0].seq, 4);
    let future = log(&server, &sup, "?from=99999999999999")?;
    assert!(future.entries.is_empty());

    // The chain verifies, and a tampered entry is named.
    let ok = server.admin(&["log", "verify"])?;
    assert!(ok.contains("5 entries"), "{ok}");
    server_db(&server.data_dir)?.execute(
        "UPDATE log SET body = replace(body, '测试志愿者乙', '测试志愿者丙') WHERE seq = 2",
    )?;
    let err = server
        .admin(&["log", "verify"])
        .expect_err("a tampered log must not verify");
    assert!(err.to_string().contains("entry 2"), "{err}");
    Ok(())
}

#[test]
fn a_resent_request_changes_nothing() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    a.device.register_resident(&resident(2))?;
    // Build the request the device would send, and send it three times.
    let doc = a.device.list_residents()?[0].id.clone();
    let bytes = a.device.export_record(&doc)?;
    let mut am = automerge::AutoCommit::load(&bytes)?;
    let all = am.get_changes(&[]);
    let signatures = a.device.attestations(doc.as_str(), &all)?;
    let changes = all
        .iter()
        .map(|c| serde_bytes::ByteBuf::from(c.raw_bytes().to_vec()))
        .collect();
    let request = SyncRequest {
        key_roster: String::new(),
        log_held: Vec::new(),
        log_seen: Vec::new(),
        log_audit: Vec::new(),
        sync_id: "resent-1".into(),
        cursor: 0,
        volunteer: "测试志愿者甲".into(),
        docs: vec![protocol::DocUpload {
            doc_id: doc.as_str().into(),
            kind: "resident".into(),
            committee: None,
            changes,
            signatures,
            relayed: Vec::new(),
        }],
    };
    let send = |req: &SyncRequest| -> anyhow::Result<SyncResponse> {
        let body = protocol::to_cbor(req);
        let response = doorstep_tests::raw_client()
            .post(server.url("/v1/sync"))
            .sign_as(&a.token()?, "POST", "/v1/sync", &body)
            .header("content-type", protocol::CBOR)
            .body(body)
            .send()?;
        anyhow::ensure!(response.status() == 200, "sync: {}", response.status());
        protocol::from_cbor(&response.bytes()?).map_err(anyhow::Error::msg)
    };
    let counts = || -> anyhow::Result<(i64, i64)> {
        let mut db = server_db(&server.data_dir)?;
        Ok((
            db.int("SELECT count(*) FROM changes")?,
            db.int("SELECT count(*) FROM log")?,
        ))
    };
    let first = send(&request)?;
    assert_eq!(first.accepted, 1);
    let after_first = counts()?;
    assert_eq!(after_first, (1, 1));
    let again = send(&request)?;
    assert_eq!((again.accepted, again.cursor), (0, first.cursor));
    // The same changes under a new sync id (the device restarted before the answer).
    let mut renamed = request.clone();
    renamed.sync_id = "resent-2".into();
    assert_eq!(send(&renamed)?.accepted, 0);
    assert_eq!(counts()?, after_first);
    // The device's own sync then sends the record and the server takes nothing new.
    let report = a.sync(&server)?;
    assert_eq!((report.sent_docs, report.accepted_changes), (1, 0));
    assert_eq!(counts()?, after_first);
    Ok(())
}

#[test]
fn a_revoked_device_is_refused_and_keeps_its_work() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let device_id = a
        .device
        .enrollment()?
        .map(|e| e.device_id)
        .unwrap_or_default();
    a.device.register_resident(&resident(3))?;
    server.admin(&["device", "revoke", &device_id])?;
    let err = a.sync(&server).expect_err("a revoked device cannot sync");
    let err = err.downcast::<doorstep_device::DeviceError>()?;
    assert_eq!(err.code(), "device_revoked");
    assert_eq!(
        a.device.sync_status()?.pending_docs,
        1,
        "its record still waits"
    );
    let stored = server_db(&server.data_dir)?.int("SELECT count(*) FROM changes")?;
    assert_eq!(stored, 0);
    // A used enrollment code cannot enroll another device.
    let listed = server.admin(&["device", "list"])?;
    assert!(listed.contains("revoked"), "{listed}");
    Ok(())
}

/// Kills the server (SIGKILL) `delay` after request `at_request` of the sync leaves,
/// then restarts it on the same port and data: the request dies inside the server.
struct KillingTransport<'a> {
    inner: HttpTransport,
    at_request: usize,
    sent: usize,
    delay: Duration,
    server: &'a std::sync::Mutex<Option<ServerProcess>>,
    data_dir: &'a std::path::Path,
    addr: std::net::SocketAddr,
    /// Kills the server after `delay`; the pid it killed.
    killer: Option<std::thread::JoinHandle<Option<u32>>>,
}

impl doorstep_device::Transport for KillingTransport<'_> {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<doorstep_device::sync::HttpAnswer, doorstep_device::sync::NetworkError> {
        self.sent += 1;
        if self.killer.is_none() && self.sent > self.at_request {
            let pid = self
                .server
                .lock()
                .ok()
                .and_then(|s| s.as_ref().map(ServerProcess::pid));
            let delay = self.delay;
            self.killer = Some(std::thread::spawn(move || {
                std::thread::sleep(delay);
                let pid = pid?;
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                Some(pid)
            }));
        } else if let Some(handle) = self.killer.as_mut().filter(|h| h.is_finished()) {
            let _ = handle;
            let mut guard = self.server.lock().map_err(|_| {
                doorstep_device::sync::NetworkError::Unreachable("server lock poisoned".into())
            })?;
            if guard.as_mut().is_some_and(ServerProcess::has_exited) {
                *guard = None;
                *guard = ServerProcess::start_at(self.data_dir, self.addr, &[]).ok();
            }
        }
        self.inner.request(method, path, content_type, auth, body)
    }
}

/// Times each request of a sync.
struct TimingTransport {
    inner: HttpTransport,
    took: Vec<Duration>,
}

impl doorstep_device::Transport for TimingTransport {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<doorstep_device::sync::HttpAnswer, doorstep_device::sync::NetworkError> {
        let started = std::time::Instant::now();
        let answer = self.inner.request(method, path, content_type, auth, body);
        self.took.push(started.elapsed());
        answer
    }
}

/// The server is SIGKILLed at a different moment of each of 24 syncs, on both backends,
/// and restarted on the same data. The moments are spread over the requests of a like
/// sync and over the time each took uncut on this machine, measured first (while it
/// merges records, appends to its log, takes an attachment or answers), so a fast
/// machine and a slow one both cut each request early and late. Each round carries 20
/// new residents and two applications with a photo of their own.
#[test]
fn a_server_killed_during_a_sync_loses_nothing_and_duplicates_nothing() -> anyhow::Result<()> {
    use doorstep_tests::fleet::fill_allowance;
    let dir = tempfile::tempdir()?;
    let first = ServerProcess::start_on(dir.path(), &[])?;
    committee(&first, "c1")?;
    let mut a = TestDevice::enrolled(&first, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&first, "c1", "volunteer", "测试志愿者乙")?;
    let addr = first.addr;
    let url = first.base_url();
    let server = std::sync::Mutex::new(Some(first));
    let mut interrupted = 0;
    let mut photos = Vec::new();
    // One round's residents, and two applications with a photo of their own.
    let mut fill_round = |device: &mut TestDevice, round: u32| -> anyhow::Result<()> {
        let inputs: Vec<ResidentInput> = (0..20).map(|n| resident(round * 22 + n)).collect();
        let registered = device
            .device
            .register_residents(&inputs)
            .map_err(|(i, e)| anyhow::anyhow!("resident {i}: {e}"))?;
        for (i, person) in registered.iter().take(2).enumerate() {
            device.authorize(&person.id, &["senior_allowance"])?;
            let app = device
                .device
                .start_application(&person.id, "senior_allowance")?;
            // A photo of its own: bytes after the PNG's end, which readers ignore.
            let mut photo = doorstep_tests::SAMPLE_PHOTO.to_vec();
            photo.extend_from_slice(format!("round {round} photo {i}").as_bytes());
            photos.push(fill_allowance(
                &mut device.device,
                &app,
                &format!("62220000{round:04}{i:04}"),
                &photo,
            )?);
            device.device.submit_application(&app)?;
        }
        Ok(())
    };
    // How long each request of a like sync takes uncut here.
    let rounds = 24usize;
    fill_round(&mut a, rounds as u32)?;
    let mut timing = TimingTransport {
        inner: a.transport_to_url(&url)?,
        took: Vec::new(),
    };
    a.device.sync_with(&mut timing, &RetryPolicy::default())?;
    let requests = timing.took.len().max(1);
    let passes = rounds.div_ceil(requests) as u32;
    let moments: Vec<(usize, Duration)> = (0..rounds)
        .map(|i| {
            let (at, pass) = (i % requests, (i / requests) as u32);
            let took = timing.took.get(at).copied().unwrap_or_default();
            let delay = took * (2 * pass + 1) / (2 * passes);
            (at, delay.max(Duration::from_micros(500)))
        })
        .collect();
    for (round, (at_request, delay)) in moments.iter().copied().enumerate() {
        fill_round(&mut a, round as u32)?;
        let mut transport = KillingTransport {
            inner: a.transport_to_url(&url)?,
            at_request,
            sent: 0,
            delay,
            server: &server,
            data_dir: dir.path(),
            addr,
            killer: None,
        };
        let patient = RetryPolicy {
            attempts: 40,
            first_wait: Duration::from_millis(50),
            max_wait: Duration::from_millis(200),
        };
        let report = a.device.sync_with(&mut transport, &patient)?;
        if report.retries > 0 {
            interrupted += 1;
        }
        assert_eq!(a.device.sync_status()?.pending_docs, 0);
        // The server may have died after answering: bring it back before B syncs.
        let mut guard = server.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        let killed = transport
            .killer
            .take()
            .and_then(|h| h.join().ok().flatten());
        // A killed process takes a moment to end: wait for it rather than take it for alive.
        if let Some(running) = guard.as_mut()
            && Some(running.pid()) == killed
        {
            for _ in 0..250 {
                if running.has_exited() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if guard.as_mut().is_none_or(ServerProcess::has_exited) {
            *guard = None;
            *guard = Some(ServerProcess::start_at(dir.path(), addr, &[])?);
        }
    }
    eprintln!(
        "{interrupted} of {rounds} syncs were cut by the kill (an uncut sync's requests took {:?})",
        timing.took
    );
    assert!(
        interrupted >= rounds / 3,
        "only {interrupted} of {rounds} syncs were cut by the kill"
    );
    let guard = server.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let server = guard.as_ref().ok_or_else(|| anyhow::anyhow!("no server"))?;
    b.sync(server)?;
    // Every record, change and photo once on the server, and all of them on B.
    let (mut records, mut changes) = (0i64, 0i64);
    let mut ids: Vec<doorstep_core::DocId> = a
        .device
        .list_residents()?
        .into_iter()
        .map(|r| r.id)
        .collect();
    for resident in a.device.list_residents()? {
        ids.extend(
            a.device
                .authorizations_of(&resident.id)?
                .into_iter()
                .map(|(id, _)| id),
        );
    }
    ids.extend(a.device.list_applications(None)?.into_iter().map(|r| r.id));
    for id in &ids {
        records += 1;
        let mut doc = automerge::AutoCommit::load(&a.device.export_record(id)?)?;
        changes += doc.get_changes(&[]).len() as i64;
        let mut theirs = automerge::AutoCommit::load(&b.device.export_record(id)?)?;
        assert_eq!(
            theirs.get_heads(),
            doc.get_heads(),
            "record {id} reached B whole"
        );
    }
    for sha in &photos {
        assert!(!b.device.blob(sha)?.is_empty(), "a photo reached B");
    }
    let mut db = server_db(&server.data_dir)?;
    let docs = db.int("SELECT count(*) FROM docs")?;
    let stored = db.int("SELECT count(*) FROM changes")?;
    assert_eq!(
        (docs, stored),
        (records, changes),
        "each record and change stored once"
    );
    let blobs = db.int("SELECT count(*) FROM blobs WHERE complete = 1")?;
    assert!(
        blobs > photos.len() as i64,
        "{blobs} attachments stored whole"
    );
    if db.backend() == "sqlite" {
        let integrity = doorstep_server::store::Store::open(
            &doorstep_server::store::Database::Sqlite(server.data_dir.clone()),
        )?
        .query("PRAGMA integrity_check", &[])?;
        assert_eq!(integrity[0].text(0)?, "ok");
    }
    assert!(server.admin(&["log", "verify"])?.contains("intact"));
    eprintln!(
        "{rounds} server kills ({interrupted} during the sync): {records} records, {changes} \
         changes, {} photos, each stored once and all on the other tablet; the log intact",
        photos.len()
    );
    Ok(())
}
