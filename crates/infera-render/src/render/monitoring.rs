//! Prometheus operator objects (`monitoring.coreos.com/v1`): a ServiceMonitor for the engine
//! (`/metrics` on mesh, 8082) and for control (`/metrics` on http, 9090), and a PodMonitor for the
//! operator (8080; it has no Service). Rendered with `monitoring.create_service_monitors: true`,
//! each in its own file, so a cluster without the Prometheus operator's CRDs can drop them.

use super::inferadb::{App, MAIN_SERVICE, rendered_apps};
use super::labels;
use super::object::RenderedObject;
use super::operator::OPERATOR_APP;
use crate::plan::Plan;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::Serialize;

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

fn metadata(plan: &Plan, region: usize, name: &str, app: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(plan.region_spec(region).namespace.clone()),
        labels: Some(labels::common(plan, region, app, "monitoring")),
        ..ObjectMeta::default()
    }
}

fn selector(plan: &Plan, region: usize, app: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels::selector(plan, region, app)),
        ..LabelSelector::default()
    }
}

/// The monitors of a region, for what runs there.
pub(crate) fn objects(plan: &Plan, region: usize, runs_operator: bool) -> Vec<RenderedObject> {
    let monitoring = &plan.spec.monitoring;
    if !(monitoring.enabled && monitoring.create_service_monitors) {
        return Vec::new();
    }
    let mut objects: Vec<RenderedObject> = rendered_apps(plan, region)
        .into_iter()
        .map(|app: App| {
            RenderedObject::new(&Monitor {
                api_version: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: metadata(plan, region, app.name(), app.name()),
                spec: ServiceMonitorSpec {
                    // The main Service only: the engine's headless Service selects the same
                    // pods, and Prometheus would scrape each of them once per Service.
                    selector: {
                        let mut selector = selector(plan, region, app.name());
                        if let Some(labels) = selector.match_labels.as_mut() {
                            labels.insert(labels::SERVICE.to_owned(), MAIN_SERVICE.to_owned());
                        }
                        selector
                    },
                    endpoints: vec![Endpoint {
                        port: app.metrics_port().0,
                        path: "/metrics",
                    }],
                },
            })
        })
        .collect();
    if runs_operator {
        objects.push(RenderedObject::new(&Monitor {
            api_version: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: metadata(plan, region, OPERATOR_APP, OPERATOR_APP),
            spec: PodMonitorSpec {
                selector: selector(plan, region, OPERATOR_APP),
                pod_metrics_endpoints: vec![Endpoint {
                    port: "metrics",
                    path: "/metrics",
                }],
            },
        }));
    }
    objects
}
