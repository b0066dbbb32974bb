//! The fleet harness: devices and a server in one process on one fake clock, plugged in
//! and out as a village's signal comes and goes (doorstep_tests::harness).

use doorstep_core::DocId;
use doorstep_core::id_number::IdNumber;
use doorstep_core::protocol::Role;
use doorstep_core::resident::{ResidentInput, ResidentPatch};
use doorstep_device::{DeviceError, ErrorCode};
use doorstep_tests::harness::{DAY_MS, Fleet, HOUR_MS, START_MS};

fn resident() -> ResidentInput {
    ResidentInput {
        name: "测试甲".into(),
        id_number: IdNumber::complete("32010619400101001").expect("17 digits"),
        ..ResidentInput::default()
    }
}

#[test]
fn a_week_out_of_signal_loses_nothing_and_keeps_when_each_edit_was_made() -> anyhow::Result<()> {
    let mut fleet = Fleet::new("f1")?;
    let a = fleet.volunteer("测试志愿者甲")?;
    let b = fleet.volunteer("测试志愿者乙")?;
    let s = fleet.supervisor("测试主任")?;
    let id: DocId = fleet.device(a).register_resident(&resident())?.id;
    let first = fleet.run_until_quiet()?;
    assert!(first.rounds <= 3, "{first:?}");
    assert_eq!(fleet.device(s).resident(&id)?.name, "测试甲");

    // B walks into a village without signal; the next day both edit the same resident.
    fleet.disconnect(b);
    fleet.advance(DAY_MS);
    let phone = ResidentPatch {
        phone: Some("13912345678".into()),
        ..ResidentPatch::default()
    };
    fleet.device(a).update_resident(&id, phone)?;
    let address = ResidentPatch {
        address: Some("测试村三组".into()),
        ..ResidentPatch::default()
    };
    fleet.device(b).update_resident(&id, address)?;
    let refused = fleet.sync(b).expect_err("no signal");
    assert_eq!(refused.code(), ErrorCode::ServerUnreachable);
    assert_eq!(fleet.device(b).sync_status()?.pending_docs, 1);
    fleet.run_until_quiet()?;
    assert_eq!(
        fleet.device(s).resident(&id)?.address,
        "",
        "B's edit is still on B"
    );

    // A week later B is back in signal: everything meets everywhere.
    fleet.advance(7 * DAY_MS);
    fleet.connect(b);
    let back = fleet.run_until_quiet()?;
    assert!(back.rounds <= 3, "{back:?}");
    for m in [a, b, s] {
        let r = fleet.device(m).resident(&id)?;
        assert_eq!(
            (r.phone.as_str(), r.address.as_str()),
            ("13912345678", "测试村三组")
        );
        assert_eq!(fleet.device(m).sync_status()?.pending_docs, 0);
    }
    // The history says when B edited (offline, a day in), not when it arrived.
    let history = fleet.device(s).history(&id)?;
    let by_b = history
        .iter()
        .find(|h| h.author.volunteer == "测试志愿者乙")
        .expect("B's edit in the history");
    assert_eq!(by_b.author.at, START_MS + DAY_MS);
    // And the device's "today" is the fleet's: 2026-06-09 in China.
    assert_eq!(fleet.device(s).today(), (2026, 6, 9));
    Ok(())
}

#[test]
fn an_enrollment_code_expires_on_the_servers_clock() -> anyhow::Result<()> {
    let fleet = Fleet::new("f2")?;
    let code = fleet
        .server()
        .enrollment_code(&["f2"], Role::Volunteer, "测试志愿者丙")?;
    fleet.advance(2 * HOUR_MS);
    let refused = fleet
        .server()
        .device_with_code(&code)
        .expect_err("the code lived an hour");
    assert!(
        matches!(&refused, DeviceError::Server { code, .. } if code == "enrollment_expired"),
        "{refused}"
    );
    assert_eq!(refused.code(), ErrorCode::EnrollmentExpired);
    // A fresh code, on the same clock, works.
    let code = fleet
        .server()
        .enrollment_code(&["f2"], Role::Volunteer, "测试志愿者丙")?;
    assert!(fleet.server().device_with_code(&code).is_ok());
    Ok(())
}

#[test]
fn many_devices_in_one_process_sync_in_milliseconds() -> anyhow::Result<()> {
    let mut fleet = Fleet::new("f3")?;
    let members: Vec<_> = (0..8)
        .map(|i| fleet.volunteer(&format!("测试志愿者{i}")))
        .collect::<anyhow::Result<_>>()?;
    for (i, m) in members.iter().enumerate() {
        let input = ResidentInput {
            name: format!("测试{}", ["甲", "乙", "丙", "丁"][i % 4]),
            id_number: IdNumber::complete(&format!("320106194002{:02}{:03}", i + 1, i))
                .expect("17 digits"),
            ..ResidentInput::default()
        };
        fleet.device(*m).register_resident(&input)?;
    }
    let started = std::time::Instant::now();
    let quiet = fleet.run_until_quiet()?;
    let per_sync = started.elapsed().as_secs_f64() * 1000.0 / quiet.syncs as f64;
    eprintln!(
        "fleet: 8 devices quiet after {} rounds, {} syncs, {per_sync:.1} ms a sync",
        quiet.rounds, quiet.syncs
    );
    for m in &members {
        assert_eq!(fleet.device(*m).list_residents()?.len(), 8);
    }
    Ok(())
}

#[test]
fn a_large_backlog_and_a_reenrollment_go_up_in_bounded_requests() -> anyhow::Result<()> {
    // A server that takes at most 300 records or 256 KiB a request, less than the
    // device sends at first: it learns from the refusals and splits further.
    let limits = doorstep_core::protocol::Limits {
        documents_per_request: 300,
        request_bytes: 256 * 1024,
        ..doorstep_core::protocol::Limits::default()
    };
    let mut fleet = Fleet::with_limits("f4", limits)?;
    let a = fleet.volunteer("测试志愿者甲")?;
    let b = fleet.volunteer("测试志愿者乙")?;
    let inputs: Vec<ResidentInput> = (0..2_500)
        .map(|i| ResidentInput {
            name: format!("测试{}", ["甲", "乙", "丙", "丁"][i % 4]),
            id_number: IdNumber::complete(&format!(
                "320106194{:01}{:02}{:02}{:03}",
                i % 10,
                1 + i / 280 % 12,
                1 + i % 28,
                i % 1000
            ))
            .expect("17 digits"),
            ..ResidentInput::default()
        })
        .collect();
    fleet
        .device(a)
        .register_residents(&inputs)
        .map_err(|(i, e)| anyhow::anyhow!("row {i}: {e}"))?;

    let up = fleet.sync(a)?;
    assert_eq!(up.sent_docs, 2_500);
    assert!(up.refused.is_empty(), "{:?}", up.refused);
    assert!(up.round_trips >= 9, "{} requests", up.round_trips);
    assert_eq!(fleet.device(a).sync_status()?.pending_docs, 0);
    let down = fleet.sync(b)?;
    assert_eq!(down.received_docs, 2_500);
    assert_eq!(fleet.device(b).list_residents()?.len(), 2_500);

    // Enrolled again, the device sends everything once more, in batches, and completes.
    fleet.reenroll(a, "测试志愿者甲")?;
    assert_eq!(fleet.device(a).sync_status()?.pending_docs, 2_500);
    let again = fleet.sync(a)?;
    assert_eq!(again.sent_docs, 2_500);
    assert!(again.refused.is_empty());
    assert_eq!(fleet.device(a).sync_status()?.pending_docs, 0);
    eprintln!(
        "backlog: 2,500 records up in {} requests ({} bytes), down in {}",
        up.round_trips, up.bytes_up, down.round_trips
    );
    Ok(())
}

#[test]
fn an_attachment_upload_left_unfinished_expires_and_the_device_starts_it_again()
-> anyhow::Result<()> {
    use doorstep_core::protocol::BlobStatus;
    use doorstep_device::Transport;
    let mut fleet = Fleet::new("f5")?;
    let a = fleet.volunteer("测试志愿者甲")?;
    let token = fleet.token(a)?;
    let mut transport = fleet.server().transport();
    let mut put = |sha: &str, size: usize, bytes: &[u8]| -> anyhow::Result<u16> {
        let path = format!("/v1/blobs/{sha}?offset=0&size={size}");
        let auth = doorstep_tests::signed::auth(&token, "PUT", &path, bytes);
        let answer = transport.request(
            "PUT",
            &path,
            Some("application/octet-stream"),
            auth.as_ref(),
            bytes.to_vec(),
        )?;
        Ok(answer.status)
    };
    // A quarter of an attachment: its first piece only. (Records of the committee refer
    // to each attachment here: the server takes no other.)
    let whole = vec![7u8; 4096];
    let sha = doorstep_server::store::sha256_hex(&whole);
    let other = vec![9u8; 10];
    let other_sha = doorstep_server::store::sha256_hex(&other);
    let third = vec![5u8; 10];
    for s in [
        &sha,
        &other_sha,
        &doorstep_server::store::sha256_hex(&third),
    ] {
        fleet.server().refer_to_blob(s, "f5")?;
    }
    assert_eq!(put(&sha, whole.len(), &whole[..1024])?, 200);
    let status = |sha: &str| -> anyhow::Result<BlobStatus> {
        let path = format!("/v1/blobs/{sha}/status");
        let auth = doorstep_tests::signed::auth(&token, "GET", &path, b"");
        let answer =
            fleet
                .server()
                .transport()
                .request("GET", &path, None, auth.as_ref(), Vec::new())?;
        Ok(serde_json::from_slice(&answer.body)?)
    };
    assert_eq!(status(&sha)?.received, 1024);

    // Six days on it is still kept; eight days on, the next upload sweeps it away.
    fleet.advance(6 * DAY_MS);
    assert_eq!(put(&other_sha, other.len(), &other)?, 200);
    assert_eq!(status(&sha)?.received, 1024);
    fleet.advance(2 * DAY_MS);
    assert_eq!(
        put(&doorstep_server::store::sha256_hex(&third), 10, &third)?,
        200
    );
    let expired = status(&sha)?;
    assert_eq!((expired.received, expired.size), (0, None));
    assert!(status(&other_sha)?.complete, "complete ones are kept");
    // Starting it again from the beginning works.
    assert_eq!(put(&sha, whole.len(), &whole[..1024])?, 200);
    Ok(())
}
