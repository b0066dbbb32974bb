//! What Doorstep's fuzz targets run on arbitrary bytes: each decoder and checker that
//! takes what arrives from outside a process (a sync request or answer, an upload's
//! changes and attestations, a bundle or manifest file, a catalog, a roster, an
//! enrollment code, a log checkpoint) and each writer fed arbitrary records. A target
//! returns nothing and panics only on a bug: a refusal is an answer, a panic, a hang or
//! an allocation past the limit is a crash.
//!
//! The libFuzzer crate in `fuzz/` (nightly, `make fuzz`) calls [`TARGETS`] by name; on
//! stable, `tests/replay.rs` runs every committed crasher (`fuzz/regressions/<target>/`)
//! and every seed (`fuzz/seeds/<target>/`) through the same functions.

use std::fmt::Debug;

use doorstep_core::protocol::{self, SyncRequest, SyncResponse};
use serde_bytes::ByteBuf;

mod enrolled;
pub mod import;
pub mod records;
pub mod seeds;

/// The most a sync body may inflate to here (the server's own limit is larger; past a
/// few megabytes a fuzzer only measures memory).
const INFLATE_LIMIT: usize = 4 * 1024 * 1024;

/// A fuzz target: a name and what it runs.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target, by name.
pub const TARGETS: &[Target] = &[
    ("sync_request", sync_request),
    ("sync_response", sync_response),
    ("upload", records::upload),
    ("bundle_file", bundle_file),
    ("manifest_file", manifest_file),
    ("catalog", catalog),
    ("roster_xlsx", roster_xlsx),
    ("roster_csv", roster_csv),
    ("enroll_text", enroll_text),
    ("checkpoint", checkpoint),
    ("table_writer", records::table_writer),
    ("receipt_writer", records::receipt_writer),
    ("bundle_import", import::bundle_import),
];

/// libFuzzer's Rust harness aborts on every panic, even one the code catches; Doorstep
/// catches Automerge's panics on purpose and refuses the record (see
/// `doorstep_core::apply`). With the standard hook back, a caught panic is printed and
/// unwinds to where it is caught; one nobody catches still ends the run as a crash
/// (the harness aborts when a target unwinds out).
pub fn let_caught_panics_unwind() {
    drop(std::panic::take_hook());
}

/// The target of `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// A value that decodes is encoded again and decodes to itself.
fn round_trip<T>(bytes: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + Debug,
{
    if let Ok(value) = protocol::from_cbor::<T>(bytes) {
        let again = protocol::to_cbor(&value);
        let back: T = protocol::from_cbor(&again).expect("an encoded value decodes");
        assert_eq!(back, value, "a value changed through CBOR");
    }
}

/// A body as the server reads it: raw CBOR, or deflated CBOR within the limit.
fn body<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + Debug,
{
    round_trip::<T>(data);
    if let Ok(inflated) = protocol::inflate(data, INFLATE_LIMIT) {
        assert!(inflated.len() <= INFLATE_LIMIT);
        round_trip::<T>(&inflated);
    }
}

/// `POST /v1/sync`'s body as the server decodes it.
pub fn sync_request(data: &[u8]) {
    body::<SyncRequest>(data);
}

/// A sync answer as the device decodes it.
pub fn sync_response(data: &[u8]) {
    body::<SyncResponse>(data);
}

/// Makes a file's trailing SHA-256 seal right (when it has the magic), so that the
/// fuzzer reaches what is behind the seal instead of the checksum.
fn resealed(magic: &[u8; 16], data: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut file = magic.to_vec();
    file.extend_from_slice(data);
    let digest = Sha256::digest(&file);
    file.extend_from_slice(&digest);
    file
}

/// A bundle file's bytes as an import decodes them before it asks who signed it, as
/// given (mostly refused by the seal) and sealed again around the same content.
pub fn bundle_file(data: &[u8]) {
    let _ = doorstep_device::bundle::decode_bundle(data);
    let _ = doorstep_device::bundle::decode_bundle(&resealed(b"DOORSTEP-BUNDLE\n", data));
}

/// A manifest file's bytes as an export decodes them.
pub fn manifest_file(data: &[u8]) {
    let _ = doorstep_device::bundle::decode_manifest(data);
    let _ = doorstep_device::bundle::decode_manifest(&resealed(b"DOORSTEP-MANIFS\n", data));
}

/// A catalog: the index and one service file, from the same text.
pub fn catalog(data: &[u8]) {
    use doorstep_core::catalog::{Catalog, CatalogIndex};
    let text = String::from_utf8_lossy(data);
    let _ = CatalogIndex::parse(&text);
    if let Ok(catalog) = Catalog::parse("fuzz", &[("fuzz.toml", &text)]) {
        // A catalog that loads answers what the app asks of it.
        for code in ["pension_certification", "medical_insurance", ""] {
            let _ = catalog.service(code);
        }
    }
}

/// A roster workbook, read as the importer reads it.
pub fn roster_xlsx(data: &[u8]) {
    roster(data, doorstep_device::roster::Format::Xlsx);
}

/// A roster as CSV, read as the importer reads it.
pub fn roster_csv(data: &[u8]) {
    roster(data, doorstep_device::roster::Format::Csv);
}

fn roster(data: &[u8], format: doorstep_device::roster::Format) {
    use doorstep_device::roster::{MAX_ROWS, read_roster_as};
    if let Ok(roster) = read_roster_as(data, format, None, None) {
        assert!(roster.rows.len() <= MAX_ROWS, "{} rows", roster.rows.len());
        // Read again as the layout it found: the same rows.
        if let Some(layout) = roster.layout.clone() {
            let again = read_roster_as(data, format, roster.sheet.as_deref(), Some(&layout))
                .expect("read again");
            assert_eq!(again.rows.len(), roster.rows.len());
        }
    }
}

/// An enrollment code as typed, pasted or scanned.
pub fn enroll_text(data: &[u8]) {
    use doorstep_core::server_identity::EnrollText;
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = EnrollText::parse(&text) {
        // What it reads is what it writes.
        let again = EnrollText::parse(&parsed.to_text()).expect("its own text parses");
        assert_eq!(again, parsed);
    }
    if let Some((server, code)) = text.split_once('\n') {
        let _ = EnrollText::from_form(server, code);
    }
}

/// A log checkpoint (a signed note) as a device opens it, against a fixed key.
pub fn checkpoint(data: &[u8]) {
    use doorstep_core::keys::PublicKey;
    use doorstep_core::merkle_log;
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let public = PublicKey::from_bytes(key.verifying_key().as_bytes()).expect("a key");
    let text = String::from_utf8_lossy(data);
    let _ = merkle_log::open_checkpoint(&text, &public, "c1");
    // The same text as the body of a note the key signed: the checkpoint's own parser.
    let Some((committee, rest)) = text.split_once('\n') else {
        return;
    };
    let mut size = 0u64;
    for b in rest.bytes().take(8) {
        size = size << 8 | u64::from(b);
    }
    let note = merkle_log::sign_checkpoint(&key, committee, size % (1 << 40), [7; 32]);
    if let Ok(head) = merkle_log::open_checkpoint(&note, &public, committee) {
        assert_eq!(head.size, size % (1 << 40));
    }
}

/// Splits fuzz bytes into pieces, each prefixed by its length (one byte, or two
/// little-endian after a 0xff).
#[derive(Debug)]
pub(crate) struct Pieces<'a>(&'a [u8]);

impl<'a> Pieces<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Pieces<'a> {
        Pieces(data)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }

    pub(crate) fn piece(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        let mut len = usize::from(self.byte());
        if len == 0xff {
            len = usize::from(u16::from_le_bytes([self.byte(), self.byte()]));
        }
        let len = len.min(self.0.len());
        let (piece, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(piece)
    }

    pub(crate) fn text(&mut self) -> String {
        String::from_utf8_lossy(self.piece().unwrap_or_default()).into_owned()
    }
}

pub(crate) fn bufs(pieces: &[&[u8]]) -> Vec<ByteBuf> {
    pieces.iter().map(|p| ByteBuf::from(p.to_vec())).collect()
}
