//! The operator's staged change of the database configuration, FoundationDB's checks on each
//! `configure`, and a simulation of several operators (one per `FoundationDBCluster`) driving
//! one database.
//!
//! Each operator, on every reconcile, compares its object's desired configuration with the
//! database's current one (both normalized) and, if they differ, configures the database one
//! step closer: `current.GetNextConfigurationChange(desired)`
//! (OP@v2.33.0:controllers/update_database_configuration.go:69-159; OP@v1.45.0 :69-133), unless
//! `automationOptions.configureDatabase` is false (:49-51; OP@v1.45.0 :45-47). FoundationDB
//! refuses some steps (`changeConfig`, FDB@7.3.43:fdbclient/include/fdbclient/GenericManagementAPI.actor.h:306-468);
//! the operator then retries the same step on every reconcile, so a refused step that cannot
//! become acceptable is a change that never converges.

use super::config::{DatabaseConfiguration, Datacenter, Region};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The region of `desired` whose primary datacenter is `id`, with that datacenter's priority
/// set to `priority`; a region holding only that datacenter when `desired` has none
/// (`getRegion`, OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:262-286).
fn region_from(desired: &DatabaseConfiguration, id: &str, priority: i32) -> Region {
    for region in &desired.regions {
        if let Some(position) = region
            .datacenters
            .iter()
            .position(|dc| !dc.is_satellite() && dc.id == id)
        {
            let mut found = region.clone();
            found.datacenters[position].priority = priority;
            return found;
        }
    }
    Region {
        datacenters: vec![Datacenter {
            id: id.to_owned(),
            priority,
            satellite: 0,
        }],
        ..Region::default()
    }
}

/// Adds every id of `source` that `other` lacks to `other` at priority -1, and returns the id
/// of `source` with the highest priority, the first of equals (Step 4's two loops,
/// OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:536-554).
fn fill_and_find_max(
    source: &BTreeMap<String, i32>,
    other: &mut BTreeMap<String, i32>,
) -> Option<String> {
    let mut best: Option<(&String, i32)> = None;
    for (id, &priority) in source {
        other.entry(id.clone()).or_insert(-1);
        if best.is_none_or(|(_, top)| top < priority) {
            best = Some((id, priority));
        }
    }
    best.map(|(id, _)| id.clone())
}

fn len_u32(length: usize) -> u32 {
    u32::try_from(length).unwrap_or(u32::MAX)
}

fn without_region(configuration: &DatabaseConfiguration, id: &str) -> Vec<Region> {
    configuration
        .regions
        .iter()
        .filter(|region| {
            !region
                .datacenters
                .iter()
                .any(|dc| !dc.is_satellite() && dc.id == id)
        })
        .cloned()
        .collect()
}

/// The next configuration the operator submits on the way from `current` to `desired` (both
/// normalized): a port, in our words, of the region part of `GetNextConfigurationChange`
/// (OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:367-588, identical at
/// OP@v1.45.0 :351-…). Where Go ranges over a map and ties are broken by its random order, this
/// takes the smallest datacenter id.
#[must_use]
pub fn next_change(
    current: &DatabaseConfiguration,
    desired: &DatabaseConfiguration,
) -> DatabaseConfiguration {
    if current.regions == desired.regions {
        return desired.clone();
    }
    let mut result = current.clone();
    let mut current_priorities = current.region_priorities();
    let mut next_priorities = desired.region_priorities();
    let final_priorities = desired.region_priorities();

    // Step 1 (:376-388): each current region takes its satellites and satellite settings from
    // the desired configuration, keeping its primary's current priority.
    for region in &mut result.regions {
        if let Some(primary) = region.primary().cloned() {
            *region = region_from(desired, &primary.id, primary.priority);
        }
    }

    // Step 2 (:390-423): add missing regions, at most two in all; a new region joins at -1,
    // unless it is the first one.
    let mut added = true;
    while result.regions.len() < 2 && added {
        added = false;
        let mut to_add: Option<(&String, i32)> = None;
        for (id, &priority) in &next_priorities {
            if !current_priorities.contains_key(id)
                && to_add.is_none_or(|(_, best)| priority > best)
            {
                to_add = Some((id, priority));
            }
        }
        if let Some((id, _)) = to_add {
            let priority = if result.regions.is_empty() { 1 } else { -1 };
            result.regions.push(region_from(desired, id, priority));
            current_priorities.insert(id.clone(), priority);
            added = true;
        }
    }
    if result.regions.len() != current.regions.len() {
        return result;
    }

    let current_regions: Vec<String> = current
        .regions
        .iter()
        .filter_map(|region| region.primary().map(|dc| dc.id.clone()))
        .collect();
    let removing = |id: &str| {
        !final_priorities.contains_key(id)
            && current.regions.len() > 1
            && !desired.regions.is_empty()
    };

    // Step 3 (:434-524): remove a region the desired configuration no longer has: first give
    // it a negative priority, then lower usable_regions, then drop it.
    for id in &current_regions {
        if removing(id) {
            if current_priorities.get(id).copied().unwrap_or(0) >= 0 {
                continue;
            } else if result.usable_regions != len_u32(result.regions.len()) - 1 {
                result.usable_regions = len_u32(result.regions.len()) - 1;
            } else {
                result.regions = without_region(&result, id);
            }
            return result;
        }
    }
    for id in &current_regions {
        let priority = current_priorities.get(id).copied().unwrap_or(0);
        if removing(id) {
            if priority > 0 && current.usable_regions < 2 {
                continue;
            } else if priority >= 0 {
                let mut alternative = false;
                for region in &mut result.regions {
                    for dc in region
                        .datacenters
                        .iter_mut()
                        .filter(|dc| !dc.is_satellite())
                    {
                        if &dc.id == id {
                            dc.priority = -1;
                        } else if dc.priority > 0 {
                            alternative = true;
                        }
                    }
                }
                if !alternative {
                    for region in &mut result.regions {
                        if let Some(dc) = region
                            .datacenters
                            .iter_mut()
                            .find(|dc| !dc.is_satellite() && &dc.id != id)
                        {
                            dc.priority = 1;
                        }
                    }
                }
                return result;
            } else if result.usable_regions != len_u32(result.regions.len()) - 1 {
                result.usable_regions = len_u32(result.regions.len()) - 1;
            } else {
                result.regions = without_region(&result, id);
            }
            return result;
        }
    }

    // Step 4 (:526-574): set the desired priorities, keeping at least one >= 0; before changing
    // priorities, every region must be usable.
    let max_current = fill_and_find_max(&current_priorities, &mut next_priorities);
    let max_next = fill_and_find_max(&next_priorities, &mut current_priorities);
    if max_next.as_ref().is_none_or(|id| next_priorities[id] < 0) {
        let id = max_current.unwrap_or_default();
        let priority = current_priorities.get(&id).copied().unwrap_or(0);
        next_priorities.insert(id, priority);
    }
    if current_priorities != next_priorities {
        if current.usable_regions != len_u32(current.regions.len()) {
            result.usable_regions = len_u32(current.regions.len());
        } else {
            for region in &mut result.regions {
                if let Some(dc) = region.datacenters.iter_mut().find(|dc| !dc.is_satellite()) {
                    dc.priority = next_priorities.get(&dc.id).copied().unwrap_or(0);
                }
            }
        }
        return result;
    }

    // Step 5 (:576-580): the final usable_regions.
    if current.usable_regions != desired.usable_regions {
        result.usable_regions = desired.usable_regions;
        return result;
    }
    // Step 6 (:582-584): the final regions.
    result.regions.clone_from(&desired.regions);
    result
}

/// Why FoundationDB refuses a `configure` (the names of its `ConfigurationResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigureError {
    /// The new configuration breaks `DatabaseConfiguration::isValid`
    /// (FDB@7.3.43:fdbclient/DatabaseConfiguration.cpp:212-257).
    InvalidConfiguration,
    /// `usable_regions` changes while a region of the old configuration is removed or
    /// reprioritized (GenericManagementAPI.actor.h:339-349).
    RegionsChanged,
    /// `usable_regions` changes while more than one region has priority >= 0 (:351-360).
    MultipleActiveRegions,
    /// With `usable_regions` 2, a region with priority >= 0 does not hold a full replica yet
    /// (:394-413). Transient: data movement fills it.
    RegionNotFullyReplicated,
    /// A storage server is in a datacenter the new configuration does not list as a primary
    /// (:417-440).
    StorageInUnknownDcid,
    /// A region's primary has fewer zones than its replicas need, or the satellites of a region
    /// at priority >= 0 fewer than their log copies (:447-468). Transient while a datacenter's
    /// processes have not joined yet.
    NotEnoughWorkers,
}

impl ConfigureError {
    /// FoundationDB's name for it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidConfiguration => "INVALID_CONFIGURATION",
            Self::RegionsChanged => "REGIONS_CHANGED",
            Self::MultipleActiveRegions => "MULTIPLE_ACTIVE_REGIONS",
            Self::RegionNotFullyReplicated => "REGION_NOT_FULLY_REPLICATED",
            Self::StorageInUnknownDcid => "STORAGE_IN_UNKNOWN_DCID",
            Self::NotEnoughWorkers => "NOT_ENOUGH_WORKERS",
        }
    }
}

impl fmt::Display for ConfigureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The region part of `DatabaseConfiguration::isValid` (FDB@7.3.43:fdbclient/DatabaseConfiguration.cpp:223-254):
/// usable_regions 1 or 2, at most two regions, two regions for usable_regions 2, the best
/// region at priority >= 0 (FoundationDB sorts regions by priority, :180), unique datacenter
/// ids, and satellites wherever a satellite mode is set. (A region without one primary is a parse
/// error that FoundationDB answers by dropping the regions, :168-184; infera-render never writes
/// one, and the model refuses it.)
fn is_valid(configuration: &DatabaseConfiguration) -> bool {
    let usable = configuration.usable_regions;
    let regions = &configuration.regions;
    if !(1..=2).contains(&usable) || regions.len() > 2 || (usable == 2 && regions.len() != 2) {
        return false;
    }
    let best = regions
        .iter()
        .filter_map(|region| region.primary().map(|dc| dc.priority))
        .max();
    if !regions.is_empty() && best.is_none_or(|priority| priority < 0) {
        return false;
    }
    let mut primaries = BTreeSet::new();
    for region in regions {
        let Some(primary) = region.primary() else {
            return false;
        };
        if primary.id.is_empty() || !primaries.insert(primary.id.as_str()) {
            return false;
        }
        let satellites: Vec<&Datacenter> = region
            .datacenters
            .iter()
            .filter(|dc| dc.is_satellite())
            .collect();
        let mut seen = BTreeSet::from([primary.id.as_str()]);
        if satellites
            .iter()
            .any(|dc| dc.id.is_empty() || !seen.insert(dc.id.as_str()))
        {
            return false;
        }
        if region.satellite_redundancy_mode.is_some() && satellites.is_empty() {
            return false;
        }
    }
    true
}

/// FoundationDB's checks on changing the database's configuration into `new` (`changeConfig`,
/// FDB@7.3.43:fdbclient/include/fdbclient/GenericManagementAPI.actor.h:327-468), the region part,
/// in its order: validity; with a `usable_regions` change, every old region kept at its
/// priority and at most one region at priority >= 0; with `usable_regions` 2, every region at
/// priority >= 0 fully replicated; every storage server in a listed primary; enough zones in every
/// region's primary and in the satellites of every region at priority >= 0 (zones = joined
/// storage and log processes, one pod per node).
///
/// # Errors
/// The `ConfigurationResult` FoundationDB returns.
pub fn check_configure(
    database: &Database,
    new: &DatabaseConfiguration,
) -> Result<(), ConfigureError> {
    let old = &database.configuration;
    let replicated = &database.replicated;
    if !is_valid(new) {
        return Err(ConfigureError::InvalidConfiguration);
    }
    let new_priorities = new.region_priorities();
    if old.usable_regions != new.usable_regions {
        for (id, priority) in old.region_priorities() {
            if new_priorities.get(&id) != Some(&priority) {
                return Err(ConfigureError::RegionsChanged);
            }
        }
        if new_priorities.values().filter(|&&p| p >= 0).count() > 1 {
            return Err(ConfigureError::MultipleActiveRegions);
        }
    }
    if new.usable_regions == 2
        && new_priorities
            .iter()
            .any(|(id, &priority)| priority >= 0 && !replicated.contains(id))
    {
        return Err(ConfigureError::RegionNotFullyReplicated);
    }
    if !new.regions.is_empty() && replicated.iter().any(|id| !new_priorities.contains_key(id)) {
        return Err(ConfigureError::StorageInUnknownDcid);
    }
    let zones = |id: &str| database.joined.get(id).copied().unwrap_or(0);
    for region in &new.regions {
        let Some(primary) = region.primary() else {
            continue;
        };
        let satellites: u32 = region
            .datacenters
            .iter()
            .filter(|dc| dc.is_satellite())
            .map(|dc| zones(&dc.id))
            .sum();
        if zones(&primary.id) < new.replicas()
            || (primary.priority >= 0
                && satellites < DatabaseConfiguration::satellite_replicas(region))
        {
            return Err(ConfigureError::NotEnoughWorkers);
        }
    }
    Ok(())
}

/// One `FoundationDBCluster` as its operator acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operator {
    /// The object's `metadata.name`.
    pub name: String,
    /// Its `spec.databaseConfiguration`, normalized.
    pub desired: DatabaseConfiguration,
    /// `spec.automationOptions.configureDatabase` (default true).
    pub configures: bool,
    /// Its `spec.dataCenter`.
    pub datacenter: String,
    /// Its storage and log processes: the zones it brings (one pod per node).
    pub zones: u32,
}

impl Operator {
    /// The operator's view of a rendered object; `None` for any kind but `FoundationDBCluster`.
    ///
    /// # Errors
    /// A message when a `FoundationDBCluster` lacks a readable database configuration.
    pub fn from_object(object: &Value) -> Option<Result<Self, String>> {
        if object.get("kind").and_then(Value::as_str) != Some("FoundationDBCluster") {
            return None;
        }
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let spec = object.get("spec").cloned().unwrap_or(Value::Null);
        let configures = spec
            .pointer("/automationOptions/configureDatabase")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let datacenter = spec
            .get("dataCenter")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let count = |class: &str| {
            spec.pointer(&format!("/processCounts/{class}"))
                .and_then(Value::as_i64)
                .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
        };
        let zones = count("storage").saturating_add(count("log"));
        Some(
            spec.get("databaseConfiguration")
                .ok_or_else(|| format!("{name}: no spec.databaseConfiguration"))
                .and_then(DatabaseConfiguration::from_json)
                .map(|desired| Self {
                    name,
                    desired: desired.normalized(),
                    configures,
                    datacenter,
                    zones,
                }),
        )
    }
}

/// Something that happened to the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An operator configured the database.
    Configured {
        /// The object whose operator did it.
        by: String,
        /// The configuration it set.
        to: DatabaseConfiguration,
    },
    /// FoundationDB refused a step for now; data movement then made it acceptable.
    Waited {
        /// The object whose operator tried.
        by: String,
        /// What FoundationDB answered meanwhile.
        error: ConfigureError,
    },
}

/// How a settling ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No operator has anything left to change. `disagreeing` names the objects (which do not
    /// configure the database) whose desired configuration still differs from the database's.
    Converged {
        /// Objects whose desired configuration is not the database's.
        disagreeing: Vec<String>,
    },
    /// Operators wait for datacenters that have not joined yet (`NOT_ENOUGH_WORKERS`): fine
    /// while regions are still to be applied, never-ending after the last one.
    Waiting {
        /// The objects whose operators wait.
        operators: Vec<String>,
        /// The datacenters they wait for.
        datacenters: Vec<String>,
    },
    /// An operator's next step is refused and can never be accepted: it retries forever.
    Stuck {
        /// The object whose operator is stuck.
        operator: String,
        /// The configuration it keeps submitting.
        attempted: DatabaseConfiguration,
        /// What FoundationDB answers.
        error: ConfigureError,
    },
    /// Operators undo each other's changes: the database goes through a configuration it had
    /// already had.
    Fight {
        /// The objects whose operators took part.
        operators: Vec<String>,
    },
}

/// The events of one settling and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled {
    /// What happened, in order.
    pub events: Vec<Event>,
    /// How it ended.
    pub outcome: Outcome,
}

/// The database as the operators see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    /// The current configuration (normalized).
    pub configuration: DatabaseConfiguration,
    /// The primary datacenters that hold a full replica.
    pub replicated: BTreeSet<String>,
    /// Datacenters whose processes have joined, with their zones.
    pub joined: BTreeMap<String, u32>,
}

/// More configure steps than any staged change of two regions needs.
const MAX_EVENTS: usize = 64;

impl Database {
    /// A database running `configuration`, fully replicated where it keeps replicas (every
    /// region with `usable_regions` 2, else the active one).
    #[must_use]
    pub fn new(configuration: &DatabaseConfiguration) -> Self {
        let configuration = configuration.normalized();
        let replicated = replicas(&configuration, &BTreeSet::new());
        Self {
            configuration,
            replicated,
            joined: BTreeMap::new(),
        }
    }

    /// The datacenters of `operators` join with their processes.
    pub fn join(&mut self, operators: &[Operator]) {
        for operator in operators {
            self.joined
                .insert(operator.datacenter.clone(), operator.zones);
        }
    }

    /// Lets every operator reconcile, round robin, until none has a change left, one of them
    /// is stuck, or they fight.
    #[must_use]
    pub fn settle(&mut self, operators: &[Operator]) -> Settled {
        let mut events = Vec::new();
        let mut seen = BTreeSet::from([format!("{:?}", self.configuration)]);
        let mut movers = BTreeSet::new();
        loop {
            let mut progressed = false;
            let mut waiting = BTreeSet::new();
            for operator in operators.iter().filter(|operator| operator.configures) {
                if operator.desired == self.configuration {
                    continue;
                }
                let next = next_change(&self.configuration, &operator.desired);
                match check_configure(self, &next) {
                    Ok(()) => {
                        self.configuration = next.normalized();
                        self.replicated = replicas(&self.configuration, &self.replicated);
                        movers.insert(operator.name.clone());
                        events.push(Event::Configured {
                            by: operator.name.clone(),
                            to: self.configuration.clone(),
                        });
                        if !seen.insert(format!("{:?}", self.configuration))
                            || events.len() > MAX_EVENTS
                        {
                            return Settled {
                                events,
                                outcome: Outcome::Fight {
                                    operators: movers.into_iter().collect(),
                                },
                            };
                        }
                    }
                    Err(ConfigureError::NotEnoughWorkers)
                        if next
                            .regions
                            .iter()
                            .flat_map(|region| &region.datacenters)
                            .any(|dc| !self.joined.contains_key(&dc.id)) =>
                    {
                        // Its processes come with a later apply; the operator retries.
                        waiting.insert(operator.name.clone());
                        continue;
                    }
                    Err(error @ ConfigureError::RegionNotFullyReplicated) => {
                        // Data movement copies the active region to every region of a
                        // usable_regions=2 configuration (configuration.rst:711, :735-737).
                        self.replicated
                            .extend(self.configuration.region_priorities().into_keys());
                        events.push(Event::Waited {
                            by: operator.name.clone(),
                            error,
                        });
                        if events.len() > MAX_EVENTS {
                            return Settled {
                                events,
                                outcome: Outcome::Fight {
                                    operators: movers.into_iter().collect(),
                                },
                            };
                        }
                    }
                    Err(error) => {
                        return Settled {
                            events,
                            outcome: Outcome::Stuck {
                                operator: operator.name.clone(),
                                attempted: next,
                                error,
                            },
                        };
                    }
                }
                progressed = true;
            }
            if !progressed && !waiting.is_empty() {
                let datacenters = self
                    .configuration
                    .regions
                    .iter()
                    .chain(
                        operators
                            .iter()
                            .flat_map(|operator| &operator.desired.regions),
                    )
                    .flat_map(|region| &region.datacenters)
                    .filter(|dc| !self.joined.contains_key(&dc.id))
                    .map(|dc| dc.id.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                return Settled {
                    events,
                    outcome: Outcome::Waiting {
                        operators: waiting.into_iter().collect(),
                        datacenters,
                    },
                };
            }
            if !progressed {
                let disagreeing = operators
                    .iter()
                    .filter(|operator| operator.desired != self.configuration)
                    .map(|operator| operator.name.clone())
                    .collect();
                return Settled {
                    events,
                    outcome: Outcome::Converged { disagreeing },
                };
            }
        }
    }
}

/// Which primaries hold a full replica under `configuration`: lowering usable_regions to 1 drops
/// the replicas outside the active region at once (configuration.rst:711); raising it starts
/// copying, which [`Database::settle`] completes when FoundationDB asks to wait for it.
fn replicas(configuration: &DatabaseConfiguration, before: &BTreeSet<String>) -> BTreeSet<String> {
    let active = configuration.active_datacenter().map(str::to_owned);
    if configuration.usable_regions < 2 {
        return active.into_iter().collect();
    }
    let mut replicated: BTreeSet<String> = before
        .iter()
        .filter(|id| configuration.region_priorities().contains_key(*id))
        .cloned()
        .collect();
    if before.is_empty() {
        replicated.extend(configuration.region_priorities().into_keys());
    }
    replicated.extend(active);
    replicated
}

/// One apply of a walk: a region's objects replace that region's earlier ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Apply {
    /// What is applied (a region id, for messages).
    pub label: String,
    /// The `FoundationDBCluster` objects it applies.
    pub operators: Vec<Operator>,
}

/// The result of a walk: every settling, and the active datacenter after each change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    /// `(apply label, settling)` in order.
    pub settlings: Vec<(String, Settled)>,
    /// The database at the end.
    pub database: Database,
    /// The active datacenter at the start and after every configuration change.
    pub active: Vec<String>,
}

impl Walk {
    /// Whether the active datacenter ever returns to one it had left (a flip-back).
    #[must_use]
    pub fn flips_back(&self) -> bool {
        let mut left = BTreeSet::new();
        let mut previous: Option<&String> = None;
        for active in &self.active {
            if previous.is_some_and(|p| p != active) {
                if left.contains(active) {
                    return true;
                }
                if let Some(p) = previous {
                    left.insert(p.clone());
                }
            }
            previous = Some(active);
        }
        false
    }

    /// Every problem of the walk, for assertions: settlings that did not converge, objects
    /// left disagreeing at the end, flip-backs, and an end state other than `expected`.
    #[must_use]
    pub fn problems(&self, expected: &DatabaseConfiguration) -> Vec<String> {
        let mut problems = Vec::new();
        let last = self.settlings.len().saturating_sub(1);
        for (position, (label, settled)) in self.settlings.iter().enumerate() {
            match &settled.outcome {
                Outcome::Converged { disagreeing } if position == last && !disagreeing.is_empty() => {
                    problems.push(format!(
                        "after applying {label}: {} still want another configuration",
                        disagreeing.join(", ")
                    ));
                }
                Outcome::Converged { .. } => {}
                Outcome::Waiting {
                    operators,
                    datacenters,
                } if position == last => problems.push(format!(
                    "after applying {label}: the operators of {} wait forever for datacenters that never join: {} (NOT_ENOUGH_WORKERS)",
                    operators.join(", "),
                    datacenters.join(", ")
                )),
                Outcome::Waiting { .. } => {}
                Outcome::Stuck {
                    operator,
                    attempted,
                    error,
                } => problems.push(format!(
                    "after applying {label}: the operator of {operator} is stuck: FoundationDB answers {error} to `{}`",
                    attempted.summary()
                )),
                Outcome::Fight { operators } => problems.push(format!(
                    "after applying {label}: the operators of {} undo each other's changes",
                    operators.join(", ")
                )),
            }
        }
        if self.flips_back() {
            problems.push(format!(
                "the active datacenter flips back: {}",
                self.active.join(" -> ")
            ));
        }
        if self.database.configuration != expected.normalized() {
            problems.push(format!(
                "the database ends at `{}`, not at `{}`",
                self.database.configuration.summary(),
                expected.normalized().summary()
            ));
        }
        problems
    }
}

/// Runs the operators of `before` on a database at `initial`, then applies each of `applies` in
/// order (an apply replaces the objects of the same name, and adds the others) and lets the
/// operators settle after each.
#[must_use]
pub fn walk(initial: &DatabaseConfiguration, before: &[Operator], applies: &[Apply]) -> Walk {
    let mut database = Database::new(initial);
    database.join(before);
    let mut operators: BTreeMap<String, Operator> = before
        .iter()
        .map(|operator| (operator.name.clone(), operator.clone()))
        .collect();
    let mut settlings = Vec::new();
    let mut active = vec![
        database
            .configuration
            .active_datacenter()
            .unwrap_or_default()
            .to_owned(),
    ];
    for apply in applies {
        database.join(&apply.operators);
        for operator in &apply.operators {
            operators.insert(operator.name.clone(), operator.clone());
        }
        let current: Vec<Operator> = operators.values().cloned().collect();
        let settled = database.settle(&current);
        for event in &settled.events {
            if let Event::Configured { to, .. } = event {
                active.push(to.active_datacenter().unwrap_or_default().to_owned());
            }
        }
        settlings.push((apply.label.clone(), settled));
    }
    Walk {
        settlings,
        database,
        active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: &Value) -> DatabaseConfiguration {
        DatabaseConfiguration::from_json(value)
            .unwrap_or_default()
            .normalized()
    }

    fn phase_one() -> DatabaseConfiguration {
        config(
            &json!({"usable_regions": 1, "regions": [{"datacenters": [{"id": "a", "priority": 1}]}]}),
        )
    }

    fn two_regions(usable: u32, dr_priority: i32) -> DatabaseConfiguration {
        config(&json!({"usable_regions": usable, "regions": [
            {"datacenters": [{"id": "a", "priority": 1}, {"id": "a-sat", "priority": 1, "satellite": 1}], "satellite_logs": 3, "satellite_redundancy_mode": "one_satellite_double"},
            {"datacenters": [{"id": "b", "priority": dr_priority}, {"id": "b-sat", "priority": 1, "satellite": 1}], "satellite_logs": 3, "satellite_redundancy_mode": "one_satellite_double"},
        ]}))
    }

    fn operator(name: &str, desired: DatabaseConfiguration) -> Operator {
        Operator {
            name: name.to_owned(),
            desired,
            configures: true,
            datacenter: name.to_owned(),
            zones: 6,
        }
    }

    /// A database at `configuration` whose datacenters have all joined, each with `zones`.
    fn database(configuration: &DatabaseConfiguration, zones: u32) -> Database {
        let mut database = Database::new(configuration);
        for id in ["a", "a-sat", "b", "b-sat"] {
            database.joined.insert(id.to_owned(), zones);
        }
        database
    }

    fn steps(from: &DatabaseConfiguration, to: &DatabaseConfiguration) -> Vec<String> {
        let mut database = database(from, 6);
        let settled = database.settle(&[operator("x", to.clone())]);
        let mut out: Vec<String> = settled
            .events
            .iter()
            .map(|event| match event {
                Event::Configured { to, .. } => to.summary(),
                Event::Waited { error, .. } => format!("wait {error}"),
            })
            .collect();
        if let Outcome::Stuck { error, .. } = settled.outcome {
            out.push(format!("stuck {error}"));
        }
        out
    }

    #[test]
    fn enabling_fearless_dr_adds_the_remote_at_minus_one_then_usable_regions_then_priority() {
        // The operator's own unit test "enabling fearless DR" walks the same path
        // (OP@v2.33.0:api/v1beta2/foundationdbcluster_types_test.go:1366-1538).
        assert_eq!(
            steps(&phase_one(), &two_regions(2, 0)),
            vec![
                "usable_regions=1 regions=[a:1 a-sat:1 sat] [b:-1 b-sat:1 sat]",
                "usable_regions=2 regions=[a:1 a-sat:1 sat] [b:-1 b-sat:1 sat]",
                "wait REGION_NOT_FULLY_REPLICATED",
                "usable_regions=2 regions=[a:1 a-sat:1 sat] [b:0 b-sat:1 sat]",
            ]
        );
    }

    #[test]
    fn usable_regions_one_with_the_remote_at_zero_never_converges() {
        // Review D2: the operator raises usable_regions to 2 to change the priority, then can
        // never lower it again while both regions are >= 0.
        assert_eq!(
            steps(&phase_one(), &two_regions(1, 0)),
            vec![
                "usable_regions=1 regions=[a:1 a-sat:1 sat] [b:-1 b-sat:1 sat]",
                "usable_regions=2 regions=[a:1 a-sat:1 sat] [b:-1 b-sat:1 sat]",
                "wait REGION_NOT_FULLY_REPLICATED",
                "usable_regions=2 regions=[a:1 a-sat:1 sat] [b:0 b-sat:1 sat]",
                "stuck MULTIPLE_ACTIVE_REGIONS",
            ]
        );
    }

    #[test]
    fn usable_regions_one_with_the_remote_at_minus_one_converges_and_can_grow_later() {
        assert_eq!(
            steps(&phase_one(), &two_regions(1, -1)),
            vec!["usable_regions=1 regions=[a:1 a-sat:1 sat] [b:-1 b-sat:1 sat]"]
        );
        assert_eq!(
            steps(&two_regions(1, -1), &two_regions(2, 0)),
            vec![
                "usable_regions=2 regions=[a:1 a-sat:1 sat] [b:-1 b-sat:1 sat]",
                "wait REGION_NOT_FULLY_REPLICATED",
                "usable_regions=2 regions=[a:1 a-sat:1 sat] [b:0 b-sat:1 sat]",
            ]
        );
    }

    #[test]
    fn a_planned_switch_swaps_the_priorities_in_one_step() {
        let switched = config(&json!({"usable_regions": 2, "regions": [
            {"datacenters": [{"id": "a", "priority": 0}, {"id": "a-sat", "priority": 1, "satellite": 1}], "satellite_logs": 3, "satellite_redundancy_mode": "one_satellite_double"},
            {"datacenters": [{"id": "b", "priority": 1}, {"id": "b-sat", "priority": 1, "satellite": 1}], "satellite_logs": 3, "satellite_redundancy_mode": "one_satellite_double"},
        ]}));
        assert_eq!(
            steps(&two_regions(2, 0), &switched),
            vec!["usable_regions=2 regions=[b:1 b-sat:1 sat] [a:0 a-sat:1 sat]"]
        );
    }

    #[test]
    fn two_operators_that_want_different_active_regions_fight() {
        let switched = config(&json!({"usable_regions": 2, "regions": [
            {"datacenters": [{"id": "a", "priority": 0}]}, {"datacenters": [{"id": "b", "priority": 1}]}]}));
        let original = config(&json!({"usable_regions": 2, "regions": [
            {"datacenters": [{"id": "a", "priority": 1}]}, {"datacenters": [{"id": "b", "priority": 0}]}]}));
        let walk = walk(
            &original,
            &[
                operator("a", original.clone()),
                operator("b", original.clone()),
            ],
            &[Apply {
                label: "b".to_owned(),
                operators: vec![operator("b", switched.clone())],
            }],
        );
        assert!(matches!(walk.settlings[0].1.outcome, Outcome::Fight { .. }));
        assert!(walk.flips_back());
        assert!(!walk.problems(&switched).is_empty());
        // The same switch with only one configuring object converges without a flip-back.
        let mut quiet = operator("a", original.clone());
        quiet.configures = false;
        let walk = super::walk(
            &original,
            &[quiet, operator("b", original.clone())],
            &[Apply {
                label: "b".to_owned(),
                operators: vec![operator("b", switched.clone())],
            }],
        );
        assert_eq!(
            walk.problems(&switched),
            vec!["after applying b: a still want another configuration".to_owned()]
        );
        assert!(!walk.flips_back());
    }

    #[test]
    fn configure_checks_match_fdbcli_rules() {
        // Changing usable_regions and a priority at once.
        assert_eq!(
            check_configure(&database(&two_regions(1, -1), 6), &two_regions(2, 0)),
            Err(ConfigureError::RegionsChanged)
        );
        // No region at priority >= 0.
        let none = config(
            &json!({"usable_regions": 1, "regions": [{"datacenters": [{"id": "a", "priority": -1}]}]}),
        );
        assert_eq!(
            check_configure(&database(&phase_one(), 6), &none),
            Err(ConfigureError::InvalidConfiguration)
        );
        // usable_regions=2 with one region.
        let mut one = phase_one();
        one.usable_regions = 2;
        assert_eq!(
            check_configure(&database(&phase_one(), 6), &one),
            Err(ConfigureError::InvalidConfiguration)
        );
        // A remote region whose datacenter has not joined, or has one zone for double.
        let step = two_regions(1, -1);
        assert_eq!(
            check_configure(&Database::new(&phase_one()), &step),
            Err(ConfigureError::NotEnoughWorkers)
        );
        assert_eq!(
            check_configure(&database(&phase_one(), 1), &step),
            Err(ConfigureError::NotEnoughWorkers)
        );
        assert_eq!(check_configure(&database(&phase_one(), 2), &step), Ok(()));
        // Replacing a region that still holds a replica.
        let replaced = config(&json!({"usable_regions": 2, "regions": [
            {"datacenters": [{"id": "a", "priority": 1}]}, {"datacenters": [{"id": "c", "priority": -1}]}]}));
        assert_eq!(
            check_configure(&database(&two_regions(2, 0), 6), &replaced),
            Err(ConfigureError::StorageInUnknownDcid)
        );
    }

    #[test]
    fn a_region_that_joins_later_is_waited_for_and_one_that_never_does_is_a_problem() {
        let mut before = operator("a", phase_one());
        before.datacenter = "a".to_owned();
        let mut phase_two = operator("a", two_regions(2, 0));
        phase_two.datacenter = "a".to_owned();
        let mut remote = operator("b", two_regions(2, 0));
        remote.configures = false;
        let satellites = |name: &str| {
            let mut sat = operator(name, two_regions(2, 0));
            sat.configures = false;
            sat
        };
        let applies = [
            Apply {
                label: "a".to_owned(),
                operators: vec![phase_two, satellites("a-sat")],
            },
            Apply {
                label: "b".to_owned(),
                operators: vec![remote, satellites("b-sat")],
            },
        ];
        let walk = walk(&phase_one(), std::slice::from_ref(&before), &applies);
        assert!(matches!(
            walk.settlings[0].1.outcome,
            Outcome::Waiting { .. }
        ));
        assert_eq!(walk.problems(&two_regions(2, 0)), Vec::<String>::new());
        // Without the second region's apply the operator waits forever.
        let walk = super::walk(&phase_one(), &[before], &applies[..1]);
        assert_eq!(
            walk.problems(&two_regions(2, 0)).len(),
            2,
            "{:?}",
            walk.problems(&two_regions(2, 0))
        );
    }
}
