use doorstep_core::Field;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::{DATABASE_FILE, Device};
// Database keys go to the in-memory keyring every test of this process shares (one of
// its own would replace it under the other tests' devices, whose tokens would vanish).
use doorstep_tests::fleet::mock_keyring;

fn synthetic(n: u32) -> ResidentInput {
    ResidentInput {
        name: format!("测试{n:03}"),
        id_number: IdNumber::complete(&format!("3201062000022{n:04}")).expect("17 digits"),
        phone: format!("1390000{n:04}"),
        ..ResidentInput::default()
    }
}

#[test]
fn many_residents_survive_reopening_newest_first() -> anyhow::Result<()> {
    mock_keyring();
    let dir = tempfile::tempdir()?;
    {
        let mut device = Device::open(dir.path())?;
        for n in 0..25 {
            device.register_resident(&synthetic(n))?;
        }
    }
    assert!(dir.path().join(DATABASE_FILE).is_file());
    let device = Device::open(dir.path())?;
    let list = device.list_residents()?;
    assert_eq!(list.len(), 25);
    let names: Vec<&str> = list.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.first(), Some(&"测试024"));
    assert_eq!(names.last(), Some(&"测试000"));
    for r in &list {
        let full = device.resident(&r.id)?;
        assert_eq!(full.name, r.name);
        assert!(r.id_number_masked.starts_with("**************"));
    }
    Ok(())
}

#[test]
fn a_refused_registration_leaves_the_store_unchanged_after_reopening() -> anyhow::Result<()> {
    mock_keyring();
    let dir = tempfile::tempdir()?;
    {
        let mut device = Device::open(dir.path())?;
        device.register_resident(&synthetic(1))?;
        let mut bad = synthetic(2);
        // Any other check character than the right one.
        let wrong_check = if bad.id_number.ends_with('0') {
            "1"
        } else {
            "0"
        };
        bad.id_number.replace_range(17.., wrong_check);
        let err = device
            .register_resident(&bad)
            .expect_err("bad checksum must be refused");
        let fields = err.field_errors().expect("field errors");
        assert!(fields.code_for(Field::IdNumber).is_some());
    }
    let device = Device::open(dir.path())?;
    assert_eq!(device.list_residents()?.len(), 1);
    Ok(())
}
