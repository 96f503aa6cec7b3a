//! The rules a spec must follow, each reported with its field path.
//!
//! One file per spec section, each checking its inputs on their own (names, versions, images,
//! quantities, CIDRs, labels): `regions`, `kubernetes` (targets and FDB pod placement),
//! `workloads` (engine and control), `tailscale`, `control`, `fdb` (versions, the seed), and
//! `k8s_values` for the Kubernetes values they share; [`metadata`] for the envelope. The rule
//! table in `tests` runs every rule in-process.
//!
//! The rules on the resolved topology (FoundationDB's region rules) are in
//! `crate::plan::fdb_rules`.

mod control;
mod fdb;
mod k8s_values;
mod kubernetes;
pub mod metadata;
mod regions;
mod tailscale;
mod workloads;

use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::syntax::names::dns1035_label_problem;
use crate::syntax::version::Version;
use infera_spec::MultiRegionSpec;

/// What the rules see beyond the spec: the command line's overrides.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    /// `--seed-connection-string`, which replaces the spec's.
    pub seed_connection_string: Option<&'a str>,
    /// `--allow-plaintext-secrets`: an inline OAuth client secret may be written.
    pub allow_plaintext_secrets: bool,
}

/// Upper bounds that keep every spec renderable in well under a second and every derived name
/// within its limit; they are far above any real deployment.
pub mod limits {
    /// Regions in one spec.
    pub const MAX_REGIONS: usize = 16;
    /// Zones per region (cloud regions have at most 6 availability zones).
    pub const MAX_ZONES: usize = 8;
    /// Pods per Deployment.
    pub const MAX_REPLICAS: u32 = 1000;
    /// FoundationDB processes of one class in one datacenter.
    pub const MAX_PROCESS_COUNT: u32 = 1000;
}

pub(super) fn path() -> FieldPath {
    FieldPath::root()
}

/// Checks every field on its own. Returns the FDB and operator versions when both parse.
pub fn check(
    spec: &MultiRegionSpec,
    inputs: &Inputs<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<(Version, Version)> {
    regions::check_regions(spec, diagnostics);
    if let Some(problem) = dns1035_label_problem(&spec.cluster_name) {
        diagnostics.push(
            Diagnostic::error(path().key("cluster_name"), problem)
                .with_help("cluster_name prefixes every FoundationDBCluster, pod and Service name"),
        );
    }
    k8s_values::check_quantity(
        &path().key("volume_size"),
        &spec.volume_size,
        true,
        diagnostics,
    );
    fdb::check_seed(spec, inputs, diagnostics);
    workloads::check_workloads(spec, diagnostics);
    tailscale::check_tailscale(spec, inputs, diagnostics);
    regions::check_network_policies(spec, diagnostics);
    control::check_control(spec, diagnostics);
    k8s_values::check_labels(&path().key("labels"), &spec.labels, true, diagnostics);
    fdb::check_versions(spec, diagnostics)
}

#[cfg(test)]
mod tests;
