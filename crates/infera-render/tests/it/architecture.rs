//! The library's layers, checked on its source (ARCHITECTURE.md describes them): every
//! top-level module may use only the modules below it, so there is no import cycle; rendering
//! neither parses nor validates; and every document a comment cites is in the repository, at a
//! section that exists.

#![allow(clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may use the modules before it, never one after it.
const LAYERS: [&str; 13] = [
    "diagnostics",
    "syntax",
    "upstream",
    "model",
    "names",
    "validate",
    "source",
    "plan",
    "pipeline",
    "render",
    "integrations",
    "diff",
    "explain",
];

/// Edges the order would allow but the design forbids: rendering reads the plan, never the
/// spec's raw text or its rules.
const FORBIDDEN: [(&str, &str); 3] = [
    ("render", "validate"),
    ("render", "syntax"),
    ("render", "source"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)]` part; `None` for a
/// file that is a test module itself (`tests.rs`).
fn code_of(path: &Path) -> Option<String> {
    if path.file_name().is_some_and(|name| name == "tests.rs") {
        return None;
    }
    let text = std::fs::read_to_string(path).expect("read");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    Some(
        text.lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The top-level module a file belongs to (`render/tailscale.rs` → `render`).
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(src()).expect("inside src");
    let first = relative
        .components()
        .next()
        .expect("a component")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// `module → the top-level modules it uses` (through `crate::<module>`).
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file);
        if module == "lib" {
            continue;
        }
        let Some(code) = code_of(&file) else {
            continue;
        };
        let used = out.entry(module.clone()).or_default();
        for (index, _) in code.match_indices("crate::") {
            let name: String = code[index + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                used.insert(name);
            }
        }
    }
    out
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let dependencies = dependencies();
    let mut problems = Vec::new();
    for (module, used) in &dependencies {
        let Some(&own) = rank.get(module.as_str()) else {
            problems.push(format!(
                "`{module}` is in no layer: add it to LAYERS and ARCHITECTURE.md"
            ));
            continue;
        };
        for dependency in used {
            match rank.get(dependency.as_str()) {
                // Re-exports at the crate root (`crate::Plan`) are the root's, not a layer's.
                None if dependency.chars().next().is_some_and(char::is_uppercase) => {}
                None => problems.push(format!(
                    "`{module}` uses `{dependency}`, which is in no layer"
                )),
                Some(&other) if other >= own => {
                    problems.push(format!("`{module}` uses `{dependency}`, a layer above it"));
                }
                Some(_) => {}
            }
            if FORBIDDEN.contains(&(module.as_str(), dependency.as_str())) {
                problems.push(format!("`{module}` must not use `{dependency}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every layer is in use, so the list stays the crate's real shape.
    for layer in LAYERS {
        assert!(dependencies.contains_key(layer), "no module `{layer}`");
    }
}

/// The checker itself catches a back edge.
#[test]
fn a_back_edge_would_be_caught() {
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    assert!(rank["plan"] > rank["validate"], "plan builds on validate");
    assert!(rank["render"] > rank["plan"]);
    let dependencies = dependencies();
    // plan uses validate (allowed); validate using plan would be a cycle.
    assert!(dependencies["plan"].contains("validate"));
    assert!(!dependencies["validate"].contains("plan"));
}

/// The spec's value types the plan carries as they are (resources, tolerations, how the
/// Tailscale credential is given); rendering may name these, and no other spec type.
const SPEC_VALUES_IN_THE_PLAN: [&str; 6] = [
    "ResourceList",
    "Resources",
    "TaintEffect",
    "Toleration",
    "TolerationOperator",
    "TailscaleCredentials",
];

/// Rendering reads the plan, not the spec: outside the two entry points in `render/mod.rs`
/// (which plan first), no render file names the spec or one of its sections.
#[test]
fn rendering_reads_no_raw_spec_field() {
    let mut files = Vec::new();
    rust_files(&src().join("render"), &mut files);
    let mut problems = Vec::new();
    for file in files {
        let Some(code) = code_of(&file) else {
            continue;
        };
        let entry_points = file.ends_with("render/mod.rs");
        for (index, _) in code.match_indices("infera_spec::") {
            let rest = &code[index + "infera_spec::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty())
                    .collect(),
                None => vec![
                    rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or_default(),
                ],
            };
            for name in names {
                let allowed = SPEC_VALUES_IN_THE_PLAN.contains(&name)
                    || (entry_points && name == "MultiRegionSpec");
                if !allowed {
                    problems.push(format!("{} names infera_spec::{name}", file.display()));
                }
            }
        }
        // The spec type itself, however it is reached (`crate::spec::…`, a re-export).
        if !entry_points && code.contains("MultiRegionSpec") {
            problems.push(format!("{} names MultiRegionSpec", file.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `docs/<file>.md §<n>` in a comment: the file is in the repository and has that section.
#[test]
fn every_cited_document_and_section_exists() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for crate_dir in [
        "infera-render",
        "infera-render-cli",
        "infera-spec",
        "infera-test-support",
    ] {
        rust_files(&workspace.join("crates").join(crate_dir), &mut files);
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for line in text.lines() {
            let Some((_, comment)) = line.split_once("//") else {
                continue;
            };
            if comment.contains("DESIGN.md") {
                problems.push(format!(
                    "{}: cites DESIGN.md, which is not in the repository",
                    file.display()
                ));
            }
            for (index, _) in comment.match_indices("docs/") {
                // `OP@v2.33.0:docs/...` and `upstream/docs/...` are upstream files.
                if comment[..index].ends_with(|c: char| c == ':' || c == '/' || c.is_alphanumeric())
                {
                    continue;
                }
                let rest = &comment[index..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_'))
                    .collect();
                let name = name.trim_end_matches('.');
                if !name.ends_with(".md") {
                    continue;
                }
                let doc = workspace.join(name);
                let Ok(doc_text) = std::fs::read_to_string(&doc) else {
                    problems.push(format!(
                        "{}: cites {name}, which is not in the repository",
                        file.display()
                    ));
                    continue;
                };
                let after = &rest[name.len()..];
                if let Some(section) = after.trim_start().strip_prefix('§') {
                    let number: String = section
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    let number = number.trim_end_matches('.');
                    let heading = doc_text.lines().any(|line| {
                        let title = line.trim_start_matches('#').trim_start();
                        line.starts_with('#')
                            && (title.starts_with(&format!("{number} "))
                                || title.starts_with(&format!("{number}. ")))
                    });
                    if !heading {
                        problems.push(format!(
                            "{}: {name} has no section §{number}",
                            file.display()
                        ));
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 20, "only {checked} citations found");
}
