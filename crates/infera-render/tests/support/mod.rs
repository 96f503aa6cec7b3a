//! Shared test support: the examples, rendered in both bootstrap phases; where the reference
//! data and tools live; and loud skipping when they are missing outside CI.

#![allow(dead_code, unused_imports, clippy::panic)]

use infera_render::spec::MultiRegionSpec;
use infera_render::{RenderOptions, Rendered, parse_document, render_with};

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
