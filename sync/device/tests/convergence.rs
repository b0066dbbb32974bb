//! Property: random edits on 2–5 replicas of the same residents, merged in random
//! orders, converge to identical documents and identical projection rows, and no
//! written value is lost — every value not overwritten by a write that had seen it is
//! still there, current or as one of a conflict's values.
//!
//! The oracle tracks causality: each write remembers which writes its device had seen.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_core::DocId;
use doorstep_core::id_number::IdNumber;
use doorstep_core::resident::ResidentInput;
use doorstep_core::value::{self, FieldValue};
use doorstep_device::Device;
use proptest::prelude::*;

mod common;
use common::mock_keyring;

const PHONES: [&str; 4] = ["13800000001", "13800000002", "13900000003", "13700000004"];
const ADDRESSES: [&str; 3] = ["测试一路", "测试二路", "测试三路"];

#[derive(Debug, Clone)]
enum Op {
    /// Device `d` sets field `f` of record `r` to choice `v`.
    Write {
        d: usize,
        r: usize,
        f: usize,
        v: usize,
    },
    /// Device `to` merges record `r` from device `from`.
    Merge { from: usize, to: usize, r: usize },
}

fn field_name(f: usize) -> &'static str {
    ["phone", "address", "needs.hearing"][f % 3]
}

fn field_value(f: usize, v: usize) -> FieldValue {
    match f % 3 {
        0 => FieldValue::Text(PHONES[v % PHONES.len()].into()),
        1 => FieldValue::Text(ADDRESSES[v % ADDRESSES.len()].into()),
        _ => FieldValue::Bool(v.is_multiple_of(2)),
    }
}

/// One write as the oracle knows it.
#[derive(Debug, Clone)]
struct Write {
    record: usize,
    field: &'static str,
    value: FieldValue,
    seen: BTreeSet<usize>,
}

fn ops(devices: usize, records: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => (0..devices, 0..records, 0..3usize, 0..4usize)
            .prop_map(|(d, r, f, v)| Op::Write { d, r, f, v }),
        2 => (0..devices, 0..devices, 0..records)
            .prop_map(|(from, to, r)| Op::Merge { from, to, r }),
    ];
    proptest::collection::vec(op, 1..24)
}

fn scenario() -> impl Strategy<Value = (usize, usize, Vec<Op>, Vec<(usize, usize)>)> {
    (2usize..=5, 1usize..=2).prop_flat_map(|(devices, records)| {
        (
            Just(devices),
            Just(records),
            ops(devices, records),
            // The order in which devices finally exchange everything.
            proptest::collection::vec((0..devices, 0..devices), devices * 2),
        )
    })
}

fn set_field(device: &mut Device, id: &DocId, field: &str, v: &FieldValue) {
    let r = device.resident(id).expect("read");
    let mut input = ResidentInput {
        name: r.name,
        id_number: r.id_number,
        phone: r.phone,
        gender: r.gender,
        address: r.address,
        needs: r.needs,
        emergency: r.emergency,
        birth_date: r.birth_date,
    };
    match (field, v) {
        ("phone", FieldValue::Text(t)) => input.phone = t.clone(),
        ("address", FieldValue::Text(t)) => input.address = t.clone(),
        ("needs.hearing", FieldValue::Bool(b)) => input.needs.hearing = *b,
        _ => unreachable!("fields and values are generated together"),
    }
    device.update_resident(id, &input).expect("update");
}

fn current(device: &Device, id: &DocId, field: &str) -> FieldValue {
    let r = device.resident(id).expect("read");
    match field {
        "phone" => FieldValue::Text(r.phone),
        "address" => FieldValue::Text(r.address),
        _ => FieldValue::Bool(r.needs.hearing),
    }
}

/// Values of `field` in record `r` that no known write has overwritten.
fn frontier(writes: &[Write], known: &BTreeSet<usize>, r: usize, field: &str) -> BTreeSet<String> {
    let on_field: Vec<usize> = known
        .iter()
        .copied()
        .filter(|w| writes[*w].record == r && writes[*w].field == field)
        .collect();
    on_field
        .iter()
        .filter(|w| !on_field.iter().any(|o| writes[*o].seen.contains(w)))
        .map(|w| format!("{:?}", writes[*w].value))
        .collect()
}

proptest! {
    // A failing case's seed is kept beside this file (convergence.regressions).
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_and_lose_nothing((n, records, script, finale) in scenario()) {
        mock_keyring();
        let dirs: Vec<_> = (0..n).map(|_| tempfile::tempdir().expect("temp dir")).collect();
        let mut devices: Vec<Device> = dirs.iter().map(|d| Device::open(d.path()).expect("open")).collect();
        // The shared records start on device 0 and reach every device.
        let ids: Vec<DocId> = (0..records)
            .map(|r| {
                let input = ResidentInput {
                    name: format!("测试{r}"),
                    id_number: IdNumber::complete(&format!("1101011945081500{r}")).expect("17 digits"),
                    phone: PHONES[0].into(),
                    ..ResidentInput::default()
                };
                devices[0].register_resident(&input).expect("register").id
            })
            .collect();
        for id in &ids {
            let bytes = devices[0].export_record(id).expect("export");
            for d in devices.iter_mut().skip(1) {
                d.merge_record(id, &bytes).expect("merge");
            }
        }

        let mut writes: Vec<Write> = Vec::new();
        // Per device and record, the writes it has seen.
        let mut known: Vec<BTreeMap<usize, BTreeSet<usize>>> = vec![BTreeMap::new(); n];
        let merge = |devices: &mut [Device], known: &mut [BTreeMap<usize, BTreeSet<usize>>], from: usize, to: usize, r: usize| {
            if from == to { return; }
            let bytes = devices[from].export_record(&ids[r]).expect("export");
            devices[to].merge_record(&ids[r], &bytes).expect("merge");
            let seen = known[from].get(&r).cloned().unwrap_or_default();
            known[to].entry(r).or_default().extend(seen);
        };
        for op in &script {
            match *op {
                Op::Write { d, r, f, v } => {
                    let field = field_name(f);
                    let value = field_value(f, v);
                    if current(&devices[d], &ids[r], field) == value {
                        continue; // nothing to write: the device already shows this value
                    }
                    set_field(&mut devices[d], &ids[r], field, &value);
                    let seen = known[d].get(&r).cloned().unwrap_or_default();
                    writes.push(Write { record: r, field, value, seen });
                    known[d].entry(r).or_default().insert(writes.len() - 1);
                }
                Op::Merge { from, to, r } => merge(&mut devices, &mut known, from, to, r),
            }
        }
        // Everyone exchanges everything, in a random order, then once more in a ring.
        for &(from, to) in &finale {
            for r in 0..records {
                merge(&mut devices, &mut known, from, to, r);
            }
        }
        for _ in 0..2 {
            for i in 0..n {
                for r in 0..records {
                    merge(&mut devices, &mut known, i, (i + 1) % n, r);
                }
            }
        }

        let listing = devices[0].list_residents().expect("list");
        for (r, id) in ids.iter().enumerate() {
            let reference = devices[0].export_record(id).expect("export");
            let mut reference_doc = automerge::AutoCommit::load(&reference).expect("load");
            for d in &devices[1..] {
                let mut doc = automerge::AutoCommit::load(&d.export_record(id).expect("export")).expect("load");
                prop_assert_eq!(doc.get_heads(), reference_doc.get_heads());
                prop_assert_eq!(d.resident(id).expect("read"), devices[0].resident(id).expect("read"));
            }
            let all_known: BTreeSet<usize> = (0..writes.len()).collect();
            for field in ["phone", "address", "needs.hearing"] {
                let expected = frontier(&writes, &all_known, r, field);
                if expected.is_empty() {
                    continue;
                }
                let present: BTreeSet<String> = value::get_all(&reference_doc, field)
                    .expect("get_all")
                    .into_iter()
                    .map(|(v, _)| format!("{v:?}"))
                    .collect();
                prop_assert_eq!(present, expected, "record {} field {}", r, field);
            }
        }
        for d in &devices[1..] {
            prop_assert_eq!(d.list_residents().expect("list"), listing.clone());
        }
    }
}
