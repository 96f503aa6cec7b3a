//! Spec bytes → parse → validate/plan (unseeded and seeded) → explain → render.
//!
//! Besides "never panics, never hangs, never allocates without bound", it checks what must hold
//! for every spec that renders: rendering twice gives the same bytes, and the stream reads back
//! (with the Go-style YAML 1.1 reader kubectl and Helm use) as exactly the objects rendered.

#![no_main]

use infera_render::{
    PlanOptions, RenderOptions, explain, parse_document, parse_manifests, render_plan,
};
use libfuzzer_sys::fuzz_target;

const SEED: &str =
    "fuzz_cluster:AbCdEf0123@10.1.0.10:4500:tls,10.1.0.11:4500:tls,10.1.0.12:4500:tls";

fuzz_target!(|bytes: &[u8]| {
    let document = match parse_document(bytes) {
        Ok(document) => document,
        Err(diagnostics) => {
            let _ = diagnostics.to_string();
            return;
        }
    };
    for seed in [None, Some(SEED.to_owned())] {
        let options = PlanOptions {
            seed_connection_string: seed,
            allow_plaintext_secrets: true,
        };
        let planned = match document.plan(&options) {
            Ok(planned) => planned,
            Err(diagnostics) => {
                let _ = diagnostics.to_string();
                continue;
            }
        };
        let _ = planned.warnings.to_string();
        let _ = explain(&planned);
        let render_options = RenderOptions::default();
        let rendered = render_plan(planned.clone(), &render_options);
        let again = render_plan(planned, &render_options);
        let stream = rendered.stream(None);
        assert_eq!(stream, again.stream(None), "rendering is not deterministic");
        assert_eq!(
            rendered.files(),
            again.files(),
            "rendered files are not deterministic"
        );
        let read_back =
            parse_manifests(&stream).expect("the rendered stream is YAML kubectl can read");
        let objects: Vec<_> = rendered
            .regions
            .iter()
            .flat_map(|b| b.objects.iter().map(|o| o.value.clone()))
            .collect();
        assert_eq!(
            read_back, objects,
            "a YAML 1.1 reader reads the stream differently"
        );
    }
});
