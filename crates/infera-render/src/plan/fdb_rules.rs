//! FoundationDB's region rules, checked on the resolved topology (`docs/fdb-multi-region.md` §1
//! and §6; FDB release-7.3 fdbclient/DatabaseConfiguration.cpp `isValid()`/`parse()`), and the
//! operator's limits on names and process counts.

use super::topology::{Topology, fearless_path, region_path, replicas};
use super::{DatacenterPlan, RegionId};
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::model::coordinators::desired_count;
use crate::names::{FDB_CLUSTER_NAME_MAX, PROCESS_GROUP_ID_PREFIX_MAX};
use infera_spec::{MultiRegionSpec, RedundancyMode, SatelliteRedundancyMode};
use std::collections::BTreeMap;

/// The field that names a datacenter: its zone, or the region id when the region lists none.
fn datacenter_path(spec: &MultiRegionSpec, datacenter: &DatacenterPlan) -> FieldPath {
    let region = &spec.regions[datacenter.region];
    match &datacenter.zone {
        Some(zone) => {
            let position = region.zones.iter().position(|z| z == zone).unwrap_or(0);
            region_path(datacenter.region).key("zones").index(position)
        }
        None => region_path(datacenter.region).key("id"),
    }
}

pub(super) fn check_topology(
    spec: &MultiRegionSpec,
    topology: &Topology,
    satellite_hosts: &[usize],
    diagnostics: &mut Diagnostics,
) {
    let fearless = &spec.fearless_dr;
    let usable = fearless.usable_regions;
    let fdb_region_count = topology.fdb_regions.len();
    let region_id = |index: RegionId| spec.regions[index].id.as_str();

    if !(1..=2).contains(&usable) {
        diagnostics.push(
            Diagnostic::error(fearless_path("usable_regions"), format!("usable_regions must be 1 or 2, found {usable}"))
                .with_help("FoundationDB keeps a replica in at most 2 regions (DatabaseConfiguration.cpp isValid)"),
        );
    } else if usable == 2 && fdb_region_count != 2 {
        let why = if fearless.enabled {
            "add a second region, or set usable_regions: 1"
        } else {
            "fearless_dr.enabled is false, so only the primary region runs FoundationDB; enable it or set usable_regions: 1"
        };
        diagnostics.push(
            Diagnostic::error(
                fearless_path("usable_regions"),
                format!("usable_regions=2 requires exactly 2 FoundationDB regions, but this spec has {fdb_region_count}"),
            )
            .with_help(why),
        );
    }

    if fearless.enabled && fdb_region_count == 1 {
        diagnostics.push(
            Diagnostic::warning(
                fearless_path("enabled"),
                "Fearless DR is enabled, but only one region hosts FoundationDB, so there is no DR region",
            )
            .with_help("add a second region, or set fearless_dr.enabled: false"),
        );
    }
    if usable == 1 && fdb_region_count == 2 {
        let active = region_id(topology.fdb_regions[0].region);
        let dr = region_id(topology.fdb_regions[1].region);
        diagnostics.push(
            Diagnostic::warning(
                fearless_path("usable_regions"),
                format!(
                    "usable_regions=1: the DR region {dr} holds no replica: its datacenter is listed at FoundationDB priority -1, its processes join the cluster but hold no data and no transaction log, and satellite logs are never recruited; losing {active} loses the database"
                ),
            )
            .with_help(format!("to make {dr} a replica later, set fearless_dr.usable_regions: 2 and re-render with the current connection string: the operator copies the data to {dr}, then raises its priority to 0 (automatic failover)")),
        );
    }

    // Satellites (rules 9-12).
    let mode = fearless.satellite_redundancy_mode;
    let any_satellites = topology
        .fdb_regions
        .iter()
        .any(|region| !region.satellites.is_empty());
    if let Some(mode) = mode {
        for fdb_region in &topology.fdb_regions {
            let index = fdb_region.region;
            let zones_path = region_path(index).key("zones");
            if fdb_region.satellites.is_empty() {
                diagnostics.push(
                    Diagnostic::error(
                        zones_path,
                        format!(
                            "region {} sets {} but has no satellite datacenter",
                            region_id(index),
                            mode.as_str()
                        ),
                    )
                    .with_help(format!(
                        "list {} zone(s) after the first in regions[{index}].zones (the first zone hosts the primary datacenter), or add a region with fdb_role: satellite, or unset fearless_dr.satellite_redundancy_mode",
                        mode.satellite_datacenters()
                    )),
                );
            } else if mode.satellite_datacenters() == 2 && fdb_region.satellites.len() < 2 {
                diagnostics.push(
                    Diagnostic::warning(
                        zones_path,
                        format!(
                            "{} writes to 2 satellite datacenters, but region {} has 1: only the fallback (2 copies in 1 datacenter) is possible",
                            mode.as_str(),
                            region_id(index)
                        ),
                    )
                    .with_help("list a third zone, or use one_satellite_double"),
                );
            }
        }
        let satellite_logs = fearless.satellite_logs_or_default();
        if any_satellites && satellite_logs < mode.copies() {
            diagnostics.push(
                Diagnostic::warning(
                    fearless_path("satellite_logs"),
                    format!(
                        "satellite_logs {satellite_logs} is below the {} copies of {}; FoundationDB raises it to {}",
                        mode.copies(),
                        mode.as_str(),
                        mode.copies()
                    ),
                )
                .with_help(format!("set satellite_logs to at least {}", mode.copies())),
            );
        }
        if mode == SatelliteRedundancyMode::TwoSatelliteFast && satellite_logs > 4 {
            diagnostics.push(Diagnostic::warning(
                fearless_path("satellite_logs"),
                format!("two_satellite_fast does not hide latency with more than 4 satellite logs (got {satellite_logs}) (configuration.rst:815)"),
            ));
        }
    }
    for &host in satellite_hosts {
        let role_path = region_path(host).key("fdb_role");
        if mode.is_none() {
            diagnostics.push(
                Diagnostic::error(
                    role_path,
                    format!(
                        "region {} has fdb_role: satellite, but fearless_dr.satellite_redundancy_mode is not set, so FoundationDB would never use it",
                        region_id(RegionId::new(host))
                    ),
                )
                .with_help("set fearless_dr.satellite_redundancy_mode, e.g. one_satellite_double"),
            );
        }
    }
    if fearless.satellite_logs.is_some() && !any_satellites {
        diagnostics.push(
            Diagnostic::warning(fearless_path("satellite_logs"), "satellite_logs has no effect without satellites")
                .with_help("set fearless_dr.satellite_redundancy_mode and list a second zone per region (the Terraform module computed satellite_logs but never used it)"),
        );
    }
    if fdb_region_count == 2 && !any_satellites && usable == 2 {
        diagnostics.push(
            Diagnostic::warning(
                fearless_path("satellite_redundancy_mode"),
                "no satellites: losing the active datacenter needs `force_recovery_with_data_loss`, which discards commits that had not reached the DR region",
            )
            .with_help(if topology.fdb_regions.iter().all(|r| spec.regions[r.region].zones.len() >= 2) {
                "set fearless_dr.satellite_redundancy_mode: one_satellite_double: each region's second zone becomes its satellite"
            } else {
                "set fearless_dr.satellite_redundancy_mode: one_satellite_double and list at least 2 zones per region (the second zone becomes the satellite)"
            }),
        );
    } else if fdb_region_count == 2 && any_satellites {
        for fdb_region in &topology.fdb_regions {
            if fdb_region.satellites.is_empty() {
                diagnostics.push(Diagnostic::warning(
                    region_path(fdb_region.region).key("zones"),
                    format!(
                        "while {} is active, commits are durable in one datacenter only (it has no satellite)",
                        region_id(fdb_region.region)
                    ),
                ));
            }
        }
    }

    if spec.redundancy_mode == RedundancyMode::ThreeDataHall {
        // The operator wants 9 coordinators in three_data_hall, at most 3 per data hall
        // (OP@v2.33.0:internal/locality/locality.go:309-323), also for the initial cluster file
        // (controllers/generate_initial_cluster_file.go:107-188). infera-render renders no
        // data hall, so every process is in the same empty one: only 3 can be chosen and the
        // cluster is never created.
        diagnostics.push(
            Diagnostic::error(
                FieldPath::root().key("redundancy_mode"),
                "three_data_hall needs every FoundationDB pod placed in one of three data halls, which infera-render does not render: the operator could choose only 3 of its 9 coordinators and would never create the cluster",
            )
            .with_help("use triple (3 replicas on 3 distinct nodes) and zones or satellites for cross-site durability"),
        );
    }

    check_datacenters(spec, topology, diagnostics);
    check_process_capacity(spec, topology, diagnostics);
}

/// Datacenter ids: unique, and short enough for `processGroupIDPrefix` and pod names (rules 5,
/// 17, 23).
fn check_datacenters(spec: &MultiRegionSpec, topology: &Topology, diagnostics: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, RegionId> = BTreeMap::new();
    for datacenter in &topology.datacenters {
        let at = datacenter_path(spec, datacenter);
        if let Some(&other) = seen.get(datacenter.id.as_str()) {
            diagnostics.push(
                Diagnostic::error(
                    at.clone(),
                    format!(
                        "datacenter id `{}` is also the datacenter of regions[{other}]",
                        datacenter.id
                    ),
                )
                .with_help("datacenter ids (zone names, or region ids for regions without zones) must be unique"),
            );
        } else {
            seen.insert(&datacenter.id, datacenter.region);
        }
        if datacenter.id.len() > PROCESS_GROUP_ID_PREFIX_MAX {
            diagnostics.push(Diagnostic::error(
                at.clone(),
                format!(
                    "datacenter id `{}` is {} characters; it becomes the processGroupIDPrefix, which the operator limits to {PROCESS_GROUP_ID_PREFIX_MAX}",
                    datacenter.id,
                    datacenter.id.len()
                ),
            ));
        }
        if datacenter.resource_name.len() > FDB_CLUSTER_NAME_MAX {
            diagnostics.push(
                Diagnostic::error(
                    FieldPath::root().key("cluster_name"),
                    format!(
                        "the FoundationDBCluster name `{}` (cluster_name + datacenter id) is {} characters; pod names `<name>-stateless-<n>` must fit a 63-character DNS label, so it may have at most {FDB_CLUSTER_NAME_MAX}",
                        datacenter.resource_name,
                        datacenter.resource_name.len()
                    ),
                )
                .with_help(format!("shorten cluster_name or {at}")),
            );
        }
    }
}

/// Enough processes for the replicas and the coordinators (rules 15 and 16).
fn check_process_capacity(
    spec: &MultiRegionSpec,
    topology: &Topology,
    diagnostics: &mut Diagnostics,
) {
    let needed = replicas(spec.redundancy_mode);
    for fdb_region in &topology.fdb_regions {
        let counts = spec.regions[fdb_region.region].process_counts;
        for (class, count) in [("storage", counts.storage), ("log", counts.log)] {
            if count > 0 && count < needed {
                diagnostics.push(
                    Diagnostic::error(
                        region_path(fdb_region.region).key("process_counts").key(class),
                        format!(
                            "{count} {class} process(es) cannot hold the {needed} replicas of redundancy_mode {}",
                            spec.redundancy_mode.as_str()
                        ),
                    )
                    .with_help(format!("use at least {needed}, on distinct nodes (FoundationDB's zone is the node by default)")),
                );
            }
        }
    }

    let eligible = |datacenter: &DatacenterPlan| -> u32 {
        let counts = datacenter.process_counts;
        counts.storage.unwrap_or(0).saturating_add(counts.log)
    };
    // Phase 1 (and a single-datacenter cluster): the bootstrap datacenter alone, usable_regions 1.
    if let Some(first) = topology.fdb_regions.first() {
        let datacenter = &topology.datacenters[first.primary.datacenter];
        let wanted = desired_count(spec.redundancy_mode, 1);
        if eligible(datacenter) < wanted {
            diagnostics.push(
                Diagnostic::error(
                    region_path(first.region).key("process_counts"),
                    format!(
                        "datacenter {} has {} storage and log processes, but the operator needs {wanted} coordinators there (one per node)",
                        datacenter.id,
                        eligible(datacenter)
                    ),
                )
                .with_help("raise process_counts.storage or process_counts.log"),
            );
        }
    }
    if spec.fearless_dr.usable_regions == 2 && topology.fdb_regions.len() == 2 {
        let count = topology.datacenters.len();
        let cap = 9_u32.div_ceil(u32::try_from(count).unwrap_or(1));
        let placeable: u32 = topology
            .datacenters
            .iter()
            .map(|dc| eligible(dc).min(cap))
            .sum();
        if placeable < 9 {
            diagnostics.push(
                Diagnostic::error(
                    fearless_path("usable_regions"),
                    format!(
                        "with usable_regions=2 the operator recruits 9 coordinators, at most {cap} per datacenter, but the {count} datacenters have room for only {placeable}"
                    ),
                )
                .with_help("raise process counts (storage + log processes can be coordinators), or satellite_logs"),
            );
        }
    }
}
