//! `outputs.json`: the Terraform module's outputs, with the values known at render time.
//! Values only a running cluster knows are `null` and listed in `unknown_at_render_time`.

use super::fdb_cluster::rendered_datacenters;
use super::operator::{OPERATOR_NAME, operator_image};
use crate::naming::{CLUSTER_FILE_KEY, fdb_cluster_file_config_map};
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
                "deployment_name": OPERATOR_NAME,
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
        "engine_endpoints": {},
        "fearless_dr_config": {
            "enabled": spec.fearless_dr.enabled,
            "usable_regions": spec.fearless_dr.usable_regions,
            "satellite_logs": plan.satellites_in_use().then(|| spec.fearless_dr.satellite_logs_or_default()),
            "satellite_redundancy_mode": spec.fearless_dr.satellite_redundancy_mode.filter(|_| plan.satellites_in_use()).map(|mode| mode.as_str()),
            "regions": fearless_regions,
        },
        "cluster_connection_info": {
            "fdb_cluster_file_path": "/etc/foundationdb/fdb.cluster",
            "fdb_configmap_name": fdb_cluster_file_config_map(&active.resource_name),
            "fdb_configmap_key": CLUSTER_FILE_KEY,
            "seed_connection_string": seed,
        },
        "bootstrap": {
            "phase": phase,
            "rendered_datacenters": rendered.iter().map(|&index| plan.datacenters[index].id.clone()).collect::<Vec<_>>(),
            "pending_datacenters": (0..plan.datacenters.len()).filter(|index| !rendered.contains(index)).map(|index| plan.datacenters[index].id.clone()).collect::<Vec<_>>(),
        },
        "unknown_at_render_time": [
            "fdb_operators.*.release_status: the operator Deployment's rollout status",
            "fdb_operators.*.operator_ready: whether the operator is ready",
            "fdb_clusters.*.cluster_file_secret_name: the operator keeps the cluster file in its ConfigMap; there is no Secret",
            "the connection string: the operator picks the coordinators; read status.connectionString",
        ],
    })
}
