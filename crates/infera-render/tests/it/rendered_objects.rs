//! Every rendered object of every example, in both bootstrap phases, is checked against the real
//! schemas and against FoundationDB's own rules.

#![allow(clippy::panic)]

use crate::support::{TEST_SEED, read_like_yaml_1_1, region_rule_violations, renders, workspace};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn crd_validator(version: &str) -> Option<jsonschema::Validator> {
    infera_test_support::fdb_cluster_validator(version)
}

#[test]
fn the_strict_crd_check_rejects_what_kubernetes_would_prune() {
    let Some(validator) = crd_validator("v2.33.0") else {
        return;
    };
    let object = json!({
        "apiVersion": "apps.foundationdb.org/v1beta2",
        "kind": "FoundationDBCluster",
        "metadata": {"name": "x"},
        "spec": {"version": "7.3.43", "processCounts": {"clusterController": 1}}
    });
    assert!(
        !validator.is_valid(&object),
        "clusterController (the Terraform module's key) must be refused"
    );
    let good = json!({
        "apiVersion": "apps.foundationdb.org/v1beta2",
        "kind": "FoundationDBCluster",
        "metadata": {"name": "x"},
        "spec": {"version": "7.3.43", "processCounts": {"cluster_controller": 1}}
    });
    assert!(validator.is_valid(&good));
}

#[test]
fn every_foundationdbcluster_matches_the_operator_crd_strictly() {
    let validators: BTreeMap<u32, Option<jsonschema::Validator>> =
        [(1, crd_validator("v1.45.0")), (2, crd_validator("v2.33.0"))]
            .into_iter()
            .collect();
    let mut checked = 0;
    for (name, rendered) in renders() {
        let Some(validator) = &validators[&rendered.plan.operator_version.major] else {
            continue;
        };
        for bundle in &rendered.regions {
            for object in bundle
                .objects
                .iter()
                .filter(|o| o.kind == "FoundationDBCluster")
            {
                let errors: Vec<String> = validator
                    .iter_errors(&object.value)
                    .map(|error| format!("{} at {}", error, error.instance_path()))
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{name}: {}/{}: {errors:#?}",
                    bundle.id,
                    object.name
                );
                checked += 1;
            }
        }
    }
    if validators.values().all(Option::is_some) {
        assert!(
            checked >= 20,
            "only {checked} FoundationDBCluster objects were checked"
        );
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(value: &Value) -> Value {
    let typed: T = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
    serde_json::to_value(typed).expect("serializes")
}

#[test]
fn every_native_object_survives_its_kubernetes_type() {
    use k8s_openapi::api::{
        apps::v1 as apps, core::v1 as core, networking::v1 as networking, policy::v1 as policy,
        rbac::v1 as rbac,
    };
    for (name, rendered) in renders() {
        for bundle in &rendered.regions {
            for object in &bundle.objects {
                let again = match object.kind.as_str() {
                    "Namespace" => round_trip::<core::Namespace>(&object.value),
                    "ServiceAccount" => round_trip::<core::ServiceAccount>(&object.value),
                    "Secret" => round_trip::<core::Secret>(&object.value),
                    "ConfigMap" => round_trip::<core::ConfigMap>(&object.value),
                    "Service" => round_trip::<core::Service>(&object.value),
                    "Role" => round_trip::<rbac::Role>(&object.value),
                    "RoleBinding" => round_trip::<rbac::RoleBinding>(&object.value),
                    "ClusterRole" => round_trip::<rbac::ClusterRole>(&object.value),
                    "ClusterRoleBinding" => round_trip::<rbac::ClusterRoleBinding>(&object.value),
                    "Deployment" => round_trip::<apps::Deployment>(&object.value),
                    "StatefulSet" => round_trip::<apps::StatefulSet>(&object.value),
                    "NetworkPolicy" => round_trip::<networking::NetworkPolicy>(&object.value),
                    "PodDisruptionBudget" => {
                        round_trip::<policy::PodDisruptionBudget>(&object.value)
                    }
                    "FoundationDBCluster"
                    | "CustomResourceDefinition"
                    | "ServiceMonitor"
                    | "PodMonitor" => continue,
                    other => panic!("{name}: no round-trip check for kind {other}"),
                };
                assert_eq!(
                    again, object.value,
                    "{name}: {}/{} lost or changed fields",
                    bundle.id, object.name
                );
            }
        }
    }
}

#[test]
fn native_objects_pass_kubernetes_validate_strict() {
    let documents: Vec<String> = renders()
        .iter()
        .flat_map(|(_, rendered)| {
            rendered
                .regions
                .iter()
                .flat_map(|bundle| bundle.objects.iter())
        })
        .filter(|o| {
            !o.api_version.contains("foundationdb.org") && !o.api_version.contains("coreos.com")
        })
        .map(|o| o.to_yaml())
        .collect();
    assert!(documents.len() > 100);
    infera_test_support::validate_native_objects(&documents);
}

#[test]
fn rendered_region_configurations_follow_fdbs_rules() {
    assert!(
        !region_rule_violations(&json!({"usable_regions": 2, "regions": [
            {"datacenters": [{"id": "a", "priority": 1}, {"id": "b", "priority": 0}]}
        ]}))
        .is_empty(),
        "the checker must catch two primaries in one region"
    );
    for (name, rendered) in renders() {
        let clusters: Vec<(&str, &Value)> = rendered
            .regions
            .iter()
            .flat_map(|bundle| bundle.objects.iter().map(move |o| (bundle.id.as_str(), o)))
            .filter(|(_, o)| o.kind == "FoundationDBCluster")
            .map(|(region, o)| (region, &o.value))
            .collect();
        assert!(!clusters.is_empty(), "{name}: no FoundationDBCluster");
        let configurations: BTreeSet<String> = clusters
            .iter()
            .map(|(_, c)| c["spec"]["databaseConfiguration"].to_string())
            .collect();
        assert_eq!(
            configurations.len(),
            1,
            "{name}: databaseConfiguration differs between objects"
        );
        let configuration = &clusters[0].1["spec"]["databaseConfiguration"];
        assert_eq!(
            region_rule_violations(configuration),
            Vec::<String>::new(),
            "{name}"
        );

        // The is_primary region's primary datacenter is the active one (highest priority).
        let regions = configuration["regions"].as_array().expect("regions");
        let active = regions
            .iter()
            .max_by_key(|region| region["datacenters"][0]["priority"].as_i64())
            .and_then(|region| region["datacenters"][0]["id"].as_str())
            .expect("an active datacenter");
        let primary_region = rendered
            .plan
            .regions
            .iter()
            .find(|r| r.is_primary)
            .expect("primary");
        let active_host = clusters
            .iter()
            .find(|(_, c)| c["spec"]["dataCenter"] == active)
            .map(|(region, _)| *region);
        assert_eq!(
            active_host,
            Some(primary_region.id.as_str()),
            "{name}: the active datacenter is not in the primary region"
        );

        let mut prefixes = BTreeSet::new();
        let mut datacenters = BTreeSet::new();
        let listed: BTreeSet<&str> = regions
            .iter()
            .flat_map(|r| r["datacenters"].as_array().into_iter().flatten())
            .filter_map(|dc| dc["id"].as_str())
            .collect();
        for (_, cluster) in &clusters {
            let spec = &cluster["spec"];
            let prefix = spec["processGroupIDPrefix"].as_str().expect("prefix");
            assert!(
                prefix.len() <= 43 && prefixes.insert(prefix),
                "{name}: prefix {prefix}"
            );
            let datacenter = spec["dataCenter"].as_str().expect("dataCenter");
            assert!(
                datacenters.insert(datacenter),
                "{name}: dataCenter {datacenter} twice"
            );
            assert!(
                listed.contains(datacenter),
                "{name}: {datacenter} is not in the region configuration"
            );
            let satellite = regions.iter().any(|r| {
                r["datacenters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|dc| dc["id"] == datacenter && dc["satellite"] == 1)
            });
            let primary_somewhere = regions
                .iter()
                .any(|r| r["datacenters"][0]["id"] == datacenter);
            if satellite && !primary_somewhere {
                assert_eq!(
                    spec["processCounts"]["storage"], -1,
                    "{name}: satellite {datacenter} runs storage"
                );
                assert_eq!(
                    spec["processCounts"]["stateless"], -1,
                    "{name}: satellite {datacenter} runs stateless"
                );
            }
            assert!(cluster["metadata"]["name"].as_str().expect("name").len() <= 47);
            assert_eq!(spec["routing"]["publicIPSource"], "pod");
            assert_eq!(spec["routing"]["useDNSInClusterFile"], false);
        }

        // Phase 1 never holds two datacenters that would each bootstrap their own database.
        let seeded = clusters
            .iter()
            .filter(|(_, c)| c["spec"].get("seedConnectionString").is_some())
            .count();
        if seeded == 0 {
            assert_eq!(
                clusters.len(),
                1,
                "{name}: {} unseeded datacenters",
                clusters.len()
            );
            assert_eq!(configuration["usable_regions"], 1);
            assert_eq!(regions.len(), 1);
        } else {
            assert_eq!(
                seeded,
                clusters.len(),
                "{name}: some datacenters lack the seed"
            );
            assert_eq!(
                clusters.len(),
                rendered.plan.datacenters.len(),
                "{name}: not every datacenter rendered"
            );
        }
    }
}

#[test]
fn seeded_renders_carry_the_seed_everywhere() {
    for (name, rendered) in renders()
        .into_iter()
        .filter(|(n, _)| n.ends_with("(seeded)"))
    {
        for bundle in &rendered.regions {
            for object in bundle
                .objects
                .iter()
                .filter(|o| o.kind == "FoundationDBCluster")
            {
                assert_eq!(
                    object.value["spec"]["seedConnectionString"], TEST_SEED,
                    "{name}: {}",
                    object.name
                );
            }
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let first: Vec<String> = renders().iter().map(|(_, r)| r.stream(None)).collect();
    let second: Vec<String> = renders().iter().map(|(_, r)| r.stream(None)).collect();
    assert_eq!(first, second);
}

/// The emitter writes the layout itself and leaves only unusual scalars to serde-saphyr; on every
/// rendered object its output is exactly what serde-saphyr alone writes.
#[test]
fn the_yaml_is_byte_for_byte_serde_saphyrs() {
    let options = || serde_saphyr::ser_options! { prefer_block_scalars: false };
    for (name, rendered) in renders() {
        for bundle in &rendered.regions {
            for object in &bundle.objects {
                let reference =
                    serde_saphyr::to_string_with_options(&object.value, options()).expect("yaml");
                assert_eq!(
                    object.to_yaml(),
                    reference,
                    "{name}: {}/{}",
                    bundle.id,
                    object.name
                );
            }
        }
    }
}

#[test]
fn every_string_survives_a_yaml_1_1_reader() {
    assert_eq!(
        read_like_yaml_1_1("a: yes\nb: 0755\n"),
        json!({"a": true, "b": 493}),
        "the probe must read YAML 1.1"
    );
    for (name, rendered) in renders() {
        for bundle in &rendered.regions {
            for object in &bundle.objects {
                assert_eq!(
                    read_like_yaml_1_1(&object.to_yaml()),
                    object.value,
                    "{name}: {}/{}",
                    bundle.id,
                    object.name
                );
            }
            let kustomization = bundle.kustomization();
            let value = read_like_yaml_1_1(&kustomization);
            assert!(
                value["resources"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(Value::is_string)),
                "{name}"
            );
        }
    }
}

/// `schemas/outputs.schema.json` is the schema of the typed outputs, and every example's
/// `outputs.json`, in both phases, is valid against it: the contract consumers of the module's
/// outputs read is written down and kept.
#[test]
fn outputs_follow_their_committed_schema() {
    let committed = std::fs::read_to_string(workspace().join("schemas/outputs.schema.json"))
        .expect("schemas/outputs.schema.json");
    assert_eq!(
        committed,
        infera_render::outputs::outputs_schema_text(),
        "schemas/outputs.schema.json is out of date; regenerate it with\n  cargo run -q -p infera-render --example outputs_schema > schemas/outputs.schema.json"
    );
    let schema: Value = serde_json::from_str(&committed).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for (name, rendered) in renders() {
        let outputs = serde_json::to_value(&rendered.outputs).expect("outputs serialize");
        let errors: Vec<String> = validator
            .iter_errors(&outputs)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

/// Each object's typed identity (from its Rust type) is what its JSON says, and it knows its
/// region; a native object reads back as its type.
#[test]
fn every_object_carries_its_identity() {
    for (name, rendered) in renders() {
        for bundle in &rendered.regions {
            for object in &bundle.objects {
                let text = |pointer: &str| object.value.pointer(pointer).and_then(Value::as_str);
                let at = format!("{name}: {}/{}", bundle.id, object.file_name());
                assert_eq!(
                    Some(object.api_version.as_str()),
                    text("/apiVersion"),
                    "{at}"
                );
                assert_eq!(Some(object.kind.as_str()), text("/kind"), "{at}");
                assert_eq!(Some(object.name.as_str()), text("/metadata/name"), "{at}");
                assert_eq!(
                    object.namespace.as_deref(),
                    text("/metadata/namespace"),
                    "{at}"
                );
                assert_eq!(object.region, bundle.id, "{at}");
                if object.kind == "Deployment" {
                    let deployment: k8s_openapi::api::apps::v1::Deployment = object
                        .typed()
                        .unwrap_or_else(|| panic!("{at}: not a Deployment"));
                    assert_eq!(
                        deployment.metadata.name.as_deref(),
                        Some(object.name.as_str())
                    );
                }
                assert!(
                    object
                        .typed::<k8s_openapi::api::core::v1::Namespace>()
                        .is_none()
                        || object.kind == "Namespace",
                    "{at}"
                );
            }
        }
    }
}

/// Every `matchLabels` (selectors of Deployments, StatefulSets, PodDisruptionBudgets, ...) and
/// every Service `selector` in an object, by JSON pointer.
fn selectors(value: &Value, at: &str, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let here = format!("{at}/{key}");
                if key == "matchLabels"
                    || (key == "selector"
                        && inner.get("matchLabels").is_none()
                        && at.ends_with("/spec"))
                {
                    out.insert(here.clone(), inner.clone());
                }
                selectors(inner, &here, out);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                selectors(inner, &format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// The spec's `labels` may set the `app.kubernetes.io/` keys infera-render does not select on
/// (`part-of` replaces its value everywhere); no selector changes, and the keys it keeps stay.
#[test]
fn user_labels_replace_part_of_and_leave_every_selector_alone() {
    let (_, spec) = crate::support::examples()
        .into_iter()
        .find(|(name, _)| name == "three-region.yaml")
        .expect("the three-region example");
    let options = infera_render::PlanOptions {
        seed_connection_string: Some(TEST_SEED.to_owned()),
        ..infera_render::PlanOptions::default()
    };
    let plain = infera_render::render_with(&spec, &options, &Default::default()).expect("renders");
    let mut labelled_spec = spec.clone();
    labelled_spec.labels = BTreeMap::from([
        (
            "app.kubernetes.io/part-of".to_owned(),
            "platform".to_owned(),
        ),
        ("app.kubernetes.io/version".to_owned(), "2026.12".to_owned()),
        ("team".to_owned(), "storage".to_owned()),
    ]);
    let labelled =
        infera_render::render_with(&labelled_spec, &options, &Default::default()).expect("renders");
    let (mut checked, mut selectors_seen) = (0, 0);
    for (before, after) in plain.regions.iter().zip(&labelled.regions) {
        for (old, new) in before.objects.iter().zip(&after.objects) {
            let at = format!("{}/{}", after.id, new.file_name());
            let Some(labels) = new.value.pointer("/metadata/labels") else {
                continue;
            };
            if old
                .value
                .pointer("/metadata/labels/app.kubernetes.io~1managed-by")
                .is_none()
            {
                // Not an object infera-render labels (a CRD from --crds-dir).
                continue;
            }
            assert_eq!(labels["app.kubernetes.io/part-of"], "platform", "{at}");
            assert_eq!(labels["app.kubernetes.io/version"], "2026.12", "{at}");
            assert_eq!(labels["team"], "storage", "{at}");
            for kept in [
                "app.kubernetes.io/managed-by",
                "app.kubernetes.io/name",
                "infera.dev/region",
            ] {
                assert_eq!(
                    labels.get(kept),
                    old.value["metadata"]["labels"].get(kept),
                    "{at}: {kept}"
                );
            }
            let (mut was, mut is) = (BTreeMap::new(), BTreeMap::new());
            selectors(&old.value, "", &mut was);
            selectors(&new.value, "", &mut is);
            assert_eq!(was, is, "{at}: a selector changed");
            selectors_seen += is.len();
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} objects checked");
    assert!(selectors_seen > 5, "only {selectors_seen} selectors seen");
}
