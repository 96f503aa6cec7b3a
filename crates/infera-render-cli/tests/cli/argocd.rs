//! The Argo CD plugin (`integrations/argocd/`), run as Argo CD runs it: the `generate` and
//! `discover` commands exactly as `plugin.yaml` states them, through `sh -c`, in the
//! Application's source folder, with the sidecar's environment, Argo CD's build environment and
//! the Application's `plugin.env` prefixed `ARGOCD_ENV_` (argo-cd:cmpserver/plugin/plugin.go,
//! `runCommand`, `matchRepository` and `environ`, which drops empty values). Every region of every example in
//! both phases renders what `infera-render render --region` renders; every failure exits
//! non-zero with nothing on standard output, since Argo CD would prune every object of the region
//! on an empty list. The ApplicationSet example, the Dockerfile and the repo-server patch are
//! checked against the plugin and against what Argo CD requires of a sidecar.

#![allow(clippy::panic)]

use crate::common::{binary, run, tool, workspace};
use infera_test_support::{TEST_SEED, validate_native_objects};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn folder() -> PathBuf {
    workspace().join("integrations/argocd")
}

fn yaml(file: &str) -> Value {
    let text = std::fs::read_to_string(folder().join(file)).expect("read the integration file");
    let mut documents = infera_render::parse_manifests(&text).expect("the file is YAML");
    assert_eq!(documents.len(), 1, "{file} holds one document");
    documents.remove(0)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}

/// A command of `plugin.yaml`: `command` followed by `args`, as `runCommand` joins them.
fn plugin_command(pointer: &str) -> Vec<String> {
    let plugin = yaml("plugin.yaml");
    let step = plugin
        .pointer(pointer)
        .expect("the command is in plugin.yaml");
    let mut argv = strings(&step["command"]);
    if let Some(args) = step.get("args") {
        argv.extend(strings(args));
    }
    argv
}

/// A `PATH` whose first folder holds `infera-render` (this build), then the system's.
fn path_with(bin: &Path) -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display())
}

/// A folder holding this build's binary as `infera-render`, as the sidecar image has it.
fn sidecar_bin(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::os::unix::fs::symlink(binary(), bin.join("infera-render")).expect("symlink");
    bin
}

/// Argo CD's build environment for an Application (argo-cd:docs/user-guide/build-environment.md).
fn build_env() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("ARGOCD_APP_NAME", "inferadb-region"),
        ("ARGOCD_APP_NAMESPACE", "inferadb"),
        ("ARGOCD_APP_PROJECT_NAME", "default"),
        (
            "ARGOCD_APP_REVISION",
            "0123456789abcdef0123456789abcdef01234567",
        ),
        ("ARGOCD_APP_REVISION_SHORT", "0123456"),
        ("ARGOCD_APP_SOURCE_PATH", "examples"),
        (
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/inferadb.git",
        ),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main"),
        ("KUBE_VERSION", "1.33.0"),
        (
            "KUBE_API_VERSIONS",
            "v1,apps/v1,apps.foundationdb.org/v1beta2",
        ),
    ])
}

/// Runs `generate` in `dir` with the Application's `plugin.env` (`name -> value`, without the
/// prefix), as the CMP server does: values that are empty are not passed at all (its `environ`).
fn generate(bin: &Path, dir: &Path, plugin_env: &[(&str, &str)]) -> Output {
    generate_with(bin, dir, plugin_env, false)
}

/// [`generate`], passing empty values as empty variables when `keep_empty`.
fn generate_with(bin: &Path, dir: &Path, plugin_env: &[(&str, &str)], keep_empty: bool) -> Output {
    let argv = plugin_command("/spec/generate");
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_with(bin))
        .env("HOME", dir)
        .envs(build_env());
    for (name, value) in plugin_env {
        if keep_empty || !value.is_empty() {
            command.env(format!("ARGOCD_ENV_{name}"), value);
        }
    }
    command.output().expect("run the generate command")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The region ids of a spec, in its order.
fn regions(spec: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(spec).expect("read the spec");
    let documents = infera_render::parse_manifests(&source).expect("the spec is YAML");
    documents[0]["spec"]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|region| region["id"].as_str().expect("id").to_owned())
        .collect()
}

/// What Argo CD does with the output: trims one trailing newline and splits it into documents
/// (`kube.SplitYAMLToString`); each must be an object with a kind and a name.
fn objects(stdout: &str) -> Vec<Value> {
    let documents = infera_render::parse_manifests(stdout).expect("the output is YAML");
    for document in &documents {
        assert!(
            document["kind"].is_string() && document["metadata"]["name"].is_string(),
            "not a Kubernetes object: {document}"
        );
    }
    documents
}

#[test]
fn generate_renders_every_region_of_every_example_in_both_phases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = sidecar_bin(dir.path());
    let examples = workspace().join("examples");
    let mut checked = 0;
    for (name, path) in infera_test_support::example_files() {
        for region in regions(&path) {
            for seed in ["", TEST_SEED] {
                let output = generate(
                    &bin,
                    &examples,
                    &[("REGION", &region), ("SPEC", &name), ("SEED", seed)],
                );
                let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
                assert!(
                    output.status.success(),
                    "{name} {region} seed={seed:?}: {stderr}"
                );
                let mut args = vec!["render", "-f", &path.to_str().expect("utf-8"), "--region"];
                args.push(&region);
                if !seed.is_empty() {
                    args.extend(["--seed-connection-string", seed]);
                }
                let direct = run(&args);
                assert_eq!(direct.code, 0, "{}", direct.stderr);
                assert_eq!(
                    stdout.trim_end(),
                    direct.stdout.trim_end(),
                    "{name} {region}: the plugin renders what `render --region` renders"
                );
                assert!(!objects(&stdout).is_empty(), "{name} {region}: no objects");
                checked += 1;
            }
        }
    }
    assert!(checked >= 30, "only {checked} renders checked");
}

#[test]
fn generate_reads_infera_yaml_by_default_and_the_crds_of_crds_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = sidecar_bin(dir.path());
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join("crds")).expect("mkdir");
    std::fs::copy(
        workspace().join("examples/single-region.yaml"),
        app.join("infera.yaml"),
    )
    .expect("copy the spec");
    let output = generate(&bin, &app, &[("REGION", "us-east-1")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let kinds: Vec<Value> = objects(&text(&output.stdout))
        .iter()
        .map(|object| object["kind"].clone())
        .collect();
    assert!(
        kinds.contains(&Value::from("FoundationDBCluster")),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&Value::from("CustomResourceDefinition")));

    // CRDS_DIR passes the folder to --crds-dir: the operator's CRDs join the bundle.
    let Some(crd) = crate::common::operator_reference(
        "v2.33.0",
        "apps.foundationdb.org_foundationdbclusters.yaml",
    ) else {
        return;
    };
    for entry in std::fs::read_dir(crd.parent().expect("folder")).expect("read the CRDs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(
                &path,
                app.join("crds").join(path.file_name().expect("name")),
            )
            .expect("copy a CRD");
        }
    }
    let output = generate(&bin, &app, &[("REGION", "us-east-1"), ("CRDS_DIR", "crds")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let crds = objects(&text(&output.stdout))
        .iter()
        .filter(|object| object["kind"] == "CustomResourceDefinition")
        .count();
    assert_eq!(crds, 3, "CRDS_DIR adds the operator's three CRDs");
}

/// The failure must reach Argo CD as a failed generation with the message, never as output.
fn assert_fails(output: &Output, message: &str) {
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(!output.status.success(), "exit 0; stderr: {stderr}");
    assert!(
        stdout.is_empty(),
        "a failed generation printed to standard output: {stdout}"
    );
    assert!(
        stderr.contains(message),
        "stderr does not say {message:?}: {stderr}"
    );
}

#[test]
fn generate_fails_loudly_with_nothing_on_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = sidecar_bin(dir.path());
    let examples = workspace().join("examples");
    // No REGION (Argo CD passes no variable for an empty value).
    assert_fails(
        &generate(&bin, &examples, &[("SPEC", "two-region.yaml")]),
        "set REGION in the Application's spec.source.plugin.env",
    );
    // An empty REGION, should one reach the plugin as an empty variable.
    assert_fails(
        &generate_with(
            &bin,
            &examples,
            &[("REGION", ""), ("SPEC", "two-region.yaml")],
            true,
        ),
        "set REGION in the Application's spec.source.plugin.env",
    );
    // A region the spec does not have.
    assert_fails(
        &generate(
            &bin,
            &examples,
            &[("REGION", "mars-north-1"), ("SPEC", "two-region.yaml")],
        ),
        "mars-north-1",
    );
    // No spec file under the default name.
    assert_fails(
        &generate(&bin, dir.path(), &[("REGION", "us-west-1")]),
        "infera.yaml",
    );
    // An invalid spec: the diagnostics, with the field path.
    let invalid = workspace().join("tests/invalid");
    assert_fails(
        &generate(
            &bin,
            &invalid,
            &[
                ("REGION", "us-west-1"),
                ("SPEC", "19-replicas-negative.yaml"),
            ],
        ),
        "19-replicas-negative.yaml",
    );
    // No binary in the image.
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).expect("mkdir");
    assert_fails(
        &generate(
            &empty,
            &examples,
            &[("REGION", "us-west-1"), ("SPEC", "two-region.yaml")],
        ),
        "infera-render",
    );
    // A binary that prints an object and then fails: nothing of it reaches Argo CD.
    let partial = dir.path().join("partial-bin");
    std::fs::create_dir_all(&partial).expect("mkdir");
    let fake = partial.join("infera-render");
    std::fs::write(
        &fake,
        "#!/bin/sh\nprintf 'apiVersion: v1\\nkind: Namespace\\nmetadata: {name: x}\\n'\necho 'failed halfway' >&2\nexit 3\n",
    )
    .expect("write");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    assert_fails(
        &generate(
            &partial,
            &examples,
            &[("REGION", "us-west-1"), ("SPEC", "two-region.yaml")],
        ),
        "failed halfway",
    );
    // A binary that exits 0 without printing anything: refused, not handed on as an empty list.
    let silent = dir.path().join("silent-bin");
    std::fs::create_dir_all(&silent).expect("mkdir");
    let fake = silent.join("infera-render");
    std::fs::write(&fake, "#!/bin/sh\nexit 0\n").expect("write");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    assert_fails(
        &generate(
            &silent,
            &examples,
            &[("REGION", "us-west-1"), ("SPEC", "two-region.yaml")],
        ),
        "refusing to hand Argo CD an empty list",
    );
}

/// `discover` runs in the Application's source folder with the sidecar's environment and the
/// Application's plugin env (argo-cd:cmpserver/plugin/plugin.go, `matchRepository`): it
/// matches when it prints something, and must exit 0 either way.
fn discover(app: &Path, plugin_env: &[(&str, &str)]) -> Output {
    let argv = plugin_command("/spec/discover/find");
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .current_dir(app)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (name, value) in plugin_env {
        command.env(format!("ARGOCD_ENV_{name}"), value);
    }
    command.output().expect("run the discover command")
}

#[test]
fn discover_matches_an_application_folder_holding_its_spec() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = dir.path().join("deploy/inferadb");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::copy(
        workspace().join("examples/three-region.yaml"),
        app.join("infera.yaml"),
    )
    .expect("copy");
    let matched = |output: &Output| {
        assert!(output.status.success(), "{}", text(&output.stderr));
        !text(&output.stdout).trim().is_empty()
    };
    // The default name, and an empty SPEC (as if unset).
    assert!(matched(&discover(&app, &[])));
    assert!(matched(&discover(&app, &[("SPEC", "")])));
    // SPEC names another file: matched when it is there (the ApplicationSet's case).
    let examples = workspace().join("examples");
    assert!(matched(&discover(
        &examples,
        &[("SPEC", "three-region.yaml")]
    )));
    assert!(
        !matched(&discover(&examples, &[])),
        "examples/ has no infera.yaml"
    );
    assert!(!matched(&discover(&app, &[("SPEC", "missing.yaml")])));
    // A folder of ordinary manifests: no match, and no error.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(
        other.join("deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\n",
    )
    .expect("write");
    assert!(!matched(&discover(&other, &[])));
}

/// The ApplicationSet's template with one list element's values put in (`{{.key}}`).
fn expand(template: &Value, element: &Value) -> Value {
    let mut source = template.to_string();
    for (key, value) in element.as_object().expect("an element is a mapping") {
        source = source.replace(
            &format!("{{{{.{key}}}}}"),
            value.as_str().expect("a string value"),
        );
    }
    assert!(!source.contains("{{"), "unexpanded template: {source}");
    serde_json::from_str(&source).expect("JSON")
}

#[test]
fn the_application_set_renders_each_region_through_the_plugin() {
    let set = yaml("applicationset.yaml");
    let plugin = yaml("plugin.yaml");
    let plugin_name = format!(
        "{}-{}",
        plugin["metadata"]["name"].as_str().expect("name"),
        plugin["spec"]["version"].as_str().expect("version")
    );
    let generator = &set["spec"]["generators"][0]["list"]["elements"];
    let elements = generator.as_array().expect("list elements");
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = sidecar_bin(dir.path());

    let mut covered = Vec::new();
    for element in elements {
        let app = expand(&set["spec"]["template"], element);
        let source = &app["spec"]["source"];
        assert_eq!(
            source["plugin"]["name"], plugin_name,
            "Applications name the plugin <name>-<version>"
        );
        let env: Vec<(String, String)> = source["plugin"]["env"]
            .as_array()
            .expect("plugin env")
            .iter()
            .map(|entry| {
                (
                    entry["name"].as_str().expect("name").to_owned(),
                    entry["value"].as_str().expect("value").to_owned(),
                )
            })
            .collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let path = workspace().join(source["path"].as_str().expect("path"));
        let output = generate(&bin, &path, &env);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let objects = objects(&text(&output.stdout));
        // The destination namespace is the region's namespace in the bundle.
        let namespace = app["spec"]["destination"]["namespace"].clone();
        assert!(
            objects
                .iter()
                .any(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == namespace),
            "the bundle has no Namespace {namespace}"
        );
        let options = strings(&app["spec"]["syncPolicy"]["syncOptions"]);
        assert!(options.contains(&"ServerSideApply=true".to_owned()));
        let spec = env
            .iter()
            .find(|(name, _)| *name == "SPEC")
            .map_or("infera.yaml", |(_, value)| value);
        covered.push((
            path.join(spec),
            element["region"].as_str().expect("region").to_owned(),
        ));
    }
    let spec = covered[0].0.clone();
    assert!(covered.iter().all(|(path, _)| *path == spec));
    let mut listed: Vec<String> = covered.into_iter().map(|(_, region)| region).collect();
    let mut expected = regions(&spec);
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "one Application per region of the spec");
}

/// `FROM`-stage lines of the Dockerfile's last stage.
fn final_stage() -> Vec<String> {
    let dockerfile =
        std::fs::read_to_string(folder().join("Dockerfile")).expect("read the Dockerfile");
    let lines: Vec<String> = dockerfile
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let last = lines
        .iter()
        .rposition(|line| line.starts_with("FROM "))
        .expect("a FROM line");
    lines[last..].to_vec()
}

const CONFIG: &str = "/home/argocd/cmp-server/config/plugin.yaml";

#[test]
fn the_image_and_the_sidecar_meet_argo_cds_requirements() {
    // The image: plugin.yaml where the CMP server reads it, the binary on the default PATH
    // under the name plugin.yaml runs, UID 999.
    let stage = final_stage();
    assert!(
        stage.contains(&format!("COPY integrations/argocd/plugin.yaml {CONFIG}")),
        "{stage:?}"
    );
    let program = plugin_command("/spec/generate")[2].clone();
    assert!(program.contains("infera-render render"), "{program}");
    assert!(
        stage
            .iter()
            .any(|line| line.starts_with("COPY --from=build")
                && line.ends_with(" /usr/local/bin/infera-render")),
        "{stage:?}"
    );
    assert!(stage.contains(&"USER 999:999".to_owned()), "{stage:?}");
    // `COPY . .` from the repository root: the build folders stay out of the context.
    let ignored =
        std::fs::read_to_string(workspace().join(".dockerignore")).expect(".dockerignore");
    for folder in ["target/", ".tools/", ".git/"] {
        assert!(
            ignored.lines().any(|line| line == folder),
            "{folder} is not in .dockerignore"
        );
    }

    // The sidecar, patched into a repo-server shaped like Argo CD's install.yaml: the real
    // kustomize merges it and the result is a valid Deployment.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("repo-server.yaml"), REPO_SERVER).expect("write");
    std::fs::copy(
        folder().join("repo-server-patch.yaml"),
        dir.path().join("repo-server-patch.yaml"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [repo-server.yaml]\npatches:\n  - path: repo-server-patch.yaml\n",
    )
    .expect("write");
    let Some(kubectl) = tool("kubectl") else {
        return;
    };
    let output = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .expect("run kubectl kustomize");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let merged = text(&output.stdout);
    validate_native_objects(std::slice::from_ref(&merged));
    let deployment = &infera_render::parse_manifests(&merged).expect("YAML")[0];
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(
        containers.len(),
        2,
        "the repo-server keeps its own container"
    );
    let sidecar = containers
        .iter()
        .find(|c| c["name"] == "infera-render")
        .expect("the sidecar");
    assert_eq!(
        strings(&sidecar["command"]),
        ["/var/run/argocd/argocd-cmp-server"]
    );
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let mounts: BTreeMap<String, String> = sidecar["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| {
            (
                m["mountPath"].as_str().expect("path").to_owned(),
                m["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect();
    assert_eq!(mounts["/var/run/argocd"], "var-files");
    assert_eq!(mounts["/home/argocd/cmp-server/plugins"], "plugins");
    assert!(
        !mounts.contains_key(CONFIG),
        "plugin.yaml is baked into the image; a ConfigMap over it would hide it"
    );
    // Its own /tmp, never the repo-server's (the docs: "do NOT mount the same tmp volume").
    let tmp = &mounts["/tmp"];
    assert_ne!(tmp, "tmp");
    let volumes = pod["volumes"].as_array().expect("volumes");
    assert!(
        volumes
            .iter()
            .any(|v| v["name"] == tmp.as_str() && v["emptyDir"].is_object()),
        "{volumes:?}"
    );
}

/// The parts of Argo CD's `argocd-repo-server` Deployment the patch relies on
/// (argo-cd:manifests/base/repo-server/argocd-repo-server-deployment.yaml): the container with
/// its own `/tmp` and the `plugins` folder, and the `copyutil` init container that puts
/// `argocd-cmp-server` into the `var-files` volume.
const REPO_SERVER: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
  labels: {app.kubernetes.io/name: argocd-repo-server}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      initContainers:
        - name: copyutil
          image: quay.io/argoproj/argocd:v3.1.0
          command: [sh, -c]
          args: [/bin/cp /usr/local/bin/argocd /var/run/argocd/argocd-cmp-server]
          volumeMounts:
            - {name: var-files, mountPath: /var/run/argocd}
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v3.1.0
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            - {name: plugins, mountPath: /home/argocd/cmp-server/plugins}
      volumes:
        - {name: var-files, emptyDir: {}}
        - {name: plugins, emptyDir: {}}
        - {name: tmp, emptyDir: {}}
"#;
