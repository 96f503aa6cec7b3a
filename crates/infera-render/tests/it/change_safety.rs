//! `diff`'s view of the changes APPLY.md describes, checked against what APPLY.md says they
//! change: a re-render with a newer connection string, the planned switch, phase 1 → 2 and
//! back; and the prune protection every FoundationDBCluster carries.

use crate::support::{TEST_SEED, examples, renders, switched};
use infera_render::diff::{Action, ChangeClass, Changes, Previous, Transition, compare};
use infera_render::spec::MultiRegionSpec;
use infera_render::{PlanOptions, RenderOptions, Rendered, render_with};

/// What Argo CD (argo-cd:docs/user-guide/sync-options.md) and Flux (kustomize-controller, "Prune")
/// read to leave an object alone when it leaves the source, and Helm on upgrade and uninstall.
const PRUNE_PROTECTION: [(&str, &str); 2] = [
    (
        "argocd.argoproj.io/sync-options",
        "Prune=false,Delete=false",
    ),
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
];
const HELM_KEEP: (&str, &str) = ("helm.sh/resource-policy", "keep");

/// The folder a render writes, as the next run reads it.
fn folder(rendered: &Rendered) -> Previous {
    Previous::written_by(rendered)
}

fn render(spec: &MultiRegionSpec, seed: Option<&str>) -> Rendered {
    let options = PlanOptions {
        seed_connection_string: seed.map(str::to_owned),
        ..PlanOptions::default()
    };
    render_with(spec, &options, &RenderOptions::default()).expect("renders")
}

/// `after` compared with the folder `before` wrote.
fn changes(before: &Rendered, mut after: Rendered) -> Changes {
    compare(&folder(before), &mut after, None)
}

#[test]
fn an_unchanged_re_render_changes_nothing_and_a_first_render_adds_everything() {
    for ((label, first), (_, mut again)) in renders().into_iter().zip(renders()) {
        let unchanged = compare(&folder(&first), &mut again, None);
        assert!(unchanged.is_empty(), "{label}: {:?}", unchanged.objects);
        let mut fresh = first.clone();
        let added = compare(&Previous::default(), &mut fresh, None);
        let objects: usize = first
            .regions
            .iter()
            .map(|bundle| bundle.objects.len())
            .sum();
        assert_eq!(added.objects.len(), objects, "{label}");
        assert!(
            added
                .objects
                .iter()
                .all(|change| change.action == Action::Added && change.class == ChangeClass::Safe),
            "{label}"
        );
        assert_eq!(
            fresh.apply_guide, first.apply_guide,
            "{label}: nothing to add to APPLY.md"
        );
    }
}

/// APPLY.md, "Then: give the client regions the current connection string": "Only the client
/// regions' cluster-file ConfigMap and the `seedConnectionString` of the `FoundationDBCluster`
/// objects change".
#[test]
fn a_newer_connection_string_changes_only_what_apply_md_says() {
    let newer = "inferadb_fdb:N3wC0nnect10n@10.10.0.20:4501,10.10.0.21:4501,10.10.0.22:4501";
    for (name, spec) in examples() {
        let found = changes(&render(&spec, Some(TEST_SEED)), render(&spec, Some(newer)));
        for change in &found.objects {
            let allowed = match change.object.kind.as_str() {
                "FoundationDBCluster" => change
                    .reasons
                    .iter()
                    .all(|reason| reason.path == "spec.seedConnectionString"),
                "ConfigMap" => change.object.name.ends_with("cluster-file"),
                _ => false,
            };
            assert!(allowed, "{name}: {change:?}");
            assert_eq!(change.class, ChangeClass::Safe, "{name}: {change:?}");
        }
        assert!(!found.objects.is_empty(), "{name}: nothing changed");
    }
}

/// APPLY.md, "Planned switch": "only the `FoundationDBCluster` objects change (their priorities
/// swap), plus `outputs.json` and this file"; and nothing about it is destructive.
#[test]
fn the_planned_switch_changes_only_what_apply_md_says() {
    let mut checked = 0;
    for (name, spec) in examples() {
        let Some(after) = switched(&spec) else {
            continue;
        };
        let found = changes(
            &render(&spec, Some(TEST_SEED)),
            render(&after, Some(TEST_SEED)),
        );
        assert!(!found.objects.is_empty(), "{name}");
        for change in &found.objects {
            assert_eq!(
                change.object.kind, "FoundationDBCluster",
                "{name}: {change:?}"
            );
            assert_ne!(change.class, ChangeClass::Destructive, "{name}: {change:?}");
            assert!(
                change.reasons.iter().all(|reason| reason
                    .path
                    .starts_with("spec.databaseConfiguration.regions")),
                "{name}: {change:?}"
            );
        }
        for file in &found.files {
            assert!(
                ["outputs.json", "APPLY.md"].contains(&file.path.as_str()),
                "{name}: {} changes too",
                file.path
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 3,
        "only {checked} examples have a planned switch"
    );
}

#[test]
fn phase_two_adds_without_destroying_and_forgetting_the_seed_is_destructive() {
    for (name, spec) in examples() {
        let (one, two) = (render(&spec, None), render(&spec, Some(TEST_SEED)));
        let datacenters = two.plan.datacenters.len();
        // An example whose spec holds the seed is in phase 2 either way.
        let phase_one = one.outputs.bootstrap.phase == Some(1);
        let forward = changes(&one, two.clone());
        assert_eq!(
            forward.destructive().count(),
            0,
            "{name}: {:?}",
            forward.objects
        );
        let back = changes(&two, one);
        if phase_one {
            assert!(
                matches!(
                    forward.transitions.first(),
                    Some(Transition::Bootstrap { from: 1, to: 2, .. })
                ),
                "{name}: {:?}",
                forward.transitions
            );
            assert!(
                matches!(
                    back.transitions.first(),
                    Some(Transition::Bootstrap { from: 2, to: 1, .. })
                ),
                "{name}"
            );
            assert_eq!(
                back.destructive()
                    .filter(|change| change.object.kind == "FoundationDBCluster"
                        && change.action == Action::Removed)
                    .count(),
                datacenters - 1,
                "{name}: every datacenter but the bootstrap one would go"
            );
        } else {
            // One datacenter, or the seed in the spec: at most the seed changes.
            assert_eq!(back.destructive().count(), 0, "{name}: {:?}", back.objects);
            assert!(forward.transitions.is_empty(), "{name}");
        }
    }
}

#[test]
fn every_foundationdb_cluster_is_protected_from_pruning() {
    for (label, rendered) in renders() {
        for object in rendered
            .regions
            .iter()
            .flat_map(|bundle| &bundle.objects)
            .filter(|object| object.kind == "FoundationDBCluster")
        {
            for (key, value) in PRUNE_PROTECTION {
                assert_eq!(
                    object.value["metadata"]["annotations"][key], value,
                    "{label}: {}",
                    object.name
                );
            }
            assert!(
                object.value["metadata"]["annotations"]
                    .get(HELM_KEEP.0)
                    .is_none(),
                "{label}: Helm's annotation only in post-render mode"
            );
        }
    }
    // The namespace that holds them, and the CRDs given with --crds-dir: pruning either would
    // delete the clusters with it.
    for (label, rendered) in renders() {
        for object in rendered
            .regions
            .iter()
            .flat_map(|bundle| &bundle.objects)
            .filter(|object| object.kind == "Namespace")
        {
            for (key, value) in PRUNE_PROTECTION {
                assert_eq!(
                    object.value["metadata"]["annotations"][key], value,
                    "{label}"
                );
            }
        }
    }
    let mut crds = infera_render::CrdSet::default();
    crds.add_yaml("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: foundationdbclusters.apps.foundationdb.org\nspec: {}\n")
        .expect("a CRD");
    let (_, spec) = examples()
        .into_iter()
        .find(|(name, _)| name == "two-region.yaml")
        .expect("two-region");
    let options = RenderOptions {
        crds,
        ..RenderOptions::default()
    };
    let with_crds = render_with(&spec, &PlanOptions::default(), &options).expect("renders");
    let crd = with_crds
        .regions
        .iter()
        .flat_map(|bundle| &bundle.objects)
        .find(|object| object.kind == "CustomResourceDefinition")
        .expect("the CRD is rendered");
    for (key, value) in PRUNE_PROTECTION {
        assert_eq!(crd.value["metadata"]["annotations"][key], value);
    }

    // Post-rendered: Helm keeps them too.
    let (_, spec) = examples()
        .into_iter()
        .find(|(name, _)| name == "single-region.yaml")
        .expect("single-region");
    let chart = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";
    let out = infera_render::post_render(&spec, chart, &Default::default()).expect("post-renders");
    let documents = infera_render::parse_manifests(&out.output).expect("YAML");
    let clusters: Vec<_> = documents
        .iter()
        .filter(|document| document["kind"] == "FoundationDBCluster")
        .collect();
    assert!(!clusters.is_empty());
    for cluster in clusters {
        assert_eq!(cluster["metadata"]["annotations"][HELM_KEEP.0], HELM_KEEP.1);
        for (key, value) in PRUNE_PROTECTION {
            assert_eq!(cluster["metadata"]["annotations"][key], value);
        }
    }
}

#[test]
fn two_files_of_one_object_are_one_change() {
    let (_, spec) = examples()
        .into_iter()
        .find(|(name, _)| name == "two-region.yaml")
        .expect("two-region");
    let before = render(&spec, Some(TEST_SEED));
    let mut previous = folder(&before);
    let engine = previous.files["us-west-1/deployment-inferadb-engine.yaml"].clone();
    previous
        .files
        .insert("us-west-1/deployment-engine-copy.yaml".to_owned(), engine);
    let mut without = spec.clone();
    without.engine.enabled = false;
    let mut after = render(&without, Some(TEST_SEED));
    let found = compare(&previous, &mut after, None);
    let engines: Vec<_> = found
        .newly_removed()
        .filter(|change| {
            change.object.name == "inferadb-engine" && change.object.kind == "Deployment"
        })
        .map(|change| change.object.region.as_str())
        .collect();
    assert_eq!(engines, ["us-west-1", "eu-central-1"]);
    assert_eq!(found.removed.len(), found.newly_removed().count());
}
