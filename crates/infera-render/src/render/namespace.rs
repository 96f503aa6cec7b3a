//! The region's Namespace.

use super::labels;
use super::object::RenderedObject;
use crate::plan::Plan;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The Namespace every object of the region lives in.
pub(crate) fn objects(plan: &Plan, region: usize) -> Vec<RenderedObject> {
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(plan.region_spec(region).namespace.clone()),
            labels: Some(labels::common(plan, region, "inferadb", "namespace")),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    vec![RenderedObject::new(&namespace)]
}
