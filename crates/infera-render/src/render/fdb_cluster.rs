//! One `FoundationDBCluster` (`apps.foundationdb.org/v1beta2`) per datacenter, and the
//! ServiceAccount/Role its pods need with the unified image.
//!
//! Only keys the operator CRD knows are emitted, in the CRD's spelling (`processCounts` keys and
//! `databaseConfiguration` are snake_case): a test validates every object against the copied
//! CRD with unknown fields forbidden (docs/fdb-multi-region.md §2, §6 rules 17-22, 25-26).

use super::object::{CustomKind, RenderedObject};
use super::pod::FDB_UID;
use super::rbac::{role_ref, service_account};
use super::{RegionCtx, labels, meta, tailscale};
use crate::names::tailscale::Workload;
use crate::names::{FDB_APP, fdb_pods_account};
use crate::plan::{Bootstrap, DatacenterId, DatacenterKind, DatacenterPlan, Plan};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, PersistentVolumeClaimSpec, PodSecurityContext, PodSpec,
    PodTemplateSpec, ResourceRequirements, SecurityContext, ServiceAccount, Toleration,
    VolumeResourceRequirements,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::collections::BTreeMap;

/// Node label that pins a datacenter to its zone.
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// Whether the operator version runs the unified image (the v2 default; docs §2.1).
fn unified_image(plan: &Plan) -> bool {
    plan.operator_version.major >= 2
}

/// Whether the FDB pods run under their own ServiceAccount: the unified image reads and updates
/// its Pod. (The Tailscale sidecar keeps its state on the pod's data volume and needs no RBAC.)
fn pods_need_account(plan: &Plan) -> bool {
    unified_image(plan)
}

/// The operator's `FoundationDBCluster`.
pub(crate) const FOUNDATIONDB_CLUSTER: CustomKind = CustomKind {
    api_version: "apps.foundationdb.org/v1beta2",
    kind: "FoundationDBCluster",
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FoundationDbCluster {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: FoundationDbClusterSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FoundationDbClusterSpec {
    version: String,
    data_center: String,
    #[serde(rename = "processGroupIDPrefix")]
    process_group_id_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed_connection_string: Option<String>,
    database_configuration: DatabaseConfiguration,
    #[serde(skip_serializing_if = "Option::is_none")]
    automation_options: Option<AutomationOptions>,
    process_counts: ProcessCounts,
    processes: BTreeMap<&'static str, ProcessSettings>,
    routing: Routing,
    fault_domain: FaultDomain,
    image_type: &'static str,
}

/// `spec.databaseConfiguration`: identical in every datacenter's object (rule 18).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DatabaseConfiguration {
    redundancy_mode: &'static str,
    storage_engine: &'static str,
    usable_regions: u32,
    regions: Vec<FdbRegion>,
}

impl DatabaseConfiguration {
    /// `usable_regions`.
    pub(crate) fn usable_regions(&self) -> u32 {
        self.usable_regions
    }

    /// `regions` as JSON, the way `fdbcli configure regions=...` takes it, with the primary of
    /// region `lost` at -1 and the other primary at 1: the configuration a forced recovery
    /// leaves behind (FDB@7.3.43:fdbserver/ClusterRecovery.actor.cpp:1355-1392).
    pub(crate) fn regions_without(&self, lost: usize) -> String {
        let mut regions = self.regions.clone();
        for (index, region) in regions.iter_mut().enumerate() {
            if let Some(primary) = region
                .datacenters
                .iter_mut()
                .find(|dc| dc.satellite.is_none())
            {
                primary.priority = if index == lost { -1 } else { 1 };
            }
        }
        serde_json::to_string(&regions).unwrap_or_default()
    }

    /// Each region's primary datacenter and its priority.
    pub(crate) fn primaries(&self) -> impl Iterator<Item = (&str, i32)> {
        self.regions.iter().filter_map(|region| {
            region
                .datacenters
                .iter()
                .find(|dc| dc.satellite.is_none())
                .map(|dc| (dc.id.as_str(), dc.priority))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct FdbRegion {
    datacenters: Vec<FdbDatacenter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    satellite_logs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    satellite_redundancy_mode: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct FdbDatacenter {
    id: String,
    priority: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    satellite: Option<u8>,
}

/// `spec.automationOptions`: only `configureDatabase`, false on every object but the one that
/// changes the database configuration ([`Plan::configuring_datacenter`]); the operator then
/// skips its configuration step for that object
/// (OP@v2.33.0:controllers/update_database_configuration.go:49-51; OP@v1.45.0 :45-47; the field
/// is in both CRDs).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AutomationOptions {
    configure_database: bool,
}

#[derive(Serialize)]
struct ProcessCounts {
    log: i32,
    stateless: i32,
    storage: i32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProcessSettings {
    pod_template: PodTemplateSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    volume_claim_template: Option<VolumeClaimTemplate>,
}

/// The CRD's `volumeClaimTemplate` (a PersistentVolumeClaim); only its spec is set.
#[derive(Serialize)]
struct VolumeClaimTemplate {
    spec: PersistentVolumeClaimSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Routing {
    #[serde(rename = "publicIPSource")]
    public_ip_source: &'static str,
    #[serde(rename = "useDNSInClusterFile")]
    use_dns_in_cluster_file: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FaultDomain {
    key: &'static str,
    value_from: &'static str,
}

/// The database configuration every datacenter carries. In bootstrap phase 1 it is the
/// bootstrap datacenter alone, as a single-datacenter region with `usable_regions: 1`
/// (docs/fdb-multi-region.md §2.4); otherwise the final configuration, which the operator
/// stages itself (§1.6).
pub fn database_configuration(plan: &Plan) -> DatabaseConfiguration {
    let datacenter = |index: DatacenterId, priority: i32, satellite: bool| FdbDatacenter {
        id: plan.datacenters[index].id.clone(),
        priority,
        satellite: satellite.then_some(1),
    };
    if let Bootstrap::PhaseOne {
        datacenter: bootstrap,
    } = plan.bootstrap
    {
        return DatabaseConfiguration {
            redundancy_mode: plan.fdb.redundancy_mode.as_str(),
            storage_engine: plan.fdb.storage_engine.as_str(),
            usable_regions: 1,
            regions: vec![FdbRegion {
                datacenters: vec![datacenter(bootstrap, 1, false)],
                satellite_logs: None,
                satellite_redundancy_mode: None,
            }],
        };
    }
    complete_configuration(plan)
}

/// The configuration of every datacenter once phase 2 is applied, whatever the bootstrap phase.
pub(crate) fn complete_configuration(plan: &Plan) -> DatabaseConfiguration {
    let datacenter = |index: DatacenterId, priority: i32, satellite: bool| FdbDatacenter {
        id: plan.datacenters[index].id.clone(),
        priority,
        satellite: satellite.then_some(1),
    };
    let regions =
        plan.fdb_regions
            .iter()
            .map(|region| {
                let mut datacenters = vec![datacenter(
                    region.primary.datacenter,
                    region.primary.fdb_priority,
                    false,
                )];
                datacenters.extend(region.satellites.iter().map(|satellite| {
                    datacenter(satellite.datacenter, satellite.fdb_priority, true)
                }));
                let satellites = !region.satellites.is_empty();
                FdbRegion {
                    datacenters,
                    satellite_logs: satellites.then_some(plan.fdb.satellite_logs),
                    satellite_redundancy_mode: plan
                        .fdb
                        .satellite_redundancy_mode
                        .filter(|_| satellites)
                        .map(|mode| mode.as_str()),
                }
            })
            .collect();
    DatabaseConfiguration {
        redundancy_mode: plan.fdb.redundancy_mode.as_str(),
        storage_engine: plan.fdb.storage_engine.as_str(),
        usable_regions: if plan.fdb_regions.len() == 2 {
            plan.fdb.usable_regions
        } else {
            1
        },
        regions,
    }
}

fn quantity_map(list: Option<&infera_spec::ResourceList>) -> Option<BTreeMap<String, Quantity>> {
    let list = list?;
    let mut map = BTreeMap::new();
    if let Some(cpu) = &list.cpu {
        map.insert("cpu".to_owned(), Quantity(cpu.as_str().to_owned()));
    }
    if let Some(memory) = &list.memory {
        map.insert("memory".to_owned(), Quantity(memory.as_str().to_owned()));
    }
    (!map.is_empty()).then_some(map)
}

/// Container resources from the spec's `resources`.
pub(crate) fn resource_requirements(resources: &infera_spec::Resources) -> ResourceRequirements {
    ResourceRequirements {
        requests: quantity_map(resources.requests.as_ref()),
        limits: quantity_map(resources.limits.as_ref()),
        ..ResourceRequirements::default()
    }
}

/// Kubernetes tolerations from the spec's.
pub(crate) fn tolerations(items: &[infera_spec::Toleration]) -> Option<Vec<Toleration>> {
    let effect = |effect: infera_spec::TaintEffect| match effect {
        infera_spec::TaintEffect::NoSchedule => "NoSchedule",
        infera_spec::TaintEffect::PreferNoSchedule => "PreferNoSchedule",
        infera_spec::TaintEffect::NoExecute => "NoExecute",
    };
    let operator = |operator: infera_spec::TolerationOperator| match operator {
        infera_spec::TolerationOperator::Equal => "Equal",
        infera_spec::TolerationOperator::Exists => "Exists",
    };
    (!items.is_empty()).then(|| {
        items
            .iter()
            .map(|item| Toleration {
                key: item.key.clone(),
                operator: item.operator.map(|o| operator(o).to_owned()),
                value: item.value.clone(),
                effect: item.effect.map(|e| effect(e).to_owned()),
                toleration_seconds: item.toleration_seconds,
            })
            .collect()
    })
}

/// The pod template of a datacenter's pods; `workload` is the Tailscale identity of its sidecar
/// (stateless pods get an ephemeral one: their `data` volume is an emptyDir).
fn pod_template(
    ctx: &RegionCtx<'_>,
    datacenter: &DatacenterPlan,
    workload: Workload,
) -> PodTemplateSpec {
    let pods = &ctx.region.fdb_pods;
    let mut node_selector = pods.node_selector.clone();
    if let Some(zone) = &datacenter.zone {
        node_selector.insert(ZONE_LABEL.to_owned(), zone.clone());
    }
    // The operator owns the `foundationdb` container's command and image; only its resources
    // and security context are set here (docs §2.1 "Pod template limits").
    let foundationdb = Container {
        name: "foundationdb".to_owned(),
        resources: pods.resources.as_ref().map(resource_requirements),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            run_as_non_root: Some(true),
            run_as_user: Some(FDB_UID),
            run_as_group: Some(FDB_UID),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                ..Capabilities::default()
            }),
            ..SecurityContext::default()
        }),
        ..Container::default()
    };
    let mut containers = vec![foundationdb];
    let mut init_containers = Vec::new();
    if let Some(sidecar) = tailscale::fdb_sidecar(ctx, workload) {
        containers.push(sidecar);
        // User init containers run before the operator's own, which it adds or replaces by name
        // (OP@v2.33.0:internal/pod_models.go:652-666; OP@v1.45.0:internal/deprecations.go:99,
        // internal/pod_models.go:485).
        init_containers.extend(tailscale::own_route_init(ctx));
    }
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels::common(ctx, FDB_APP, "database")),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers,
            init_containers: (!init_containers.is_empty()).then_some(init_containers),
            node_selector: (!node_selector.is_empty()).then_some(node_selector),
            tolerations: tolerations(&pods.tolerations),
            security_context: Some(PodSecurityContext {
                fs_group: Some(FDB_UID),
                // The kubelet applies fsGroup to every file of the volume on each mount unless
                // the volume's root already matches (kubernetes:pkg/volume/volume_linux.go
                // SetVolumeOwnership; KEP-695 skip-permission-change): with `Always`, the Tailscale node key
                // on the data volume would become group-readable by the FoundationDB container
                // after the first restart, and large volumes would be walked on every mount.
                fs_group_change_policy: Some("OnRootMismatch".to_owned()),
                ..PodSecurityContext::default()
            }),
            service_account_name: pods_need_account(ctx.plan)
                .then(|| fdb_pods_account(&ctx.plan.cluster_name)),
            ..PodSpec::default()
        }),
    }
}

fn volume_claim_template(ctx: &RegionCtx<'_>) -> VolumeClaimTemplate {
    VolumeClaimTemplate {
        spec: PersistentVolumeClaimSpec {
            storage_class_name: ctx.region.fdb_pods.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(ctx.plan.fdb.volume_size.clone()),
                )])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        },
    }
}

/// `spec.processes`: every class from `general`, and with Tailscale a `stateless` entry whose
/// sidecar has an ephemeral identity. The operator takes a class's pod template from its own
/// entry, else from `general`, and stateless pods get no volume claim
/// (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1517-1541; OP@v1.45.0 :1312-1335).
fn processes(
    ctx: &RegionCtx<'_>,
    datacenter: &DatacenterPlan,
) -> BTreeMap<&'static str, ProcessSettings> {
    let mut processes = BTreeMap::from([(
        "general",
        ProcessSettings {
            pod_template: pod_template(ctx, datacenter, Workload::Fdb),
            volume_claim_template: Some(volume_claim_template(ctx)),
        },
    )]);
    if ctx.plan.tailscale.is_some() && datacenter.process_counts.stateless.is_some_and(|n| n > 0) {
        processes.insert(
            "stateless",
            ProcessSettings {
                pod_template: pod_template(ctx, datacenter, Workload::FdbEphemeral),
                volume_claim_template: None,
            },
        );
    }
    processes
}

/// The `FoundationDBCluster` of one datacenter.
fn cluster(
    ctx: &RegionCtx<'_>,
    datacenter: &DatacenterPlan,
    configuration: &DatabaseConfiguration,
) -> RenderedObject {
    let plan = ctx.plan;
    let counts = datacenter.process_counts;
    // The operator's `-1`: no process of the class.
    let count = |count: Option<u32>| count.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
    let seed = match &plan.bootstrap {
        Bootstrap::Seeded { connection_string } => Some(connection_string.clone()),
        Bootstrap::SingleDatacenter | Bootstrap::PhaseOne { .. } => None,
    };
    let object = FoundationDbCluster {
        api_version: FOUNDATIONDB_CLUSTER.api_version,
        kind: FOUNDATIONDB_CLUSTER.kind,
        metadata: ObjectMeta {
            annotations: Some(meta::prune_protection()),
            ..meta::namespaced(ctx, &datacenter.resource_name, FDB_APP, "database")
        },
        spec: FoundationDbClusterSpec {
            version: plan.fdb_version.to_string(),
            data_center: datacenter.id.clone(),
            process_group_id_prefix: datacenter.process_group_id_prefix.clone(),
            seed_connection_string: seed,
            database_configuration: configuration.clone(),
            automation_options: (datacenter.index != plan.configuring_datacenter).then_some(
                AutomationOptions {
                    configure_database: false,
                },
            ),
            process_counts: ProcessCounts {
                log: count(Some(counts.log)),
                stateless: count(counts.stateless),
                storage: count(counts.storage),
            },
            processes: processes(ctx, datacenter),
            // FDB advertises pod IPs; across Kubernetes clusters they must be routed (pod CIDRs
            // over Tailscale), and DNS names in the cluster file would not resolve in the other
            // clusters, so both are set explicitly (v2 defaults DNS on; docs §5.3, rule 25).
            routing: Routing {
                public_ip_source: "pod",
                use_dns_in_cluster_file: false,
            },
            // One zone per node, the operator's default, stated explicitly (docs §7.8: a `value`
            // is ignored for other keys).
            fault_domain: FaultDomain {
                key: "kubernetes.io/hostname",
                value_from: "spec.nodeName",
            },
            image_type: if unified_image(plan) {
                "unified"
            } else {
                "split"
            },
        },
    };
    debug_assert!(datacenter.kind == DatacenterKind::Primary || counts.storage.is_none());
    RenderedObject::custom(&FOUNDATIONDB_CLUSTER, &object)
}

/// The FoundationDB objects of one region: each datacenter it hosts (in phase 1 only the
/// bootstrap datacenter), plus the pods' ServiceAccount and Role with the unified image.
pub(crate) fn objects(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    let configuration = database_configuration(ctx.plan);
    let mut objects: Vec<RenderedObject> = ctx
        .region
        .datacenters
        .iter()
        .map(|&index| &ctx.plan.datacenters[index])
        .filter(|datacenter| datacenter.rendered)
        .map(|datacenter| cluster(ctx, datacenter, &configuration))
        .collect();
    if !objects.is_empty() && pods_need_account(ctx.plan) {
        objects.extend(pods_rbac(ctx));
    }
    objects
}

/// The FDB pods' ServiceAccount; with the unified image also the Role to read and update their
/// own Pod object (OP@v2.33.0:docs/manual/technical_design.md:451, config/samples/cluster.yaml),
/// rule 26.
fn pods_rbac(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    let name = fdb_pods_account(&ctx.plan.cluster_name);
    let namespace = ctx.region.namespace.clone();
    let metadata = meta::namespaced(ctx, &name, FDB_APP, "database");
    let account = ServiceAccount {
        metadata: metadata.clone(),
        ..ServiceAccount::default()
    };
    let role = Role {
        metadata: metadata.clone(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".to_owned()]),
            verbs: ["get", "list", "watch", "update", "patch"]
                .map(str::to_owned)
                .to_vec(),
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata,
        role_ref: role_ref("Role", &name),
        subjects: Some(vec![service_account(&name, &namespace)]),
    };
    vec![
        RenderedObject::new(&account),
        RenderedObject::new(&role),
        RenderedObject::new(&binding),
    ]
}
