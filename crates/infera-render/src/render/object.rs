//! A rendered object: its identity, its file name and its value; and how objects are ordered.

use serde::Serialize;
use serde_json::Value;

/// One Kubernetes object of a region's bundle.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// The whole object.
    pub value: Value,
}

impl RenderedObject {
    /// Wraps a serializable Kubernetes object (anything with `apiVersion`, `kind` and
    /// `metadata.name`). The types this crate renders always serialize; the golden tests would
    /// show a `null` document otherwise.
    pub(crate) fn new(object: &impl Serialize) -> Self {
        let value = serde_json::to_value(object).unwrap_or(Value::Null);
        Self::from_value(value)
    }

    /// Wraps a JSON value that is a Kubernetes object.
    pub(crate) fn from_value(value: Value) -> Self {
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            api_version: text("/apiVersion"),
            kind: text("/kind"),
            name: text("/metadata/name"),
            value,
        }
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
        match self.kind.as_str() {
            "Namespace" => 0,
            "CustomResourceDefinition" => 1,
            "ServiceAccount" => 2,
            "Secret" => 3,
            "ConfigMap" => 4,
            "ClusterRole" => 5,
            "Role" => 6,
            "ClusterRoleBinding" => 7,
            "RoleBinding" => 8,
            "Service" => 9,
            "PodDisruptionBudget" => 10,
            "Deployment" | "StatefulSet" | "DaemonSet" => 11,
            "FoundationDBCluster" => 12,
            _ => 13,
        }
    }
}

/// Sorts objects into apply order: by rank, then kind, then name.
pub(crate) fn sort_for_apply(objects: &mut [RenderedObject]) {
    objects.sort_by(|a, b| {
        (a.apply_rank(), &a.kind, &a.name).cmp(&(b.apply_rank(), &b.kind, &b.name))
    });
}
