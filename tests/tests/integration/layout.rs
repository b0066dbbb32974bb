//! The house rules of the code, checked: no import cycle among a crate's modules, no
//! source file over 800 lines, and a thin shell (under 8% of the source lines of the
//! product crates, core, device, server and shell, with their unit tests but without
//! test folders, benches or the test crate; and no `doorstep_core` import: it goes
//! through doorstep-device).
//!
//! A module imports another when its code (not its `#[cfg(test)] mod tests`) names it
//! through `crate::…` or `super::…`. Figures go to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 5] = [
    "sync/core",
    "sync/device",
    "sync/server",
    "src-tauri",
    "tests",
];
const MAX_LINES: usize = 800;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a::b` for `src/a/b.rs` or `src/a/b/mod.rs`; `` for `lib.rs` and `main.rs`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file without its trailing unit-test module.
fn code_of(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |at| &text[..at])
}

/// Every `crate::x::y…` / `super::x…` path in `code`, as segments.
fn paths(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    for (root, is_crate) in [("crate::", true), ("super::", false)] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + root.len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let segments: Vec<String> = after
                .split("::")
                .map(|s| {
                    s.chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect::<String>()
                })
                .take_while(|s| !s.is_empty())
                .collect();
            out.push((is_crate, segments));
        }
    }
    out
}

/// Which modules each module of the crate at `src` imports.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let text = std::fs::read_to_string(file).expect("read");
        let mut deps = BTreeSet::new();
        for (is_crate, segments) in paths(code_of(&text)) {
            let mut path: Vec<String> = if is_crate {
                Vec::new()
            } else {
                let mut parent: Vec<String> = module.split("::").map(str::to_owned).collect();
                parent.pop();
                parent
            };
            path.extend(segments);
            // The longest prefix that names a module.
            if let Some(target) = (1..=path.len())
                .rev()
                .map(|k| path[..k].join("::"))
                .find(|m| modules.contains(m))
                && target != module
            {
                deps.insert(target);
            }
        }
        graph.insert(module, deps);
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, trail)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                return Some([trail.clone(), vec![next.clone()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [trail.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn no_crate_has_an_import_cycle_among_its_modules() {
    let root = workspace();
    let mut cycles = Vec::new();
    for krate in CRATES {
        let graph = imports(&root.join(krate).join("src"));
        assert!(graph.len() > 3, "{krate}: modules not found");
        for module in graph.keys() {
            if let Some(cycle) = cycle_from(&graph, module) {
                cycles.push(format!("{krate}: {}", cycle.join(" → ")));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").expect("write");
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").expect("write");
    std::fs::write(src.join("b.rs"), "pub struct B(crate::a::A);\n").expect("write");
    let graph = imports(src);
    assert_eq!(
        cycle_from(&graph, "a"),
        Some(vec!["a".to_owned(), "b".to_owned(), "a".to_owned()])
    );
    // A unit-test module may use anything.
    std::fs::write(
        src.join("b.rs"),
        "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n",
    )
    .expect("write");
    assert_eq!(cycle_from(&imports(src), "a"), None);
}

#[test]
fn no_source_file_is_over_800_lines_and_the_shell_is_thin() {
    let root = workspace();
    let mut total = 0;
    let mut shell = 0;
    let mut long = Vec::new();
    for krate in CRATES {
        let mut files = Vec::new();
        rust_files(&root.join(krate).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            let lines = text.lines().count();
            if krate != "tests" && lines > MAX_LINES {
                long.push(format!("{} ({lines})", file.display()));
            }
            if krate != "tests" {
                total += lines;
            }
            if krate == "src-tauri" {
                shell += lines;
                assert!(
                    !text.contains("doorstep_core"),
                    "{} imports doorstep_core; use doorstep_device's re-exports",
                    file.display()
                );
            }
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
    let share = shell as f64 / total as f64;
    eprintln!(
        "layout: the shell is {shell} of the product crates' {total} source lines ({:.1}%)",
        share * 100.0
    );
    assert!(
        share < 0.08,
        "the shell is {:.1}% of the Rust lines",
        share * 100.0
    );
}
