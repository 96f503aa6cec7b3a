//! Property tests: for generated valid specs (1-3 regions, random zones and counts, names at
//! their length limits, YAML-1.1-looking label values) rendering succeeds, is deterministic,
//! keeps FoundationDB's region rules, produces valid Kubernetes names, survives a YAML 1.1
//! reader, and never renders two unseeded datacenters. Generated invalid specs fail with a field
//! path, and nothing panics.

#![allow(clippy::panic)]

use crate::support::{
    TEST_SEED, phase_two_problems, read_like_yaml_1_1, region_rule_violations, switch_problems,
    switched,
};
use infera_render::spec::{
    FdbRole, MultiRegionSpec, Quantity, RedundancyMode, Region, SatelliteRedundancyMode,
};
use infera_render::{PlanOptions, RenderOptions, Severity, plan, render_with};
use proptest::prelude::*;
use serde_json::Value;

/// Label values a YAML 1.1 reader would turn into booleans, numbers or dates if unquoted.
const TRICKY_VALUES: [&str; 12] = [
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "true",
    "False",
    "0755",
    "1_000",
    "2024-01-01",
    "null",
];

fn name(len: usize, seed: u64) -> String {
    // A DNS label of exactly `len` characters: a letter, then letters/digits/'-', ending alnum.
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::new();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    for position in 0..len {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        let pick = (state >> 33) as usize;
        let c = if position == 0 {
            alphabet[pick % 26] as char
        } else if position + 1 < len && pick.is_multiple_of(7) {
            '-'
        } else {
            alphabet[pick % alphabet.len()] as char
        };
        out.push(c);
    }
    out
}

#[derive(Clone, Debug)]
struct Shape {
    regions: usize,
    cluster_len: usize,
    id_lens: Vec<usize>,
    zones: Vec<usize>,
    order: Vec<usize>,
    seed: u64,
    fearless: bool,
    two_usable: bool,
    mode: Option<SatelliteRedundancyMode>,
    satellite_site: bool,
    redundancy: RedundancyMode,
    counts: (u32, u32, u32),
    replicas: (u32, u32),
    tailscale: bool,
    labels: Vec<(usize, usize)>,
    seeded: bool,
    operator_v2: bool,
}

fn shape() -> impl Strategy<Value = Shape> {
    (1usize..=3, 1usize..=43, any::<bool>(), any::<u64>())
        .prop_flat_map(|(regions, cluster_len, tailscale, seed)| {
            // `<cluster_name>-<datacenter id>` (datacenter id = region id + one zone letter)
            // must fit FDB_CLUSTER_NAME_MAX (47), the datacenter id the 43-character
            // processGroupIDPrefix; with Tailscale, region ids must fit 29 (device names
            // `<region>-<pod name>`). Half the ids sit exactly at the limit.
            let id_max = (45 - cluster_len).min(42);
            let id_max = if tailscale { id_max.min(29) } else { id_max };
            (
                Just((regions, cluster_len, tailscale, seed)),
                proptest::collection::vec(prop_oneof![Just(id_max), 2..=id_max], regions),
                proptest::collection::vec(0usize..=4, regions),
                Just((0..regions).collect::<Vec<_>>()).prop_shuffle(),
                (
                    any::<bool>(),
                    any::<bool>(),
                    proptest::option::of(0usize..5),
                    any::<bool>(),
                ),
                prop_oneof![
                    Just(RedundancyMode::Single),
                    Just(RedundancyMode::Double),
                    Just(RedundancyMode::Triple)
                ],
                (3u32..=12, 3u32..=12, 1u32..=8),
                (1u32..=5, 1u32..=5),
                proptest::collection::vec((0usize..3, 0usize..TRICKY_VALUES.len()), 0..4),
                (any::<bool>(), any::<bool>()),
            )
        })
        .prop_map(
            |(
                (regions, cluster_len, tailscale, seed),
                id_lens,
                zones,
                order,
                dr,
                redundancy,
                counts,
                replicas,
                labels,
                flags,
            )| {
                let (fearless, two_usable, mode, satellite_site) = dr;
                let modes = [
                    SatelliteRedundancyMode::OneSatelliteSingle,
                    SatelliteRedundancyMode::OneSatelliteDouble,
                    SatelliteRedundancyMode::OneSatelliteTriple,
                    SatelliteRedundancyMode::TwoSatelliteSafe,
                    SatelliteRedundancyMode::TwoSatelliteFast,
                ];
                Shape {
                    regions,
                    cluster_len,
                    id_lens,
                    zones,
                    order,
                    seed,
                    fearless,
                    two_usable,
                    mode: mode.map(|m| modes[m]),
                    satellite_site,
                    redundancy,
                    counts,
                    replicas,
                    tailscale,
                    labels,
                    seeded: flags.0,
                    operator_v2: flags.1,
                }
            },
        )
}

/// A valid spec of the given shape (adjusted where a shape alone would break a rule).
fn spec(shape: &Shape) -> MultiRegionSpec {
    let cluster_name = name(shape.cluster_len, shape.seed);
    let mut spec = MultiRegionSpec {
        cluster_name,
        redundancy_mode: shape.redundancy,
        operator_version: if shape.operator_v2 {
            "2.33.0".to_owned()
        } else {
            "1.45.0".to_owned()
        },
        ..MultiRegionSpec::default()
    };
    let fdb_regions = if shape.fearless {
        shape.regions.min(2)
    } else {
        1
    };
    let mode = shape.mode.filter(|_| fdb_regions == 2 && shape.fearless);
    for (rank, &position) in shape.order.iter().enumerate() {
        // A DNS label of the drawn length whose last character (the rank) keeps ids unique.
        let id = format!(
            "{}{rank}",
            name(shape.id_lens[position] - 1, shape.seed ^ position as u64)
        );
        let mut region = Region::new(
            id.clone(),
            rank == 0,
            i32::try_from(rank * 10).unwrap_or(0) + 1,
        );
        let needed = mode.map_or(0, |m| 1 + m.satellite_datacenters());
        let zones = if rank < fdb_regions {
            shape.zones[position].max(needed)
        } else {
            shape.zones[position]
        };
        region.zones = (0..zones)
            .map(|z| format!("{id}{}", (b'a' + z as u8) as char))
            .collect();
        region.kubernetes.config_context = Some(format!("ctx-{rank}"));
        region.pod_cidr = Some(format!("10.{}.0.0/16", rank + 1));
        region.process_counts.storage = shape.counts.0;
        region.process_counts.log = shape.counts.1;
        region.process_counts.stateless = shape.counts.2;
        if rank == 2 && shape.satellite_site && mode.is_some() && fdb_regions == 2 {
            region.fdb_role = FdbRole::Satellite;
        }
        spec.regions.push(region);
    }
    // Spec order differs from rank order: the generator shuffled the positions.
    spec.regions.sort_by_key(|region| region.id.clone());
    spec.fearless_dr.enabled = shape.fearless;
    spec.fearless_dr.usable_regions = if shape.two_usable && fdb_regions == 2 {
        2
    } else {
        1
    };
    spec.fearless_dr.satellite_redundancy_mode = mode;
    spec.engine.replicas = shape.replicas.0;
    spec.control.replicas = shape.replicas.1;
    spec.control.webauthn.party = Some("inferadb.example.com".to_owned());
    spec.control.webauthn.origin = Some("https://inferadb.example.com".to_owned());
    spec.tailscale.enabled = shape.tailscale;
    spec.tailscale.image = "tailscale/tailscale:v1.78.3".to_owned();
    spec.volume_size = Quantity::new("64Gi");
    for &(key, value) in &shape.labels {
        spec.labels.insert(
            ["team", "tier", "example.com/flag"][key].to_owned(),
            TRICKY_VALUES[value].to_owned(),
        );
    }
    spec
}

fn plan_of(spec: &MultiRegionSpec) -> Result<infera_render::Plan, TestCaseError> {
    plan(spec, &Default::default()).map_err(|e| TestCaseError::fail(format!("{e:?}")))
}

fn is_dns_label(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-')
}

fn names_problems(object: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let subdomain = name.len() <= 253 && name.split('.').all(is_dns_label);
    if !subdomain {
        problems.push(format!("{kind} {name}: not a DNS subdomain"));
    }
    if matches!(kind, "Namespace" | "Service")
        && !(is_dns_label(name) && name.starts_with(|c: char| c.is_ascii_lowercase()))
    {
        problems.push(format!("{kind} {name}: not an RFC 1035 label"));
    }
    if kind == "FoundationDBCluster"
        && (name.len() > 47
            || object["spec"]["processGroupIDPrefix"]
                .as_str()
                .is_none_or(|p| p.len() > 43))
    {
        problems.push(format!("{kind} {name}: too long for pod names or prefixes"));
    }
    for (key, value) in object["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let value = value.as_str().unwrap_or_default();
        if value.len() > 63 || key.rsplit('/').next().is_none_or(|n| n.len() > 63) {
            problems.push(format!("{kind} {name}: label {key}={value} too long"));
        }
    }
    problems
}

/// Any JSON value, with strings and keys drawn from the characters YAML treats specially.
fn any_value() -> impl Strategy<Value = Value> {
    let text = || "[a-zA-Z0-9 :#_./'\"\\!&*?{}\\[\\],|>%@`~=+\n\t\r\u{e9}\u{2028}\u{feff}-]{0,10}";
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(1.5), Just(-0.25), Just(1e300), Just(3.0)].prop_map(Value::from),
        text().prop_map(Value::String),
        prop_oneof![
            Just("on"),
            Just("No"),
            Just("0755"),
            Just("1_000"),
            Just("~"),
            Just("-"),
            Just("2024-01-01")
        ]
        .prop_map(|word| Value::String(word.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((text(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_value_is_written_as_serde_saphyr_writes_it_and_reads_back(value in any_value()) {
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        let reference = serde_saphyr::to_string_with_options(&value, options).expect("yaml");
        let stream = infera_render::to_stream(std::slice::from_ref(&value));
        prop_assert_eq!(stream.strip_prefix("---\n"), Some(reference.as_str()));
        // A document of `null` reads back as no document at all.
        if !value.is_null() {
            prop_assert_eq!(infera_render::parse_manifests(&stream).map_err(TestCaseError::fail)?, vec![value.clone()]);
            prop_assert_eq!(read_like_yaml_1_1(&reference), value);
        }
    }

    #[test]
    fn valid_specs_render_correctly(shape in shape()) {
        let spec = spec(&shape);
        let options = PlanOptions {
            seed_connection_string: shape.seeded.then(|| TEST_SEED.to_owned()),
            ..PlanOptions::default()
        };
        let rendered = render_with(&spec, &options, &RenderOptions::default()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let again = render_with(&spec, &options, &RenderOptions::default()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(rendered.stream(None), again.stream(None));
        prop_assert_eq!(rendered.files(), again.files());

        let clusters: Vec<&Value> = rendered
            .regions
            .iter()
            .flat_map(|bundle| bundle.objects.iter())
            .filter(|object| object.kind == "FoundationDBCluster")
            .map(|object| &object.value)
            .collect();
        prop_assert!(!clusters.is_empty());
        let configuration = &clusters[0]["spec"]["databaseConfiguration"];
        for cluster in &clusters {
            prop_assert_eq!(&cluster["spec"]["databaseConfiguration"], configuration);
        }
        prop_assert_eq!(region_rule_violations(configuration), Vec::<String>::new());
        let seeded = clusters.iter().filter(|c| c["spec"].get("seedConnectionString").is_some()).count();
        if seeded == 0 {
            prop_assert_eq!(clusters.len(), 1, "phase 1 holds two datacenters");
        }

        for bundle in &rendered.regions {
            for object in &bundle.objects {
                prop_assert_eq!(names_problems(&object.value), Vec::<String>::new());
                prop_assert_eq!(read_like_yaml_1_1(&object.to_yaml()), object.value.clone());
            }
        }
    }

    #[test]
    fn generated_specs_converge_and_switch_without_a_flip_back(shape in shape()) {
        // The operators' staged change from phase 1 to phase 2, in APPLY.md's order, and a
        // planned switch applied in APPLY.md's order and in its reverse.
        let spec = spec(&shape);
        let plan = plan(&spec, &Default::default()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        if plan.datacenters.len() > 1 {
            prop_assert_eq!(phase_two_problems(&spec), Vec::<String>::new());
        }
        if let Some(switched_spec) = switched(&spec) {
            let after = plan_of(&switched_spec)?;
            let mut order: Vec<usize> = after.apply_order().iter().map(|id| id.index()).collect();
            prop_assert_eq!(switch_problems(&spec, &order), Vec::<String>::new());
            order.reverse();
            prop_assert_eq!(switch_problems(&spec, &order), Vec::<String>::new());
        }
    }

    #[test]
    fn automatic_recovery_never_without_a_coordinator_majority(shape in shape()) {
        let spec = spec(&shape);
        let options = PlanOptions {
            seed_connection_string: shape.seeded.then(|| TEST_SEED.to_owned()),
            ..PlanOptions::default()
        };
        let rendered = render_with(&spec, &options, &RenderOptions::default()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let failures = &rendered.plan.failures;
        let mut analyses = vec![&failures.rendered.analysis, &failures.complete().analysis];
        if let Some(third) = &failures.third_site {
            analyses.extend(third.alternatives.iter().map(|alternative| &alternative.analysis));
        }
        for analysis in analyses {
            for scenario in &analysis.scenarios {
                if scenario.automatic {
                    prop_assert!(2 * scenario.coordinators_left > scenario.coordinators, "{:?}", scenario);
                    prop_assert!(!scenario.data_loss, "{:?}", scenario);
                }
                if let (Some(placed), Ok(_)) = (scenario.coordinators_left_placed, &analysis.placement) {
                    prop_assert!(placed >= scenario.coordinators_left, "{:?}", scenario);
                }
            }
        }
        let listed = rendered.outputs.fearless_dr_config.failure_scenarios.len();
        prop_assert_eq!(listed, failures.rendered.analysis.scenarios.len());
    }

    #[test]
    fn invalid_specs_fail_with_a_field_path(shape in shape(), mutation in 0usize..12) {
        let mut spec = spec(&shape);
        let last = spec.regions.len() - 1;
        match mutation {
            0 => {
                let duplicate = spec.regions[0].clone();
                spec.regions.push(duplicate);
            }
            1 => spec.regions.iter_mut().for_each(|r| r.is_primary = false),
            2 => spec.regions[0].zones.push("Not_A_Zone".to_owned()),
            3 => spec.fearless_dr.usable_regions = 3,
            4 => spec.engine.replicas = 0,
            5 => spec.regions[last].pod_cidr = Some("10.0.0.1/8".to_owned()),
            6 => spec.volume_size = Quantity::new("lots"),
            7 => spec.control.image = "Bad Image".to_owned(),
            8 => spec.fdb_version = "seven".to_owned(),
            9 => spec.cluster_name = "x".repeat(60),
            10 => spec.regions[0].process_counts.storage = 0,
            _ => spec.regions[last].id = spec.regions[0].id.to_uppercase(),
        }
        let errors = plan(&spec, &Default::default()).expect_err("the mutation breaks a rule");
        let error = errors.iter().find(|d| d.severity == Severity::Error);
        prop_assert!(error.is_some_and(|d| !d.path.is_root()), "{:?}", errors);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = infera_render::parse_document(text.as_bytes());
        let _ = infera_render::krm(&text);
        let _ = infera_render::parse_manifests(&text);
    }
}
