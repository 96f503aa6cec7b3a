//! Prometheus operator objects (`monitoring.coreos.com/v1`): a ServiceMonitor for the engine
//! (`/metrics` on mesh, 8082) and for control (`/metrics` on http, 9090), and a PodMonitor for the
//! operator (8080; it has no Service). Rendered with `monitoring.create_service_monitors: true`,
//! each in its own file, so a cluster without the Prometheus operator's CRDs can drop them.

use super::inferadb::metrics_port;
use super::object::{CustomKind, RenderedObject};
use super::{RegionCtx, labels, meta};
use crate::names::OPERATOR_APP;
use crate::names::labels::{MAIN_SERVICE, SERVICE};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

/// The Prometheus operator's `ServiceMonitor`.
pub(crate) const SERVICE_MONITOR: CustomKind = CustomKind {
    api_version: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
};

/// The Prometheus operator's `PodMonitor`.
pub(crate) const POD_MONITOR: CustomKind = CustomKind {
    api_version: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Monitor<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: S,
}

#[derive(Serialize)]
struct ServiceMonitorSpec {
    selector: LabelSelector,
    endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodMonitorSpec {
    selector: LabelSelector,
    pod_metrics_endpoints: Vec<Endpoint>,
}

#[derive(Serialize)]
struct Endpoint {
    port: &'static str,
    path: &'static str,
}

fn selector(ctx: &RegionCtx<'_>, app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels::selector(ctx, app)),
        ..LabelSelector::default()
    }
}

/// The monitors of a region, for what runs there.
pub(crate) fn objects(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    if !ctx.plan.monitoring.monitors {
        return Vec::new();
    }
    let mut objects: Vec<RenderedObject> = ctx
        .region
        .apps
        .iter()
        .map(|&app| {
            RenderedObject::custom(
                &SERVICE_MONITOR,
                &Monitor {
                    api_version: SERVICE_MONITOR.api_version,
                    kind: SERVICE_MONITOR.kind,
                    metadata: meta::namespaced(ctx, app.name(), app.name(), "monitoring"),
                    spec: ServiceMonitorSpec {
                        // The main Service only: the engine's headless Service selects the same
                        // pods, and Prometheus would scrape each of them once per Service.
                        selector: {
                            let mut selector = selector(ctx, app.name());
                            if let Some(labels) = selector.match_labels.as_mut() {
                                labels.insert(SERVICE.to_owned(), MAIN_SERVICE.to_owned());
                            }
                            selector
                        },
                        endpoints: vec![Endpoint {
                            port: metrics_port(app).0,
                            path: "/metrics",
                        }],
                    },
                },
            )
        })
        .collect();
    if ctx.region.runs_operator() {
        objects.push(RenderedObject::custom(
            &POD_MONITOR,
            &Monitor {
                api_version: POD_MONITOR.api_version,
                kind: POD_MONITOR.kind,
                metadata: meta::namespaced(ctx, OPERATOR_APP, OPERATOR_APP, "monitoring"),
                spec: PodMonitorSpec {
                    selector: selector(ctx, OPERATOR_APP),
                    pod_metrics_endpoints: vec![Endpoint {
                        port: "metrics",
                        path: "/metrics",
                    }],
                },
            },
        ));
    }
    objects
}
