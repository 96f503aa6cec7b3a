//! The regions: ids, names, namespaces, zones, pod CIDRs, the primary and the priorities.

use super::k8s_values::{check_labels, check_resources};
use super::kubernetes::{check_kubernetes, check_process_counts, check_tolerations};
use super::limits::{MAX_REGIONS, MAX_ZONES};
use super::path;
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::syntax::names::{dns_label_problem, dns_subdomain_problem};
use infera_spec::{MultiRegionSpec, Region};
use ipnet::IpNet;
use std::collections::BTreeMap;

pub(super) fn check_regions<'a>(spec: &'a MultiRegionSpec, diagnostics: &mut Diagnostics) {
    let regions = path().key("regions");
    if spec.regions.is_empty() {
        diagnostics.push(
            Diagnostic::error(regions.clone(), "at least one region is required")
                .with_help("add a region with id, is_primary: true and priority"),
        );
        return;
    }
    if spec.regions.len() > MAX_REGIONS {
        diagnostics.error(
            regions.clone(),
            format!(
                "{} regions is more than the {MAX_REGIONS} a spec may have",
                spec.regions.len()
            ),
        );
    }
    let mut ids: BTreeMap<&'a str, usize> = BTreeMap::new();
    let mut zones: BTreeMap<&'a str, (usize, usize)> = BTreeMap::new();
    let mut cidrs: Vec<(usize, IpNet)> = Vec::new();
    let mut contexts: BTreeMap<&'a str, usize> = BTreeMap::new();
    for (index, region) in spec.regions.iter().enumerate() {
        let at = regions.clone().index(index);
        if let Some(problem) = dns_label_problem(&region.id) {
            diagnostics.error(at.clone().key("id"), problem);
        } else if let Some(first) = ids.insert(&region.id, index) {
            ids.insert(&region.id, first);
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("id"),
                    format!("duplicate region id `{}`", region.id),
                )
                .with_help(format!(
                    "regions[{first}] already uses it; region ids must be unique"
                )),
            );
        }
        if region
            .name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            diagnostics.error(
                at.clone().key("name"),
                "must not be empty (omit it to use the id)",
            );
        }
        if let Some(problem) = dns_label_problem(&region.namespace) {
            diagnostics.error(at.clone().key("namespace"), problem);
        }
        check_zones(region, &at, &mut zones, index, diagnostics);
        check_kubernetes(spec, region, &at, &mut contexts, index, diagnostics);
        if let Some(version) = &region.fdb_version
            && *version != spec.fdb_version
        {
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("fdb_version"),
                    format!(
                        "{version} differs from fdb_version {}: every datacenter of one FoundationDB cluster runs the same version",
                        spec.fdb_version
                    ),
                )
                .with_help("remove regions[].fdb_version, or set it to the top-level fdb_version"),
            );
        }
        check_process_counts(region, &at, diagnostics);
        if let Some(resources) = &region.resources {
            check_resources(&at.clone().key("resources"), resources, diagnostics);
        }
        if let Some(class) = &region.storage_class
            && let Some(problem) = dns_subdomain_problem(class)
        {
            diagnostics.error(at.clone().key("storage_class"), problem);
        }
        check_labels(
            &at.clone().key("node_selector"),
            &region.node_selector,
            false,
            diagnostics,
        );
        check_tolerations(region, &at, diagnostics);
        if let Some(cidr) = &region.pod_cidr {
            check_cidr(cidr, &at, index, &mut cidrs, diagnostics);
            if spec.tailscale.enabled {
                check_not_tailscale_range(cidr, &at, diagnostics);
            }
        }
    }
    check_primary_and_priorities(spec, diagnostics);
}

pub(super) fn check_zones<'a>(
    region: &'a Region,
    at: &FieldPath,
    zones: &mut BTreeMap<&'a str, (usize, usize)>,
    index: usize,
    diagnostics: &mut Diagnostics,
) {
    if region.zones.len() > MAX_ZONES {
        diagnostics.error(
            at.clone().key("zones"),
            format!(
                "{} zones is more than the {MAX_ZONES} a region may list",
                region.zones.len()
            ),
        );
    }
    for (position, zone) in region.zones.iter().enumerate() {
        let zone_path = at.clone().key("zones").index(position);
        if let Some(problem) = dns_label_problem(zone) {
            diagnostics.push(Diagnostic::error(zone_path, problem).with_help(
                "zone names become FoundationDB datacenter ids and object names; use the cloud's zone name, e.g. `us-west-1a`",
            ));
            continue;
        }
        match zones.get(zone.as_str()) {
            Some(&(other, other_position)) if other == index => diagnostics.error(
                zone_path,
                format!("zone `{zone}` is listed twice (also zones[{other_position}])"),
            ),
            Some(&(other, other_position)) => diagnostics.push(
                Diagnostic::error(
                    zone_path,
                    format!("zone `{zone}` is also listed by regions[{other}].zones[{other_position}]"),
                )
                .with_help("a zone belongs to one region: zones name FoundationDB datacenters, which must be unique"),
            ),
            None => {
                zones.insert(zone, (index, position));
            }
        }
    }
}

pub(super) fn check_cidr(
    cidr: &str,
    at: &FieldPath,
    index: usize,
    cidrs: &mut Vec<(usize, IpNet)>,
    diagnostics: &mut Diagnostics,
) {
    let cidr_path = at.clone().key("pod_cidr");
    let Ok(network) = cidr.parse::<IpNet>() else {
        diagnostics.push(
            Diagnostic::error(cidr_path, format!("`{cidr}` is not a CIDR"))
                .with_help("write the pod network as address/prefix, e.g. `10.10.0.0/16`"),
        );
        return;
    };
    if network.trunc() != network {
        diagnostics.push(
            Diagnostic::error(cidr_path, format!("`{cidr}` has host bits set"))
                .with_help(format!("did you mean `{}`?", network.trunc())),
        );
        return;
    }
    for (other, other_network) in cidrs.iter() {
        if other_network.contains(&network) || network.contains(other_network) {
            diagnostics.push(
                Diagnostic::error(
                    cidr_path.clone(),
                    format!("`{network}` overlaps regions[{other}].pod_cidr `{other_network}`"),
                )
                .with_help("pod CIDRs are routed between regions, so they must not overlap; give each cluster its own range"),
            );
        }
    }
    cidrs.push((index, network));
}

/// Tailscale's own address ranges: the CGNAT range its nodes get 100.x addresses from, and its
/// IPv6 ULA prefix.
pub(super) const TAILSCALE_RANGES: [&str; 2] = ["100.64.0.0/10", "fd7a:115c:a1e0::/48"];

/// A pod network inside Tailscale's ranges breaks every sidecar pod: tailscaled drops packets
/// from 100.64.0.0/10 that do not arrive on tailscale0 (`ts-input ! -i tailscale0 -s
/// 100.64.0.0/10 -j DROP`, tailscale@v1.78.3:util/linuxfw/iptables_runner.go:318-331), and peers'
/// /32 routes live in the same range.
pub(super) fn check_not_tailscale_range(cidr: &str, at: &FieldPath, diagnostics: &mut Diagnostics) {
    let Ok(network) = cidr.parse::<IpNet>() else {
        return;
    };
    for range in TAILSCALE_RANGES {
        let Ok(range) = range.parse::<IpNet>() else {
            continue;
        };
        if range.contains(&network)
            || network.contains(&range)
            || range.contains(&network.network())
        {
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("pod_cidr"),
                    format!("`{network}` overlaps Tailscale's address range {range}: the sidecars drop traffic from it that does not arrive over Tailscale, so pods in this range could not talk to sidecar pods at all"),
                )
                .with_help("use a pod network outside 100.64.0.0/10 and fd7a:115c:a1e0::/48 (EKS custom networking often puts pods in 100.64.0.0/10: pick secondary CIDRs elsewhere, or disable Tailscale and route the pod networks another way)"),
            );
        }
    }
}

pub(super) fn check_primary_and_priorities(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
    let regions = path().key("regions");
    let primaries: Vec<usize> = spec
        .regions
        .iter()
        .enumerate()
        .filter_map(|(index, region)| region.is_primary.then_some(index))
        .collect();
    match primaries.as_slice() {
        [] => diagnostics.push(
            Diagnostic::error(regions.clone(), "no region has `is_primary: true`")
                .with_help("mark exactly one region as primary: the one with the lowest priority"),
        ),
        [_] => {}
        [first, rest @ ..] => {
            for index in rest {
                diagnostics.push(
                    Diagnostic::error(
                        regions.clone().index(*index).key("is_primary"),
                        format!("regions[{first}] is already the primary region; exactly one region is primary"),
                    )
                    .with_help("set is_primary: false here; failover order comes from priority"),
                );
            }
        }
    }
    let mut seen: BTreeMap<i32, usize> = BTreeMap::new();
    for (index, region) in spec.regions.iter().enumerate() {
        if let Some(&other) = seen.get(&region.priority) {
            diagnostics.push(
                Diagnostic::error(
                    regions.clone().index(index).key("priority"),
                    format!(
                        "priority {} is also used by regions[{other}] ({}): the failover order is ambiguous",
                        region.priority, spec.regions[other].id
                    ),
                )
                .with_help("give every region a distinct priority (lower = preferred)"),
            );
        } else {
            seen.insert(region.priority, index);
        }
    }
    if let [primary] = primaries.as_slice() {
        let primary_region = &spec.regions[*primary];
        if let Some((preferred, preferred_region)) = spec
            .regions
            .iter()
            .enumerate()
            .filter(|(_, region)| region.priority < primary_region.priority)
            .min_by_key(|(_, region)| region.priority)
        {
            diagnostics.push(
                Diagnostic::error(
                    regions.clone().index(*primary).key("priority"),
                    format!(
                        "the primary region {} has priority {}, but regions[{preferred}] ({}) has the preferred priority {} (lower = preferred)",
                        primary_region.id, primary_region.priority, preferred_region.id, preferred_region.priority
                    ),
                )
                .with_help("give the is_primary region the lowest priority, or mark the preferred region as primary"),
            );
        }
    }
}

/// NetworkPolicies across regions without Tailscale: FoundationDB traffic comes straight from
/// the other regions' pod IPs, so the policies need every region's `pod_cidr` to allow it.
/// (With Tailscale it arrives through the region's own subnet router, a pod the policies name.)
pub(super) fn check_network_policies(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
    if !spec.network_policies.enabled || spec.tailscale.enabled || spec.regions.len() < 2 {
        return;
    }
    for (index, region) in spec.regions.iter().enumerate() {
        if region.pod_cidr.is_none() {
            diagnostics.push(
                Diagnostic::error(
                    path().key("regions").index(index).key("pod_cidr"),
                    format!(
                        "network_policies is enabled without Tailscale, but region {} has no pod_cidr: the policies allow the other regions' FoundationDB traffic by their pod CIDRs, so they need each region's",
                        region.id
                    ),
                )
                .with_help("set pod_cidr to the cluster's pod network (e.g. 10.10.0.0/16), or turn network_policies off (also when your network translates pod addresses between regions)"),
            );
        }
    }
}
