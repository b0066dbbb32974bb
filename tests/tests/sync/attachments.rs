//! Attachments travel apart from records: resumably, by content, each once.

use doorstep_core::authorization::AuthorizationInput;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::sync::SyncPhase;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{FAST_RETRY, Fault, FaultyTransport, TestDevice, committee};
use doorstep_tests::signed::SignAs;

fn photo(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[usize::from(seed) % 4] ^ seed)
        .collect();
    // A JPEG's signature, so that the device takes it for a photo.
    bytes[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    bytes
}

#[test]
fn photos_and_signatures_reach_other_devices_once_and_resume_after_a_cut() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let mut a = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut b = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    let outsider = TestDevice::enrolled(&server, "c2", "volunteer", "测试志愿者丙")?;

    let resident = a.device.register_resident(&ResidentInput {
        name: "测试老人".into(),
        id_number: IdNumber::complete("11010519400101001").expect("17 digits"),
        ..ResidentInput::default()
    })?;
    let signature = a.device.store_blob(&photo(1, 20_000))?;
    a.device.record_authorization(
        &resident.id,
        &AuthorizationInput {
            services: vec!["medical_insurance".into()],
            valid_from: "2026-11-28".into(),
            valid_to: "2027-11-27".into(),
            signature: signature.clone(),
        },
    )?;
    let app = a
        .device
        .start_application(&resident.id, "medical_insurance")?;
    // Larger than one upload piece (1 MiB), so it goes up in three.
    let big = photo(2, 2_600_000);
    let big_sha = a
        .device
        .attach_file(&app, "id_card_photo", "id.jpg", &big)?;

    // The second piece's answer is lost: the device learns where the server is and
    // resumes there instead of starting again.
    let mut transport = FaultyTransport::new(
        &a.device,
        [
            Fault::Deliver,    // the records, which go first
            Fault::Deliver,    // status of the first blob
            Fault::Deliver,    // its first piece
            Fault::DropAnswer, // its second piece: stored, answer lost
        ],
    )?;
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = heard.clone();
    a.device.on_sync_progress(move |p| {
        if let Ok(mut v) = sink.lock() {
            v.push(p.clone());
        }
    });
    let report = a.device.sync_with(&mut transport, &FAST_RETRY)?;
    assert_eq!(report.blobs_sent, 2, "{report:?}");
    // The progress bar went up piece by piece to every byte, then on to the records.
    let heard = heard.lock().expect("progress").clone();
    let uploads: Vec<(u64, u64)> = heard
        .iter()
        .filter(|p| p.phase == SyncPhase::Upload)
        .map(|p| (p.done, p.total))
        .collect();
    let total = (big.len() + 20_000) as u64;
    assert!(uploads.iter().all(|&(_, t)| t == total), "{uploads:?}");
    assert!(uploads.windows(2).all(|w| w[0].0 <= w[1].0), "{uploads:?}");
    assert_eq!(uploads.first().map(|u| u.0), Some(0), "{uploads:?}");
    assert_eq!(uploads.last().map(|u| u.0), Some(total), "{uploads:?}");
    assert!(
        uploads.len() >= 4,
        "more than one step per blob: {uploads:?}"
    );
    assert!(
        heard.iter().any(|p| p.phase == SyncPhase::Records),
        "{heard:?}"
    );
    assert!(
        report.blob_refusals.is_empty(),
        "{:?}",
        report.blob_refusals
    );
    assert!(
        report.bytes_up < (big.len() + 20_000) as u64 * 3 / 2,
        "a resumed upload does not start over: {} bytes up",
        report.bytes_up
    );
    let mut db = doorstep_tests::fleet::server_db(&server.data_dir)?;
    let complete = db.int("SELECT count(*) FROM blobs WHERE complete = 1")?;
    let pieces_bytes = db.int("SELECT sum(length(bytes)) FROM blob_chunks")?;
    assert_eq!(complete, 2);
    assert_eq!(
        pieces_bytes,
        (big.len() + 20_000) as i64,
        "each byte stored once"
    );

    // B receives the records and then their attachments.
    let down = b.sync(&server)?;
    assert_eq!(down.blobs_received, 2, "{down:?}");
    assert_eq!(b.device.blob(&big_sha)?, big);
    assert_eq!(b.device.blob(&signature)?, photo(1, 20_000));

    // B attaches the same photo elsewhere: the server has it, nothing is sent again.
    let app_b = b
        .device
        .start_application(&resident.id, "minimum_living_allowance")?;
    b.device
        .attach_file(&app_b, "household_register_photo", "hr.jpg", &big)?;
    let again = b.sync(&server)?;
    assert!(again.bytes_up < 100_000, "{} bytes up", again.bytes_up);

    // Another committee's device cannot fetch it, nor learn that the server holds it:
    // it is told what it would be told of an attachment nobody ever sent.
    let client = doorstep_tests::raw_client();
    let response = client
        .get(server.url(&format!("/v1/blobs/{big_sha}")))
        .sign_as(
            &outsider.token()?,
            "GET",
            &format!("/v1/blobs/{big_sha}"),
            b"",
        )
        .send()?;
    assert_eq!(response.status(), 404);
    let never_sent = "1".repeat(64);
    let status_of = |sha: &str| -> anyhow::Result<serde_json::Value> {
        let response = client
            .get(server.url(&format!("/v1/blobs/{sha}/status")))
            .sign_as(
                &outsider.token()?,
                "GET",
                &format!("/v1/blobs/{sha}/status"),
                b"",
            )
            .send()?;
        anyhow::ensure!(response.status() == 200, "status: {}", response.status());
        let mut body: serde_json::Value = serde_json::from_slice(&response.bytes()?)?;
        body["sha256"] = serde_json::Value::Null;
        Ok(body)
    };
    assert_eq!(status_of(&big_sha)?, status_of(&never_sent)?);
    assert_eq!(status_of(&big_sha)?["complete"], false);
    // Nor claim it by sending it: an attachment no record of its committee refers to
    // is refused, held or not.
    for sha in [&big_sha, &never_sent] {
        let response = client
            .put(server.url(&format!("/v1/blobs/{sha}?offset=0&size=5")))
            .sign_as(
                &outsider.token()?,
                "PUT",
                &format!("/v1/blobs/{sha}?offset=0&size=5"),
                b"hello",
            )
            .header("content-type", "application/octet-stream")
            .body(b"hello".to_vec())
            .send()?;
        assert_eq!(response.status(), 409);
        let body: serde_json::Value = serde_json::from_slice(&response.bytes()?)?;
        assert_eq!(body["code"], "blob_unreferenced");
    }
    let response = client
        .get(server.url(&format!("/v1/blobs/{big_sha}")))
        .sign_as(
            &outsider.token()?,
            "GET",
            &format!("/v1/blobs/{big_sha}"),
            b"",
        )
        .send()?;
    assert_eq!(response.status(), 404, "still unreadable after trying");

    // Bytes that do not match their name are refused and not kept (here a record of
    // c1 refers to the name, so the upload is taken up to its last byte).
    let wrong = "0".repeat(64);
    db.execute(&format!(
        "INSERT INTO blob_refs (sha256, committee_id) VALUES ('{wrong}', 'c1')"
    ))?;
    let response = doorstep_tests::raw_client()
        .put(server.url(&format!("/v1/blobs/{wrong}?offset=0&size=5")))
        .sign_as(
            &a.token()?,
            "PUT",
            &format!("/v1/blobs/{wrong}?offset=0&size=5"),
            b"hello",
        )
        .header("content-type", "application/octet-stream")
        .body(b"hello".to_vec())
        .send()?;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&response.bytes()?)?;
    assert_eq!(body["code"], "blob_hash_mismatch");
    let kept = db.int(&format!(
        "SELECT count(*) FROM blobs WHERE sha256 = '{wrong}'"
    ))?;
    assert_eq!(kept, 0);
    Ok(())
}
