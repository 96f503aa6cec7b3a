//! `render`: golden output trees for every example in both bootstrap phases, the stdout stream,
//! `kubectl kustomize` over every region folder, and the output folder's safety.

use crate::common::{
    TEST_SEED, for_each_example, golden, render_into, run, tool, tree, tree_text, workspace,
};
use std::process::Command;

fn has_seed(example: &str) -> bool {
    std::fs::read_to_string(workspace().join(example))
        .expect("read")
        .contains("seed_connection_string:")
}

#[test]
fn every_example_renders_its_golden_tree_in_both_phases() {
    let dir = tempfile::tempdir().expect("tempdir");
    for_each_example(|example| {
        let name = example
            .trim_start_matches("examples/")
            .trim_end_matches(".yaml")
            .to_owned();
        let mut phases = vec![(name.clone(), false)];
        if !has_seed(example) {
            phases.push((format!("{name}-seeded"), true));
        }
        for (snapshot, seeded) in phases {
            let out = dir.path().join(&snapshot);
            let result = render_into(example, &out, seeded);
            assert_eq!(result.code, 0, "{snapshot}:\n{}", result.stderr);
            assert!(
                result.stdout.is_empty(),
                "{snapshot}: -o writes nothing to stdout"
            );
            let multi_dc = result.stderr.contains("bootstrap phase 1 of 2");
            if !seeded && !has_seed(example) {
                // Phase 1 says so on stderr, exactly when there is more than one datacenter.
                let plan = run(&["plan", "-f", example]);
                assert_eq!(
                    multi_dc,
                    plan.stdout.contains("phase 1 (this output"),
                    "{snapshot}"
                );
            } else {
                assert!(!multi_dc, "{snapshot}: a seeded render is not phase 1");
            }
            golden("render").bind(|| insta::assert_snapshot!(snapshot, tree_text(&out)));
        }
    });
}

#[test]
fn the_stdout_stream_is_the_files_in_apply_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = "examples/three-region-satellite-site.yaml";
    let out = dir.path().to_str().expect("utf-8");
    assert_eq!(
        run(&[
            "render",
            "-f",
            example,
            "-o",
            out,
            "--seed-connection-string",
            TEST_SEED
        ])
        .code,
        0
    );
    let stream = run(&[
        "render",
        "-f",
        example,
        "--seed-connection-string",
        TEST_SEED,
    ]);
    assert_eq!(stream.code, 0, "{}", stream.stderr);
    let documents: Vec<&str> = stream
        .stdout
        .split("---\n")
        .filter(|d| !d.is_empty())
        .collect();
    let mut by_region: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for document in &documents {
        let (header, body) = document.split_once('\n').expect("a header line");
        let source = header
            .strip_prefix("# Source: ")
            .expect("every document starts with # Source:");
        let on_disk =
            std::fs::read_to_string(dir.path().join(source)).expect("the source file exists");
        assert_eq!(body, on_disk, "{source}");
        let (region, file) = source.split_once('/').expect("region/file");
        by_region
            .entry(region.to_owned())
            .or_default()
            .push(file.to_owned());
    }
    for (region, files) in by_region {
        let kustomization =
            std::fs::read_to_string(dir.path().join(&region).join("kustomization.yaml"))
                .expect("read");
        let listed: Vec<String> = kustomization
            .lines()
            .filter_map(|line| line.strip_prefix("- "))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            listed, files,
            "{region}: kustomization order differs from the stream"
        );
    }
    let only = run(&["render", "-f", example, "--region", "eu-central-1"]);
    assert_eq!(only.code, 0);
    assert!(
        only.stdout
            .lines()
            .filter(|l| l.starts_with("# Source:"))
            .all(|l| l.starts_with("# Source: eu-central-1/"))
    );
    let unknown = run(&["render", "-f", example, "--region", "mars-1"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("--region: the spec has no region `mars-1` (regions: us-west-1, eu-central-1, ap-southeast-1)"), "{}", unknown.stderr);
}

#[test]
fn kubectl_kustomize_builds_every_region_offline() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (example, regions) in crate::common::render_examples_in_both_phases(dir.path()) {
        for region in regions {
            let output = Command::new(&kubectl)
                .arg("kustomize")
                .arg(&region)
                .env_clear()
                .output()
                .expect("run kubectl");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.success(),
                "{example} {}: {stderr}",
                region.display()
            );
            let built = String::from_utf8_lossy(&output.stdout);
            let kinds: Vec<&str> = built
                .lines()
                .filter_map(|l| l.strip_prefix("kind: "))
                .collect();
            let files = std::fs::read_to_string(region.join("kustomization.yaml")).expect("read");
            let listed: Vec<&str> = files.lines().filter(|l| l.starts_with("- ")).collect();
            assert_eq!(
                kinds.len(),
                listed.len(),
                "{example}: kustomize dropped or added objects"
            );
            assert_eq!(
                kinds.first(),
                Some(&"Namespace"),
                "{example}: the Namespace comes first"
            );
        }
    }
}

#[test]
fn a_failed_run_leaves_the_output_folder_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(
        render_into("examples/two-region-satellites.yaml", &out, false).code,
        0
    );
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let before = tree(&out);

    // An invalid spec: nothing is written.
    let invalid = render_into("tests/invalid/47-duplicate-priority.yaml", &out, false);
    assert_eq!(invalid.code, 1);
    assert_eq!(
        before,
        tree(&out),
        "an invalid spec changed the output folder"
    );

    // A foreign file where a phase-2 file goes: refused, nothing is written.
    let foreign = out.join("eu-central-1/foundationdbcluster-inferadb-fdb-eu-central-1a.yaml");
    std::fs::write(&foreign, "my own file\n").expect("write");
    let before = tree(&out);
    let conflict = render_into("examples/two-region-satellites.yaml", &out, true);
    assert_eq!(conflict.code, 3, "{}", conflict.stderr);
    assert!(
        conflict.stderr.contains("eu-central-1/foundationdbcluster-inferadb-fdb-eu-central-1a.yaml exists and was not written by infera-render"),
        "{}",
        conflict.stderr
    );
    assert!(
        conflict.stderr.contains("nothing was written to"),
        "{}",
        conflict.stderr
    );
    // An edited file of ours is refused too.
    std::fs::write(out.join("us-west-1/namespace-inferadb.yaml"), "edited\n").expect("edit");
    let edited = render_into("examples/two-region-satellites.yaml", &out, false);
    assert_eq!(edited.code, 3);
    assert!(
        edited
            .stderr
            .contains("us-west-1/namespace-inferadb.yaml was edited since infera-render wrote it"),
        "{}",
        edited.stderr
    );
    std::fs::write(
        out.join("us-west-1/namespace-inferadb.yaml"),
        before["us-west-1/namespace-inferadb.yaml"].clone(),
    )
    .expect("restore");
    assert_eq!(
        before,
        tree(&out),
        "a refused run changed the output folder"
    );

    // Without the conflict, phase 2 replaces phase 1 and keeps the foreign file.
    std::fs::remove_file(&foreign).expect("rm");
    let seeded = render_into("examples/two-region-satellites.yaml", &out, true);
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).expect("read"),
        "mine"
    );
    assert!(
        out.join("eu-central-1/foundationdbcluster-inferadb-fdb-eu-central-1b.yaml")
            .is_file()
    );

    // A symlink inside the folder never leads a write outside it.
    let outside = tempfile::tempdir().expect("outside");
    let region = out.join("eu-central-1");
    let moved = dir.path().join("moved-region");
    std::fs::rename(&region, &moved).expect("move region");
    std::os::unix::fs::symlink(outside.path(), &region).expect("symlink");
    let before = tree(&out);
    let through = render_into("examples/two-region-satellites.yaml", &out, true);
    assert_eq!(through.code, 3, "{}", through.stderr);
    assert!(
        through.stderr.contains("is a symbolic link"),
        "{}",
        through.stderr
    );
    assert_eq!(before, tree(&out));
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("read").count(),
        0,
        "a write went through the symlink"
    );
}

#[test]
fn crds_dir_adds_the_operator_crds_to_each_bundle() {
    let Some(crd) = crate::common::operator_reference(
        "v2.33.0",
        "apps.foundationdb.org_foundationdbclusters.yaml",
    ) else {
        return;
    };
    let crds_dir = crd
        .parent()
        .expect("folder")
        .to_str()
        .expect("utf-8")
        .to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8");
    let result = run(&[
        "render",
        "-f",
        "examples/single-region.yaml",
        "-o",
        out,
        "--crds-dir",
        &crds_dir,
    ]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let kustomization =
        std::fs::read_to_string(dir.path().join("us-east-1/kustomization.yaml")).expect("read");
    let listed: Vec<&str> = kustomization
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .collect();
    assert_eq!(
        &listed[..4],
        [
            "namespace-inferadb.yaml",
            "customresourcedefinition-foundationdbbackups.apps.foundationdb.org.yaml",
            "customresourcedefinition-foundationdbclusters.apps.foundationdb.org.yaml",
            "customresourcedefinition-foundationdbrestores.apps.foundationdb.org.yaml",
        ]
    );
    let guide = std::fs::read_to_string(dir.path().join("APPLY.md")).expect("read");
    assert!(
        guide.contains("us-east-1/customresourcedefinition-*.yaml"),
        "{guide}"
    );
    assert!(!guide.contains("raw.githubusercontent.com"), "{guide}");

    // The v1.45.0 reference folder has no backup CRD: refused, naming it.
    let Some(v1) = crate::common::operator_reference(
        "v1.45.0",
        "apps.foundationdb.org_foundationdbclusters.yaml",
    ) else {
        return;
    };
    let v1_dir = v1
        .parent()
        .expect("folder")
        .to_str()
        .expect("utf-8")
        .to_owned();
    let missing = run(&[
        "render",
        "-f",
        "examples/two-region.yaml",
        "--crds-dir",
        &v1_dir,
    ]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("lacks the operator's CRD(s) foundationdbbackups.apps.foundationdb.org"),
        "{}",
        missing.stderr
    );
    let not_crds = run(&[
        "render",
        "-f",
        "examples/two-region.yaml",
        "--crds-dir",
        "examples",
    ]);
    assert_eq!(not_crds.code, 1);
    assert!(
        not_crds
            .stderr
            .contains("not an apiextensions.k8s.io/v1 CustomResourceDefinition"),
        "{}",
        not_crds.stderr
    );
}

#[test]
fn outputs_prints_the_module_outputs() {
    let result = run(&["outputs", "-f", "examples/three-region.yaml"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let outputs: serde_json::Value = serde_json::from_str(&result.stdout).expect("JSON");
    for key in [
        "regions",
        "primary_region",
        "fdb_operators",
        "fdb_clusters",
        "engine_endpoints",
        "fearless_dr_config",
        "cluster_connection_info",
    ] {
        assert!(outputs.get(key).is_some(), "missing output {key}");
    }
    assert_eq!(outputs["primary_region"]["id"], "us-west-1");
    assert_eq!(
        outputs["fearless_dr_config"]["regions"][0]["datacenters"][0]["id"],
        "us-west-1a"
    );
    assert_eq!(outputs["fearless_dr_config"]["regions"][0]["priority"], 1);
    assert_eq!(outputs["fearless_dr_config"]["regions"][1]["priority"], 0);
    assert_eq!(outputs["regions"]["ap-southeast-1"]["fdb_role"], "client");
    assert!(outputs["cluster_connection_info"]["seed_connection_string"].is_null());
}
