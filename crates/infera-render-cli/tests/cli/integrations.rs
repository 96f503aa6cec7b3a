//! The integrations, run against the real tools: `kubectl kustomize` with the legacy exec plugin
//! and the KRM function (through kustomize's container-function path, with a `docker` shim that
//! execs `infera-render krm`: docs/integrations.md §1.2), `helm template --post-renderer` with the
//! Helm 4 plugin, and a YAML 1.1 round trip of every rendered file through kubectl's decoder. Each
//! mode's failure path is checked for what the user actually sees.

#![allow(clippy::panic)]

use crate::common::{binary, run, tool, workspace};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `(kind, name)` of every document of a YAML stream, in order.
fn identities(stream: &str) -> Vec<(String, String)> {
    infera_render::parse_manifests(stream)
        .expect("the output is YAML")
        .iter()
        .map(|doc| {
            let text = |p: &str| {
                doc.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (text("/kind"), text("/metadata/name"))
        })
        .collect()
}

/// The documents of a stream that are native Kubernetes kinds, as YAML.
fn native(stream: &str) -> Vec<String> {
    infera_render::parse_manifests(stream)
        .expect("YAML")
        .iter()
        .filter(|doc| {
            let api = doc["apiVersion"].as_str().unwrap_or_default();
            !api.contains("foundationdb.org") && !api.contains("coreos.com")
        })
        .map(|doc| {
            infera_render::to_stream(std::slice::from_ref(doc))
                .trim_start_matches("---\n")
                .to_owned()
        })
        .collect()
}

fn render_region(spec: &str, region: &str) -> String {
    let result = run(&["render", "-f", spec, "--region", region]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    result.stdout
}

/// A kustomize plugin home with infera-render installed as the legacy exec plugin.
fn plugin_home(dir: &Path) -> PathBuf {
    let home = dir.join("plugin");
    let folder = home.join("infera.dev/v1alpha1/multiregiondeployment");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::os::unix::fs::symlink(binary(), folder.join("MultiRegionDeployment")).expect("symlink");
    home
}

/// `kubectl kustomize --enable-alpha-plugins DIR` with the plugin home of [`plugin_home`].
fn kustomize_with_plugin(kubectl: &Path, home: &Path, dir: &Path) -> Output {
    Command::new(kubectl)
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(dir)
        .env("KUSTOMIZE_PLUGIN_HOME", home)
        .output()
        .expect("run kubectl")
}

#[test]
fn kustomize_legacy_exec_plugin_builds_every_region() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let home = plugin_home(dir.path());
    let spec = "examples/kustomize/spec/inferadb.yaml";
    for region in ["us-west-1", "eu-central-1"] {
        let folder = workspace().join("examples/kustomize").join(region);
        let output = kustomize_with_plugin(&kubectl, &home, &folder);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{region}: {stderr}");
        assert_eq!(
            identities(&stdout),
            identities(&render_region(spec, region)),
            "{region}: kustomize output differs from render"
        );
        infera_test_support::validate_native_objects(&native(&stdout));
    }

    // Failure: the spec is invalid; kustomize fails and shows our message.
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).expect("mkdir");
    let invalid =
        std::fs::read_to_string(workspace().join("tests/invalid/47-duplicate-priority.yaml"))
            .expect("read");
    std::fs::write(broken.join("spec.yaml"), invalid).expect("write");
    std::fs::write(
        broken.join("kustomization.yaml"),
        "generators:\n- spec.yaml\n",
    )
    .expect("write");
    let output = kustomize_with_plugin(&kubectl, &home, &broken);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("error: spec.regions[1].priority: priority 1 is also used by regions[0]"),
        "{stderr}"
    );

    // Failure: several regions and no region annotation.
    std::fs::copy(workspace().join(spec), broken.join("spec.yaml")).expect("copy");
    let output = kustomize_with_plugin(&kubectl, &home, &broken);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("set metadata.annotations.infera.dev/region"),
        "{stderr}"
    );
}

/// A kustomization whose generator is the KRM function, run as a container function; the
/// `docker` on PATH is a shim that execs `infera-render krm`.
fn krm_kustomization(dir: &Path, spec_text: &str) -> (PathBuf, String) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let shim = bin.join("docker");
    std::fs::write(&shim, format!("#!/bin/sh\nexec {} krm\n", binary())).expect("write shim");
    let mut permissions = std::fs::metadata(&shim).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&shim, permissions).expect("chmod");
    let root = dir.join("krm");
    std::fs::create_dir_all(&root).expect("mkdir");
    let config = spec_text.replace(
        "metadata:\n  name: inferadb\n",
        "metadata:\n  name: inferadb\n  annotations:\n    infera.dev/region: us-west-1\n    config.kubernetes.io/function: |\n      container:\n        image: example.invalid/infera-render:test\n",
    );
    std::fs::write(root.join("generator.yaml"), config).expect("write");
    std::fs::write(
        root.join("kustomization.yaml"),
        "generators:\n- generator.yaml\nsortOptions:\n  order: fifo\n",
    )
    .expect("write");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (root, path)
}

#[test]
fn krm_function_runs_through_kustomize() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = "examples/kustomize/spec/inferadb.yaml";
    let spec_text = std::fs::read_to_string(workspace().join(spec)).expect("read");
    let (root, path) = krm_kustomization(dir.path(), &spec_text);
    let output = Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(&root)
        .env("PATH", &path)
        .output()
        .expect("run kubectl");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        identities(&stdout),
        identities(&render_region(spec, "us-west-1"))
    );
    infera_test_support::validate_native_objects(&native(&stdout));

    // Failure: exit 1 and the message on stderr, which kustomize shows.
    let invalid = spec_text.replace("priority: 2", "priority: 1");
    let (root, path) = krm_kustomization(&dir.path().join("broken"), &invalid);
    let output = Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(&root)
        .env("PATH", &path)
        .output()
        .expect("run kubectl");
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("spec.regions[1].priority: priority 1 is also used by regions[0]"),
        "{stderr}"
    );
}

#[test]
fn krm_protocol_passes_items_drops_the_config_echo_and_reports_results() {
    let spec =
        std::fs::read_to_string(workspace().join("examples/single-region.yaml")).expect("read");
    let config: Value = serde_saphyr::from_str(&spec).expect("yaml");
    let echo = {
        let mut echo = config.clone();
        echo["metadata"]["annotations"] =
            serde_json::json!({"config.kubernetes.io/local-config": "true"});
        echo
    };
    let existing = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep-me"}, "data": {"a": "on"}});
    let list = serde_json::json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [existing, echo],
        "functionConfig": config,
    });
    let input = serde_json::to_string(&list).expect("json");
    let result = crate::common::run_with_stdin(&["krm"], input.as_bytes());
    assert_eq!(result.code, 0, "{}", result.stderr);
    let output: Value = serde_saphyr::from_str(&result.stdout).expect("a ResourceList");
    let items = output["items"].as_array().expect("items");
    assert_eq!(items[0]["metadata"]["name"], "keep-me");
    assert_eq!(
        items[0]["data"]["a"], "on",
        "input items pass through unchanged"
    );
    assert!(
        items
            .iter()
            .all(|item| item["kind"] != "MultiRegionDeployment"),
        "the local-config echo is dropped"
    );
    assert!(items[1..].iter().all(|item| {
        item["metadata"]["annotations"]["internal.config.kubernetes.io/path"]
            .as_str()
            .is_some_and(|p| p.starts_with("us-east-1/"))
    }));

    let broken = input.replace("\"priority\":1", "\"priority\":1,\"zones\":[\"BAD_ZONE\"]");
    let failed = crate::common::run_with_stdin(&["krm"], broken.as_bytes());
    assert_eq!(failed.code, 1);
    assert!(
        failed.stderr.contains("spec.regions[0].zones[0]"),
        "{}",
        failed.stderr
    );
    let output: Value =
        serde_saphyr::from_str(&failed.stdout).expect("a ResourceList with results");
    assert_eq!(output["results"][0]["severity"], "error");
    assert_eq!(
        output["results"][0]["field"]["path"],
        "spec.regions[0].zones[0]"
    );

    let garbage = crate::common::run_with_stdin(&["krm"], b"not: [a ResourceList");
    assert_eq!(garbage.code, 1);
    assert!(
        garbage.stderr.contains("not a ResourceList"),
        "{}",
        garbage.stderr
    );
}

/// A Helm home with the plugin installed by copying (docs/integrations.md §2.3).
struct Helm {
    _dir: tempfile::TempDir,
    helm: PathBuf,
    env: Vec<(String, PathBuf)>,
}

impl Helm {
    fn new() -> Option<Self> {
        let helm = tool("helm")?;
        let dir = tempfile::tempdir().expect("tempdir");
        let plugins = dir.path().join("plugins");
        let plugin = plugins.join("infera-render");
        std::fs::create_dir_all(plugin.join("bin")).expect("mkdir");
        std::fs::copy(
            workspace().join("integrations/helm/infera-render/plugin.yaml"),
            plugin.join("plugin.yaml"),
        )
        .expect("copy");
        std::os::unix::fs::symlink(binary(), plugin.join("bin/infera-render")).expect("symlink");
        let env = [
            ("HELM_PLUGINS", "plugins"),
            ("HELM_DATA_HOME", "data"),
            ("HELM_CONFIG_HOME", "config"),
            ("HELM_CACHE_HOME", "cache"),
        ]
        .iter()
        .map(|(key, folder)| ((*key).to_owned(), dir.path().join(folder)))
        .chain([(
            "INFERA_RENDER_ERROR_LOG".to_owned(),
            dir.path().join("error.log"),
        )])
        .collect();
        Some(Self {
            _dir: dir,
            helm,
            env,
        })
    }

    fn template(&self, extra: &[&str]) -> Output {
        let mut command = Command::new(&self.helm);
        command
            .args(["template", "rel"])
            .arg(workspace().join("tests/chart"))
            .args(extra)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command.output().expect("run helm")
    }

    fn log(&self) -> String {
        let path = &self
            .env
            .iter()
            .find(|(k, _)| k == "INFERA_RENDER_ERROR_LOG")
            .expect("log")
            .1;
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

/// `helm template` arguments that run the installed plugin on `spec` for `region`.
fn post_renderer_args(spec: &Path, region: &str) -> Vec<String> {
    let mut args = vec!["--post-renderer".to_owned(), "infera-render".to_owned()];
    args.extend(
        ["-f", spec.to_str().expect("utf-8"), "--region", region]
            .iter()
            .map(|arg| format!("--post-renderer-args={arg}")),
    );
    args
}

#[test]
fn helm4_post_renderer_plugin_wires_the_chart() {
    let Some(helm) = Helm::new() else { return };
    let spec = workspace().join("examples/two-region-satellites.yaml");
    let args = post_renderer_args(&spec, "us-west-1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = helm.template(&args);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");

    // The chart's documents keep their source files; ours are appended.
    assert!(
        stdout.contains("# Source: inferadb-test/templates/engine.yaml\n"),
        "the patched engine lost its source file"
    );
    assert!(stdout.contains("# Source: inferadb-test/templates/settings.yaml\n"));
    assert!(stdout.contains("# Source: generated-by-postrender-"));
    let ids = identities(&stdout);
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate objects");
    assert!(ids.contains(&(
        "FoundationDBCluster".to_owned(),
        "inferadb-fdb-us-west-1a".to_owned()
    )));
    assert!(ids.contains(&("StatefulSet".to_owned(), "tailscale-router".to_owned())));
    assert!(
        !ids.iter().any(|(kind, _)| kind == "Namespace"),
        "Helm owns the release namespace"
    );

    let documents = infera_render::parse_manifests(&stdout).expect("YAML");
    let engine = documents
        .iter()
        .find(|d| d["metadata"]["name"] == "rel-engine" && d["kind"] == "Deployment")
        .expect("engine");
    let pod = &engine["spec"]["template"]["spec"];
    let env: Vec<(&str, &str)> = pod["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or_default(),
                v["value"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(env.contains(&("INFERADB__ENGINE__STORAGE", "foundationdb")));
    assert!(
        env.contains(&(
            "INFERADB__ENGINE__MESH__URL",
            "http://rel-control.default.svc:9092"
        )),
        "the chart's mesh URL is kept"
    );
    assert!(
        env.contains(&("RUST_LOG", "info")),
        "the chart's other env is kept"
    );
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"],
        "inferadb-fdb-us-west-1a-config"
    );
    // The own-route rule first, then the sidecar, then the wait step.
    assert_eq!(pod["initContainers"][0]["name"], "tailscale-own-route");
    assert_eq!(pod["initContainers"][1]["name"], "tailscale");
    for index in [0, 1] {
        assert_eq!(
            pod["initContainers"][index]["securityContext"]["runAsNonRoot"], false,
            "the root containers must override the chart's pod-level runAsNonRoot"
        );
    }
    assert_eq!(pod["initContainers"][2]["name"], "wait-for-foundationdb");
    let settings = documents
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("settings");
    assert_eq!(settings["data"]["quoted-on"], "on");
    assert_eq!(settings["data"]["quoted-octal"], "0755");
    infera_test_support::validate_native_objects(&native(&stdout));
    if let Some(validator) = infera_test_support::fdb_cluster_validator("v2.33.0") {
        for cluster in documents
            .iter()
            .filter(|d| d["kind"] == "FoundationDBCluster")
        {
            assert!(validator.is_valid(cluster), "{cluster}");
        }
    }

    // The plain stdin -> stdout mode (Helm 3's --post-renderer <path>) gives the same manifests.
    let plain = helm.template(&[]);
    assert!(plain.status.success());
    let region = [
        "post-render",
        "-f",
        spec.to_str().expect("utf-8"),
        "--region",
        "us-west-1",
    ];
    let direct = crate::common::run_with_stdin(&region, &plain.stdout);
    assert_eq!(direct.code, 0, "{}", direct.stderr);
    assert_eq!(identities(&direct.stdout).len(), ids.len());
}

#[test]
fn helm4_post_renderer_failures_reach_the_user() {
    let Some(helm) = Helm::new() else { return };
    let spec = workspace().join("tests/invalid/47-duplicate-priority.yaml");
    let args = post_renderer_args(&spec, "us-west-1");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = helm.template(&args);
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    // Helm 4 shows only this; the reason is in the log file (and on the terminal, below).
    assert!(
        stderr.contains("plugin \"infera-render\" exited with error"),
        "{stderr}"
    );
    let log = helm.log();
    assert!(
        log.contains("error: spec.regions[1].priority: priority 1 is also used by regions[0]"),
        "{log}"
    );

    // With a terminal, the user sees the message itself: run helm under a pseudo-terminal.
    let Some(script) = ["/usr/bin/script", "/bin/script"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
    else {
        infera_test_support::skip(
            "SKIPPED: `script` (util-linux) is missing, so the terminal path of post-render errors was NOT checked",
        );
        return;
    };
    let command = std::iter::once(helm.helm.display().to_string())
        .chain(["template", "rel"].iter().map(|s| (*s).to_owned()))
        .chain(std::iter::once(
            workspace().join("tests/chart").display().to_string(),
        ))
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .envs(helm.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    let (terminal, _) = text(&output);
    assert!(
        terminal.contains("infera-render post-render failed (full message in"),
        "{terminal}"
    );
    assert!(
        terminal.contains("spec.regions[1].priority: priority 1 is also used by regions[0]"),
        "{terminal}"
    );
}

#[test]
fn every_rendered_string_survives_kubectls_yaml_decoder() {
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for (example, regions) in crate::common::render_examples_in_both_phases(dir.path()) {
        let mut files: Vec<PathBuf> = Vec::new();
        for region in regions {
            for file in std::fs::read_dir(region)
                .expect("read")
                .filter_map(Result::ok)
            {
                if file.file_name() != "kustomization.yaml" {
                    files.push(file.path());
                }
            }
        }
        files.sort();
        let mut command = Command::new(&kubectl);
        command.args(["label", "--local", "-o", "json"]);
        for file in &files {
            command.arg("-f").arg(file);
        }
        let output = command.arg("x=y").output().expect("run kubectl");
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{example}: {stderr}");
        let decoded: Vec<Value> = serde_json::Deserializer::from_str(&stdout)
            .into_iter::<Value>()
            .map(|v| v.expect("JSON"))
            .flat_map(|v| {
                if v["kind"] == "List" {
                    v["items"].as_array().cloned().unwrap_or_default()
                } else {
                    vec![v]
                }
            })
            .collect();
        assert_eq!(decoded.len(), files.len(), "{example}");
        for (file, mut seen) in files.iter().zip(decoded) {
            let ours: Value = serde_saphyr::from_str(&std::fs::read_to_string(file).expect("read"))
                .expect("our YAML");
            if let Some(labels) = seen
                .pointer_mut("/metadata/labels")
                .and_then(Value::as_object_mut)
            {
                labels.remove("x");
                if labels.is_empty() {
                    seen["metadata"]
                        .as_object_mut()
                        .expect("metadata")
                        .remove("labels");
                }
            }
            assert_eq!(
                seen,
                ours,
                "{}: kubectl read something else",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} files checked");
}

/// The chart owns engine and control in post-render mode, and its pods carry its own labels:
/// infera-render's NetworkPolicies would admit none of them to FoundationDB, so the
/// post-renderer refuses them with the field to change instead of cutting the apps off.
#[test]
fn post_render_refuses_network_policies_it_cannot_fit_to_the_chart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = std::fs::read_to_string(workspace().join("examples/two-region-satellites.yaml"))
        .expect("read the example");
    let spec = dir.path().join("spec.yaml");
    std::fs::write(
        &spec,
        source.replacen("spec:\n", "spec:\n  network_policies: {enabled: true}\n", 1),
    )
    .expect("write the spec");
    let chart = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: rel-engine}\nspec:\n  selector: {matchLabels: {app.kubernetes.io/name: inferadb-engine}}\n  template:\n    metadata: {labels: {app.kubernetes.io/name: inferadb-engine, app.kubernetes.io/instance: rel}}\n    spec: {containers: [{name: engine, image: engine:1}]}\n";
    let result = crate::common::run_with_stdin(
        &[
            "post-render",
            "-f",
            spec.to_str().expect("utf-8"),
            "--region",
            "us-west-1",
            "--seed-connection-string",
            crate::common::TEST_SEED,
        ],
        chart.as_bytes(),
    );
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert_eq!(result.stdout, "", "nothing goes to Helm");
    assert!(
        result
            .stderr
            .contains("error: spec.network_policies.enabled: the Helm post-renderer leaves engine and control to the chart"),
        "{}",
        result.stderr
    );
}
