//! infera-render: one typed multi-region spec in, deterministic Kubernetes YAML per region out.
//!
//! The library is pure: no file I/O, no process exit, no clap, and no Kubernetes API version
//! forced on you (k8s-openapi is used without a version feature; select yours as usual). The
//! pipeline is text → [`parse_document`] (structure, with positions) → [`plan()`] (every
//! FoundationDB and Kubernetes rule, all problems at once) → [`render_plan`] (objects per region,
//! `outputs.json`, `APPLY.md`, the tailnet policy). [`render`] does plan and render in one step;
//! [`krm`] and [`post_render`] are the kustomize and Helm integrations.
//!
//! ```
//! let text = br#"
//! regions:
//!   - {id: us-east-1, is_primary: true, priority: 1}
//! tailscale: {enabled: false}
//! "#;
//! let document = infera_render::parse_document(text).map_err(|d| d.to_string())?;
//! let plan = infera_render::plan(&document.spec, &Default::default()).map_err(|d| d.to_string())?;
//! assert_eq!(plan.datacenters[0].id, "us-east-1");
//!
//! let rendered = infera_render::render_plan(plan, &Default::default());
//! let bundle = rendered.region("us-east-1").expect("one bundle per region");
//! let kinds: Vec<&str> = bundle.objects.iter().map(|o| o.kind.as_str()).collect();
//! assert_eq!(kinds.first(), Some(&"Namespace"));
//! assert!(kinds.contains(&"FoundationDBCluster") && kinds.contains(&"Deployment"));
//! assert!(rendered.files().iter().any(|f| f.path == "us-east-1/kustomization.yaml"));
//! # Ok::<(), String>(())
//! ```

mod diagnostics;
mod source;
mod syntax;
mod upstream;

pub use diagnostics::{Diagnostic, Diagnostics, FieldPath, PathSegment, Severity, SourcePosition};
pub use infera_spec as spec;
pub use source::{Document, Form, MAX_SPEC_BYTES, SourceMap, parse_document};

mod names;
mod plan;
mod validate;

pub use names::{App, CLUSTER_FILE_KEY, fdb_cluster_file_config_map, fdb_cluster_name};
pub use plan::failures::{FailureAnalysis, Failures, ThirdSite};
pub use plan::{
    AppSettings, Bootstrap, ClusterFile, ControlPlan, DatacenterId, DatacenterKind, DatacenterPlan,
    DatacenterRef, EnginePlan, FdbPods, FdbRegionId, FdbRegionPlan, FdbSettings, MonitoringPlan,
    Plan, PlanOptions, ProcessCounts, RegionId, RegionPlan, RegionRole, RegionSelectError,
    TailscalePlan, plan,
};
pub use syntax::version::Version;

pub mod diff;
mod explain;
mod integrations;
pub mod model;
mod pipeline;
mod render;

pub use explain::explain;
pub use integrations::krm::{KrmOutcome, PATH_ANNOTATION, REGION_ANNOTATION, krm};
pub use integrations::manifests::{MAX_MANIFEST_BYTES, parse_manifests, to_stream};
pub use integrations::post_render::{
    PostRenderError, PostRenderOptions, PostRendered, WorkloadSelectors, post_render,
    post_render_plan,
};
pub use integrations::seed::{ClusterSeed, MAX_CLUSTER_JSON_BYTES, seed_from_cluster};
pub use render::outputs;
pub use render::{
    CRD_PLURALS, CrdSet, Error, OutputFile, RegionBundle, RenderOptions, Rendered, RenderedObject,
    crd_url, render, render_plan, render_with, required_secrets,
};
