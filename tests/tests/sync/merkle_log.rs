//! The sync log as a Merkle log that devices hold to account: every sync brings each
//! committee's checkpoint signed by the server's key, a device takes it only if it extends
//! the one it held, and a supervisor's page of the log proves every entry's inclusion. The
//! server's database is then edited by hand in each way that matters — an entry's body, a
//! filter column, the newest entries deleted, the whole log recomputed, a fork shown to
//! two devices — and each is caught by `log verify` and by an ordinary device.

use doorstep_core::ErrorCode;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::{DeviceError, EvidenceKind, LogFilter};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{TestDevice, committee, server_db};

fn resident(n: u32) -> ResidentInput {
    ResidentInput {
        name: format!("测试{}", ["甲", "乙", "丙", "丁"][n as usize % 4]),
        id_number: IdNumber::complete(&format!("110105195003{:02}{:03}", 1 + n % 28, n % 1000))
            .expect("17 digits"),
        ..ResidentInput::default()
    }
}

fn code_of<T: std::fmt::Debug>(outcome: anyhow::Result<T>) -> ErrorCode {
    let e = outcome.expect_err("the server's log must not be trusted");
    e.downcast_ref::<DeviceError>()
        .map(DeviceError::code)
        .unwrap_or_else(|| panic!("not a device error: {e}"))
}

fn device_code<T: std::fmt::Debug>(outcome: Result<T, DeviceError>) -> ErrorCode {
    outcome
        .expect_err("the server's log must not be trusted")
        .code()
}

/// A committee with two volunteers and a supervisor who have each synced some work:
/// the log holds a few entries and every device a checkpoint of it.
struct Village {
    server: ServerProcess,
    a: TestDevice,
    b: TestDevice,
    supervisor: TestDevice,
}

fn village(id: &str) -> anyhow::Result<Village> {
    let server = ServerProcess::start()?;
    committee(&server, id)?;
    let mut a = TestDevice::enrolled(&server, id, "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, id, "volunteer", "测试志愿者乙")?;
    let mut supervisor = TestDevice::enrolled(&server, id, "supervisor", "测试主任")?;
    a.device.register_resident(&resident(1))?;
    a.sync(&server)?;
    b.device.register_resident(&resident(2))?;
    b.sync(&server)?;
    a.sync(&server)?;
    supervisor.sync(&server)?;
    Ok(Village {
        server,
        a,
        b,
        supervisor,
    })
}

fn verify(server: &ServerProcess) -> anyhow::Result<String> {
    server.admin(&["log", "verify"])
}

fn verify_fails(server: &ServerProcess) -> String {
    verify(server)
        .expect_err("a tampered log must not verify")
        .to_string()
}

#[test]
fn every_sync_brings_a_checkpoint_that_extends_the_last_and_every_entry_is_proved()
-> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        mut supervisor,
    } = village("m1")?;
    for n in 3..8 {
        let (device, other) = if n % 2 == 0 {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        device.device.register_resident(&resident(n))?;
        device.sync(&server)?;
        other.sync(&server)?;
    }
    supervisor.sync(&server)?;
    let size = server_db(&server.data_dir)?.log_size("m1")?;
    assert!(size >= 12, "{size} entries");
    // The supervisor's device reads every page, each entry proved in the checkpoint and
    // the checkpoint proved to extend the one it holds.
    let mut filter = LogFilter {
        limit: Some(5),
        ..LogFilter::default()
    };
    let mut read = 0;
    loop {
        let page = supervisor.device.log_page(&filter)?;
        read += page.entries.len() as u64;
        assert!(
            page.entries
                .iter()
                .all(|e| !e.proof.is_empty() || size == 1)
        );
        match page.next_before {
            Some(before) => filter.before = Some(before),
            None => break,
        }
    }
    assert_eq!(read, size);
    let said = verify(&server)?;
    assert!(said.contains(&format!("{size} entries")), "{said}");
    assert!(a.device.log_evidence()?.is_empty());
    Ok(())
}

#[test]
fn an_entry_body_edited_by_hand_is_caught_by_its_device_named_by_log_verify_and_refused_by_the_supervisor()
-> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        mut supervisor,
    } = village("m2")?;
    server_db(&server.data_dir)?.execute(
        "UPDATE log SET body = replace(body, '测试志愿者乙', '测试志愿者丙') WHERE seq = 2",
    )?;
    let said = verify_fails(&server);
    assert!(said.contains("committee m2 entry 2"), "{said}");
    // The volunteer whose sync wrote entry 2 asks for it again at its next sync: its body
    // is not the one written.
    assert_eq!(code_of(b.sync(&server)), ErrorCode::ServerLogUntrusted);
    let evidence = b.device.log_evidence()?;
    assert_eq!(evidence[0].committee, "m2");
    assert_eq!(evidence[0].kind, EvidenceKind::Entry);
    assert!(
        evidence[0]
            .reason
            .contains("entry 2: an entry this device's sync wrote"),
        "{evidence:?}"
    );
    assert!(evidence[0].reason.contains("body"), "{evidence:?}");
    // The supervisor reading it: its content is not the entry the log holds.
    let code = device_code(supervisor.device.log_page(&LogFilter::default()));
    assert_eq!(code, ErrorCode::ServerLogUntrusted);
    let evidence = supervisor.device.log_evidence()?;
    assert!(evidence[0].reason.contains("entry 2"), "{evidence:?}");
    assert_eq!(evidence[0].kind, EvidenceKind::Entry);
    // From then on neither device syncs with that server.
    assert_eq!(
        code_of(supervisor.sync(&server)),
        ErrorCode::ServerLogUntrusted
    );
    assert_eq!(code_of(b.sync(&server)), ErrorCode::ServerLogUntrusted);
    // Another volunteer's entries are as they were written.
    a.sync(&server)?;
    assert!(a.device.log_evidence()?.is_empty());
    Ok(())
}

#[test]
fn filter_columns_edited_by_hand_are_caught_by_their_devices_and_named_and_an_entry_they_bring_is_refused()
-> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        supervisor,
    } = village("m3")?;
    let bodies = server_db(&server.data_dir)?.log_bodies("m3")?;
    let (a_id, b_id) = (bodies[0].device_id.clone(), bodies[1].device_id.clone());
    assert_ne!(a_id, b_id);
    assert_eq!(bodies[2].device_id, a_id);
    // Entry 2 (B's) is made to look like A's to the filter; entry 1 (A's older one, not
    // its newest) is given another volunteer.
    server_db(&server.data_dir)?.execute(&format!(
        "UPDATE log SET device_id = '{a_id}' WHERE committee_id = 'm3' AND seq = 2"
    ))?;
    server_db(&server.data_dir)?.execute(
        "UPDATE log SET volunteer = '测试志愿者丁' WHERE committee_id = 'm3' AND seq = 1",
    )?;
    // `log verify` names the first entry that does not hold.
    let said = verify_fails(&server);
    assert!(said.contains("committee m3 entry 1"), "{said}");
    assert!(said.contains("filter columns"), "{said}");
    let by_a = LogFilter {
        device: Some(a_id),
        ..LogFilter::default()
    };
    let code = device_code(supervisor.device.log_page(&by_a));
    assert_eq!(code, ErrorCode::ServerLogUntrusted);
    // Each volunteer's next sync asks again for its entries and finds them changed.
    assert_eq!(code_of(b.sync(&server)), ErrorCode::ServerLogUntrusted);
    let evidence = b.device.log_evidence()?;
    assert_eq!(evidence[0].kind, EvidenceKind::Entry);
    assert!(
        evidence[0].reason.contains("entry 2") && evidence[0].reason.contains("device column"),
        "{evidence:?}"
    );
    assert_eq!(code_of(a.sync(&server)), ErrorCode::ServerLogUntrusted);
    let evidence = a.device.log_evidence()?;
    assert!(
        evidence[0].reason.contains("entry 1") && evidence[0].reason.contains("volunteer column"),
        "{evidence:?}"
    );
    // The reason names no person; the evidence keeps what was written and what is now.
    assert!(!evidence[0].reason.contains("测试"), "{evidence:?}");
    assert!(evidence[0].offered.contains("测试志愿者丁"), "{evidence:?}");
    Ok(())
}

#[test]
fn the_newest_entries_deleted_are_caught_by_a_device_that_held_them() -> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        mut supervisor,
    } = village("m4")?;
    a.device.register_resident(&resident(9))?;
    a.sync(&server)?;
    let size = server_db(&server.data_dir)?.log_size("m4")?;
    b.sync(&server)?; // B shows the server the checkpoint it holds
    // All but the first entry, which every device has seen the log grow beyond.
    server_db(&server.data_dir)?.truncate_log("m4", 1)?;

    let said = verify_fails(&server);
    assert!(said.contains("committee m4"), "{said}");
    assert!(said.contains("deleted"), "{said}");

    // A's next sync: the log is shorter than the checkpoint it holds.
    let held = a.device.register_resident(&resident(10))?.id;
    assert_eq!(code_of(a.sync(&server)), ErrorCode::ServerLogUntrusted);
    let evidence = a.device.log_evidence()?;
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert!(evidence[0].reason.contains("fewer"), "{evidence:?}");
    assert_eq!(evidence[0].kind, EvidenceKind::Shrank);
    assert!(
        evidence[0].held.contains(&format!("\n{size}\n")),
        "{evidence:?}"
    );
    assert!(!evidence[0].offered.is_empty());
    // Syncing stays stopped and the work stays on the tablet.
    assert_eq!(code_of(a.sync(&server)), ErrorCode::ServerLogUntrusted);
    assert!(a.device.resident(&held).is_ok());
    assert!(a.device.log_stopped()?.is_some());

    // A volunteer's tablet has no console: its next bundle carries the evidence to the
    // supervisor's. Two checkpoints carry no time, so the pair proves nothing alone: it
    // is held to at the supervisor's next sync, which stops (here its own checkpoint
    // shows the shrink first; `a_checkpoint_passed_on_by_bundle_is_held_to_at_the_next_sync`
    // has a device whose own is too old to).
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.bundle");
    a.device.export_bundle(&path, None)?;
    let report = supervisor.device.import_bundle(&path)?;
    assert_eq!(report.log_forks, 0);
    assert!(supervisor.device.log_evidence()?.is_empty());
    assert_eq!(
        code_of(supervisor.sync(&server)),
        ErrorCode::ServerLogUntrusted
    );
    let kept = supervisor.device.log_evidence()?;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].kind, EvidenceKind::Shrank);
    Ok(())
}

#[test]
fn a_log_rewritten_with_every_hash_recomputed_is_caught_by_the_checkpoints_devices_hold()
-> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        ..
    } = village("m5")?;
    b.sync(&server)?; // every device has shown the server what it holds
    server_db(&server.data_dir)?.rewrite_log("m5", |body| {
        if body.seq == 1 {
            body.volunteer = "测试志愿者丁".into();
        }
    })?;
    // The database agrees with itself; only the devices' checkpoints reveal it.
    let said = verify_fails(&server);
    assert!(said.contains("committee m5"), "{said}");
    assert!(said.contains("rewritten"), "{said}");
    assert_eq!(code_of(a.sync(&server)), ErrorCode::ServerLogUntrusted);
    let evidence = a.device.log_evidence()?;
    assert!(
        evidence[0].reason.contains("does not extend"),
        "{evidence:?}"
    );
    assert_eq!(evidence[0].kind, EvidenceKind::Rewritten);
    Ok(())
}

#[test]
fn a_fork_shown_to_two_devices_is_caught_by_the_one_it_was_hidden_from() -> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        ..
    } = village("m6")?;
    b.sync(&server)?;
    let size = server_db(&server.data_dir)?.log_size("m6")?;
    // A's work makes entry size+1, which A then holds a checkpoint of.
    a.device.register_resident(&resident(11))?;
    a.sync(&server)?;
    // The server hides it, and shows B a log where entry size+1 is B's own.
    server_db(&server.data_dir)?.truncate_log("m6", size)?;
    b.device.register_resident(&resident(12))?;
    b.sync(&server)?;
    b.sync(&server)?;
    assert!(
        b.device.log_evidence()?.is_empty(),
        "B sees a log that grows"
    );
    // A's next sync shows it the other branch.
    assert_eq!(code_of(a.sync(&server)), ErrorCode::ServerLogUntrusted);
    let evidence = a.device.log_evidence()?;
    // Both checkpoints are the server's, signed, and of logs that cannot both be.
    let held = &evidence[0].held;
    let offered = &evidence[0].offered;
    assert!(held.contains("— doorstep-sync-log "), "{held}");
    assert!(offered.contains("— doorstep-sync-log "), "{offered}");
    assert_ne!(held, offered);
    let said = verify_fails(&server);
    assert!(said.contains("committee m6"), "{said}");
    Ok(())
}

#[test]
fn a_fork_is_proved_when_the_two_devices_meet_by_bundle() -> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        ..
    } = village("m7")?;
    b.sync(&server)?;
    let size = server_db(&server.data_dir)?.log_size("m7")?;
    a.device.register_resident(&resident(13))?;
    a.sync(&server)?;
    // A log of the same length where the last entry is B's, shown to B only.
    server_db(&server.data_dir)?.truncate_log("m7", size)?;
    b.device.register_resident(&resident(14))?;
    b.sync(&server)?;
    assert_eq!(server_db(&server.data_dir)?.log_size("m7")?, size + 1);

    // Offline, B hands A a bundle: it carries B's checkpoint, signed by the server, of
    // the same size as A's and another root.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("b.bundle");
    b.device.export_bundle(&path, None)?;
    let report = a.device.import_bundle(&path)?;
    assert_eq!(report.log_forks, 1);
    assert!(report.records_changed >= 1, "the records still come in");
    let evidence = a.device.log_evidence()?;
    assert!(evidence[0].reason.contains("two logs"), "{evidence:?}");
    assert_eq!(evidence[0].kind, EvidenceKind::Fork);
    assert!(evidence[0].held.contains(&format!("\n{}\n", size + 1)));
    assert!(evidence[0].offered.contains(&format!("\n{}\n", size + 1)));
    assert_ne!(evidence[0].held, evidence[0].offered);
    assert_eq!(code_of(a.sync(&server)), ErrorCode::ServerLogUntrusted);
    Ok(())
}

#[test]
fn a_checkpoint_passed_on_by_bundle_is_held_to_at_the_next_sync() -> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        mut supervisor,
    } = village("m8")?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.bundle");

    // Honest: A's checkpoint, larger than the supervisor's, is proved and let go.
    a.device.register_resident(&resident(15))?;
    a.sync(&server)?;
    a.device.export_bundle(&path, None)?;
    assert_eq!(supervisor.device.import_bundle(&path)?.log_forks, 0);
    supervisor.sync(&server)?;
    assert!(supervisor.device.log_evidence()?.is_empty());

    // The server then drops its newest entries. B has not synced since the village, and
    // its own checkpoint is older than what was dropped; the one A passed it is not.
    a.device.register_resident(&resident(16))?;
    a.sync(&server)?;
    a.device.export_bundle(&path, None)?;
    b.device.import_bundle(&path)?;
    let kept = server_db(&server.data_dir)?.log_size("m8")? - 3;
    server_db(&server.data_dir)?.truncate_log("m8", kept)?;
    assert_eq!(code_of(b.sync(&server)), ErrorCode::ServerLogUntrusted);
    let evidence = b.device.log_evidence()?;
    assert!(
        evidence[0].reason.contains("another device held"),
        "{evidence:?}"
    );
    Ok(())
}

/// The server's answers to syncs, changed on the way as a lying server would send them.
struct Lying<F: FnMut(&mut doorstep_core::protocol::SyncResponse)> {
    inner: doorstep_device::HttpTransport,
    edit: F,
}

impl<F: FnMut(&mut doorstep_core::protocol::SyncResponse)> doorstep_device::sync::Transport
    for Lying<F>
{
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<doorstep_device::sync::HttpAnswer, doorstep_device::sync::NetworkError> {
        let mut answer = self.inner.request(method, path, content_type, auth, body)?;
        if path == "/v1/sync" && answer.status == 200 {
            let mut response: doorstep_core::protocol::SyncResponse =
                doorstep_core::protocol::from_cbor(&answer.body).expect("a sync answer");
            (self.edit)(&mut response);
            answer.body = doorstep_core::protocol::to_cbor(&response);
        }
        Ok(answer)
    }

    fn server_trust(&self) -> Option<doorstep_device::sync::ServerTrust> {
        self.inner.server_trust()
    }
}

#[test]
fn an_answer_that_leaves_out_or_doubles_a_checkpoint_is_refused() -> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        ..
    } = village("m9")?;
    let retry = doorstep_device::RetryPolicy::default();
    // No checkpoint of the log A holds one of: nothing of the answer is taken.
    let waiting = a.device.register_resident(&resident(17))?.id;
    let mut lying = Lying {
        inner: a.transport_to(&server)?,
        edit: |r: &mut doorstep_core::protocol::SyncResponse| r.checkpoints.clear(),
    };
    let e = a
        .device
        .sync_with(&mut lying, &retry)
        .expect_err("an answer without the log's checkpoint");
    assert_eq!(e.code(), ErrorCode::ServerLogUntrusted, "{e}");
    assert!(a.device.log_evidence()?[0].reason.contains("no checkpoint"));
    assert!(a.device.resident(&waiting).is_ok());
    // Two checkpoints of one log, the second another history.
    let mut lying = Lying {
        inner: b.transport_to(&server)?,
        edit: |r: &mut doorstep_core::protocol::SyncResponse| {
            if let Some(first) = r.checkpoints.first().cloned() {
                r.checkpoints.push(first);
            }
        },
    };
    let e = b
        .device
        .sync_with(&mut lying, &retry)
        .expect_err("an answer with two checkpoints of one log");
    assert_eq!(e.code(), ErrorCode::ServerLogUntrusted, "{e}");
    assert!(
        b.device.log_evidence()?[0]
            .reason
            .contains("two checkpoints")
    );
    Ok(())
}

#[test]
fn an_answer_that_hides_an_entry_asked_again_or_claims_an_entry_not_in_the_log_is_refused()
-> anyhow::Result<()> {
    let Village {
        server,
        mut a,
        mut b,
        ..
    } = village("m10")?;
    let retry = doorstep_device::RetryPolicy::default();
    // A asks again for its entries; an answer that leaves them out is not taken.
    let waiting = a.device.register_resident(&resident(18))?.id;
    let mut lying = Lying {
        inner: a.transport_to(&server)?,
        edit: |r: &mut doorstep_core::protocol::SyncResponse| r.audit.clear(),
    };
    let e = a
        .device
        .sync_with(&mut lying, &retry)
        .expect_err("an answer without the entries asked again");
    assert_eq!(e.code(), ErrorCode::ServerLogUntrusted, "{e}");
    let evidence = a.device.log_evidence()?;
    assert!(
        evidence[0].reason.contains("did not show again"),
        "{evidence:?}"
    );
    assert!(a.device.resident(&waiting).is_ok());
    // The entry B's sync wrote, said to be one the checkpoint does not hold.
    b.device.register_resident(&resident(19))?;
    let mut lying = Lying {
        inner: b.transport_to(&server)?,
        edit: |r: &mut doorstep_core::protocol::SyncResponse| {
            for entry in &mut r.written {
                entry.leaf = serde_bytes::ByteBuf::from(vec![7u8; 32]);
            }
        },
    };
    let e = b
        .device
        .sync_with(&mut lying, &retry)
        .expect_err("an entry the checkpoint does not hold");
    assert_eq!(e.code(), ErrorCode::ServerLogUntrusted, "{e}");
    let evidence = b.device.log_evidence()?;
    assert!(
        evidence[0].reason.contains("not in the log"),
        "{evidence:?}"
    );
    Ok(())
}
