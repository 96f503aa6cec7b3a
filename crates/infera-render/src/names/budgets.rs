//! The length budgets of derived names, checked when the crate compiles: each name this tool
//! derives from the spec must fit the limit of the field it lands in, so validation refuses the
//! inputs that would break one, with the budget computed here from the same names.

use super::tailscale::ROUTER_NAME;
use super::{App, OPERATOR_DEPLOYMENT};
use crate::syntax::names::DNS_LABEL_MAX;

/// Longest `processGroupIDPrefix` the operator CRD accepts (`maxLength: 43`).
pub const PROCESS_GROUP_ID_PREFIX_MAX: usize = 43;

/// The longest process class name infera-render renders (`stateless`), plus the separators and
/// the process-group index the operator appends (`-stateless-12345`): pod names
/// `<FoundationDBCluster name>-<class>-<n>` must stay DNS labels (OP v2.33.0
/// internal/pod_models.go: pod hostname = `<name>-<class>-<n>`; docs/fdb-multi-region.md §6 rule 23).
pub const POD_NAME_SUFFIX_BUDGET: usize = "-stateless-".len() + 5;

/// Longest `FoundationDBCluster` name whose pod names still fit a DNS label.
pub const FDB_CLUSTER_NAME_MAX: usize = DNS_LABEL_MAX - POD_NAME_SUFFIX_BUDGET;

/// What Kubernetes appends to a Deployment's name for its pods: `-<pod-template-hash>-<5>`, the
/// hash at most 10 characters.
pub const DEPLOYMENT_POD_SUFFIX: usize = "-0123456789-abcde".len();

/// The longest Deployment whose pods run a Tailscale sidecar: control's.
pub const LONGEST_SIDECAR_DEPLOYMENT: usize = App::Control.name().len();

const _: () = assert!(App::Engine.name().len() <= LONGEST_SIDECAR_DEPLOYMENT);
const _: () = assert!(OPERATOR_DEPLOYMENT.len() <= LONGEST_SIDECAR_DEPLOYMENT);
// Router pods are StatefulSet ordinals: `tailscale-router-<n>`, n < 1000.
const _: () = assert!(ROUTER_NAME.len() + 4 <= LONGEST_SIDECAR_DEPLOYMENT + DEPLOYMENT_POD_SUFFIX);

/// Longest region id with Tailscale: device names are `<region>-<pod name>`, a DNS label, and
/// the longest pod name is control's (`inferadb-control-<10>-<5>`).
pub const TAILSCALE_REGION_ID_MAX: usize =
    DNS_LABEL_MAX - 1 - LONGEST_SIDECAR_DEPLOYMENT - DEPLOYMENT_POD_SUFFIX;

const _: () = assert!(
    TAILSCALE_REGION_ID_MAX > 16,
    "region ids such as `ap-southeast-1` must fit"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_add_up() {
        assert_eq!(FDB_CLUSTER_NAME_MAX, 47);
        assert_eq!(TAILSCALE_REGION_ID_MAX, 29);
        let name = super::super::fdb_cluster_name(&"a".repeat(20), &"b".repeat(26));
        assert_eq!(name.len(), FDB_CLUSTER_NAME_MAX);
        assert!(format!("{name}-stateless-12345").len() <= DNS_LABEL_MAX);
    }
}
