//! Labels: constant keys, one function for the full set, one for the (immutable) selectors.

use crate::plan::Plan;
use std::collections::BTreeMap;

/// `app.kubernetes.io/name`: what the object is (e.g. `fdb-kubernetes-operator`).
pub const NAME: &str = "app.kubernetes.io/name";
/// `app.kubernetes.io/instance`: which instance (the namespace-qualified deployment).
pub const INSTANCE: &str = "app.kubernetes.io/instance";
/// `app.kubernetes.io/component`: its role (`operator`, `database`, `engine`, ...).
pub const COMPONENT: &str = "app.kubernetes.io/component";
/// `app.kubernetes.io/part-of`: always `inferadb`.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// `app.kubernetes.io/managed-by`: always `infera-render`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// `infera.dev/region`: the spec region the object belongs to.
pub const REGION: &str = "infera.dev/region";
/// `infera.dev/service`: on the engine's and control's Services, `main` or `headless`, so a
/// ServiceMonitor can select the main Service alone (the headless one selects the same pods).
pub const SERVICE: &str = "infera.dev/service";

/// Every label of an object: the recommended `app.kubernetes.io/*` set, the region, and the
/// spec's `labels` (which may not override these keys; validation refuses that).
pub(crate) fn common(
    plan: &Plan,
    region: usize,
    name: &str,
    component: &str,
) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = plan.spec.labels.clone();
    labels.extend(selector(plan, region, name));
    labels.insert(COMPONENT.to_owned(), component.to_owned());
    labels.insert(PART_OF.to_owned(), "inferadb".to_owned());
    labels.insert(MANAGED_BY.to_owned(), "infera-render".to_owned());
    labels.insert(REGION.to_owned(), plan.regions[region].id.clone());
    labels
}

/// The stable subset used in selectors (Deployment selectors are immutable).
pub(crate) fn selector(plan: &Plan, region: usize, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_owned(), name.to_owned()),
        (
            INSTANCE.to_owned(),
            plan.region_spec(region).namespace.clone(),
        ),
    ])
}
