//! The failure scenarios of a plan: [`crate::model::failure`] run on the topology the output
//! holds (in bootstrap phase 1 also on the one phase 2 completes), the warnings they lead to,
//! the nodes each datacenter needs, and the one text per scenario that `plan`, `outputs.json`
//! and `APPLY.md` all show.

use super::topology::replicas;
use crate::diagnostics::{Diagnostic, FieldPath};
use crate::model::failure::{
    Alternative, Analysis, Datacenter, FdbRegion, Layout, Lost, Recovery, Scenario, Topology,
};
use crate::names::fdb_cluster_name;
use crate::plan::{Bootstrap, DatacenterId, DatacenterKind, Plan, RegionRole};

/// A topology and what survives the loss of each of its datacenters and regions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailureAnalysis {
    /// The topology.
    pub topology: Topology,
    /// Its coordinators and scenarios.
    pub analysis: Analysis,
}

/// Layouts that add a third site to two FDB regions that have none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThirdSite {
    /// The spec's client region that could host the site, if it has one.
    pub region: Option<String>,
    /// The layouts, each with its analysis.
    pub alternatives: Vec<Alternative>,
}

/// The failure analysis of a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    /// The topology this output holds: every datacenter, or in bootstrap phase 1 the bootstrap
    /// datacenter alone.
    pub rendered: FailureAnalysis,
    /// In bootstrap phase 1, the topology once phase 2 is applied.
    pub after_phase_two: Option<FailureAnalysis>,
    /// With two FDB regions and no satellite site, the layouts that would add one.
    pub third_site: Option<ThirdSite>,
}

impl Failures {
    /// The complete topology's analysis: after phase 2, or the rendered one.
    #[must_use]
    pub fn complete(&self) -> &FailureAnalysis {
        self.after_phase_two.as_ref().unwrap_or(&self.rendered)
    }
}

/// The plan's topology as the failure model reads it; `complete` ignores bootstrap phase 1.
fn topology(plan: &Plan, complete: bool) -> Topology {
    let datacenter = |dc: &super::DatacenterPlan| Datacenter {
        id: dc.id.clone(),
        region: plan.regions[dc.region].id.clone(),
        log: dc.process_counts.log,
        storage: dc.process_counts.storage.unwrap_or(0),
    };
    if let (Bootstrap::PhaseOne { datacenter: boot }, false) = (&plan.bootstrap, complete) {
        return Topology {
            usable_regions: 1,
            redundancy: plan.fdb.redundancy_mode,
            satellite_mode: None,
            datacenters: vec![datacenter(&plan.datacenters[*boot])],
            regions: vec![FdbRegion {
                primary: 0,
                priority: 1,
                satellites: Vec::new(),
            }],
        };
    }
    Topology {
        usable_regions: if plan.fdb_regions.len() == 2 {
            plan.fdb.usable_regions
        } else {
            1
        },
        redundancy: plan.fdb.redundancy_mode,
        satellite_mode: plan
            .fdb
            .satellite_redundancy_mode
            .filter(|_| plan.satellites_in_use()),
        datacenters: plan.datacenters.iter().map(datacenter).collect(),
        regions: plan
            .fdb_regions
            .iter()
            .map(|region| FdbRegion {
                primary: region.primary.datacenter.index(),
                priority: region.primary.fdb_priority,
                satellites: region
                    .satellites
                    .iter()
                    .map(|s| s.datacenter.index())
                    .collect(),
            })
            .collect(),
    }
}

fn analyzed(topology: Topology) -> FailureAnalysis {
    let analysis = topology.analyze();
    FailureAnalysis { topology, analysis }
}

/// Every failure analysis of `plan`.
#[must_use]
pub(crate) fn failures(plan: &Plan) -> Failures {
    let rendered = analyzed(topology(plan, false));
    let after_phase_two = matches!(plan.bootstrap, Bootstrap::PhaseOne { .. })
        .then(|| analyzed(topology(plan, true)));
    let no_site = plan
        .regions
        .iter()
        .all(|region| region.role != RegionRole::Satellite);
    let third_site = (plan.fdb_regions.len() == 2 && no_site).then(|| {
        let region = plan
            .regions_by_rank()
            .into_iter()
            .find(|region| region.role == RegionRole::Client)
            .map(|region| region.id.clone());
        let complete = after_phase_two.as_ref().unwrap_or(&rendered);
        ThirdSite {
            alternatives: complete.topology.with_third_site(
                region.as_deref().unwrap_or("third-region"),
                plan.fdb.satellite_logs,
            ),
            region,
        }
    });
    Failures {
        rendered,
        after_phase_two,
        third_site,
    }
}

fn region_path(plan: &Plan, id: &str) -> FieldPath {
    let index = plan
        .region_named(id)
        .map_or(0, |region| region.index.index());
    FieldPath::root().key("regions").index(index)
}

/// The warnings the complete topology's failure scenarios lead to.
pub(crate) fn warnings(plan: &Plan, failures: &Failures) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let complete = failures.complete();
    let scenarios = &complete.analysis.scenarios;
    if let Some(third) = &failures.third_site
        && complete.topology.usable_regions == 2
    {
        let fatal: Vec<String> = scenarios
            .iter()
            .filter(|scenario| matches!(scenario.lost, Lost::Region(_)) && !scenario.automatic)
            .map(|scenario| {
                let Lost::Region(id) = &scenario.lost else {
                    return String::new();
                };
                let most = scenario.coordinators - scenario.coordinators_left;
                let mut why = Vec::new();
                if scenario.active_lost && scenario.data_loss && scenario.quorum_kept() {
                    why.push("the log tail is lost with it".to_owned());
                } else if scenario.active_lost && !scenario.quorum_kept() {
                    why.push(format!(
                        "it holds the log tail and can hold {most} of the {} coordinators",
                        scenario.coordinators
                    ));
                } else if !scenario.quorum_kept() {
                    why.push(format!(
                        "it can hold {most} of the {} coordinators{}",
                        scenario.coordinators,
                        if scenario.quorum_kept_when_placed() {
                            ", depending on the order the datacenters joined in"
                        } else {
                            ""
                        }
                    ));
                }
                format!(
                    "losing {id} is not recovered automatically ({})",
                    why.join(", ")
                )
            })
            .collect();
        if !fatal.is_empty() {
            let mut help = Vec::new();
            let site = third.region.as_deref().map_or_else(
                || "a third region".to_owned(),
                |id| format!("the client region {id}"),
            );
            for alternative in &third.alternatives {
                let survives = if alternative.every_region_loss_automatic() {
                    "every region loss is then recovered automatically, without data loss"
                } else if alternative.every_region_loss_keeps_quorum() {
                    "the coordinators then keep their majority when a region is lost, so a forced recovery (losing the commits that had not left the region) is possible at once"
                } else {
                    continue;
                };
                let mode = alternative
                    .topology
                    .satellite_mode
                    .map_or("one_satellite_double", |mode| mode.as_str());
                help.push(match alternative.layout {
                    Layout::Triplet => format!(
                        "make {site} the satellite site of both regions (fdb_role: satellite, satellite_redundancy_mode: {mode}, one zone per FDB region: the operator's triplet): {survives}; cost: every commit waits for a transaction-log write there (one cross-region round trip)"
                    ),
                    Layout::FallbackSatellite => format!(
                        "add {site} as the last satellite of both regions (fdb_role: satellite, keeping the zone satellites): {survives}; cost: none while the zone satellites are up, a cross-region round trip per commit while they are down"
                    ),
                });
            }
            let mut diagnostic = Diagnostic::warning(
                FieldPath::root().key("fearless_dr"),
                format!(
                    "no third site holds coordinators or the log tail: {}",
                    fatal.join("; ")
                ),
            );
            if !help.is_empty() {
                diagnostic = diagnostic.with_help(help.join("; or "));
            }
            out.push(diagnostic);
        }
    }
    // Satellite sites: whether they hold the log tail or are only a fallback.
    for region in &plan.regions {
        if region.role != RegionRole::Satellite || !plan.fdb.fearless_dr {
            continue;
        }
        let Some(mode) = plan.fdb.satellite_redundancy_mode else {
            continue;
        };
        let path = region_path(plan, &region.id).key("fdb_role");
        let in_tail = region.datacenters.iter().any(|&dc| {
            plan.fdb_regions.first().is_some_and(|active| {
                active
                    .satellites
                    .iter()
                    .take(mode.satellite_datacenters())
                    .any(|satellite| satellite.datacenter == dc)
            })
        });
        let region_losses_automatic = scenarios
            .iter()
            .filter(|scenario| matches!(scenario.lost, Lost::Region(_)))
            .all(|scenario| scenario.automatic);
        out.push(if in_tail {
            Diagnostic::warning(
                path,
                format!(
                    "every commit waits for a transaction-log write in satellite region {}: one cross-region round trip per commit{}",
                    region.id,
                    if region_losses_automatic {
                        ", in exchange for surviving the loss of any one region without data loss"
                    } else {
                        ""
                    }
                ),
            )
            .with_help("for low commit latency, use zone satellites in the same cloud region instead (list zones and leave this region as a client)")
        } else {
            Diagnostic::warning(
                path,
                format!(
                    "satellite region {} is a fallback: {} writes the log tail to the highest-priority satellite{} (the zone satellites), and to {} only while they are down; it holds coordinators, so losing a region keeps their majority, but losing the active region still needs a forced recovery that discards the commits that had not left it",
                    region.id,
                    mode.as_str(),
                    if mode.satellite_datacenters() == 2 { "s" } else { "" },
                    region.id
                ),
            )
            .with_help("to survive a region loss without data loss, make it the only satellite (no zone satellites: the operator's triplet), at the cost of a cross-region round trip per commit")
        });
    }
    out
}

/// Datacenters of the complete topology with the nodes each needs: `(datacenter index,
/// coordinators placed there, distinct nodes needed)`. A node holds at most one coordinator
/// (the operator's hard limit, zone = node); a primary needs a node per replica, a satellite
/// one per log copy it keeps (FoundationDB's `configure` counts zones,
/// FDB@7.3.43:fdbclient/include/fdbclient/GenericManagementAPI.actor.h:447-468); the bootstrap
/// datacenter holds every phase-1 coordinator.
#[must_use]
pub(crate) fn nodes_needed(plan: &Plan) -> Vec<(DatacenterId, u32, u32)> {
    let complete = plan.failures.complete();
    let placement = complete.analysis.placement.as_ref().ok();
    let boot = plan
        .fdb_regions
        .first()
        .map(|region| region.primary.datacenter);
    let phase_one = crate::model::coordinators::desired_count(plan.fdb.redundancy_mode, 1);
    plan.datacenters
        .iter()
        .map(|dc| {
            let index = dc.index;
            let coordinators = placement
                .and_then(|counts| counts.get(index.index()))
                .copied()
                .unwrap_or(0);
            let copies = match dc.kind {
                DatacenterKind::Primary => replicas(plan.fdb.redundancy_mode),
                DatacenterKind::Satellite => plan
                    .fdb
                    .satellite_redundancy_mode
                    .map_or(1, |mode| mode.copies_per_datacenter()),
            };
            let mut nodes = copies.max(coordinators);
            if Some(index) == boot && plan.datacenters.len() > 1 {
                nodes = nodes.max(phase_one);
            }
            (index, coordinators, nodes)
        })
        .collect()
}

/// "us-west-1a" for a datacenter index of the topology.
fn dc_name(topology: &Topology, index: usize) -> &str {
    topology
        .datacenters
        .get(index)
        .map_or("", |dc| dc.id.as_str())
}

/// The region (Kubernetes cluster) of a scenario's loss.
fn lost_region<'a>(topology: &'a Topology, lost: &'a Lost) -> &'a str {
    match lost {
        Lost::Region(id) => id,
        Lost::Datacenter(id) => topology
            .datacenters
            .iter()
            .find(|dc| &dc.id == id)
            .map_or(id.as_str(), |dc| dc.region.as_str()),
    }
}

fn is_lost(topology: &Topology, lost: &Lost, index: usize) -> bool {
    topology
        .datacenters
        .get(index)
        .is_some_and(|dc| match lost {
            Lost::Datacenter(id) => &dc.id == id,
            Lost::Region(id) => &dc.region == id,
        })
}

/// What to do after the loss of a scenario, as one sentence: the same text in `plan`,
/// `outputs.json` and `APPLY.md`.
#[must_use]
pub(crate) fn action(plan: &Plan, topology: &Topology, scenario: &Scenario) -> String {
    let active = topology.regions.first();
    let remote = topology.regions.get(1);
    let active_dc = active.map_or("", |region| dc_name(topology, region.primary));
    let lost_name = match &scenario.lost {
        Lost::Datacenter(id) | Lost::Region(id) => id.as_str(),
    };
    let remote_lost =
        remote.is_some_and(|region| is_lost(topology, &scenario.lost, region.primary));
    let primary_lost = scenario.active_lost || remote_lost;
    let region_of_lost = lost_region(topology, &scenario.lost);
    let drop_region = if primary_lost && matches!(scenario.lost, Lost::Region(_)) {
        format!("; then drop {region_of_lost} (APPLY.md: Drop a lost region)")
    } else {
        String::new()
    };
    let carries_on = |active_dc: &str| {
        let mut text = format!("none: FoundationDB carries on in {active_dc}");
        if remote_lost && topology.usable_regions == 2 {
            text.push_str(&format!(
                "; the transaction logs keep {region_of_lost}'s mutations while {lost_name} is down, so drop {region_of_lost} (APPLY.md: Drop a lost region) if it does not come back before their disks fill up"
            ));
        } else if remote_lost {
            text.push_str(&format!(
                " ({region_of_lost} holds no replica: usable_regions 1)"
            ));
        }
        text
    };
    match &scenario.recovery {
        Recovery::CarriesOn => carries_on(active_dc),
        Recovery::FailsOver { to } => {
            let tail: Vec<&str> = topology
                .tail_satellites()
                .iter()
                .filter(|&&index| !is_lost(topology, &scenario.lost, index))
                .map(|&index| dc_name(topology, index))
                .collect();
            let from = if scenario.active_lost && !tail.is_empty() {
                format!(
                    ", from the transaction-log copies in {}",
                    tail.join(" and ")
                )
            } else {
                String::new()
            };
            format!(
                "none: FoundationDB recovers in {to} by itself{from}, and moves back once {lost_name} is back and has caught up (APPLY.md: Failback)"
            )
        }
        Recovery::ForcedRecovery { into } => format!(
            "force a recovery into {into}, which discards the commits that had not reached it: `fdbcli --exec 'force_recovery_with_data_loss {into}'` in a {into} pod (APPLY.md: Forced recovery){drop_region}"
        ),
        Recovery::RecoverCoordinators { into } => {
            let mut text = String::new();
            if scenario.automatic_when_placed {
                let placed = scenario.coordinators_left_placed.unwrap_or(0);
                let whole = if scenario.active_lost {
                    format!("recovers in {into} by itself")
                } else {
                    format!("carries on in {into}")
                };
                text.push_str(&format!(
                    "if a majority of the coordinators is outside {lost_name} (with every datacenter up when the operator chose them, {placed} of {} are; where they are: APPLY.md: Check), none: FoundationDB {whole}; otherwise ",
                    scenario.coordinators
                ));
            }
            let host = topology
                .datacenters
                .iter()
                .find(|dc| &dc.id == into)
                .map(|dc| dc.region.clone())
                .unwrap_or_default();
            let command = match plan.region_named(&host) {
                // Flags go after the plugin's command: kubectl refuses flags before a plugin
                // name, and the command takes the usual ones
                // (OP@v2.33.0:kubectl-fdb/cmd/recover_multi_region_cluster.go:61-139).
                Ok(region) if plan.operator_version.major >= 2 => format!(
                    "`kubectl fdb recover-multi-region-cluster{} -n {} {}` (the kubectl-fdb plugin)",
                    region.kubectl_flags(),
                    region.namespace,
                    fdb_cluster_name(&plan.cluster_name, into),
                ),
                _ => format!(
                    "the operator's procedure by hand in {host} (operator v{}'s kubectl-fdb plugin has no recover-multi-region-cluster)",
                    plan.operator_version
                ),
            };
            text.push_str(&format!(
                "recover the lost coordinator majority with {command}; it ends with a forced recovery into {into} that can lose recent commits (APPLY.md: Lost coordinators){drop_region}"
            ));
            text
        }
        Recovery::RestoreFromBackup => {
            let mut text =
                format!("restore from a backup: {lost_name} held the only replica of the data");
            if remote.is_some() && topology.usable_regions < 2 {
                text.push_str(&format!(
                    " ({} holds none: usable_regions 1)",
                    remote.map_or("", |region| dc_name(topology, region.primary))
                ));
            }
            text
        }
        Recovery::Unavailable => format!(
            "the database is unavailable until {lost_name} is back: no region can recruit its transaction logs; or drop it from the configuration (APPLY.md: Drop a lost region)"
        ),
    }
}

/// The failure table of an analysis: `[lost, recovery, data loss, coordinators left, action]`
/// per scenario, as `plan` and `APPLY.md` show it.
#[must_use]
pub(crate) fn table(plan: &Plan, failure: &FailureAnalysis) -> Vec<[String; 5]> {
    failure
        .analysis
        .scenarios
        .iter()
        .map(|scenario| {
            let lost = match &scenario.lost {
                Lost::Datacenter(id) => format!("datacenter {id}"),
                Lost::Region(id) => format!("region {id}"),
            };
            let mut left = format!(
                "{} of {}",
                scenario.coordinators_left, scenario.coordinators
            );
            if let Some(placed) = scenario.coordinators_left_placed
                && placed != scenario.coordinators_left
            {
                left.push_str(&format!(
                    " ({placed} if every datacenter was up when they were chosen)"
                ));
            }
            [
                lost,
                if scenario.automatic {
                    "automatic"
                } else {
                    "manual"
                }
                .to_owned(),
                if scenario.data_loss { "possible" } else { "no" }.to_owned(),
                left,
                action(plan, &failure.topology, scenario),
            ]
        })
        .collect()
}
