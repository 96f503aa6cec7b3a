//! The workloads next to FoundationDB: InferaDB engine and control, Tailscale, monitoring.

use crate::{ImagePullPolicy, Resources, SecretString};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Tailscale networking between regions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tailscale {
    /// Whether to render the Tailscale pieces.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// A credential given inline (`""` or unset: none). It is written into the Secret
    /// `secret_name` only with `--allow-plaintext-secrets`, and only as an OAuth client secret
    /// (`credentials: oauth_client`) or as the one shared key (`credentials: shared_key`, which
    /// an inline key means when `credentials` is unset, as the Terraform module used it). The
    /// default is to reference Secrets you create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_key: Option<SecretString>,
    /// Name of the existing Secret holding the auth key.
    #[serde(default = "default_tailscale_secret_name")]
    pub secret_name: String,
    /// Key inside that Secret.
    #[serde(default = "default_tailscale_secret_key")]
    pub secret_key: String,
    /// Tailscale container image, pinned to a version.
    #[serde(default = "default_tailscale_image")]
    pub image: String,
    /// How each workload authenticates to the tailnet. With `per_workload_keys` (the default)
    /// and `oauth_client` every workload gets its own tag (`tag:inferadb-fdb`,
    /// `tag:inferadb-engine`, `tag:inferadb-control`, and one `tag:inferadb-router-<region>` per
    /// region), so the tailnet policy can tell them apart and approve each region's pod CIDR for
    /// its own routers only. `shared_key` is the module's one key for everything, kept for
    /// migrating: every pod then carries `shared_tag`. Unset: `shared_key` when `auth_key` is
    /// inline, else `per_workload_keys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<TailscaleCredentials>,
    /// The tag the shared key carries (`credentials: shared_key` only; default `tag:inferadb`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_tag: Option<String>,
    /// Subnet-router pods per region (they advertise the region's `pod_cidr`).
    #[serde(default = "default_router_replicas")]
    pub router_replicas: u32,
}

impl Default for Tailscale {
    fn default() -> Self {
        Self {
            enabled: true,
            auth_key: None,
            secret_name: default_tailscale_secret_name(),
            secret_key: default_tailscale_secret_key(),
            image: default_tailscale_image(),
            credentials: None,
            shared_tag: None,
            router_replicas: default_router_replicas(),
        }
    }
}

impl Tailscale {
    /// The inline credential, if one is given (`""` means none, as in the module).
    #[must_use]
    pub fn inline_key(&self) -> Option<&SecretString> {
        self.auth_key.as_ref().filter(|key| !key.is_empty())
    }

    /// `credentials`, or its default: `shared_key` with an inline key (the module's one key),
    /// else `per_workload_keys`.
    #[must_use]
    pub fn effective_credentials(&self) -> TailscaleCredentials {
        self.credentials.unwrap_or(if self.inline_key().is_some() {
            TailscaleCredentials::SharedKey
        } else {
            TailscaleCredentials::PerWorkloadKeys
        })
    }

    /// `shared_tag`, or `tag:inferadb`.
    #[must_use]
    pub fn effective_shared_tag(&self) -> &str {
        self.shared_tag.as_deref().unwrap_or(DEFAULT_SHARED_TAG)
    }
}

/// Where the Tailscale credentials come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TailscaleCredentials {
    /// One existing Secret per workload in each region, `<secret_name>-<workload>`, key
    /// `secret_key`: `fdb` (reusable key, `tag:inferadb-fdb`, for FoundationDB pods with a
    /// volume), `fdb-ephemeral` (reusable and ephemeral, `tag:inferadb-fdb`, for the operator
    /// and stateless FoundationDB pods), `engine` and `control` (reusable and ephemeral,
    /// `tag:inferadb-engine` / `tag:inferadb-control`), and `router` (reusable,
    /// `tag:inferadb-router-<region>` of that region).
    #[default]
    PerWorkloadKeys,
    /// One Secret `<secret_name>`, key `secret_key`, holding an OAuth client secret
    /// (`tskey-client-...`, Auth Keys write scope, tag `tag:inferadb-provisioner`) that owns every workload tag, the
    /// per-region router tags included; each workload advertises its own tag.
    OauthClient,
    /// One Secret `<secret_name>`, key `secret_key`, holding one reusable auth key tagged
    /// `shared_tag` for every workload, as the Terraform module did. The tailnet policy then
    /// cannot tell FoundationDB from engine, control or the routers, and any pod could advertise
    /// any region's routes: a step on the way to `per_workload_keys` or `oauth_client`.
    SharedKey,
}

/// The tag of the shared key when `tailscale.shared_tag` is unset.
pub const DEFAULT_SHARED_TAG: &str = "tag:inferadb";

impl TailscaleCredentials {
    /// The spelling used in the spec.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerWorkloadKeys => "per_workload_keys",
            Self::OauthClient => "oauth_client",
            Self::SharedKey => "shared_key",
        }
    }
}

/// The InferaDB engine (the authorization API), one Deployment per region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    /// Whether to render the engine.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Pods per region (at least 1).
    #[serde(default = "default_engine_replicas")]
    pub replicas: u32,
    /// Container image. It must be a build that still supports FoundationDB storage: no
    /// published image does (the README says how to build one).
    #[serde(default = "default_engine_image")]
    pub image: String,
    /// Image pull policy.
    #[serde(default)]
    pub image_pull_policy: ImagePullPolicy,
    /// Resources of the engine container.
    #[serde(default = "default_engine_resources")]
    pub resources: Resources,
    /// The existing Secret holding the engine's Ed25519 signing key (PEM, `PRIVATE KEY`), read
    /// by every engine pod as `INFERADB__ENGINE__PEM`. One key for every replica and region:
    /// control verifies the engine's tokens against the JWKS of whichever pod answers.
    #[serde(default = "default_engine_identity_secret")]
    pub identity_secret: SecretKeySelector,
    /// The FoundationDB client library (major.minor) the engine image links. Upstream's images
    /// link 7.3 only; `fdb_version` must be of this line.
    #[serde(default = "default_fdb_client_version")]
    pub fdb_client_version: String,
}

impl Default for Engine {
    fn default() -> Self {
        Self {
            enabled: true,
            replicas: default_engine_replicas(),
            image: default_engine_image(),
            image_pull_policy: ImagePullPolicy::default(),
            resources: default_engine_resources(),
            identity_secret: default_engine_identity_secret(),
            fdb_client_version: default_fdb_client_version(),
        }
    }
}

/// The InferaDB control plane, one Deployment per region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Whether to render control.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Pods per region (at least 1).
    #[serde(default = "default_control_replicas")]
    pub replicas: u32,
    /// Container image. It must be a build that still supports FoundationDB storage: no
    /// published image does (the README says how to build one).
    #[serde(default = "default_control_image")]
    pub image: String,
    /// Image pull policy.
    #[serde(default)]
    pub image_pull_policy: ImagePullPolicy,
    /// Resources of the control container.
    #[serde(default = "default_control_resources")]
    pub resources: Resources,
    /// WebAuthn (passkey) relying party of the control API.
    #[serde(default)]
    pub webauthn: Webauthn,
    /// The existing Secret holding control's master key: exactly 32 random bytes, the same in
    /// every region (mounted read-only as its key file).
    #[serde(default = "default_master_key_secret")]
    pub master_key_secret: SecretKeySelector,
    /// The FoundationDB client library (major.minor) the control image links. Upstream's images
    /// link 7.3 only; `fdb_version` must be of this line.
    #[serde(default = "default_fdb_client_version")]
    pub fdb_client_version: String,
}

impl Default for Control {
    fn default() -> Self {
        Self {
            enabled: true,
            replicas: default_control_replicas(),
            image: default_control_image(),
            image_pull_policy: ImagePullPolicy::default(),
            resources: default_control_resources(),
            webauthn: Webauthn::default(),
            master_key_secret: default_master_key_secret(),
            fdb_client_version: default_fdb_client_version(),
        }
    }
}

/// The WebAuthn relying party control announces to browsers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Webauthn {
    /// Relying-party id: the domain users sign in to, e.g. `inferadb.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// The origin of the sign-in page, e.g. `https://inferadb.example.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// A key inside an existing Secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretKeySelector {
    /// Name of the Secret (in each region's namespace).
    pub name: String,
    /// Key inside the Secret.
    pub key: String,
}

/// Monitoring with the Prometheus operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Whether to render monitoring.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Whether to render `ServiceMonitor`/`PodMonitor` objects (they need the Prometheus
    /// operator's CRDs in the cluster).
    #[serde(default)]
    pub create_service_monitors: bool,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self {
            enabled: true,
            create_service_monitors: false,
        }
    }
}

/// Kubernetes NetworkPolicies for the rendered pods.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkPolicies {
    /// Whether to render them: per region, a default deny of ingress and egress for every pod
    /// infera-render renders, and one policy per workload allowing exactly the connections the
    /// deployment makes (the README lists them). Off by default: on a CNI that enforces
    /// NetworkPolicies, a connection the policies do not allow is an outage, so test them on
    /// your CNI first.
    #[serde(default)]
    pub enabled: bool,
}

fn default_true() -> bool {
    true
}

fn default_tailscale_secret_name() -> String {
    "tailscale-auth".to_owned()
}

fn default_tailscale_secret_key() -> String {
    "authkey".to_owned()
}

fn default_tailscale_image() -> String {
    "tailscale/tailscale:v1.56.1".to_owned()
}

fn default_router_replicas() -> u32 {
    2
}

fn default_master_key_secret() -> SecretKeySelector {
    SecretKeySelector {
        name: "inferadb-control-master-key".to_owned(),
        key: "master.key".to_owned(),
    }
}

fn default_engine_identity_secret() -> SecretKeySelector {
    SecretKeySelector {
        name: "inferadb-engine-identity".to_owned(),
        key: "identity.pem".to_owned(),
    }
}

/// The client library of upstream's FDB-capable images: `foundationdb-clients 7.3.69` and the
/// crate's `fdb-7_3` feature (engine@a31e3c3:Dockerfile:29,78, Cargo.toml:74; control@550b7d6:
/// Dockerfile:28,74).
fn default_fdb_client_version() -> String {
    "7.3".to_owned()
}

fn default_engine_replicas() -> u32 {
    3
}

fn default_engine_image() -> String {
    "inferadb-engine:latest".to_owned()
}

fn default_engine_resources() -> Resources {
    Resources::new("500m", "512Mi", "2000m", "2Gi")
}

fn default_control_replicas() -> u32 {
    2
}

fn default_control_image() -> String {
    "inferadb-control:latest".to_owned()
}

fn default_control_resources() -> Resources {
    Resources::new("250m", "256Mi", "1000m", "1Gi")
}
