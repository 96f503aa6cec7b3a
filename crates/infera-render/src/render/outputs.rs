//! `outputs.json`: the Terraform module's outputs, with the values known at render time.
//! Values only a running cluster knows are `null` and listed in `unknown_at_render_time`.

use super::inferadb::{metrics_port, ports};
use super::operator::operator_image;
use crate::model::failure::Lost;
use crate::names::tailscale::{ROUTER_NAME, Workload};
use crate::names::{
    App, CLUSTER_FILE_KEY, CLUSTER_FILE_PATH, ENGINE_HEADLESS_SERVICE, OPERATOR_DEPLOYMENT,
    fdb_cluster_file_config_map,
};
use crate::plan::failures::action;
use crate::plan::{Bootstrap, ClusterFile, DatacenterKind, Plan};
use serde_json::{Map, Value, json};

/// `fearless_dr_config.failure_scenarios`: what happens when each datacenter and each region of
/// the rendered topology is lost (the same computation as `plan` and `APPLY.md`).
fn failure_scenarios(plan: &Plan) -> Vec<Value> {
    let rendered = &plan.failures.rendered;
    rendered
        .analysis
        .scenarios
        .iter()
        .map(|scenario| {
            let lost = match &scenario.lost {
                Lost::Datacenter(id) => json!({"datacenter": id}),
                Lost::Region(id) => json!({"region": id}),
            };
            json!({
                "lost": lost,
                "automatic": scenario.automatic,
                "data_loss": scenario.data_loss,
                "coordinators_left": scenario.coordinators_left,
                "coordinators": scenario.coordinators,
                "action": action(plan, &rendered.topology, scenario),
            })
        })
        .collect()
}

/// The outputs document.
pub(crate) fn outputs(plan: &Plan) -> Value {
    let mut regions = Map::new();
    let mut operators = Map::new();
    let mut clusters = Map::new();
    for region in &plan.regions {
        regions.insert(
            region.id.clone(),
            json!({
                "id": region.id,
                "name": region.name,
                "is_primary": region.is_primary,
                "priority": region.priority,
                "namespace": region.namespace,
                "kubernetes_context": region.kubernetes.config_context,
                "fdb_role": region.role.as_str(),
            }),
        );
        if region.datacenters.is_empty() {
            continue;
        }
        operators.insert(
            region.id.clone(),
            json!({
                "namespace": region.namespace,
                "deployment_name": OPERATOR_DEPLOYMENT,
                "release_version": plan.operator_version.to_string(),
                "image": operator_image(plan),
                "release_status": null,
                "operator_ready": null,
            }),
        );
        let datacenters: Vec<Value> = region
            .datacenters
            .iter()
            .map(|&index| {
                let datacenter = &plan.datacenters[index];
                json!({
                    "id": datacenter.id,
                    "kind": match datacenter.kind {
                        DatacenterKind::Primary => "primary",
                        DatacenterKind::Satellite => "satellite",
                    },
                    "zone": datacenter.zone,
                    "cluster_name": datacenter.resource_name,
                    "cluster_file_configmap_name": fdb_cluster_file_config_map(&datacenter.resource_name),
                    "cluster_file_configmap_key": CLUSTER_FILE_KEY,
                    "rendered": datacenter.rendered,
                })
            })
            .collect();
        let first = &plan.datacenters[region.datacenters[0]];
        clusters.insert(
            region.id.clone(),
            json!({
                "cluster_name": first.resource_name,
                "namespace": region.namespace,
                "fdb_version": plan.fdb_version.to_string(),
                "region_id": region.id,
                "is_primary": region.is_primary,
                "redundancy_mode": plan.fdb.redundancy_mode.as_str(),
                "cluster_file_configmap_name": fdb_cluster_file_config_map(&first.resource_name),
                "cluster_file_secret_name": null,
                "tailscale_enabled": plan.tailscale.is_some(),
                "datacenters": datacenters,
            }),
        );
    }
    let primary = plan.regions.iter().find(|region| region.is_primary);
    let endpoints = |app: App| -> Map<String, Value> {
        plan.regions
            .iter()
            .filter(|_| plan.app_enabled(app))
            .map(|region| {
                let namespace = &region.namespace;
                let mut endpoint = Map::new();
                endpoint.insert("service_name".to_owned(), json!(app.name()));
                endpoint.insert("namespace".to_owned(), json!(namespace));
                endpoint.insert(
                    "service_dns".to_owned(),
                    json!(format!("{}.{namespace}.svc.cluster.local", app.name())),
                );
                for (name, port) in ports(app) {
                    endpoint.insert(format!("{name}_port"), json!(port));
                }
                endpoint.insert("metrics_port".to_owned(), json!(metrics_port(app).1));
                if app == App::Engine {
                    endpoint.insert(
                        "headless_service_name".to_owned(),
                        json!(ENGINE_HEADLESS_SERVICE),
                    );
                }
                endpoint.insert("cluster_ip".to_owned(), Value::Null);
                endpoint.insert("rendered".to_owned(), json!(region.runs(app)));
                (region.id.clone(), Value::Object(endpoint))
            })
            .collect()
    };
    let cluster_files: Map<String, Value> = plan
        .regions
        .iter()
        .map(|region| {
            let source = region.cluster_file.as_ref();
            (
                region.id.clone(),
                json!({
                    "configmap_name": source.map(ClusterFile::config_map),
                    "configmap_key": CLUSTER_FILE_KEY,
                    "written_by": source.map(|source| match source {
                        ClusterFile::Ours { .. } => "infera-render",
                        ClusterFile::Operator { .. } => "fdb-operator",
                    }),
                }),
            )
        })
        .collect();
    let primary_namespace = primary.map(|region| region.namespace.clone());
    let tailscale_config = if let Some(tailscale) = &plan.tailscale {
        let workloads: Vec<Value> = Workload::ALL
            .iter()
            .map(|&workload| {
                let (secret, key) = tailscale.credential_secret(workload);
                // The routers' tag differs per region: see `subnet_routers`.
                let tag = (workload != Workload::Router).then(|| workload.tag(""));
                json!({
                    "workload": workload.name(),
                    "tag": tag,
                    "secret_name": secret,
                    "secret_key": key,
                    "ephemeral": workload.ephemeral(),
                })
            })
            .collect();
        let routers: Map<String, Value> = plan
            .regions
            .iter()
            .filter_map(|region| {
                let cidr = region.pod_network?.to_string();
                Some((
                    region.id.clone(),
                    json!({"statefulset": ROUTER_NAME, "replicas": tailscale.router_replicas, "tag": Workload::Router.tag(&region.id), "advertised_routes": [cidr]}),
                ))
            })
            .collect();
        json!({
            "enabled": true,
            "image": tailscale.image,
            "credentials": tailscale.credentials.as_str(),
            "workloads": workloads,
            "subnet_routers": routers,
            "policy_file": "tailnet-policy.hujson",
        })
    } else {
        json!({"enabled": false})
    };
    let fearless_regions: Vec<Value> = plan
        .fdb_regions
        .iter()
        .map(|region| {
            let mut datacenters = vec![json!({
                "id": plan.datacenters[region.primary.datacenter].id,
                "priority": region.primary.fdb_priority,
                "satellite": false,
            })];
            datacenters.extend(region.satellites.iter().map(|satellite| {
                json!({
                    "id": plan.datacenters[satellite.datacenter].id,
                    "priority": satellite.fdb_priority,
                    "satellite": true,
                })
            }));
            json!({
                "id": plan.regions[region.region].id,
                "priority": region.primary.fdb_priority,
                "active": region.active,
                "datacenters": datacenters,
            })
        })
        .collect();
    let (phase, seed) = match &plan.bootstrap {
        Bootstrap::PhaseOne { .. } => (json!(1), Value::Null),
        Bootstrap::Seeded { connection_string } => (json!(2), json!(connection_string)),
        Bootstrap::SingleDatacenter => (Value::Null, Value::Null),
    };
    let active = &plan.datacenters[plan.active().primary.datacenter];
    json!({
        "regions": regions,
        "primary_region": primary.map(|region| {
            json!({"id": region.id, "name": region.name, "namespace": region.namespace})
        }),
        "fdb_operators": operators,
        "fdb_clusters": clusters,
        "engine_endpoints": endpoints(App::Engine),
        "control_endpoints": endpoints(App::Control),
        "fearless_dr_config": {
            "enabled": plan.fdb.fearless_dr,
            "usable_regions": plan.fdb.usable_regions,
            "satellite_logs": plan.satellites_in_use().then_some(plan.fdb.satellite_logs),
            "satellite_redundancy_mode": plan.fdb.satellite_redundancy_mode.filter(|_| plan.satellites_in_use()).map(|mode| mode.as_str()),
            "regions": fearless_regions,
            "failure_scenarios": failure_scenarios(plan),
        },
        "cluster_connection_info": {
            "fdb_cluster_file_path": CLUSTER_FILE_PATH,
            "fdb_configmap_name": fdb_cluster_file_config_map(&active.resource_name),
            "fdb_configmap_key": CLUSTER_FILE_KEY,
            "cluster_files": cluster_files,
            "engine_service": primary_namespace.as_ref().filter(|_| plan.engine.is_some()).map(|namespace| format!("{}.{namespace}.svc.cluster.local", App::Engine.name())),
            "engine_http_port": ports(App::Engine)[0].1,
            // The module's output; the engine serves no gRPC (`inferadb::ports`), so there is none.
            "engine_grpc_port": Value::Null,
            "seed_connection_string": seed,
        },
        "tailscale_config": tailscale_config,
        "monitoring_enabled": plan.monitoring.scrape,
        "service_monitors": plan.monitoring.monitors,
        "bootstrap": {
            "phase": phase,
            "rendered_datacenters": plan.datacenters.iter().filter(|dc| dc.rendered).map(|dc| dc.id.clone()).collect::<Vec<_>>(),
            "pending_datacenters": plan.datacenters.iter().filter(|dc| !dc.rendered).map(|dc| dc.id.clone()).collect::<Vec<_>>(),
        },
        "unknown_at_render_time": [
            "fdb_operators.*.release_status: the operator Deployment's rollout status",
            "fdb_operators.*.operator_ready: whether the operator is ready",
            "engine_endpoints.*.cluster_ip, control_endpoints.*.cluster_ip: assigned by each cluster",
            "fdb_clusters.*.cluster_file_secret_name: the operator keeps the cluster file in its ConfigMap; there is no Secret",
            "the connection string: the operator picks the coordinators; read status.connectionString",
        ],
    })
}
