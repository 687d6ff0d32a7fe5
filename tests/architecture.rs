//! The layering of the workspace, checked (issue: one crate per layer).
//!
//! - Crate dependencies point one way: `seqprov-cli` → `seqprov-signers` (token and
//!   agent signers) → `seqprov` → `seqprov-engine`, `seqprov-illumina` → `seqprov-format`; the engine and the sequencing knowledge never
//!   depend on each other, and the format depends on no other crate of the workspace.
//!   `seqprov` (and the CLI) also use `seqprov-log`, the transparency log's bytes and
//!   storage, which knows nothing of bundles.
//! - Inside each crate, no module imports another in a circle (test modules at the end
//!   of a file, after `#[cfg(test)]`, are not counted: they may use anything).
//! - Every library's `lib.rs` opens with a paragraph saying what it owns.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const CRATES: [&str; 6] = [
    "seqprov-format",
    "seqprov-engine",
    "seqprov-illumina",
    "seqprov",
    "seqprov-signers",
    "seqprov-cli",
];

/// The workspace crates each crate may depend on (normal dependencies).
fn allowed(krate: &str) -> &'static [&'static str] {
    match krate {
        "seqprov-format" => &[],
        "seqprov-engine" | "seqprov-illumina" => &["seqprov-format"],
        "seqprov" => &[
            "seqprov-format",
            "seqprov-engine",
            "seqprov-illumina",
            "seqprov-log",
        ],
        "seqprov-signers" => &["seqprov"],
        "seqprov-cli" => &["seqprov", "seqprov-signers", "seqprov-log"],
        other => panic!("unknown crate {other}"),
    }
}

/// The workspace crates named in the `[dependencies]` table of a manifest.
fn workspace_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && let Some((name, _)) = line.split_once('=') {
            let name = name.trim();
            if CRATES.contains(&name) {
                out.insert(name.to_string());
            }
        }
    }
    out
}

#[test]
fn crate_dependencies_point_one_way() {
    for krate in CRATES {
        let manifest =
            fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml")).unwrap();
        let found = workspace_dependencies(&manifest);
        let allowed: BTreeSet<String> = allowed(krate).iter().map(|s| s.to_string()).collect();
        let extra: Vec<_> = found.difference(&allowed).collect();
        assert!(
            extra.is_empty(),
            "{krate} depends on {extra:?}, against the layering"
        );
    }
}

/// Module name of a source file relative to `src/` (`a/b.rs` → `a::b`, `a/mod.rs` → `a`).
fn module_name(relative: &Path) -> String {
    let text = relative
        .with_extension("")
        .to_string_lossy()
        .replace('/', "::");
    text.strip_suffix("::mod").unwrap_or(&text).to_string()
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules `code` names through `crate::module`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `seqprov_crate::` or similar, not this crate
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// The import graph between the top-level modules of one crate, test modules left out.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    source_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let module = module_name(relative);
        let top = module.split("::").next().unwrap().to_string();
        if top == "lib" || top == "main" {
            continue; // the crate root declares and re-exports every module
        }
        let text = fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let code: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let targets = graph.entry(top.clone()).or_default();
        for target in crate_references(&code) {
            if target != top {
                targets.insert(target);
            }
        }
    }
    graph
}

/// A circle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, graph, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn no_module_imports_another_in_a_circle() {
    for krate in CRATES {
        let graph = module_graph(&workspace().join("crates").join(krate).join("src"));
        assert!(
            !graph.is_empty() || krate == "seqprov-cli",
            "{krate}: no modules found"
        );
        if let Some(cycle) = find_cycle(&graph) {
            panic!(
                "{krate}: modules import each other in a circle: {}",
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_planted_circle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&graph).unwrap(),
        vec!["a".to_string(), "b".into(), "c".into(), "a".into()]
    );
    graph.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&graph), None);
    assert_eq!(
        crate_references("use crate::a::X; seqprov_crate::b; crate::c"),
        ["a", "c"].iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn every_library_says_what_it_owns() {
    for krate in [
        "seqprov-format",
        "seqprov-engine",
        "seqprov-illumina",
        "seqprov",
    ] {
        let lib =
            fs::read_to_string(workspace().join("crates").join(krate).join("src/lib.rs")).unwrap();
        let opening: Vec<&str> = lib.lines().take_while(|l| l.starts_with("//!")).collect();
        let text = opening.join("\n");
        assert!(
            opening.len() >= 8 && text.contains("must not") && text.contains("Start reading"),
            "{krate}/src/lib.rs must open with what it owns, what it must not know, and \
             where to start reading"
        );
    }
}
