//! The ways infera-render plugs into other tools: reading manifest streams, the KRM function
//! protocol, the Helm post-renderer, and the seed read from a cluster's JSON. All pure: text in, text out; the CLI does the I/O.

pub mod krm;
pub mod manifests;
pub mod post_render;
pub mod seed;
