//! Tailscale identities: one workload kind per tag, and the Secret each one reads
//! (docs/inferadb-and-tailscale.md §2.5, §6.0: one tagged credential per workload, never one key
//! for everything).

use crate::plan::Plan;
use infera_spec::TailscaleCredentials;

/// A kind of workload on the tailnet; each has its own tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// FoundationDB pods and the operator (they speak the FDB protocol).
    Fdb,
    /// InferaDB engine pods.
    Engine,
    /// InferaDB control pods.
    Control,
    /// The per-region subnet routers that advertise the pod CIDRs.
    Router,
}

impl Workload {
    /// Every workload, in a fixed order.
    pub const ALL: [Workload; 4] = [
        Workload::Fdb,
        Workload::Engine,
        Workload::Control,
        Workload::Router,
    ];

    /// `fdb`, `engine`, `control` or `router`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Fdb => "fdb",
            Self::Engine => "engine",
            Self::Control => "control",
            Self::Router => "router",
        }
    }

    /// The workload's tag, e.g. `tag:inferadb-fdb`.
    #[must_use]
    pub fn tag(self) -> String {
        format!("tag:inferadb-{}", self.name())
    }

    /// Whether its nodes are ephemeral (Deployment pods with in-memory state come and go).
    #[must_use]
    pub fn ephemeral(self) -> bool {
        matches!(self, Self::Engine | Self::Control)
    }
}

/// The Secret (and key) a workload's sidecar reads its credential from.
#[must_use]
pub fn credential_secret(plan: &Plan, workload: Workload) -> (String, String) {
    let tailscale = &plan.spec.tailscale;
    let name = match tailscale.credentials {
        TailscaleCredentials::PerWorkloadKeys => {
            format!("{}-{}", tailscale.secret_name, workload.name())
        }
        TailscaleCredentials::OauthClient => tailscale.secret_name.clone(),
    };
    (name, tailscale.secret_key.clone())
}

/// The subnet router StatefulSet (and its pods' prefix) of a region.
pub const ROUTER_NAME: &str = "tailscale-router";
