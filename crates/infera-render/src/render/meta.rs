//! Object metadata: every object's name, namespace and labels come from here.

use super::{RegionCtx, labels};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A namespaced object of the region: `name` in the region's namespace, labelled as part of
/// `app` with role `component`.
pub(crate) fn namespaced(
    ctx: &RegionCtx<'_>,
    name: &str,
    app: &str,
    component: &str,
) -> ObjectMeta {
    ObjectMeta {
        namespace: Some(ctx.region.namespace.clone()),
        ..cluster_wide(ctx, name, app, component)
    }
}

/// A cluster-scoped object of the region (a ClusterRole and its binding).
pub(crate) fn cluster_wide(
    ctx: &RegionCtx<'_>,
    name: &str,
    app: &str,
    component: &str,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(labels::common(ctx, app, component)),
        ..ObjectMeta::default()
    }
}
