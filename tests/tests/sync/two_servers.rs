//! Two server processes over one database (PostgreSQL in deployment; the same test runs
//! on SQLite too) serve devices alternately, and the devices still converge.

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_tests::ServerProcess;
use doorstep_tests::fleet::{FAST_RETRY, TestDevice, committee, server_db};

#[test]
fn devices_served_alternately_by_two_servers_converge() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let one = ServerProcess::start_on(dir.path(), &[])?;
    let two = ServerProcess::start_on(dir.path(), &[])?;
    committee(&one, "c1")?;
    let mut devices = Vec::new();
    for d in 0..4 {
        devices.push(TestDevice::enrolled(
            &one,
            "c1",
            "volunteer",
            &format!("测试志愿者{d}"),
        )?);
    }
    let servers = [&one, &two];
    let mut registered = 0usize;
    for round in 0..6usize {
        for (d, device) in devices.iter_mut().enumerate() {
            // Each device registers someone new or edits what it has, offline.
            let residents = device.device.list_residents()?;
            if residents.is_empty() || (round + d) % 3 == 0 {
                device.device.register_resident(&ResidentInput {
                    name: format!("测试{}", ["甲", "乙", "丙"][registered % 3]),
                    id_number: IdNumber::complete(&format!(
                        "3201061941{:02}01{:03}",
                        1 + registered % 12,
                        registered
                    ))
                    .expect("17 digits"),
                    ..ResidentInput::default()
                })?;
                registered += 1;
            } else {
                let id = &residents[(round * 7 + d) % residents.len()].id;
                let mut form = device.device.resident(id)?.to_input();
                form.address = format!("测试路 {round}-{d} 号");
                device.device.update_resident(id, &form)?;
            }
            // …and syncs with whichever server this turn sends it to.
            let server = servers[(round + d) % 2];
            let mut transport = device.transport_to(server)?;
            device.device.sync_with(&mut transport, &FAST_RETRY)?;
        }
    }
    for _ in 0..2 {
        for (d, device) in devices.iter_mut().enumerate() {
            let mut transport = device.transport_to(servers[d % 2])?;
            device.device.sync_with(&mut transport, &FAST_RETRY)?;
        }
    }
    let rows = |t: &TestDevice| -> anyhow::Result<Vec<String>> {
        let mut rows: Vec<String> = t
            .device
            .list_residents()?
            .into_iter()
            .map(|r| format!("{} {:?}", r.id, t.device.resident(&r.id).map(|x| x.address)))
            .collect();
        rows.sort();
        Ok(rows)
    };
    let first = rows(&devices[0])?;
    assert_eq!(first.len(), registered);
    for device in &devices[1..] {
        assert_eq!(rows(device)?, first);
    }
    // One chain, intact, although two servers appended to it.
    assert!(one.admin(&["log", "verify"])?.contains("intact"));
    let entries = server_db(&one.data_dir)?.int("SELECT count(*) FROM log")?;
    assert!(entries >= 24, "{entries} log entries");
    Ok(())
}
