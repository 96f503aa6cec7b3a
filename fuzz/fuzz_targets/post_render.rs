//! Helm's rendered manifests on stdin (what `helm --post-renderer` pipes to
//! `infera-render post-render`), against a fixed valid spec.

#![no_main]

use infera_render::spec::MultiRegionSpec;
use infera_render::{PostRenderOptions, parse_document, parse_manifests, post_render};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static SPEC: LazyLock<MultiRegionSpec> = LazyLock::new(|| {
    parse_document(include_bytes!("../../examples/single-region.yaml"))
        .expect("the single-region example parses")
        .spec
});

fuzz_target!(|text: &str| {
    let _ = parse_manifests(text);
    if let Ok(rendered) = post_render(&SPEC, text, &PostRenderOptions::default()) {
        // Whatever it hands back to Helm must be manifests Helm can read.
        parse_manifests(&rendered.output).expect("the post-rendered output is YAML Helm can read");
    }
});
