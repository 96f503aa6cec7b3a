//! Object metadata: every object's name, namespace and labels come from here.

use super::{RegionCtx, labels};
use crate::names::annotations::PRUNE_PROTECTION;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use std::collections::BTreeMap;

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

/// The annotations that keep GitOps tools from deleting an object that leaves the output
/// ([`PRUNE_PROTECTION`]): on what holds data or what deleting would take data with it.
pub(crate) fn prune_protection() -> BTreeMap<String, String> {
    PRUNE_PROTECTION
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// Adds annotations to an object given as JSON (a CRD file, a post-rendered object).
pub(crate) fn annotate<'a>(
    value: &mut Value,
    annotations: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let entry = metadata
        .entry("annotations")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Some(map) = entry.as_object_mut() {
        for (key, text) in annotations {
            map.insert(key.to_owned(), Value::String(text.to_owned()));
        }
    }
}
