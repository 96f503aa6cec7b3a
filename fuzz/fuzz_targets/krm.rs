//! A KRM function `ResourceList` on stdin (what kustomize and kpt pipe to `infera-render krm`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let outcome = infera_render::krm(text);
    // On success and on failure alike the function answers with a ResourceList.
    assert!(
        outcome.output.contains("kind: ResourceList"),
        "{}",
        outcome.output
    );
});
