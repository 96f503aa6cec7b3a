//! The rules a spec must follow, each reported with its field path.
//!
//! - [`fields`]: each input on its own (syntax, versions, images, quantities, CIDRs, labels).
//! - [`topology`]: the region → datacenter mapping and FoundationDB's region rules
//!   (`docs/fdb-multi-region.md` §6).

pub mod fields;
pub mod metadata;
pub mod topology;

/// Upper bounds that keep every spec renderable in well under a second and every derived name
/// within its limit; they are far above any real deployment.
pub mod limits {
    /// Regions in one spec.
    pub const MAX_REGIONS: usize = 16;
    /// Zones per region (cloud regions have at most 6 availability zones).
    pub const MAX_ZONES: usize = 8;
    /// Pods per Deployment.
    pub const MAX_REPLICAS: u32 = 1000;
    /// FoundationDB processes of one class in one datacenter.
    pub const MAX_PROCESS_COUNT: u32 = 1000;
}
