//! Roster import benchmark: prints figures (no timed assertions). Run with
//! `cargo bench -p doorstep-device --bench roster` (release build); set
//! `DOORSTEP_BENCH_ROWS` to change the roster's size (default 100,000).
//!
//! - read a roster of N rows from XLSX (calamine) and from CSV
//! - preview it (every row validated, duplicates looked up) and import it, with 1% bad
//!   rows; import it again (nothing added)
//! - the baseline, measured in the same run: the same residents registered through
//!   `register_residents` (validation and saving without a file) into an empty store
//! - export the residents to XLSX; the process's peak memory
//! - the window during an import: how long a page of residents waits for the device
//!   while another thread imports the roster through `roster::import`, against idle

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::roster::{self, Format};
use doorstep_device::secret::DbKey;
use doorstep_device::{Device, catalog};

const KEY: [u8; 32] = [0x42; 32];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘";
const GIVEN: &str =
    "秀英华玉兰桂芳珍凤德明国建文志永春海金荣福贵顺利祥平安红梅丽云霞军强伟勇斌杰涛";

/// Resident `n` of the synthetic roster; every hundredth has a wrong check digit.
fn row(n: usize) -> [String; 6] {
    let s: Vec<char> = SURNAMES.chars().collect();
    let g: Vec<char> = GIVEN.chars().collect();
    let name: String = [
        s[n % s.len()],
        g[(n / s.len()) % g.len()],
        g[(n / 7) % g.len()],
    ]
    .iter()
    .collect();
    let d = n / 1000;
    let (year, month, day) = (1930 + (d / 336) % 60, 1 + (d / 28) % 12, 1 + d % 28);
    let mut id =
        IdNumber::complete(&format!("320106{year:04}{month:02}{day:02}{:03}", n % 1000)).unwrap();
    if n % 100 == 99 {
        let wrong = if id.ends_with('0') { '1' } else { '0' };
        id.pop();
        id.push(wrong);
    }
    [
        name,
        id,
        format!("139{n:08}"),
        String::new(),
        String::new(),
        format!("测试村{}组", n % 12 + 1),
    ]
}

const HEADERS: [&str; 6] = ["姓名", "身份证号", "电话", "性别", "出生日期", "地址"];

fn xlsx(rows: usize) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for n in 0..rows {
        for (c, v) in row(n).iter().enumerate() {
            sheet.write_string((n + 1) as u32, c as u16, v).unwrap();
        }
    }
    workbook.save_to_buffer().unwrap()
}

fn csv(rows: usize) -> Vec<u8> {
    let mut out = HEADERS.join(",");
    out.push('\n');
    for n in 0..rows {
        out.push_str(&row(n).join(","));
        out.push('\n');
    }
    out.into_bytes()
}

/// The process's peak resident memory (VmHWM), in MB.
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(i).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// How long the window waits for a page of residents, idle and while `roster` imports
/// through [`roster::import`] on another thread (the device behind a mutex, as the app
/// holds it): the samples idle, the samples busy, and the import's seconds.
fn window_during_import(
    dir: &std::path::Path,
    key: &DbKey,
    roster: &roster::Roster,
) -> (Vec<Duration>, Vec<Duration>, f64) {
    let device = Mutex::new(Device::open_with_key(dir, catalog::builtin().unwrap(), key).unwrap());
    let read = |device: &Mutex<Device>| {
        let start = Instant::now();
        let page = device.lock().unwrap().list_residents_page(0, 50).unwrap();
        std::hint::black_box(page);
        start.elapsed()
    };
    let idle: Vec<Duration> = (0..50)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(20));
            read(&device)
        })
        .collect();
    let done = AtomicBool::new(false);
    let mut import_secs = 0.0;
    let mut busy = Vec::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let start = Instant::now();
            roster::import(&mut &device, roster, None, &|_, _| {}).unwrap();
            import_secs = secs(start);
            done.store(true, Ordering::SeqCst);
        });
        while !done.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
            busy.push(read(&device));
        }
    });
    (idle, busy, import_secs)
}

fn secs(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

fn main() {
    // Changes are signed with a key from the keyring: an in-memory one here.
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let rows: usize = std::env::var("DOORSTEP_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let key = DbKey::from_bytes(KEY);
    let tmp = tempfile::tempdir().unwrap();
    let xlsx_bytes = xlsx(rows);
    let csv_bytes = csv(rows);
    println!("## Roster import of {rows} rows (1% with a wrong check digit)\n");
    println!(
        "Files: XLSX {:.1} MB, CSV {:.1} MB.\n",
        xlsx_bytes.len() as f64 / 1e6,
        csv_bytes.len() as f64 / 1e6
    );

    let start = Instant::now();
    let from_xlsx = roster::read_roster(&xlsx_bytes, Format::Xlsx).unwrap();
    let read_xlsx = secs(start);
    let start = Instant::now();
    let from_csv = roster::read_roster(&csv_bytes, Format::Csv).unwrap();
    let read_csv = secs(start);
    assert_eq!(from_xlsx.rows.len(), from_csv.rows.len());

    // The baseline: the same residents through the bulk API, without a file.
    let valid: Vec<ResidentInput> = from_csv
        .rows
        .iter()
        .map(|(_, r)| r.clone())
        .filter(|r| r.validate().is_ok())
        .collect();
    let mut base =
        Device::open_with_key(&tmp.path().join("base"), catalog::builtin().unwrap(), &key).unwrap();
    let start = Instant::now();
    for chunk in valid.chunks(5_000) {
        base.register_residents(chunk).map_err(|(_, e)| e).unwrap();
    }
    let baseline = secs(start);
    drop(base);

    let mut device = Device::open_with_key(
        &tmp.path().join("import"),
        catalog::builtin().unwrap(),
        &key,
    )
    .unwrap();
    let start = Instant::now();
    let preview = device.preview_roster(&from_xlsx).unwrap();
    let previewed = secs(start);
    let steps = std::cell::Cell::new(0usize);
    let start = Instant::now();
    let report = device
        .import_roster(&from_xlsx, None, &|_, _| steps.set(steps.get() + 1))
        .unwrap();
    let imported = secs(start);
    assert_eq!(report.added, valid.len());
    assert_eq!(report.rejected.len(), rows / 100);
    let start = Instant::now();
    let again = device.import_roster(&from_xlsx, None, &|_, _| {}).unwrap();
    let reimported = secs(start);
    assert_eq!(again.added, 0);
    let start = Instant::now();
    let table = device.residents_table(None, true).unwrap();
    let bytes = table.write(Format::Xlsx, &|_, _| {}).unwrap();
    let exported = secs(start);

    println!("| step | time | rows/s |\n|---|---|---|");
    let line = |what: &str, t: f64, n: usize| {
        println!("| {what} | {t:.2} s | {:.0} |", n as f64 / t);
    };
    line("read the XLSX (calamine)", read_xlsx, rows);
    line("read the CSV", read_csv, rows);
    line(
        &format!(
            "preview: validate, look up duplicates ({} new, {} refused)",
            preview.new,
            preview.rejected.len()
        ),
        previewed,
        rows,
    );
    line(
        &format!(
            "import (batches of {}, {} progress reports)",
            roster::IMPORT_BATCH,
            steps.get()
        ),
        imported,
        rows,
    );
    line("import the same file again (0 added)", reimported, rows);
    line(
        "baseline: register_residents, same residents, no file",
        baseline,
        valid.len(),
    );
    line(
        &format!(
            "export the residents to XLSX ({:.1} MB)",
            bytes.len() as f64 / 1e6
        ),
        exported,
        table.rows.len(),
    );
    let (idle, busy, shared_import) =
        window_during_import(&tmp.path().join("shared"), &key, &from_xlsx);
    println!(
        "\nThe window during an import (a page of 50 residents read every 20 ms, device shared \
         behind a mutex as in the app): idle p50 {} / max {}; while {} rows import in {:.1} s: \
         p50 {} / p99 {} / max {} over {} reads.",
        ms(pct(&mut idle.clone(), 0.5)),
        ms(pct(&mut idle.clone(), 1.0)),
        rows,
        shared_import,
        ms(pct(&mut busy.clone(), 0.5)),
        ms(pct(&mut busy.clone(), 0.99)),
        ms(pct(&mut busy.clone(), 1.0)),
        busy.len()
    );
    println!(
        "\nImport / baseline: {:.2}×. Whole file to saved residents (read + preview + import): {:.1} s. Peak memory of the process: {:.0} MB.",
        imported / baseline,
        read_xlsx + previewed + imported,
        peak_mb()
    );
}
