//! A writer for the crash-safety test: in a loop, registers residents and edits them
//! (which compacts their records every few edits), records an authorization and fills
//! in, attaches a photo to and submits an application, and imports a roster of five;
//! it prints `ack <kind> <n> <doc id or ->` after each save the device acknowledged, so
//! that the test can kill it at any moment and check that every acknowledged save
//! survived and nothing was half saved.
//!
//! Usage: `crash-writer <data dir> <first n>`; the database key is a fixed test key.
//! `crash-writer <data dir> <first n> sync <keyring file> [<bundle>]`: an enrolled
//! device (its signing key and token in the file, a keyring-core sample store) imports
//! the bundle if given (`ack bundle <n> -`), then registers residents and syncs, printing
//! `ack sync <n> -` after each sync that completed, so that the test can kill it while
//! it imports or merges an answer.
//!
//! With `DOORSTEP_STORAGE_FAULT` set (a `doorstep_power_cut::Plan`), the data folder's
//! storage fails as planned: a power cut ends the writer where it strikes; around an
//! I/O error the writer prints `fail <n> <error code>` for each save refused and goes on.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use doorstep_core::DocId;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::roster::{Format, read_roster};
use doorstep_device::secret::DbKey;
use doorstep_device::{Device, catalog};
use doorstep_tests::fleet::{self, FAST_RETRY};
use doorstep_tests::{CRASH_ROSTER_ROWS, crash_roster_name};

/// A distinct valid ID number for every `n` (birth date and sequence vary with it).
fn synthetic_id(n: u64) -> anyhow::Result<String> {
    let d = n / 1000;
    let (year, month, day) = (1940 + d / 336, 1 + (d / 28) % 12, 1 + d % 28);
    IdNumber::complete(&format!("320106{year:04}{month:02}{day:02}{:03}", n % 1000))
        .context("17 digits")
}

/// A CSV roster of [`CRASH_ROSTER_ROWS`] residents named for `n`.
fn roster_csv(n: u64) -> anyhow::Result<Vec<u8>> {
    let mut csv = String::from("姓名,身份证号\n");
    for i in 0..CRASH_ROSTER_ROWS {
        csv.push_str(&format!(
            "{},{}\n",
            crash_roster_name(n),
            synthetic_id(1_000_000 + n * CRASH_ROSTER_ROWS + i)?
        ));
    }
    Ok(csv.into_bytes())
}

/// Records an authorization for `resident` and submits a filled-in senior allowance
/// application with the bank card's photo; returns the application's id.
fn apply(device: &mut Device, resident: &DocId, n: u64) -> anyhow::Result<DocId> {
    fleet::authorize(device, resident, &["senior_allowance"])?;
    let app = device.start_application(resident, "senior_allowance")?;
    fleet::fill_allowance(
        device,
        &app,
        &format!("62220000{n:08}"),
        doorstep_tests::SAMPLE_PHOTO,
    )?;
    device.submit_application(&app)?;
    Ok(app)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .context("usage: crash-writer <data dir> <first n>")?,
    );
    let first: u64 = args.next().context("missing <first n>")?.parse()?;
    let syncing = args.next().as_deref() == Some("sync");
    if syncing {
        // The enrolled device's signing key and token, kept by the test in a file.
        let file = args.next().context("missing <keyring file>")?;
        keyring_core::set_default_store(keyring_core::sample::Store::new_with_backing(&file)?);
    } else {
        // The signing key lives in a keyring: an in-memory one for this test writer.
        fleet::mock_keyring();
    }
    let plan = match std::env::var(doorstep_power_cut::PLAN_ENV) {
        Ok(text) => Some(doorstep_power_cut::Plan::parse(&text).map_err(anyhow::Error::msg)?),
        Err(_) => None,
    };
    if let Some(plan) = plan {
        doorstep_power_cut::install(&dir, plan)?;
    }
    let faulty = matches!(
        plan.map(|p| p.fault),
        Some(doorstep_power_cut::Fault::IoError { .. })
    );
    let mut out = std::io::stdout().lock();
    let key = DbKey::from_bytes(doorstep_tests::CRASH_TEST_KEY);
    let mut device = loop {
        match Device::open_with_key(&dir, catalog::builtin()?, &key) {
            Ok(device) => break device,
            // The volunteer is told, and opens the app again.
            Err(e) if faulty => writeln!(out, "fail {first} {:?}", e.code())?,
            Err(e) => return Err(e.into()),
        }
    };
    if syncing {
        if let Some(bundle) = args.next() {
            device.import_bundle(std::path::Path::new(&bundle))?;
            writeln!(out, "ack bundle {first} -")?;
            out.flush()?;
        }
        for n in first.. {
            if n % 3 == 0 {
                let mut transport = device.transport()?;
                device.sync_with(&mut transport, &FAST_RETRY)?;
                writeln!(out, "ack sync {n} -")?;
            } else {
                let input = ResidentInput {
                    name: format!("测试{n}"),
                    id_number: synthetic_id(n)?,
                    ..ResidentInput::default()
                };
                let id = device.register_resident(&input)?.id;
                writeln!(out, "ack register {n} {id}")?;
            }
            out.flush()?;
        }
    }
    let mut last = device.list_residents()?.first().map(|r| r.id.clone());
    for n in first.. {
        match save(&mut device, &mut last, n) {
            Ok(ack) => writeln!(out, "{ack}")?,
            Err(e) if faulty => {
                let code = e
                    .downcast_ref::<doorstep_device::DeviceError>()
                    .map(|e| format!("{:?}", e.code()))
                    .unwrap_or_else(|| "other".into());
                writeln!(out, "fail {n} {code}")?;
            }
            Err(e) => return Err(e),
        }
        out.flush()?;
    }
    Ok(())
}

/// Save number `n` (which kind: by `n % 8`); its acknowledgement line.
fn save(device: &mut Device, last: &mut Option<DocId>, n: u64) -> anyhow::Result<String> {
    let id_number = synthetic_id(n)?;
    let mut input = ResidentInput {
        name: format!("测试{n}"),
        id_number,
        ..ResidentInput::default()
    };
    Ok(match (&*last, n % 8) {
        (Some(id), 3) => {
            let app = apply(device, id, n)?;
            format!("ack application {n} {app}")
        }
        (_, 4) => {
            let roster = read_roster(&roster_csv(n)?, Format::Csv)?;
            let report = device.import_roster(&roster, None, &|_, _| {})?;
            anyhow::ensure!(
                report.added == CRASH_ROSTER_ROWS as usize,
                "a roster row was refused"
            );
            format!("ack roster {n} -")
        }
        (Some(id), 1 | 2 | 5 | 6 | 7) => {
            let current = device.resident(id)?;
            input.name = current.name;
            input.id_number = current.id_number;
            input.address = format!("测试路 {n} 号");
            device.update_resident(id, &input)?;
            format!("ack update {n} {id}")
        }
        _ => {
            let id = device.register_resident(&input)?.id;
            let ack = format!("ack register {n} {id}");
            *last = Some(id);
            ack
        }
    })
}
