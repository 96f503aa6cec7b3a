//! Kubernetes building blocks of the spec: cluster targets, resources, tolerations.

use crate::SecretString;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;

/// How to reach a region's Kubernetes cluster. infera-render never contacts a cluster: only
/// `config_context` is used (by the apply steps); the other keys are accepted for compatibility
/// with the module and ignored with a warning.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubernetesTarget {
    /// Path of the kubeconfig file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    /// Kubeconfig context of this region's cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_context: Option<String>,
    /// API server URL (module compatibility; unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// API token (module compatibility; unused, and better kept out of the spec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<SecretString>,
    /// API server CA certificate (module compatibility; unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_ca: Option<String>,
}

/// A Kubernetes resource quantity such as `500m`, `2`, `8Gi` or `128Gi`. A YAML number is accepted
/// and kept as written (`cpu: 2` is `"2"`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(String);

impl Quantity {
    /// Wraps a quantity as written; validation happens when the spec is planned.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The quantity as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;

        impl Visitor<'_> for QuantityVisitor {
            type Value = Quantity;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Kubernetes quantity such as \"500m\" or \"8Gi\"")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Quantity, E> {
                Ok(Quantity::new(value))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Quantity, E> {
                Ok(Quantity::new(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Quantity, E> {
                Ok(Quantity::new(value.to_string()))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Quantity, E> {
                Ok(Quantity::new(value.to_string()))
            }
        }

        deserializer.deserialize_any(QuantityVisitor)
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Kubernetes resource quantity such as \"500m\", \"2\" or \"8Gi\".",
            "type": ["string", "number"]
        })
    }
}

/// Compute resources of a container: requests and limits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// What the scheduler reserves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourceList>,
    /// The most the container may use; each must be at least the matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceList>,
}

impl Resources {
    /// Requests and limits of CPU and memory.
    #[must_use]
    pub fn new(
        request_cpu: &str,
        request_memory: &str,
        limit_cpu: &str,
        limit_memory: &str,
    ) -> Self {
        Self {
            requests: Some(ResourceList::new(request_cpu, request_memory)),
            limits: Some(ResourceList::new(limit_cpu, limit_memory)),
        }
    }
}

/// CPU and memory quantities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceList {
    /// CPU, e.g. `500m` or `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory, e.g. `512Mi` or `8Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

impl ResourceList {
    /// CPU and memory.
    #[must_use]
    pub fn new(cpu: &str, memory: &str) -> Self {
        Self {
            cpu: Some(Quantity::new(cpu)),
            memory: Some(Quantity::new(memory)),
        }
    }
}

/// A toleration added to pods (Kubernetes `Toleration`, keys in snake_case like the module).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toleration {
    /// Taint key to tolerate; empty with `operator: Exists` tolerates every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `Equal` (default) or `Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    /// Taint value to match with `Equal`; must be empty with `Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Taint effect to match; empty matches every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
    /// With `NoExecute`: how long the pod stays bound after the taint appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

/// How a toleration matches a taint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TolerationOperator {
    /// Key and value must match.
    Equal,
    /// The key must exist; no value.
    Exists,
}

/// The effect of a taint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TaintEffect {
    /// New pods are not scheduled.
    NoSchedule,
    /// New pods avoid the node.
    PreferNoSchedule,
    /// Running pods are evicted.
    NoExecute,
}

/// When the kubelet pulls a container image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ImagePullPolicy {
    /// Every time the container starts.
    Always,
    /// Only when the image is not on the node.
    #[default]
    IfNotPresent,
    /// Never; the image must be on the node.
    Never,
}

impl ImagePullPolicy {
    /// The spelling Kubernetes uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}
