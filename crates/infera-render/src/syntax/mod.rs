//! Pure parsers of the spec's string values: Kubernetes names, quantities, image references,
//! versions and FoundationDB connection strings. Each says what is wrong in words; they know
//! nothing of field paths or diagnostics, so every layer above may use them.

pub mod connection_string;
pub mod image;
pub mod names;
pub mod quantity;
pub mod version;
