//! `outputs.json`: the Terraform module's outputs, with the values known at render time, as
//! typed serde structs (their JSON Schema is `schemas/outputs.schema.json`, drift-checked like
//! the spec's). Values only a running cluster knows are `null` and listed in
//! `unknown_at_render_time`. Fields serialize in declaration order.

use super::inferadb::{metrics_port, ports};
use super::operator::operator_image;
use crate::model::failure::Lost;
use crate::names::tailscale::{ROUTER_NAME, Workload};
use crate::names::{
    App, CLUSTER_FILE_KEY, CLUSTER_FILE_PATH, ENGINE_HEADLESS_SERVICE, OPERATOR_DEPLOYMENT,
    fdb_cluster_file_config_map,
};
use crate::plan::failures::action;
use crate::plan::{Bootstrap, ClusterFile, DatacenterKind, Plan, RegionPlan};
use schemars::JsonSchema;
use serde::Serialize;

/// Entries keyed by region id, in spec order.
pub type ByRegion<T> = indexmap::IndexMap<String, T>;

/// The outputs document (`outputs.json`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Outputs {
    /// Every region, by id.
    pub regions: ByRegion<RegionOutput>,
    /// The `is_primary` region.
    pub primary_region: Option<PrimaryRegion>,
    /// The FDB operator of each region that hosts datacenters.
    pub fdb_operators: ByRegion<OperatorOutput>,
    /// The FoundationDB objects of each region that hosts datacenters.
    pub fdb_clusters: ByRegion<ClusterOutput>,
    /// The engine's Services per region (empty when the engine is disabled).
    pub engine_endpoints: ByRegion<Endpoint>,
    /// Control's Services per region (empty when control is disabled).
    pub control_endpoints: ByRegion<Endpoint>,
    /// The FoundationDB region configuration and what survives which loss.
    pub fearless_dr_config: FearlessDrConfig,
    /// Where clients find the cluster file.
    pub cluster_connection_info: ClusterConnectionInfo,
    /// The Tailscale setup.
    pub tailscale_config: TailscaleConfig,
    /// Whether the pods carry Prometheus scrape annotations.
    pub monitoring_enabled: bool,
    /// Whether ServiceMonitors and PodMonitors are rendered.
    pub service_monitors: bool,
    /// Which bootstrap phase this output is.
    pub bootstrap: BootstrapOutput,
    /// The outputs only a running cluster knows.
    pub unknown_at_render_time: Vec<String>,
}

/// One region.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RegionOutput {
    /// Region id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether it is the primary region.
    pub is_primary: bool,
    /// `priority` as written (lower = preferred).
    pub priority: i32,
    /// Namespace.
    pub namespace: String,
    /// Kubeconfig context.
    pub kubernetes_context: Option<String>,
    /// `active`, `dr`, `satellite` or `client`.
    pub fdb_role: String,
}

/// The primary region.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct PrimaryRegion {
    /// Region id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
}

/// A region's FDB operator.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct OperatorOutput {
    /// Namespace.
    pub namespace: String,
    /// Its Deployment.
    pub deployment_name: String,
    /// Operator version.
    pub release_version: String,
    /// Operator image.
    pub image: String,
    /// Unknown at render time.
    pub release_status: Option<String>,
    /// Unknown at render time.
    pub operator_ready: Option<bool>,
}

/// A region's FoundationDB objects.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ClusterOutput {
    /// The first datacenter's `FoundationDBCluster`.
    pub cluster_name: String,
    /// Namespace.
    pub namespace: String,
    /// FoundationDB version.
    pub fdb_version: String,
    /// Region id.
    pub region_id: String,
    /// Whether the region is primary.
    pub is_primary: bool,
    /// Redundancy mode.
    pub redundancy_mode: String,
    /// The operator's cluster-file ConfigMap of the first datacenter.
    pub cluster_file_configmap_name: String,
    /// Always null: the operator keeps the cluster file in its ConfigMap.
    pub cluster_file_secret_name: Option<String>,
    /// Whether Tailscale is enabled.
    pub tailscale_enabled: bool,
    /// Every datacenter of the region.
    pub datacenters: Vec<DatacenterOutput>,
}

/// One datacenter.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DatacenterOutput {
    /// Datacenter id (`dcid`).
    pub id: String,
    /// `primary` or `satellite`.
    pub kind: String,
    /// Its zone, when pinned.
    pub zone: Option<String>,
    /// Its `FoundationDBCluster`.
    pub cluster_name: String,
    /// The operator's cluster-file ConfigMap.
    pub cluster_file_configmap_name: String,
    /// The ConfigMap's key.
    pub cluster_file_configmap_key: String,
    /// Whether this output holds its object.
    pub rendered: bool,
}

/// An app's Service in a region.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Endpoint {
    /// Service name.
    pub service_name: String,
    /// Namespace.
    pub namespace: String,
    /// In-cluster DNS name.
    pub service_dns: String,
    /// The HTTP port.
    pub http_port: u16,
    /// The mesh port.
    pub mesh_port: u16,
    /// Where Prometheus scrapes `/metrics`.
    pub metrics_port: u16,
    /// The engine's headless Service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headless_service_name: Option<String>,
    /// Unknown at render time.
    pub cluster_ip: Option<String>,
    /// Whether the app is rendered in this region (it waits for a cluster file otherwise).
    pub rendered: bool,
}

/// The FoundationDB region configuration.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FearlessDrConfig {
    /// `fearless_dr.enabled`.
    pub enabled: bool,
    /// `usable_regions`.
    pub usable_regions: u32,
    /// Satellite logs, when satellites are in use.
    pub satellite_logs: Option<u32>,
    /// Satellite redundancy mode, when satellites are in use.
    pub satellite_redundancy_mode: Option<String>,
    /// The FDB regions, the active one first.
    pub regions: Vec<FdbRegionOutput>,
    /// What happens when each datacenter and each region of the rendered topology is lost (the
    /// same computation as `plan` and `APPLY.md`).
    pub failure_scenarios: Vec<FailureScenario>,
}

/// One FDB region.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FdbRegionOutput {
    /// The hosting region's id.
    pub id: String,
    /// Its primary's FoundationDB priority.
    pub priority: i32,
    /// Whether it is active.
    pub active: bool,
    /// Its datacenters: the primary, then the satellites.
    pub datacenters: Vec<FdbDatacenterOutput>,
}

/// A datacenter in an FDB region.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FdbDatacenterOutput {
    /// Datacenter id.
    pub id: String,
    /// FoundationDB priority.
    pub priority: i32,
    /// Whether it is a satellite.
    pub satellite: bool,
}

/// What the loss of a datacenter or region means.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct FailureScenario {
    /// What is lost.
    pub lost: LostOutput,
    /// Whether FoundationDB recovers by itself without losing an acknowledged commit.
    pub automatic: bool,
    /// Whether acknowledged commits are lost.
    pub data_loss: bool,
    /// The fewest coordinators left, whatever order the datacenters joined in.
    pub coordinators_left: u32,
    /// How many coordinators there are.
    pub coordinators: u32,
    /// What to do.
    pub action: String,
}

/// A lost datacenter or region.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LostOutput {
    /// A datacenter, by id.
    Datacenter(String),
    /// A region, by id.
    Region(String),
}

/// Where clients find the cluster file.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ClusterConnectionInfo {
    /// The path engine and control open.
    pub fdb_cluster_file_path: String,
    /// The active primary's cluster-file ConfigMap.
    pub fdb_configmap_name: String,
    /// Its key.
    pub fdb_configmap_key: String,
    /// Each region's cluster-file source.
    pub cluster_files: ByRegion<ClusterFileOutput>,
    /// The engine's Service in the primary region.
    pub engine_service: Option<String>,
    /// The engine's HTTP port.
    pub engine_http_port: u16,
    /// The module's output; the engine serves no gRPC, so it is null.
    pub engine_grpc_port: Option<u16>,
    /// The seed connection string (phase 2).
    pub seed_connection_string: Option<String>,
}

/// A region's cluster-file source.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ClusterFileOutput {
    /// The ConfigMap, once there is one.
    pub configmap_name: Option<String>,
    /// Its key.
    pub configmap_key: String,
    /// `fdb-operator` or `infera-render`.
    pub written_by: Option<String>,
}

/// The Tailscale setup: `{"enabled": false}`, or everything else too.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TailscaleConfig {
    /// Whether Tailscale is enabled.
    pub enabled: bool,
    /// The rest, when enabled.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<TailscaleDetails>,
}

/// Tailscale, when enabled.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct TailscaleDetails {
    /// The image.
    pub image: String,
    /// `per_workload_keys`, `oauth_client` or `shared_key`.
    pub credentials: String,
    /// Each workload's identity.
    pub workloads: Vec<WorkloadOutput>,
    /// Each region's subnet router.
    pub subnet_routers: ByRegion<RouterOutput>,
    /// The policy file.
    pub policy_file: String,
}

/// A workload's Tailscale identity.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct WorkloadOutput {
    /// `fdb`, `fdb-ephemeral`, `engine`, `control` or `router`.
    pub workload: String,
    /// Its tag (null for the routers, whose tag names their region: see `subnet_routers`; with
    /// `shared_key` every workload's tag is the shared one).
    pub tag: Option<String>,
    /// The credential Secret.
    pub secret_name: String,
    /// Its key.
    pub secret_key: String,
    /// Whether its nodes are ephemeral.
    pub ephemeral: bool,
}

/// A region's subnet router.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct RouterOutput {
    /// Its StatefulSet.
    pub statefulset: String,
    /// Pods.
    pub replicas: i32,
    /// Its tag.
    pub tag: String,
    /// The routes it advertises.
    pub advertised_routes: Vec<String>,
}

/// The bootstrap phase.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BootstrapOutput {
    /// 1 or 2, null with one datacenter.
    pub phase: Option<u8>,
    /// The datacenters this output holds.
    pub rendered_datacenters: Vec<String>,
    /// The datacenters phase 2 adds.
    pub pending_datacenters: Vec<String>,
}

fn by_region<T>(plan: &Plan, entry: impl Fn(&RegionPlan) -> Option<T>) -> ByRegion<T> {
    plan.regions
        .iter()
        .filter_map(|region| Some((region.id.clone(), entry(region)?)))
        .collect()
}

fn failure_scenarios(plan: &Plan) -> Vec<FailureScenario> {
    let rendered = &plan.failures.rendered;
    rendered
        .analysis
        .scenarios
        .iter()
        .map(|scenario| FailureScenario {
            lost: match &scenario.lost {
                Lost::Datacenter(id) => LostOutput::Datacenter(id.clone()),
                Lost::Region(id) => LostOutput::Region(id.clone()),
            },
            automatic: scenario.automatic,
            data_loss: scenario.data_loss,
            coordinators_left: scenario.coordinators_left,
            coordinators: scenario.coordinators,
            action: action(plan, &rendered.topology, scenario),
        })
        .collect()
}

fn endpoints(plan: &Plan, app: App) -> ByRegion<Endpoint> {
    let [(_, http_port), (_, mesh_port)] = ports(app);
    by_region(plan, |region| {
        plan.app_enabled(app).then(|| {
            let namespace = &region.namespace;
            Endpoint {
                service_name: app.name().to_owned(),
                namespace: namespace.clone(),
                service_dns: format!("{}.{namespace}.svc.cluster.local", app.name()),
                http_port,
                mesh_port,
                metrics_port: metrics_port(app).1,
                headless_service_name: (app == App::Engine)
                    .then(|| ENGINE_HEADLESS_SERVICE.to_owned()),
                cluster_ip: None,
                rendered: region.runs(app),
            }
        })
    })
}

fn clusters(plan: &Plan, region: &RegionPlan) -> Option<ClusterOutput> {
    let first = &plan.datacenters[*region.datacenters.first()?];
    Some(ClusterOutput {
        cluster_name: first.resource_name.clone(),
        namespace: region.namespace.clone(),
        fdb_version: plan.fdb_version.to_string(),
        region_id: region.id.clone(),
        is_primary: region.is_primary,
        redundancy_mode: plan.fdb.redundancy_mode.as_str().to_owned(),
        cluster_file_configmap_name: fdb_cluster_file_config_map(&first.resource_name),
        cluster_file_secret_name: None,
        tailscale_enabled: plan.tailscale.is_some(),
        datacenters: region
            .datacenters
            .iter()
            .map(|&index| {
                let datacenter = &plan.datacenters[index];
                DatacenterOutput {
                    id: datacenter.id.clone(),
                    kind: match datacenter.kind {
                        DatacenterKind::Primary => "primary",
                        DatacenterKind::Satellite => "satellite",
                    }
                    .to_owned(),
                    zone: datacenter.zone.clone(),
                    cluster_name: datacenter.resource_name.clone(),
                    cluster_file_configmap_name: fdb_cluster_file_config_map(
                        &datacenter.resource_name,
                    ),
                    cluster_file_configmap_key: CLUSTER_FILE_KEY.to_owned(),
                    rendered: datacenter.rendered,
                }
            })
            .collect(),
    })
}

fn tailscale_config(plan: &Plan) -> TailscaleConfig {
    let details = plan.tailscale.as_ref().map(|tailscale| TailscaleDetails {
        image: tailscale.image.clone(),
        credentials: tailscale.credentials.as_str().to_owned(),
        workloads: Workload::ALL
            .iter()
            .map(|&workload| {
                let (secret_name, secret_key) = tailscale.credential_secret(workload);
                WorkloadOutput {
                    workload: workload.name().to_owned(),
                    // The routers' tag differs per region: see `subnet_routers`.
                    tag: (workload != Workload::Router).then(|| tailscale.tag(workload, "")),
                    secret_name,
                    secret_key,
                    ephemeral: tailscale.ephemeral(workload),
                }
            })
            .collect(),
        subnet_routers: by_region(plan, |region| {
            Some(RouterOutput {
                statefulset: ROUTER_NAME.to_owned(),
                replicas: tailscale.router_replicas,
                tag: tailscale.tag(Workload::Router, &region.id),
                advertised_routes: vec![region.pod_network?.to_string()],
            })
        }),
        policy_file: "tailnet-policy.hujson".to_owned(),
    });
    TailscaleConfig {
        enabled: details.is_some(),
        details,
    }
}

/// The outputs of `plan`.
pub(crate) fn outputs(plan: &Plan) -> Outputs {
    let primary = plan.regions.iter().find(|region| region.is_primary);
    let active = &plan.datacenters[plan.active().primary.datacenter];
    let satellites = plan.satellites_in_use();
    let fdb_datacenter =
        |id: crate::DatacenterId, priority: i32, satellite: bool| FdbDatacenterOutput {
            id: plan.datacenters[id].id.clone(),
            priority,
            satellite,
        };
    Outputs {
        regions: by_region(plan, |region| {
            Some(RegionOutput {
                id: region.id.clone(),
                name: region.name.clone(),
                is_primary: region.is_primary,
                priority: region.priority,
                namespace: region.namespace.clone(),
                kubernetes_context: region.kubernetes.config_context.clone(),
                fdb_role: region.role.as_str().to_owned(),
            })
        }),
        primary_region: primary.map(|region| PrimaryRegion {
            id: region.id.clone(),
            name: region.name.clone(),
            namespace: region.namespace.clone(),
        }),
        fdb_operators: by_region(plan, |region| {
            region.runs_operator().then(|| OperatorOutput {
                namespace: region.namespace.clone(),
                deployment_name: OPERATOR_DEPLOYMENT.to_owned(),
                release_version: plan.operator_version.to_string(),
                image: operator_image(plan),
                release_status: None,
                operator_ready: None,
            })
        }),
        fdb_clusters: by_region(plan, |region| clusters(plan, region)),
        engine_endpoints: endpoints(plan, App::Engine),
        control_endpoints: endpoints(plan, App::Control),
        fearless_dr_config: FearlessDrConfig {
            enabled: plan.fdb.fearless_dr,
            usable_regions: plan.fdb.usable_regions,
            satellite_logs: satellites.then_some(plan.fdb.satellite_logs),
            satellite_redundancy_mode: plan
                .fdb
                .satellite_redundancy_mode
                .filter(|_| satellites)
                .map(|mode| mode.as_str().to_owned()),
            regions: plan
                .fdb_regions
                .iter()
                .map(|region| FdbRegionOutput {
                    id: plan.regions[region.region].id.clone(),
                    priority: region.primary.fdb_priority,
                    active: region.active,
                    datacenters: std::iter::once(fdb_datacenter(
                        region.primary.datacenter,
                        region.primary.fdb_priority,
                        false,
                    ))
                    .chain(region.satellites.iter().map(|satellite| {
                        fdb_datacenter(satellite.datacenter, satellite.fdb_priority, true)
                    }))
                    .collect(),
                })
                .collect(),
            failure_scenarios: failure_scenarios(plan),
        },
        cluster_connection_info: ClusterConnectionInfo {
            fdb_cluster_file_path: CLUSTER_FILE_PATH.to_owned(),
            fdb_configmap_name: fdb_cluster_file_config_map(&active.resource_name),
            fdb_configmap_key: CLUSTER_FILE_KEY.to_owned(),
            cluster_files: by_region(plan, |region| {
                let source = region.cluster_file.as_ref();
                Some(ClusterFileOutput {
                    configmap_name: source.map(|source| source.config_map().to_owned()),
                    configmap_key: CLUSTER_FILE_KEY.to_owned(),
                    written_by: source.map(|source| {
                        match source {
                            ClusterFile::Ours { .. } => "infera-render",
                            ClusterFile::Operator { .. } => "fdb-operator",
                        }
                        .to_owned()
                    }),
                })
            }),
            engine_service: primary.filter(|_| plan.engine.is_some()).map(|region| {
                format!(
                    "{}.{}.svc.cluster.local",
                    App::Engine.name(),
                    region.namespace
                )
            }),
            engine_http_port: ports(App::Engine)[0].1,
            engine_grpc_port: None,
            seed_connection_string: match &plan.bootstrap {
                Bootstrap::Seeded { connection_string } => Some(connection_string.clone()),
                Bootstrap::PhaseOne { .. } | Bootstrap::SingleDatacenter => None,
            },
        },
        tailscale_config: tailscale_config(plan),
        monitoring_enabled: plan.monitoring.scrape,
        service_monitors: plan.monitoring.monitors,
        bootstrap: BootstrapOutput {
            phase: match &plan.bootstrap {
                Bootstrap::PhaseOne { .. } => Some(1),
                Bootstrap::Seeded { .. } => Some(2),
                Bootstrap::SingleDatacenter => None,
            },
            rendered_datacenters: plan
                .datacenters
                .iter()
                .filter(|dc| dc.rendered)
                .map(|dc| dc.id.clone())
                .collect(),
            pending_datacenters: plan
                .datacenters
                .iter()
                .filter(|dc| !dc.rendered)
                .map(|dc| dc.id.clone())
                .collect(),
        },
        unknown_at_render_time: [
            "fdb_operators.*.release_status: the operator Deployment's rollout status",
            "fdb_operators.*.operator_ready: whether the operator is ready",
            "engine_endpoints.*.cluster_ip, control_endpoints.*.cluster_ip: assigned by each cluster",
            "fdb_clusters.*.cluster_file_secret_name: the operator keeps the cluster file in its ConfigMap; there is no Secret",
            "the connection string: the operator picks the coordinators; read status.connectionString",
        ]
        .map(str::to_owned)
        .to_vec(),
    }
}

/// The JSON Schema of `outputs.json` (`schemas/outputs.schema.json`).
#[must_use]
pub fn outputs_schema_text() -> String {
    let schema = schemars::schema_for!(Outputs);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
