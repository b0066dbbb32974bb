//! The sync protocol between devices and the server, version 1 (`/v1/`).
//!
//! One sync is one `POST /v1/sync` carrying every document the device changed since the
//! server last acknowledged it, as Automerge change bytes, and the cursor the device last
//! received. The server answers with every change of the device's scope stored since
//! that cursor (other than the device's own), and a new cursor. When the answer would
//! exceed [`Limits::response_bytes`] it says `more` and the device asks again: a day's
//! work takes at most two round trips whatever the number of documents.
//!
//! Bodies are CBOR (`application/cbor`) so that change bytes travel as bytes rather
//! than base64 text; errors are JSON ([`ApiError`]). Everything is idempotent: a change
//! is stored once by its hash, and a request is recognised by its `sync_id`, so a resent
//! or replayed request changes nothing and appends no second sync-log entry.

use serde::{Deserialize, Serialize};

/// The media type of sync bodies.
pub const CBOR: &str = "application/cbor";

/// The protocol version, the first segment of every API path.
pub const VERSION: &str = "v1";

/// The request's counter, with the signature of [`crate::keys::request_message`]; and,
/// on a `request_replayed` refusal, the last counter the server took from the device.
pub const COUNTER_HEADER: &str = "x-doorstep-counter";
/// The device key's signature of [`crate::keys::request_message`], hex.
pub const SIGNATURE_HEADER: &str = "x-doorstep-signature";

/// Every code the server answers a refusal with (the `code` of [`ApiError`]).
pub const ERROR_CODES: &[&str] = &[
    "actor_invalid",
    "actor_taken",
    "application_locked",
    "attestation_invalid",
    "attestation_missing",
    "author_committee",
    "author_revoked",
    "author_unknown",
    "blob_empty",
    "change_too_large",
    "too_many_operations",
    "blob_hash_mismatch",
    "blob_overflow",
    "blob_size_mismatch",
    "blob_too_large",
    "blob_unknown",
    "blob_unreferenced",
    "invalid_blob_hash",
    "offset_mismatch",
    "body_unreadable",
    "committee_forbidden",
    "committee_required",
    "committee_unknown",
    "cross_committee",
    "device_forbidden",
    "device_revoked",
    "device_unknown",
    "document_too_large",
    "duplicate_document",
    "enrollment_expired",
    "enrollment_unknown",
    "enrollment_used",
    "event_altered",
    "four_eyes",
    "invalid_body",
    "invalid_change",
    "invalid_committee_id",
    "invalid_committee_name",
    "invalid_doc_id",
    "invalid_name",
    "invalid_query",
    "invalid_sync_id",
    "kind_mismatch",
    "method_not_allowed",
    "missing_dependencies",
    "no_changes",
    "no_such_endpoint",
    "not_tls",
    "one_committee_for_volunteer",
    "public_key_invalid",
    "request_replayed",
    "request_signature_invalid",
    "request_too_large",
    "request_unsigned",
    "role_forbidden",
    "rule_forbidden",
    "signature_invalid",
    "storage_unavailable",
    "storage_full",
    "token_malformed",
    "token_missing",
    "token_unknown",
    "too_many_documents",
    "unknown_kind",
    "unsupported_encoding",
    "unsupported_media_type",
];

/// The limits a server enforces; a request beyond one is refused with its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// The largest request body, in bytes (`request_too_large`).
    pub request_bytes: usize,
    /// The most documents in one request (`too_many_documents`).
    pub documents_per_request: usize,
    /// The largest document, all its changes together, in bytes (`document_too_large`).
    pub document_bytes: usize,
    /// The most change bytes the server puts in one answer before saying `more`.
    pub response_bytes: usize,
    /// The largest attachment, in bytes (`blob_too_large`).
    pub blob_bytes: u64,
    /// How long an attachment upload left unfinished is kept before it is deleted (a
    /// device that comes back later starts it again), in hours.
    pub partial_blob_hours: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_bytes: 32 * 1024 * 1024,
            documents_per_request: 20_000,
            document_bytes: 8 * 1024 * 1024,
            response_bytes: 16 * 1024 * 1024,
            blob_bytes: 10 * 1024 * 1024,
            partial_blob_hours: 7 * 24,
        }
    }
}

/// Roles a device can be enrolled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Volunteer,
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Volunteer => "volunteer",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "volunteer" => Some(Role::Volunteer),
            "supervisor" => Some(Role::Supervisor),
            _ => None,
        }
    }
}

/// `POST /v1/enroll` (JSON): trade a one-time code for a device id and token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    /// What the device calls itself (shown to supervisors), optional.
    #[serde(default)]
    pub device_label: String,
    /// The device's Ed25519 public key (64 hex digits, see [`crate::keys`]), bound to
    /// the device, its role, committees and person. Required.
    #[serde(default)]
    pub public_key: String,
    /// The device's Automerge actor id (hex), bound to that key for good: no other key
    /// may claim it (`actor_taken`). Required.
    #[serde(default)]
    pub actor: String,
    /// The key's signature (128 hex digits) of
    /// [`crate::keys::enrollment_message`]`(code, actor, public_key)`: proof that the
    /// device holds the private key, so nobody can bind another's public key and actor.
    #[serde(default)]
    pub signature: String,
}

/// `POST /v1/enrollments` (JSON): a supervisor asks for a one-time code that enrolls a
/// volunteer of their committees (to add them to a shared tablet on the spot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRequest {
    /// The volunteer's name.
    pub name: String,
    /// The one committee the volunteer belongs to: one of the supervisor's.
    pub committee: String,
}

/// The answer to a [`CodeRequest`]: the code (shown once) and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeResponse {
    pub code: String,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
}

/// The answer to an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: String,
    /// The bearer token; the server keeps only its hash, so it is shown once.
    pub token: String,
    pub role: Role,
    /// The person the code was made for.
    pub name: String,
    /// The committees the device may read and write (one for a volunteer).
    pub committees: Vec<Committee>,
    /// The keys and roles of those committees, signed by the server's key, which the
    /// device pins. (Absent from a server older than signed rosters.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_roster: Option<SignedKeyRoster>,
}

/// A committee (村委会 / 居委会), the scope of documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Committee {
    pub id: String,
    pub name: String,
    /// The phone residents may call (printed on their receipts); empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
}

/// One document's changes going up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocUpload {
    pub doc_id: String,
    /// `resident`, `authorization`, `application` or `visit`.
    pub kind: String,
    /// For a new document from a device with several committees: which one it belongs
    /// to. Ignored for a document the server already has (its committee never moves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committee: Option<String>,
    /// Raw Automerge changes, each as `Change::raw_bytes`.
    pub changes: Vec<serde_bytes::ByteBuf>,
    /// The author's attestation of each change, in the same order: the signature
    /// (64 bytes) of `doorstep-change-v2\n<doc_id>\n` followed by the change's 32-byte
    /// hash (the attest module's `change_message`) by the key bound to the change's
    /// actor. A change the server has not stored before is refused without one.
    #[serde(default)]
    pub signatures: Vec<serde_bytes::ByteBuf>,
    /// The changes the device took from another device's bundle rather than made or
    /// received from the server, each with the version of the key roster it held when
    /// it took them. A change whose author was revoked since is taken when the server
    /// issued that roster before the revocation: the device could not have known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relayed: Vec<Relayed>,
}

/// One change of an upload taken from a bundle: its place in the upload's `changes`,
/// and the version of the key roster the device held when it took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relayed {
    pub change: u32,
    pub roster: String,
}

/// A key roster as it travels (the `key_roster` module reads it): the server's public key (hex),
/// the roster's JSON text and the server's signature of it (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedKeyRoster {
    pub server_key: String,
    pub body: String,
    pub signature: String,
}

/// `POST /v1/sync` (CBOR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Chosen by the device per sync and reused on every retry of it.
    pub sync_id: String,
    /// The cursor of the last answer the device stored (0 at first).
    pub cursor: u64,
    /// The volunteer using the device, for the sync log.
    #[serde(default)]
    pub volunteer: String,
    pub docs: Vec<DocUpload>,
    /// The version of the key roster the device holds (empty for none): the answer carries
    /// a new one when it differs.
    #[serde(default)]
    pub key_roster: String,
    /// The last checkpoint of each committee's sync log the device holds: the answer
    /// proves the new checkpoint extends it, and the server keeps it as a witness's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_held: Vec<HeldCheckpoint>,
    /// Checkpoints other devices of its committees held, which this device was given
    /// (in a bundle): the answer proves the log extends each of them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_seen: Vec<HeldCheckpoint>,
    /// Entries this device's own syncs wrote that it asks to be shown again as the log
    /// holds them now (see [`LogEntryRef`]): an entry edited in the server's database is
    /// found by the device it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_audit: Vec<LogEntryAsk>,
}

/// The most entries one sync may ask to be shown again.
pub const MAX_LOG_AUDIT: usize = 64;

/// An entry of a committee's sync log, by position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryAsk {
    pub committee: String,
    pub seq: u64,
}

/// One entry of a committee's sync log by reference: the Merkle leaf hash of its body as
/// the log holds it and the log's filter columns of it. A sync's answer carries one for
/// each entry the sync wrote, with its inclusion proof in the answer's checkpoint; the
/// device keeps them, and later asks for them again to see that the log still holds
/// each as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntryRef {
    pub committee: String,
    pub seq: u64,
    /// `merkle_log::leaf_hash` of the body (empty when the log holds no such entry).
    pub leaf: serde_bytes::ByteBuf,
    pub device_id: String,
    pub volunteer: String,
    /// Milliseconds since the epoch.
    pub time: i64,
    /// How many documents the entry records conflicts in.
    pub conflicts: u64,
    /// The inclusion proof of leaf `seq - 1` in the answer's checkpoint of the committee
    /// (for an entry the sync wrote; empty for one asked again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proof: Vec<serde_bytes::ByteBuf>,
}

/// The last checkpoint of a committee's log a device accepted (its signed note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldCheckpoint {
    pub committee: String,
    pub note: String,
}

/// A committee's sync log as the server signs it: the checkpoint (a C2SP
/// `tlog-checkpoint` in a `signed-note`, see [`crate::merkle_log`]) and the consistency
/// proof from the size the device said it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LogCheckpoint {
    pub committee: String,
    pub note: String,
    /// The consistency proof's hashes, hex, from `from_size` to the checkpoint's size.
    #[serde(default)]
    pub proof: Vec<String>,
    #[serde(default)]
    #[ts(type = "number")]
    pub from_size: u64,
}

/// One document's changes coming down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocDownload {
    pub doc_id: String,
    pub kind: String,
    pub committee: String,
    pub changes: Vec<serde_bytes::ByteBuf>,
    /// The author's attestation of each change, in the same order (empty for a change
    /// stored before changes were signed).
    #[serde(default)]
    pub signatures: Vec<serde_bytes::ByteBuf>,
}

/// The answer to a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Store this, and send it with the next sync.
    pub cursor: u64,
    /// Whether more changes wait beyond this cursor (ask again at once).
    pub more: bool,
    /// How many uploaded changes the server had not seen before.
    pub accepted: u64,
    pub docs: Vec<DocDownload>,
    /// Fields that became conflicted on the server through this sync.
    pub conflicts: Vec<DocConflicts>,
    /// Uploaded documents the server did not take, each with why; every other document
    /// of the request was taken. (Absent from a server older than per-document refusal.)
    #[serde(default)]
    pub refused: Vec<DocRefusal>,
    /// The server database's epoch. When it differs from the one a device last saw,
    /// the database may have lost what the device was told it holds (it was restored
    /// from a backup): the device sends every record again and starts its cursor over.
    #[serde(default)]
    pub epoch: String,
    /// The device's committees' key roster (keys and roles), signed by the server, when the
    /// one the device holds is not the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_roster: Option<SignedKeyRoster>,
    /// Each of the device's committees' log checkpoint after this sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<LogCheckpoint>,
    /// For each checkpoint of [`SyncRequest::log_seen`] (echoed in `note`), the
    /// consistency proof from its size to its committee's checkpoint in `checkpoints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<LogCheckpoint>,
    /// The entry this sync wrote to each committee's log (none when it wrote none, or
    /// for a request sent again after its answer was lost).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<LogEntryRef>,
    /// Each entry of [`SyncRequest::log_audit`] as the log holds it now, in the order
    /// asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit: Vec<LogEntryRef>,
}

/// One uploaded document the server refused, and why: `code` is one of
/// [`ERROR_CODES`], `message` says it in English for logs (never personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DocRefusal {
    pub doc_id: String,
    pub code: String,
    pub message: String,
}

/// Fields of one document holding more than one concurrent value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DocConflicts {
    pub doc_id: String,
    pub fields: Vec<String>,
}

/// How much of an attachment the server holds (`GET /v1/blobs/{sha256}/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStatus {
    pub sha256: String,
    /// The total size, once an upload has started.
    pub size: Option<u64>,
    /// Bytes received so far: resume an upload from here.
    pub received: u64,
    pub complete: bool,
}

/// Every error body (JSON): a machine-readable code and an English explanation for
/// logs and administrators; the app translates the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// A sync-log entry as supervisors read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LogEntry {
    /// Position in its committee's chain, from 1.
    pub seq: u64,
    pub committee: String,
    pub device_id: String,
    pub volunteer: String,
    /// Milliseconds since the epoch.
    pub time: i64,
    pub sync_id: String,
    pub received: Vec<DocHashes>,
    pub sent: Vec<DocHashes>,
    pub conflicts: Vec<DocConflicts>,
    /// Records the device sent that the server refused, each with why (who may write
    /// what, a bad signature, a malformed change...): the evidence of what was tried.
    #[serde(default)]
    pub refused: Vec<DocRefusal>,
    /// Hex SHA-256 of the previous entry of the committee (zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 over `prev_hash` and this entry's content.
    pub hash: String,
    /// The inclusion proof of this entry (leaf `seq - 1`) in the page's checkpoint of its
    /// committee, hex.
    #[serde(default)]
    pub proof: Vec<String>,
}

/// What a log entry's hash and Merkle leaf cover: every field of the entry (the log's
/// filter columns are copies of these). Its JSON, in this field order, is the leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBody {
    pub committee: String,
    pub seq: u64,
    pub device_id: String,
    pub volunteer: String,
    pub time: i64,
    pub sync_id: String,
    pub received: Vec<DocHashes>,
    pub sent: Vec<DocHashes>,
    pub conflicts: Vec<DocConflicts>,
    /// Absent from entries without refusals (and from every entry before 0.3), so that
    /// their text, and so their hash, is as it always was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<DocRefusal>,
}

impl LogBody {
    /// The entry's bytes as the log holds them.
    pub fn to_json(&self) -> String {
        // Only strings, numbers and lists of them: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The body of an entry a supervisor was sent.
    pub fn of(entry: &LogEntry) -> LogBody {
        LogBody {
            committee: entry.committee.clone(),
            seq: entry.seq,
            device_id: entry.device_id.clone(),
            volunteer: entry.volunteer.clone(),
            time: entry.time,
            sync_id: entry.sync_id.clone(),
            received: entry.received.clone(),
            sent: entry.sent.clone(),
            conflicts: entry.conflicts.clone(),
            refused: entry.refused.clone(),
        }
    }
}

/// Change hashes (hex) of one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DocHashes {
    pub doc_id: String,
    pub hashes: Vec<String>,
}

/// A page of the sync log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    /// The checkpoint of each committee the page's entries are from, which their
    /// inclusion proofs are against.
    #[serde(default)]
    pub checkpoints: Vec<LogCheckpoint>,
    /// Pass as `before` to read the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// The state of one committee's log chain (`GET /v1/chain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChainState {
    pub committee: String,
    /// Entries checked (all of them when the chain is intact; those before the break
    /// otherwise).
    pub entries: u64,
    /// Where the chain breaks, if it does.
    pub broken: Option<ChainBreak>,
}

/// The first entry of a chain that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChainBreak {
    pub seq: u64,
    pub reason: String,
}

/// An enrolled device as supervisors list it (`GET /v1/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct DeviceInfo {
    pub device_id: String,
    pub role: Role,
    /// The person it was enrolled for.
    pub name: String,
    /// What the device calls itself.
    pub label: String,
    pub committees: Vec<String>,
    pub enrolled_at: i64,
    pub revoked_at: Option<i64>,
    pub last_sync_at: Option<i64>,
    /// The fingerprint of the public key bound to it ([`crate::keys::PublicKey::fingerprint`]);
    /// empty for a device enrolled before keys.
    #[serde(default)]
    pub key_fingerprint: String,
}

/// The content coding of compressed sync bodies (`Content-Encoding: deflate`, zlib).
pub const DEFLATE: &str = "deflate";

/// Compresses a body.
pub fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to memory cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Decompresses a body of at most `limit` bytes once inflated; the error says why not.
pub fn inflate(bytes: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    let read = flate2::read::ZlibDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the compressed body is damaged: {e}"))?;
    if read > limit {
        return Err(format!("the body inflates to more than {limit} bytes"));
    }
    Ok(out)
}

/// Encodes a protocol value as CBOR.
pub fn to_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every protocol type serializes.
    ciborium::into_writer(value, &mut out).expect("CBOR into memory");
    out
}

/// Decodes a protocol value from CBOR; the error says what was wrong, for the 400 body.
pub fn from_cbor<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    ciborium::from_reader(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_bytes_travel_as_bytes_not_text() {
        let req = SyncRequest {
            key_roster: String::new(),
            log_held: Vec::new(),
            log_seen: Vec::new(),
            log_audit: Vec::new(),
            sync_id: "s".into(),
            cursor: 7,
            volunteer: String::new(),
            docs: vec![DocUpload {
                doc_id: "d".into(),
                kind: "resident".into(),
                committee: None,
                changes: vec![serde_bytes::ByteBuf::from(vec![0u8; 1000])],
                signatures: Vec::new(),
                relayed: Vec::new(),
            }],
        };
        let bytes = to_cbor(&req);
        // base64 in JSON would take 1,336 bytes for the change alone
        assert!(bytes.len() < 1100, "CBOR overhead too big: {}", bytes.len());
        assert_eq!(from_cbor::<SyncRequest>(&bytes), Ok(req));
        assert!(from_cbor::<SyncRequest>(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn bodies_inflate_back_and_bombs_are_refused() {
        let body = b"doorstep ".repeat(1000);
        let packed = deflate(&body);
        assert!(packed.len() < body.len() / 10);
        assert_eq!(inflate(&packed, body.len()), Ok(body.clone()));
        assert!(inflate(&packed, body.len() - 1).is_err());
        assert!(inflate(&packed[..packed.len() / 2], body.len()).is_err());
    }
}
