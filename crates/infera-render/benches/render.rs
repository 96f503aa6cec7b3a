//! In-process benchmarks of `render` (criterion).
//!
//! - `parse/<example>`, `render/<example>`, `end-to-end/<example>`: each example as written, in
//!   the stages of a CLI run (see [`examples`]).
//! - `scaling/{regions,zones,replicas}/<n>`: generated specs grown along one dimension up to
//!   the largest the validator allows (16 regions, 8 zones, 1000 replicas and processes), with
//!   the output size as throughput, so time per byte shows whether growth is linear.
//!
//! `scripts/bench.py` runs these and the whole-process timings and prints the README table.

#![allow(missing_docs, clippy::expect_used, clippy::panic)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use infera_render::spec::{MultiRegionSpec, Quantity, Region, SatelliteRedundancyMode};
use infera_render::{PlanOptions, RenderOptions, parse_document, render_with};
use std::hint::black_box;

fn seeded() -> PlanOptions {
    PlanOptions {
        seed_connection_string: Some(infera_test_support::TEST_SEED.to_owned()),
        ..PlanOptions::default()
    }
}

/// The bytes of every output file: rendering is not done before the YAML is written.
fn files_size(rendered: &infera_render::Rendered) -> usize {
    rendered
        .files()
        .iter()
        .map(|file| file.contents.len())
        .sum()
}

/// Each example as written (as `render -f examples/<name>.yaml` runs it):
/// - `parse/<example>`: text → spec (YAML with positions, strict schema check);
/// - `render/<example>`: spec → validated plan → objects → the text of every output file;
/// - `end-to-end/<example>`: both.
///
/// `render/three-region (seeded)` is the three-region example in bootstrap phase 2 (every
/// datacenter rendered).
fn examples(c: &mut Criterion) {
    let as_written = PlanOptions::default();
    let mut inputs = Vec::new();
    for (_, path) in infera_test_support::example_files() {
        let name = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&path).expect("read example");
        let spec = parse_document(&bytes).expect("the example parses").spec;
        inputs.push((name, bytes, spec));
    }

    let mut group = c.benchmark_group("parse");
    for (name, bytes, _) in &inputs {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| parse_document(black_box(bytes)).is_ok())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("render");
    let mut variants: Vec<(String, &MultiRegionSpec, PlanOptions)> = inputs
        .iter()
        .map(|(name, _, spec)| (name.clone(), spec, as_written.clone()))
        .collect();
    if let Some((_, _, spec)) = inputs.iter().find(|(name, _, _)| name == "three-region") {
        variants.push(("three-region (seeded)".to_owned(), spec, seeded()));
    }
    for (name, spec, options) in &variants {
        let size =
            files_size(&render_with(spec, options, &RenderOptions::default()).expect("renders"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                files_size(
                    &render_with(black_box(spec), options, &RenderOptions::default())
                        .expect("renders"),
                )
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("end-to-end");
    for (name, bytes, spec) in &inputs {
        let size = files_size(
            &render_with(spec, &as_written, &RenderOptions::default()).expect("renders"),
        );
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let document = parse_document(black_box(bytes)).expect("parses");
                files_size(
                    &render_with(&document.spec, &as_written, &RenderOptions::default())
                        .expect("renders"),
                )
            })
        });
    }
    group.finish();
}

/// `diff::compare`, which `render -o` runs before it writes: the three-region example against a
/// folder holding the same render (the common re-render), and its phase-2 render against the
/// phase-1 folder (every changed file parsed back and compared field by field).
fn diff(c: &mut Criterion) {
    let Some((_, bytes)) = infera_test_support::example_files()
        .into_iter()
        .map(|(name, path)| (name, std::fs::read(path).expect("read")))
        .find(|(name, _)| name == "three-region.yaml")
    else {
        return;
    };
    let spec = parse_document(&bytes).expect("parses").spec;
    let folder = infera_render::diff::Previous::written_by;
    let one =
        render_with(&spec, &PlanOptions::default(), &RenderOptions::default()).expect("renders");
    let two = render_with(&spec, &seeded(), &RenderOptions::default()).expect("renders");
    let mut group = c.benchmark_group("diff");
    for (name, previous, next) in [
        ("three-region unchanged", folder(&one), &one),
        ("three-region phase 1 to 2", folder(&one), &two),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || next.clone(),
                |mut rendered| {
                    infera_render::diff::compare(black_box(&previous), &mut rendered, None)
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// A valid spec with `regions` regions (two FoundationDB regions with one satellite each when
/// there are two or more, the rest client regions), `zones` zones per region, and `scale`
/// engine/control replicas and FoundationDB processes per class.
fn scaled_spec(regions: usize, zones: usize, scale: u32) -> MultiRegionSpec {
    let mut spec = MultiRegionSpec {
        cluster_name: "inferadb-fdb".to_owned(),
        volume_size: Quantity::new("128Gi"),
        ..MultiRegionSpec::default()
    };
    for index in 0..regions {
        let id = format!("region-{index:02}");
        let priority = i32::try_from(index).expect("few regions") + 1;
        let mut region = Region::new(id.clone(), index == 0, priority);
        region.zones = (0..zones)
            .map(|zone| {
                format!(
                    "{id}{}",
                    char::from(b'a' + u8::try_from(zone).expect("few zones"))
                )
            })
            .collect();
        region.pod_cidr = Some(format!("10.{}.0.0/16", index + 1));
        region.kubernetes.config_context = Some(format!("ctx-{id}"));
        region.process_counts.storage = scale.max(3);
        region.process_counts.log = scale.max(3);
        region.process_counts.stateless = scale;
        spec.regions.push(region);
    }
    spec.fearless_dr.enabled = regions >= 2;
    spec.fearless_dr.usable_regions = if regions >= 2 { 2 } else { 1 };
    spec.fearless_dr.satellite_redundancy_mode =
        (regions >= 2 && zones >= 2).then_some(SatelliteRedundancyMode::OneSatelliteDouble);
    spec.engine.replicas = scale;
    spec.control.replicas = scale;
    spec.control.webauthn.party = Some("inferadb.example.com".to_owned());
    spec.control.webauthn.origin = Some("https://inferadb.example.com".to_owned());
    spec.tailscale.image = "tailscale/tailscale:v1.78.3".to_owned();
    spec
}

/// `(regions, zones, replicas and processes)` of one generated spec.
type Size = (usize, usize, u32);

fn scaling(c: &mut Criterion) {
    let options = seeded();
    let dimensions: [(&str, Vec<Size>); 3] = [
        ("regions", [1, 2, 4, 8, 16].map(|n| (n, 3, 3)).to_vec()),
        ("zones", [2, 4, 8].map(|n| (3, n, 3)).to_vec()),
        ("replicas", [1, 10, 100, 1000].map(|n| (3, 3, n)).to_vec()),
    ];
    for (dimension, sizes) in dimensions {
        let mut group = c.benchmark_group(format!("scaling/{dimension}"));
        for (regions, zones, scale) in sizes {
            let spec = scaled_spec(regions, zones, scale);
            let rendered = render_with(&spec, &options, &RenderOptions::default())
                .unwrap_or_else(|error| panic!("{regions}/{zones}/{scale}: {error}"));
            let size = files_size(&rendered);
            let n = match dimension {
                "regions" => regions as u64,
                "zones" => zones as u64,
                _ => u64::from(scale),
            };
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &spec, |b, spec| {
                b.iter(|| {
                    files_size(
                        &render_with(black_box(spec), &options, &RenderOptions::default())
                            .expect("renders"),
                    )
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // Short runs: 40 benchmarks on a 2-core machine stay within a few minutes.
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = examples, scaling, diff
}
criterion_main!(benches);
