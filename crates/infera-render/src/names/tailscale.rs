//! Tailscale identities: one workload kind per credential, the tag each one carries, the Secret
//! it reads its credential from, and the Secret it keeps its node state in
//! (docs/inferadb-and-tailscale.md §2.5, §6.0: one tagged credential per workload, never one key
//! for everything).

use infera_spec::TailscaleCredentials;

/// A kind of workload on the tailnet; each has its own credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// FoundationDB pods with a volume of their own (log and storage processes): their node
    /// state lives on it, so they keep their identity across restarts and recreations.
    Fdb,
    /// FoundationDB identities that do not outlive their pod: the operator (in-memory state)
    /// and stateless FoundationDB pods (state on an emptyDir). Ephemeral nodes, removed by
    /// Tailscale once offline, with the FDB tag.
    FdbEphemeral,
    /// InferaDB engine pods.
    Engine,
    /// InferaDB control pods.
    Control,
    /// The per-region subnet routers that advertise the pod CIDRs.
    Router,
}

impl Workload {
    /// Every workload, in a fixed order.
    pub const ALL: [Workload; 5] = [
        Workload::Fdb,
        Workload::FdbEphemeral,
        Workload::Engine,
        Workload::Control,
        Workload::Router,
    ];

    /// `fdb`, `fdb-ephemeral`, `engine`, `control` or `router`: the suffix of its credential
    /// Secret.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Fdb => "fdb",
            Self::FdbEphemeral => "fdb-ephemeral",
            Self::Engine => "engine",
            Self::Control => "control",
            Self::Router => "router",
        }
    }

    /// The workload's tag in region `region`: `tag:inferadb-fdb` for every FoundationDB
    /// identity, `tag:inferadb-engine`, `tag:inferadb-control`, and for the routers one tag per
    /// region, `tag:inferadb-router-<region>`, so that each may advertise only its own region's
    /// pod CIDR (the policy auto-approves each CIDR for its own router tag only).
    #[must_use]
    pub fn tag(self, region: &str) -> String {
        match self {
            Self::Fdb | Self::FdbEphemeral => "tag:inferadb-fdb".to_owned(),
            Self::Engine => "tag:inferadb-engine".to_owned(),
            Self::Control => "tag:inferadb-control".to_owned(),
            Self::Router => router_tag(region),
        }
    }

    /// Whether its nodes are ephemeral: every identity that does not outlive its pod (state in
    /// memory or on an emptyDir) comes and goes, and Tailscale removes such nodes once offline.
    #[must_use]
    pub fn ephemeral(self) -> bool {
        matches!(self, Self::FdbEphemeral | Self::Engine | Self::Control)
    }
}

/// The subnet router tag of region `region`.
#[must_use]
pub fn router_tag(region: &str) -> String {
    format!("tag:inferadb-router-{region}")
}

/// The Secret a workload's sidecar reads its credential from: `<secret_name>-<workload>` with
/// one key per workload, or `<secret_name>` itself with one OAuth client or one shared key for
/// all.
#[must_use]
pub fn credential_secret(
    credentials: TailscaleCredentials,
    secret_name: &str,
    workload: Workload,
) -> String {
    match credentials {
        TailscaleCredentials::PerWorkloadKeys => format!("{secret_name}-{}", workload.name()),
        TailscaleCredentials::OauthClient | TailscaleCredentials::SharedKey => {
            secret_name.to_owned()
        }
    }
}

/// The Secret in which the Tailscale container of pod `pod` keeps its node state
/// (`TS_KUBE_SECRET`): `ts-<pod>`. The routers' Role names exactly these Secrets, so both come
/// from this one function; `pod` may be `$(POD_NAME)`, which the kubelet expands.
#[must_use]
pub fn state_secret(pod: &str) -> String {
    format!("ts-{pod}")
}

/// The subnet router StatefulSet (and its pods' prefix) of a region.
pub const ROUTER_NAME: &str = "tailscale-router";

/// The router pods of a StatefulSet with `replicas` pods: `tailscale-router-<ordinal>`.
#[must_use]
pub fn router_pods(replicas: u32) -> Vec<String> {
    (0..replicas)
        .map(|n| format!("{ROUTER_NAME}-{n}"))
        .collect()
}
