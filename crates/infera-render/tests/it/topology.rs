//! FoundationDB's own region rules (`docs/fdb-multi-region.md` §1.2, from FDB release-7.3
//! `DatabaseConfiguration::isValid()`/`parse()`) hold on the plan of every example, and the
//! mapping rules of `plan` behave as documented.

// Test helpers may panic with a message, like the tests themselves.
#![allow(clippy::panic)]

use crate::support::examples;
use infera_render::spec::{FdbRole, MultiRegionSpec, Region, SatelliteRedundancyMode};
use infera_render::{DatacenterKind, Plan, PlanOptions, RegionRole, plan};
use std::collections::BTreeSet;

/// Every violation of FDB's region rules in a plan (empty = FDB accepts it).
fn fdb_rule_violations(plan: &Plan) -> Vec<String> {
    let mut problems = Vec::new();
    let usable = plan.fdb.usable_regions;
    if plan.fdb_regions.len() > 2 {
        problems.push(format!("{} regions (at most 2)", plan.fdb_regions.len()));
    }
    if !(1..=2).contains(&usable) {
        problems.push(format!("usable_regions {usable}"));
    }
    if usable == 2 && plan.fdb_regions.len() != 2 {
        problems.push("usable_regions=2 without exactly 2 regions".to_owned());
    }
    let mut primaries = BTreeSet::new();
    for region in &plan.fdb_regions {
        let primary = &plan.datacenters[region.primary.datacenter];
        if primary.kind != DatacenterKind::Primary || primary.id.is_empty() {
            problems.push(format!("region {} has no proper primary", primary.id));
        }
        if !primaries.insert(primary.id.clone()) {
            problems.push(format!("{} is the primary of two regions", primary.id));
        }
        let mut satellites = BTreeSet::new();
        for satellite in &region.satellites {
            let id = &plan.datacenters[satellite.datacenter].id;
            if id == &primary.id || id.is_empty() || !satellites.insert(id.clone()) {
                problems.push(format!("bad satellite {id} in region {}", primary.id));
            }
        }
        if plan.fdb.satellite_redundancy_mode.is_some() && region.satellites.is_empty() {
            problems.push(format!(
                "region {} sets a satellite mode without satellites",
                primary.id
            ));
        }
    }
    let best = plan
        .fdb_regions
        .iter()
        .map(|r| r.primary.fdb_priority)
        .max();
    if best.is_some_and(|p| p < 0) {
        problems.push("no primary datacenter with priority >= 0".to_owned());
    }
    let active = plan
        .fdb_regions
        .iter()
        .max_by_key(|r| r.primary.fdb_priority);
    if active.is_none_or(|r| !plan.regions[r.region].is_primary) {
        problems.push("the is_primary region is not the active FDB region".to_owned());
    }
    let priorities: BTreeSet<i32> = plan
        .fdb_regions
        .iter()
        .map(|r| r.primary.fdb_priority)
        .collect();
    if priorities.len() != plan.fdb_regions.len() {
        problems
            .push("two FDB regions share a priority (active region chosen arbitrarily)".to_owned());
    }
    let mut ids = BTreeSet::new();
    for datacenter in &plan.datacenters {
        if !ids.insert(datacenter.id.clone()) {
            problems.push(format!("datacenter id {} used twice", datacenter.id));
        }
        if datacenter.kind == DatacenterKind::Satellite
            && (datacenter.process_counts.storage.is_some()
                || datacenter.process_counts.stateless.is_some())
        {
            problems.push(format!(
                "satellite {} runs storage or stateless processes",
                datacenter.id
            ));
        }
    }
    problems
}

#[test]
fn every_example_plans_a_topology_fdb_accepts() {
    for (name, spec) in examples() {
        let plan = plan(&spec, &PlanOptions::default()).unwrap_or_else(|d| panic!("{name}: {d}"));
        assert_eq!(fdb_rule_violations(&plan), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn the_checker_catches_what_fdb_rejects() {
    // The checker itself must fail on a broken plan, or the test above proves nothing.
    let (_, spec) = examples()
        .into_iter()
        .find(|(n, _)| n.ends_with("two-region-satellites.yaml"))
        .expect("example");
    let good = plan(&spec, &PlanOptions::default()).expect("valid");
    let mut duplicate_primary = good.clone();
    duplicate_primary.fdb_regions[1].primary = duplicate_primary.fdb_regions[0].primary;
    assert!(!fdb_rule_violations(&duplicate_primary).is_empty());
    let mut inverted = good.clone();
    inverted.fdb_regions[0].primary.fdb_priority = -1;
    inverted.fdb_regions[1].primary.fdb_priority = 5;
    assert!(!fdb_rule_violations(&inverted).is_empty());
    let mut satellite_storage = good;
    let satellite = satellite_storage.fdb_regions[0].satellites[0].datacenter;
    satellite_storage.datacenters[satellite]
        .process_counts
        .storage = Some(3);
    assert!(!fdb_rule_violations(&satellite_storage).is_empty());
}

fn region(id: &str, priority: i32, zones: &[&str]) -> Region {
    let mut region = Region::new(id, priority == 1, priority);
    region.zones = zones.iter().map(|z| (*z).to_owned()).collect();
    region.kubernetes.config_context = Some(format!("ctx-{id}"));
    region.pod_cidr = Some(format!("10.{priority}.0.0/16"));
    region
}

#[test]
fn zone_satellites_follow_the_first_zone() {
    let mut spec = MultiRegionSpec {
        regions: vec![
            region("b", 2, &["b1", "b2", "b3"]),
            region("a", 1, &["a1", "a2", "a3"]),
        ],
        ..MultiRegionSpec::default()
    };
    spec.fearless_dr.usable_regions = 2;
    spec.fearless_dr.satellite_redundancy_mode = Some(SatelliteRedundancyMode::TwoSatelliteSafe);
    let plan = plan(&spec, &PlanOptions::default()).expect("valid");
    let ids = |dcs: Vec<infera_render::DatacenterId>| {
        dcs.into_iter()
            .map(|dc| plan.datacenters[dc].id.clone())
            .collect::<Vec<_>>()
    };
    // The spec lists `b` first, but `a` is primary (priority 1): it is the active FDB region.
    assert_eq!(plan.regions[plan.fdb_regions[0].region].id, "a");
    assert_eq!(ids(vec![plan.fdb_regions[0].primary.datacenter]), ["a1"]);
    assert_eq!(
        ids(plan.fdb_regions[0]
            .satellites
            .iter()
            .map(|s| s.datacenter)
            .collect()),
        ["a2", "a3"]
    );
    let priorities: Vec<i32> = plan.fdb_regions[0]
        .satellites
        .iter()
        .map(|s| s.fdb_priority)
        .collect();
    assert_eq!(priorities, [2, 1]);
    assert_eq!(
        (
            plan.fdb_regions[0].primary.fdb_priority,
            plan.fdb_regions[1].primary.fdb_priority
        ),
        (1, 0)
    );
    assert_eq!(plan.datacenters.len(), 6);
    assert_eq!(plan.coordinators, 9);
}

#[test]
fn a_third_region_is_a_client_unless_it_is_a_satellite_site() {
    let mut spec = MultiRegionSpec {
        regions: vec![
            region("a", 1, &["a1"]),
            region("b", 2, &["b1"]),
            region("c", 3, &["c1"]),
        ],
        ..MultiRegionSpec::default()
    };
    spec.fearless_dr.usable_regions = 2;
    let client = plan(&spec, &PlanOptions::default()).expect("valid");
    assert_eq!(client.regions[2].role, RegionRole::Client);
    assert!(client.regions[2].datacenters.is_empty());

    spec.regions[2].fdb_role = FdbRole::Satellite;
    spec.fearless_dr.satellite_redundancy_mode = Some(SatelliteRedundancyMode::OneSatelliteDouble);
    let triplet = plan(&spec, &PlanOptions::default()).expect("valid");
    assert_eq!(triplet.regions[2].role, RegionRole::Satellite);
    // The operator's HaThreeZoneDoubleSat: satellite site first, the other primary last.
    let satellites = |index: usize| -> Vec<(String, i32)> {
        triplet.fdb_regions[index]
            .satellites
            .iter()
            .map(|s| (triplet.datacenters[s.datacenter].id.clone(), s.fdb_priority))
            .collect()
    };
    assert_eq!(satellites(0), [("c1".to_owned(), 2), ("b1".to_owned(), 1)]);
    assert_eq!(satellites(1), [("c1".to_owned(), 2), ("a1".to_owned(), 1)]);
    assert!(
        triplet
            .warnings
            .iter()
            .any(|w| w.path.to_string() == "regions[2].fdb_role")
    );
}

#[test]
fn an_explicit_third_fdb_region_is_refused() {
    let mut spec = MultiRegionSpec {
        regions: vec![
            region("a", 1, &[]),
            region("b", 2, &[]),
            region("c", 3, &[]),
        ],
        ..MultiRegionSpec::default()
    };
    for region in &mut spec.regions {
        region.fdb_role = FdbRole::Region;
    }
    let errors = plan(&spec, &PlanOptions::default()).expect_err("three FDB regions");
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        messages.iter().any(|m| m.starts_with(
            "error: regions[2].fdb_role: FoundationDB supports at most 2 regions (got 3)"
        )),
        "{messages:#?}"
    );
}

#[test]
fn a_seed_turns_phase_one_into_the_full_topology() {
    let spec = MultiRegionSpec {
        regions: vec![region("a", 1, &[]), region("b", 2, &[])],
        ..MultiRegionSpec::default()
    };
    let first = plan(&spec, &PlanOptions::default()).expect("valid");
    assert_eq!(
        first.bootstrap,
        infera_render::Bootstrap::PhaseOne {
            datacenter: infera_render::DatacenterId::new(0)
        }
    );
    let seeded = plan(
        &spec,
        &PlanOptions {
            seed_connection_string: Some("x:y@10.0.0.1:4501".to_owned()),
            ..PlanOptions::default()
        },
    )
    .expect("valid");
    assert!(matches!(
        seeded.bootstrap,
        infera_render::Bootstrap::Seeded { .. }
    ));
}
