//! The validated plan: what a spec means once every rule holds.
//!
//! [`plan()`] checks a [`MultiRegionSpec`] against every rule (Kubernetes syntax, FoundationDB's
//! region rules, the operator's limits) and, if there is no error, resolves it into a [`Plan`]:
//! which region hosts which FoundationDB datacenter, FoundationDB priorities, satellites,
//! process counts and the bootstrap phase. Rendering reads only the plan, so it cannot fail.
//!
//! # The region → datacenter mapping
//!
//! 1. Regions are ranked by `priority`, lower value first (the Terraform module's meaning).
//!    The `is_primary` region must rank first.
//! 2. Each region gets an FDB role (`fdb_role`, default `auto`): `auto` means `region` for the
//!    primary region and the next-ranked one (only the primary when `fearless_dr.enabled` is
//!    false) and `client` for every other region. FoundationDB supports at most two regions.
//! 3. A `region` hosts one FDB region: its **primary datacenter** is in `zones[0]` (named after
//!    the zone), or unpinned and named after the region id when it lists no zones. With a
//!    `fearless_dr.satellite_redundancy_mode`, its **satellite datacenters** are the next zones:
//!    one for `one_satellite_*`, two for `two_satellite_*`. Further zones run no FDB process.
//! 4. A `satellite` region hosts one log-only datacenter (in its first zone) that is a satellite
//!    of both FDB regions, after their own zone satellites. When an FDB region has no zone
//!    satellite, the other FDB region's primary is added as its last-resort satellite: the
//!    operator's three-site "triplet" layout (`HaThreeZoneDoubleSat`). Durable against the loss
//!    of a whole region, at the price of a cross-region round trip on every commit.
//! 5. A `client` region runs no FDB process; its engine and control connect to the FDB cluster.
//! 6. FoundationDB priorities (higher wins): the active (primary) region's primary datacenter
//!    gets 1; the other region's gets 0 with `usable_regions` 2 (so FoundationDB can make it
//!    active by itself) and -1 with `usable_regions` 1 (it holds no replica). Satellites are
//!    numbered in preference order, highest first (`n`, ..., 1).
//!
//! The plan also holds what the operator and FoundationDB then do: which object changes the
//! database configuration ([`Plan::configuring_datacenter`]) and what survives the loss of each
//! datacenter and region ([`Plan::failures`], from [`crate::model`]).

use crate::diagnostics::Diagnostics;
pub mod failures;
mod fdb_rules;
mod topology;

use crate::syntax::version::Version;
use crate::validate;
use failures::Failures;
use infera_spec::{MultiRegionSpec, Region};

/// Options that change what a spec means without being part of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Overrides `seed_connection_string` (the CLI's `--seed-connection-string`).
    pub seed_connection_string: Option<String>,
    /// Whether an inline `tailscale.auth_key` may be written into a Secret
    /// (`--allow-plaintext-secrets`).
    pub allow_plaintext_secrets: bool,
}

/// A spec resolved into its FoundationDB topology, with the warnings found on the way.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The spec the plan was made from.
    pub spec: MultiRegionSpec,
    /// FoundationDB version.
    pub fdb_version: Version,
    /// Operator version.
    pub operator_version: Version,
    /// Every region, in spec order.
    pub regions: Vec<RegionPlan>,
    /// The FoundationDB regions (one or two), the active one first.
    pub fdb_regions: Vec<FdbRegionPlan>,
    /// Every FoundationDB datacenter: one `FoundationDBCluster` object each.
    pub datacenters: Vec<DatacenterPlan>,
    /// How many coordinators the operator will recruit.
    pub coordinators: u32,
    /// Which bootstrap phase the output is for.
    pub bootstrap: Bootstrap,
    /// Index into [`Plan::datacenters`] of the datacenter whose `FoundationDBCluster` changes
    /// the database configuration; every other object has
    /// `automationOptions.configureDatabase: false`. Each region's operator reconciles its own
    /// objects and, holding the lock, configures the whole database toward its own object's
    /// configuration (OP@v2.33.0:controllers/update_database_configuration.go:69-159); while
    /// regions are applied one after another, two objects with different configurations would
    /// undo each other's changes (fault_domains.md:109). It is the primary datacenter of the
    /// first FDB region in the spec's `regions` list, which a planned switch (editing
    /// `is_primary` and `priority` in place) does not change; in phase 1 the bootstrap
    /// datacenter, the only object.
    pub configuring_datacenter: usize,
    /// What survives the loss of each datacenter and region.
    pub failures: Failures,
    /// Warnings: the spec renders, but not everything does what the user may expect.
    pub warnings: Diagnostics,
}

impl Plan {
    /// The spec's region at `index`.
    #[must_use]
    pub fn region_spec(&self, index: usize) -> &Region {
        &self.spec.regions[index]
    }

    /// The regions in rank order (preferred first).
    #[must_use]
    pub fn regions_by_rank(&self) -> Vec<&RegionPlan> {
        let mut regions: Vec<&RegionPlan> = self.regions.iter().collect();
        regions.sort_by_key(|region| region.rank);
        regions
    }

    /// The ids of the spec's regions, comma-separated, in spec order (for messages).
    #[must_use]
    pub fn region_ids(&self) -> String {
        let ids: Vec<&str> = self
            .regions
            .iter()
            .map(|region| region.id.as_str())
            .collect();
        ids.join(", ")
    }

    /// The position in [`Plan::regions`] of the region `id`.
    ///
    /// # Errors
    /// A message naming the regions the spec has, when it has no region `id`.
    pub fn region_index(&self, id: &str) -> Result<usize, String> {
        self.regions
            .iter()
            .position(|region| region.id == id)
            .ok_or_else(|| {
                format!(
                    "the spec has no region `{id}` (regions: {})",
                    self.region_ids()
                )
            })
    }

    /// Region indices in the order `APPLY.md` applies them: regions that host datacenters
    /// first, each group by rank.
    #[must_use]
    pub fn apply_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = self
            .regions_by_rank()
            .iter()
            .map(|region| region.index)
            .collect();
        order.sort_by_key(|&index| {
            (
                self.regions[index].datacenters.is_empty(),
                self.regions[index].rank,
            )
        });
        order
    }

    /// The region's ` --kubeconfig <path> --context <context>` (each when set): what every
    /// `kubectl` command for it, and kubectl plugins after their own name, take.
    #[must_use]
    pub fn kubectl_flags(&self, region: usize) -> String {
        let target = &self.region_spec(region).kubernetes;
        let mut flags = String::new();
        if let Some(path) = &target.config_path {
            flags.push_str(&format!(" --kubeconfig {path}"));
        }
        if let Some(context) = &target.config_context {
            flags.push_str(&format!(" --context {context}"));
        }
        flags
    }

    /// The satellite redundancy mode, when any FDB region has satellites.
    #[must_use]
    pub fn satellites_in_use(&self) -> bool {
        self.fdb_regions
            .iter()
            .any(|region| !region.satellites.is_empty())
    }
}

/// One region of the spec, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionPlan {
    /// Index in `spec.regions`.
    pub index: usize,
    /// Region id.
    pub id: String,
    /// Position by `priority`, 0 = preferred.
    pub rank: usize,
    /// What the region contributes to FoundationDB.
    pub role: RegionRole,
    /// Indices (into [`Plan::datacenters`]) of the datacenters this region hosts.
    pub datacenters: Vec<usize>,
    /// Zones of this region that host no FoundationDB datacenter (engine and control still spread
    /// over every zone).
    pub zones_without_fdb: Vec<String>,
}

/// What a region contributes to FoundationDB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionRole {
    /// Hosts the FDB region at this index of [`Plan::fdb_regions`].
    FdbRegion(usize),
    /// Hosts a log-only satellite datacenter of both FDB regions.
    Satellite,
    /// Runs no FoundationDB process.
    Client,
}

/// One FoundationDB region: a primary datacenter and its satellites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdbRegionPlan {
    /// Index of the hosting region in `spec.regions`.
    pub region: usize,
    /// Whether this is the active region (the `is_primary` region).
    pub active: bool,
    /// The region's primary datacenter and its FDB priority.
    pub primary: DatacenterRef,
    /// Satellite datacenters in preference order, with their FDB priorities.
    pub satellites: Vec<DatacenterRef>,
}

/// A datacenter as listed in an FDB region, with its FoundationDB priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatacenterRef {
    /// Index into [`Plan::datacenters`].
    pub datacenter: usize,
    /// FoundationDB priority (higher wins).
    pub fdb_priority: i32,
}

/// Whether a datacenter holds a replica or only transaction logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatacenterKind {
    /// An FDB region's primary datacenter: a full replica.
    Primary,
    /// A satellite: transaction logs only.
    Satellite,
}

/// One FoundationDB datacenter: one `FoundationDBCluster` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatacenterPlan {
    /// Datacenter id (`dataCenter`, FoundationDB's `dcid`): a zone name or a region id.
    pub id: String,
    /// Index of the hosting region in `spec.regions`.
    pub region: usize,
    /// Primary or satellite.
    pub kind: DatacenterKind,
    /// The zone the datacenter's pods are pinned to, if any.
    pub zone: Option<String>,
    /// `metadata.name` of its `FoundationDBCluster`.
    pub resource_name: String,
    /// `processGroupIDPrefix` (unique per datacenter).
    pub process_group_id_prefix: String,
    /// Process counts; `-1` means none of that class.
    pub process_counts: DatacenterProcessCounts,
}

/// Process counts of a datacenter, as the operator's `processCounts` (`-1` = none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatacenterProcessCounts {
    /// Storage processes (`-1` in satellites).
    pub storage: i32,
    /// Log processes.
    pub log: i32,
    /// Stateless processes (`-1` in satellites).
    pub stateless: i32,
}

/// Which objects the output holds (fdb-multi-region.md §2.4: a multi-datacenter cluster is
/// bootstrapped in two phases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// One datacenter: nothing to seed.
    SingleDatacenter,
    /// No seed yet: only this datacenter is rendered, with a single-datacenter region config and
    /// `usable_regions: 1`. Its `status.connectionString` is the seed for phase 2.
    PhaseOne {
        /// Index into [`Plan::datacenters`] of the bootstrap datacenter.
        datacenter: usize,
    },
    /// Every datacenter, each joining through the seed connection string.
    Seeded {
        /// The connection string of the phase-1 datacenter.
        connection_string: String,
    },
}

/// Checks every rule and resolves the spec into a [`Plan`].
///
/// ```
/// use infera_render::{plan, PlanOptions, spec::{MultiRegionSpec, Region}};
///
/// let mut us = Region::new("us-west-1", true, 1);
/// us.kubernetes.config_context = Some("us".into());
/// let mut eu = Region::new("eu-central-1", false, 2);
/// eu.kubernetes.config_context = Some("eu".into());
/// let spec = MultiRegionSpec { regions: vec![us, eu], ..Default::default() };
///
/// let plan = plan(&spec, &PlanOptions::default()).expect("valid");
/// assert_eq!(plan.fdb_regions.len(), 2);
/// assert_eq!(plan.fdb_regions[0].primary.fdb_priority, 1); // us-west-1 is active
/// assert!(plan.warnings.iter().any(|w| w.path.to_string() == "fearless_dr.usable_regions"));
/// ```
///
/// # Errors
/// Every error found (and the warnings), when the spec breaks at least one rule.
pub fn plan(spec: &MultiRegionSpec, options: &PlanOptions) -> Result<Plan, Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let inputs = validate::Inputs {
        seed_connection_string: options.seed_connection_string.as_deref(),
        allow_plaintext_secrets: options.allow_plaintext_secrets,
    };
    let versions = validate::fields::check(spec, &inputs, &mut diagnostics);
    let topology = topology::resolve(spec, options, &mut diagnostics);
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    let (Some((fdb_version, operator_version)), Some(topology)) = (versions, topology) else {
        // Each `None` comes with an error, so this is unreachable; stay panic-free anyway.
        diagnostics.error(
            crate::FieldPath::root(),
            "internal error: incomplete plan without an error",
        );
        return Err(diagnostics);
    };
    let mut plan = Plan {
        spec: spec.clone(),
        fdb_version,
        operator_version,
        regions: topology.regions,
        fdb_regions: topology.fdb_regions,
        datacenters: topology.datacenters,
        coordinators: topology.coordinators,
        bootstrap: topology.bootstrap,
        configuring_datacenter: topology.configuring_datacenter,
        failures: Failures::default(),
        warnings: diagnostics,
    };
    plan.failures = failures::failures(&plan);
    for warning in failures::warnings(&plan, &plan.failures) {
        plan.warnings.push(warning);
    }
    Ok(plan)
}
