//! Labels: one function for the full set, one for the (immutable) selectors; the keys are in
//! [`crate::names::labels`].

use super::RegionCtx;
use crate::names::labels::{COMPONENT, INSTANCE, MANAGED_BY, NAME, PART_OF, REGION};
use std::collections::BTreeMap;

/// Every label of an object: the recommended `app.kubernetes.io/*` set, the region, and the
/// spec's `labels` last, so they replace infera-render's value of a key the user may set
/// (`part-of`); the keys it selects on or marks its objects with are refused by validation
/// (`names::labels::is_reserved`).
pub(crate) fn common(ctx: &RegionCtx<'_>, name: &str, component: &str) -> BTreeMap<String, String> {
    let mut labels = selector(ctx, name);
    labels.insert(COMPONENT.to_owned(), component.to_owned());
    labels.insert(PART_OF.to_owned(), "inferadb".to_owned());
    labels.insert(MANAGED_BY.to_owned(), "infera-render".to_owned());
    labels.insert(REGION.to_owned(), ctx.region.id.clone());
    labels.extend(ctx.plan.labels.clone());
    labels
}

/// The stable subset used in selectors (Deployment selectors are immutable).
pub(crate) fn selector(ctx: &RegionCtx<'_>, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME.to_owned(), name.to_owned()),
        (INSTANCE.to_owned(), ctx.region.namespace.clone()),
    ])
}
