//! The rules a spec must follow, each reported with its field path.
//!
//! - [`fields`]: each input on its own (syntax, versions, images, quantities, CIDRs, labels).
//! - [`metadata`]: the envelope's metadata.
//!
//! The rules on the resolved topology (FoundationDB's region rules) are in
//! `crate::plan::fdb_rules`.

pub mod fields;
pub mod metadata;

/// What the rules see beyond the spec: the command line's overrides.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    /// `--seed-connection-string`, which replaces the spec's.
    pub seed_connection_string: Option<&'a str>,
    /// `--allow-plaintext-secrets`: an inline OAuth client secret may be written.
    pub allow_plaintext_secrets: bool,
}

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
