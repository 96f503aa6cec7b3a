//! The spec body: the Terraform module's inputs plus what the real system needs.

use crate::{
    Control, Engine, FearlessDr, Monitoring, NetworkPolicies, Quantity, Region, Tailscale,
};
use crate::{RedundancyMode, StorageEngine};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A multi-region InferaDB deployment on FoundationDB: the inputs of the Terraform module
/// `modules/multi-region` (same names, same defaults) and the additions infera-render needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiRegionSpec {
    /// The regions to deploy to, one Kubernetes cluster (`kubernetes.config_context`) each.
    /// Exactly one has `is_primary: true`, and it must be the preferred one by `priority`
    /// (lower value = preferred).
    pub regions: Vec<Region>,

    /// Base name of the FoundationDB cluster. Each datacenter's `FoundationDBCluster` object is
    /// named `<cluster_name>-<datacenter id>`.
    #[serde(default = "default_cluster_name")]
    pub cluster_name: String,

    /// FoundationDB version (`x.y.z`) run by every datacenter.
    #[serde(default = "default_fdb_version")]
    pub fdb_version: String,

    /// FDB Kubernetes Operator version (`x.y.z`, without the `v`; the image tag adds it).
    #[serde(default = "default_operator_version")]
    pub operator_version: String,

    /// FoundationDB redundancy mode inside each region's primary datacenter. `three_datacenter` is
    /// not accepted: the operator CRD rejects it and FoundationDB forbids it with regions.
    #[serde(default)]
    pub redundancy_mode: RedundancyMode,

    /// FoundationDB storage engine.
    #[serde(default)]
    pub storage_engine: StorageEngine,

    /// Size of each FoundationDB process's persistent volume.
    #[serde(default = "default_volume_size")]
    pub volume_size: Quantity,

    /// Fearless DR: the FoundationDB region and satellite configuration.
    #[serde(default)]
    pub fearless_dr: FearlessDr,

    /// The `status.connectionString` of the datacenter created in bootstrap phase 1. Without it,
    /// a topology of more than one datacenter renders phase 1 only. The CLI flag
    /// `--seed-connection-string` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_connection_string: Option<String>,

    /// Tailscale networking between regions.
    #[serde(default)]
    pub tailscale: Tailscale,

    /// The InferaDB engine.
    #[serde(default)]
    pub engine: Engine,

    /// The InferaDB control plane (an input of the module that the module never rendered).
    #[serde(default)]
    pub control: Control,

    /// Monitoring (Prometheus operator objects).
    #[serde(default)]
    pub monitoring: Monitoring,

    /// NetworkPolicies (off by default).
    #[serde(default)]
    pub network_policies: NetworkPolicies,

    /// Labels added to every rendered object. infera-render keeps `app.kubernetes.io/name`,
    /// `instance`, `component` and `managed-by` (selectors and its own objects) and every
    /// `infera.dev/` and `foundationdb.org/` key; other `app.kubernetes.io/` keys are yours
    /// (`part-of`, `version`, ...), and yours replace infera-render's value (`part-of: inferadb`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Default for MultiRegionSpec {
    /// The module's defaults, with no region (a spec needs at least one).
    fn default() -> Self {
        Self {
            regions: Vec::new(),
            cluster_name: default_cluster_name(),
            fdb_version: default_fdb_version(),
            operator_version: default_operator_version(),
            redundancy_mode: RedundancyMode::default(),
            storage_engine: StorageEngine::default(),
            volume_size: default_volume_size(),
            fearless_dr: FearlessDr::default(),
            seed_connection_string: None,
            tailscale: Tailscale::default(),
            engine: Engine::default(),
            control: Control::default(),
            monitoring: Monitoring::default(),
            network_policies: NetworkPolicies::default(),
            labels: BTreeMap::new(),
        }
    }
}

fn default_cluster_name() -> String {
    "inferadb-fdb".to_owned()
}

fn default_fdb_version() -> String {
    "7.3.43".to_owned()
}

fn default_operator_version() -> String {
    "1.45.0".to_owned()
}

fn default_volume_size() -> Quantity {
    Quantity::new("128Gi")
}
