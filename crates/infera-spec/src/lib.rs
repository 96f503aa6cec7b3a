//! The typed input of infera-render: one multi-region spec.
//!
//! This crate holds only the spec types (serde + schemars). It has no Kubernetes dependency and
//! does no validation beyond what the types express: the rules (FoundationDB's region rules, name
//! lengths, quantities, ...) live in the `infera-render` library, which turns a [`MultiRegionSpec`]
//! into a validated plan and rendered objects.
//!
//! A spec file comes in one of two forms ([`SpecDocument`]):
//! - the canonical KRM-style envelope, [`MultiRegionDeployment`] (`apiVersion: infera.dev/v1alpha1`,
//!   `kind: MultiRegionDeployment`, `metadata`, `spec`), which serves the CLI and kustomize alike;
//! - the bare body, [`MultiRegionSpec`], holding only the Terraform module's inputs (`regions`,
//!   `cluster_name`, ...), for users coming from `terraform.tfvars.json`.
//!
//! Every input of the Terraform module `modules/multi-region` is accepted with its name and
//! default; inputs the real system needs are added in the same snake_case style. Unknown keys are
//! errors (`deny_unknown_fields`, which becomes `additionalProperties: false` in the schema).
//!
//! ```
//! use infera_spec::{MultiRegionSpec, Region};
//!
//! let spec = MultiRegionSpec {
//!     regions: vec![Region::new("us-west-1", true, 1), Region::new("eu-central-1", false, 2)],
//!     ..MultiRegionSpec::default()
//! };
//! assert_eq!(spec.cluster_name, "inferadb-fdb");
//! assert_eq!(spec.fearless_dr.usable_regions, 1); // the module's default
//! ```

mod envelope;
mod fdb;
mod kube;
mod reference;
mod region;
mod secret;
mod spec;
mod workloads;

pub use envelope::{ApiVersion, Kind, Metadata, MultiRegionDeployment, SpecDocument};
pub use fdb::{FdbRole, FearlessDr, RedundancyMode, SatelliteRedundancyMode, StorageEngine};
pub use kube::{
    ImagePullPolicy, KubernetesTarget, Quantity, ResourceList, Resources, TaintEffect, Toleration,
    TolerationOperator,
};
pub use reference::reference_markdown;
pub use region::{ProcessCounts, Region};
pub use secret::SecretString;
pub use spec::MultiRegionSpec;
pub use workloads::{
    Control, DEFAULT_SHARED_TAG, Engine, Monitoring, NetworkPolicies, SecretKeySelector, Tailscale,
    TailscaleCredentials, Webauthn,
};

/// The `apiVersion` of the canonical spec envelope.
pub const API_VERSION: &str = "infera.dev/v1alpha1";
/// The `kind` of the canonical spec envelope.
pub const KIND: &str = "MultiRegionDeployment";

/// The JSON Schema (2020-12) of a spec document in either form, as committed in
/// `schemas/infera-spec.schema.json`.
///
/// Doc comments of the types become `description`s; every object has
/// `additionalProperties: false`.
#[must_use]
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(SpecDocument);
    schema.insert(
        "$id".to_owned(),
        serde_json::Value::from("https://infera.dev/schemas/infera-spec.schema.json"),
    );
    schema.insert(
        "title".to_owned(),
        serde_json::Value::from("infera-render spec"),
    );
    schema.to_value()
}

/// [`json_schema`] as the pretty-printed text committed in `schemas/infera-spec.schema.json`
/// (two-space indentation, trailing newline).
#[must_use]
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema())
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    text.push('\n');
    text
}
