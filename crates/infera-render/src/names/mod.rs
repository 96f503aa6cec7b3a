//! Every name infera-render derives for a Kubernetes or FoundationDB object, in one place, with
//! the length budgets those names must fit: object names here, label keys in [`labels`], the
//! Tailscale identities in [`tailscale`].

pub mod annotations;
pub mod budgets;
pub mod labels;
pub mod tailscale;

pub use budgets::{FDB_CLUSTER_NAME_MAX, PROCESS_GROUP_ID_PREFIX_MAX};

/// One of the two InferaDB workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum App {
    /// The authorization engine.
    Engine,
    /// The control plane.
    Control,
}

impl App {
    /// Both, in render order.
    pub const ALL: [App; 2] = [App::Engine, App::Control];

    /// Object name and `app.kubernetes.io/name`: `inferadb-engine` or `inferadb-control`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Engine => "inferadb-engine",
            Self::Control => "inferadb-control",
        }
    }

    /// The app container's name and `app.kubernetes.io/component`: `engine` or `control`.
    #[must_use]
    pub fn short_name(self) -> &'static str {
        match self {
            Self::Engine => "engine",
            Self::Control => "control",
        }
    }

    /// The env prefix the binary reads (config crate `Environment::with_prefix("INFERADB")`,
    /// separator `__`, under the `engine:`/`control:` root: engine crates/inferadb-engine-config
    /// src/lib.rs `load`).
    #[must_use]
    pub fn env_prefix(self) -> &'static str {
        match self {
            Self::Engine => "INFERADB__ENGINE__",
            Self::Control => "INFERADB__CONTROL__",
        }
    }

    /// Its Tailscale identity.
    #[must_use]
    pub fn workload(self) -> tailscale::Workload {
        match self {
            Self::Engine => tailscale::Workload::Engine,
            Self::Control => tailscale::Workload::Control,
        }
    }
}

/// The engine's headless Service (discovery of the individual pods).
pub const ENGINE_HEADLESS_SERVICE: &str = "inferadb-engine-headless";

/// `app.kubernetes.io/name` of objects that belong to the deployment as a whole (the
/// Namespace).
pub const INFERADB_APP: &str = "inferadb";

/// The operator's ServiceAccount and Role name (as upstream names them).
pub const OPERATOR_NAME: &str = "fdb-kubernetes-operator-controller-manager";

/// The operator's Deployment. Shorter than upstream's, so the pods' Tailscale device names
/// (`<region>-<pod name>`) fit 63 characters.
pub const OPERATOR_DEPLOYMENT: &str = "fdb-operator";

/// `app.kubernetes.io/name` of the operator.
pub const OPERATOR_APP: &str = "fdb-kubernetes-operator";

/// The ClusterRole granting node reads, named per namespace because ClusterRoles are
/// cluster-wide and two regions may share a Kubernetes cluster under different namespaces.
#[must_use]
pub fn node_reader_name(namespace: &str) -> String {
    format!("{namespace}-fdb-kubernetes-operator-nodes")
}

/// `app.kubernetes.io/name` of the FoundationDB objects.
pub const FDB_APP: &str = "foundationdb";

/// The FoundationDB pods' ServiceAccount (unified image): `<cluster_name>-pods`.
#[must_use]
pub fn fdb_pods_account(cluster_name: &str) -> String {
    format!("{cluster_name}-pods")
}

/// The `FoundationDBCluster` object of one datacenter: `<cluster_name>-<datacenter id>`.
#[must_use]
pub fn fdb_cluster_name(cluster_name: &str, datacenter_id: &str) -> String {
    format!("{cluster_name}-{datacenter_id}")
}

/// The ConfigMap the operator writes for a `FoundationDBCluster` (`<name>-config`, key
/// `cluster-file`). The operator owns it: infera-render never creates it (OP v2.33.0
/// api/v1beta2/foundationdb_constants.go:50, internal/configmap_helper.go:154).
#[must_use]
pub fn fdb_cluster_file_config_map(fdb_cluster_name: &str) -> String {
    format!("{fdb_cluster_name}-config")
}

/// The ConfigMap infera-render writes in a client region (one that hosts no FDB datacenter,
/// so no operator writes a cluster file there): `<cluster_name>-cluster-file`, key
/// `cluster-file`, holding the connection string. It can never collide with an operator-owned
/// `<name>-config`.
#[must_use]
pub fn client_cluster_file_config_map(cluster_name: &str) -> String {
    format!("{cluster_name}-cluster-file")
}

/// Where engine, control and the wait-for-FoundationDB step open the cluster file (the path the
/// Terraform module's output used): a writable `emptyDir`, [`CLUSTER_FILE_VOLUME`] at
/// [`CLUSTER_FILE_DIR`], because the FoundationDB client rewrites the file when the coordinators
/// change.
pub const CLUSTER_FILE_PATH: &str = "/etc/foundationdb/fdb.cluster";

/// The folder of [`CLUSTER_FILE_PATH`].
pub const CLUSTER_FILE_DIR: &str = "/etc/foundationdb";

/// The cluster file's name, in [`CLUSTER_FILE_DIR`] and [`CLUSTER_FILE_SOURCE_DIR`].
pub const CLUSTER_FILE_NAME: &str = "fdb.cluster";

/// The `emptyDir` volume that holds the writable cluster file.
pub const CLUSTER_FILE_VOLUME: &str = "fdb-cluster";

/// The volume of the cluster file's ConfigMap (the operator's, or infera-render's in a client
/// region), mounted read-only at [`CLUSTER_FILE_SOURCE_DIR`] in the wait step alone, which
/// copies it into [`CLUSTER_FILE_VOLUME`].
pub const CLUSTER_FILE_SOURCE_VOLUME: &str = "fdb-cluster-file";

/// Where the wait step reads the ConfigMap's copy of the cluster file.
pub const CLUSTER_FILE_SOURCE_DIR: &str = "/etc/foundationdb-configmap";

/// The key of the cluster file inside the operator's ConfigMap.
pub const CLUSTER_FILE_KEY: &str = "cluster-file";
