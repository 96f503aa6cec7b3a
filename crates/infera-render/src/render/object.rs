//! A rendered object: its identity, its file name and its value; and how objects are ordered.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::{Metadata, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One Kubernetes object of a region's bundle: its identity, typed, beside its JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (none for cluster-scoped objects).
    pub namespace: Option<String>,
    /// The region whose bundle holds it.
    pub region: String,
    /// The whole object.
    pub value: Value,
}

/// The identity of a custom resource infera-render renders as its own type.
pub(crate) struct CustomKind {
    /// `apiVersion`.
    pub(crate) api_version: &'static str,
    /// `kind`.
    pub(crate) kind: &'static str,
}

impl RenderedObject {
    /// Wraps a native Kubernetes object: kind and apiVersion from its type, name and namespace
    /// from its metadata. The types this crate renders always serialize; the golden tests would
    /// show a `null` document otherwise.
    pub(crate) fn new<K>(object: &K) -> Self
    where
        K: Resource
            + Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
            + Serialize,
    {
        let metadata = object.metadata();
        Self {
            api_version: K::API_VERSION.to_owned(),
            kind: K::KIND.to_owned(),
            name: metadata.name.clone().unwrap_or_default(),
            namespace: metadata.namespace.clone(),
            region: String::new(),
            value: serde_json::to_value(object).unwrap_or(Value::Null),
        }
    }

    /// Wraps a custom resource of kind `kind`, whose JSON carries `apiVersion`, `kind` and
    /// `metadata`.
    pub(crate) fn custom(kind: &CustomKind, object: &impl Serialize) -> Self {
        let value = serde_json::to_value(object).unwrap_or(Value::Null);
        Self {
            api_version: kind.api_version.to_owned(),
            kind: kind.kind.to_owned(),
            ..Self::from_value(value)
        }
    }

    /// Wraps a JSON value that is a Kubernetes object (a CRD file given with `--crds-dir`).
    pub(crate) fn from_value(value: Value) -> Self {
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            api_version: text("/apiVersion").unwrap_or_default(),
            kind: text("/kind").unwrap_or_default(),
            name: text("/metadata/name").unwrap_or_default(),
            namespace: text("/metadata/namespace"),
            region: String::new(),
            value,
        }
    }

    /// The object as its type, when it is one (`rendered.typed::<Deployment>()`).
    #[must_use]
    pub fn typed<K: Resource + DeserializeOwned>(&self) -> Option<K> {
        (self.kind == K::KIND && self.api_version == K::API_VERSION)
            .then(|| serde_json::from_value(self.value.clone()).ok())
            .flatten()
    }

    /// The file this object is written to: `<kind>-<name>.yaml`, lowercase.
    #[must_use]
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }

    /// The object as YAML (one document, no `---`).
    #[must_use]
    pub fn to_yaml(&self) -> String {
        super::yaml::value_to_yaml(&self.value)
    }

    /// Position in the apply order: namespaces and CRDs first, then identities and
    /// configuration, RBAC, services, workloads, and custom resources last (they need their
    /// controllers and CRDs).
    #[must_use]
    pub fn apply_rank(&self) -> u8 {
        const RANKS: [(&str, u8); 15] = [
            (Namespace::KIND, 0),
            (CustomResourceDefinition::KIND, 1),
            (ServiceAccount::KIND, 2),
            (Secret::KIND, 3),
            (ConfigMap::KIND, 4),
            (ClusterRole::KIND, 5),
            (Role::KIND, 6),
            (ClusterRoleBinding::KIND, 7),
            (RoleBinding::KIND, 8),
            (NetworkPolicy::KIND, 9),
            (Service::KIND, 9),
            (PodDisruptionBudget::KIND, 10),
            (Deployment::KIND, 11),
            (StatefulSet::KIND, 11),
            (DaemonSet::KIND, 11),
        ];
        RANKS
            .iter()
            .find(|(kind, _)| *kind == self.kind)
            .map(|(_, rank)| *rank)
            .unwrap_or(
                if self.kind == super::fdb_cluster::FOUNDATIONDB_CLUSTER.kind {
                    12
                } else {
                    13
                },
            )
    }
}

/// Sorts objects into apply order: by rank, then kind, then name.
pub(crate) fn sort_for_apply(objects: &mut [RenderedObject]) {
    objects.sort_by(|a, b| {
        (a.apply_rank(), &a.kind, &a.name).cmp(&(b.apply_rank(), &b.kind, &b.name))
    });
}
