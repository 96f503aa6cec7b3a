//! What FoundationDB and its Kubernetes operator do with the objects infera-render renders,
//! written in our own words after their source at the versions we pin (operator v1.45.0 and
//! v2.33.0, whose logic is the same in every part ported here; FoundationDB 7.3.43). Each port
//! cites the upstream file and lines it follows (`OP@<tag>:path:line`, `FDB@7.3.43:path:line`).
//!
//! - [`config`]: the region part of a `databaseConfiguration`, as the operator compares it.
//! - [`staging`]: the operator's staged configuration changes (`GetNextConfigurationChange`)
//!   with FoundationDB's checks on every `configure`, and a simulation of several operators
//!   (one per `FoundationDBCluster`) applying them.
//! - [`coordinators`]: how the operator chooses coordinators, and how many a set of
//!   datacenters can hold whatever order the datacenters joined in.
//! - [`failure`]: what survives the loss of each datacenter and each region: the failure
//!   scenarios `plan`, `outputs.json` and `APPLY.md` show.
//!
//! The model assumes one FoundationDB pod per Kubernetes node, so that every process is its own
//! fault domain (`zoneid` = node, the default fault domain infera-render renders).

pub mod config;
pub mod coordinators;
pub mod failure;
pub mod staging;
