//! The region part of a FoundationDB database configuration (`usable_regions` and `regions`), as
//! the operator reads it from a `FoundationDBCluster`'s `spec.databaseConfiguration` and from
//! FoundationDB's `status json`, and compares the two.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `usable_regions` and `regions` of a database configuration (and the redundancy mode, which
/// sets how many zones FoundationDB requires per region).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseConfiguration {
    /// `redundancy_mode` (`double` when absent, as the operator normalizes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redundancy_mode: Option<String>,
    /// Regions that hold a full replica (1 or 2).
    #[serde(default = "one")]
    pub usable_regions: u32,
    /// The regions: each a primary datacenter and its satellites.
    #[serde(default)]
    pub regions: Vec<Region>,
}

fn one() -> u32 {
    1
}

/// One FoundationDB region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// The primary datacenter and the satellites.
    #[serde(default)]
    pub datacenters: Vec<Datacenter>,
    /// Desired transaction logs in the satellites.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satellite_logs: Option<u32>,
    /// The satellite redundancy mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satellite_redundancy_mode: Option<String>,
}

/// One datacenter of a region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Datacenter {
    /// The datacenter id (`dcid`).
    #[serde(default)]
    pub id: String,
    /// Its priority: among primaries, the highest becomes active; negative means "never
    /// recover the transaction subsystem here" (FDB@7.3.43:documentation/sphinx/source/configuration.rst:647).
    #[serde(default)]
    pub priority: i32,
    /// `1` for a satellite, absent (0) for the primary.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub satellite: u8,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(value: &u8) -> bool {
    *value == 0
}

impl Datacenter {
    /// Whether this is a satellite (log-only) datacenter.
    #[must_use]
    pub fn is_satellite(&self) -> bool {
        self.satellite != 0
    }
}

impl Region {
    /// The region's primary datacenter, if it lists one (the operator's `getMainDataCenter`,
    /// OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:790-797).
    #[must_use]
    pub fn primary(&self) -> Option<&Datacenter> {
        self.datacenters.iter().find(|dc| !dc.is_satellite())
    }
}

impl DatabaseConfiguration {
    /// Reads the region part of a `databaseConfiguration` (JSON, as rendered or as in
    /// `status json`'s `cluster.configuration`).
    ///
    /// # Errors
    /// A message when the value does not have the shape of a database configuration.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        Self::deserialize(value).map_err(|error| format!("not a database configuration: {error}"))
    }

    /// The configuration in the operator's canonical order, as both sides of every comparison
    /// are: datacenters of a region primary first, then by priority (highest first), then id;
    /// regions by their primary's priority (highest first), then its id
    /// (`NormalizeConfiguration`, OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:192-243;
    /// the same at OP@v1.45.0 :170-211).
    #[must_use]
    pub fn normalized(&self) -> Self {
        let mut result = self.clone();
        if result.redundancy_mode.is_none() {
            result.redundancy_mode = Some("double".to_owned());
        }
        for region in &mut result.regions {
            // Go compares plain values with omitempty: 0 and "" are the same as absent
            // (OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:92-126).
            region.satellite_logs = region.satellite_logs.filter(|&logs| logs != 0);
            region.satellite_redundancy_mode = region
                .satellite_redundancy_mode
                .take()
                .filter(|mode| !mode.is_empty());
            region.datacenters.sort_by(|a, b| {
                a.satellite
                    .cmp(&b.satellite)
                    .then(b.priority.cmp(&a.priority))
                    .then(a.id.cmp(&b.id))
            });
        }
        let key = |region: &Region| {
            region
                .primary()
                .map_or((String::new(), -1), |dc| (dc.id.clone(), dc.priority))
        };
        result.regions.sort_by(|a, b| {
            let (a_id, a_priority) = key(a);
            let (b_id, b_priority) = key(b);
            b_priority.cmp(&a_priority).then(a_id.cmp(&b_id))
        });
        if result.usable_regions < 1 {
            result.usable_regions = 1;
        }
        result
    }

    /// The priority of each region's primary datacenter (`getRegionPriorities`,
    /// OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:642-654).
    #[must_use]
    pub fn region_priorities(&self) -> BTreeMap<String, i32> {
        self.regions
            .iter()
            .flat_map(|region| region.datacenters.iter())
            .filter(|dc| !dc.is_satellite())
            .map(|dc| (dc.id.clone(), dc.priority))
            .collect()
    }

    /// The active datacenter: the primary with the highest priority, the first of equals
    /// (`GetPrimaryDCID`, OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:593-611).
    #[must_use]
    pub fn active_datacenter(&self) -> Option<&str> {
        let mut best: Option<&Datacenter> = None;
        for dc in self
            .regions
            .iter()
            .flat_map(|region| region.datacenters.iter())
            .filter(|dc| !dc.is_satellite())
        {
            if best.is_none_or(|current| dc.priority > current.priority) {
                best = Some(dc);
            }
        }
        best.map(|dc| dc.id.as_str())
    }

    /// The zones a region's primary needs: the larger of FoundationDB's `storageTeamSize` and
    /// `tLogReplicationFactor` for the redundancy mode (`storage_replicas` and `log_replicas`,
    /// FDB@7.3.43:fdbclient/ManagementAPI.actor.cpp:299-352): single 1, double 2, triple 3,
    /// three_data_hall 4.
    #[must_use]
    pub fn replicas(&self) -> u32 {
        match self.redundancy_mode.as_deref() {
            Some("single") => 1,
            Some("triple") => 3,
            Some("three_data_hall") => 4,
            _ => 2,
        }
    }

    /// The zones a region's satellites need together (`satelliteTLogReplicationFactor`,
    /// FDB@7.3.43:fdbclient/DatabaseConfiguration.cpp:120-167); 0 without a satellite mode.
    #[must_use]
    pub fn satellite_replicas(region: &Region) -> u32 {
        match region.satellite_redundancy_mode.as_deref() {
            Some("one_satellite_single") => 1,
            Some("one_satellite_double") => 2,
            Some("one_satellite_triple") => 3,
            Some("two_satellite_safe" | "two_satellite_fast") => 4,
            _ => 0,
        }
    }

    /// The configuration as FoundationDB's `configure` would be given it, for messages:
    /// `usable_regions=2 regions=[us-west-1a:1 (us-west-1b:1 sat)] [eu-central-1a:0]`.
    #[must_use]
    pub fn summary(&self) -> String {
        let regions: Vec<String> = self
            .regions
            .iter()
            .map(|region| {
                let dcs: Vec<String> = region
                    .datacenters
                    .iter()
                    .map(|dc| {
                        if dc.is_satellite() {
                            format!("{}:{} sat", dc.id, dc.priority)
                        } else {
                            format!("{}:{}", dc.id, dc.priority)
                        }
                    })
                    .collect();
                format!("[{}]", dcs.join(" "))
            })
            .collect();
        format!(
            "usable_regions={} regions={}",
            self.usable_regions,
            regions.join(" ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> DatabaseConfiguration {
        DatabaseConfiguration::from_json(&value).unwrap_or_default()
    }

    #[test]
    fn normalization_orders_regions_and_datacenters_like_the_operator() {
        let raw = config(json!({
            "usable_regions": 2,
            "regions": [
                {"datacenters": [{"id": "b-sat", "priority": 1, "satellite": 1}, {"id": "b", "priority": 0}]},
                {"datacenters": [{"id": "a2", "priority": 1, "satellite": 1}, {"id": "a", "priority": 1}, {"id": "a3", "priority": 2, "satellite": 1}]},
            ]
        }));
        let normalized = raw.normalized();
        let ids: Vec<Vec<&str>> = normalized
            .regions
            .iter()
            .map(|r| r.datacenters.iter().map(|dc| dc.id.as_str()).collect())
            .collect();
        assert_eq!(ids, vec![vec!["a", "a3", "a2"], vec!["b", "b-sat"]]);
        assert_eq!(normalized.active_datacenter(), Some("a"));
        assert_eq!(
            normalized.region_priorities(),
            BTreeMap::from([("a".to_owned(), 1), ("b".to_owned(), 0)])
        );
    }

    #[test]
    fn reads_the_rendered_shape_and_ignores_other_keys() {
        let parsed = config(json!({
            "redundancy_mode": "double", "storage_engine": "ssd-2", "usable_regions": 1,
            "regions": [{"datacenters": [{"id": "x", "priority": 1}]}]
        }));
        assert_eq!(parsed.summary(), "usable_regions=1 regions=[x:1]");
        assert!(DatabaseConfiguration::from_json(&json!({"regions": 3})).is_err());
    }
}
