//! `outputs.json`: the Terraform module's outputs, with the values known at render time.
//! Values only a running cluster knows are `null` and listed in `unknown_at_render_time`.

use super::fdb_cluster::rendered_datacenters;
use super::inferadb::{App, cluster_file_source, rendered_apps};
use super::operator::{OPERATOR_DEPLOYMENT, operator_image};
use super::tailscale_names::{ROUTER_NAME, Workload, credential_secret};
use crate::model::failure::Lost;
use crate::naming::{CLUSTER_FILE_KEY, CLUSTER_FILE_PATH, fdb_cluster_file_config_map};
use crate::plan::failures::action;
use crate::plan::{Bootstrap, DatacenterKind, Plan, RegionRole};
use serde_json::{Map, Value, json};

fn role(plan: &Plan, region: usize) -> &'static str {
    match plan.regions[region].role {
        RegionRole::FdbRegion(0) => "active",
        RegionRole::FdbRegion(_) => "dr",
        RegionRole::Satellite => "satellite",
        RegionRole::Client => "client",
    }
}

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
    let spec = &plan.spec;
    let rendered = rendered_datacenters(plan);
    let mut regions = Map::new();
    let mut operators = Map::new();
    let mut clusters = Map::new();
    for region in &plan.regions {
        let spec_region = plan.region_spec(region.index);
        regions.insert(
            region.id.clone(),
            json!({
                "id": region.id,
                "name": spec_region.display_name(),
                "is_primary": spec_region.is_primary,
                "priority": spec_region.priority,
                "namespace": spec_region.namespace,
                "kubernetes_context": spec_region.kubernetes.config_context,
                "fdb_role": role(plan, region.index),
            }),
        );
        if region.datacenters.is_empty() {
            continue;
        }
        operators.insert(
            region.id.clone(),
            json!({
                "namespace": spec_region.namespace,
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
                    "rendered": rendered.contains(&index),
                })
            })
            .collect();
        let first = &plan.datacenters[region.datacenters[0]];
        clusters.insert(
            region.id.clone(),
            json!({
                "cluster_name": first.resource_name,
                "namespace": spec_region.namespace,
                "fdb_version": plan.fdb_version.to_string(),
                "region_id": region.id,
                "is_primary": spec_region.is_primary,
                "redundancy_mode": spec.redundancy_mode.as_str(),
                "cluster_file_configmap_name": fdb_cluster_file_config_map(&first.resource_name),
                "cluster_file_secret_name": null,
                "tailscale_enabled": spec.tailscale.enabled,
                "datacenters": datacenters,
            }),
        );
    }
    let primary = plan
        .regions
        .iter()
        .find(|region| plan.region_spec(region.index).is_primary);
    let endpoints = |app: App| -> Map<String, Value> {
        plan.regions
            .iter()
            .filter(|_| match app {
                App::Engine => spec.engine.enabled,
                App::Control => spec.control.enabled,
            })
            .map(|region| {
                let namespace = &plan.region_spec(region.index).namespace;
                let mut endpoint = Map::new();
                endpoint.insert("service_name".to_owned(), json!(app.name()));
                endpoint.insert("namespace".to_owned(), json!(namespace));
                endpoint.insert(
                    "service_dns".to_owned(),
                    json!(format!("{}.{namespace}.svc.cluster.local", app.name())),
                );
                for (name, port) in app.ports() {
                    endpoint.insert(format!("{name}_port"), json!(port));
                }
                endpoint.insert("metrics_port".to_owned(), json!(app.metrics_port().1));
                if app == App::Engine {
                    endpoint.insert(
                        "headless_service_name".to_owned(),
                        json!("inferadb-engine-headless"),
                    );
                }
                endpoint.insert("cluster_ip".to_owned(), Value::Null);
                endpoint.insert(
                    "rendered".to_owned(),
                    json!(rendered_apps(plan, region.index).contains(&app)),
                );
                (region.id.clone(), Value::Object(endpoint))
            })
            .collect()
    };
    let cluster_files: Map<String, Value> = plan
        .regions
        .iter()
        .map(|region| {
            let source = cluster_file_source(plan, region.index);
            (
                region.id.clone(),
                json!({
                    "configmap_name": source.as_ref().map(|(name, _)| name.clone()),
                    "configmap_key": CLUSTER_FILE_KEY,
                    "written_by": source.as_ref().map(|(_, ours)| if *ours { "infera-render" } else { "fdb-operator" }),
                }),
            )
        })
        .collect();
    let primary_namespace = primary.map(|region| plan.region_spec(region.index).namespace.clone());
    let tailscale = &spec.tailscale;
    let tailscale_config = if tailscale.enabled {
        let workloads: Vec<Value> = Workload::ALL
            .iter()
            .map(|&workload| {
                let (secret, key) = credential_secret(plan, workload);
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
                let cidr = plan.region_spec(region.index).pod_cidr.clone()?;
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
    let active = &plan.datacenters[plan.fdb_regions[0].primary.datacenter];
    json!({
        "regions": regions,
        "primary_region": primary.map(|region| {
            let spec_region = plan.region_spec(region.index);
            json!({"id": region.id, "name": spec_region.display_name(), "namespace": spec_region.namespace})
        }),
        "fdb_operators": operators,
        "fdb_clusters": clusters,
        "engine_endpoints": endpoints(App::Engine),
        "control_endpoints": endpoints(App::Control),
        "fearless_dr_config": {
            "enabled": spec.fearless_dr.enabled,
            "usable_regions": spec.fearless_dr.usable_regions,
            "satellite_logs": plan.satellites_in_use().then(|| spec.fearless_dr.satellite_logs_or_default()),
            "satellite_redundancy_mode": spec.fearless_dr.satellite_redundancy_mode.filter(|_| plan.satellites_in_use()).map(|mode| mode.as_str()),
            "regions": fearless_regions,
            "failure_scenarios": failure_scenarios(plan),
        },
        "cluster_connection_info": {
            "fdb_cluster_file_path": CLUSTER_FILE_PATH,
            "fdb_configmap_name": fdb_cluster_file_config_map(&active.resource_name),
            "fdb_configmap_key": CLUSTER_FILE_KEY,
            "cluster_files": cluster_files,
            "engine_service": primary_namespace.as_ref().filter(|_| spec.engine.enabled).map(|namespace| format!("inferadb-engine.{namespace}.svc.cluster.local")),
            "engine_http_port": App::Engine.ports()[0].1,
            // The module's output; the engine serves no gRPC (`App::ports`), so there is none.
            "engine_grpc_port": Value::Null,
            "seed_connection_string": seed,
        },
        "tailscale_config": tailscale_config,
        "monitoring_enabled": spec.monitoring.enabled,
        "service_monitors": spec.monitoring.enabled && spec.monitoring.create_service_monitors,
        "bootstrap": {
            "phase": phase,
            "rendered_datacenters": rendered.iter().map(|&index| plan.datacenters[index].id.clone()).collect::<Vec<_>>(),
            "pending_datacenters": (0..plan.datacenters.len()).filter(|index| !rendered.contains(index)).map(|index| plan.datacenters[index].id.clone()).collect::<Vec<_>>(),
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
