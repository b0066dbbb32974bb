//! Encryption at rest: the database and its WAL hold no resident data in the clear, and
//! a wrong or missing key fails with a clear error, leaving the file untouched.

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::secret::DbKey;
use doorstep_device::{DATABASE_FILE, Device, catalog};

mod common;
use common::mock_keyring;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn no_resident_data_appears_in_the_database_or_wal_bytes() {
    mock_keyring();
    let dir = tempfile::tempdir().expect("temp dir");
    let name = "测试加密居民";
    let id_number = IdNumber::complete("11010119450815001").expect("17 digits");
    let phone = "13912345678";
    let mut device = Device::open(dir.path()).expect("open");
    let input = ResidentInput {
        name: name.into(),
        id_number: id_number.clone(),
        phone: phone.into(),
        address: "测试加密路 99 号".into(),
        ..ResidentInput::default()
    };
    let id = device.register_resident(&input).expect("register").id;
    device
        .set_resident_notes(&id, "测试加密备注")
        .expect("notes");

    let check = |when: &str| {
        let mut files = 0;
        for suffix in ["", "-wal"] {
            let path = dir.path().join(format!("{DATABASE_FILE}{suffix}"));
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            files += 1;
            assert!(!bytes.is_empty());
            for needle in [
                name.as_bytes(),
                id_number.as_bytes(),
                phone.as_bytes(),
                "测试加密路".as_bytes(),
                "测试加密备注".as_bytes(),
                b"SQLite format 3".as_slice(),
                b"CREATE TABLE".as_slice(),
            ] {
                assert!(
                    !contains(&bytes, needle),
                    "{when}: plaintext found in {}",
                    path.display()
                );
            }
        }
        assert!(files >= 1, "{when}: no database files");
    };
    // While open the WAL holds the latest writes; after closing, everything is in the
    // main file.
    check("open");
    drop(device);
    check("closed");

    let device = Device::open(dir.path()).expect("reopen with the keyring's key");
    assert_eq!(device.resident(&id).expect("read").name, name);
}

#[test]
fn a_wrong_key_fails_clearly_and_changes_nothing() {
    mock_keyring();
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut device = Device::open(dir.path()).expect("open");
        let input = ResidentInput {
            name: "测试".into(),
            id_number: IdNumber::complete("11010119450815001").expect("17 digits"),
            ..ResidentInput::default()
        };
        device.register_resident(&input).expect("register");
    }
    let before = std::fs::read(dir.path().join(DATABASE_FILE)).expect("read");
    let wrong = DbKey::generate().expect("key");
    let err = Device::open_with_key(dir.path(), catalog::builtin().expect("catalog"), &wrong)
        .expect_err("wrong key");
    assert_eq!(err.code(), "database_key_wrong");
    assert_eq!(
        std::fs::read(dir.path().join(DATABASE_FILE)).expect("read"),
        before
    );
    assert_eq!(
        Device::open(dir.path())
            .expect("right key")
            .list_residents()
            .expect("list")
            .len(),
        1
    );
}

#[test]
fn a_database_whose_key_is_not_in_the_keyring_is_never_replaced() {
    mock_keyring();
    let dir = tempfile::tempdir().expect("temp dir");
    drop(Device::open(dir.path()).expect("open"));
    // The same file in another folder has no keyring entry.
    let other = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        dir.path().join(DATABASE_FILE),
        other.path().join(DATABASE_FILE),
    )
    .expect("copy");
    let before = std::fs::read(other.path().join(DATABASE_FILE)).expect("read");
    let err = Device::open(other.path()).expect_err("no key");
    assert_eq!(err.code(), "database_key_missing");
    assert_eq!(
        std::fs::read(other.path().join(DATABASE_FILE)).expect("read"),
        before
    );
}
