//! The resolved plan's parts: regions, FoundationDB regions and datacenters, and the settings of
//! every workload, each computed once from the validated spec. Rendering reads these and
//! nothing else.

use super::ids::{DatacenterId, FdbRegionId, RegionId};
use crate::names::App;
use crate::names::tailscale::{Workload, credential_secret};
use crate::syntax::version::Version;
use infera_spec::{
    ImagePullPolicy, KubernetesTarget, RedundancyMode, Resources, SatelliteRedundancyMode,
    SecretKeySelector, SecretString, StorageEngine, TailscaleCredentials, Toleration, Webauthn,
};
use ipnet::IpNet;
use std::collections::BTreeMap;

/// One region of the spec, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionPlan {
    /// Position in `spec.regions`.
    pub index: RegionId,
    /// Region id (the output folder's name).
    pub id: String,
    /// Human-readable name (`name`, or the id).
    pub name: String,
    /// `priority` as written (lower = preferred: the module's meaning).
    pub priority: i32,
    /// Position by `priority`, 0 = preferred.
    pub rank: usize,
    /// Whether the spec marks it `is_primary`.
    pub is_primary: bool,
    /// What the region contributes to FoundationDB.
    pub role: RegionRole,
    /// The FoundationDB region it hosts (active or DR).
    pub fdb_region: Option<FdbRegionId>,
    /// Namespace of the region's objects.
    pub namespace: String,
    /// How to reach the region's Kubernetes cluster.
    pub kubernetes: KubernetesTarget,
    /// The pod network (`pod_cidr`), parsed.
    pub pod_network: Option<IpNet>,
    /// Availability zones, in order.
    pub zones: Vec<String>,
    /// The datacenters this region hosts.
    pub datacenters: Vec<DatacenterId>,
    /// Zones of this region that host no FoundationDB datacenter (engine and control still
    /// spread over every zone).
    pub zones_without_fdb: Vec<String>,
    /// How the region's FoundationDB pods are placed and sized.
    pub fdb_pods: FdbPods,
    /// Where engine and control read the cluster file from, once there is one.
    pub cluster_file: Option<ClusterFile>,
    /// The apps rendered in the region (enabled, and with a cluster file to read).
    pub apps: Vec<App>,
}

impl RegionPlan {
    /// Whether the region runs the FDB operator: it hosts at least one datacenter.
    #[must_use]
    pub fn runs_operator(&self) -> bool {
        !self.datacenters.is_empty()
    }

    /// Whether app `app` is rendered here.
    #[must_use]
    pub fn runs(&self, app: App) -> bool {
        self.apps.contains(&app)
    }

    /// The region's ` --kubeconfig <path> --context <context>` (each when set): what every
    /// `kubectl` command for it, and kubectl plugins after their own name, take.
    #[must_use]
    pub fn kubectl_flags(&self) -> String {
        let mut flags = String::new();
        if let Some(path) = &self.kubernetes.config_path {
            flags.push_str(&format!(" --kubeconfig {path}"));
        }
        if let Some(context) = &self.kubernetes.config_context {
            flags.push_str(&format!(" --context {context}"));
        }
        flags
    }
}

/// What a region contributes to FoundationDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionRole {
    /// Hosts the active FoundationDB region (the `is_primary` region).
    Active,
    /// Hosts the DR FoundationDB region.
    Dr,
    /// Hosts a log-only satellite datacenter of both FDB regions.
    Satellite,
    /// Runs no FoundationDB process.
    Client,
}

impl RegionRole {
    /// `active`, `dr`, `satellite` or `client`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Dr => "dr",
            Self::Satellite => "satellite",
            Self::Client => "client",
        }
    }

    /// Whether the region hosts an FDB region (active or DR).
    #[must_use]
    pub fn hosts_fdb_region(self) -> bool {
        matches!(self, Self::Active | Self::Dr)
    }
}

/// How a region's FoundationDB pods are placed and sized (the region's spec inputs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FdbPods {
    /// Resources of the `foundationdb` container (unset: the operator's default).
    pub resources: Option<Resources>,
    /// StorageClass of the volumes (unset: the cluster's default).
    pub storage_class: Option<String>,
    /// Node selector added next to the zone pin.
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
}

/// Where a region's engine and control read the cluster file from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterFile {
    /// The ConfigMap the operator writes for a datacenter of the region.
    Operator {
        /// Its name, `<FoundationDBCluster name>-config`.
        config_map: String,
    },
    /// infera-render's own ConfigMap, in a region without a datacenter, from the connection
    /// string it was given.
    Ours {
        /// Its name, `<cluster_name>-cluster-file`.
        config_map: String,
        /// The connection string it holds.
        connection_string: String,
    },
}

impl ClusterFile {
    /// The ConfigMap's name.
    #[must_use]
    pub fn config_map(&self) -> &str {
        match self {
            Self::Operator { config_map } | Self::Ours { config_map, .. } => config_map,
        }
    }
}

/// One FoundationDB region: a primary datacenter and its satellites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdbRegionPlan {
    /// The hosting region.
    pub region: RegionId,
    /// Whether this is the active region (the `is_primary` region).
    pub active: bool,
    /// The region's primary datacenter and its FDB priority.
    pub primary: DatacenterRef,
    /// Satellite datacenters in preference order, with their FDB priorities.
    pub satellites: Vec<DatacenterRef>,
}

/// A datacenter as listed in an FDB region, with its FoundationDB priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatacenterRef {
    /// The datacenter.
    pub datacenter: DatacenterId,
    /// FoundationDB priority (higher wins).
    pub fdb_priority: i32,
}

/// Whether a datacenter holds a replica or only transaction logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatacenterKind {
    /// An FDB region's primary datacenter: a full replica.
    Primary,
    /// A satellite: transaction logs only.
    Satellite,
}

/// One FoundationDB datacenter: one `FoundationDBCluster` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatacenterPlan {
    /// Its position in [`crate::Plan::datacenters`].
    pub index: DatacenterId,
    /// Datacenter id (`dataCenter`, FoundationDB's `dcid`): a zone name or a region id.
    pub id: String,
    /// The hosting region.
    pub region: RegionId,
    /// Primary or satellite.
    pub kind: DatacenterKind,
    /// The zone the datacenter's pods are pinned to, if any.
    pub zone: Option<String>,
    /// `metadata.name` of its `FoundationDBCluster`.
    pub resource_name: String,
    /// `processGroupIDPrefix` (unique per datacenter).
    pub process_group_id_prefix: String,
    /// Process counts.
    pub process_counts: ProcessCounts,
    /// Whether this output holds its object (all but the bootstrap datacenter wait for phase 2).
    pub rendered: bool,
}

/// Process counts of a datacenter; `None` where it runs no process of the class (satellites run
/// logs only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessCounts {
    /// Storage processes.
    pub storage: Option<u32>,
    /// Log processes.
    pub log: u32,
    /// Stateless processes.
    pub stateless: Option<u32>,
}

/// Which objects the output holds (a multi-datacenter cluster is bootstrapped in two phases:
/// docs/fdb-multi-region.md §2.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// One datacenter: nothing to seed.
    SingleDatacenter,
    /// No seed yet: only this datacenter is rendered, with a single-datacenter region config and
    /// `usable_regions: 1`. Its `status.connectionString` is the seed for phase 2.
    PhaseOne {
        /// The bootstrap datacenter.
        datacenter: DatacenterId,
    },
    /// Every datacenter, each joining through the seed connection string.
    Seeded {
        /// The connection string of the phase-1 datacenter.
        connection_string: String,
    },
}

/// The database-wide FoundationDB settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdbSettings {
    /// Redundancy mode of each region's primary datacenter.
    pub redundancy_mode: RedundancyMode,
    /// Storage engine.
    pub storage_engine: StorageEngine,
    /// Size of each FoundationDB volume (a validated quantity).
    pub volume_size: String,
    /// Whether Fearless DR is enabled (`fearless_dr.enabled`).
    pub fearless_dr: bool,
    /// `usable_regions` as configured.
    pub usable_regions: u32,
    /// Log processes per satellite region (`satellite_logs`, or its default).
    pub satellite_logs: u32,
    /// How satellites replicate the log tail, when set.
    pub satellite_redundancy_mode: Option<SatelliteRedundancyMode>,
}

/// What engine and control have in common.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSettings {
    /// Pods per region.
    pub replicas: i32,
    /// Container image.
    pub image: String,
    /// Image pull policy.
    pub image_pull_policy: ImagePullPolicy,
    /// Resources of the app container.
    pub resources: Resources,
}

/// The engine, when enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnginePlan {
    /// Replicas, image and resources.
    pub app: AppSettings,
    /// The Secret holding its signing key.
    pub identity_secret: SecretKeySelector,
}

/// Control, when enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlPlan {
    /// Replicas, image and resources.
    pub app: AppSettings,
    /// The Secret holding its master key.
    pub master_key_secret: SecretKeySelector,
    /// The WebAuthn relying party.
    pub webauthn: Webauthn,
}

/// Tailscale, when enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TailscalePlan {
    /// The image, pinned.
    pub image: String,
    /// The image's version, when its tag says (`v1.78.3`).
    pub version: Option<Version>,
    /// Whether containerboot serves `/healthz` and writes Events (1.78 and later).
    pub containerboot_1_78: bool,
    /// Where the credentials come from (resolved: an inline key with `credentials` unset is
    /// `shared_key`).
    pub credentials: TailscaleCredentials,
    /// The one tag of every workload with `shared_key`.
    pub shared_tag: String,
    /// Name of the credential Secret (per workload: its prefix).
    pub secret_name: String,
    /// Key inside the credential Secrets.
    pub secret_key: String,
    /// Subnet-router pods per region.
    pub router_replicas: i32,
    /// The inline OAuth client secret or shared key, allowed into a Secret
    /// (`--allow-plaintext-secrets`).
    pub inline_secret: Option<SecretString>,
}

impl TailscalePlan {
    /// The Secret (and key) a workload's sidecar reads its credential from.
    #[must_use]
    pub fn credential_secret(&self, workload: Workload) -> (String, String) {
        (
            credential_secret(self.credentials, &self.secret_name, workload),
            self.secret_key.clone(),
        )
    }

    /// Whether one key (one tag) serves every workload.
    #[must_use]
    pub fn shared(&self) -> bool {
        self.credentials == TailscaleCredentials::SharedKey
    }

    /// Whether `workload`'s nodes are ephemeral (with the shared key, the one reusable key's
    /// nodes never are).
    #[must_use]
    pub fn ephemeral(&self, workload: Workload) -> bool {
        !self.shared() && workload.ephemeral()
    }

    /// The tag `workload`'s nodes carry in region `region`: its own, or the shared one.
    #[must_use]
    pub fn tag(&self, workload: Workload, region: &str) -> String {
        if self.shared() {
            self.shared_tag.clone()
        } else {
            workload.tag(region)
        }
    }
}

/// Monitoring with the Prometheus operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitoringPlan {
    /// Prometheus scrape annotations on the pods.
    pub scrape: bool,
    /// `ServiceMonitor`/`PodMonitor` objects.
    pub monitors: bool,
}
