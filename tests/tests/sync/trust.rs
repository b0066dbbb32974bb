//! What a device receives is checked where it lands: the server's key roster must be
//! signed by the key pinned at enrollment, a bundle must be signed by an enrolled device
//! of the committee, and every change must hold against the roster; what does not is
//! kept apart, alone, and the rest goes in.

use std::path::Path;

use automerge::AutoCommit;
use doorstep_core::ErrorCode;
use doorstep_core::application::{self, Event, EventKind};
use doorstep_core::attest::change_message;
use doorstep_core::protocol::{self, SyncResponse};
use doorstep_device::Device;
use doorstep_device::error::DeviceError;
use doorstep_device::secret::{DeviceKey, signing_key};
use doorstep_device::sync::{HttpAnswer, HttpTransport, NetworkError, Transport};
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{FAST_RETRY, TestDevice, committee, mock_keyring, register};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

fn code_of(e: &DeviceError) -> ErrorCode {
    e.code()
}

/// How a man in the middle changes the key roster in a sync's answer.
#[derive(Clone, Copy)]
enum Tamper {
    /// Makes every volunteer a supervisor, keeping the server's signature.
    Promote,
    /// Signs a roster of its own with another key.
    Impostor,
}

/// A transport that alters the key roster of each sync answer that carries one.
struct Tampering {
    inner: HttpTransport,
    how: Tamper,
}

impl Transport for Tampering {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        auth: Option<&doorstep_device::sync::RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        let mut answer = self.inner.request(method, path, content_type, auth, body)?;
        if path.starts_with("/v1/sync") && answer.status == 200 {
            let mut response: SyncResponse =
                protocol::from_cbor(&answer.body).expect("a sync answer");
            if let Some(signed) = response.key_roster.as_mut() {
                match self.how {
                    Tamper::Promote => {
                        signed.body = signed.body.replace("\"volunteer\"", "\"supervisor\"");
                    }
                    Tamper::Impostor => {
                        let roster = signed.open(None).expect("the server's roster");
                        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
                        *signed = doorstep_core::key_roster::SignedKeyRoster::sign(&roster, &key);
                    }
                }
            }
            answer.body = protocol::to_cbor(&response);
        }
        Ok(answer)
    }
}

#[test]
fn a_key_roster_altered_in_transit_or_signed_by_another_key_stops_the_sync() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut supervisor = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let first = register(&mut volunteer.device, "测试甲", "11010119400101001")?;
    volunteer.sync(&server)?;
    supervisor.sync(&server)?;
    supervisor.device.resident(&first)?;

    // A new tablet changes the roster; the next answer carries it.
    TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    let second = register(&mut volunteer.device, "测试乙", "11010119400101002")?;
    volunteer.sync(&server)?;
    for how in [Tamper::Promote, Tamper::Impostor] {
        let mut tampering = Tampering {
            inner: supervisor.transport_to(&server)?,
            how,
        };
        let e = supervisor
            .device
            .sync_with(&mut tampering, &FAST_RETRY)
            .expect_err("a roster that is not the server's");
        assert_eq!(code_of(&e), ErrorCode::KeyRosterInvalid);
        // Nothing of that answer was stored.
        assert!(supervisor.device.resident(&second).is_err());
    }
    // The honest answer goes in.
    supervisor.sync(&server)?;
    supervisor.device.resident(&second)?;
    assert!(supervisor.device.records_aside()?.is_empty());
    Ok(())
}

/// A bundle file as an attacker reads and writes it: the same format as the device's.
#[derive(Debug, Serialize, Deserialize)]
struct SignedBundle {
    version: u32,
    actor: String,
    signature: ByteBuf,
    body: ByteBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Bundle {
    version: u32,
    created_at: i64,
    docs: Vec<BundleDoc>,
    blobs: Vec<(String, ByteBuf)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BundleDoc {
    doc_id: String,
    kind: String,
    #[serde(default)]
    committee: String,
    changes: Vec<ByteBuf>,
    #[serde(default)]
    signatures: Vec<ByteBuf>,
}

const MAGIC: &[u8; 16] = b"DOORSTEP-BUNDLE\n";

fn read_bundle(path: &Path) -> anyhow::Result<(SignedBundle, Bundle)> {
    let file = std::fs::read(path)?;
    let signed: SignedBundle =
        protocol::from_cbor(&file[16..file.len() - 32]).map_err(anyhow::Error::msg)?;
    let bundle = protocol::from_cbor(&signed.body).map_err(anyhow::Error::msg)?;
    Ok((signed, bundle))
}

/// Writes `bundle` as `actor`'s, signed with `key` (or keeping `signature`), with a
/// correct checksum.
fn write_bundle(
    path: &Path,
    actor: &str,
    bundle: &Bundle,
    sign: Option<&DeviceKey>,
    signature: &ByteBuf,
) -> anyhow::Result<()> {
    let body = protocol::to_cbor(bundle);
    let signature = match sign {
        Some(key) => {
            let mut message = b"doorstep-bundle-v2\n".to_vec();
            message.extend_from_slice(&body);
            ByteBuf::from(key.sign(&message).to_vec())
        }
        None => signature.clone(),
    };
    let signed = SignedBundle {
        version: 2,
        actor: actor.to_owned(),
        signature,
        body: ByteBuf::from(body),
    };
    let mut file = MAGIC.to_vec();
    file.extend_from_slice(&protocol::to_cbor(&signed));
    let digest = Sha256::digest(&file);
    file.extend_from_slice(&digest);
    std::fs::write(path, file)?;
    Ok(())
}

fn import_code(device: &mut Device, path: &Path) -> ErrorCode {
    code_of(&device.import_bundle(path).expect_err("refused"))
}

#[test]
fn a_bundle_is_taken_only_signed_by_an_enrolled_device_of_the_committee() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    committee(&server, "c2")?;
    let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut elsewhere = TestDevice::enrolled(&server, "c2", "volunteer", "测试志愿者丙")?;
    // Enrolled last: its roster knows the others.
    let mut supervisor = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    mock_keyring();
    let stranger_dir = tempfile::tempdir()?;
    let mut stranger = Device::open(stranger_dir.path())?;
    let files = tempfile::tempdir()?;
    let at = |name: &str| files.path().join(name);

    let honest = register(&mut volunteer.device, "测试甲", "11010119400101001")?;
    volunteer.device.export_bundle(&at("honest"), None)?;
    let foreign = register(&mut elsewhere.device, "测试丙", "11010119400101003")?;
    elsewhere.device.export_bundle(&at("foreign"), None)?;
    let stray = register(&mut stranger, "测试丁", "11010119400101004")?;
    stranger.export_bundle(&at("stranger"), None)?;

    // A tablet nobody enrolled: a signer this device does not know.
    assert_eq!(
        import_code(&mut supervisor.device, &at("stranger")),
        ErrorCode::BundleSignerUnknown
    );
    // Another committee's: foreign.
    assert_eq!(
        import_code(&mut supervisor.device, &at("foreign")),
        ErrorCode::BundleForeign
    );
    // Altered after it was signed (the checksum made right again): forged.
    let (signed, mut bundle) = read_bundle(&at("honest"))?;
    bundle.created_at += 1;
    write_bundle(
        &at("altered"),
        &signed.actor,
        &bundle,
        None,
        &signed.signature,
    )?;
    assert_eq!(
        import_code(&mut supervisor.device, &at("altered")),
        ErrorCode::BundleForged
    );
    // Claimed for another device: forged.
    bundle.created_at -= 1;
    write_bundle(
        &at("claimed"),
        &supervisor.device.actor_hex(),
        &bundle,
        None,
        &signed.signature,
    )?;
    assert_eq!(
        import_code(&mut supervisor.device, &at("claimed")),
        ErrorCode::BundleForged
    );
    // Nothing of the refused bundles was stored.
    for name in [&stray, &foreign] {
        assert!(supervisor.device.resident(name).is_err(), "nothing stored");
    }

    // The genuine bundle goes in.
    let report = supervisor.device.import_bundle(&at("honest"))?;
    assert_eq!((report.records_changed, report.set_aside), (1, 0));
    supervisor.device.resident(&honest)?;

    // Once revoked, the volunteer's tablet signs nothing anyone takes.
    let device_id = volunteer
        .device
        .enrollment()?
        .map(|e| e.device_id)
        .unwrap_or_default();
    server.admin(&["device", "revoke", &device_id])?;
    supervisor.sync(&server)?;
    let late = register(&mut volunteer.device, "测试戊", "11010119400101005")?;
    volunteer.device.export_bundle(&at("revoked"), None)?;
    assert_eq!(
        import_code(&mut supervisor.device, &at("revoked")),
        ErrorCode::BundleForged
    );
    assert!(supervisor.device.resident(&late).is_err());
    Ok(())
}

#[test]
fn a_volunteers_own_approval_in_a_bundle_is_kept_apart_and_the_rest_goes_in() -> anyhow::Result<()>
{
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut volunteer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    let mut supervisor = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let person = register(&mut volunteer.device, "测试甲", "11010119400101001")?;
    volunteer.authorize(&person, &["senior_allowance"])?;
    let app = volunteer
        .device
        .start_application(&person, "senior_allowance")?;
    let files = tempfile::tempdir()?;
    let path = files.path().join("bundle");
    volunteer.device.export_bundle(&path, None)?;

    // The lost tablet's key appends an approval the app would never make, signs it, and
    // signs the bundle: every signature holds, the rule does not.
    let key = signing_key(volunteer.dir.path(), "")?;
    let actor = volunteer.device.actor_hex();
    let (_, mut bundle) = read_bundle(&path)?;
    let doc = bundle
        .docs
        .iter_mut()
        .find(|d| d.doc_id == app.as_str())
        .expect("the application is in the bundle");
    let mut forged = AutoCommit::new().with_actor(automerge::ActorId::from(hex::decode(&actor)?));
    for change in &doc.changes {
        forged.load_incremental(change)?;
    }
    let heads = forged.get_heads();
    application::append_event(
        &mut forged,
        &Event {
            id: uuid::Uuid::now_v7().to_string(),
            kind: EventKind::Approved,
            at: 1_780_000_000_000,
            by: "测试志愿者甲".into(),
            device: String::new(),
            text: String::new(),
            consent: None,
        },
    )?;
    forged.commit();
    for change in forged.get_changes(&heads) {
        doc.changes.push(ByteBuf::from(change.raw_bytes().to_vec()));
        doc.signatures.push(ByteBuf::from(
            key.sign(&change_message(app.as_str(), &change.hash()))
                .to_vec(),
        ));
    }
    write_bundle(&path, &actor, &bundle, Some(&key), &ByteBuf::new())?;

    let report = supervisor.device.import_bundle(&path)?;
    assert_eq!(report.set_aside, 1, "{report:?}");
    // The resident, the authorization and the application as the volunteer made it are
    // in; the approval is not.
    supervisor.device.resident(&person)?;
    let held = supervisor.device.application(&app)?;
    assert!(
        held.events.iter().all(|e| e.kind != EventKind::Approved),
        "the forged approval was merged"
    );
    let aside = supervisor.device.records_aside()?;
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0].doc_id, app.as_str());
    assert_eq!(aside[0].code, ErrorCode::RuleForbidden);
    assert_eq!(aside[0].changes, 1);
    assert_eq!(
        aside[0].authors,
        vec!["测试志愿者甲 (test tablet)".to_owned()]
    );

    // The honest work meets the server and the supervisor again: it merges, and the
    // forged change stays apart.
    volunteer.sync(&server)?;
    supervisor.sync(&server)?;
    let held = supervisor.device.application(&app)?;
    assert!(held.events.iter().all(|e| e.kind != EventKind::Approved));
    assert_eq!(supervisor.device.records_aside()?.len(), 1);
    Ok(())
}

#[test]
fn a_revoked_tablets_work_relayed_before_the_revocation_reaches_everyone() -> anyhow::Result<()> {
    let server = ServerProcess::start()?;
    committee(&server, "c1")?;
    let mut lost = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者甲")?;
    // Enrolled after the lost tablet: their rosters hold it.
    let mut peer = TestDevice::enrolled(&server, "c1", "volunteer", "测试志愿者乙")?;
    let mut supervisor = TestDevice::enrolled(&server, "c1", "supervisor", "测试主任")?;
    let files = tempfile::tempdir()?;
    let at = |name: &str| files.path().join(name);

    // The tablet's work, carried to a peer by bundle while both were offline, and the
    // peer's own note on top of it; then the tablet is lost and revoked.
    let resident = register(&mut lost.device, "测试甲", "11010119400101001")?;
    lost.device.export_bundle(&at("before"), None)?;
    let report = peer.device.import_bundle(&at("before"))?;
    assert_eq!((report.records_changed, report.set_aside), (1, 0));
    peer.device
        .set_resident_notes(&resident, "测试：门口有台阶")?;
    let device_id = lost
        .device
        .enrollment()?
        .map(|e| e.device_id)
        .unwrap_or_default();
    server.admin(&["device", "revoke", &device_id])?;

    // The peer names the key roster it held when it took the changes: the server issued
    // it before the revocation, so the record is taken whole, and reaches the others.
    peer.sync(&server)?;
    assert!(
        peer.device.refused_views()?.is_empty(),
        "refused: {:?}",
        peer.device.refused_views()?
    );
    supervisor.sync(&server)?;
    let theirs = supervisor.device.resident(&resident)?;
    assert_eq!(theirs.notes, "测试：门口有台阶");
    assert!(supervisor.device.records_aside()?.is_empty());

    // What the lost tablet writes afterwards is not taken from a peer that knows.
    let late = register(&mut lost.device, "测试乙", "11010119400101002")?;
    lost.device.export_bundle(&at("after"), None)?;
    assert_eq!(
        import_code(&mut peer.device, &at("after")),
        ErrorCode::BundleForged
    );
    assert!(peer.device.resident(&late).is_err());
    Ok(())
}
