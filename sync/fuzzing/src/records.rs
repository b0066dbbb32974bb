//! Targets fed records: the server's acceptance of an upload (arbitrary change bytes and
//! attestations into `merge_upload`), and the export writers fed arbitrary tables.

use automerge::{ActorId, AutoCommit};
use doorstep_core::attest::{self, Author};
use doorstep_core::keys::PublicKey;
use doorstep_core::protocol::Role;
use doorstep_core::upload::{Trust, merge_upload, parse_changes};
use ed25519_dalek::{Signer, SigningKey};
use serde_bytes::ByteBuf;

use crate::{Pieces, bufs};

/// The most bytes a merged document may hold here (as the server's limit does).
const DOC_LIMIT: usize = 2 * 1024 * 1024;

/// Automerge's chunk magic.
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// A chunk's checksum made right (the first four bytes of the SHA-256 of its type,
/// length and content), so that the fuzzer reaches the change behind it.
pub(crate) fn checksummed(piece: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut chunk = piece.to_vec();
    if chunk.len() > 8 && chunk[..4] == CHUNK_MAGIC {
        let digest = Sha256::digest(&chunk[8..]);
        chunk[4..8].copy_from_slice(&digest[..4]);
    }
    chunk
}

/// An upload as the server takes it: the first byte chooses the record kind claimed
/// (bits 0–1, or bit 6 for an unknown one),
/// the author's role, whether a stored document comes first and whether the changes are
/// signed; then length-prefixed pieces, each a change (its checksum made right). Every
/// actor is taken as one enrolled author, so signed changes reach the merge and the
/// write rules. A merged document must load again.
pub fn upload(data: &[u8]) {
    let mut pieces = Pieces::new(data);
    let flags = pieces.byte();
    // Bit 6 claims a kind no build knows; otherwise one of the four record kinds.
    let kind = if flags & 64 != 0 {
        "unknown"
    } else {
        ["resident", "authorization", "application", "visit"][usize::from(flags & 3)]
    };
    let role = if flags & 4 == 0 {
        Role::Volunteer
    } else {
        Role::Supervisor
    };
    let stored = if flags & 8 == 0 { None } else { pieces.piece() };
    let mut raw = Vec::new();
    while let Some(piece) = pieces.piece() {
        raw.push(checksummed(piece));
        if raw.len() == 64 {
            break;
        }
    }
    let Ok(changes) = parse_changes(&raw) else {
        return;
    };
    let signing = SigningKey::from_bytes(&[5; 32]);
    let author = Author {
        device_id: "fuzz-device".into(),
        key: PublicKey::from_bytes(signing.verifying_key().as_bytes()).expect("a key"),
        grants: vec![("c1".into(), role)],
        revoked: flags & 32 != 0,
    };
    let signatures: Vec<ByteBuf> = if flags & 16 == 0 {
        changes
            .iter()
            .map(|c| {
                let message = attest::change_message("d1", &c.hash());
                ByteBuf::from(signing.sign(&message).to_bytes().to_vec())
            })
            .collect()
    } else {
        bufs(&raw.iter().map(Vec::as_slice).collect::<Vec<_>>())
    };
    let author_of = |_: &ActorId| Some(&author);
    let trust = Trust {
        doc_id: "d1",
        committee: "c1",
        signatures: &signatures,
        author_of: &author_of,
        relayed: &doorstep_core::upload::none_relayed,
    };
    if let Ok(merged) = merge_upload(stored, changes, kind, DOC_LIMIT, &trust) {
        assert!(
            merged.snapshot.len() <= DOC_LIMIT * 2,
            "a document past the limit"
        );
        AutoCommit::load(&merged.snapshot).expect("a document the server stores loads");
    }
}

/// An export table of arbitrary headers and rows, written as XLSX and as CSV.
pub fn table_writer(data: &[u8]) {
    use doorstep_device::roster::{Format, Table};
    let mut pieces = Pieces::new(data);
    let columns = usize::from(pieces.byte() % 12) + 1;
    let headers: Vec<String> = (0..columns).map(|_| pieces.text()).collect();
    let mut rows = Vec::new();
    while rows.len() < 200 && !pieces.is_empty() {
        rows.push((0..columns).map(|_| pieces.text()).collect());
    }
    let table = Table { headers, rows };
    let csv = table
        .write(Format::Csv, &|_, _| {})
        .expect("a table writes as CSV");
    assert!(
        csv.starts_with(b"\xef\xbb\xbf"),
        "the CSV starts with its BOM"
    );
    let xlsx = table.write(Format::Xlsx, &|_, _| {});
    if let Ok(xlsx) = xlsx {
        assert!(xlsx.starts_with(b"PK"), "an XLSX is a zip file");
    }
}

/// A receipt of arbitrary text (a title; as many rows as the first byte's low four bits
/// say, a label and a value each; as many sections as its next two bits, a heading and
/// two paragraphs each), laid out in large print and written as a PDF with the CJK font
/// the app would use. Without such a font installed there is nothing to run.
pub fn receipt_writer(data: &[u8]) {
    use doorstep_device::receipt::{Receipt, find_font, render};
    static FONT: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let Some(font) = FONT.get_or_init(find_font) else {
        return;
    };
    let mut pieces = Pieces::new(data);
    let flags = pieces.byte();
    let title = pieces.text();
    let rows = (0..flags & 0x0f)
        .map(|_| (pieces.text(), pieces.text()))
        .collect();
    let sections = (0..(flags >> 4) & 0x03)
        .map(|_| (pieces.text(), vec![pieces.text(), pieces.text()]))
        .collect();
    let receipt = Receipt {
        title,
        colon: if flags & 0x40 == 0 { "：" } else { ": " },
        rows,
        sections,
    };
    let pdf = render(&receipt, font).expect("a receipt renders with an installed font");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF starts with its header");
}
