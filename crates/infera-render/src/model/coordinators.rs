//! How the operator chooses coordinators (the same code at OP@v1.45.0 and OP@v2.33.0), and how
//! many of them a set of datacenters can end up holding.
//!
//! - How many: 9 with two usable regions or `three_data_hall`, else the minimum fault domains
//!   plus the desired fault tolerance: 1, 3, 5 for single, double, triple
//!   (`DesiredCoordinatorCount`, OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1729-1736;
//!   `MinimumFaultDomains`/`DesiredFaultTolerance`, foundationdb_database_configuration.go:801-826).
//! - From which processes: every stateful (log or storage) process of the database, in every
//!   datacenter; log processes first (`GetClassCandidatePriority`, foundationdbcluster_types.go:2666-2679;
//!   `selectCandidates`, internal/coordinator/coordinator.go:67-135).
//! - In which order: the primary datacenter's processes first, then by priority, then by
//!   process group id (`sortLocalities`, internal/locality/locality.go:61-90), where the
//!   primary datacenter is the highest-priority primary of the desired configuration.
//! - With which limits: at most one per zone (node), and with two usable regions at most
//!   `ceil(count / datacenters)` per datacenter (`GetHardLimits`, locality.go:309-338; the
//!   datacenters counted are every id in `regions`, satellites included,
//!   foundationdb_database_configuration.go:250-260). The limits start at one per zone and one
//!   per datacenter and are raised one step at a time, the datacenter limit first, until enough
//!   processes are chosen (`ChooseDistributedProcesses`, locality.go:203-306).
//! - Once chosen, a valid set stays: the operator changes coordinators only when one of them is
//!   unhealthy, excluded, ineligible or has the wrong address kind, when one breaks a limit, or
//!   when their count differs from the desired one (`CheckCoordinatorValidity`,
//!   locality.go:348-550).

use infera_spec::RedundancyMode;

/// A datacenter's processes that can be coordinators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The datacenter id (`dcid`, also the `processGroupIDPrefix`).
    pub datacenter: String,
    /// Log processes (candidates preferred by the operator).
    pub log: u32,
    /// Storage processes.
    pub storage: u32,
}

/// One candidate process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Process group id: `<processGroupIDPrefix>-<class>-<n>` (OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:3565-3584).
    /// The operator picks `n` at random (:3493-3518); here they count from 1, which changes
    /// which process of a datacenter is chosen, not how many per datacenter.
    pub id: String,
    /// The datacenter (`dcid` locality).
    pub datacenter: String,
    /// The zone (`zoneid`): the node. One pod per node, so every process has its own.
    pub zone: String,
    /// 1 for log processes, 0 for storage.
    pub priority: i32,
}

/// The processes of `sites` as coordinator candidates.
#[must_use]
pub fn candidates(sites: &[Site]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for site in sites {
        for (class, count, priority) in [("log", site.log, 1), ("storage", site.storage, 0)] {
            for n in 1..=count {
                let id = format!("{}-{class}-{n}", site.datacenter);
                out.push(Candidate {
                    zone: id.clone(),
                    id,
                    datacenter: site.datacenter.clone(),
                    priority,
                });
            }
        }
    }
    out
}

/// How many coordinators the operator wants (`DesiredCoordinatorCount`).
#[must_use]
pub fn desired_count(redundancy: RedundancyMode, usable_regions: u32) -> u32 {
    if usable_regions > 1 || redundancy == RedundancyMode::ThreeDataHall {
        return 9;
    }
    match redundancy {
        RedundancyMode::Single => 1,
        RedundancyMode::Double => 3,
        RedundancyMode::Triple | RedundancyMode::ThreeDataHall => 5,
    }
}

/// The hard limits of [`choose`] (`GetHardLimits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// At most this many per datacenter: `ceil(count / datacenters)` with two usable regions,
    /// else the count itself (no limit of its own).
    pub per_datacenter: u32,
    /// With `three_data_hall` and one usable region: at most 3 per data hall. infera-render
    /// sets no data hall, so every process is in the same (empty) one.
    pub per_data_hall: Option<u32>,
}

impl Limits {
    /// The limits for `count` coordinators over `datacenters` distinct datacenter ids.
    #[must_use]
    pub fn new(
        redundancy: RedundancyMode,
        usable_regions: u32,
        datacenters: usize,
        count: u32,
    ) -> Self {
        if usable_regions <= 1 {
            return Self {
                per_datacenter: count,
                per_data_hall: (redundancy == RedundancyMode::ThreeDataHall).then_some(3),
            };
        }
        let datacenters = u32::try_from(datacenters.max(1)).unwrap_or(u32::MAX);
        Self {
            per_datacenter: count.div_ceil(datacenters),
            per_data_hall: None,
        }
    }
}

/// The operator could choose only `chosen` of `desired` coordinators ("Could only select %d
/// processes, but %d are required", locality.go:182-188); the old coordinators then stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotEnough {
    /// How many it could choose.
    pub chosen: u32,
    /// How many it wants.
    pub desired: u32,
}

/// The coordinators the operator chooses among `candidates` (`ChooseDistributedProcesses`):
/// `first` is the datacenter whose processes sort first.
///
/// # Errors
/// [`NotEnough`] when the limits leave fewer than `count` processes.
pub fn choose(
    candidates: &[Candidate],
    first: &str,
    count: u32,
    limits: Limits,
) -> Result<Vec<Candidate>, NotEnough> {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    // sortLocalities: the first datacenter's processes, then higher priority, then id.
    sorted.sort_by(|a, b| {
        (a.datacenter != first)
            .cmp(&(b.datacenter != first))
            .then(b.priority.cmp(&a.priority))
            .then(a.id.cmp(&b.id))
    });
    let wanted = usize::try_from(count).unwrap_or(usize::MAX);
    // Fields in the operator's order: zoneid, dcid, then data_hall with three_data_hall. Each
    // field's limit starts at 1; the last field below its hard limit is raised when a pass
    // chooses nothing (locality.go:276-294). A field without a hard limit may reach `count`.
    let hard = [
        1,
        limits.per_datacenter,
        limits.per_data_hall.unwrap_or(count),
    ];
    let fields = if limits.per_data_hall.is_some() { 3 } else { 2 };
    let mut current = [1u32; 3];
    let mut chosen: Vec<&Candidate> = Vec::new();
    let mut taken = vec![false; sorted.len()];
    let key = |candidate: &Candidate, field: usize| -> String {
        match field {
            0 => candidate.zone.clone(),
            1 => candidate.datacenter.clone(),
            _ => String::new(),
        }
    };
    let mut counts: [std::collections::BTreeMap<String, u32>; 3] = Default::default();
    while chosen.len() < wanted {
        let mut any = false;
        for (index, candidate) in sorted.iter().enumerate() {
            if taken[index] {
                continue;
            }
            let eligible = (0..fields).all(|field| {
                counts[field]
                    .get(&key(candidate, field))
                    .copied()
                    .unwrap_or(0)
                    < current[field]
            });
            if !eligible {
                continue;
            }
            taken[index] = true;
            chosen.push(candidate);
            any = true;
            for (field, count) in counts.iter_mut().enumerate().take(fields) {
                *count.entry(key(candidate, field)).or_insert(0) += 1;
            }
            if chosen.len() == wanted {
                break;
            }
        }
        if !any {
            let Some(field) = (0..fields)
                .rev()
                .find(|&field| current[field] < hard[field])
            else {
                return Err(NotEnough {
                    chosen: u32::try_from(chosen.len()).unwrap_or(u32::MAX),
                    desired: count,
                });
            };
            current[field] += 1;
        }
    }
    Ok(chosen.into_iter().cloned().collect())
}

/// How many coordinators each site gets when the operator chooses with every process of every
/// site up, `first` sorting first.
///
/// # Errors
/// [`NotEnough`] when the sites cannot hold `count` coordinators.
pub fn placement(
    sites: &[Site],
    first: &str,
    count: u32,
    limits: Limits,
) -> Result<Vec<u32>, NotEnough> {
    let chosen = choose(&candidates(sites), first, count, limits)?;
    Ok(sites
        .iter()
        .map(|site| {
            u32::try_from(
                chosen
                    .iter()
                    .filter(|candidate| candidate.datacenter == site.datacenter)
                    .count(),
            )
            .unwrap_or(u32::MAX)
        })
        .collect())
}

/// The most coordinators the sites with `in_set[i]` can hold in any choice the operator can
/// make while datacenters are still joining or when it replaces a failed coordinator, when site
/// `first` (the active primary) sorts first.
///
/// The operator chooses as soon as enough processes are up, so a choice can see any subset of
/// the other sites' processes. `first` has been up since bootstrap phase 1; the model assumes at
/// most one of its processes is down when the operator chooses (it chooses again when one
/// coordinator fails). Every pass of [`choose`] visits `first` before the others, so when the
/// choice ends in the pass with datacenter limit `l`, `first` holds at least `min(l, its room
/// with one process down)` and every other site at most `min(l, its room)`; the sites in the set
/// are assumed to have all their processes up and the others just enough to complete the count
/// (the most the set can get). The largest value over every `l` is the answer: an upper bound,
/// never less than what such a choice gives.
#[must_use]
pub fn most_held(sites: &[Site], in_set: &[bool], first: usize, count: u32, limits: Limits) -> u32 {
    let room = |site: &Site| (site.log + site.storage).min(limits.per_datacenter);
    let total_room: u32 = sites.iter().map(room).sum();
    if total_room < count || limits.per_data_hall.is_some_and(|hall| hall < count) {
        // The operator can never choose `count`: the phase-1 coordinators, all in `first`,
        // stay.
        return if in_set.get(first).copied().unwrap_or(false) {
            count
        } else {
            0
        };
    }
    let first_room = sites.get(first).map_or(0, room);
    let first_least = sites.get(first).map_or(0, |site| {
        (site.log + site.storage)
            .saturating_sub(1)
            .min(limits.per_datacenter)
    });
    let mut best = 0;
    for limit in 1..=limits.per_datacenter {
        let held = |index: usize| room(&sites[index]).min(limit);
        let inside: u32 = (0..sites.len())
            .filter(|&index| index != first && in_set[index])
            .map(held)
            .sum();
        let outside: u32 = (0..sites.len())
            .filter(|&index| index != first && !in_set[index])
            .map(held)
            .sum();
        let first_most = first_room.min(limit);
        let candidate = if in_set[first] {
            let mine = first_most + inside;
            if mine >= count {
                count
            } else if mine + outside >= count {
                mine
            } else {
                continue;
            }
        } else {
            let first_holds = first_least.min(limit);
            if first_holds + inside >= count {
                count - first_holds
            } else if first_most + inside + outside >= count {
                inside
            } else {
                continue;
            }
        };
        best = best.max(candidate);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(datacenter: &str, log: u32, storage: u32) -> Site {
        Site {
            datacenter: datacenter.to_owned(),
            log,
            storage,
        }
    }

    /// two-region-satellites: usw1a 3+3, usw1b 4 logs, euc1a 3+3, euc1b 4 logs.
    fn four() -> Vec<Site> {
        vec![
            site("us-west-1a", 3, 3),
            site("us-west-1b", 4, 0),
            site("eu-central-1a", 3, 3),
            site("eu-central-1b", 4, 0),
        ]
    }

    #[test]
    fn placement_matches_the_review_simulation() {
        let limits = Limits::new(RedundancyMode::Double, 2, 4, 9);
        assert_eq!(limits.per_datacenter, 3);
        assert_eq!(
            placement(&four(), "us-west-1a", 9, limits),
            Ok(vec![3, 2, 2, 2])
        );
        // everything-enabled: 6 datacenters, at most 2 each; the primary first, then by id.
        let six = vec![
            site("us-west-2a", 5, 6),
            site("us-west-2b", 5, 0),
            site("us-west-2c", 5, 0),
            site("eu-west-1a", 5, 6),
            site("eu-west-1b", 5, 0),
            site("eu-west-1c", 5, 0),
        ];
        let limits = Limits::new(RedundancyMode::Triple, 2, 6, 9);
        assert_eq!(
            placement(&six, "us-west-2a", 9, limits),
            Ok(vec![2, 1, 1, 2, 2, 1])
        );
        // three-region: two datacenters, at most 5 each.
        let two = vec![site("us-west-1a", 3, 3), site("eu-central-1a", 3, 3)];
        assert_eq!(
            placement(
                &two,
                "us-west-1a",
                9,
                Limits::new(RedundancyMode::Double, 2, 2, 9)
            ),
            Ok(vec![5, 4])
        );
    }

    #[test]
    fn too_few_processes_keep_the_old_coordinators() {
        // Three nodes per datacenter cannot hold 9 coordinators at 5 per datacenter.
        let two = vec![site("a", 3, 0), site("b", 3, 0)];
        assert_eq!(
            placement(&two, "a", 9, Limits::new(RedundancyMode::Double, 2, 2, 9)),
            Err(NotEnough {
                chosen: 6,
                desired: 9
            })
        );
        // three_data_hall without data halls: at most 3 coordinators at all.
        let one = vec![site("a", 9, 9)];
        assert_eq!(
            placement(
                &one,
                "a",
                9,
                Limits::new(RedundancyMode::ThreeDataHall, 1, 1, 9)
            ),
            Err(NotEnough {
                chosen: 3,
                desired: 9
            })
        );
    }

    #[test]
    fn the_most_a_region_can_hold_depends_on_the_join_order() {
        let sites = four();
        let limits = Limits::new(RedundancyMode::Double, 2, 4, 9);
        // eu-central-1 gets 6 when us-west-1b had no process up when the operator chose.
        assert_eq!(
            most_held(&sites, &[false, false, true, true], 0, 9, limits),
            6
        );
        assert_eq!(
            most_held(&sites, &[true, true, false, false], 0, 9, limits),
            6
        );
        assert_eq!(
            most_held(&sites, &[true, false, false, false], 0, 9, limits),
            3
        );
        // three-region: the primary is first in every pass, so the other holds at most 4.
        let two = vec![site("us-west-1a", 3, 3), site("eu-central-1a", 3, 3)];
        let limits = Limits::new(RedundancyMode::Double, 2, 2, 9);
        assert_eq!(most_held(&two, &[false, true], 0, 9, limits), 4);
        assert_eq!(most_held(&two, &[true, false], 0, 9, limits), 5);
        // The triplet: 3 per datacenter, whatever the order.
        let three = vec![site("a", 3, 3), site("b", 3, 3), site("c", 4, 0)];
        let limits = Limits::new(RedundancyMode::Double, 2, 3, 9);
        for set in [
            [true, false, false],
            [false, true, false],
            [false, false, true],
        ] {
            assert_eq!(most_held(&three, &set, 0, 9, limits), 3);
        }
    }

    #[test]
    fn the_bound_is_never_below_a_real_choice() {
        // Any number of each joining site's processes up (the first ones or the last ones, so
        // that both log-only and storage-only mixes occur), and the first site whole or with one
        // process down: the share of every set of sites in the operator's choice stays within
        // most_held.
        let sites = four();
        let limits = Limits::new(RedundancyMode::Double, 2, 4, 9);
        let per_site: Vec<Vec<Candidate>> = sites
            .iter()
            .map(|site| candidates(std::slice::from_ref(site)))
            .collect();
        let options = |index: usize| -> Vec<Vec<Candidate>> {
            let all = &per_site[index];
            let mut out = Vec::new();
            for up in 0..=all.len() {
                out.push(all[..up].to_vec());
                out.push(all[all.len() - up..].to_vec());
            }
            out
        };
        for b in options(1) {
            for c in options(2) {
                for d in options(3) {
                    for first_up in [per_site[0].len(), per_site[0].len() - 1] {
                        let mut up = per_site[0][..first_up].to_vec();
                        up.extend(b.iter().cloned());
                        up.extend(c.iter().cloned());
                        up.extend(d.iter().cloned());
                        let Ok(chosen) = choose(&up, "us-west-1a", 9, limits) else {
                            continue;
                        };
                        for set in 0u32..16 {
                            let in_set: Vec<bool> = (0..4).map(|i| set & (1 << i) != 0).collect();
                            let held = chosen
                                .iter()
                                .filter(|candidate| {
                                    sites
                                        .iter()
                                        .position(|s| s.datacenter == candidate.datacenter)
                                        .is_some_and(|i| in_set[i])
                                })
                                .count();
                            let bound = most_held(&sites, &in_set, 0, 9, limits);
                            assert!(
                                u32::try_from(held).unwrap_or(u32::MAX) <= bound,
                                "{} of {set:04b} > {bound}",
                                held
                            );
                        }
                    }
                }
            }
        }
    }
}
