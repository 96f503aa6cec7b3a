//! The region → datacenter mapping, documented on [`crate::plan`]; the rules the result must
//! follow are in [`super::fdb_rules`].

use super::fdb_rules::check_topology;
use super::{
    Bootstrap, DatacenterId, DatacenterKind, DatacenterPlan, DatacenterRef, FdbPods, FdbRegionId,
    FdbRegionPlan, PlanOptions, ProcessCounts, RegionId, RegionPlan, RegionRole,
};
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::model::coordinators::desired_count;
use crate::names::fdb_cluster_name;
use infera_spec::{FdbRole, MultiRegionSpec, RedundancyMode, SatelliteRedundancyMode};
use std::collections::BTreeMap;

/// The resolved topology.
pub struct Topology {
    pub regions: Vec<RegionPlan>,
    pub fdb_regions: Vec<FdbRegionPlan>,
    pub datacenters: Vec<DatacenterPlan>,
    pub coordinators: u32,
    pub bootstrap: Bootstrap,
    pub configuring_datacenter: DatacenterId,
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

pub(super) fn region_path(index: impl Into<usize>) -> FieldPath {
    FieldPath::root().key("regions").index(index.into())
}

pub(super) fn fearless_path(key: &str) -> FieldPath {
    FieldPath::root().key("fearless_dr").key(key)
}

/// Copies of the data in each region's primary datacenter, and so the distinct nodes its storage
/// and log processes need (docs/fdb-multi-region.md §1.3, §6 rule 15).
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
        let primary_dc = push_datacenter(
            spec,
            &mut datacenters,
            host,
            DatacenterKind::Primary,
            region.zones.first().cloned(),
            ProcessCounts {
                storage: Some(counts.storage),
                log: counts.log,
                stateless: Some(counts.stateless),
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
                datacenter: DatacenterId::new(datacenter),
                fdb_priority: i32::try_from(total - n).unwrap_or(1),
            })
            .collect();
        fdb_regions.push(FdbRegionPlan {
            region: RegionId::new(host),
            active: position == 0,
            primary: DatacenterRef {
                datacenter: DatacenterId::new(primaries[position]),
                fdb_priority: primary_priority(position, spec.fearless_dr.usable_regions),
            },
            satellites,
        });
    }

    let regions: Vec<RegionPlan> = spec
        .regions
        .iter()
        .enumerate()
        .map(|(index, region)| {
            let fdb_region = fdb_region_hosts
                .iter()
                .position(|&host| host == index)
                .filter(|_| roles[index] == Role::Fdb);
            RegionPlan {
                index: RegionId::new(index),
                id: region.id.clone(),
                name: region.display_name().to_owned(),
                priority: region.priority,
                rank: rank[index],
                is_primary: region.is_primary,
                role: match (roles[index], fdb_region) {
                    (Role::Fdb, Some(0)) => RegionRole::Active,
                    (Role::Fdb, Some(_)) => RegionRole::Dr,
                    (Role::Satellite, _) => RegionRole::Satellite,
                    (Role::Fdb | Role::Client, _) => RegionRole::Client,
                },
                fdb_region: fdb_region.map(FdbRegionId::new),
                namespace: region.namespace.clone(),
                kubernetes: region.kubernetes.clone(),
                // Validated: a CIDR without host bits.
                pod_network: region
                    .pod_cidr
                    .as_deref()
                    .and_then(|cidr| cidr.parse::<ipnet::IpNet>().ok())
                    .map(|network| network.trunc()),
                zones: region.zones.clone(),
                datacenters: region_datacenters
                    .remove(&index)
                    .unwrap_or_default()
                    .into_iter()
                    .map(DatacenterId::new)
                    .collect(),
                zones_without_fdb: zones_without_fdb.remove(&index).unwrap_or_default(),
                fdb_pods: FdbPods {
                    resources: region.resources.clone(),
                    storage_class: region.storage_class.clone(),
                    node_selector: region.node_selector.clone(),
                    tolerations: region.tolerations.clone(),
                },
                cluster_file: None,
                apps: Vec::new(),
            }
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
            datacenter: DatacenterId::new(primaries[0]),
        },
    };
    let topology = Topology {
        coordinators: desired_count(spec.redundancy_mode, spec.fearless_dr.usable_regions),
        configuring_datacenter: match bootstrap {
            Bootstrap::PhaseOne { datacenter } => datacenter,
            _ => DatacenterId::new(configuring_datacenter),
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

fn satellite_counts(spec: &MultiRegionSpec) -> ProcessCounts {
    let copies = spec
        .fearless_dr
        .satellite_redundancy_mode
        .map_or(1, SatelliteRedundancyMode::copies_per_datacenter);
    let logs = spec.fearless_dr.satellite_logs_or_default().max(copies);
    // Log-only: storage and stateless processes in a satellite break `configure` ("All storage
    // servers must be in one of the known regions", docs/fdb-multi-region.md §1.3, §6 rule 14). One
    // spare log, as the operator's default (`1 + satellite_logs`, §2.3).
    ProcessCounts {
        storage: None,
        log: logs.saturating_add(1),
        stateless: None,
    }
}

fn push_datacenter(
    spec: &MultiRegionSpec,
    datacenters: &mut Vec<DatacenterPlan>,
    region: usize,
    kind: DatacenterKind,
    zone: Option<String>,
    process_counts: ProcessCounts,
) -> usize {
    let id = zone
        .clone()
        .unwrap_or_else(|| spec.regions[region].id.clone());
    datacenters.push(DatacenterPlan {
        index: DatacenterId::new(datacenters.len()),
        resource_name: fdb_cluster_name(&spec.cluster_name, &id),
        process_group_id_prefix: id.clone(),
        id,
        region: RegionId::new(region),
        kind,
        zone,
        process_counts,
        rendered: true,
    });
    datacenters.len() - 1
}
