//! FoundationDB settings: redundancy, storage engine, Fearless DR and each region's FDB role.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// FoundationDB redundancy mode (`databaseConfiguration.redundancy_mode`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RedundancyMode {
    /// One copy of the data. Survives no failure.
    Single,
    /// Two copies in each region's primary datacenter (the module's default).
    #[default]
    Double,
    /// Three copies in each region's primary datacenter.
    Triple,
    /// Three data halls; not covered by the operator's multi-region docs or tests.
    ThreeDataHall,
}

impl RedundancyMode {
    /// The name FoundationDB and the operator CRD use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::Double => "double",
            Self::Triple => "triple",
            Self::ThreeDataHall => "three_data_hall",
        }
    }
}

/// FoundationDB storage engine (`databaseConfiguration.storage_engine`), as the operator CRD
/// enumerates it.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
pub enum StorageEngine {
    /// `ssd`
    #[serde(rename = "ssd")]
    Ssd,
    /// `ssd-1`
    #[serde(rename = "ssd-1")]
    Ssd1,
    /// `ssd-2` (the module's and the CRD's default)
    #[default]
    #[serde(rename = "ssd-2")]
    Ssd2,
    /// `memory`
    #[serde(rename = "memory")]
    Memory,
    /// `memory-1`
    #[serde(rename = "memory-1")]
    Memory1,
    /// `memory-2`
    #[serde(rename = "memory-2")]
    Memory2,
    /// `ssd-redwood-1-experimental`
    #[serde(rename = "ssd-redwood-1-experimental")]
    SsdRedwood1Experimental,
    /// `ssd-redwood-1`
    #[serde(rename = "ssd-redwood-1")]
    SsdRedwood1,
    /// `ssd-rocksdb-experimental`
    #[serde(rename = "ssd-rocksdb-experimental")]
    SsdRocksdbExperimental,
    /// `ssd-rocksdb-v1`
    #[serde(rename = "ssd-rocksdb-v1")]
    SsdRocksdbV1,
    /// `ssd-sharded-rocksdb`
    #[serde(rename = "ssd-sharded-rocksdb")]
    SsdShardedRocksdb,
    /// `memory-radixtree-beta`
    #[serde(rename = "memory-radixtree-beta")]
    MemoryRadixtreeBeta,
}

impl StorageEngine {
    /// The name FoundationDB and the operator CRD use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ssd => "ssd",
            Self::Ssd1 => "ssd-1",
            Self::Ssd2 => "ssd-2",
            Self::Memory => "memory",
            Self::Memory1 => "memory-1",
            Self::Memory2 => "memory-2",
            Self::SsdRedwood1Experimental => "ssd-redwood-1-experimental",
            Self::SsdRedwood1 => "ssd-redwood-1",
            Self::SsdRocksdbExperimental => "ssd-rocksdb-experimental",
            Self::SsdRocksdbV1 => "ssd-rocksdb-v1",
            Self::SsdShardedRocksdb => "ssd-sharded-rocksdb",
            Self::MemoryRadixtreeBeta => "memory-radixtree-beta",
        }
    }
}

/// FoundationDB satellite redundancy mode: how many copies of each commit go to the active
/// region's satellite datacenters, and to how many of them (FDB's five modes).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SatelliteRedundancyMode {
    /// 1 copy in 1 satellite datacenter.
    OneSatelliteSingle,
    /// 2 copies in 1 satellite datacenter (needs 2 zones there).
    OneSatelliteDouble,
    /// 3 copies in 1 satellite datacenter (needs 3 zones there).
    OneSatelliteTriple,
    /// 2 copies in each of 2 satellite datacenters; commits wait for both.
    TwoSatelliteSafe,
    /// 2 copies in each of 2 satellite datacenters; commits wait for the faster one.
    TwoSatelliteFast,
}

impl SatelliteRedundancyMode {
    /// The name FoundationDB uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneSatelliteSingle => "one_satellite_single",
            Self::OneSatelliteDouble => "one_satellite_double",
            Self::OneSatelliteTriple => "one_satellite_triple",
            Self::TwoSatelliteSafe => "two_satellite_safe",
            Self::TwoSatelliteFast => "two_satellite_fast",
        }
    }

    /// How many satellite datacenters the mode writes to (1 or 2).
    #[must_use]
    pub fn satellite_datacenters(self) -> usize {
        match self {
            Self::OneSatelliteSingle | Self::OneSatelliteDouble | Self::OneSatelliteTriple => 1,
            Self::TwoSatelliteSafe | Self::TwoSatelliteFast => 2,
        }
    }

    /// Copies of each commit kept in the satellites (FDB's satellite tLog replication factor).
    #[must_use]
    pub fn copies(self) -> u32 {
        match self {
            Self::OneSatelliteSingle => 1,
            Self::OneSatelliteDouble => 2,
            Self::OneSatelliteTriple => 3,
            Self::TwoSatelliteSafe | Self::TwoSatelliteFast => 4,
        }
    }

    /// Copies each satellite datacenter must hold (and so the zones it needs).
    #[must_use]
    pub fn copies_per_datacenter(self) -> u32 {
        match self {
            Self::OneSatelliteSingle => 1,
            Self::OneSatelliteDouble | Self::TwoSatelliteSafe | Self::TwoSatelliteFast => 2,
            Self::OneSatelliteTriple => 3,
        }
    }
}

/// Fearless DR: FoundationDB's multi-region replication (regions, satellites, `usable_regions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FearlessDr {
    /// Whether a second region runs FoundationDB as a DR region. When false, only the primary
    /// region runs FoundationDB and every other region is a client region.
    #[serde(default = "default_true")]
    pub enabled: bool,

    /// Regions that hold a full replica (1 or 2). The module's default, 1, keeps no replica in the
    /// DR region and recruits no satellite logs; use 2 for Fearless DR.
    #[serde(default = "default_usable_regions")]
    pub usable_regions: u32,

    /// Desired number of transaction logs in each FDB region's satellite datacenters.
    /// Default 4 (the module's). Has an effect only with satellites and `usable_regions: 2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = 4))]
    pub satellite_logs: Option<u32>,

    /// FoundationDB satellite redundancy mode. When set, each FDB region takes its satellite
    /// datacenters from the zones after its first (1 for `one_satellite_*`, 2 for
    /// `two_satellite_*`) and from regions with `fdb_role: satellite`. Unset: no satellites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satellite_redundancy_mode: Option<SatelliteRedundancyMode>,

    /// Accepted for compatibility with the module, which never used it. FoundationDB runs one
    /// version in every datacenter, so it must equal `fdb_version` if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satellite_version: Option<String>,
}

impl FearlessDr {
    /// The module's default for `satellite_logs`.
    pub const DEFAULT_SATELLITE_LOGS: u32 = 4;

    /// `satellite_logs`, or the module's default of 4.
    #[must_use]
    pub fn satellite_logs_or_default(&self) -> u32 {
        self.satellite_logs.unwrap_or(Self::DEFAULT_SATELLITE_LOGS)
    }
}

impl Default for FearlessDr {
    fn default() -> Self {
        Self {
            enabled: true,
            usable_regions: default_usable_regions(),
            satellite_logs: None,
            satellite_redundancy_mode: None,
            satellite_version: None,
        }
    }
}

/// What a region contributes to the FoundationDB cluster.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FdbRole {
    /// `region` for the two preferred regions by `priority` (one when `fearless_dr` is off),
    /// `client` for the others.
    #[default]
    Auto,
    /// Hosts an FDB region: its primary datacenter in the first zone, and its satellite
    /// datacenters in the next zones when a satellite redundancy mode is set.
    Region,
    /// Hosts one log-only satellite datacenter used by both FDB regions (the operator's
    /// three-site "triplet" layout). Every commit then waits for a write to this region.
    Satellite,
    /// Runs no FoundationDB processes; its engine and control use the FDB regions' cluster.
    Client,
}

impl FdbRole {
    /// The spelling used in the spec.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Region => "region",
            Self::Satellite => "satellite",
            Self::Client => "client",
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_usable_regions() -> u32 {
    1
}
