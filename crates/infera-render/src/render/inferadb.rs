//! InferaDB engine and control, one Deployment each per region, wired to the region's
//! FoundationDB cluster file (docs/inferadb-and-tailscale.md §1.2-§1.3, §6.2-§6.3).
//!
//! What the Terraform module got wrong and this module must not: env names without the
//! `INFERADB__ENGINE__`/`INFERADB__CONTROL__` prefix (the engine silently ran on in-memory
//! storage), a ConfigMap `<cluster>-config` that collides with the operator's, metrics scraped on
//! 8080 instead of 8082, a pod-level `runAsNonRoot` next to a root sidecar, and no control at all.

use super::fdb_cluster::{rendered_datacenters, resource_requirements};
use super::labels;
use super::object::RenderedObject;
use super::pod::{
    config_map_file, empty_dir, env, env_secret, fixed_resources, hardened, http_probe, mount,
    pod_security, scrape_annotations, secret_file, spread, template,
};
use super::ports::{CONTROL_HTTP, CONTROL_MESH, ENGINE_HTTP, ENGINE_MESH};
use super::rbac::{role_ref, service_account};
use super::tailscale;
use super::tailscale_names::Workload;
use crate::naming::{
    CLUSTER_FILE_DIR, CLUSTER_FILE_KEY, CLUSTER_FILE_NAME, CLUSTER_FILE_PATH,
    CLUSTER_FILE_SOURCE_DIR, CLUSTER_FILE_SOURCE_VOLUME, CLUSTER_FILE_VOLUME,
    client_cluster_file_config_map, fdb_cluster_file_config_map,
};
use crate::plan::{Bootstrap, Plan};
use infera_spec::{ImagePullPolicy, Resources};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerPort, EnvVar, PodSpec, Service, ServiceAccount, ServicePort,
    ServiceSpec, Volume,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The uid/gid the InferaDB images run as (`nonroot`). The wait-for-FoundationDB step runs as
/// it too: every FoundationDB client of the pod must be able to replace the cluster file, and
/// the client gives the replacement its predecessor's owner (FDB@7.3.43:flow/Platform.actor.cpp:
/// 2323-2360, `atomicReplace` chowns the new file to the old one's uid and gid), which a
/// process without `CAP_CHOWN` can only do for a file it owns.
pub(crate) const INFERADB_UID: i64 = 65532;
/// Where control reads its master key.
const MASTER_KEY_DIR: &str = "/etc/inferadb/master-key";
/// The master key's file name inside [`MASTER_KEY_DIR`].
const MASTER_KEY_FILE: &str = "master.key";
/// The master key's exact size: control rejects any other length when it first uses the key
/// (control@550b7d6:crates/inferadb-control-core/src/crypto.rs:28-41,52-70).
const MASTER_KEY_BYTES: usize = 32;
/// The Role that lets engine and control discover each other through Endpoints.
pub const DISCOVERY_ROLE: &str = "inferadb-discovery";

/// One of the two InferaDB workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum App {
    /// The authorization engine.
    Engine,
    /// The control plane.
    Control,
}

/// What differs between engine and control.
struct Settings<'a> {
    enabled: bool,
    replicas: u32,
    image: &'a str,
    pull_policy: ImagePullPolicy,
    resources: &'a Resources,
}

impl App {
    /// Both, in render order.
    pub(crate) const ALL: [App; 2] = [App::Engine, App::Control];

    /// Object name: `inferadb-engine` or `inferadb-control`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Engine => "inferadb-engine",
            Self::Control => "inferadb-control",
        }
    }

    /// The env prefix the binary reads (config crate `Environment::with_prefix("INFERADB")`,
    /// separator `__`, under the `engine:`/`control:` root: engine crates/inferadb-engine-config
    /// src/lib.rs `load`).
    pub(crate) fn env_prefix(self) -> &'static str {
        match self {
            Self::Engine => "INFERADB__ENGINE__",
            Self::Control => "INFERADB__CONTROL__",
        }
    }

    /// `(name, port)` of the ports the binary binds: http and mesh. Both also read a
    /// `listen.grpc` address but serve nothing there (engine@a31e3c3:crates/inferadb-engine/
    /// src/main.rs:222-224 binds http and mesh, and `serve_grpc`,
    /// crates/inferadb-engine-api/src/lib.rs:672, has no caller; control@550b7d6:
    /// crates/inferadb-control/src/main.rs:124 only prints it), so no gRPC port is declared.
    pub(crate) fn ports(self) -> [(&'static str, u16); 2] {
        match self {
            Self::Engine => [("http", ENGINE_HTTP), ("mesh", ENGINE_MESH)],
            Self::Control => [("http", CONTROL_HTTP), ("mesh", CONTROL_MESH)],
        }
    }

    /// Where Prometheus scrapes `/metrics`: the engine serves it on mesh (8082), control on http
    /// (9090).
    pub(crate) fn metrics_port(self) -> (&'static str, u16) {
        match self {
            Self::Engine => ("mesh", ENGINE_MESH),
            Self::Control => ("http", CONTROL_HTTP),
        }
    }

    fn workload(self) -> Workload {
        match self {
            Self::Engine => Workload::Engine,
            Self::Control => Workload::Control,
        }
    }

    fn settings(self, plan: &Plan) -> Settings<'_> {
        let spec = &plan.spec;
        match self {
            Self::Engine => Settings {
                enabled: spec.engine.enabled,
                replicas: spec.engine.replicas,
                image: &spec.engine.image,
                pull_policy: spec.engine.image_pull_policy,
                resources: &spec.engine.resources,
            },
            Self::Control => Settings {
                enabled: spec.control.enabled,
                replicas: spec.control.replicas,
                image: &spec.control.image,
                pull_policy: spec.control.image_pull_policy,
                resources: &spec.control.resources,
            },
        }
    }

    /// The in-cluster base URL of this app's Service, without a port.
    pub(crate) fn base_url(self, namespace: &str) -> String {
        format!("http://{}.{namespace}.svc", self.name())
    }
}

/// The URL the engine reaches control's mesh API at: `INFERADB__ENGINE__MESH__URL`. The engine
/// also signs its tokens for control with exactly this string as the audience
/// (engine@a31e3c3:crates/inferadb-engine-control-client/src/client.rs:61-81, `aud` from
/// `effective_mesh_url`, which is `mesh.url`: crates/inferadb-engine-config/src/lib.rs:624-626),
/// so control's `CONTROL_API_AUDIENCE` is this same value (control@550b7d6:
/// crates/inferadb-control-api/src/middleware/engine_auth.rs:185-189 compares it exactly;
/// deploy@5137003:flux/apps/base/control/configmap.yaml:53-55).
pub(crate) fn engine_mesh_url(namespace: &str) -> String {
    format!("{}:{CONTROL_MESH}", App::Control.base_url(namespace))
}

/// Control's view of the engine: `MESH__URL` without a port, because control appends one
/// itself, `MESH__GRPC` for the engine's REST API (the engine client's port) and `MESH__PORT`
/// for its mesh (JWKS) (control@550b7d6:crates/inferadb-control-config/src/lib.rs:244-266,
/// 400-420: `effective_grpc_url` and `effective_mesh_url` are `url:port`; main.rs:189-196;
/// deploy@5137003:flux/apps/base/control/configmap.yaml:49-51 sets the same three).
pub(crate) fn control_mesh_env(namespace: &str) -> [(&'static str, String); 3] {
    [
        ("MESH__URL", App::Engine.base_url(namespace)),
        ("MESH__GRPC", ENGINE_HTTP.to_string()),
        ("MESH__PORT", ENGINE_MESH.to_string()),
    ]
}

/// The env var control reads the expected audience of engine tokens from; it has no
/// `INFERADB__` prefix (control@550b7d6:crates/inferadb-control-api/src/middleware/engine_auth.rs:185-189).
pub(crate) const CONTROL_API_AUDIENCE: &str = "CONTROL_API_AUDIENCE";

/// The ConfigMap a region's engine and control read the cluster file from: the operator's, where
/// the region runs a FoundationDB datacenter of this output; infera-render's own, holding the
/// connection string, in a client region once the connection string is known; otherwise none
/// (the workloads follow once the database exists).
pub(crate) fn cluster_file_source(plan: &Plan, region: usize) -> Option<(String, bool)> {
    let rendered = rendered_datacenters(plan);
    if let Some(&datacenter) = plan.regions[region]
        .datacenters
        .iter()
        .find(|dc| rendered.contains(dc))
    {
        return Some((
            fdb_cluster_file_config_map(&plan.datacenters[datacenter].resource_name),
            false,
        ));
    }
    match &plan.bootstrap {
        Bootstrap::Seeded { .. } if plan.regions[region].datacenters.is_empty() => Some((
            client_cluster_file_config_map(&plan.spec.cluster_name),
            true,
        )),
        _ => None,
    }
}

fn metadata(plan: &Plan, region: usize, name: &str, app: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(plan.region_spec(region).namespace.clone()),
        labels: Some(labels::common(
            plan,
            region,
            app,
            app.trim_start_matches("inferadb-"),
        )),
        ..ObjectMeta::default()
    }
}

/// The app's environment: every key under the app's prefix (docs/inferadb-and-tailscale.md
/// §6.2-§6.3), plus control's `CONTROL_API_AUDIENCE`. The config file the image points at may
/// be absent: the binaries load it with `required(false)` and layer these variables on top.
pub(crate) fn app_env(plan: &Plan, region: usize, app: App) -> Vec<EnvVar> {
    let prefix = app.env_prefix();
    let namespace = &plan.region_spec(region).namespace;
    let mut vars = vec![
        env(&format!("{prefix}STORAGE"), "foundationdb"),
        env(
            &format!("{prefix}FOUNDATIONDB__CLUSTER_FILE"),
            CLUSTER_FILE_PATH,
        ),
    ];
    for (name, port) in app.ports() {
        // Control binds 127.0.0.1 by default; pods must listen on every interface.
        vars.push(env(
            &format!("{prefix}LISTEN__{}", name.to_ascii_uppercase()),
            format!("0.0.0.0:{port}"),
        ));
    }
    match app {
        App::Engine => {
            if plan.spec.control.enabled {
                vars.push(env(
                    &format!("{prefix}MESH__URL"),
                    engine_mesh_url(namespace),
                ));
            }
            // One signing key for every replica: without it each pod generates its own and
            // prints it (engine@a31e3c3:crates/inferadb-engine/src/main.rs:175-187), and control,
            // which fetches the JWKS from whichever pod its Service picks, rejects the tokens
            // of every other pod. The PEM must be PKCS#8 `PRIVATE KEY`
            // (crates/inferadb-engine-control-client/src/identity.rs:94-120).
            let identity = &plan.spec.engine.identity_secret;
            vars.push(env_secret(
                &format!("{prefix}PEM"),
                &identity.name,
                &identity.key,
            ));
        }
        App::Control => {
            if plan.spec.engine.enabled {
                for (name, value) in control_mesh_env(namespace) {
                    vars.push(env(&format!("{prefix}{name}"), value));
                }
            }
            vars.push(env(CONTROL_API_AUDIENCE, engine_mesh_url(namespace)));
            vars.push(env(
                &format!("{prefix}KEY_FILE"),
                format!("{MASTER_KEY_DIR}/{MASTER_KEY_FILE}"),
            ));
            let webauthn = &plan.spec.control.webauthn;
            if let Some(party) = &webauthn.party {
                vars.push(env(&format!("{prefix}WEBAUTHN__PARTY"), party.clone()));
            }
            if let Some(origin) = &webauthn.origin {
                vars.push(env(&format!("{prefix}WEBAUTHN__ORIGIN"), origin.clone()));
            }
        }
    }
    vars
}

/// The wait step's script. With `master_key`, it first refuses a master key that is not
/// exactly 32 bytes, which control would only reject on first use. Then it waits until
/// FoundationDB answers, so the app never starts on a database it cannot reach
/// (deploy@5137003:flux/apps/base/engine/deployment.yaml:66). Each attempt first copies the
/// cluster file from its ConfigMap into the writable `emptyDir` every FoundationDB client of the
/// pod opens, unless a non-empty one is there already (left by an earlier start of the pod, and
/// maybe rewritten by the client since). The client rewrites its cluster file whenever the
/// coordinators change (FDB@7.3.43:fdbclient/ClusterConnectionFile.actor.cpp:148-174); on a
/// ConfigMap volume, which is read-only, the new connection string would be lost and a
/// restarted container would come back with the old one. The operator's own client sample
/// copies the file the same way (OP@v2.33.0:config/samples/client.yaml). The copy is retried
/// while the ConfigMap's file is still empty (the operator fills it once the cluster has a
/// connection string).
pub(crate) fn wait_script(master_key: Option<&str>) -> String {
    let mut script = String::new();
    if let Some(path) = master_key {
        script.push_str(&format!(
            "size=$(wc -c < {path}) || exit 1\nif [ \"$size\" -ne {MASTER_KEY_BYTES} ]; then echo \"control.master_key_secret holds $size bytes; control needs exactly {MASTER_KEY_BYTES} random bytes (head -c {MASTER_KEY_BYTES} /dev/urandom), the same in every region\" >&2; exit 1; fi\n"
        ));
    }
    script.push_str(&format!(
        "until {{ [ -s {CLUSTER_FILE_PATH} ] || cp {CLUSTER_FILE_SOURCE_DIR}/{CLUSTER_FILE_NAME} {CLUSTER_FILE_PATH}; }} && fdbcli -C {CLUSTER_FILE_PATH} --exec 'status minimal' --timeout 10 | grep -q 'is available'; do echo 'waiting for FoundationDB'; sleep 5; done\n"
    ));
    script
}

/// The init container that prepares the cluster file and waits for FoundationDB
/// ([`wait_script`]); with `check_master_key` (control's pods) it also checks the master key.
pub(crate) fn wait_for_foundationdb(plan: &Plan, check_master_key: bool) -> Container {
    let mut mounts = vec![
        mount(CLUSTER_FILE_SOURCE_VOLUME, CLUSTER_FILE_SOURCE_DIR, true),
        mount(CLUSTER_FILE_VOLUME, CLUSTER_FILE_DIR, false),
        mount("tmp", "/tmp", false),
    ];
    let master_key = check_master_key.then(|| format!("{MASTER_KEY_DIR}/{MASTER_KEY_FILE}"));
    if master_key.is_some() {
        mounts.push(mount("master-key", MASTER_KEY_DIR, true));
    }
    Container {
        name: "wait-for-foundationdb".to_owned(),
        image: Some(format!("foundationdb/foundationdb:{}", plan.fdb_version)),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            wait_script(master_key.as_deref()),
        ]),
        volume_mounts: Some(mounts),
        resources: Some(fixed_resources("100m", "128Mi")),
        security_context: Some(hardened(Some(INFERADB_UID), true)),
        ..Container::default()
    }
}

/// The pod's cluster-file volumes: the ConfigMap (read-only, read by the wait step alone) and
/// the `emptyDir` every FoundationDB client opens and rewrites.
pub(crate) fn cluster_file_volumes(config_map: &str) -> [Volume; 2] {
    [
        config_map_file(
            CLUSTER_FILE_SOURCE_VOLUME,
            config_map,
            CLUSTER_FILE_KEY,
            CLUSTER_FILE_NAME,
        ),
        empty_dir(CLUSTER_FILE_VOLUME),
    ]
}

fn deployment(plan: &Plan, region: usize, app: App, config_map: &str) -> Deployment {
    let settings = app.settings(plan);
    let selector = labels::selector(plan, region, app.name());
    let pod_labels = labels::common(
        plan,
        region,
        app.name(),
        app.name().trim_start_matches("inferadb-"),
    );
    let annotations = scrape_annotations(plan.spec.monitoring.enabled, app.metrics_port().1);
    let http = IntOrString::String("http".to_owned());
    let mut mounts = vec![
        mount(CLUSTER_FILE_VOLUME, CLUSTER_FILE_DIR, false),
        mount("tmp", "/tmp", false),
    ];
    let mut volumes = cluster_file_volumes(config_map).to_vec();
    volumes.push(empty_dir("tmp"));
    if app == App::Control {
        let secret = &plan.spec.control.master_key_secret;
        mounts.push(mount("master-key", MASTER_KEY_DIR, true));
        volumes.push(secret_file(
            "master-key",
            &secret.name,
            &secret.key,
            MASTER_KEY_FILE,
        ));
    }
    let main = Container {
        name: app.name().trim_start_matches("inferadb-").to_owned(),
        image: Some(settings.image.to_owned()),
        image_pull_policy: Some(settings.pull_policy.as_str().to_owned()),
        env: Some(app_env(plan, region, app)),
        ports: Some(
            app.ports()
                .iter()
                .map(|(name, port)| ContainerPort {
                    name: Some((*name).to_owned()),
                    container_port: i32::from(*port),
                    ..ContainerPort::default()
                })
                .collect(),
        ),
        // `/startupz` and `/readyz` read from FoundationDB (across regions in a client region),
        // and the engine's readiness read has its own 1 s budget
        // (engine@a31e3c3:crates/inferadb-engine-api/src/health.rs:155-171;
        // control@550b7d6:crates/inferadb-control-api/src/handlers/health.rs:78-82): the
        // kubelet's default 1 s would race it. Upstream's timeouts
        // (deploy@5137003:flux/apps/base/engine/deployment.yaml:135,143,151).
        startup_probe: Some(http_probe("/startupz", http.clone(), 5, 60, Some(3))),
        liveness_probe: Some(http_probe("/livez", http.clone(), 10, 3, Some(5))),
        readiness_probe: Some(http_probe("/readyz", http, 5, 3, Some(3))),
        resources: Some(resource_requirements(settings.resources)),
        security_context: Some(hardened(Some(INFERADB_UID), true)),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let mut init_containers = tailscale::deployment_init_containers(plan, region, app.workload());
    init_containers.push(wait_for_foundationdb(plan, app == App::Control));
    let (topology_spread_constraints, affinity) = spread(&selector);
    let (selector, template) = template(
        selector,
        pod_labels,
        annotations,
        PodSpec {
            service_account_name: Some(app.name().to_owned()),
            automount_service_account_token: Some(true),
            security_context: Some(pod_security(INFERADB_UID)),
            init_containers: Some(init_containers),
            containers: vec![main],
            volumes: Some(volumes),
            topology_spread_constraints: Some(topology_spread_constraints),
            affinity: Some(affinity),
            ..PodSpec::default()
        },
    );
    let spec = DeploymentSpec {
        replicas: Some(i32::try_from(settings.replicas).unwrap_or(1)),
        selector,
        template,
        ..DeploymentSpec::default()
    };
    k8s_openapi::k8s_if_le_1_36! { let spec = Some(spec); }
    Deployment {
        metadata: metadata(plan, region, app.name(), app.name()),
        spec,
        ..Deployment::default()
    }
}

/// The value of [`labels::SERVICE`] on the main Service of an app.
pub(crate) const MAIN_SERVICE: &str = "main";

fn service(plan: &Plan, region: usize, app: App, name: &str, headless: bool) -> Service {
    let mut metadata = metadata(plan, region, name, app.name());
    if let Some(labels) = metadata.labels.as_mut() {
        labels.insert(
            labels::SERVICE.to_owned(),
            if headless { "headless" } else { MAIN_SERVICE }.to_owned(),
        );
    }
    Service {
        metadata,
        spec: Some(ServiceSpec {
            cluster_ip: headless.then(|| "None".to_owned()),
            selector: Some(labels::selector(plan, region, app.name())),
            ports: Some(
                app.ports()
                    .iter()
                    .map(|(port_name, port)| ServicePort {
                        name: Some((*port_name).to_owned()),
                        port: i32::from(*port),
                        target_port: Some(IntOrString::String((*port_name).to_owned())),
                        protocol: Some("TCP".to_owned()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn disruption_budget(plan: &Plan, region: usize, app: App) -> PodDisruptionBudget {
    let spec = PodDisruptionBudgetSpec {
        // Never blocks a drain, even with one replica; with more, keeps the rest serving.
        max_unavailable: Some(IntOrString::Int(1)),
        selector: Some(LabelSelector {
            match_labels: Some(labels::selector(plan, region, app.name())),
            ..LabelSelector::default()
        }),
        ..PodDisruptionBudgetSpec::default()
    };
    PodDisruptionBudget {
        metadata: metadata(plan, region, app.name(), app.name()),
        spec: Some(spec),
        ..PodDisruptionBudget::default()
    }
}

/// The apps rendered in a region (enabled, and with a cluster file to read).
pub(crate) fn rendered_apps(plan: &Plan, region: usize) -> Vec<App> {
    if cluster_file_source(plan, region).is_none() {
        return Vec::new();
    }
    App::ALL
        .into_iter()
        .filter(|app| app.settings(plan).enabled)
        .collect()
}

/// Every engine and control object of a region.
pub(crate) fn objects(plan: &Plan, region: usize) -> Vec<RenderedObject> {
    let apps = rendered_apps(plan, region);
    let Some((config_map, ours)) = cluster_file_source(plan, region).filter(|_| !apps.is_empty())
    else {
        return Vec::new();
    };
    let namespace = plan.region_spec(region).namespace.clone();
    let mut objects = Vec::new();
    if ours && let Bootstrap::Seeded { connection_string } = &plan.bootstrap {
        let cluster_file = ConfigMap {
            metadata: metadata(plan, region, &config_map, "foundationdb"),
            data: Some(BTreeMap::from([(
                CLUSTER_FILE_KEY.to_owned(),
                format!("{connection_string}\n"),
            )])),
            ..ConfigMap::default()
        };
        objects.push(RenderedObject::new(&cluster_file));
    }
    for &app in &apps {
        let account = ServiceAccount {
            metadata: metadata(plan, region, app.name(), app.name()),
            automount_service_account_token: Some(true),
            ..ServiceAccount::default()
        };
        objects.push(RenderedObject::new(&account));
        objects.push(RenderedObject::new(&service(
            plan,
            region,
            app,
            app.name(),
            false,
        )));
        if app == App::Engine {
            objects.push(RenderedObject::new(&service(
                plan,
                region,
                app,
                "inferadb-engine-headless",
                true,
            )));
        }
        objects.push(RenderedObject::new(&disruption_budget(plan, region, app)));
        objects.push(RenderedObject::new(&deployment(
            plan,
            region,
            app,
            &config_map,
        )));
    }
    // Kubernetes discovery reads Endpoints of the namespace (engine k8s/rbac.yaml asks for a
    // ClusterRole; a Role in the namespace is all it uses).
    let role = Role {
        metadata: metadata(plan, region, DISCOVERY_ROLE, "inferadb"),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["endpoints".to_owned()]),
            verbs: ["get", "list", "watch"].map(str::to_owned).to_vec(),
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: metadata(plan, region, DISCOVERY_ROLE, "inferadb"),
        role_ref: role_ref("Role", DISCOVERY_ROLE),
        subjects: Some(
            apps.iter()
                .map(|app| service_account(app.name(), &namespace))
                .collect(),
        ),
    };
    objects.push(RenderedObject::new(&role));
    objects.push(RenderedObject::new(&binding));
    objects
}
