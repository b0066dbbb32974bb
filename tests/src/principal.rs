//! A raw client's identity: an Ed25519 key and an actor enrolled with a server over
//! plain HTTP, for requests no real device would make. Its documents are written with
//! its actor and its uploads carry its signatures, so that each test can change exactly
//! the one thing it is about (a signature, an actor, a role) and nothing else.

use std::collections::HashMap;

use automerge::{ActorId, AutoCommit, Change};
use doorstep_core::attest::change_message;
use doorstep_core::protocol::{self, DocUpload, EnrollResponse, SyncRequest, SyncResponse};
use doorstep_device::secret::DeviceKey;
use serde_bytes::ByteBuf;

use crate::ServerProcess;
use crate::fleet::{enrollment_code, signed_enroll_body};
use crate::signed::SignAs;

/// An enrolled key and actor, with the token and answer the server gave.
#[derive(Debug)]
pub struct Principal {
    pub key: std::sync::Arc<DeviceKey>,
    pub actor: ActorId,
    pub enrolled: EnrollResponse,
}

impl Principal {
    /// Trades `code` for an identity with a fresh key and actor.
    pub fn enroll(server: &ServerProcess, code: &str) -> anyhow::Result<Principal> {
        let key = std::sync::Arc::new(DeviceKey::generate()?);
        let actor = ActorId::from(uuid::Uuid::new_v4().into_bytes().as_slice());
        let response = crate::raw_client()
            .post(server.url("/v1/enroll"))
            .header("content-type", "application/json")
            .body(signed_enroll_body(code, &key, &actor.to_hex_string()))
            .send()?;
        anyhow::ensure!(response.status() == 200, "enroll: {}", response.status());
        let enrolled: EnrollResponse = serde_json::from_slice(&response.bytes()?)?;
        crate::signed::register(&enrolled.token, std::sync::Arc::clone(&key));
        Ok(Principal {
            key,
            actor,
            enrolled,
        })
    }

    /// A new identity of `role` in `committees`.
    pub fn new(
        server: &ServerProcess,
        committees: &[&str],
        role: &str,
    ) -> anyhow::Result<Principal> {
        let code = enrollment_code(&server.data_dir, committees, role, "测试人员", "1h")?;
        Principal::enroll(server, &code)
    }

    /// Its bearer token.
    pub fn token(&self) -> &str {
        &self.enrolled.token
    }

    /// An empty document whose changes are this principal's.
    pub fn doc(&self) -> AutoCommit {
        AutoCommit::new().with_actor(self.actor.clone())
    }

    /// Its signature of one change's bytes in record `doc_id` (empty for bytes that are
    /// not a change).
    pub fn sign(&self, doc_id: &str, change: &[u8]) -> ByteBuf {
        match Change::try_from(change) {
            Ok(change) => ByteBuf::from(
                self.key
                    .sign(&change_message(doc_id, &change.hash()))
                    .to_vec(),
            ),
            Err(_) => ByteBuf::new(),
        }
    }

    /// A sync request's CBOR carrying one new resident record of this principal's, its
    /// changes signed: an upload the server takes.
    pub fn new_resident_sync(&self) -> Vec<u8> {
        use automerge::ROOT;
        use automerge::transaction::Transactable;
        let mut doc = self.doc();
        doc.put(ROOT, "kind", "resident").expect("put");
        doc.put(ROOT, "name", "测试").expect("put");
        doc.commit();
        let doc_id = uuid::Uuid::now_v7().to_string();
        protocol::to_cbor(&SyncRequest {
            key_roster: String::new(),
            log_held: Vec::new(),
            log_seen: Vec::new(),
            log_audit: Vec::new(),
            sync_id: uuid::Uuid::new_v4().to_string(),
            cursor: 0,
            volunteer: String::new(),
            docs: vec![self.upload(&doc_id, "resident", changes_of(&mut doc, &[]))],
        })
    }

    /// One document's changes, each signed by this principal.
    pub fn upload(&self, doc_id: &str, kind: &str, changes: Vec<ByteBuf>) -> DocUpload {
        let signatures = changes.iter().map(|c| self.sign(doc_id, c)).collect();
        DocUpload {
            doc_id: doc_id.into(),
            kind: kind.into(),
            committee: None,
            changes,
            signatures,
            relayed: Vec::new(),
        }
    }
}

/// Every change of `doc` after `since`, as raw bytes.
pub fn changes_of(doc: &mut AutoCommit, since: &[automerge::ChangeHash]) -> Vec<ByteBuf> {
    doc.get_changes(since)
        .iter()
        .map(|c| ByteBuf::from(c.raw_bytes().to_vec()))
        .collect()
}

/// One sync request of `token`'s holder from `cursor`, carrying `docs`, and the answer.
pub fn raw_sync(
    server: &ServerProcess,
    token: &str,
    cursor: u64,
    docs: Vec<DocUpload>,
) -> anyhow::Result<SyncResponse> {
    let body = protocol::to_cbor(&SyncRequest {
        key_roster: String::new(),
        log_held: Vec::new(),
        log_seen: Vec::new(),
        log_audit: Vec::new(),
        sync_id: uuid::Uuid::new_v4().to_string(),
        cursor,
        volunteer: String::new(),
        docs,
    });
    let response = crate::raw_client()
        .post(server.url("/v1/sync"))
        .sign_as(token, "POST", "/v1/sync", &body)
        .header("content-type", protocol::CBOR)
        .body(body)
        .send()?;
    anyhow::ensure!(response.status() == 200, "sync: {}", response.status());
    protocol::from_cbor(&response.bytes()?).map_err(anyhow::Error::msg)
}

/// Every record `p` may read, as documents, by id.
pub fn pull(server: &ServerProcess, p: &Principal) -> anyhow::Result<HashMap<String, AutoCommit>> {
    let mut docs: HashMap<String, AutoCommit> = HashMap::new();
    let mut cursor = 0;
    loop {
        let answer = raw_sync(server, p.token(), cursor, Vec::new())?;
        for d in answer.docs {
            let doc = docs.entry(d.doc_id).or_default();
            for change in d.changes {
                doc.load_incremental(&change)?;
            }
        }
        cursor = answer.cursor;
        if !answer.more {
            return Ok(docs);
        }
    }
}
