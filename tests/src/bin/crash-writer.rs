//! A writer for the crash-safety test: registers and edits residents in a loop and
//! prints `ack <kind> <n> <doc id>` after each save the device acknowledged, so that the
//! test can kill it at any moment and check that every acknowledged save survived.
//!
//! Usage: `crash-writer <data dir> <first n>`; the database key is a fixed test key.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::secret::DbKey;
use doorstep_device::{Device, catalog};

/// A distinct valid ID number for every `n` (birth date and sequence vary with it).
fn synthetic_id(n: u64) -> anyhow::Result<String> {
    let d = n / 1000;
    let (year, month, day) = (1940 + d / 336, 1 + (d / 28) % 12, 1 + d % 28);
    IdNumber::complete(&format!("320106{year:04}{month:02}{day:02}{:03}", n % 1000))
        .context("17 digits")
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .context("usage: crash-writer <data dir> <first n>")?,
    );
    let first: u64 = args.next().context("missing <first n>")?.parse()?;
    // The signing key lives in a keyring: an in-memory one for this test writer.
    doorstep_tests::fleet::mock_keyring();
    let mut device = Device::open_with_key(
        &dir,
        catalog::builtin()?,
        &DbKey::from_bytes(doorstep_tests::CRASH_TEST_KEY),
    )?;
    let mut out = std::io::stdout().lock();
    let mut last = device.list_residents()?.first().map(|r| r.id.clone());
    for n in first.. {
        let id_number = synthetic_id(n)?;
        let mut input = ResidentInput {
            name: format!("测试{n}"),
            id_number,
            ..ResidentInput::default()
        };
        match (&last, n % 3) {
            (Some(id), 1 | 2) => {
                let current = device.resident(id)?;
                input.name = current.name;
                input.id_number = current.id_number;
                input.address = format!("测试路 {n} 号");
                device.update_resident(id, &input)?;
                writeln!(out, "ack update {n} {id}")?;
            }
            _ => {
                let id = device.register_resident(&input)?.id;
                writeln!(out, "ack register {n} {id}")?;
                last = Some(id);
            }
        }
        out.flush()?;
    }
    Ok(())
}
