//! The device's side of what other devices send: a bundle of arbitrary changes imported
//! into a new device (the received-change path a sync answer takes too: parsing,
//! attestations kept, the merge, the kind check, the list rows, the attachments wanted),
//! and then everything the window shows of the records it brought.

use ciborium::Value;
use doorstep_core::DocId;
use doorstep_core::protocol;
use doorstep_device::Device;
use doorstep_device::secret::DbKey;

use crate::Pieces;
use crate::records::checksummed;

/// The records a bundle here may carry (a record's id is a UUID; anything else is
/// refused before its changes are read, which the `bundle_file` target covers).
const DOC_IDS: [&str; 4] = [
    "0190c5d2-7d3c-7000-8000-00000000000a",
    "0190c5d2-7d3c-7000-8000-00000000000b",
    "0190c5d2-7d3c-7000-8000-00000000000c",
    "0190c5d2-7d3c-7000-8000-00000000000d",
];
const KINDS: [&str; 4] = ["resident", "authorization", "application", "visit"];
/// The most changes one record of a bundle carries here.
const MAX_CHANGES: u8 = 16;

/// Database keys and the device's signing key go to an in-memory keyring.
pub(crate) fn mock_keyring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        keyring_core::set_default_store(keyring_core::mock::Store::new().expect("mock store"));
    });
}

/// One record of a bundle: id, kind, committee, changes, attestations.
pub(crate) struct Record {
    pub(crate) doc_id: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) committee: &'static str,
    pub(crate) changes: Vec<Vec<u8>>,
    pub(crate) signatures: Vec<Vec<u8>>,
}

/// A bundle as the fuzzer gives it: a flags byte (bits 0–1: records less one; bit 2:
/// attestations; bit 3: an attachment follows), then per record a byte choosing its id
/// (bits 0–1), kind (2–3) and whether its committee is named (4), a count of changes,
/// and that many length-prefixed changes (their checksums made right); then the
/// attachment's bytes.
pub(crate) fn parse(data: &[u8]) -> (Vec<Record>, Option<Vec<u8>>) {
    let mut pieces = Pieces::new(data);
    let flags = pieces.byte();
    let mut records = Vec::new();
    for _ in 0..=(flags & 3) {
        let which = usize::from(pieces.byte());
        let count = pieces.byte() % MAX_CHANGES;
        let mut changes = Vec::new();
        for _ in 0..count {
            match pieces.piece() {
                Some(piece) => changes.push(checksummed(piece)),
                None => break,
            }
        }
        let signatures = if flags & 4 == 0 {
            Vec::new()
        } else {
            changes.iter().map(|_| vec![7; 64]).collect()
        };
        records.push(Record {
            doc_id: DOC_IDS[which & 3],
            kind: KINDS[(which >> 2) & 3],
            committee: if which & 16 == 0 { "" } else { "c1" },
            changes,
            signatures,
        });
    }
    let blob = if flags & 8 == 0 {
        None
    } else {
        pieces.piece().map(<[u8]>::to_vec)
    };
    (records, blob)
}

/// The bundle file a device writes for `records` and `blob`: sealed, its envelope naming
/// a signer (which a device not enrolled does not check).
pub(crate) fn bundle_file(records: &[Record], blob: Option<&[u8]>) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let text = |s: &str| Value::Text(s.into());
    let bytes = |b: &[Vec<u8>]| Value::Array(b.iter().map(|c| Value::Bytes(c.clone())).collect());
    let docs = records
        .iter()
        .map(|r| {
            Value::Map(vec![
                (text("doc_id"), text(r.doc_id)),
                (text("kind"), text(r.kind)),
                (text("committee"), text(r.committee)),
                (text("changes"), bytes(&r.changes)),
                (text("signatures"), bytes(&r.signatures)),
            ])
        })
        .collect();
    let blobs = blob
        .map(|b| {
            Value::Array(vec![
                text(&hex(&Sha256::digest(b))),
                Value::Bytes(b.to_vec()),
            ])
        })
        .into_iter()
        .collect();
    let body = Value::Map(vec![
        (text("version"), Value::Integer(2.into())),
        (
            text("created_at"),
            Value::Integer(1_700_000_000_000i64.into()),
        ),
        (text("docs"), Value::Array(docs)),
        (text("blobs"), Value::Array(blobs)),
    ]);
    let envelope = Value::Map(vec![
        (text("version"), Value::Integer(2.into())),
        (text("actor"), text("0101010101010101")),
        (text("signature"), Value::Bytes(vec![1; 64])),
        (text("body"), Value::Bytes(protocol::to_cbor(&body))),
    ]);
    let mut file = b"DOORSTEP-BUNDLE\n".to_vec();
    file.extend_from_slice(&protocol::to_cbor(&envelope));
    let digest = Sha256::digest(&file);
    file.extend_from_slice(&digest);
    file
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of every fuzzed device's database.
const KEY: [u8; 32] = [3; 32];

/// Where temporary folders go: memory, where the system has `/dev/shm`.
fn temp_root() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

/// A new device's database as it is first made (schema, actor), made once per process,
/// and the built-in catalog read once: each execution starts from a copy of both in the
/// same working folder (so the device, its actor and its signing key are the same every
/// time, and the keyring holds one entry per folder), in about a millisecond instead of
/// making one anew.
struct Template {
    dir: tempfile::TempDir,
    /// The new database's file.
    bytes: Vec<u8>,
    catalog: doorstep_core::catalog::Catalog,
}

impl Template {
    /// One working folder per thread (tests run targets on several at once).
    fn work(&self) -> std::path::PathBuf {
        let thread = format!("{:?}", std::thread::current().id());
        let n: String = thread.chars().filter(char::is_ascii_digit).collect();
        self.dir.path().join(format!("work-{n}"))
    }
}

fn template() -> &'static Template {
    static TEMPLATE: std::sync::OnceLock<Template> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        mock_keyring();
        let dir = tempfile::tempdir_in(temp_root()).expect("a temporary folder");
        let catalog = doorstep_device::catalog::builtin().expect("the built-in catalog");
        let made = dir.path().join("template");
        drop(
            Device::open_with_key(&made, catalog.clone(), &DbKey::from_bytes(KEY))
                .expect("a new device opens"),
        );
        // Closed, the database is whole in its file.
        let wal = made.join(format!("{}-wal", doorstep_device::DATABASE_FILE));
        assert!(!wal.exists(), "the template's log was not folded in");
        let bytes = std::fs::read(made.join(doorstep_device::DATABASE_FILE))
            .expect("the template's database");
        Template {
            dir,
            bytes,
            catalog,
        }
    })
}

/// A new device, from the template, in this thread's working folder (what was there is
/// removed).
pub(crate) fn new_device() -> Device {
    let template = template();
    let work = template.work();
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("the working folder");
    // Written from memory: `std::fs::copy` gives up on a system call libFuzzer's timer
    // signal interrupts (EINTR), where `write` tries again.
    std::fs::write(work.join(doorstep_device::DATABASE_FILE), &template.bytes)
        .expect("the template copied");
    Device::open_with_key(&work, template.catalog.clone(), &DbKey::from_bytes(KEY))
        .expect("a new device opens")
}

/// How many records the device holds.
fn records_held(device: &Device) -> i64 {
    device
        .store()
        .conn()
        .query_row("SELECT count(*) FROM docs", [], |r| r.get(0))
        .expect("count records")
}

/// A bundle of arbitrary changes imported into a new device: all of it or nothing; what
/// went in goes in again changing nothing; and every screen that shows records reads
/// what came in (a refusal is an answer, a panic is a crash).
pub fn bundle_import(data: &[u8]) {
    let (records, blob) = parse(data);
    let file = bundle_file(&records, blob.as_deref());
    let mut device = new_device();
    match device.import_bundle_bytes(&file) {
        Ok(_) => {
            look_at_everything(&mut device);
            let again = device
                .import_bundle_bytes(&file)
                .expect("a bundle that went in goes in again");
            assert_eq!(again.records_changed, 0, "the same bundle changed records");
        }
        Err(_) => assert_eq!(records_held(&device), 0, "a refused bundle left records"),
    }
}

/// What the volunteer's and the supervisor's screens read of every record held.
fn look_at_everything(device: &mut Device) {
    let today = device.today();
    for summary in device.list_residents().unwrap_or_default() {
        let _ = device.resident_view(&summary.id, None);
        let _ = device.history(&summary.id);
        let _ = device.services_for(&summary.id, today);
        let _ = device.authorization_views(&summary.id);
    }
    for row in device.application_rows(None).unwrap_or_default() {
        let id = row.summary.id;
        let _ = device.application_view(&id, None);
        let _ = device.submit_blockers(&id);
        let _ = device.history(&id);
        if let Some(resident) = DocId::parse(&row.summary.resident) {
            let _ = device.application_rows(Some(&resident));
        }
    }
    let _ = device.conflicted_views(None);
    let _ = device.records_aside();
    let _ = device.search_residents("测试");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The household seed reaches the whole path: three records in, shown, and the
    /// same bundle again changes nothing.
    #[test]
    fn the_household_seed_goes_in_whole() {
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/seeds/bundle_import/household"
        ))
        .expect("the seed");
        let (records, blob) = parse(&seed);
        assert_eq!(records.len(), 3);
        let file = bundle_file(&records, blob.as_deref());
        let mut device = new_device();
        let report = device.import_bundle_bytes(&file).expect("imported");
        assert_eq!((report.records_changed, report.blobs), (3, 1));
        assert_eq!(device.list_residents().expect("residents").len(), 1);
        let rows = device.application_rows(None).expect("applications");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].summary.status, "submitted");
        bundle_import(&seed);
    }
}
