//! The module layering of ARCHITECTURE.md, checked: every `crate::` path in `src/` is read, and
//! a test fails on an arrow from a lower layer to a higher one, or on a cycle between top-level
//! modules, naming the file, the line and the path. The table below *is* the architecture: a new
//! top-level module must be placed in it, and moving one is a reviewed change of this file.
//!
//! In the spirit of rust-analyzer's tidy tests: plain text scanning, no compiler, fast.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may use modules of its own layer (without a cycle) and of
/// every layer below; never one above.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "primitives",
        &[
            "lines",
            "date",
            "parallel",
            "cidr",
            "value",
            "error",
            "names",
            "command",
            "procstatus",
            "probe",
        ],
    ),
    (
        "vocabulary",
        &[
            "seccomp",
            "netfilter",
            "firewall",
            "benchmark",
            "manifest",
            "config",
            "privilege",
            "embedded",
        ],
    ),
    ("host", &["host"]),
    ("engine", &["engine"]),
    ("remedy", &["remedy"]),
    ("report", &["report"]),
    ("cli", &["cli"]),
];

/// One `crate::<module>` reference found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    file: PathBuf,
    line: usize,
    from: String,
    to: String,
    text: String,
}

/// The top-level module a file under `src/` belongs to (`host/components/mod.rs` -> `host`),
/// or `None` for the crate root and `main.rs`.
fn top_module(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// Every `crate::x` in code (comments left out): `use crate::x::...`, `crate::x::f()`, and each
/// member of `use crate::{x, y::z}`.
fn references_in(file: &Path, relative: &Path, text: &str) -> Vec<Reference> {
    let Some(from) = top_module(relative) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut push = |line: usize, to: &str, text: &str| {
        if to != from && to != "self" && to != "super" {
            found.push(Reference {
                file: file.to_path_buf(),
                line,
                from: from.clone(),
                to: to.to_string(),
                text: text.trim().to_string(),
            });
        }
    };
    // A `use crate::{...}` group may span lines: join the file, keeping line starts.
    let mut code = String::new();
    let mut line_starts = Vec::new();
    for line in text.lines() {
        line_starts.push(code.len());
        let trimmed = line.trim_start();
        if !trimmed.starts_with("//") {
            code.push_str(line);
        }
        code.push('\n');
    }
    let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset);
    let mut search = 0;
    while let Some(found_at) = code[search..].find("crate::") {
        let start = search + found_at;
        search = start + "crate::".len();
        // `hardnode::crate::` never occurs; skip `$crate::` in macros and identifiers ending in
        // `crate` (none today, but a name like `subcrate::` must not count).
        if start > 0 {
            let before = code.as_bytes()[start - 1];
            if before.is_ascii_alphanumeric() || before == b'_' || before == b'$' {
                continue;
            }
        }
        let rest = &code[search..];
        let line = line_of(start);
        let line_text = text.lines().nth(line - 1).unwrap_or_default();
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let name: String = member
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    push(line, &name, line_text);
                }
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            push(line, &name, line_text);
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("read {}: {error}", dir.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn references(src: &Path) -> Vec<Reference> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .iter()
        .flat_map(|file| {
            let text = fs::read_to_string(file)
                .unwrap_or_else(|error| panic!("read {}: {error}", file.display()));
            let relative = file.strip_prefix(src).unwrap_or(file);
            references_in(&Path::new("src").join(relative), relative, &text)
        })
        .collect()
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

/// Every violation, as a line to print: unknown modules, arrows against the flow, cycles.
fn violations(references: &[Reference], modules: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for module in modules {
        if layer_of(module).is_none() {
            problems.push(format!(
                "src/{module}: a top-level module not placed in a layer (add it to LAYERS in \
                 tests/architecture.rs and to ARCHITECTURE.md)"
            ));
        }
    }
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for reference in references {
        if !modules.contains(&reference.to) {
            continue; // an external crate's `crate::` in a doc string, or a macro
        }
        edges
            .entry(reference.from.as_str())
            .or_default()
            .insert(reference.to.as_str());
        if let (Some(from), Some(to)) = (layer_of(&reference.from), layer_of(&reference.to))
            && to > from
        {
            problems.push(format!(
                "{}:{}: `{}` ({}) uses `{}` ({}), a higher layer: `{}`",
                reference.file.display(),
                reference.line,
                reference.from,
                LAYERS[from].0,
                reference.to,
                LAYERS[to].0,
                reference.text
            ));
        }
    }
    // Cycles, within a layer or across (an upward arrow already makes one there).
    for start in edges.keys() {
        let mut stack = vec![(*start, vec![*start])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(node).into_iter().flatten() {
                if next == start {
                    let mut cycle = path.clone();
                    cycle.push(next);
                    let text = cycle.join(" -> ");
                    let first = cycle.iter().min().copied().unwrap_or(start);
                    if *start == first {
                        problems.push(format!("module cycle: {text}"));
                    }
                } else if seen.insert(*next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
    problems
}

fn top_level_modules(src: &Path) -> BTreeSet<String> {
    fs::read_dir(src)
        .unwrap_or_else(|error| panic!("read {}: {error}", src.display()))
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            let name = path.file_name()?.to_str()?.to_string();
            if path.is_dir() {
                Some(name)
            } else {
                let stem = name.strip_suffix(".rs")?;
                (stem != "lib" && stem != "main").then(|| stem.to_string())
            }
        })
        .collect()
}

#[test]
fn modules_follow_the_layers_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let references = references(&src);
    assert!(
        references.len() > 100,
        "the scan found only {} crate:: references: it is not reading the sources",
        references.len()
    );
    let problems = violations(&references, &top_level_modules(&src));
    assert!(
        problems.is_empty(),
        "the module layering of ARCHITECTURE.md is broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_layered_module_exists() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_level_modules(&src);
    for (layer, names) in LAYERS {
        for name in *names {
            assert!(
                modules.contains(*name),
                "LAYERS names `{name}` ({layer}), which is not a module in src/"
            );
        }
    }
}

/// The check itself: a planted back-arrow and a planted cycle are caught, with file and line.
#[test]
fn a_planted_back_arrow_and_cycle_are_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    let write = |path: &str, text: &str| {
        let full = src.join(path);
        fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        fs::write(full, text).expect("write");
    };
    write("lib.rs", "pub mod host;\npub mod engine;\npub mod value;\n");
    write(
        "host/mod.rs",
        "//! Reads.\n// crate::engine in a comment does not count\nuse crate::value::Value;\nuse crate::{\n    engine::Finding,\n    value,\n};\n",
    );
    write("engine/mod.rs", "use crate::host::Facts;\n");
    write("value.rs", "pub fn f() { crate::engine::g(); }\n");
    let problems = violations(&references(src), &top_level_modules(src));
    let text = problems.join("\n");
    assert!(
        text.contains("host/mod.rs:4: `host` (host) uses `engine` (engine)"),
        "{text}"
    );
    assert!(
        text.contains("value.rs:1: `value` (primitives) uses `engine` (engine)"),
        "{text}"
    );
    assert!(
        text.contains("module cycle: engine -> host -> engine"),
        "{text}"
    );
    assert!(!text.contains(":2:"), "a comment was counted: {text}");
    // And the clean direction passes.
    write("host/mod.rs", "use crate::value::Value;\n");
    write("value.rs", "pub fn f() {}\n");
    assert!(violations(&references(src), &top_level_modules(src)).is_empty());
}

/// Relative Markdown links (`[text](path)`, anchors dropped) of a file.
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = &rest[..end];
        let path = target.split('#').next().unwrap_or_default();
        if !path.is_empty() && !path.contains("://") && !path.starts_with("mailto:") {
            links.push(path.to_string());
        }
    }
    links
}

/// The operator's README stays short, starts with the two commands, and every page of `docs/`
/// is reachable from it; no relative link in the docs is broken.
#[test]
fn readme_is_short_and_every_doc_page_is_reachable() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(repo.join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; the reference belongs in docs/"
    );
    let first_block: String = readme
        .split("```")
        .nth(1)
        .expect("README.md starts with a code block")
        .to_string();
    assert!(
        first_block.contains("-- check") && first_block.contains("scripts/test.sh"),
        "the README's first block must hold the main job and the test command:\n{first_block}"
    );
    let mut pages = vec![repo.join("README.md"), repo.join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(repo.join("docs"))
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs.iter().cloned());
    let mut reachable = BTreeSet::new();
    for page in &pages {
        let text = fs::read_to_string(page).expect("page");
        let dir = page.parent().expect("dir");
        for link in relative_links(&text) {
            let target = dir.join(&link);
            assert!(
                target.exists(),
                "{}: link to {link}, which does not exist",
                page.display()
            );
            if let Ok(canonical) = target.canonicalize() {
                reachable.insert(canonical);
            }
        }
    }
    let from_readme: BTreeSet<PathBuf> = [repo.join("README.md"), repo.join("docs/README.md")]
        .iter()
        .flat_map(|page| {
            let text = fs::read_to_string(page).expect("page");
            let dir = page.parent().expect("dir").to_path_buf();
            relative_links(&text)
                .into_iter()
                .filter_map(move |link| dir.join(link).canonicalize().ok())
        })
        .collect();
    for page in &docs {
        let canonical = page.canonicalize().expect("doc page");
        assert!(
            from_readme.contains(&canonical),
            "{} is not linked from README.md or docs/README.md",
            page.display()
        );
    }
    assert!(!reachable.is_empty());
}
