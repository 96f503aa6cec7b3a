//! InferaDB engine and control, one Deployment each per region, wired to the region's
//! FoundationDB cluster file (docs/inferadb-and-tailscale.md §1.2-§1.3, §6.2-§6.3).
//!
//! What the Terraform module got wrong and this module must not: env names without the
//! `INFERADB__ENGINE__`/`INFERADB__CONTROL__` prefix (the engine silently ran on in-memory
//! storage), a ConfigMap `<cluster>-config` that collides with the operator's, metrics scraped on
//! 8080 instead of 8082, a pod-level `runAsNonRoot` next to a root sidecar, and no control at all.

use super::fdb_cluster::resource_requirements;
use super::object::RenderedObject;
use super::pod::{
    INFERADB_UID, config_map_file, empty_dir, env, env_secret, fixed_resources, hardened,
    http_probe, mount, pod_security, scrape_annotations, secret_file, spread, template,
};
use super::ports::{CONTROL_HTTP, CONTROL_MESH, ENGINE_HTTP, ENGINE_MESH};
use super::{RegionCtx, labels, meta, tailscale};
use crate::names::labels::{HEADLESS_SERVICE, MAIN_SERVICE, SERVICE};
use crate::names::{
    App, CLUSTER_FILE_DIR, CLUSTER_FILE_KEY, CLUSTER_FILE_NAME, CLUSTER_FILE_PATH,
    CLUSTER_FILE_SOURCE_DIR, CLUSTER_FILE_SOURCE_VOLUME, CLUSTER_FILE_VOLUME,
    ENGINE_HEADLESS_SERVICE, FDB_APP,
};
use crate::plan::{AppSettings, ClusterFile, Plan};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerPort, EnvVar, PodSpec, Service, ServiceAccount, ServicePort,
    ServiceSpec, Volume,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Where control reads its master key.
pub(crate) const MASTER_KEY_DIR: &str = "/etc/inferadb/master-key";
/// The master key's file name inside [`MASTER_KEY_DIR`].
const MASTER_KEY_FILE: &str = "master.key";
/// The master key's exact size: control rejects any other length when it first uses the key
/// (control@550b7d6:crates/inferadb-control-core/src/crypto.rs:28-41,52-70).
const MASTER_KEY_BYTES: usize = 32;

/// `(name, port)` of the ports the binary binds: http and mesh. Both also read a
/// `listen.grpc` address but serve nothing there (engine@a31e3c3:crates/inferadb-engine/
/// src/main.rs:222-224 binds http and mesh, and `serve_grpc`,
/// crates/inferadb-engine-api/src/lib.rs:672, has no caller; control@550b7d6:
/// crates/inferadb-control/src/main.rs:124 only prints it), so no gRPC port is declared.
pub(crate) fn ports(app: App) -> [(&'static str, u16); 2] {
    match app {
        App::Engine => [("http", ENGINE_HTTP), ("mesh", ENGINE_MESH)],
        App::Control => [("http", CONTROL_HTTP), ("mesh", CONTROL_MESH)],
    }
}

/// Where Prometheus scrapes `/metrics`: the engine serves it on mesh (8082), control on http
/// (9090).
pub(crate) fn metrics_port(app: App) -> (&'static str, u16) {
    match app {
        App::Engine => ("mesh", ENGINE_MESH),
        App::Control => ("http", CONTROL_HTTP),
    }
}

/// The in-cluster base URL of an app's Service, without a port.
pub(crate) fn base_url(app: App, namespace: &str) -> String {
    format!("http://{}.{namespace}.svc", app.name())
}

/// The URL the engine reaches control's mesh API at: `INFERADB__ENGINE__MESH__URL`. The engine
/// also signs its tokens for control with exactly this string as the audience
/// (engine@a31e3c3:crates/inferadb-engine-control-client/src/client.rs:61-81, `aud` from
/// `effective_mesh_url`, which is `mesh.url`: crates/inferadb-engine-config/src/lib.rs:624-626),
/// so control's `CONTROL_API_AUDIENCE` is this same value (control@550b7d6:
/// crates/inferadb-control-api/src/middleware/engine_auth.rs:185-189 compares it exactly;
/// deploy@5137003:flux/apps/base/control/configmap.yaml:53-55).
pub(crate) fn engine_mesh_url(namespace: &str) -> String {
    format!("{}:{CONTROL_MESH}", base_url(App::Control, namespace))
}

/// Control's view of the engine: `MESH__URL` without a port, because control appends one
/// itself, `MESH__GRPC` for the engine's REST API (the engine client's port) and `MESH__PORT`
/// for its mesh (JWKS) (control@550b7d6:crates/inferadb-control-config/src/lib.rs:244-266,
/// 400-420: `effective_grpc_url` and `effective_mesh_url` are `url:port`; main.rs:189-196;
/// deploy@5137003:flux/apps/base/control/configmap.yaml:49-51 sets the same three).
pub(crate) fn control_mesh_env(namespace: &str) -> [(&'static str, String); 3] {
    [
        ("MESH__URL", base_url(App::Engine, namespace)),
        ("MESH__GRPC", ENGINE_HTTP.to_string()),
        ("MESH__PORT", ENGINE_MESH.to_string()),
    ]
}

/// The env var control reads the expected audience of engine tokens from; it has no
/// `INFERADB__` prefix (control@550b7d6:crates/inferadb-control-api/src/middleware/engine_auth.rs:185-189).
pub(crate) const CONTROL_API_AUDIENCE: &str = "CONTROL_API_AUDIENCE";

/// The app's environment: every key under the app's prefix (docs/inferadb-and-tailscale.md
/// §6.2-§6.3), plus control's `CONTROL_API_AUDIENCE`. The config file the image points at may
/// be absent: the binaries load it with `required(false)` and layer these variables on top.
pub(crate) fn app_env(ctx: &RegionCtx<'_>, app: App) -> Vec<EnvVar> {
    let plan = ctx.plan;
    let prefix = app.env_prefix();
    let namespace = &ctx.region.namespace;
    let mut vars = vec![
        env(&format!("{prefix}STORAGE"), "foundationdb"),
        env(
            &format!("{prefix}FOUNDATIONDB__CLUSTER_FILE"),
            CLUSTER_FILE_PATH,
        ),
    ];
    for (name, port) in ports(app) {
        // Control binds 127.0.0.1 by default; pods must listen on every interface.
        vars.push(env(
            &format!("{prefix}LISTEN__{}", name.to_ascii_uppercase()),
            format!("0.0.0.0:{port}"),
        ));
    }
    match app {
        App::Engine => {
            if plan.control.is_some() {
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
            if let Some(engine) = &plan.engine {
                let identity = &engine.identity_secret;
                vars.push(env_secret(
                    &format!("{prefix}PEM"),
                    &identity.name,
                    &identity.key,
                ));
            }
        }
        App::Control => {
            if plan.engine.is_some() {
                for (name, value) in control_mesh_env(namespace) {
                    vars.push(env(&format!("{prefix}{name}"), value));
                }
            }
            vars.push(env(CONTROL_API_AUDIENCE, engine_mesh_url(namespace)));
            vars.push(env(
                &format!("{prefix}KEY_FILE"),
                format!("{MASTER_KEY_DIR}/{MASTER_KEY_FILE}"),
            ));
            if let Some(control) = &plan.control {
                let webauthn = &control.webauthn;
                if let Some(party) = &webauthn.party {
                    vars.push(env(&format!("{prefix}WEBAUTHN__PARTY"), party.clone()));
                }
                if let Some(origin) = &webauthn.origin {
                    vars.push(env(&format!("{prefix}WEBAUTHN__ORIGIN"), origin.clone()));
                }
            }
        }
    }
    vars
}

/// How the wait step treats the pod's copy of the cluster file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CopyPolicy {
    /// The ConfigMap is the operator's, which it keeps current: a copy that fails to connect is
    /// replaced by the ConfigMap's file when that differs (the kubelet refreshes the mount).
    RefreshFromOperator,
    /// The ConfigMap is infera-render's, written once from a connection string that may be older
    /// than what the pod's client has learnt since: a copy is never replaced.
    KeepCopy,
}

impl CopyPolicy {
    /// The policy for a region's cluster-file source.
    pub(crate) fn of(cluster_file: &ClusterFile) -> Self {
        match cluster_file {
            ClusterFile::Operator { .. } => Self::RefreshFromOperator,
            ClusterFile::Ours { .. } => Self::KeepCopy,
        }
    }
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
/// connection string), and with [`CopyPolicy::RefreshFromOperator`] a copy that fails to
/// connect is replaced by the operator's current file.
pub(crate) fn wait_script(master_key: Option<&str>, policy: CopyPolicy) -> String {
    let mut script = String::new();
    if let Some(path) = master_key {
        script.push_str(&format!(
            "size=$(wc -c < {path}) || exit 1\nif [ \"$size\" -ne {MASTER_KEY_BYTES} ]; then echo \"control.master_key_secret holds $size bytes; control needs exactly {MASTER_KEY_BYTES} random bytes (head -c {MASTER_KEY_BYTES} /dev/urandom), the same in every region\" >&2; exit 1; fi\n"
        ));
    }
    let source = format!("{CLUSTER_FILE_SOURCE_DIR}/{CLUSTER_FILE_NAME}");
    let retry = match policy {
        CopyPolicy::RefreshFromOperator => format!(
            // `cmp` is not in the FoundationDB image (FDB@7.3.43:packaging/docker/Dockerfile:19-50,
            // centos:7 with no diffutils); the shell compares the two files' contents.
            "echo 'waiting for FoundationDB'; [ \"$(cat {source})\" = \"$(cat {CLUSTER_FILE_PATH})\" ] || cp {source} {CLUSTER_FILE_PATH}; sleep 5"
        ),
        CopyPolicy::KeepCopy => "echo 'waiting for FoundationDB'; sleep 5".to_owned(),
    };
    script.push_str(&format!(
        "until {{ [ -s {CLUSTER_FILE_PATH} ] || cp {source} {CLUSTER_FILE_PATH}; }} && fdbcli -C {CLUSTER_FILE_PATH} --exec 'status minimal' --timeout 10 | grep -q 'is available'; do {retry}; done\n"
    ));
    script
}

/// The init container that prepares the cluster file and waits for FoundationDB
/// ([`wait_script`]); with `check_master_key` (control's pods) it also checks the master key.
pub(crate) fn wait_for_foundationdb(
    ctx: &RegionCtx<'_>,
    policy: CopyPolicy,
    check_master_key: bool,
) -> Container {
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
        image: Some(format!(
            "foundationdb/foundationdb:{}",
            ctx.plan.fdb_version
        )),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            wait_script(master_key.as_deref(), policy),
        ]),
        volume_mounts: Some(mounts),
        resources: Some(fixed_resources("100m", "128Mi")),
        security_context: Some(hardened(Some(INFERADB_UID), true)),
        ..Container::default()
    }
}

/// The volume of control's master key (its Secret), when control is enabled.
pub(crate) fn master_key_volume(plan: &Plan) -> Option<Volume> {
    let secret = &plan.control.as_ref()?.master_key_secret;
    Some(secret_file(
        "master-key",
        &secret.name,
        &secret.key,
        MASTER_KEY_FILE,
    ))
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

fn deployment(
    ctx: &RegionCtx<'_>,
    app: App,
    settings: &AppSettings,
    cluster_file: &ClusterFile,
) -> Deployment {
    let plan = ctx.plan;
    let selector = labels::selector(ctx, app.name());
    let pod_labels = labels::common(ctx, app.name(), app.short_name());
    let annotations = scrape_annotations(plan.monitoring.scrape, metrics_port(app).1);
    let http = IntOrString::String("http".to_owned());
    let mut mounts = vec![
        mount(CLUSTER_FILE_VOLUME, CLUSTER_FILE_DIR, false),
        mount("tmp", "/tmp", false),
    ];
    let mut volumes = cluster_file_volumes(cluster_file.config_map()).to_vec();
    volumes.push(empty_dir("tmp"));
    if app == App::Control
        && let Some(volume) = master_key_volume(plan)
    {
        mounts.push(mount("master-key", MASTER_KEY_DIR, true));
        volumes.push(volume);
    }
    let main = Container {
        name: app.short_name().to_owned(),
        image: Some(settings.image.clone()),
        image_pull_policy: Some(settings.image_pull_policy.as_str().to_owned()),
        env: Some(app_env(ctx, app)),
        ports: Some(
            ports(app)
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
        resources: Some(resource_requirements(&settings.resources)),
        security_context: Some(hardened(Some(INFERADB_UID), true)),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let mut init_containers = tailscale::deployment_init_containers(ctx, app.workload());
    init_containers.push(wait_for_foundationdb(
        ctx,
        CopyPolicy::of(cluster_file),
        app == App::Control,
    ));
    let (topology_spread_constraints, affinity) = spread(&selector);
    let (selector, template) = template(
        selector,
        pod_labels,
        annotations,
        PodSpec {
            service_account_name: Some(app.name().to_owned()),
            // Neither binary calls the Kubernetes API: their discovery is off unless configured
            // (engine@a31e3c3:crates/inferadb-engine-config/src/lib.rs:242-250, its client made
            // only in Kubernetes mode, crates/inferadb-engine-api/src/lib.rs:404-425;
            // control@550b7d6:crates/inferadb-control-discovery/src/config.rs:22-26,42-47 and
            // src/lib.rs:61-64), and the Tailscale sidecar keeps no state in a Secret
            // (`KUBERNETES_SERVICE_HOST=""`, render/tailscale.rs). So no token is mounted.
            automount_service_account_token: Some(false),
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
        replicas: Some(settings.replicas),
        selector,
        template,
        ..DeploymentSpec::default()
    };
    k8s_openapi::k8s_if_le_1_36! { let spec = Some(spec); }
    Deployment {
        metadata: app_meta(ctx, app, app.name()),
        spec,
        ..Deployment::default()
    }
}

/// The metadata of an app's object `name`.
fn app_meta(ctx: &RegionCtx<'_>, app: App, name: &str) -> ObjectMeta {
    meta::namespaced(ctx, name, app.name(), app.short_name())
}

fn service(ctx: &RegionCtx<'_>, app: App, name: &str, headless: bool) -> Service {
    let mut metadata = app_meta(ctx, app, name);
    if let Some(labels) = metadata.labels.as_mut() {
        labels.insert(
            SERVICE.to_owned(),
            if headless {
                HEADLESS_SERVICE
            } else {
                MAIN_SERVICE
            }
            .to_owned(),
        );
    }
    Service {
        metadata,
        spec: Some(ServiceSpec {
            cluster_ip: headless.then(|| "None".to_owned()),
            selector: Some(labels::selector(ctx, app.name())),
            ports: Some(
                ports(app)
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

fn disruption_budget(ctx: &RegionCtx<'_>, app: App) -> PodDisruptionBudget {
    let spec = PodDisruptionBudgetSpec {
        // Never blocks a drain, even with one replica; with more, keeps the rest serving.
        max_unavailable: Some(IntOrString::Int(1)),
        selector: Some(LabelSelector {
            match_labels: Some(labels::selector(ctx, app.name())),
            ..LabelSelector::default()
        }),
        // A pod that is running but not ready (a crash loop, FoundationDB unreachable) may be
        // evicted whatever the budget says, so it never blocks a drain (the Kubernetes docs,
        // "Unhealthy Pod Eviction Policy", recommend AlwaysAllow; GA in 1.31, on by default since
        // 1.27; the native sidecars already need 1.28).
        unhealthy_pod_eviction_policy: Some("AlwaysAllow".to_owned()),
        ..PodDisruptionBudgetSpec::default()
    };
    PodDisruptionBudget {
        metadata: app_meta(ctx, app, app.name()),
        spec: Some(spec),
        ..PodDisruptionBudget::default()
    }
}

/// Every engine and control object of a region.
pub(crate) fn objects(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    let apps = &ctx.region.apps;
    let Some(cluster_file) = ctx
        .region
        .cluster_file
        .as_ref()
        .filter(|_| !apps.is_empty())
    else {
        return Vec::new();
    };
    let mut objects = Vec::new();
    if let ClusterFile::Ours {
        config_map,
        connection_string,
    } = cluster_file
    {
        let cluster_file = ConfigMap {
            metadata: meta::namespaced(ctx, config_map, FDB_APP, FDB_APP),
            data: Some(BTreeMap::from([(
                CLUSTER_FILE_KEY.to_owned(),
                format!("{connection_string}\n"),
            )])),
            ..ConfigMap::default()
        };
        objects.push(RenderedObject::new(&cluster_file));
    }
    for &app in apps {
        let Some(settings) = ctx.plan.app_settings(app) else {
            continue;
        };
        let account = ServiceAccount {
            metadata: app_meta(ctx, app, app.name()),
            automount_service_account_token: Some(false),
            ..ServiceAccount::default()
        };
        objects.push(RenderedObject::new(&account));
        objects.push(RenderedObject::new(&service(ctx, app, app.name(), false)));
        if app == App::Engine {
            objects.push(RenderedObject::new(&service(
                ctx,
                app,
                ENGINE_HEADLESS_SERVICE,
                true,
            )));
        }
        objects.push(RenderedObject::new(&disruption_budget(ctx, app)));
        objects.push(RenderedObject::new(&deployment(
            ctx,
            app,
            settings,
            cluster_file,
        )));
    }
    objects
}
