//! The validated plan: what a spec means once every rule holds.
//!
//! [`plan()`] checks a [`MultiRegionSpec`] against every rule (Kubernetes syntax, FoundationDB's
//! region rules, the operator's limits) and, if there is no error, resolves it into a [`Plan`]:
//! which region hosts which FoundationDB datacenter, FoundationDB priorities, satellites,
//! process counts and the bootstrap phase; and every other input, resolved: per region its
//! role, namespace, pod network, cluster-file source and apps ([`RegionPlan`]), and the settings
//! of FoundationDB, engine, control, Tailscale and monitoring ([`model`]). Rendering reads only
//! the plan, never the spec, so it cannot fail and never parses.
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

pub mod failures;
mod fdb_rules;
pub mod ids;
pub mod model;
mod topology;

pub use ids::{DatacenterId, FdbRegionId, RegionId};
pub use model::{
    AppSettings, Bootstrap, ClusterFile, ControlPlan, DatacenterKind, DatacenterPlan,
    DatacenterRef, EnginePlan, FdbPods, FdbRegionPlan, FdbSettings, MonitoringPlan, ProcessCounts,
    RegionPlan, RegionRole, TailscalePlan,
};

use crate::diagnostics::Diagnostics;
use crate::names::{App, client_cluster_file_config_map, fdb_cluster_file_config_map};
use crate::syntax::image::parse_image;
use crate::syntax::version::Version;
use crate::upstream::CONTAINERBOOT_1_78;
use crate::validate;
use failures::Failures;
use infera_spec::MultiRegionSpec;
use std::collections::BTreeMap;

/// Options that change what a spec means without being part of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Overrides `seed_connection_string` (the CLI's `--seed-connection-string`).
    pub seed_connection_string: Option<String>,
    /// Whether an inline `tailscale.auth_key` may be written into a Secret
    /// (`--allow-plaintext-secrets`).
    pub allow_plaintext_secrets: bool,
}

/// A spec resolved: its FoundationDB topology and every other input, with the warnings found
/// on the way.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `cluster_name`: the prefix of every FoundationDB object.
    pub cluster_name: String,
    /// FoundationDB version.
    pub fdb_version: Version,
    /// Operator version.
    pub operator_version: Version,
    /// The database-wide FoundationDB settings.
    pub fdb: FdbSettings,
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
    /// The datacenter whose `FoundationDBCluster` changes the database configuration; every
    /// other object has `automationOptions.configureDatabase: false`. Each region's operator
    /// reconciles its own objects and, holding the lock, configures the whole database toward
    /// its own object's configuration (OP@v2.33.0:controllers/update_database_configuration.go:69-159);
    /// while regions are applied one after another, two objects with different configurations
    /// would undo each other's changes (OP@v2.33.0:docs/manual/fault_domains.md:109). It is the
    /// primary datacenter of the first FDB region in the spec's `regions` list, which a planned
    /// switch (editing `is_primary` and `priority` in place) does not change; in phase 1 the
    /// bootstrap datacenter, the only object.
    pub configuring_datacenter: DatacenterId,
    /// The engine, when enabled.
    pub engine: Option<EnginePlan>,
    /// Control, when enabled.
    pub control: Option<ControlPlan>,
    /// Tailscale, when enabled.
    pub tailscale: Option<TailscalePlan>,
    /// Monitoring.
    pub monitoring: MonitoringPlan,
    /// Whether NetworkPolicies are rendered (`network_policies.enabled`).
    pub network_policies: bool,
    /// The spec's `labels`, added to every object.
    pub labels: BTreeMap<String, String>,
    /// What survives the loss of each datacenter and region.
    pub failures: Failures,
    /// Warnings: the spec renders, but not everything does what the user may expect.
    pub warnings: Diagnostics,
}

/// Why a region could not be chosen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegionSelectError {
    /// No region has this id.
    #[error("the spec has no region `{id}` (regions: {known})")]
    Unknown {
        /// The id asked for.
        id: String,
        /// The spec's region ids, comma-separated.
        known: String,
    },
    /// None was asked for, and the spec has several.
    #[error("the spec has {count} regions; name the one to use ({known})")]
    Ambiguous {
        /// How many regions the spec has.
        count: usize,
        /// The spec's region ids, comma-separated.
        known: String,
    },
}

impl Plan {
    /// The regions in rank order (preferred first).
    #[must_use]
    pub fn regions_by_rank(&self) -> Vec<&RegionPlan> {
        let mut regions: Vec<&RegionPlan> = self.regions.iter().collect();
        regions.sort_by_key(|region| region.rank);
        regions
    }

    /// The ids of the spec's regions, comma-separated, in spec order (for messages).
    #[must_use]
    pub fn known_regions(&self) -> String {
        let ids: Vec<&str> = self
            .regions
            .iter()
            .map(|region| region.id.as_str())
            .collect();
        ids.join(", ")
    }

    /// The region `id`.
    ///
    /// # Errors
    /// [`RegionSelectError::Unknown`] when the spec has no such region.
    pub fn region_named(&self, id: &str) -> Result<&RegionPlan, RegionSelectError> {
        self.regions
            .iter()
            .find(|region| region.id == id)
            .ok_or_else(|| RegionSelectError::Unknown {
                id: id.to_owned(),
                known: self.known_regions(),
            })
    }

    /// The region `id`, or the only region when `id` is `None`: how every integration picks
    /// the region it renders for.
    ///
    /// # Errors
    /// [`RegionSelectError::Unknown`] for an unknown id, [`RegionSelectError::Ambiguous`] when no
    /// id is given and the spec has several regions.
    pub fn select_region(&self, id: Option<&str>) -> Result<&RegionPlan, RegionSelectError> {
        match (id, self.regions.as_slice()) {
            (Some(id), _) => self.region_named(id),
            (None, [only]) => Ok(only),
            (None, regions) => Err(RegionSelectError::Ambiguous {
                count: regions.len(),
                known: self.known_regions(),
            }),
        }
    }

    /// The regions in the order `APPLY.md` applies them: regions that host datacenters first,
    /// each group by rank.
    #[must_use]
    pub fn apply_order(&self) -> Vec<RegionId> {
        let mut order: Vec<&RegionPlan> = self.regions_by_rank();
        order.sort_by_key(|region| (region.datacenters.is_empty(), region.rank));
        order.into_iter().map(|region| region.index).collect()
    }

    /// Whether any FDB region has satellites.
    #[must_use]
    pub fn satellites_in_use(&self) -> bool {
        self.fdb_regions
            .iter()
            .any(|region| !region.satellites.is_empty())
    }

    /// The active FDB region.
    #[must_use]
    pub fn active(&self) -> &FdbRegionPlan {
        &self.fdb_regions[0]
    }

    /// The DR FDB region (the one that takes over when the active region is lost), if
    /// FoundationDB runs in two regions.
    #[must_use]
    pub fn dr(&self) -> Option<&FdbRegionPlan> {
        self.fdb_regions.get(1)
    }

    /// The region that hosts datacenter `datacenter`.
    #[must_use]
    pub fn region_of(&self, datacenter: DatacenterId) -> &RegionPlan {
        &self.regions[self.datacenters[datacenter].region]
    }

    /// The datacenters this output holds objects of, in plan order.
    pub fn rendered_datacenters(&self) -> impl Iterator<Item = &DatacenterPlan> {
        self.datacenters
            .iter()
            .filter(|datacenter| datacenter.rendered)
    }

    /// Whether app `app` is enabled (rendered wherever there is a cluster file).
    #[must_use]
    pub fn app_enabled(&self, app: App) -> bool {
        match app {
            App::Engine => self.engine.is_some(),
            App::Control => self.control.is_some(),
        }
    }

    /// The replicas, image and resources of app `app`, when enabled.
    #[must_use]
    pub fn app_settings(&self, app: App) -> Option<&AppSettings> {
        match app {
            App::Engine => self.engine.as_ref().map(|engine| &engine.app),
            App::Control => self.control.as_ref().map(|control| &control.app),
        }
    }
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
/// assert_eq!(plan.active().primary.fdb_priority, 1); // us-west-1 is active
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
    let versions = validate::check(spec, &inputs, &mut diagnostics);
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
        cluster_name: spec.cluster_name.clone(),
        fdb_version,
        operator_version,
        fdb: FdbSettings {
            redundancy_mode: spec.redundancy_mode,
            storage_engine: spec.storage_engine,
            volume_size: spec.volume_size.as_str().to_owned(),
            fearless_dr: spec.fearless_dr.enabled,
            usable_regions: spec.fearless_dr.usable_regions,
            satellite_logs: spec.fearless_dr.satellite_logs_or_default(),
            satellite_redundancy_mode: spec.fearless_dr.satellite_redundancy_mode,
        },
        regions: topology.regions,
        fdb_regions: topology.fdb_regions,
        datacenters: topology.datacenters,
        coordinators: topology.coordinators,
        bootstrap: topology.bootstrap,
        configuring_datacenter: topology.configuring_datacenter,
        engine: spec.engine.enabled.then(|| EnginePlan {
            app: AppSettings {
                replicas: replicas(spec.engine.replicas),
                image: spec.engine.image.clone(),
                image_pull_policy: spec.engine.image_pull_policy,
                resources: spec.engine.resources.clone(),
            },
            identity_secret: spec.engine.identity_secret.clone(),
        }),
        control: spec.control.enabled.then(|| ControlPlan {
            app: AppSettings {
                replicas: replicas(spec.control.replicas),
                image: spec.control.image.clone(),
                image_pull_policy: spec.control.image_pull_policy,
                resources: spec.control.resources.clone(),
            },
            master_key_secret: spec.control.master_key_secret.clone(),
            webauthn: spec.control.webauthn.clone(),
        }),
        tailscale: spec.tailscale.enabled.then(|| tailscale_plan(spec)),
        monitoring: MonitoringPlan {
            scrape: spec.monitoring.enabled,
            monitors: spec.monitoring.enabled && spec.monitoring.create_service_monitors,
        },
        network_policies: spec.network_policies.enabled,
        labels: spec.labels.clone(),
        failures: Failures::default(),
        warnings: diagnostics,
    };
    resolve_workloads(&mut plan);
    plan.failures = failures::failures(&plan);
    for warning in failures::warnings(&plan, &plan.failures) {
        plan.warnings.push(warning);
    }
    Ok(plan)
}

/// A validated replica count (at most `validate::limits::MAX_REPLICAS`) as Kubernetes takes it.
fn replicas(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

fn tailscale_plan(spec: &MultiRegionSpec) -> TailscalePlan {
    let tailscale = &spec.tailscale;
    let version = parse_image(&tailscale.image)
        .ok()
        .and_then(|image| Version::parse(image.tag?.strip_prefix('v')?));
    TailscalePlan {
        image: tailscale.image.clone(),
        version,
        containerboot_1_78: version.is_some_and(|version| version >= CONTAINERBOOT_1_78),
        credentials: tailscale.effective_credentials(),
        shared_tag: tailscale.effective_shared_tag().to_owned(),
        secret_name: tailscale.secret_name.clone(),
        secret_key: tailscale.secret_key.clone(),
        router_replicas: replicas(tailscale.router_replicas),
        inline_secret: tailscale.inline_key().cloned(),
    }
}

/// Which datacenters this output holds, and per region where engine and control read the
/// cluster file from and so whether they run there: the operator's ConfigMap where the region
/// runs a rendered datacenter; infera-render's own, holding the connection string, in a region
/// without datacenters once the connection string is known; otherwise none (the apps follow
/// once the database exists).
fn resolve_workloads(plan: &mut Plan) {
    let phase_one = match plan.bootstrap {
        Bootstrap::PhaseOne { datacenter } => Some(datacenter),
        Bootstrap::SingleDatacenter | Bootstrap::Seeded { .. } => None,
    };
    for datacenter in &mut plan.datacenters {
        datacenter.rendered = phase_one.is_none_or(|boot| boot == datacenter.index);
    }
    for index in 0..plan.regions.len() {
        let region = &plan.regions[index];
        let rendered = region
            .datacenters
            .iter()
            .find(|&&dc| plan.datacenters[dc].rendered);
        let cluster_file = match (rendered, &plan.bootstrap) {
            (Some(&dc), _) => Some(ClusterFile::Operator {
                config_map: fdb_cluster_file_config_map(&plan.datacenters[dc].resource_name),
            }),
            (None, Bootstrap::Seeded { connection_string }) if region.datacenters.is_empty() => {
                Some(ClusterFile::Ours {
                    config_map: client_cluster_file_config_map(&plan.cluster_name),
                    connection_string: connection_string.clone(),
                })
            }
            (None, _) => None,
        };
        let apps = if cluster_file.is_some() {
            App::ALL
                .into_iter()
                .filter(|&app| plan.app_enabled(app))
                .collect()
        } else {
            Vec::new()
        };
        let region = &mut plan.regions[index];
        region.cluster_file = cluster_file;
        region.apps = apps;
    }
}
