//! Every committed crasher (`fuzz/regressions/<target>/`) and every seed
//! (`fuzz/seeds/<target>/`) through its target on stable: a crash once fixed stays
//! fixed. With `DOORSTEP_BLESS=1` the seeds are written afresh first.

use std::path::{Path, PathBuf};

use doorstep_fuzzing::{TARGETS, seeds, target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.is_file() && p.file_name().is_none_or(|n| n != "README.md"));
    out.sort();
    out
}

#[test]
fn every_target_has_seeds_and_every_seed_runs() -> std::io::Result<()> {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalog");
    let all = seeds::all(&catalog)?;
    let seeds_dir = fuzz_dir().join("seeds");
    if std::env::var_os("DOORSTEP_BLESS").is_some() {
        for (name, _) in TARGETS {
            let dir = seeds_dir.join(name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir)?;
        }
        for (target, name, bytes) in &all {
            std::fs::write(seeds_dir.join(target).join(name), bytes)?;
        }
    }
    // The seeds as the generator makes them now, and as committed.
    for (target_name, _, bytes) in &all {
        (target(target_name).expect("a target"))(bytes);
    }
    for (name, run) in TARGETS {
        let committed = files(&seeds_dir.join(name));
        assert!(
            !committed.is_empty(),
            "target {name} has no seed (DOORSTEP_BLESS=1 writes them)"
        );
        for file in committed {
            run(&std::fs::read(&file)?);
        }
    }
    Ok(())
}

#[test]
fn every_committed_crasher_runs_without_a_crash() {
    let regressions = fuzz_dir().join("regressions");
    for (name, run) in TARGETS {
        for file in files(&regressions.join(name)) {
            let bytes = std::fs::read(&file).expect("a crasher");
            run(&bytes);
        }
    }
    assert!(regressions.is_dir(), "{} is missing", regressions.display());
}
