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
    config_map_file, empty_dir, env, fixed_resources, hardened, http_probe, mount, pod_security,
    scrape_annotations, secret_file, spread, template,
};
use super::ports::{
    CONTROL_GRPC, CONTROL_HTTP, CONTROL_MESH, ENGINE_GRPC, ENGINE_HTTP, ENGINE_MESH,
};
use super::rbac::{role_ref, service_account};
use super::tailscale;
use super::tailscale_names::Workload;
use crate::naming::{
    CLUSTER_FILE_KEY, CLUSTER_FILE_PATH, client_cluster_file_config_map,
    fdb_cluster_file_config_map,
};
use crate::plan::{Bootstrap, Plan};
use infera_spec::{ImagePullPolicy, Resources};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerPort, PodSpec, Service, ServiceAccount, ServicePort, ServiceSpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The uid/gid the InferaDB images run as (`nonroot`).
const INFERADB_UID: i64 = 65532;
/// The uid of the FoundationDB image, for the wait-for-FoundationDB init container.
const FDB_UID: i64 = 4059;
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

    /// `(name, port)` of http, grpc and mesh.
    pub(crate) fn ports(self) -> [(&'static str, u16); 3] {
        match self {
            Self::Engine => [
                ("http", ENGINE_HTTP),
                ("grpc", ENGINE_GRPC),
                ("mesh", ENGINE_MESH),
            ],
            Self::Control => [
                ("http", CONTROL_HTTP),
                ("grpc", CONTROL_GRPC),
                ("mesh", CONTROL_MESH),
            ],
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

    /// The in-cluster URL of this app's port `port_name`, for the other app's mesh client.
    pub(crate) fn url(self, namespace: &str, port_name: &str) -> String {
        let port = self
            .ports()
            .iter()
            .find(|(name, _)| *name == port_name)
            .map_or(0, |(_, port)| *port);
        format!("http://{}.{namespace}.svc:{port}", self.name())
    }
}

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
/// §6.2-§6.3). The config file the image points at may be absent: the engine loads it with
/// `required(false)` and layers these variables on top.
pub(crate) fn app_env(plan: &Plan, region: usize, app: App) -> Vec<(String, String)> {
    let prefix = app.env_prefix();
    let namespace = &plan.region_spec(region).namespace;
    let mut vars: Vec<(String, String)> = vec![
        (format!("{prefix}STORAGE"), "foundationdb".to_owned()),
        (
            format!("{prefix}FOUNDATIONDB__CLUSTER_FILE"),
            CLUSTER_FILE_PATH.to_owned(),
        ),
    ];
    for (name, port) in app.ports() {
        // Control binds 127.0.0.1 by default; pods must listen on every interface.
        vars.push((
            format!("{prefix}LISTEN__{}", name.to_ascii_uppercase()),
            format!("0.0.0.0:{port}"),
        ));
    }
    match app {
        App::Engine if plan.spec.control.enabled => {
            vars.push((
                format!("{prefix}MESH__URL"),
                App::Control.url(namespace, "mesh"),
            ));
        }
        App::Control => {
            if plan.spec.engine.enabled {
                vars.push((
                    format!("{prefix}MESH__URL"),
                    App::Engine.url(namespace, "http"),
                ));
            }
            vars.push((
                format!("{prefix}KEY_FILE"),
                "/etc/inferadb/master-key/master.key".to_owned(),
            ));
            let webauthn = &plan.spec.control.webauthn;
            if let Some(party) = &webauthn.party {
                vars.push((format!("{prefix}WEBAUTHN__PARTY"), party.clone()));
            }
            if let Some(origin) = &webauthn.origin {
                vars.push((format!("{prefix}WEBAUTHN__ORIGIN"), origin.clone()));
            }
        }
        App::Engine => {}
    }
    vars
}

/// The init container that waits until FoundationDB answers, so the app never starts on a
/// database it cannot reach (deploy@5137003 flux/apps/base/engine/deployment.yaml).
pub(crate) fn wait_for_foundationdb(plan: &Plan) -> Container {
    let script = format!(
        "until fdbcli -C {CLUSTER_FILE_PATH} --exec 'status minimal' --timeout 10 | grep -q 'is available'; do echo 'waiting for FoundationDB'; sleep 5; done"
    );
    Container {
        name: "wait-for-foundationdb".to_owned(),
        image: Some(format!("foundationdb/foundationdb:{}", plan.fdb_version)),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec!["/bin/sh".to_owned(), "-c".to_owned(), script]),
        volume_mounts: Some(vec![
            mount("fdb-cluster-file", "/etc/foundationdb", true),
            mount("tmp", "/tmp", false),
        ]),
        resources: Some(fixed_resources("100m", "128Mi")),
        security_context: Some(hardened(Some(FDB_UID), true)),
        ..Container::default()
    }
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
        mount("fdb-cluster-file", "/etc/foundationdb", true),
        mount("tmp", "/tmp", false),
    ];
    let mut volumes = vec![
        config_map_file(
            "fdb-cluster-file",
            config_map,
            CLUSTER_FILE_KEY,
            "fdb.cluster",
        ),
        empty_dir("tmp"),
    ];
    if app == App::Control {
        let secret = &plan.spec.control.master_key_secret;
        mounts.push(mount("master-key", "/etc/inferadb/master-key", true));
        volumes.push(secret_file(
            "master-key",
            &secret.name,
            &secret.key,
            "master.key",
        ));
    }
    let main = Container {
        name: app.name().trim_start_matches("inferadb-").to_owned(),
        image: Some(settings.image.to_owned()),
        image_pull_policy: Some(settings.pull_policy.as_str().to_owned()),
        env: Some(
            app_env(plan, region, app)
                .into_iter()
                .map(|(name, value)| env(&name, value))
                .collect(),
        ),
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
        startup_probe: Some(http_probe("/startupz", http.clone(), 5, 60)),
        liveness_probe: Some(http_probe("/livez", http.clone(), 10, 3)),
        readiness_probe: Some(http_probe("/readyz", http, 5, 3)),
        resources: Some(resource_requirements(settings.resources)),
        security_context: Some(hardened(Some(INFERADB_UID), true)),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    let mut init_containers = tailscale::deployment_init_containers(plan, region, app.workload());
    init_containers.push(wait_for_foundationdb(plan));
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

fn service(plan: &Plan, region: usize, app: App, name: &str, headless: bool) -> Service {
    Service {
        metadata: metadata(plan, region, name, app.name()),
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
