//! Store benchmarks: prints figures (no timed assertions). Run with
//! `cargo bench -p doorstep-device --bench store` (release build); set
//! `DOORSTEP_BENCH_RESIDENTS` to change the store size (default 100,000).
//!
//! - durable save of one field edit, p50/p99, against a bare SQLite (same SQLCipher
//!   build, WAL, synchronous=FULL) single-row commit measured in the same run
//! - open a store of N residents and list the first page
//! - search among N residents, p50/p99 for each kind of query

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_device::secret::DbKey;
use doorstep_device::{Device, catalog};
use rusqlite::Connection;

const KEY: [u8; 32] = [0x42; 32];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str =
    "秀英华玉兰桂芳珍凤德明国建文志永春海金荣福贵顺利祥平安红梅丽云霞军强伟勇斌杰涛";

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// A deterministic synthetic resident number `n`.
fn synthetic(n: usize) -> ResidentInput {
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
    ResidentInput {
        name,
        id_number: IdNumber::complete(&format!("320106{year:04}{month:02}{day:02}{:03}", n % 1000))
            .unwrap(),
        phone: format!("139{n:08}"),
        ..ResidentInput::default()
    }
}

fn bare_sqlite_commits(path: &std::path::Path, rounds: usize) -> Vec<Duration> {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "key", format!("x'{}'", hex(&KEY)))
        .unwrap();
    let _: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(
        "PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
         INSERT INTO t VALUES (1, '');",
    )
    .unwrap();
    (0..rounds)
        .map(|i| {
            let start = Instant::now();
            conn.execute(
                "UPDATE t SET v = ?1 WHERE id = 1",
                [format!("测试路 {i} 号")],
            )
            .unwrap();
            start.elapsed()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() {
    // Changes are signed with a key from the keyring: an in-memory one here.
    keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
    let residents: usize = std::env::var("DOORSTEP_BENCH_RESIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let key = DbKey::from_bytes(KEY);
    let tmp = tempfile::tempdir().unwrap();

    // 1. Durable save of one field edit vs a bare FULL-sync commit, interleaved in
    //    blocks so all see the same disk conditions: edits of one record again and
    //    again (its history grows with each), and edits spread over 100 records (each
    //    edited four times, as a visit's corrections are).
    let save_dir = tmp.path().join("save");
    let mut device = Device::open_with_key(&save_dir, catalog::builtin().unwrap(), &key).unwrap();
    let first = device.register_resident(&synthetic(1)).unwrap().id;
    let spread: Vec<_> = (0..100)
        .map(|n| device.register_resident(&synthetic(1000 + n)).unwrap().id)
        .collect();
    let mut form = synthetic(1);
    let rounds = 400;
    let mut edits = Vec::with_capacity(rounds);
    let mut spread_edits = Vec::with_capacity(rounds);
    let mut bare = Vec::with_capacity(rounds);
    for block in 0..4 {
        bare.extend(bare_sqlite_commits(
            &tmp.path().join(format!("bare{block}.db")),
            rounds / 4,
        ));
        for (i, other_id) in spread.iter().enumerate().take(rounds / 4) {
            form.address = format!("测试路 {block}-{i} 号");
            let start = Instant::now();
            device.update_resident(&first, &form).unwrap();
            edits.push(start.elapsed());
            let mut other = synthetic(1000 + i);
            other.address = form.address.clone();
            let start = Instant::now();
            device.update_resident(other_id, &other).unwrap();
            spread_edits.push(start.elapsed());
        }
    }
    let (e50, e99) = (pct(&mut edits, 0.5), pct(&mut edits, 0.99));
    let (s50, s99) = (pct(&mut spread_edits, 0.5), pct(&mut spread_edits, 0.99));
    let (b50, b99) = (pct(&mut bare, 0.5), pct(&mut bare, 0.99));
    println!("## Durable save of one field edit ({rounds} saves each)\n");
    println!("| | p50 | p99 | ratio p50 | ratio p99 |\n|---|---|---|---|---|");
    println!(
        "| bare SQLite single-row commit (FULL) | {} | {} | | |",
        ms(b50),
        ms(b99)
    );
    for (what, p50, p99) in [
        ("Doorstep field edit, one of 100 records", s50, s99),
        ("Doorstep field edit, the same record again", e50, e99),
    ] {
        println!(
            "| {what} (update_resident) | {} | {} | **{:.2}×** | {:.2}× |",
            ms(p50),
            ms(p99),
            p50.as_secs_f64() / b50.as_secs_f64(),
            p99.as_secs_f64() / b99.as_secs_f64()
        );
    }
    println!();
    // What signing adds to a save: one Ed25519 signature of a change's message.
    let signer = device.signer().unwrap();
    let mut signs = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let message = format!("doorstep-change-v2\n{first}\n{i:032}");
        let start = Instant::now();
        std::hint::black_box(signer.sign(message.as_bytes()));
        signs.push(start.elapsed());
    }
    println!(
        "Of a save, its change's signature: p50 {} ({:.0}% of the save's p50).\n",
        ms(pct(&mut signs, 0.5)),
        pct(&mut signs, 0.5).as_secs_f64() * 100.0 / e50.as_secs_f64()
    );
    drop(device);

    // 2. A store of N residents.
    let big_dir = tmp.path().join("big");
    let mut device = Device::open_with_key(&big_dir, catalog::builtin().unwrap(), &key).unwrap();
    let start = Instant::now();
    for chunk in (0..residents).collect::<Vec<_>>().chunks(5_000) {
        let inputs: Vec<ResidentInput> = chunk.iter().map(|n| synthetic(*n)).collect();
        device
            .register_residents(&inputs)
            .map_err(|(_, e)| e)
            .unwrap();
    }
    let populate = start.elapsed();
    drop(device);
    let db_bytes = std::fs::metadata(big_dir.join(doorstep_device::DATABASE_FILE))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("## A store of {residents} residents\n");
    println!(
        "Registered in batches of 5,000 in {:.1} s ({:.0} residents/s); database {:.1} MB.\n",
        populate.as_secs_f64(),
        residents as f64 / populate.as_secs_f64(),
        db_bytes as f64 / 1e6
    );

    // 3. Open and list the first page (cold process state: a fresh Device).
    let mut opens = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let device = Device::open_with_key(&big_dir, catalog::builtin().unwrap(), &key).unwrap();
        let page = device.list_residents_page(0, 50).unwrap();
        assert_eq!(page.len(), 50.min(residents));
        opens.push(start.elapsed());
    }
    println!(
        "Open the store and list the first page of 50: median {} , worst {} (5 runs).\n",
        ms(pct(&mut opens, 0.5)),
        ms(pct(&mut opens, 1.0))
    );

    // 4. Search, each kind of query.
    let device = Device::open_with_key(&big_dir, catalog::builtin().unwrap(), &key).unwrap();
    let s: Vec<char> = SURNAMES.chars().collect();
    type QueryFn = Box<dyn Fn(usize) -> String>;
    let kinds: Vec<(&str, QueryFn)> = vec![
        (
            "name part (汉字)",
            Box::new(|n| synthetic(n).name.chars().skip(1).collect()),
        ),
        (
            "pinyin initials",
            Box::new(|n| initials(&synthetic(n).name)),
        ),
        (
            "full pinyin prefix",
            Box::new(|n| full_pinyin(&synthetic(n).name)),
        ),
        (
            "ID number last 6",
            Box::new(|n| {
                let id = synthetic(n).id_number;
                id[id.len() - 6..].to_owned()
            }),
        ),
        (
            "phone last 4",
            Box::new(|n| synthetic(n).phone[7..].to_owned()),
        ),
        (
            "surname only",
            Box::new(move |n| s[n % s.len()].to_string()),
        ),
    ];
    println!("## Search among {residents} residents (200 queries each, at most 50 results)\n");
    println!("| query | p50 | p99 | mean results |\n|---|---|---|---|");
    for (label, make) in &kinds {
        let mut times = Vec::new();
        let mut found = 0usize;
        for q in 0..200 {
            let query = make((q * 7919) % residents);
            let start = Instant::now();
            found += device.search_residents(&query).unwrap().len();
            times.push(start.elapsed());
        }
        println!(
            "| {label} | {} | {} | {:.1} |",
            ms(pct(&mut times, 0.5)),
            ms(pct(&mut times, 0.99)),
            found as f64 / 200.0
        );
    }
}

fn initials(name: &str) -> String {
    doorstep_core::search::name_keys(name)
        .0
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn full_pinyin(name: &str) -> String {
    doorstep_core::search::name_keys(name)
        .1
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}
