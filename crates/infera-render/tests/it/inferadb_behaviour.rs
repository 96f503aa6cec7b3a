//! What the InferaDB binaries do with the rendered engine and control, tested against their
//! logic at the FoundationDB-capable commits (engine `a31e3c3`, control `550b7d6`; the rules are
//! restated here in our own words, with the upstream lines cited) and, where it can run here,
//! by executing the rendered command exactly as rendered:
//!
//! - control reaches the engine where the engine listens, and accepts the engine's tokens;
//! - every engine replica, in every region, signs with one key from one Secret the user makes;
//! - every cluster file a FoundationDB client opens is on a writable volume, the same one for
//!   every client of the pod, owned by the user they all run as;
//! - the wait step copies the cluster file, keeps a newer one, and refuses a bad master key.

#![allow(clippy::panic)]

use crate::support::{TEST_SEED, containers, examples, renders};
use infera_render::{PostRenderOptions, Rendered, post_render};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Every pod template of an engine or control Deployment: `(label, region, namespace, app,
/// pod spec)`.
fn app_pods(rendered: &[(String, Rendered)]) -> Vec<(String, String, String, String, Value)> {
    let mut out = Vec::new();
    for (name, rendered) in rendered {
        for bundle in &rendered.regions {
            for object in &bundle.objects {
                if object.kind == "Deployment" && object.name.starts_with("inferadb-") {
                    out.push((
                        name.clone(),
                        bundle.id.clone(),
                        bundle.namespace.clone(),
                        object.name.clone(),
                        object.value["spec"]["template"]["spec"].clone(),
                    ));
                }
            }
        }
    }
    out
}

fn env_value(container: &Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|var| var["name"] == name)?
        .get("value")?
        .as_str()
        .map(str::to_owned)
}

fn main_container(pod: &Value) -> Value {
    pod["containers"][0].clone()
}

/// `http://host[:port][/path]` split into host and port.
fn host_and_port(url: &str) -> (String, Option<u16>) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("`{url}` is not an http URL"));
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rsplit_once(':') {
        Some((host, port)) => (
            host.to_owned(),
            Some(
                port.parse()
                    .unwrap_or_else(|_| panic!("`{url}`: `{port}` is not a port")),
            ),
        ),
        None => (authority.to_owned(), None),
    }
}

/// What a connection to `host:port` from a pod in `namespace` reaches: the Service named by
/// the cluster DNS name, its port, the Deployment whose pods it selects, and the container port
/// its `targetPort` names. `None` when any link is missing.
fn reach(bundle: &[Value], namespace: &str, host: &str, port: u16) -> Option<(String, u16)> {
    let service_name = host.strip_suffix(&format!(".{namespace}.svc"))?;
    let service = bundle
        .iter()
        .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == service_name)?;
    let service_port = service["spec"]["ports"]
        .as_array()?
        .iter()
        .find(|p| p["port"].as_u64() == Some(u64::from(port)))?;
    let selector = service["spec"]["selector"].as_object()?;
    for object in bundle.iter().filter(|o| o["kind"] == "Deployment") {
        let labels = &object["spec"]["template"]["metadata"]["labels"];
        if selector.iter().all(|(key, value)| &labels[key] == value) {
            let container = &object["spec"]["template"]["spec"]["containers"][0];
            let target = &service_port["targetPort"];
            let number = container["ports"].as_array()?.iter().find_map(|p| {
                let named = target.as_str().is_some_and(|name| p["name"] == name);
                let numbered = target.as_u64().is_some() && p["containerPort"] == *target;
                (named || numbered).then(|| p["containerPort"].as_u64())?
            })?;
            return Some((
                object["metadata"]["name"].as_str()?.to_owned(),
                u16::try_from(number).ok()?,
            ));
        }
    }
    None
}

/// The port a binary listens on for `listener` (`HTTP`, `MESH`): `LISTEN__<listener>`.
fn listens(container: &Value, prefix: &str, listener: &str) -> Option<u16> {
    env_value(container, &format!("{prefix}LISTEN__{listener}"))?
        .rsplit_once(':')?
        .1
        .parse()
        .ok()
}

/// Control builds its engine URLs as `mesh.url:mesh.grpc` (the engine client, which calls the
/// engine's REST API on that port) and `mesh.url:mesh.port` (the JWKS it verifies the engine's
/// tokens with) (control@550b7d6:crates/inferadb-control-config/src/lib.rs:400-420, main.rs:
/// 189-196, crates/inferadb-control-engine-client/src/client.rs:179-216). The engine signs its
/// tokens with `aud` = its own `mesh.url` (engine@a31e3c3:
/// crates/inferadb-engine-control-client/src/client.rs:61-81), and control accepts only
/// `CONTROL_API_AUDIENCE` (control@550b7d6:crates/inferadb-control-api/src/middleware/
/// engine_auth.rs:185-189, default `http://localhost:8081`).
#[test]
fn control_calls_the_engine_where_it_listens_and_accepts_its_tokens() {
    let mut checked = 0;
    for (name, rendered) in renders() {
        for bundle in &rendered.regions {
            let objects: Vec<Value> = bundle.objects.iter().map(|o| o.value.clone()).collect();
            let deployment = |app: &str| {
                objects
                    .iter()
                    .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == app)
                    .map(|o| o["spec"]["template"]["spec"]["containers"][0].clone())
            };
            let (Some(engine), Some(control)) = (
                deployment("inferadb-engine"),
                deployment("inferadb-control"),
            ) else {
                continue;
            };
            let at = format!("{name}: {}", bundle.id);
            let ns = &bundle.namespace;
            let url = env_value(&control, "INFERADB__CONTROL__MESH__URL")
                .unwrap_or_else(|| panic!("{at}: control has no mesh URL"));
            let (host, port) = host_and_port(&url);
            assert_eq!(port, None, "{at}: control appends its own port to `{url}`");
            let grpc: u16 = env_value(&control, "INFERADB__CONTROL__MESH__GRPC")
                .and_then(|p| p.parse().ok())
                .unwrap_or(8081);
            let mesh: u16 = env_value(&control, "INFERADB__CONTROL__MESH__PORT")
                .and_then(|p| p.parse().ok())
                .unwrap_or(8082);
            for (what, port, listener) in [("API", grpc, "HTTP"), ("JWKS", mesh, "MESH")] {
                let reached = reach(&objects, ns, &host, port);
                assert_eq!(
                    reached,
                    Some((
                        "inferadb-engine".to_owned(),
                        listens(&engine, "INFERADB__ENGINE__", listener).expect("a listener")
                    )),
                    "{at}: control calls the engine's {what} at {url}:{port}"
                );
            }
            let engine_url = env_value(&engine, "INFERADB__ENGINE__MESH__URL")
                .unwrap_or_else(|| panic!("{at}: the engine has no mesh URL"));
            let (control_host, control_port) = host_and_port(&engine_url);
            assert_eq!(
                reach(
                    &objects,
                    ns,
                    &control_host,
                    control_port.expect("the engine's mesh URL has a port")
                ),
                Some((
                    "inferadb-control".to_owned(),
                    listens(&control, "INFERADB__CONTROL__", "MESH").expect("a listener")
                )),
                "{at}: the engine calls control's mesh at {engine_url}"
            );
            assert_eq!(
                env_value(&control, "CONTROL_API_AUDIENCE"),
                Some(engine_url),
                "{at}: control must accept exactly the audience the engine signs with"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15, "only {checked} regions checked");
}

/// The engine signs with `INFERADB__ENGINE__PEM`, or makes up a key per pod (and prints it)
/// (engine@a31e3c3:crates/inferadb-engine/src/main.rs:175-187); control verifies a token
/// against the JWKS of whichever engine pod its Service picks, so every replica needs the same
/// key. It must be a PEM `PRIVATE KEY` whose last 32 bytes are the Ed25519 key
/// (crates/inferadb-engine-control-client/src/identity.rs:94-120).
#[test]
fn every_engine_replica_signs_with_one_key_the_user_makes() {
    let mut checked = 0;
    for (name, rendered) in renders() {
        let mut keys = BTreeSet::new();
        for bundle in &rendered.regions {
            for object in bundle
                .objects
                .iter()
                .filter(|o| o.kind == "Deployment" && o.name == "inferadb-engine")
            {
                let container = &object.value["spec"]["template"]["spec"]["containers"][0];
                let pem = container["env"]
                    .as_array()
                    .and_then(|env| env.iter().find(|v| v["name"] == "INFERADB__ENGINE__PEM"))
                    .unwrap_or_else(|| panic!("{name}: {}: no signing key", bundle.id));
                assert!(
                    pem.get("value").is_none(),
                    "{name}: the key is never inline"
                );
                let reference = &pem["valueFrom"]["secretKeyRef"];
                let secret = reference["name"].as_str().expect("a Secret").to_owned();
                let key = reference["key"].as_str().expect("a key").to_owned();
                assert!(
                    rendered.apply_guide.contains(&format!(
                        "-n {} create secret generic {secret} --from-file={key}=engine-identity.pem",
                        bundle.namespace
                    )),
                    "{name}: APPLY.md does not create {secret} in {}",
                    bundle.id
                );
                keys.insert((secret, key));
                checked += 1;
            }
            assert!(
                !bundle
                    .objects
                    .iter()
                    .any(|o| o.kind == "Secret" && keys.iter().any(|(s, _)| *s == o.name)),
                "{name}: the signing key is never in the output"
            );
        }
        assert!(
            keys.len() <= 1,
            "{name}: regions sign with different keys: {keys:?}"
        );
    }
    assert!(checked >= 15, "only {checked} engine Deployments checked");
}

fn run_in(dir: &Path, command: &str) {
    let status = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .status()
        .expect("sh runs");
    assert!(status.success(), "`{command}` failed");
}

/// The key files APPLY.md makes are what the binaries accept: a PEM `PRIVATE KEY` holding a
/// PKCS#8 Ed25519 key (its DER ends with the 32 key bytes the engine takes), and exactly 32
/// bytes for control (control@550b7d6:crates/inferadb-control-core/src/crypto.rs:28-41).
#[test]
fn the_key_files_apply_md_makes_are_what_the_binaries_accept() {
    let rendered = renders()
        .into_iter()
        .find(|(name, _)| name.starts_with("single-region"))
        .expect("single-region")
        .1;
    let command = |start: &str| {
        rendered
            .apply_guide
            .lines()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("APPLY.md has no `{start}...` line"))
            .to_owned()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    if Command::new("openssl").arg("version").output().is_err() {
        infera_test_support::skip(
            "SKIPPED: openssl is not installed, so the engine key command did NOT run",
        );
    } else {
        run_in(dir.path(), &command("openssl genpkey"));
        let pem = std::fs::read_to_string(dir.path().join("engine-identity.pem")).expect("pem");
        assert_eq!(pem.lines().next(), Some("-----BEGIN PRIVATE KEY-----"));
        let der = Command::new("openssl")
            .args(["pkey", "-in", "engine-identity.pem", "-outform", "DER"])
            .current_dir(dir.path())
            .output()
            .expect("openssl runs")
            .stdout;
        // PKCS#8 v1 with the Ed25519 OID (1.3.101.112) and a 32-byte OCTET STRING at the end.
        let prefix = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        assert_eq!(der.len(), 48, "{der:02x?}");
        assert_eq!(&der[..16], &prefix, "{der:02x?}");
    }
    run_in(dir.path(), &command("head -c 32"));
    let key = std::fs::read(dir.path().join("master.key")).expect("master.key");
    assert_eq!(key.len(), 32);
}

/// The FoundationDB clients of a pod: the app (its `*FOUNDATIONDB__CLUSTER_FILE`) and the wait
/// step (`fdbcli -C <file>`), as `(container name, cluster file, container)`.
fn fdb_clients(pod: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for container in containers(pod) {
        let name = container["name"].as_str().unwrap_or_default().to_owned();
        let from_env = container["env"].as_array().and_then(|env| {
            env.iter()
                .find(|v| {
                    v["name"]
                        .as_str()
                        .is_some_and(|n| n.ends_with("__FOUNDATIONDB__CLUSTER_FILE"))
                })
                .and_then(|v| v["value"].as_str().map(str::to_owned))
        });
        let script = container["command"]
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let from_fdbcli = script
            .split_once("fdbcli -C ")
            .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_owned));
        if let Some(file) = from_env.or(from_fdbcli) {
            out.push((name, file, container));
        }
    }
    out
}

/// The volume and mount that hold `path` in `container` (the longest mount path that is a
/// parent of it).
fn volume_of<'a>(pod: &'a Value, container: &Value, path: &str) -> Option<(&'a Value, Value)> {
    let mount = container["volumeMounts"]
        .as_array()?
        .iter()
        .filter(|m| {
            m["mountPath"]
                .as_str()
                .is_some_and(|dir| path.starts_with(&format!("{}/", dir.trim_end_matches('/'))))
        })
        .max_by_key(|m| m["mountPath"].as_str().map_or(0, str::len))?
        .clone();
    let volume = pod["volumes"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == mount["name"])?;
    Some((volume, mount))
}

/// The uid or gid a container runs as: its own, the pod's, or its image's (upstream's InferaDB
/// images run as uid 65532, engine@a31e3c3:Dockerfile `useradd -r -u 65532`, with a system group
/// whose id is not fixed; the FoundationDB image as 4059:4059).
fn run_as(pod: &Value, container: &Value, key: &str) -> Option<i64> {
    let stated = container["securityContext"][key]
        .as_i64()
        .or_else(|| pod["securityContext"][key].as_i64());
    let image = container["image"].as_str().unwrap_or_default();
    stated.or(match (image.starts_with("foundationdb/"), key) {
        (true, _) => Some(4059),
        (false, "runAsUser") => Some(65532),
        (false, _) => None,
    })
}

/// The FoundationDB client rewrites its cluster file whenever the coordinators change, with a
/// temporary file in the same folder renamed over it, chowned to the old file's owner
/// (FDB@7.3.43:fdbclient/ClusterConnectionFile.actor.cpp:148-174, flow/Platform.actor.cpp:
/// 2323-2360). A ConfigMap or Secret volume is always mounted read-only, and a process without
/// `CAP_CHOWN` can give a file only its own uid and one of its groups. So each file is on a
/// writable `emptyDir`, the same one for every client of the pod (what one learns, the others
/// read), every client runs as one uid, and the file's group is one they all have: the pod's
/// fsGroup (the kubelet makes the emptyDir setgid to it and adds it to every container), or else
/// one primary group they share.
fn check_cluster_files(label: &str, pod: &Value) -> usize {
    let clients = fdb_clients(pod);
    assert!(
        clients.len() >= 2,
        "{label}: expected the app and the wait step, found {clients:?}"
    );
    let mut volumes = BTreeSet::new();
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for (name, file, container) in &clients {
        let (volume, mount) = volume_of(pod, container, file)
            .unwrap_or_else(|| panic!("{label}: {name} opens {file}, which no volume holds"));
        assert!(
            volume.get("emptyDir").is_some(),
            "{label}: {name} opens {file} on volume {}, which is not a writable emptyDir",
            volume["name"]
        );
        assert_ne!(
            mount["readOnly"], true,
            "{label}: {name} mounts {file} read-only"
        );
        volumes.insert((volume["name"].to_string(), file.clone()));
        users.insert(run_as(pod, container, "runAsUser"));
        groups.insert(run_as(pod, container, "runAsGroup"));
    }
    assert_eq!(
        volumes.len(),
        1,
        "{label}: clients open different files: {volumes:?}"
    );
    assert_eq!(
        users.len(),
        1,
        "{label}: clients run as different users: {users:?}"
    );
    assert!(!users.contains(&None), "{label}");
    let fs_group = pod["securityContext"]["fsGroup"].as_i64();
    assert!(
        fs_group.is_some() || (groups.len() == 1 && !groups.contains(&None)),
        "{label}: no fsGroup, and the clients' groups differ: {groups:?}"
    );
    clients.len()
}

#[test]
fn every_cluster_file_a_client_opens_is_writable_and_shared_by_the_pod() {
    let mut checked = 0;
    for (name, region, _, app, pod) in app_pods(&renders()) {
        checked += check_cluster_files(&format!("{name}: {region}/{app}"), &pod);
    }
    assert!(checked >= 40, "only {checked} clients checked");
}

/// A chart's engine and control, as Helm would hand them to the post-renderer: the chart sets
/// the engine's mesh URL itself and runs as its own user.
const CHART: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: rel-engine}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: inferadb-engine}}
  template:
    metadata: {labels: {app.kubernetes.io/name: inferadb-engine}}
    spec:
      securityContext: {runAsUser: 1000, runAsGroup: 1000}
      containers:
        - name: engine
          image: registry.example.com/inferadb-engine:fdb-a31e3c3
          env:
            - {name: INFERADB__ENGINE__MESH__URL, value: "http://rel-control.default.svc:9092"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: rel-control}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: inferadb-control}}
  template:
    metadata: {labels: {app.kubernetes.io/name: inferadb-control}}
    spec:
      containers:
        - name: control
          image: registry.example.com/inferadb-control:fdb-1f3c7a2
          securityContext: {runAsUser: 2000}
"#;

#[test]
fn post_rendered_charts_get_the_same_wiring() {
    let spec = examples()
        .into_iter()
        .find(|(file, _)| file == "single-region.yaml")
        .expect("single-region")
        .1;
    let out = post_render(&spec, CHART, &PostRenderOptions::default()).expect("post-renders");
    let documents = infera_render::parse_manifests(&out.output).expect("YAML");
    let pod = |name: &str| {
        documents
            .iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
            .map(|d| d["spec"]["template"]["spec"].clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let (engine, control) = (pod("rel-engine"), pod("rel-control"));
    check_cluster_files("post-rendered rel-engine", &engine);
    check_cluster_files("post-rendered rel-control", &control);
    // Control accepts the audience the chart's engine signs with, not this tool's Service name.
    assert_eq!(
        env_value(&main_container(&control), "CONTROL_API_AUDIENCE").as_deref(),
        Some("http://rel-control.default.svc:9092")
    );
    assert_eq!(
        env_value(&main_container(&engine), "INFERADB__ENGINE__MESH__URL").as_deref(),
        Some("http://rel-control.default.svc:9092"),
        "the chart's mesh URL is kept"
    );
}

/// Runs `script` with `/bin/sh -c` in a private user and mount namespace (`unshare -rm`),
/// with an empty `/etc` holding the pod's volumes at their mount paths as the kubelet mounts
/// them (ConfigMap and Secret volumes, and `readOnly` mounts, read-only), and `bin` first on
/// `PATH`. Returns `(success, stdout, stderr)`, or `None` when `unshare` is unavailable.
fn run_as_mounted(
    script: &str,
    mounts: &[(String, &Path, bool)],
    bin: &Path,
) -> Option<(bool, String, String)> {
    let probe = Command::new("unshare").args(["-rm", "true"]).status();
    if !probe.is_ok_and(|status| status.success()) {
        infera_test_support::skip(
            "SKIPPED: `unshare -rm` is not available here, so the wait step did NOT run",
        );
        return None;
    }
    let mut setup = vec!["set -e".to_owned(), "mount -t tmpfs none /etc".to_owned()];
    for (path, source, read_only) in mounts {
        setup.push(format!("mkdir -p '{path}'"));
        setup.push(format!("mount --bind '{}' '{path}'", source.display()));
        if *read_only {
            setup.push(format!("mount -o remount,bind,ro '{path}'"));
        }
    }
    setup.push(format!(
        "PATH='{}':\"$PATH\" exec /bin/sh -c \"$1\"",
        bin.display()
    ));
    // A wait step that never ends (a copy it never refreshes) fails the test instead of hanging.
    let output = Command::new("timeout")
        .args([
            "60",
            "unshare",
            "-rm",
            "sh",
            "-c",
            &setup.join("\n"),
            "sh",
            script,
        ])
        .output()
        .expect("unshare runs");
    Some((
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// A stand-in for `fdbcli -C <file> ...` that does to the cluster file what the FoundationDB
/// client does once it learns new coordinators: it logs the string it read, replaces the file
/// through a temporary file in its folder with the old file's owner, and logs whether that worked (the real client logs
/// `UnableToChangeConnectionFile` and carries on: ClusterConnectionFile.actor.cpp:148-174), then
/// reports the database available. With `REACHABLE` set, a file holding another connection
/// string reaches no coordinator: the database is reported unavailable.
const FDBCLI: &str = r#"#!/bin/sh
file=$2
written="$(grep -v '^#' "$file")"
printf 'read %s\n' "$written" >> "$LOG"
if [ -n "$REACHABLE" ] && [ "$written" != "$REACHABLE" ]; then
  echo unreachable >> "$LOG"
  echo 'The database is unavailable; type `status'"'"' for more information.'
  exit 0
fi
tmp="$(dirname "$file")/$$.tmp"
# atomicReplace: a temporary file in the folder, given the old file's owner and mode, renamed
# over it (FDB@7.3.43:flow/Platform.actor.cpp:2323-2364).
if { printf '# DO NOT EDIT!\n%s\n' "$MOVED" > "$tmp" && chown --reference="$file" "$tmp" && chmod --reference="$file" "$tmp" && mv "$tmp" "$file"; } 2>/dev/null; then
  echo persisted >> "$LOG"
else
  echo UnableToChangeConnectionFile >> "$LOG"
fi
echo 'The database is available.'
"#;

/// `<dir>/bin` with the stand-in `fdbcli` and a `sleep` that does not wait between attempts.
fn stand_ins(dir: &Path) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    for (tool, text) in [("fdbcli", FDBCLI), ("sleep", "#!/bin/sh\n")] {
        let path = bin.join(tool);
        std::fs::write(&path, text).expect("stand-in");
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    bin
}

/// The wait step of each kind of pod, run exactly as rendered against the volumes its
/// container mounts: it must hand the app a cluster file the client can rewrite, keep a newer
/// file an earlier start left, replace one that reaches no coordinator by the operator's
/// current file, and refuse a master key control would reject.
#[test]
fn the_wait_step_prepares_a_cluster_file_the_client_can_rewrite() {
    let rendered = renders();
    let mut ran = 0;
    for (name, region, _, app, pod) in app_pods(&rendered) {
        if !(name.starts_with("single-region") || name.starts_with("three-region.yaml (seeded)")) {
            continue;
        }
        let wait = containers(&pod)
            .into_iter()
            .find(|c| c["name"] == "wait-for-foundationdb")
            .expect("a wait step");
        let script = wait["command"][2]
            .as_str()
            .expect("sh -c <script>")
            .to_owned();
        let work = tempfile::tempdir().expect("tempdir");
        let bin = stand_ins(work.path());
        // The operator keeps its ConfigMap current; infera-render's own (client regions) is
        // written once.
        let operator_config_map = pod["volumes"].as_array().is_some_and(|volumes| {
            volumes.iter().any(|v| {
                v["configMap"]["name"]
                    .as_str()
                    .is_some_and(|name| name.ends_with("-config"))
            })
        });
        let log = work.path().join("log");
        let run = |master_key: &[u8], earlier: Option<&str>, reachable: Option<&str>| {
            let volumes = work.path().join("volumes");
            let _ = std::fs::remove_dir_all(&volumes);
            let _ = std::fs::remove_file(&log);
            let mut mounts = Vec::new();
            for mount in wait["volumeMounts"].as_array().into_iter().flatten() {
                let path = mount["mountPath"].as_str().unwrap_or_default().to_owned();
                if !path.starts_with("/etc/") {
                    continue; // /tmp stays the host's
                }
                let volume_name = mount["name"].as_str().unwrap_or_default();
                let volume = pod["volumes"]
                    .as_array()
                    .and_then(|v| v.iter().find(|v| v["name"] == volume_name))
                    .expect("the mount's volume");
                let dir = volumes.join(volume_name);
                std::fs::create_dir_all(&dir).expect("volume");
                let items = volume["configMap"]["items"]
                    .as_array()
                    .or(volume["secret"]["items"].as_array())
                    .cloned()
                    .unwrap_or_default();
                for item in items {
                    let file = dir.join(item["path"].as_str().expect("path"));
                    if volume.get("secret").is_some() {
                        std::fs::write(file, master_key).expect("secret");
                    } else {
                        std::fs::write(file, format!("{TEST_SEED}\n")).expect("config map");
                    }
                }
                if let (Some(earlier), Some(_)) = (earlier, volume.get("emptyDir")) {
                    std::fs::write(dir.join("fdb.cluster"), format!("{earlier}\n"))
                        .expect("earlier copy");
                }
                let read_only = mount["readOnly"] == true
                    || volume.get("configMap").is_some()
                    || volume.get("secret").is_some();
                mounts.push((path, dir, read_only));
            }
            let borrowed: Vec<(String, &Path, bool)> = mounts
                .iter()
                .map(|(p, d, r)| (p.clone(), d.as_path(), *r))
                .collect();
            // SAFETY of the environment: the stand-in reads these two.
            let script = format!(
                "export LOG='{}' MOVED='inferadb_fdb:S33dC0nnect10n@10.10.3.1:4501' REACHABLE='{}'\n{script}",
                log.display(),
                reachable.unwrap_or_default()
            );
            let result = run_as_mounted(&script, &borrowed, &bin);
            let file = mounts
                .iter()
                .find(|(path, _, _)| path == "/etc/foundationdb")
                .map(|(_, dir, _)| {
                    std::fs::read_to_string(dir.join("fdb.cluster")).unwrap_or_default()
                });
            (
                result,
                std::fs::read_to_string(&log).unwrap_or_default(),
                file,
            )
        };
        let at = format!("{name}: {region}/{app}");
        let (result, log_text, file) = run(&[7u8; 32], None, None);
        let Some((ok, stdout, stderr)) = result else {
            return;
        };
        assert!(ok, "{at}: {stdout}{stderr}");
        assert!(
            log_text.starts_with(&format!("read {TEST_SEED}\n")),
            "{at}: the client read {log_text:?}"
        );
        assert!(log_text.contains("persisted"), "{at}: {log_text}");
        assert!(
            file.is_some_and(|f| f.contains("10.10.3.1:4501")),
            "{at}: the app does not see what the client learnt"
        );
        // A pod that started before keeps what its client learnt since.
        let (result, log_text, _) = run(&[7u8; 32], Some("earlier:cluster@10.10.9.9:4501"), None);
        assert!(result.is_some_and(|(ok, _, _)| ok), "{at}");
        assert!(
            log_text.starts_with("read earlier:cluster@10.10.9.9:4501\n"),
            "{at}: the copy from the ConfigMap replaced a newer file: {log_text}"
        );
        if operator_config_map {
            // A copy whose coordinators are all gone is replaced by the operator's current file.
            let (result, log_text, file) = run(
                &[7u8; 32],
                Some("stale:cluster@10.10.8.8:4501"),
                Some(TEST_SEED),
            );
            assert!(result.is_some_and(|(ok, _, _)| ok), "{at}");
            assert_eq!(
                log_text,
                format!(
                    "read stale:cluster@10.10.8.8:4501\nunreachable\nread {TEST_SEED}\npersisted\n"
                ),
                "{at}"
            );
            assert!(file.is_some_and(|f| f.contains("10.10.3.1:4501")), "{at}");
        }
        if app == "inferadb-control" {
            // A base64 text key (44 bytes) passes control's startup and fails on first use;
            // the wait step stops it before.
            let (result, log_text, _) =
                run(b"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", None, None);
            let (ok, _, stderr) = result.expect("unshare ran before");
            assert!(!ok, "{at}: a 44-byte master key was accepted");
            assert!(stderr.contains("holds 44 bytes"), "{at}: {stderr}");
            assert!(!stderr.contains("AAEC"), "{at}: the message shows the key");
            assert!(log_text.is_empty(), "{at}: it went on to FoundationDB");
        }
        ran += 1;
    }
    assert!(ran >= 4, "only {ran} wait steps ran");
}

/// Prometheus scrapes every endpoint of every Service a ServiceMonitor selects; the engine's
/// headless Service selects the same pods as the main one, so a monitor that selected both would
/// scrape each pod twice.
#[test]
fn each_monitor_scrapes_each_pod_once() {
    let mut checked = 0;
    for (name, rendered) in renders() {
        for bundle in &rendered.regions {
            for monitor in bundle.objects.iter().filter(|o| o.kind == "ServiceMonitor") {
                let wanted = monitor.value["spec"]["selector"]["matchLabels"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let selected: Vec<&str> = bundle
                    .objects
                    .iter()
                    .filter(|o| o.kind == "Service")
                    .filter(|o| {
                        let labels = &o.value["metadata"]["labels"];
                        wanted.iter().all(|(key, value)| &labels[key] == value)
                    })
                    .map(|o| o.name.as_str())
                    .collect();
                assert_eq!(
                    selected.len(),
                    1,
                    "{name}: {}/{} selects {selected:?}",
                    bundle.id,
                    monitor.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "only {checked} ServiceMonitors checked");
}

/// A declared port that nothing binds refuses every connection: each container port and each
/// Service port of engine and control is one the binary listens on (`LISTEN__HTTP`,
/// `LISTEN__MESH`; neither serves its gRPC address).
#[test]
fn only_ports_the_binaries_bind_are_declared() {
    for (name, region, _, app, pod) in app_pods(&renders()) {
        let container = main_container(&pod);
        let prefix = if app == "inferadb-engine" {
            "INFERADB__ENGINE__"
        } else {
            "INFERADB__CONTROL__"
        };
        let bound: BTreeSet<u64> = ["HTTP", "MESH"]
            .iter()
            .filter_map(|listener| listens(&container, prefix, listener).map(u64::from))
            .collect();
        let declared: BTreeSet<u64> = container["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["containerPort"].as_u64())
            .collect();
        assert_eq!(declared, bound, "{name}: {region}/{app}");
    }
}

fn fdb_version_errors(mutate: impl Fn(&mut infera_render::spec::MultiRegionSpec)) -> Vec<String> {
    let mut spec = examples()
        .into_iter()
        .find(|(file, _)| file == "single-region.yaml")
        .expect("single-region")
        .1;
    mutate(&mut spec);
    match infera_render::plan(&spec, &infera_render::PlanOptions::default()) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics
            .iter()
            .filter(|d| d.severity == infera_render::Severity::Error)
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect(),
    }
}

/// The images link one FoundationDB client library, which speaks only its own major.minor
/// protocol (engine@a31e3c3:Dockerfile:29,78 installs foundationdb-clients 7.3.69 alone), so a
/// cluster of another line is refused while an enabled app would use it, and accepted once the
/// spec says the images carry a matching client.
#[test]
fn the_apps_client_library_must_speak_the_clusters_protocol() {
    assert!(fdb_version_errors(|_| {}).is_empty());
    let old = fdb_version_errors(|spec| spec.fdb_version = "7.1.61".to_owned());
    assert_eq!(old.len(), 2, "{old:?}");
    assert!(
        old.iter().all(|e| e.starts_with("fdb_version: ")),
        "{old:?}"
    );
    let newer = fdb_version_errors(|spec| spec.fdb_version = "7.4.5".to_owned());
    assert_eq!(newer.len(), 2, "{newer:?}");
    assert!(
        fdb_version_errors(|spec| {
            spec.fdb_version = "7.1.61".to_owned();
            spec.engine.enabled = false;
            spec.control.enabled = false;
        })
        .is_empty()
    );
    assert!(
        fdb_version_errors(|spec| {
            spec.fdb_version = "7.1.61".to_owned();
            spec.engine.fdb_client_version = "7.1".to_owned();
            spec.control.fdb_client_version = "7.1".to_owned();
        })
        .is_empty()
    );
    for bad in ["7", "7.3.1", "seven", ""] {
        let errors = fdb_version_errors(|spec| spec.engine.fdb_client_version = bad.to_owned());
        assert_eq!(
            errors,
            vec![format!(
                "engine.fdb_client_version: `{bad}` is not a FoundationDB release line"
            )],
            "{bad}"
        );
    }
}

fn image_warnings(engine_image: &str) -> Vec<String> {
    let mut spec = examples()
        .into_iter()
        .find(|(file, _)| file == "single-region.yaml")
        .expect("single-region")
        .1;
    spec.engine.image = engine_image.to_owned();
    let plan = infera_render::plan(&spec, &infera_render::PlanOptions::default())
        .unwrap_or_else(|d| panic!("{engine_image}: {d}"));
    plan.warnings
        .iter()
        .filter(|w| w.path.to_string() == "engine.image")
        .map(|w| w.message.clone())
        .collect()
}

/// No published image can use FoundationDB (every image upstream's CI builds comes from a tag
/// after FoundationDB was removed: engine `git tag --no-contains d47a88e` is every tag), and a
/// moving tag is a different binary on every pull: each is a warning on the image field; a
/// pinned build of the user's own is not.
#[test]
fn images_that_cannot_run_with_foundationdb_are_warned_about() {
    for (image, expected) in [
        ("inferadb-engine:latest", "the module's default"),
        (
            "ghcr.io/inferadb/engine:v0.1.0-dev.42",
            "published upstream image",
        ),
        ("inferadb/inferadb:v0.1.0", "published upstream image"),
        (
            "docker.io/inferadb/inferadb:v0.1.0",
            "published upstream image",
        ),
        ("registry.example.com/inferadb-engine", "not pinned"),
        ("registry.example.com/inferadb-engine:latest", "not pinned"),
    ] {
        let warnings = image_warnings(image);
        assert_eq!(warnings.len(), 1, "{image}: {warnings:?}");
        assert!(warnings[0].contains(expected), "{image}: {warnings:?}");
    }
    for image in [
        "registry.example.com/inferadb-engine:fdb-a31e3c3",
        "registry.example.com/inferadb-engine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ] {
        assert_eq!(image_warnings(image), Vec::<String>::new(), "{image}");
    }
}

/// A chart that provides what it owns itself, the way upstream's chart does
/// (engine@a31e3c3:helm/templates/deployment.yaml: the key from the chart's Secret; settings
/// through references and `envFrom`).
const CHART_WITH_ITS_OWN_SETTINGS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: rel-engine}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: inferadb-engine}}
  template:
    metadata: {labels: {app.kubernetes.io/name: inferadb-engine}}
    spec:
      containers:
        - name: engine
          image: registry.example.com/inferadb-engine:fdb-a31e3c3
          env:
            - name: INFERADB__ENGINE__PEM
              valueFrom: {secretKeyRef: {name: rel-engine-key, key: pem}}
            - name: INFERADB__ENGINE__MESH__URL
              valueFrom: {configMapKeyRef: {name: rel-settings, key: mesh-url}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: rel-control}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: inferadb-control}}
  template:
    metadata: {labels: {app.kubernetes.io/name: inferadb-control}}
    spec:
      containers:
        - name: control
          image: registry.example.com/inferadb-control:fdb-1f3c7a2
          env:
            - {name: INFERADB__CONTROL__MESH__URL, value: "http://rel-engine.default.svc:8080"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: rel-engine-canary}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: inferadb-engine}}
  template:
    metadata: {labels: {app.kubernetes.io/name: inferadb-engine}}
    spec:
      containers:
        - name: engine
          image: registry.example.com/inferadb-engine:fdb-a31e3c3
          envFrom: [{secretRef: {name: rel-engine-env}}]
"#;

/// What the chart sets itself stays the chart's, what it takes from places this tool cannot
/// read is named in the notes, and control reads the master key this tool points it at.
#[test]
fn post_rendering_keeps_what_the_chart_owns_and_says_what_it_cannot_see() {
    let spec = examples()
        .into_iter()
        .find(|(file, _)| file == "single-region.yaml")
        .expect("single-region")
        .1;
    let out = post_render(
        &spec,
        CHART_WITH_ITS_OWN_SETTINGS,
        &PostRenderOptions::default(),
    )
    .expect("post-renders");
    let documents = infera_render::parse_manifests(&out.output).expect("YAML");
    let container = |name: &str| {
        documents
            .iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
            .map(|d| d["spec"]["template"]["spec"]["containers"][0].clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let entry = |container: &Value, name: &str| {
        container["env"]
            .as_array()
            .and_then(|env| env.iter().find(|v| v["name"] == name).cloned())
    };
    let engine = container("rel-engine");
    assert_eq!(
        entry(&engine, "INFERADB__ENGINE__PEM")
            .map(|v| v["valueFrom"]["secretKeyRef"]["name"].clone()),
        Some(serde_json::json!("rel-engine-key")),
        "the chart's key is kept"
    );
    assert_eq!(
        entry(&engine, "INFERADB__ENGINE__MESH__URL")
            .map(|v| v["valueFrom"]["configMapKeyRef"]["name"].clone()),
        Some(serde_json::json!("rel-settings")),
        "the chart's reference is kept"
    );
    let canary = container("rel-engine-canary");
    assert!(
        entry(&canary, "INFERADB__ENGINE__PEM").is_none(),
        "an explicit key would override the chart's envFrom"
    );
    let control = container("rel-control");
    assert_eq!(
        env_value(&control, "INFERADB__CONTROL__KEY_FILE").as_deref(),
        Some("/etc/inferadb/master-key/master.key")
    );
    assert!(
        control["volumeMounts"]
            .as_array()
            .is_some_and(|mounts| mounts
                .iter()
                .any(|m| m["mountPath"] == "/etc/inferadb/master-key")),
        "control reads a key file nobody mounted: {control}"
    );
    let notes = out.notes.join("\n");
    for expected in [
        "Deployment/rel-engine: INFERADB__ENGINE__MESH__URL comes from a reference",
        "Deployment/rel-control: INFERADB__CONTROL__MESH__URL `http://rel-engine.default.svc:8080` carries a port",
        "Deployment/rel-engine-canary: INFERADB__ENGINE__PEM is left to the chart's envFrom",
    ] {
        assert!(
            notes.contains(expected),
            "missing `{expected}` in:\n{notes}"
        );
    }
}

/// The ids a container of `pod` runs as: `(uid, gid, fsGroup)`.
fn ids_of(pod: &Value, container: &Value) -> (i64, i64, i64) {
    (
        run_as(pod, container, "runAsUser").expect("a uid"),
        run_as(pod, container, "runAsGroup").unwrap_or(0),
        pod["securityContext"]["fsGroup"].as_i64().unwrap_or(0),
    )
}

/// The wait step and then the app's FoundationDB client, each run as the user the pod spec
/// gives it, on the pod's volumes as the kubelet prepares them (an emptyDir `2777` owned by the
/// fsGroup, ConfigMap files `0644` and Secret files `0440` in that group, read-only): the app's
/// client must be able to replace the file the wait step left, which it can only do when it
/// may give the replacement that file's owner. Needs real root (`unshare -m`, `setpriv`);
/// skipped loudly otherwise.
#[test]
fn the_apps_client_can_replace_the_cluster_file_the_wait_step_left() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    let tools = Command::new("setpriv").arg("--version").output().is_ok()
        && Command::new("unshare")
            .args(["-m", "true"])
            .status()
            .is_ok_and(|s| s.success());
    if !(root && tools) {
        infera_test_support::skip(
            "SKIPPED: not root (or no unshare/setpriv), so the cluster file's ownership was NOT exercised as the pod's users",
        );
        return;
    }
    let spec = examples()
        .into_iter()
        .find(|(file, _)| file == "single-region.yaml")
        .expect("single-region")
        .1;
    let chart = post_render(&spec, CHART, &PostRenderOptions::default()).expect("post-renders");
    let mut pods: Vec<(String, Value)> = app_pods(&renders())
        .into_iter()
        .filter(|(name, ..)| name.starts_with("single-region"))
        .map(|(name, region, _, app, pod)| (format!("{name}: {region}/{app}"), pod))
        .collect();
    for document in infera_render::parse_manifests(&chart.output).expect("YAML") {
        if document["kind"] == "Deployment"
            && document["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("rel-"))
        {
            let name = document["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            pods.push((
                format!("post-rendered {name}"),
                document["spec"]["template"]["spec"].clone(),
            ));
        }
    }
    assert!(pods.len() >= 4, "{}", pods.len());
    for (at, pod) in pods {
        let all = containers(&pod);
        let wait = all
            .iter()
            .find(|c| c["name"] == "wait-for-foundationdb")
            .expect("wait step");
        let clients = fdb_clients(&pod);
        let (_, app_file, app) = clients
            .iter()
            .find(|(name, ..)| name != "wait-for-foundationdb")
            .expect("the app");
        let work = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(
            work.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
        let bin = stand_ins(work.path());
        let log = work.path().join("log");
        std::fs::write(&log, "").expect("log");
        std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .expect("chmod");
        let (_, _, fs_group) = ids_of(&pod, wait);
        let volumes = work.path().join("volumes");
        let mut setup = vec![
            "set -e".to_owned(),
            "mount --make-rprivate /".to_owned(),
            "mount -t tmpfs none /etc".to_owned(),
        ];
        // Every volume the wait step or the app mounts under /etc, as the kubelet makes it.
        let mut mounted = BTreeSet::new();
        for container in [wait, app] {
            for mount in container["volumeMounts"].as_array().into_iter().flatten() {
                let path = mount["mountPath"].as_str().unwrap_or_default().to_owned();
                let name = mount["name"].as_str().unwrap_or_default().to_owned();
                if !path.starts_with("/etc/") || !mounted.insert(path.clone()) {
                    continue;
                }
                let volume = pod["volumes"]
                    .as_array()
                    .and_then(|v| v.iter().find(|v| v["name"] == name.as_str()))
                    .expect("the mount's volume");
                let dir = volumes.join(&name);
                std::fs::create_dir_all(&dir).expect("volume");
                let mut read_only = mount["readOnly"] == true;
                if volume.get("emptyDir").is_some() {
                    setup.push(format!(
                        "chown 0:{fs_group} '{}' && chmod 2777 '{}'",
                        dir.display(),
                        dir.display()
                    ));
                } else {
                    read_only = true;
                    let secret = volume.get("secret").is_some();
                    let items = volume["configMap"]["items"]
                        .as_array()
                        .or(volume["secret"]["items"].as_array())
                        .cloned()
                        .unwrap_or_default();
                    for item in items {
                        let file = dir.join(item["path"].as_str().expect("path"));
                        if secret {
                            std::fs::write(&file, [7u8; 32]).expect("secret");
                        } else {
                            std::fs::write(&file, format!("{TEST_SEED}\n")).expect("config map");
                        }
                        let mode = if secret { "0440" } else { "0644" };
                        setup.push(format!(
                            "chown 0:{fs_group} '{}' && chmod {mode} '{}'",
                            file.display(),
                            file.display()
                        ));
                    }
                }
                setup.push(format!("mkdir -p '{path}'"));
                setup.push(format!("mount --bind '{}' '{path}'", dir.display()));
                if read_only {
                    setup.push(format!("mount -o remount,bind,ro '{path}'"));
                }
            }
        }
        // Each command is read from the environment, so no quoting stands between it and the
        // shell that runs it exactly as rendered.
        let as_user = |container: &Value, moved: &str, variable: &str| {
            let (uid, gid, group) = ids_of(&pod, container);
            format!(
                "setpriv --reuid={uid} --regid={gid} --groups={group} -- env PATH='{}':/usr/bin:/bin LOG='{}' MOVED='{moved}' REACHABLE= /bin/sh -c 'eval \"${variable}\"'",
                bin.display(),
                log.display()
            )
        };
        let script = wait["command"][2]
            .as_str()
            .expect("sh -c <script>")
            .to_owned();
        setup.push(as_user(
            wait,
            "learnt:by-the-wait-step@10.10.3.1:4501",
            "WAIT",
        ));
        setup.push(as_user(app, "learnt:by-the-app@10.10.3.2:4501", "APP"));
        let output = Command::new("timeout")
            .args(["60", "unshare", "-m", "sh", "-c", &setup.join("\n")])
            .env("WAIT", &script)
            .env(
                "APP",
                format!("fdbcli -C {app_file} --exec 'status minimal'"),
            )
            .output()
            .expect("unshare runs");
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            output.status.success(),
            "{at}: {}{}\n{log_text}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            log_text,
            format!(
                "read {TEST_SEED}\npersisted\nread learnt:by-the-wait-step@10.10.3.1:4501\npersisted\n"
            ),
            "{at}: the app's client could not replace the cluster file the wait step left"
        );
    }
}
