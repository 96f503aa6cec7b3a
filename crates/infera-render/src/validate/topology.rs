//! The region → datacenter mapping (documented on [`crate::plan`]) and FoundationDB's region
//! rules (`docs/fdb-multi-region.md` §1 and §6; FDB release-7.3
//! fdbclient/DatabaseConfiguration.cpp `isValid()`/`parse()`).

use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::model::coordinators::desired_count;
use crate::naming::{FDB_CLUSTER_NAME_MAX, PROCESS_GROUP_ID_PREFIX_MAX, fdb_cluster_name};
use crate::plan::{
    Bootstrap, DatacenterKind, DatacenterPlan, DatacenterProcessCounts, DatacenterRef,
    FdbRegionPlan, PlanOptions, RegionPlan, RegionRole,
};
use infera_spec::{FdbRole, MultiRegionSpec, RedundancyMode, SatelliteRedundancyMode};
use std::collections::BTreeMap;

/// The resolved topology.
pub struct Topology {
    pub regions: Vec<RegionPlan>,
    pub fdb_regions: Vec<FdbRegionPlan>,
    pub datacenters: Vec<DatacenterPlan>,
    pub coordinators: u32,
    pub bootstrap: Bootstrap,
    pub configuring_datacenter: usize,
}

/// The FoundationDB priority of an FDB region's primary datacenter (higher wins). The active
/// region's is 1. The DR region's is 0 with `usable_regions` 2, so FoundationDB can fail over to
/// it by itself (FDB@7.3.43:documentation/sphinx/source/configuration.rst:649). With
/// `usable_regions` 1 it is -1, the documented state of a region that holds no replica
/// (configuration.rst:731): at 0 the operator would raise usable_regions to 2 to set that
/// priority and then never be allowed to lower it again, since FoundationDB refuses to change
/// usable_regions while two regions are >= 0 (MULTIPLE_ACTIVE_REGIONS,
/// FDB@7.3.43:fdbclient/include/fdbclient/GenericManagementAPI.actor.h:351-360;
/// `crate::model::staging` walks it).
fn primary_priority(position: usize, usable_regions: u32) -> i32 {
    match (position, usable_regions) {
        (0, _) => 1,
        (_, 2) => 0,
        _ => -1,
    }
}

fn region_path(index: usize) -> FieldPath {
    FieldPath::root().key("regions").index(index)
}

fn fearless_path(key: &str) -> FieldPath {
    FieldPath::root().key("fearless_dr").key(key)
}

/// Copies of the data in each region's primary datacenter, and so the distinct nodes its storage
/// and log processes need (fdb-multi-region.md §1.3, §6 rule 15).
pub(crate) fn replicas(mode: RedundancyMode) -> u32 {
    match mode {
        RedundancyMode::Single => 1,
        RedundancyMode::Double => 2,
        RedundancyMode::Triple | RedundancyMode::ThreeDataHall => 3,
    }
}

/// Resolves roles, datacenters, priorities and the bootstrap phase, and checks FoundationDB's
/// region rules. Returns `None` only when there is no region at all (already an error).
pub fn resolve(
    spec: &MultiRegionSpec,
    options: &PlanOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Topology> {
    let count = spec.regions.len();
    if count == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by_key(|&index| (spec.regions[index].priority, index));
    let mut rank = vec![0; count];
    for (position, &index) in order.iter().enumerate() {
        rank[index] = position;
    }
    let primary = spec
        .regions
        .iter()
        .position(|region| region.is_primary)
        .unwrap_or(order[0]);

    let roles = resolve_roles(spec, &order, primary, diagnostics);
    let fdb_region_hosts: Vec<usize> = std::iter::once(primary)
        .chain(
            order
                .iter()
                .copied()
                .filter(|&index| index != primary && roles[index] == Role::Fdb),
        )
        .take(2)
        .collect();
    let satellite_hosts: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&index| roles[index] == Role::Satellite)
        .collect();

    let mode = spec.fearless_dr.satellite_redundancy_mode;
    let mut datacenters: Vec<DatacenterPlan> = Vec::new();
    let mut zones_without_fdb: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut region_datacenters: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut zone_satellites: Vec<Vec<usize>> = Vec::new();
    let mut primaries: Vec<usize> = Vec::new();

    for &host in &fdb_region_hosts {
        let region = &spec.regions[host];
        let counts = region.process_counts;
        let to_i32 = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        let primary_dc = push_datacenter(
            spec,
            &mut datacenters,
            host,
            DatacenterKind::Primary,
            region.zones.first().cloned(),
            DatacenterProcessCounts {
                storage: to_i32(counts.storage),
                log: to_i32(counts.log),
                stateless: to_i32(counts.stateless),
            },
        );
        region_datacenters.entry(host).or_default().push(primary_dc);
        primaries.push(primary_dc);
        let wanted = mode.map_or(0, SatelliteRedundancyMode::satellite_datacenters);
        let mut satellites = Vec::new();
        for zone in region.zones.iter().skip(1).take(wanted) {
            let dc = push_datacenter(
                spec,
                &mut datacenters,
                host,
                DatacenterKind::Satellite,
                Some(zone.clone()),
                satellite_counts(spec),
            );
            region_datacenters.entry(host).or_default().push(dc);
            satellites.push(dc);
        }
        zone_satellites.push(satellites);
        zones_without_fdb.insert(
            host,
            region.zones.iter().skip(1 + wanted).cloned().collect(),
        );
    }
    let mut satellite_region_dcs = Vec::new();
    for &host in &satellite_hosts {
        let region = &spec.regions[host];
        let dc = push_datacenter(
            spec,
            &mut datacenters,
            host,
            DatacenterKind::Satellite,
            region.zones.first().cloned(),
            satellite_counts(spec),
        );
        region_datacenters.entry(host).or_default().push(dc);
        satellite_region_dcs.push(dc);
        zones_without_fdb.insert(host, region.zones.iter().skip(1).cloned().collect());
    }

    let mut fdb_regions = Vec::new();
    for (position, &host) in fdb_region_hosts.iter().enumerate() {
        let mut satellites: Vec<usize> = zone_satellites[position].clone();
        satellites.extend(satellite_region_dcs.iter().copied());
        if zone_satellites[position].is_empty() && !satellite_region_dcs.is_empty() {
            // The operator's triplet (HaThreeZoneDoubleSat, OP v2.33.0
            // e2e/fixtures/cluster_config.go:490-535): the other region's primary is the
            // last-resort satellite, so commits continue when the satellite region is down.
            if let [first, second] = primaries.as_slice() {
                satellites.push(if position == 0 { *second } else { *first });
            }
        }
        let total = satellites.len();
        let satellites = satellites
            .into_iter()
            .enumerate()
            .map(|(n, datacenter)| DatacenterRef {
                datacenter,
                fdb_priority: i32::try_from(total - n).unwrap_or(1),
            })
            .collect();
        fdb_regions.push(FdbRegionPlan {
            region: host,
            active: position == 0,
            primary: DatacenterRef {
                datacenter: primaries[position],
                fdb_priority: primary_priority(position, spec.fearless_dr.usable_regions),
            },
            satellites,
        });
    }

    let regions: Vec<RegionPlan> = spec
        .regions
        .iter()
        .enumerate()
        .map(|(index, region)| RegionPlan {
            index,
            id: region.id.clone(),
            rank: rank[index],
            role: match roles[index] {
                Role::Fdb => fdb_region_hosts
                    .iter()
                    .position(|&host| host == index)
                    .map_or(RegionRole::Client, RegionRole::FdbRegion),
                Role::Satellite => RegionRole::Satellite,
                Role::Client => RegionRole::Client,
            },
            datacenters: region_datacenters.remove(&index).unwrap_or_default(),
            zones_without_fdb: zones_without_fdb.remove(&index).unwrap_or_default(),
        })
        .collect();

    // The first FDB region in the spec's order is the one whose primary changes the database
    // configuration; a planned switch edits is_primary and priority in place, so it stays the
    // same object (see `Plan::configuring_datacenter`). In phase 1 the bootstrap datacenter is
    // the only object.
    let configuring_datacenter = fdb_region_hosts
        .iter()
        .zip(&primaries)
        .min_by_key(|(host, _)| **host)
        .map_or(0, |(_, &primary)| primary);
    let bootstrap = match options
        .seed_connection_string
        .clone()
        .or_else(|| spec.seed_connection_string.clone())
    {
        Some(connection_string) => Bootstrap::Seeded { connection_string },
        None if datacenters.len() == 1 => Bootstrap::SingleDatacenter,
        None => Bootstrap::PhaseOne {
            datacenter: primaries[0],
        },
    };
    let topology = Topology {
        coordinators: desired_count(spec.redundancy_mode, spec.fearless_dr.usable_regions),
        configuring_datacenter: match bootstrap {
            Bootstrap::PhaseOne { datacenter } => datacenter,
            _ => configuring_datacenter,
        },
        bootstrap,
        regions,
        fdb_regions,
        datacenters,
    };
    check_topology(spec, &topology, &satellite_hosts, diagnostics);
    Some(topology)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Fdb,
    Satellite,
    Client,
}

fn resolve_roles(
    spec: &MultiRegionSpec,
    order: &[usize],
    primary: usize,
    diagnostics: &mut Diagnostics,
) -> Vec<Role> {
    let fearless = spec.fearless_dr.enabled;
    let mut roles = vec![Role::Client; spec.regions.len()];
    roles[primary] = Role::Fdb;
    let primary_role = spec.regions[primary].fdb_role;
    if matches!(primary_role, FdbRole::Client | FdbRole::Satellite) {
        diagnostics.push(
            Diagnostic::error(
                region_path(primary).key("fdb_role"),
                format!(
                    "the primary region hosts the active FoundationDB region; its fdb_role cannot be `{}`",
                    primary_role.as_str()
                ),
            )
            .with_help("use `auto` or `region` here, or make another region primary"),
        );
    }
    let explicit_regions = order
        .iter()
        .filter(|&&index| index != primary && spec.regions[index].fdb_role == FdbRole::Region)
        .count();
    let mut auto_slots = usize::from(fearless).saturating_sub(explicit_regions);
    let mut fdb_count = 1;
    for &index in order.iter().filter(|&&index| index != primary) {
        let role_path = region_path(index).key("fdb_role");
        roles[index] = match spec.regions[index].fdb_role {
            FdbRole::Region => {
                fdb_count += 1;
                if !fearless {
                    diagnostics.push(
                        Diagnostic::error(
                            role_path,
                            "fdb_role `region` needs Fearless DR: with fearless_dr.enabled: false only the primary region runs FoundationDB",
                        )
                        .with_help("set fearless_dr.enabled: true, or make this region a client region"),
                    );
                } else if fdb_count > 2 {
                    diagnostics.push(too_many_regions(role_path, spec, order, primary));
                }
                Role::Fdb
            }
            FdbRole::Satellite => {
                if !fearless {
                    diagnostics.push(
                        Diagnostic::error(
                            role_path,
                            "fdb_role `satellite` needs Fearless DR (fearless_dr.enabled: true)",
                        )
                        .with_help(
                            "satellites are part of FoundationDB's multi-region configuration",
                        ),
                    );
                }
                Role::Satellite
            }
            FdbRole::Client => Role::Client,
            FdbRole::Auto if auto_slots > 0 => {
                auto_slots -= 1;
                fdb_count += 1;
                Role::Fdb
            }
            FdbRole::Auto => Role::Client,
        };
    }
    roles
}

fn too_many_regions(
    path: FieldPath,
    spec: &MultiRegionSpec,
    order: &[usize],
    primary: usize,
) -> Diagnostic {
    let count = 1 + order
        .iter()
        .filter(|&&index| index != primary && spec.regions[index].fdb_role == FdbRole::Region)
        .count();
    Diagnostic::error(
        path,
        format!("FoundationDB supports at most 2 regions (got {count}); model extra sites as satellite datacenters or client regions"),
    )
    .with_help("set fdb_role: satellite (a log-only site used by both regions) or fdb_role: client (no FoundationDB data) on all but two regions")
}

fn satellite_counts(spec: &MultiRegionSpec) -> DatacenterProcessCounts {
    let copies = spec
        .fearless_dr
        .satellite_redundancy_mode
        .map_or(1, SatelliteRedundancyMode::copies_per_datacenter);
    let logs = spec.fearless_dr.satellite_logs_or_default().max(copies);
    // Log-only: storage and stateless processes in a satellite break `configure` ("All storage
    // servers must be in one of the known regions", fdb-multi-region.md §1.3, §6 rule 14). One
    // spare log, as the operator's default (`1 + satellite_logs`, §2.3).
    DatacenterProcessCounts {
        storage: -1,
        log: i32::try_from(logs.saturating_add(1)).unwrap_or(i32::MAX),
        stateless: -1,
    }
}

fn push_datacenter(
    spec: &MultiRegionSpec,
    datacenters: &mut Vec<DatacenterPlan>,
    region: usize,
    kind: DatacenterKind,
    zone: Option<String>,
    process_counts: DatacenterProcessCounts,
) -> usize {
    let id = zone
        .clone()
        .unwrap_or_else(|| spec.regions[region].id.clone());
    datacenters.push(DatacenterPlan {
        resource_name: fdb_cluster_name(&spec.cluster_name, &id),
        process_group_id_prefix: id.clone(),
        id,
        region,
        kind,
        zone,
        process_counts,
    });
    datacenters.len() - 1
}

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

fn check_topology(
    spec: &MultiRegionSpec,
    topology: &Topology,
    satellite_hosts: &[usize],
    diagnostics: &mut Diagnostics,
) {
    let fearless = &spec.fearless_dr;
    let usable = fearless.usable_regions;
    let fdb_region_count = topology.fdb_regions.len();
    let region_id = |index: usize| spec.regions[index].id.as_str();

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
                        region_id(host)
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
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
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
        u32::try_from(counts.storage.max(0)).unwrap_or(0)
            + u32::try_from(counts.log.max(0)).unwrap_or(0)
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
