//! infera-render: one typed multi-region spec in, deterministic Kubernetes YAML per region out.
//!
//! The library is pure: no file I/O, no process exit, no clap. The pipeline is
//! text → [`parse_document`] (structure, with positions) → [`plan()`] (every FoundationDB and
//! Kubernetes rule, all problems at once) → rendered objects.

mod diagnostics;
mod schema_check;
mod source;

pub use diagnostics::{Diagnostic, Diagnostics, FieldPath, PathSegment, Severity, SourcePosition};
pub use infera_spec as spec;
pub use source::{Document, Form, MAX_SPEC_BYTES, SourceMap, parse_document};

mod naming;
mod plan;
mod validate;

pub use naming::{CLUSTER_FILE_KEY, fdb_cluster_file_config_map, fdb_cluster_name};
pub use plan::{
    Bootstrap, DatacenterKind, DatacenterPlan, DatacenterProcessCounts, DatacenterRef,
    FdbRegionPlan, Plan, PlanOptions, RegionPlan, RegionRole, plan,
};
pub use validate::version::Version;

mod explain;
mod render;

pub use explain::explain;
pub use render::{
    CRD_PLURALS, CrdSet, Error, OutputFile, RegionBundle, RenderOptions, Rendered, RenderedObject,
    crd_url, render, render_plan, render_with,
};
