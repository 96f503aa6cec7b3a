//! What survives the loss of each datacenter and each region of a FoundationDB topology.
//!
//! FoundationDB's rules, in our words:
//! - The database is available only while a majority of its coordinators is
//!   (FDB@7.3.43:documentation/sphinx/source/configuration.rst:776-782). Losing the majority
//!   needs the operator's coordinator recovery, which the operator documents as able to lose
//!   data ("This action can cause data loss", OP@v2.33.0:docs/manual/operations.md:226-275):
//!   the coordinators keep the database's core state, written to a majority, so a minority may
//!   hold an old one.
//! - Transaction logs live in the active region: its primary datacenter and, with
//!   `usable_regions` 2 only, its satellites (FDB@7.3.43:fdbserver/TagPartitionedLogSystem.actor.cpp:2851;
//!   fdbserver/include/fdbserver/ClusterController.actor.h:1812). `one_satellite_*` writes to
//!   the highest-priority satellite, `two_satellite_*` to the two highest; `two_satellite_fast`
//!   acknowledges a commit once one of the two has it (configuration.rst:653-673), so only
//!   both together are sure to hold every acknowledged commit. Lower satellites are used only
//!   when these are down (ClusterController.actor.h:1398-1470).
//! - When the active primary is lost, FoundationDB recovers in the other region by itself only
//!   if that region holds a replica (`usable_regions` 2), has priority >= 0, and the log tail
//!   survives in a satellite; otherwise `force_recovery_with_data_loss` discards what had not
//!   reached the other region (configuration.rst:741-754). With `usable_regions` 1 the other
//!   region holds no replica at all.
//!
//! Coordinators are counted as [`super::coordinators`] places them; a scenario is automatic
//! only when a majority survives whatever order the datacenters joined in.

use super::coordinators::{self, Limits, NotEnough, Site};
use infera_spec::{RedundancyMode, SatelliteRedundancyMode};

/// One datacenter of the topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datacenter {
    /// Datacenter id.
    pub id: String,
    /// Id of the region (Kubernetes cluster) that hosts it.
    pub region: String,
    /// Log processes.
    pub log: u32,
    /// Storage processes.
    pub storage: u32,
}

/// One FoundationDB region: its primary datacenter and satellites, by index into
/// [`Topology::datacenters`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdbRegion {
    /// The primary datacenter.
    pub primary: usize,
    /// Its FoundationDB priority.
    pub priority: i32,
    /// Satellites, highest priority first.
    pub satellites: Vec<usize>,
}

/// A FoundationDB topology as the failure analysis needs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    /// `usable_regions` of the database configuration.
    pub usable_regions: u32,
    /// The redundancy mode (sets the coordinator count).
    pub redundancy: RedundancyMode,
    /// The satellite redundancy mode, if satellites are configured.
    pub satellite_mode: Option<SatelliteRedundancyMode>,
    /// Every datacenter.
    pub datacenters: Vec<Datacenter>,
    /// The FoundationDB regions, the active one first.
    pub regions: Vec<FdbRegion>,
}

/// What is lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lost {
    /// One datacenter.
    Datacenter(String),
    /// A whole region: every datacenter it hosts.
    Region(String),
}

impl Lost {
    /// `datacenter us-west-1a` / `region us-west-1`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Datacenter(id) => format!("datacenter {id}"),
            Self::Region(id) => format!("region {id}"),
        }
    }
}

/// What to do after a loss.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Nothing: FoundationDB carries on in the active region.
    CarriesOn,
    /// Nothing: FoundationDB recovers in the other region's primary datacenter by itself.
    FailsOver {
        /// The primary it recovers in.
        to: String,
    },
    /// A majority of coordinators survives, but the log tail does not: force a recovery into
    /// the surviving primary, losing the commits that had not reached it.
    ForcedRecovery {
        /// The primary to recover into.
        into: String,
    },
    /// The coordinator majority is (or may be) lost: recover the coordinators first.
    RecoverCoordinators {
        /// The surviving primary datacenter the database recovers in.
        into: String,
    },
    /// No datacenter holding a replica survives: restore from a backup.
    RestoreFromBackup,
    /// Nothing is lost, but no region can run the transaction subsystem until a lost
    /// datacenter returns or the configuration drops it.
    Unavailable,
}

/// One failure scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// What is lost.
    pub lost: Lost,
    /// Whether FoundationDB recovers by itself, with no acknowledged commit lost.
    pub automatic: bool,
    /// Whether acknowledged commits can be lost.
    pub data_loss: bool,
    /// Coordinators the operator recruits.
    pub coordinators: u32,
    /// Coordinators that survive at least, whatever order the datacenters joined in.
    pub coordinators_left: u32,
    /// Coordinators that survive when the operator chose them with every datacenter up (it
    /// does whenever it replaces a coordinator); `None` when it cannot choose them all.
    pub coordinators_left_placed: Option<u32>,
    /// Whether the recovery would be automatic when the operator chose the coordinators with
    /// every datacenter up (it differs from `automatic` only through the coordinators).
    pub automatic_when_placed: bool,
    /// Whether the active primary datacenter is lost.
    pub active_lost: bool,
    /// What to do.
    pub recovery: Recovery,
}

impl Scenario {
    /// Whether a majority of coordinators survives whatever order the datacenters joined in.
    #[must_use]
    pub fn quorum_kept(&self) -> bool {
        2 * self.coordinators_left > self.coordinators
    }

    /// Whether a majority survives when the coordinators were chosen with every datacenter up.
    #[must_use]
    pub fn quorum_kept_when_placed(&self) -> bool {
        self.coordinators_left_placed
            .is_some_and(|left| 2 * left > self.coordinators)
    }
}

/// The coordinators and every scenario of a topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    /// Coordinators the operator recruits.
    pub coordinators: u32,
    /// At most this many in one datacenter (and one per node).
    pub per_datacenter_limit: u32,
    /// Coordinators per datacenter (same order as the topology's datacenters) when the operator
    /// chooses with every datacenter up, the active primary first.
    pub placement: Result<Vec<u32>, NotEnough>,
    /// One scenario per datacenter, then one per region that hosts a datacenter.
    pub scenarios: Vec<Scenario>,
}

impl Default for Analysis {
    fn default() -> Self {
        Self {
            coordinators: 0,
            per_datacenter_limit: 0,
            placement: Ok(Vec::new()),
            scenarios: Vec::new(),
        }
    }
}

impl Topology {
    fn sites(&self) -> Vec<Site> {
        self.datacenters
            .iter()
            .map(|dc| Site {
                datacenter: dc.id.clone(),
                log: dc.log,
                storage: dc.storage,
            })
            .collect()
    }

    /// The datacenter ids named in `regions` (`CountUniqueDataCenters`).
    fn unique_datacenters(&self) -> usize {
        let mut ids: Vec<usize> = self
            .regions
            .iter()
            .flat_map(|region| {
                std::iter::once(region.primary).chain(region.satellites.iter().copied())
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// The active region's satellites that hold the log tail (indices into
    /// [`Topology::datacenters`]): none with one usable region.
    #[must_use]
    pub fn tail_satellites(&self) -> &[usize] {
        let (Some(mode), Some(active)) = (self.satellite_mode, self.regions.first()) else {
            return &[];
        };
        if self.usable_regions < 2 {
            return &[];
        }
        let used = mode.satellite_datacenters().min(active.satellites.len());
        &active.satellites[..used]
    }

    /// Whether the log tail survives the loss of `lost` (the active primary is in it).
    fn tail_survives(&self, lost: &[bool]) -> bool {
        let tail = self.tail_satellites();
        let alive = |index: &usize| !lost[*index];
        match self.satellite_mode {
            None => false,
            Some(SatelliteRedundancyMode::TwoSatelliteFast) if tail.len() == 2 => {
                tail.iter().all(alive)
            }
            Some(_) => tail.iter().any(alive),
        }
    }

    /// Every datacenter and region scenario.
    #[must_use]
    pub fn analyze(&self) -> Analysis {
        let count = coordinators::desired_count(self.redundancy, self.usable_regions);
        let limits = Limits::new(
            self.redundancy,
            self.usable_regions,
            self.unique_datacenters(),
            count,
        );
        let sites = self.sites();
        let first = self.regions.first().map_or(0, |region| region.primary);
        let first_id = self
            .datacenters
            .get(first)
            .map(|dc| dc.id.as_str())
            .unwrap_or_default();
        let placement = coordinators::placement(&sites, first_id, count, limits);
        let mut sets: Vec<(Lost, Vec<bool>)> = self
            .datacenters
            .iter()
            .enumerate()
            .map(|(index, dc)| {
                (
                    Lost::Datacenter(dc.id.clone()),
                    (0..self.datacenters.len()).map(|i| i == index).collect(),
                )
            })
            .collect();
        let mut regions: Vec<&str> = Vec::new();
        for dc in &self.datacenters {
            if !regions.contains(&dc.region.as_str()) {
                regions.push(&dc.region);
            }
        }
        for region in regions {
            sets.push((
                Lost::Region(region.to_owned()),
                self.datacenters
                    .iter()
                    .map(|dc| dc.region == region)
                    .collect(),
            ));
        }
        let scenarios = sets
            .into_iter()
            .map(|(lost, set)| {
                let most = coordinators::most_held(&sites, &set, first, count, limits);
                let placed = placement.as_ref().ok().map(|counts| {
                    count
                        - counts
                            .iter()
                            .zip(&set)
                            .filter(|(_, lost)| **lost)
                            .map(|(n, _)| n)
                            .sum::<u32>()
                });
                self.scenario(lost, &set, count, count - most, placed)
            })
            .collect();
        Analysis {
            coordinators: count,
            per_datacenter_limit: limits.per_datacenter,
            placement,
            scenarios,
        }
    }

    fn scenario(
        &self,
        lost: Lost,
        set: &[bool],
        coordinators: u32,
        left: u32,
        placed: Option<u32>,
    ) -> Scenario {
        let quorum = 2 * left > coordinators;
        let usable = self.usable_regions;
        let active = self.regions.first();
        let remote = self.regions.get(1);
        // A region can run the transaction subsystem while its primary is up and, where
        // satellite logs are recruited, one of its satellites is (FoundationDB falls back to the
        // next satellite, ClusterController.actor.h:1398-1418).
        let runs = |region: &FdbRegion| {
            !set[region.primary]
                && (self.satellite_mode.is_none()
                    || usable < 2
                    || region.satellites.is_empty()
                    || region.satellites.iter().any(|&satellite| !set[satellite]))
        };
        let active_lost = active.is_some_and(|region| set[region.primary]);
        let active_runs = active.is_some_and(runs);
        // When the active region cannot recruit, the cluster controller recruits in the other
        // region if its priority is >= 0 (ClusterController.actor.h:1952-1995).
        let remote_takes_over =
            usable == 2 && remote.is_some_and(|region| region.priority >= 0 && runs(region));
        let replica_survives =
            !active_lost || (usable == 2 && remote.is_some_and(|region| !set[region.primary]));
        let tail = !active_lost || self.tail_survives(set);
        let recovers = active_runs || (remote_takes_over && tail);
        let automatic = quorum && recovers;
        let automatic_when_placed = recovers && placed.is_some_and(|left| 2 * left > coordinators);
        let data_loss = !quorum || !replica_survives || !tail;
        let name = |index: usize| {
            self.datacenters
                .get(index)
                .map(|dc| dc.id.clone())
                .unwrap_or_default()
        };
        let survivor = match (active, remote) {
            (Some(region), _) if !set[region.primary] => name(region.primary),
            (_, Some(region)) if !set[region.primary] => name(region.primary),
            _ => String::new(),
        };
        let recovery = if !replica_survives {
            Recovery::RestoreFromBackup
        } else if automatic && active_runs {
            Recovery::CarriesOn
        } else if automatic {
            Recovery::FailsOver {
                to: remote
                    .map(|region| name(region.primary))
                    .unwrap_or_default(),
            }
        } else if !quorum {
            Recovery::RecoverCoordinators { into: survivor }
        } else if !tail {
            Recovery::ForcedRecovery { into: survivor }
        } else {
            Recovery::Unavailable
        };
        Scenario {
            lost,
            automatic,
            data_loss,
            coordinators,
            coordinators_left: left,
            coordinators_left_placed: placed,
            automatic_when_placed,
            active_lost,
            recovery,
        }
    }

    /// The datacenters of region `id`.
    #[must_use]
    pub fn region_datacenters(&self, id: &str) -> Vec<&Datacenter> {
        self.datacenters
            .iter()
            .filter(|dc| dc.region == id)
            .collect()
    }
}

/// A layout that adds a third site to a two-region topology, and what it survives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alternative {
    /// Which layout.
    pub layout: Layout,
    /// The topology with the third site.
    pub topology: Topology,
    /// Its analysis.
    pub analysis: Analysis,
}

/// The layouts that put a third site next to two FDB regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The operator's triplet (`HaThreeZoneDoubleSat`, OP@v2.33.0:e2e/fixtures/cluster_config.go:490-535):
    /// the third site is the only satellite of both regions (the other region's primary the
    /// last resort), so it holds the log tail of whichever region is active.
    Triplet,
    /// The zone satellites stay; the third site is the last satellite of both regions. It
    /// holds coordinators, not the log tail (used only while the zone satellites are down).
    FallbackSatellite,
}

impl Alternative {
    /// Whether losing any one region is recovered by FoundationDB itself.
    #[must_use]
    pub fn every_region_loss_automatic(&self) -> bool {
        self.region_scenarios().all(|scenario| scenario.automatic)
    }

    /// Whether losing any one region keeps a coordinator majority (so a forced recovery is
    /// possible without the coordinator recovery).
    #[must_use]
    pub fn every_region_loss_keeps_quorum(&self) -> bool {
        self.region_scenarios().all(Scenario::quorum_kept)
    }

    fn region_scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.analysis
            .scenarios
            .iter()
            .filter(|scenario| matches!(scenario.lost, Lost::Region(_)))
    }
}

impl Topology {
    /// The two ways to add a third site `site_region` (a region that holds no datacenter yet)
    /// to a topology of two FDB regions, each with its analysis; `satellite_logs` sets the
    /// site's log processes. Empty when the topology does not have two regions.
    #[must_use]
    pub fn with_third_site(&self, site_region: &str, satellite_logs: u32) -> Vec<Alternative> {
        if self.regions.len() != 2 {
            return Vec::new();
        }
        let mode = self
            .satellite_mode
            .unwrap_or(SatelliteRedundancyMode::OneSatelliteDouble);
        let copies = mode.copies_per_datacenter();
        let mut layouts = vec![Layout::Triplet];
        if self
            .regions
            .iter()
            .all(|region| !region.satellites.is_empty())
        {
            layouts.push(Layout::FallbackSatellite);
        }
        layouts
            .into_iter()
            .map(|layout| {
                let mut topology = self.clone();
                topology.usable_regions = 2;
                let site = topology.datacenters.len();
                topology.datacenters.push(Datacenter {
                    id: format!("{site_region}-site"),
                    region: site_region.to_owned(),
                    log: satellite_logs.max(copies) + 1,
                    storage: 0,
                });
                let primaries: Vec<usize> = topology
                    .regions
                    .iter()
                    .map(|region| region.primary)
                    .collect();
                for (position, region) in topology.regions.iter_mut().enumerate() {
                    match layout {
                        Layout::Triplet => {
                            region.satellites = vec![site, primaries[1 - position]];
                        }
                        Layout::FallbackSatellite => region.satellites.push(site),
                    }
                    region.priority = if position == 0 { 1 } else { 0 };
                }
                if layout == Layout::Triplet {
                    // Drop the zone satellites: only the primaries and the site remain.
                    let keep: Vec<usize> = primaries.iter().copied().chain([site]).collect();
                    let mut renumber = vec![usize::MAX; topology.datacenters.len()];
                    let mut kept = Vec::new();
                    for (index, dc) in topology.datacenters.iter().enumerate() {
                        if keep.contains(&index) {
                            renumber[index] = kept.len();
                            kept.push(dc.clone());
                        }
                    }
                    topology.datacenters = kept;
                    for region in &mut topology.regions {
                        region.primary = renumber[region.primary];
                        region.satellites = region
                            .satellites
                            .iter()
                            .map(|&index| renumber[index])
                            .collect();
                    }
                    if mode.satellite_datacenters() == 2 {
                        topology.satellite_mode = Some(SatelliteRedundancyMode::OneSatelliteDouble);
                    } else {
                        topology.satellite_mode = Some(mode);
                    }
                } else {
                    topology.satellite_mode = Some(mode);
                }
                let analysis = topology.analyze();
                Alternative {
                    layout,
                    topology,
                    analysis,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(id: &str, region: &str, log: u32, storage: u32) -> Datacenter {
        Datacenter {
            id: id.to_owned(),
            region: region.to_owned(),
            log,
            storage,
        }
    }

    /// The two-region-satellites example: zone satellites in each region.
    fn two_region_satellites() -> Topology {
        Topology {
            usable_regions: 2,
            redundancy: RedundancyMode::Double,
            satellite_mode: Some(SatelliteRedundancyMode::OneSatelliteDouble),
            datacenters: vec![
                dc("us-west-1a", "us-west-1", 3, 3),
                dc("us-west-1b", "us-west-1", 4, 0),
                dc("eu-central-1a", "eu-central-1", 3, 3),
                dc("eu-central-1b", "eu-central-1", 4, 0),
            ],
            regions: vec![
                FdbRegion {
                    primary: 0,
                    priority: 1,
                    satellites: vec![1],
                },
                FdbRegion {
                    primary: 2,
                    priority: 0,
                    satellites: vec![3],
                },
            ],
        }
    }

    fn find<'a>(analysis: &'a Analysis, lost: &Lost) -> &'a Scenario {
        analysis
            .scenarios
            .iter()
            .find(|scenario| &scenario.lost == lost)
            .unwrap_or_else(|| &analysis.scenarios[0])
    }

    #[test]
    fn zone_satellites_survive_a_datacenter_but_not_their_region() {
        let analysis = two_region_satellites().analyze();
        assert_eq!(analysis.placement, Ok(vec![3, 2, 2, 2]));
        let primary = find(&analysis, &Lost::Datacenter("us-west-1a".into()));
        assert!(primary.automatic && !primary.data_loss);
        assert_eq!(
            primary.recovery,
            Recovery::FailsOver {
                to: "eu-central-1a".into()
            }
        );
        let region = find(&analysis, &Lost::Region("us-west-1".into()));
        assert!(!region.automatic && region.data_loss);
        assert_eq!(
            (region.coordinators_left, region.coordinators_left_placed),
            (3, Some(4))
        );
        assert_eq!(
            region.recovery,
            Recovery::RecoverCoordinators {
                into: "eu-central-1a".into()
            }
        );
        // The DR region holds 4 when the operator chose with every datacenter up, but up to 6
        // when us-west-1b had not joined yet: not guaranteed.
        let dr = find(&analysis, &Lost::Region("eu-central-1".into()));
        assert!(!dr.automatic);
        assert!(dr.quorum_kept_when_placed() && !dr.quorum_kept());
        assert_eq!(analysis.scenarios.len(), 6);
    }

    #[test]
    fn a_third_site_as_the_only_satellite_survives_every_region_loss() {
        let alternatives = two_region_satellites().with_third_site("ap-southeast-1", 3);
        let triplet = &alternatives[0];
        assert_eq!(triplet.layout, Layout::Triplet);
        assert_eq!(triplet.analysis.placement, Ok(vec![3, 3, 3]));
        assert!(triplet.every_region_loss_automatic());
        let fallback = &alternatives[1];
        assert_eq!(fallback.layout, Layout::FallbackSatellite);
        assert!(fallback.every_region_loss_keeps_quorum());
        assert!(!fallback.every_region_loss_automatic());
    }

    #[test]
    fn usable_regions_one_loses_everything_with_the_active_region() {
        let topology = Topology {
            usable_regions: 1,
            redundancy: RedundancyMode::Double,
            satellite_mode: None,
            datacenters: vec![
                dc("us-west-1", "us-west-1", 3, 3),
                dc("eu-central-1", "eu-central-1", 3, 3),
            ],
            regions: vec![
                FdbRegion {
                    primary: 0,
                    priority: 1,
                    satellites: vec![],
                },
                FdbRegion {
                    primary: 1,
                    priority: -1,
                    satellites: vec![],
                },
            ],
        };
        let analysis = topology.analyze();
        assert_eq!(analysis.coordinators, 3);
        let active = find(&analysis, &Lost::Region("us-west-1".into()));
        assert_eq!(active.recovery, Recovery::RestoreFromBackup);
        assert!(active.data_loss && !active.automatic);
        let dr = find(&analysis, &Lost::Region("eu-central-1".into()));
        assert!(dr.automatic && !dr.data_loss);
        assert_eq!(dr.recovery, Recovery::CarriesOn);
    }
}
