//! Shared test support: the examples, rendered in both bootstrap phases; where the reference
//! data and tools live; and loud skipping when they are missing outside CI.

#![allow(dead_code, unused_imports, clippy::panic)]

use infera_render::spec::MultiRegionSpec;
use infera_render::{RenderOptions, Rendered, parse_document, render_with};
use serde_json::Value;
use std::collections::BTreeSet;

/// A seed connection string for phase-2 renders (any valid string will do).
pub const TEST_SEED: &str =
    "inferadb_fdb:S33dC0nnect10n@10.10.0.10:4501,10.10.0.11:4501,10.10.0.12:4501";

pub use infera_test_support::workspace;

/// Every example spec, by file name.
pub fn examples() -> Vec<(String, MultiRegionSpec)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(workspace().join("examples")).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let bytes = std::fs::read(&path).expect("read");
            let document =
                parse_document(&bytes).unwrap_or_else(|d| panic!("{}: {d}", path.display()));
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            out.push((name, document.spec));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 7);
    out
}

/// Every example rendered in phase 1 (as written) and in phase 2 (with a seed), labelled.
pub fn renders() -> Vec<(String, Rendered)> {
    let mut out = Vec::new();
    for (name, spec) in examples() {
        let first =
            render_with(&spec, &RenderOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((format!("{name} (as written)"), first));
        let seeded = RenderOptions {
            seed_connection_string: Some(TEST_SEED.to_owned()),
            ..RenderOptions::default()
        };
        let second = render_with(&spec, &seeded).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((format!("{name} (seeded)"), second));
    }
    out
}

/// FoundationDB's rules (docs/fdb-multi-region.md §1.2) on the `databaseConfiguration` of the
/// rendered objects themselves.
pub fn region_rule_violations(configuration: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let usable = configuration["usable_regions"].as_i64().unwrap_or(0);
    let regions = configuration["regions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if regions.len() > 2 {
        problems.push(format!("{} regions", regions.len()));
    }
    if !(1..=2).contains(&usable) || (usable == 2 && regions.len() != 2) {
        problems.push(format!(
            "usable_regions {usable} with {} regions",
            regions.len()
        ));
    }
    let mut primaries = BTreeSet::new();
    let mut best = i64::MIN;
    for region in &regions {
        let datacenters = region["datacenters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (satellites, main): (Vec<&Value>, Vec<&Value>) =
            datacenters.iter().partition(|dc| dc["satellite"] == 1);
        if main.len() != 1 {
            problems.push(format!("a region with {} primary datacenters", main.len()));
            continue;
        }
        let primary = main[0]["id"].as_str().unwrap_or_default();
        best = best.max(main[0]["priority"].as_i64().unwrap_or(0));
        if primary.is_empty() || !primaries.insert(primary.to_owned()) {
            problems.push(format!("primary `{primary}` empty or repeated"));
        }
        let mut seen = BTreeSet::new();
        for satellite in satellites {
            let id = satellite["id"].as_str().unwrap_or_default();
            if id.is_empty() || id == primary || !seen.insert(id) {
                problems.push(format!("bad satellite `{id}`"));
            }
        }
        let has_mode = region.get("satellite_redundancy_mode").is_some();
        if has_mode == seen.is_empty() {
            problems.push(format!(
                "region {primary}: satellite mode and satellites disagree"
            ));
        }
        if let Some(mode) = region["satellite_redundancy_mode"].as_str()
            && ![
                "one_satellite_single",
                "one_satellite_double",
                "one_satellite_triple",
                "two_satellite_safe",
                "two_satellite_fast",
            ]
            .contains(&mode)
        {
            problems.push(format!("unknown satellite mode {mode}"));
        }
    }
    if !regions.is_empty() && best < 0 {
        problems.push("no primary with priority >= 0".to_owned());
    }
    problems
}

/// Reads YAML the way a YAML 1.1 decoder would (yes/no/on/off are booleans, 0755 is octal).
pub fn read_like_yaml_1_1(text: &str) -> Value {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = false;
    options.legacy_octal_numbers = true;
    options.budget = None;
    serde_saphyr::from_str_with_options(text, options).expect("our YAML parses")
}
