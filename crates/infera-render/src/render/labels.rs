//! Labels: one function for the full set, one for the (immutable) selectors; the keys are in
//! [`crate::names::labels`].

use super::RegionCtx;
use crate::names::labels::{COMPONENT, INSTANCE, MANAGED_BY, NAME, PART_OF, REGION};
use std::collections::BTreeMap;

/// Every label of an object: the recommended `app.kubernetes.io/*` set, the region, and the
/// spec's `labels` (which may not override these keys; validation refuses that).
pub(crate) fn common(ctx: &RegionCtx<'_>, name: &str, component: &str) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = ctx.plan.labels.clone();
    labels.extend(selector(ctx, name));
    labels.insert(COMPONENT.to_owned(), component.to_owned());
    labels.insert(PART_OF.to_owned(), "inferadb".to_owned());
    labels.insert(MANAGED_BY.to_owned(), "infera-render".to_owned());
    labels.insert(REGION.to_owned(), ctx.region.id.clone());
    labels
}

/// The stable subset used in selectors (Deployment selectors are immutable).
pub(crate) fn selector(ctx: &RegionCtx<'_>, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_owned(), name.to_owned()),
        (INSTANCE.to_owned(), ctx.region.namespace.clone()),
    ])
}
