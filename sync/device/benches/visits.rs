//! "My visits" benchmark: prints figures (no timed assertions). Run with
//! `cargo bench -p doorstep-device --bench visits` (release build); set
//! `DOORSTEP_BENCH_RESIDENTS` to change the store size (default 100,000).
//!
//! A store of N residents, 2,000 of them assigned to this device's volunteer and as
//! many again to each of four others; the first page (50) of the volunteer's day, p50
//! and p99 of 400 reads, against the first page of the residents' list measured in the
//! same run.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use doorstep_core::date::{civil_from_days, days_from_civil, format_ymd};
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::visit::{Assignment, Purpose};
use doorstep_device::secret::DbKey;
use doorstep_device::{Device, catalog};

const KEY: [u8; 32] = [0x42; 32];
const ASSIGNED: usize = 2_000;
const OTHERS: usize = 4;
const READS: usize = 400;

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// A deterministic synthetic resident number `n`, with an address.
fn synthetic(n: usize) -> ResidentInput {
    let d = n / 1000;
    let (year, month, day) = (1930 + (d / 336) % 60, 1 + (d / 28) % 12, 1 + d % 28);
    ResidentInput {
        name: format!("测试{n}"),
        id_number: IdNumber::complete(&format!("320106{year:04}{month:02}{day:02}{:03}", n % 1000))
            .unwrap(),
        phone: if n.is_multiple_of(5) {
            String::new()
        } else {
            format!("139{n:08}")
        },
        address: format!("测试街道{}号楼{}室", n % 97, n % 13),
        ..ResidentInput::default()
    }
}

fn main() {
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let residents: usize = std::env::var("DOORSTEP_BENCH_RESIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let key = DbKey::from_bytes(KEY);
    let tmp = tempfile::tempdir().unwrap();
    let mut device = Device::open_with_key(tmp.path(), catalog::builtin().unwrap(), &key).unwrap();
    device.set_volunteer("测试主任").unwrap();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(residents);
    for batch in (0..residents).collect::<Vec<_>>().chunks(5_000) {
        let inputs: Vec<ResidentInput> = batch.iter().map(|n| synthetic(*n)).collect();
        ids.extend(
            device
                .register_residents(&inputs)
                .map_err(|(i, e)| format!("{i}: {e}"))
                .unwrap()
                .into_iter()
                .map(|r| r.id),
        );
    }
    println!(
        "{residents} residents registered in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let me = device.member_id().unwrap();
    let today = device.today();
    let day = days_from_civil(today);
    let started = Instant::now();
    let volunteers = 1 + OTHERS;
    let step = (residents / (ASSIGNED * volunteers)).max(1);
    let mut assigned = 0;
    for (i, id) in ids
        .iter()
        .step_by(step)
        .take(ASSIGNED * volunteers)
        .enumerate()
    {
        let who = i % volunteers;
        // Due dates from two weeks ago to two months ahead.
        let due = format_ymd(civil_from_days(day - 14 + (i as i64 * 7) % 75));
        let assignment = Assignment {
            assignee: if who == 0 {
                me.clone()
            } else {
                format!("other-{who}")
            },
            assignee_name: format!("志愿者{who}"),
            due,
            purpose: if i.is_multiple_of(3) {
                Purpose::Certification
            } else {
                Purpose::Checkup
            },
            service: String::new(),
        };
        device.assign_visit(id, &assignment).unwrap();
        assigned += 1;
    }
    println!(
        "{assigned} visits assigned ({ASSIGNED} to this volunteer) in {:.1} s\n",
        started.elapsed().as_secs_f64()
    );
    let mut mine = Vec::with_capacity(READS);
    let mut list = Vec::with_capacity(READS);
    let mut shown = 0;
    for _ in 0..READS {
        let start = Instant::now();
        let page = device.my_visits(0, 50).unwrap();
        mine.push(start.elapsed());
        shown = page.len();
        let start = Instant::now();
        let residents_page = device.list_residents_page(0, 50).unwrap();
        list.push(start.elapsed());
        assert_eq!(residents_page.len(), 50);
    }
    assert_eq!(shown, 50);
    let (m50, m99) = (pct(&mut mine, 0.5), pct(&mut mine, 0.99));
    let (l50, l99) = (pct(&mut list, 0.5), pct(&mut list, 0.99));
    println!("## My visits: first page of 50 ({READS} reads)\n");
    println!("| | p50 | p99 |\n|---|---|---|");
    println!(
        "| residents list, first page (baseline) | {} | {} |",
        ms(l50),
        ms(l99)
    );
    println!(
        "| my visits ({ASSIGNED} of {residents} assigned to me) | {} | {} |",
        ms(m50),
        ms(m99)
    );
    println!(
        "| ratio | {:.2}× | {:.2}× |",
        m50.as_secs_f64() / l50.as_secs_f64(),
        m99.as_secs_f64() / l99.as_secs_f64()
    );
}
