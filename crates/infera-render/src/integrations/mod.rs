//! The ways infera-render plugs into other tools: reading manifest streams, the KRM function
//! protocol, and the Helm post-renderer. All pure: text in, text out; the CLI does the I/O.

pub mod krm;
pub mod manifests;
pub mod post_render;
