//! One region of the deployment: a Kubernetes cluster in one cloud region.

use crate::{FdbRole, KubernetesTarget, Resources, Toleration};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A region to deploy to: one Kubernetes cluster, reached through `kubernetes.config_context`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Region id, e.g. `us-west-1`: a DNS label, unique among regions. It names the output
    /// folder and, when the region lists no zones, its FoundationDB datacenter.
    pub id: String,

    /// Human-readable name, e.g. `US West`. Defaults to `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,

    /// Whether this is the primary region (exactly one). It must also be the preferred region by
    /// `priority`; it becomes the active FoundationDB region.
    pub is_primary: bool,

    /// Failover preference: lower value = preferred (the module's meaning). infera-render
    /// converts it to FoundationDB's priority, where higher wins; `plan` shows the conversion.
    pub priority: i32,

    /// Namespace of the region's objects; the FDB operator runs in it as well.
    #[serde(default = "default_namespace")]
    pub namespace: String,

    /// Availability zones, in order. With an FDB role of `region`, the first zone hosts the
    /// region's primary datacenter and the next ones its satellites (see
    /// `fearless_dr.satellite_redundancy_mode`). Without zones the region is one datacenter
    /// named after `id`, not pinned to a zone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,

    /// How to reach this region's Kubernetes cluster. `config_context` names the kubeconfig
    /// context used by the apply steps in `APPLY.md`.
    #[serde(default)]
    pub kubernetes: KubernetesTarget,

    /// Accepted for compatibility with the module; FoundationDB runs one version everywhere, so
    /// it must equal the top-level `fdb_version` if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fdb_version: Option<String>,

    /// FoundationDB process counts of this region's primary datacenter.
    #[serde(default)]
    pub process_counts: ProcessCounts,

    /// Resources of each FoundationDB process's `foundationdb` container. Unset: the operator's
    /// default (1 CPU / 8 GiB, requests = limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,

    /// StorageClass of the FoundationDB volumes. Unset: the cluster's default StorageClass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,

    /// Node selector added to the FoundationDB pods (next to the zone pin).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,

    /// Tolerations added to the FoundationDB pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,

    /// CIDR of this cluster's pod network, e.g. `10.10.0.0/16`. FoundationDB processes advertise
    /// pod IPs, so cross-region traffic needs the pod CIDRs routed (Tailscale subnet routers
    /// advertise them). Must not overlap another region's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_cidr: Option<String>,

    /// What this region contributes to the FoundationDB cluster. Default `auto`: the two
    /// preferred regions host FDB regions, any other region is a client region.
    #[serde(default)]
    pub fdb_role: FdbRole,
}

impl Region {
    /// A region with the given id, primary flag and priority, and every other input at its
    /// default.
    #[must_use]
    pub fn new(id: impl Into<String>, is_primary: bool, priority: i32) -> Self {
        Self {
            id: id.into(),
            name: None,
            is_primary,
            priority,
            namespace: default_namespace(),
            zones: Vec::new(),
            kubernetes: KubernetesTarget::default(),
            fdb_version: None,
            process_counts: ProcessCounts::default(),
            resources: None,
            storage_class: None,
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            pod_cidr: None,
            fdb_role: FdbRole::Auto,
        }
    }

    /// The display name: `name`, or `id` when unset.
    #[must_use]
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// FoundationDB process counts of a region's primary datacenter (the operator's `processCounts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessCounts {
    /// Storage processes.
    #[serde(default = "default_process_count")]
    pub storage: u32,
    /// Transaction log processes.
    #[serde(default = "default_process_count")]
    pub log: u32,
    /// Stateless processes (proxies, resolvers, cluster controller, ...).
    #[serde(default = "default_process_count")]
    pub stateless: u32,
}

impl Default for ProcessCounts {
    fn default() -> Self {
        Self {
            storage: default_process_count(),
            log: default_process_count(),
            stateless: default_process_count(),
        }
    }
}

fn default_namespace() -> String {
    "inferadb".to_owned()
}

fn default_process_count() -> u32 {
    3
}
