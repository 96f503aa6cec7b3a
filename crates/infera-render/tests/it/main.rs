//! The library's integration tests, in one binary: what the consumers of each rendered object
//! do with it (`fdb_behaviour`, `inferadb_behaviour`, `tailscale_behaviour`), the objects'
//! shape and schemas (`rendered_objects`, `workloads`), the topology rules (`topology`),
//! generated specs (`properties`) and the crate's layers (`architecture`). `support` holds
//! what they share.

mod architecture;
mod change_safety;
mod fdb_behaviour;
mod inferadb_behaviour;
mod network_policies;
mod properties;
mod rendered_objects;
mod support;
mod tailscale_behaviour;
mod topology;
mod workloads;
