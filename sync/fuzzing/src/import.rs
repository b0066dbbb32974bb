//! The device's side of what other devices send: a bundle of arbitrary changes imported
//! into a new device (the received-change path a sync answer takes too: parsing,
//! attestations kept, the merge, the kind check, the list rows, the attachments wanted),
//! and then everything the window shows of the records it brought.

use ciborium::Value;
use doorstep_core::DocId;
use doorstep_core::protocol;
use doorstep_device::Device;
use doorstep_device::secret::DbKey;

use crate::records::checksummed;
use crate::{Pieces, enrolled};

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

/// How the bundle comes, from the first byte's upper bits (see [`parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrival {
    /// Imported into a device enrolled for committee `c1` that holds a key roster
    /// (bit 4), which checks the bundle's signer and every change against it.
    pub(crate) enrolled: bool,
    /// The volunteers of the roster are revoked (bit 5).
    pub(crate) revoked: bool,
    /// The bundle is signed by the supervisor of the roster rather than a volunteer
    /// (bit 6).
    pub(crate) by_supervisor: bool,
    /// Attestations, when there are (bit 2), are made by the keys the roster binds to
    /// each change's actor; with bit 7, or when the device is not enrolled, they are
    /// bytes no key made.
    pub(crate) signed_by_roster: bool,
}

/// A bundle as the fuzzer gives it: a flags byte (bits 0–1: records less one; bit 2:
/// attestations; bit 3: an attachment follows; bits 4–7: [`Arrival`]), then per record
/// a byte choosing its id (bits 0–1), kind (2–3) and whether its committee is named
/// (4), a count of changes, and that many length-prefixed changes (their checksums made
/// right); then the attachment's bytes.
pub(crate) fn parse(data: &[u8]) -> (Vec<Record>, Option<Vec<u8>>, Arrival) {
    let mut pieces = Pieces::new(data);
    let flags = pieces.byte();
    let arrival = Arrival {
        enrolled: flags & 16 != 0,
        revoked: flags & 32 != 0,
        by_supervisor: flags & 64 != 0,
        signed_by_roster: flags & 16 != 0 && flags & 128 == 0,
    };
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
        } else if arrival.signed_by_roster {
            changes
                .iter()
                .map(|change| enrolled::attest(DOC_IDS[which & 3], change))
                .collect()
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
    (records, blob, arrival)
}

/// The bundle file a device writes for `records` and `blob`: sealed, its envelope signed
/// as `arrival` says (a device not enrolled does not check the signer).
pub(crate) fn bundle_file(records: &[Record], blob: Option<&[u8]>, arrival: Arrival) -> Vec<u8> {
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
    let body = protocol::to_cbor(&body);
    let (actor, signature) = if arrival.enrolled {
        enrolled::sign_bundle(&body, arrival.by_supervisor)
    } else {
        ("0101010101010101".to_owned(), vec![1; 64])
    };
    let envelope = Value::Map(vec![
        (text("version"), Value::Integer(2.into())),
        (text("actor"), Value::Text(actor)),
        (text("signature"), Value::Bytes(signature)),
        (text("body"), Value::Bytes(body)),
    ]);
    let mut file = b"DOORSTEP-BUNDLE\n".to_vec();
    file.extend_from_slice(&protocol::to_cbor(&envelope));
    let digest = Sha256::digest(&file);
    file.extend_from_slice(&digest);
    file
}

pub(crate) fn hex(bytes: &[u8]) -> String {
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

/// A new device's database as it is first made (schema, actor; enrolled, for the
/// enrolled variants), made once per process, and the built-in catalog read once: each
/// execution starts from a copy of both in the same working folder (so the device, its
/// actor and its signing key are the same every time, and the keyring holds one entry
/// per folder), in about a millisecond instead of making one anew.
struct Template {
    /// The new database's file.
    bytes: Vec<u8>,
}

/// The actor of every device not enrolled here (the author of the household seed, and
/// a volunteer of the enrolled variant's roster), and of every enrolled one: fixed, so
/// that a corpus grown in one process means the same in the next.
const PLAIN_ACTOR: u8 = 0x0a;
const ENROLLED_ACTOR: u8 = 0x0e;

/// The folder templates and working copies are made in, and the catalog, once.
struct Shared {
    dir: tempfile::TempDir,
    catalog: doorstep_core::catalog::Catalog,
}

fn shared() -> &'static Shared {
    static SHARED: std::sync::OnceLock<Shared> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| {
        mock_keyring();
        Shared {
            dir: tempfile::tempdir_in(temp_root()).expect("a temporary folder"),
            catalog: doorstep_device::catalog::builtin().expect("the built-in catalog"),
        }
    })
}

/// One working folder per thread (tests run targets on several at once).
fn work_folder() -> std::path::PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let n: String = thread.chars().filter(char::is_ascii_digit).collect();
    shared().dir.path().join(format!("work-{n}"))
}

/// The template of a device not enrolled, or (`Some(revoked)`) of one enrolled with
/// [`enrolled::roster`] whose volunteers are revoked or not.
fn template(enrolled: Option<bool>) -> &'static Template {
    use std::sync::OnceLock;
    static PLAIN: OnceLock<Template> = OnceLock::new();
    static ENROLLED: OnceLock<Template> = OnceLock::new();
    static REVOKED: OnceLock<Template> = OnceLock::new();
    let (cell, name) = match enrolled {
        None => (&PLAIN, "template"),
        Some(false) => (&ENROLLED, "enrolled"),
        Some(true) => (&REVOKED, "revoked"),
    };
    cell.get_or_init(|| {
        let shared = shared();
        let made = shared.dir.path().join(name);
        let open = || {
            Device::open_with_key(&made, shared.catalog.clone(), &DbKey::from_bytes(KEY))
                .expect("a new device opens")
        };
        let actor = [if enrolled.is_some() {
            ENROLLED_ACTOR
        } else {
            PLAIN_ACTOR
        }; 16];
        open()
            .store()
            .conn()
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'actor_id'",
                [&actor[..]],
            )
            .expect("the actor set");
        let mut device = open();
        assert_eq!(device.actor_hex(), hex(&actor));
        if let Some(revoked) = enrolled {
            enrolled::enroll(&mut device, revoked);
        }
        drop(device);
        // Closed, the database is whole in its file.
        let wal = made.join(format!("{}-wal", doorstep_device::DATABASE_FILE));
        assert!(!wal.exists(), "the template's log was not folded in");
        let bytes = std::fs::read(made.join(doorstep_device::DATABASE_FILE))
            .expect("the template's database");
        Template { bytes }
    })
}

/// The actor of the devices not enrolled (hex).
pub(crate) fn plain_actor() -> String {
    hex(&[PLAIN_ACTOR; 16])
}

/// A new device, not enrolled, from the template, in this thread's working folder (what
/// was there is removed).
pub(crate) fn new_device() -> Device {
    device_from(template(None))
}

fn device_from(template: &Template) -> Device {
    let work = work_folder();
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("the working folder");
    // Written from memory: `std::fs::copy` gives up on a system call libFuzzer's timer
    // signal interrupts (EINTR), where `write` tries again.
    std::fs::write(work.join(doorstep_device::DATABASE_FILE), &template.bytes)
        .expect("the template copied");
    Device::open_with_key(&work, shared().catalog.clone(), &DbKey::from_bytes(KEY))
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
    let (records, blob, arrival) = parse(data);
    let file = bundle_file(&records, blob.as_deref(), arrival);
    let mut device = if arrival.enrolled {
        device_from(template(Some(arrival.revoked)))
    } else {
        new_device()
    };
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
        let (records, blob, arrival) = parse(&seed);
        assert_eq!(records.len(), 3);
        assert!(!arrival.enrolled);
        let file = bundle_file(&records, blob.as_deref(), arrival);
        let mut device = new_device();
        let report = device.import_bundle_bytes(&file).expect("imported");
        assert_eq!((report.records_changed, report.blobs), (3, 1));
        assert_eq!(device.list_residents().expect("residents").len(), 1);
        let rows = device.application_rows(None).expect("applications");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].summary.status, "submitted");
        bundle_import(&seed);
    }

    /// The household arriving at an enrolled device: taken whole when the roster's
    /// volunteer signed it and every change; refused whole from a revoked volunteer;
    /// with attestations no roster key made, the records are kept apart.
    #[test]
    fn the_household_at_an_enrolled_device_is_checked_against_its_roster() {
        use doorstep_core::ErrorCode;
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/seeds/bundle_import/household"
        ))
        .expect("the seed");
        let arrive = |bits: u8| {
            let mut input = seed.clone();
            input[0] |= bits;
            let (records, blob, arrival) = parse(&input);
            assert!(arrival.enrolled);
            let mut device = device_from(template(Some(arrival.revoked)));
            assert!(device.enrollment().expect("enrollment").is_some());
            let imported =
                device.import_bundle_bytes(&bundle_file(&records, blob.as_deref(), arrival));
            (device, imported)
        };
        for bits in [16, 16 | 64] {
            let (device, imported) = arrive(bits);
            let report = imported.expect("imported");
            assert_eq!(report.records_changed, 3, "flags {bits}");
            assert!(device.records_aside().expect("aside").is_empty());
            assert_eq!(device.list_residents().expect("residents").len(), 1);
        }
        let (device, imported) = arrive(16 | 32);
        let refused = imported.expect_err("a revoked volunteer's bundle");
        assert_eq!(refused.code(), ErrorCode::BundleForged);
        assert_eq!(records_held(&device), 0);
        let (device, imported) = arrive(16 | 128);
        imported.expect("imported, its changes kept apart");
        assert!(device.list_residents().expect("residents").is_empty());
        assert!(!device.records_aside().expect("aside").is_empty());
    }
}
