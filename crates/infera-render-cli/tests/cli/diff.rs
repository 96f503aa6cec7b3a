//! `diff` and the change safety of `render -o`: each scenario renders a "before" spec into a
//! folder, then diffs an "after" spec against it (text and JSON goldens in `golden/diff/`, with
//! the exit code), and checks what `render -o` then does: refuses a destructive change and
//! leaves the folder byte-identical, or writes it and lists the orphans. `--seed-from` reads the
//! seed from a FoundationDBCluster's JSON.

use crate::common::{TEST_SEED, golden, run, run_with_stdin, tree, workspace};
use serde_json::{Value, json};
use std::path::Path;

/// The two-region example as JSON, changed by `change`.
fn two_region(change: impl FnOnce(&mut Value)) -> String {
    let text = std::fs::read_to_string(workspace().join("examples/two-region.yaml"))
        .expect("read the example");
    let mut spec: Value = serde_saphyr::from_str(&text).expect("the example parses");
    change(&mut spec["spec"]);
    spec.to_string()
}

/// `infera-render ARGS -f - [--seed-connection-string TEST_SEED]` with `spec` on stdin.
fn with_spec(args: &[&str], spec: &str, seeded: bool) -> crate::common::Run {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-f", "-"]);
    if seeded {
        all.extend(["--seed-connection-string", TEST_SEED]);
    }
    run_with_stdin(&all, spec.as_bytes())
}

fn render(spec: &str, seeded: bool, out: &Path, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["render", "-o", out.to_str().expect("utf-8")];
    args.extend(extra);
    with_spec(&args, spec, seeded)
}

/// Diffs `after` against `out` as text and as JSON, snapshots both (with the exit code) as
/// `golden/diff/<name>.snap` and `<name>-json.snap`, and returns the exit code.
fn diff_golden(name: &str, after: &str, seeded: bool, out: &Path) -> i32 {
    let out_arg = out.to_str().expect("utf-8");
    let text = with_spec(&["diff", "-o", out_arg], after, seeded);
    let json = with_spec(&["diff", "-o", out_arg, "--format", "json"], after, seeded);
    assert_eq!(text.code, json.code, "{}{}", text.stderr, json.stderr);
    assert!(matches!(text.code, 0 | 16), "{}", text.stderr);
    // The JSON is one document with the same verdict.
    let parsed: Value = serde_json::from_str(&json.stdout).expect("diff --format json is JSON");
    assert_eq!(parsed["changed"], json!(text.code == 16));
    golden("diff").bind(|| {
        insta::assert_snapshot!(name, format!("exit {}\n{}", text.code, text.stdout));
        insta::assert_snapshot!(format!("{name}-json"), json.stdout);
    });
    text.code
}

/// After `render -o` of `spec`, `diff` of the same spec finds nothing: what render wrote,
/// APPLY.md's sections included, is what it would write again.
fn settled(spec: &str, seeded: bool, out: &Path) {
    let again = with_spec(&["diff", "-o", out.to_str().expect("utf-8")], spec, seeded);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

#[test]
fn an_unchanged_re_render_has_an_empty_diff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let spec = two_region(|_| {});
    assert_eq!(render(&spec, true, &out, &[]).code, 0);
    assert_eq!(diff_golden("no-change", &spec, true, &out), 0);
    let text = with_spec(&["diff", "-o", out.to_str().expect("utf-8")], &spec, true);
    assert_eq!(text.stdout, "");
    assert!(text.stderr.contains("note: no changes:"), "{}", text.stderr);
}

#[test]
fn the_first_render_lists_every_object_as_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("missing");
    let spec = two_region(|_| {});
    assert_eq!(diff_golden("first-render", &spec, true, &out), 16);
    assert!(!out.exists(), "diff created the folder");
    // Every object of the render is in the list, as added.
    let json = with_spec(
        &[
            "diff",
            "-o",
            out.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
        &spec,
        true,
    );
    let parsed: Value = serde_json::from_str(&json.stdout).expect("JSON");
    let stream = with_spec(&["render"], &spec, true).stdout;
    let listed = parsed["objects"].as_array().expect("objects");
    // One `# Source:` line per object in the stream.
    assert_eq!(listed.len(), stream.matches("\n# Source: ").count());
    assert!(listed.iter().all(|change| change["action"] == "added"));
}

#[test]
fn a_replica_change_is_safe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
    let after = two_region(|spec| spec["engine"]["replicas"] = json!(5));
    assert_eq!(diff_golden("replicas", &after, true, &out), 16);
    let written = render(&after, true, &out, &[]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    settled(&after, true, &out);
}

#[test]
fn an_operator_upgrade_replaces_the_fdb_pods() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
    let after = two_region(|spec| spec["operator_version"] = json!("2.33.0"));
    assert_eq!(diff_golden("operator-version", &after, true, &out), 16);
    // Not destructive: render writes it, and says what it does.
    let written = render(&after, true, &out, &[]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert!(
        written.stderr.contains("note: us-west-1 FoundationDBCluster inferadb/inferadb-fdb-us-west-1: replaces-fdb-pods (spec.processes.general.podTemplate.spec.serviceAccountName, spec.processes.stateless.podTemplate.spec.serviceAccountName: the operator updates every FoundationDB pod"),
        "{}",
        written.stderr
    );
    assert!(
        written.stderr.contains(
            "; spec.imageType: the data directory differs between the split and the unified image"
        ),
        "{}",
        written.stderr
    );
    settled(&after, true, &out);
}

#[test]
fn a_storage_engine_change_migrates_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
    let after = two_region(|spec| spec["storage_engine"] = json!("ssd-redwood-1"));
    assert_eq!(diff_golden("storage-engine", &after, true, &out), 16);
}

#[test]
fn an_fdb_upgrade_is_one_change_across_regions_and_apply_md_orders_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
    let after = two_region(|spec| spec["fdb_version"] = json!("7.3.63"));
    assert_eq!(diff_golden("fdb-version", &after, true, &out), 16);
    assert_eq!(render(&after, true, &out, &[]).code, 0);
    let guide = std::fs::read_to_string(out.join("APPLY.md")).expect("APPLY.md");
    let upgrade = guide
        .find("## Upgrading FoundationDB from 7.3.43 to 7.3.63")
        .expect("an upgrade section");
    let steps = guide.find("## Steps").expect("steps");
    assert!(
        upgrade < steps,
        "the upgrade comes before the per-region steps"
    );
    for region in ["us-west-1", "eu-central-1"] {
        assert!(
            guide[upgrade..steps].contains(&format!(
                "apply --server-side -f {region}/foundationdbcluster-inferadb-fdb-{region}.yaml"
            )),
            "{region}"
        );
    }
    // The folder's manifest keeps the upgrade: a re-render keeps ordering it, a diff is empty.
    settled(&after, true, &out);
    assert_eq!(render(&after, true, &out, &[]).code, 0);
    assert_eq!(
        std::fs::read_to_string(out.join("APPLY.md")).expect("APPLY.md"),
        guide
    );
    // Rendering one region at a time still orders every region's cluster.
    let scoped = dir.path().join("scoped");
    assert_eq!(render(&two_region(|_| {}), true, &scoped, &[]).code, 0);
    assert_eq!(
        render(&after, true, &scoped, &["--region", "us-west-1"]).code,
        0
    );
    let scoped_guide = std::fs::read_to_string(scoped.join("APPLY.md")).expect("APPLY.md");
    assert!(
        scoped_guide.contains(
            "apply --server-side -f eu-central-1/foundationdbcluster-inferadb-fdb-eu-central-1.yaml"
        ),
        "{scoped_guide}"
    );
    // A new version replaces the pending upgrade.
    let next = two_region(|spec| spec["fdb_version"] = json!("7.3.69"));
    assert_eq!(render(&next, true, &out, &[]).code, 0);
    let guide = std::fs::read_to_string(out.join("APPLY.md")).expect("APPLY.md");
    assert!(guide.contains("## Upgrading FoundationDB from 7.3.63 to 7.3.69"));
    assert!(!guide.contains("to 7.3.63\n"));
}

#[test]
fn an_unreadable_cluster_file_does_not_let_a_destructive_change_through() {
    let after = two_region(|spec| spec["cluster_name"] = json!("inferadb-db"));
    let file = "us-west-1/foundationdbcluster-inferadb-fdb-us-west-1.yaml";
    for (label, spoil) in [
        (
            "not UTF-8",
            &(|path: &Path| {
                let mut bytes = std::fs::read(path).expect("read");
                bytes.push(0xff);
                std::fs::write(path, bytes).expect("write");
            }) as &dyn Fn(&Path),
        ),
        ("deleted", &|path: &Path| {
            std::fs::remove_file(path).expect("rm")
        }),
        ("two documents", &|path: &Path| {
            let text = std::fs::read_to_string(path).expect("read");
            std::fs::write(path, format!("{text}---\n{text}")).expect("write");
        }),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
        spoil(&out.join(file));
        let before = tree(&out);
        let refused = render(&after, true, &out, &[]);
        assert_eq!(refused.code, 1, "{label}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("destructive change: us-west-1 FoundationDBCluster inferadb/inferadb-fdb-us-west-1 removed"),
            "{label}: {}",
            refused.stderr
        );
        assert_eq!(before, tree(&out), "{label}");
    }
}

#[test]
fn a_region_moved_to_another_cluster_is_a_new_datacenter_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
    let after = two_region(|spec| {
        spec["regions"][1]["kubernetes"]["config_context"] = json!("aws-eu-central-1-new");
    });
    let out_arg = out.to_str().expect("utf-8");
    let diff = with_spec(&["diff", "-o", out_arg], &after, true);
    assert_eq!(diff.code, 16);
    assert!(
        diff.stdout.contains(
            "* region eu-central-1 moves from context aws-eu-central-1 to aws-eu-central-1-new"
        ),
        "{}",
        diff.stdout
    );
    assert_eq!(
        render(&after, true, &out, &[]).code,
        1,
        "refused without the flag"
    );
    let moved = render(&after, true, &out, &["--allow-destructive"]);
    assert_eq!(moved.code, 0, "{}", moved.stderr);
    let guide = std::fs::read_to_string(out.join("APPLY.md")).expect("APPLY.md");
    let removed = &guide[guide.find("## Removed objects").expect("removed objects")..];
    // What runs in the old cluster is deleted there, with the old context.
    assert!(
        removed.contains("kubectl --context aws-eu-central-1 -n inferadb delete foundationdbcluster.apps.foundationdb.org inferadb-fdb-eu-central-1"),
        "{removed}"
    );
    assert!(!removed.contains("aws-eu-central-1-new"), "{removed}");
    settled(&after, true, &out);
}

#[test]
fn a_cluster_name_change_is_refused_and_leaves_the_folder_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
    let after = two_region(|spec| spec["cluster_name"] = json!("inferadb-db"));
    assert_eq!(diff_golden("cluster-name", &after, true, &out), 16);

    let before = tree(&out);
    let refused = render(&after, true, &out, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    for expected in [
        "error: destructive change: us-west-1 FoundationDBCluster inferadb/inferadb-fdb-us-west-1 removed: deleting a FoundationDBCluster deletes its volumes",
        "error: destructive change: eu-central-1 FoundationDBCluster inferadb/inferadb-fdb-eu-central-1 removed",
        "pass --allow-destructive to render it anyway",
        "nothing was written to",
    ] {
        assert!(
            refused.stderr.contains(expected),
            "{expected}\n{}",
            refused.stderr
        );
    }
    assert_eq!(before, tree(&out), "a refused render changed the folder");

    let allowed = render(&after, true, &out, &["--allow-destructive"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    settled(&after, true, &out);
    assert!(
        allowed.stderr.contains(
            "us-west-1 FoundationDBCluster inferadb/inferadb-fdb-us-west-1 [destructive]"
        ),
        "{}",
        allowed.stderr
    );
}

#[test]
fn a_removed_region_lists_its_objects_until_they_are_forgotten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    assert_eq!(render(&two_region(|_| {}), true, &out, &[]).code, 0);
    let after = two_region(|spec| {
        spec["regions"].as_array_mut().expect("regions").pop();
    });
    assert_eq!(diff_golden("region-removed", &after, true, &out), 16);
    assert_eq!(
        render(&after, true, &out, &[]).code,
        1,
        "refused without the flag"
    );

    let written = render(&after, true, &out, &["--allow-destructive"]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert!(
        written
            .stderr
            .contains("17 object(s) are no longer rendered but keep running until you delete them"),
        "{}",
        written.stderr
    );
    let guide = std::fs::read_to_string(out.join("APPLY.md")).expect("APPLY.md");
    let removed = &guide[guide
        .find("## Removed objects")
        .expect("a Removed objects section")..];
    golden("diff").bind(|| insta::assert_snapshot!("region-removed-apply-md", removed));
    // The FoundationDBCluster's delete command comes only under the destructive warning.
    let warning = removed.find("**Destructive.**").expect("warning");
    let delete = removed
        .find("delete foundationdbcluster.apps.foundationdb.org inferadb-fdb-eu-central-1")
        .expect("the command");
    assert!(warning < delete);

    // The section stays while the objects may still run: an unchanged re-render keeps it and
    // changes nothing, and its diff is empty.
    let again = render(&after, true, &out, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("0 file(s) written"),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains("still lists 17 object(s)"),
        "{}",
        again.stderr
    );
    let out_arg = out.to_str().expect("utf-8");
    assert_eq!(with_spec(&["diff", "-o", out_arg], &after, true).code, 0);

    // Once deleted, --forget-removed drops it.
    let forgotten = render(&after, true, &out, &["--forget-removed"]);
    assert_eq!(forgotten.code, 0, "{}", forgotten.stderr);
    let guide = std::fs::read_to_string(out.join("APPLY.md")).expect("APPLY.md");
    assert!(!guide.contains("## Removed objects"));
    let fresh = dir.path().join("fresh");
    assert_eq!(render(&after, true, &fresh, &[]).code, 0);
    assert_eq!(
        std::fs::read_to_string(fresh.join("APPLY.md")).expect("APPLY.md"),
        guide
    );
}

#[test]
fn phase_one_to_phase_two_is_reported_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let spec = two_region(|_| {});
    assert_eq!(render(&spec, false, &out, &[]).code, 0);
    assert_eq!(diff_golden("phase-1-to-2", &spec, true, &out), 16);
    // And back, without the seed: the other datacenter would be removed, which is refused.
    assert_eq!(render(&spec, true, &out, &[]).code, 0);
    let back = with_spec(&["diff", "-o", out.to_str().expect("utf-8")], &spec, false);
    assert_eq!(back.code, 16);
    assert!(
        back.stdout.contains("bootstrap phase 2 → 1"),
        "{}",
        back.stdout
    );
    let refused = render(&spec, false, &out, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("missing");
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, two_region(|_| {})).expect("write spec");
    let command = format!(
        "{} diff -f {} -o {}",
        crate::common::binary(),
        spec.display(),
        out.display()
    );
    let in_terminal = |no_color: Option<&str>| {
        let mut script = std::process::Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_remove("NO_COLOR");
        if let Some(value) = no_color {
            script.env("NO_COLOR", value);
        }
        script
            .output()
            .ok()
            .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let Some(coloured) = in_terminal(None) else {
        eprintln!("SKIPPED: `script` (util-linux) is not installed");
        return;
    };
    assert!(
        coloured.contains("\x1b["),
        "no colour on a terminal: {coloured}"
    );
    let plain = in_terminal(Some("1")).expect("script");
    assert!(
        !plain.contains("\x1b[") && plain.contains("[safe]"),
        "{plain}"
    );
    // A pipe gets no colour either.
    let piped = run(&[
        "diff",
        "-f",
        spec.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert!(!piped.stdout.contains("\x1b[") && piped.code == 16);
}

/// A FoundationDBCluster as `kubectl get -o json` prints it.
fn cluster_json(name: &str, generation: i64, reconciled: i64, connection: Option<&str>) -> String {
    let mut status = json!({"generations": {"reconciled": reconciled}});
    if let Some(connection) = connection {
        status["connectionString"] = json!(connection);
    }
    json!({"apiVersion": "apps.foundationdb.org/v1beta2", "kind": "FoundationDBCluster",
        "metadata": {"name": name, "namespace": "inferadb", "generation": generation},
        "spec": {"version": "7.3.43"}, "status": status})
    .to_string()
}

#[test]
fn the_seed_is_read_from_the_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("cluster.json");
    let file_arg = file.to_str().expect("utf-8");
    let seeded = run(&[
        "render",
        "-f",
        "examples/two-region.yaml",
        "--seed-connection-string",
        TEST_SEED,
    ]);
    assert_eq!(seeded.code, 0);

    // Reconciled: the same output as the connection string given by hand, from a file or stdin.
    let reconciled = cluster_json("inferadb-fdb-us-west-1", 4, 4, Some(TEST_SEED));
    std::fs::write(&file, &reconciled).expect("write");
    let from_file = run(&[
        "render",
        "-f",
        "examples/two-region.yaml",
        "--seed-from",
        file_arg,
    ]);
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);
    assert_eq!(from_file.stdout, seeded.stdout);
    let from_stdin = run_with_stdin(
        &[
            "render",
            "-f",
            "examples/two-region.yaml",
            "--seed-from",
            "-",
        ],
        reconciled.as_bytes(),
    );
    assert_eq!(from_stdin.code, 0, "{}", from_stdin.stderr);
    assert_eq!(from_stdin.stdout, seeded.stdout);

    for (json, code, expected) in [
        (
            cluster_json("inferadb-fdb-us-west-1", 5, 4, Some(TEST_SEED)),
            1,
            "FoundationDBCluster inferadb-fdb-us-west-1 is not reconciled yet (status.generations.reconciled is 4, metadata.generation is 5)",
        ),
        (
            cluster_json("inferadb-fdb-us-west-1", 1, 1, None),
            1,
            "has no status.connectionString yet",
        ),
        ("{not json".to_owned(), 1, "it is not JSON"),
        (
            cluster_json("someone-else", 1, 1, Some(TEST_SEED)),
            1,
            "FoundationDBCluster someone-else is not one of this spec's (inferadb-fdb-us-west-1, inferadb-fdb-eu-central-1)",
        ),
    ] {
        std::fs::write(&file, &json).expect("write");
        let result = run(&[
            "render",
            "-f",
            "examples/two-region.yaml",
            "--seed-from",
            file_arg,
        ]);
        assert_eq!(result.code, code, "{}", result.stderr);
        assert!(
            result.stderr.contains("error: --seed-from") && result.stderr.contains(expected),
            "{expected}\n{}",
            result.stderr
        );
        assert_eq!(result.stdout, "");
    }
    let missing = run(&[
        "render",
        "-f",
        "examples/two-region.yaml",
        "--seed-from",
        "/nonexistent/x.json",
    ]);
    assert_eq!(missing.code, 3, "{}", missing.stderr);
    let both = run(&["render", "-f", "-", "--seed-from", "-"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
    let conflicting = run(&[
        "render",
        "-f",
        "examples/two-region.yaml",
        "--seed-from",
        file_arg,
        "--seed-connection-string",
        TEST_SEED,
    ]);
    assert_eq!(conflicting.code, 2, "{}", conflicting.stderr);
}

#[test]
fn diff_exit_codes_for_bad_input_and_io() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let invalid = run_with_stdin(
        &["diff", "-f", "-", "-o", dir.path().to_str().expect("utf-8")],
        b"regions: []\n",
    );
    assert_eq!(invalid.code, 1, "{}", invalid.stderr);
    assert_eq!(invalid.stdout, "");
    let io = run(&[
        "diff",
        "-f",
        "examples/two-region.yaml",
        "-o",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(io.code, 3, "{}", io.stderr);
    assert!(
        io.stderr.contains("exists and is not a directory"),
        "{}",
        io.stderr
    );
    let unknown = run(&[
        "diff",
        "-f",
        "examples/two-region.yaml",
        "-o",
        dir.path().to_str().expect("utf-8"),
        "--region",
        "mars-1",
    ]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    // A manifest that is not ours to read is an I/O problem, named.
    std::fs::write(dir.path().join(".infera-render-manifest.json"), "{").expect("write");
    let broken = run(&[
        "diff",
        "-f",
        "examples/two-region.yaml",
        "-o",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(broken.code, 3, "{}", broken.stderr);
    assert!(
        broken.stderr.contains("is not valid JSON"),
        "{}",
        broken.stderr
    );
}
