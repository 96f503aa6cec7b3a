//! The region's Namespace.

use super::object::RenderedObject;
use super::{RegionCtx, labels, meta};
use crate::names::INFERADB_APP;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The Namespace every object of the region lives in. With Tailscale its pods include
/// privileged containers (kernel-mode Tailscale), so the namespace admits them under Pod
/// Security Admission (`enforce: privileged`), and warns and audits at `baseline`, so every
/// exception shows on apply and in the audit log (`APPLY.md` lists them). It carries the prune
/// protection: deleting it would delete the FoundationDBCluster in it, with its volumes, and the
/// Secrets the user created.
pub(crate) fn objects(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    let mut labels = labels::common(ctx, INFERADB_APP, "namespace");
    if ctx.plan.tailscale.is_some() {
        for (mode, level) in [
            ("enforce", "privileged"),
            ("warn", "baseline"),
            ("audit", "baseline"),
        ] {
            labels.insert(
                format!("pod-security.kubernetes.io/{mode}"),
                level.to_owned(),
            );
        }
    }
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(ctx.region.namespace.clone()),
            labels: Some(labels),
            annotations: Some(meta::prune_protection()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    vec![RenderedObject::new(&namespace)]
}
