//! The KRM-style envelope around the spec, and the two accepted document forms.

use crate::MultiRegionSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A spec file: the canonical KRM-style envelope, or the bare body holding only the Terraform
/// module's inputs (for users coming from `terraform.tfvars.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SpecDocument {
    /// `apiVersion: infera.dev/v1alpha1`, `kind: MultiRegionDeployment`, `metadata`, `spec`.
    Envelope(Box<MultiRegionDeployment>),
    /// Only the module's inputs (`regions`, `cluster_name`, ...), without an envelope.
    Bare(Box<MultiRegionSpec>),
}

impl SpecDocument {
    /// The spec body, whichever form the document has.
    #[must_use]
    pub fn spec(&self) -> &MultiRegionSpec {
        match self {
            Self::Envelope(envelope) => &envelope.spec,
            Self::Bare(spec) => spec,
        }
    }

    /// Takes the spec body out of the document.
    #[must_use]
    pub fn into_spec(self) -> MultiRegionSpec {
        match self {
            Self::Envelope(envelope) => envelope.spec,
            Self::Bare(spec) => *spec,
        }
    }
}

/// The canonical form of a spec: a KRM-style object, so one file serves the CLI, kustomize
/// (legacy exec plugin and KRM function) and kpt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MultiRegionDeployment {
    /// Always `infera.dev/v1alpha1`.
    pub api_version: ApiVersion,
    /// Always `MultiRegionDeployment`.
    pub kind: Kind,
    /// Object metadata. Only `name` is required; kustomize adds its own annotations here.
    pub metadata: Metadata,
    /// The multi-region deployment: the Terraform module's inputs and the additions this tool needs.
    pub spec: MultiRegionSpec,
}

impl MultiRegionDeployment {
    /// Wraps a spec body in the canonical envelope.
    #[must_use]
    pub fn new(name: impl Into<String>, spec: MultiRegionSpec) -> Self {
        Self {
            api_version: ApiVersion::V1Alpha1,
            kind: Kind::MultiRegionDeployment,
            metadata: Metadata {
                name: name.into(),
                ..Metadata::default()
            },
            spec,
        }
    }
}

/// The spec's API version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// `infera.dev/v1alpha1`, the only version so far.
    #[default]
    #[serde(rename = "infera.dev/v1alpha1")]
    V1Alpha1,
}

/// The spec's kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    /// `MultiRegionDeployment`, the only kind.
    #[default]
    MultiRegionDeployment,
}

/// The envelope's metadata (a subset of Kubernetes `ObjectMeta`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Name of this deployment spec. It names the spec, not a rendered object.
    pub name: String,
    /// Namespace of the spec object itself (kustomize may set it); rendered objects use
    /// `regions[].namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels of the spec object. Labels for rendered objects go in `spec.labels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations of the spec object (kustomize and kpt keep their bookkeeping here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}
