//! The enrolled variant of the `bundle_import` target: a device enrolled for committee
//! `c1` holding a key roster the server signed, which checks a bundle's signer and every
//! change it carries against the roster (roles, revocations, attestations, the write
//! rules) before anything is merged.
//!
//! The device enrolls as it always does (`Device::enroll_with`: its key, its actor, the
//! roster taken and the server's key pinned); the enrollment's answer comes from
//! [`EnrollAnswer`] here, signed with a server key of the harness, because the roster
//! is the input being set up, not what is tested.

use automerge::ActorId;
use doorstep_core::attest::change_message;
use doorstep_core::key_roster::{KeyEntry, KeyRoster, SignedKeyRoster};
use doorstep_core::keys::PublicKey;
use doorstep_core::protocol::{Committee, EnrollRequest, EnrollResponse, Role};
use doorstep_core::server_identity::{EnrollText, key_pin};
use doorstep_core::upload::parse_changes;
use doorstep_device::Device;
use doorstep_device::sync::{HttpAnswer, NetworkError, RequestAuth};
use ed25519_dalek::{Signer, SigningKey};

use crate::import::{hex, plain_actor};

const COMMITTEE: &str = "c1";
const SERVER_SEED: [u8; 32] = [9; 32];
/// The key of the roster's volunteers: the device that wrote the household seed (the
/// template device's actor) and actor `01…`.
const VOLUNTEER_SEED: [u8; 32] = [5; 32];
/// The key of the roster's supervisor, actor `02…` (the actors of the `changes` seeds).
const SUPERVISOR_SEED: [u8; 32] = [6; 32];
const OTHER_VOLUNTEER: u8 = 1;
const SUPERVISOR: u8 = 2;

fn actor_of(byte: u8) -> String {
    hex(&[byte; 16])
}

/// The key the roster binds to `actor` (hex), if any.
fn key_of(actor: &str) -> Option<SigningKey> {
    if actor == plain_actor() || actor == actor_of(OTHER_VOLUNTEER) {
        Some(SigningKey::from_bytes(&VOLUNTEER_SEED))
    } else if actor == actor_of(SUPERVISOR) {
        Some(SigningKey::from_bytes(&SUPERVISOR_SEED))
    } else {
        None
    }
}

fn public_hex(seed: [u8; 32]) -> String {
    hex(SigningKey::from_bytes(&seed).verifying_key().as_bytes())
}

/// The roster: the enrolling device (a volunteer, in force), the two volunteers
/// (revoked or not) and the supervisor.
fn roster(device: &EnrollRequest, revoked: bool) -> KeyRoster {
    let entry = |id: &str, actor: String, key: String, role: Role, revoked: bool| KeyEntry {
        device_id: id.to_owned(),
        actor,
        public_key: key,
        name: format!("测试{id}"),
        label: String::new(),
        role,
        committees: vec![COMMITTEE.to_owned()],
        revoked,
    };
    KeyRoster {
        version: format!("fuzz-{revoked}"),
        issued_at: 1_700_000_000_000,
        committees: vec![COMMITTEE.to_owned()],
        entries: vec![
            entry(
                "device",
                device.actor.clone(),
                device.public_key.clone(),
                Role::Volunteer,
                false,
            ),
            entry(
                "peer",
                plain_actor(),
                public_hex(VOLUNTEER_SEED),
                Role::Volunteer,
                revoked,
            ),
            entry(
                "other",
                actor_of(OTHER_VOLUNTEER),
                public_hex(VOLUNTEER_SEED),
                Role::Volunteer,
                revoked,
            ),
            entry(
                "supervisor",
                actor_of(SUPERVISOR),
                public_hex(SUPERVISOR_SEED),
                Role::Supervisor,
                false,
            ),
        ],
    }
}

/// Answers the one request enrolling makes.
struct EnrollAnswer {
    revoked: bool,
}

impl doorstep_device::Transport for EnrollAnswer {
    fn request(
        &mut self,
        method: &str,
        path: &str,
        _content_type: Option<&str>,
        _auth: Option<&RequestAuth>,
        body: Vec<u8>,
    ) -> Result<HttpAnswer, NetworkError> {
        assert_eq!(
            (method, path),
            ("POST", "/v1/enroll"),
            "only enrolling here"
        );
        let request: EnrollRequest = serde_json::from_slice(&body).expect("an enroll request");
        let signed = SignedKeyRoster::sign(
            &roster(&request, self.revoked),
            &SigningKey::from_bytes(&SERVER_SEED),
        );
        let answer = EnrollResponse {
            device_id: "device".into(),
            token: "fuzz-token".into(),
            role: Role::Volunteer,
            name: "测试志愿者".into(),
            committees: vec![Committee {
                id: COMMITTEE.into(),
                name: "测试社区".into(),
                phone: String::new(),
            }],
            key_roster: Some(signed),
        };
        Ok(HttpAnswer {
            status: 200,
            body: serde_json::to_vec(&answer).expect("an answer"),
            bytes_sent: 0,
            bytes_received: 0,
            last_counter: None,
        })
    }
}

/// Enrolls `device` for the committee with the roster above.
pub(crate) fn enroll(device: &mut Device, revoked: bool) {
    let server = SigningKey::from_bytes(&SERVER_SEED);
    let server_key = PublicKey::from_bytes(server.verifying_key().as_bytes()).expect("a key");
    let text = EnrollText {
        server: Some("http://127.0.0.1:9".into()),
        server_key: Some(key_pin(&server_key)),
        code: "FUZZ-CODE".into(),
    };
    device
        .enroll_with(&mut EnrollAnswer { revoked }, &text, "fuzz")
        .expect("the device enrolls");
}

/// The attestation of `change` of record `doc_id` by the key the roster binds to its
/// actor (bytes no key made for a change that does not parse or an actor the roster does
/// not hold).
pub(crate) fn attest(doc_id: &str, change: &[u8]) -> Vec<u8> {
    let Ok(parsed) = parse_changes(&[change]) else {
        return vec![7; 64];
    };
    let Some(change) = parsed.first() else {
        return vec![7; 64];
    };
    let actor: &ActorId = change.actor_id();
    match key_of(&actor.to_hex_string()) {
        Some(key) => key
            .sign(&change_message(doc_id, &change.hash()))
            .to_bytes()
            .to_vec(),
        None => vec![7; 64],
    }
}

/// The bundle's signer and its signature of `body`: the peer volunteer, or the
/// supervisor.
pub(crate) fn sign_bundle(body: &[u8], by_supervisor: bool) -> (String, Vec<u8>) {
    let (actor, seed) = if by_supervisor {
        (actor_of(SUPERVISOR), SUPERVISOR_SEED)
    } else {
        (plain_actor(), VOLUNTEER_SEED)
    };
    let mut message = b"doorstep-bundle-v2\n".to_vec();
    message.extend_from_slice(body);
    let signature = SigningKey::from_bytes(&seed).sign(&message).to_bytes();
    (actor, signature.to_vec())
}
