//! Command-line behaviour: exit codes, stdin, both document forms, `--deny-warnings`, `schema`.

use crate::common::{run, run_with_stdin, workspace};

#[test]
fn usage_errors_exit_2() {
    let run = run(&["validate"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--file"), "{}", run.stderr);
    assert_eq!(crate::common::run(&["no-such-command"]).code, 2);
    assert_eq!(crate::common::run(&[]).code, 2);
}

#[test]
fn help_and_version_exit_0() {
    let help = run(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("validate") && help.stdout.contains("Exit codes"));
    let version = run(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("infera-render "));
}

#[test]
fn unreadable_spec_exits_3() {
    let missing = run(&["validate", "-f", "does/not/exist.yaml"]);
    assert_eq!(missing.code, 3);
    assert!(
        missing.stderr.contains("cannot read does/not/exist.yaml"),
        "{}",
        missing.stderr
    );
    let directory = run(&["validate", "-f", "examples"]);
    assert_eq!(directory.code, 3, "{}", directory.stderr);
}

#[test]
fn stdin_is_read_with_dash() {
    let text =
        std::fs::read(workspace().join("examples/two-region-satellites.yaml")).expect("read");
    let ok = run_with_stdin(&["validate", "-f", "-"], &text);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let bad = run_with_stdin(&["validate", "-f", "-"], b"regions: 5\n");
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("error: regions: expected a list, found the number 5"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("--> <stdin>:1:10"), "{}", bad.stderr);
}

#[test]
fn the_bare_form_and_json_are_accepted() {
    let tfvars = br#"{
  "regions": [
    {"id": "us-west-1", "is_primary": true, "priority": 1, "kubernetes": {"config_context": "a"}},
    {"id": "eu-central-1", "is_primary": false, "priority": 2, "kubernetes": {"config_context": "b"}}
  ],
  "fearless_dr": {"usable_regions": 2},
  "tailscale": {"enabled": false}
}"#;
    let ok = run_with_stdin(&["plan", "-f", "-"], tfvars);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(
        ok.stdout.contains("us-west-1a") || ok.stdout.contains("us-west-1  "),
        "{}",
        ok.stdout
    );
    // Paths in the bare form have no `spec.` prefix.
    let bad = run_with_stdin(
        &["validate", "-f", "-"],
        br#"{"regions": [], "clusterName": "x"}"#,
    );
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("error: clusterName: unknown key `clusterName`"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("did you mean `cluster_name`?"),
        "{}",
        bad.stderr
    );
}

#[test]
fn warnings_keep_exit_0_unless_denied() {
    let warned = run(&["validate", "-f", "examples/two-region.yaml"]);
    assert_eq!(warned.code, 0);
    assert!(
        warned
            .stderr
            .contains("warning: spec.fearless_dr.usable_regions"),
        "{}",
        warned.stderr
    );
    assert!(
        warned.stderr.ends_with("valid (0 errors, 8 warnings)\n"),
        "{}",
        warned.stderr
    );
    let denied = run(&[
        "validate",
        "--deny-warnings",
        "-f",
        "examples/two-region.yaml",
    ]);
    assert_eq!(denied.code, 1);
    assert!(
        denied
            .stderr
            .contains("error: spec.fearless_dr.usable_regions"),
        "{}",
        denied.stderr
    );
    let clean = run(&[
        "validate",
        "--deny-warnings",
        "-f",
        "examples/single-region.yaml",
    ]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert!(clean.stderr.is_empty());
}

#[test]
fn seed_flag_overrides_and_is_validated() {
    let seeded = run(&[
        "plan",
        "-f",
        "examples/two-region-satellites.yaml",
        "--seed-connection-string",
        "inferadb_fdb:abc123@10.10.0.5:4501,10.10.0.6:4501,10.10.0.7:4501",
    ]);
    assert_eq!(seeded.code, 0, "{}", seeded.stderr);
    assert!(
        seeded
            .stdout
            .contains("phase 2 (seed connection string given)"),
        "{}",
        seeded.stdout
    );
    let bad = run(&[
        "validate",
        "-f",
        "examples/two-region-satellites.yaml",
        "--seed-connection-string",
        "nope",
    ]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr
            .contains("--seed-connection-string: `nope` has no `@`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn schema_prints_the_committed_schema() {
    let schema = run(&["schema"]);
    assert_eq!(schema.code, 0);
    let committed =
        std::fs::read_to_string(workspace().join("schemas/infera-spec.schema.json")).expect("read");
    assert_eq!(schema.stdout, committed);
}

#[test]
fn plan_shows_the_priority_conversion_and_phases() {
    let plan = run(&["plan", "-f", "examples/three-region.yaml"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for expected in [
        "us-west-1       priority 1 (rank 1)  → FDB priority 1: the active region",
        "eu-central-1    priority 2 (rank 2)  → FDB priority 0: can become active by itself (>= 0; see If this is lost)",
        "region us-west-1          manual     possible   4 of 9",
        "ap-southeast-1 is a client region",
        "phase 1 (this output: no seed connection string): datacenter us-west-1a alone",
        "kubectl --context eks-us-west-1 -n inferadb get foundationdbcluster inferadb-fdb-us-west-1a -o jsonpath='{.status.connectionString}'",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "missing `{expected}` in:\n{}",
            plan.stdout
        );
    }
    // usable_regions 1: the DR region is listed at -1 (it holds no replica).
    let plan = run(&["plan", "-f", "examples/two-region.yaml"]);
    assert!(
        plan.stdout.contains(
            "eu-central-1  priority 2 (rank 2)  → FDB priority -1: holds no replica and never becomes active (usable_regions 1)"
        ),
        "{}",
        plan.stdout
    );
}
