//! Shared test support: the examples, rendered in both bootstrap phases; where the reference
//! data and tools live; and loud skipping when they are missing outside CI.

#![allow(clippy::panic)]

use infera_render::spec::MultiRegionSpec;
use infera_render::{PlanOptions, RenderOptions, Rendered, parse_document, render_with};
use serde_json::Value;
use std::collections::BTreeSet;

pub use infera_test_support::{TEST_SEED, workspace};

/// Every example spec, by file name.
pub fn examples() -> Vec<(String, MultiRegionSpec)> {
    infera_test_support::example_files()
        .into_iter()
        .map(|(name, path)| {
            let bytes = std::fs::read(&path).expect("read");
            let document =
                parse_document(&bytes).unwrap_or_else(|d| panic!("{}: {d}", path.display()));
            (name, document.spec)
        })
        .collect()
}

/// Every example rendered in phase 1 (as written) and in phase 2 (with a seed), labelled.
pub fn renders() -> Vec<(String, Rendered)> {
    let mut out = Vec::new();
    for (name, spec) in examples() {
        let first = render_with(&spec, &PlanOptions::default(), &RenderOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((format!("{name} (as written)"), first));
        let seeded = PlanOptions {
            seed_connection_string: Some(TEST_SEED.to_owned()),
            ..PlanOptions::default()
        };
        let second = render_with(&spec, &seeded, &RenderOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
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

/// The operators' view of a region bundle's `FoundationDBCluster` objects.
pub fn operators(
    bundle: &infera_render::RegionBundle,
) -> Vec<infera_render::model::staging::Operator> {
    bundle
        .objects
        .iter()
        .filter_map(|object| infera_render::model::staging::Operator::from_object(&object.value))
        .map(|operator| operator.unwrap_or_else(|e| panic!("{}: {e}", bundle.id)))
        .collect()
}

/// Every operator of a render.
pub fn all_operators(rendered: &Rendered) -> Vec<infera_render::model::staging::Operator> {
    rendered.regions.iter().flat_map(operators).collect()
}

/// The configuration every object of a render asks for (they are identical).
pub fn desired(rendered: &Rendered) -> infera_render::model::config::DatabaseConfiguration {
    let operators = all_operators(rendered);
    let first = operators
        .first()
        .expect("a FoundationDBCluster")
        .desired
        .clone();
    for operator in &operators {
        assert_eq!(operator.desired, first, "{} differs", operator.name);
    }
    first
}

/// The applies of `rendered`, one per region with a `FoundationDBCluster`, in `order` (region
/// indices).
pub fn applies(rendered: &Rendered, order: &[usize]) -> Vec<infera_render::model::staging::Apply> {
    order
        .iter()
        .map(|&index| &rendered.regions[index])
        .map(|bundle| infera_render::model::staging::Apply {
            label: bundle.id.clone(),
            operators: operators(bundle),
        })
        .filter(|apply| !apply.operators.is_empty())
        .collect()
}

/// Renders `spec` in phase 1 and phase 2 and walks the operators from the phase-1 database
/// through the phase-2 applies in `APPLY.md`'s order; returns every problem (none = it
/// converges to the phase-2 configuration with no flip-back).
pub fn phase_two_problems(spec: &MultiRegionSpec) -> Vec<String> {
    let mut unseeded = spec.clone();
    unseeded.seed_connection_string = None;
    let first = render_with(
        &unseeded,
        &PlanOptions::default(),
        &RenderOptions::default(),
    )
    .expect("phase 1 renders");
    let seeded = PlanOptions {
        seed_connection_string: Some(TEST_SEED.to_owned()),
        ..PlanOptions::default()
    };
    let second = render_with(spec, &seeded, &RenderOptions::default()).expect("phase 2 renders");
    let before = all_operators(&first);
    assert_eq!(before.len(), 1, "phase 1 holds one FoundationDBCluster");
    let walk = infera_render::model::staging::walk(
        &before[0].desired,
        &before,
        &applies(
            &second,
            &second
                .plan
                .apply_order()
                .iter()
                .map(|id| id.index())
                .collect::<Vec<_>>(),
        ),
    );
    walk.problems(&desired(&second))
}

/// The spec after a planned switch, as APPLY.md describes it: the DR region becomes primary
/// with the lowest priority, the active one gets its priority; `regions` keeps its order.
/// `None` without two FDB regions.
pub fn switched(spec: &MultiRegionSpec) -> Option<MultiRegionSpec> {
    let plan = infera_render::plan(spec, &Default::default()).ok()?;
    let [active, dr] = plan.fdb_regions.as_slice() else {
        return None;
    };
    let (a, d) = (active.region, dr.region);
    let mut out = spec.clone();
    let (pa, pd) = (out.regions[a].priority, out.regions[d].priority);
    out.regions[a].priority = pd;
    out.regions[d].priority = pa;
    out.regions[a].is_primary = false;
    out.regions[d].is_primary = true;
    Some(out)
}

/// Walks a planned switch: the database runs `spec`'s phase-2 configuration with its objects,
/// then the switched render's regions are applied in `order` (region indices); returns every
/// problem.
pub fn switch_problems(spec: &MultiRegionSpec, order: &[usize]) -> Vec<String> {
    let seeded = PlanOptions {
        seed_connection_string: Some(TEST_SEED.to_owned()),
        ..PlanOptions::default()
    };
    let before = render_with(spec, &seeded, &RenderOptions::default()).expect("renders");
    let after = render_with(
        &switched(spec).expect("two FDB regions"),
        &seeded,
        &RenderOptions::default(),
    )
    .expect("the switched spec renders");
    let walk = infera_render::model::staging::walk(
        &desired(&before),
        &all_operators(&before),
        &applies(&after, order),
    );
    walk.problems(&desired(&after))
}

/// Every order of `items`.
pub fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for (position, &first) in items.iter().enumerate() {
        let mut rest = items.to_vec();
        rest.remove(position);
        for mut tail in permutations(&rest) {
            tail.insert(0, first);
            out.push(tail);
        }
    }
    out
}

/// The init containers and containers of a pod spec, in that order.
pub fn containers(spec: &Value) -> Vec<Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|key| spec[key].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Every pod spec of a render: (region, owner kind, owner name, pod spec); a
/// `FoundationDBCluster`'s pod templates are owned by `<name>/<process class>`.
pub fn pod_specs(rendered: &Rendered) -> Vec<(String, String, String, Value)> {
    let mut out = Vec::new();
    for bundle in &rendered.regions {
        for object in &bundle.objects {
            let specs: Vec<(String, &Value)> = match object.kind.as_str() {
                "Deployment" | "StatefulSet" => object
                    .value
                    .pointer("/spec/template/spec")
                    .map(|spec| (object.name.clone(), spec))
                    .into_iter()
                    .collect(),
                "FoundationDBCluster" => object.value["spec"]["processes"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(class, settings)| {
                        settings
                            .pointer("/podTemplate/spec")
                            .map(|spec| (format!("{}/{class}", object.name), spec))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for (owner, spec) in specs {
                out.push((bundle.id.clone(), object.kind.clone(), owner, spec.clone()));
            }
        }
    }
    out
}
