//! Rendering: a validated [`Plan`] in, one bundle of Kubernetes objects per region out, plus the
//! module's outputs (`outputs.json`) and the ordered apply steps (`APPLY.md`).
//!
//! Rendering cannot fail: every rule was checked when the plan was made. Each kind of output has
//! its own module; this one only assembles them.

pub(crate) mod apply_guide;
mod crds;
pub(crate) mod fdb_cluster;
pub(crate) mod inferadb;
pub(crate) mod labels;
pub(crate) mod meta;
pub(crate) mod monitoring;
mod namespace;
pub(crate) mod network_policy;
mod object;
mod operator;
pub mod outputs;
pub(crate) mod pod;
mod ports;
mod rbac;
pub(crate) mod scanners;
mod tailnet_policy;
pub(crate) mod tailscale;
mod yaml;

pub use apply_guide::required_secrets;
pub use crds::{CRD_PLURALS, CrdSet, crd_url};
pub use object::RenderedObject;
pub(crate) use yaml::{to_yaml as yaml_document, value_to_yaml as yaml_text};

use crate::diagnostics::Diagnostics;
use crate::names::annotations::PRUNE_PROTECTION;
use crate::plan::{Bootstrap, Plan, PlanOptions, RegionPlan, plan};
use infera_spec::MultiRegionSpec;
use serde::Serialize;

/// How to render a plan: what the output holds beyond the plan itself. (What changes the
/// plan, such as the seed connection string, is in [`PlanOptions`].)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RenderOptions {
    /// Local CRD files to include in every bundle that runs the operator (`--crds-dir`), instead
    /// of installing them from the operator's release URL.
    pub crds: CrdSet,
    /// How the spec file is named in the re-render commands of `APPLY.md`.
    pub spec_path: Option<String>,
}

/// What every render function of one region reads: the plan, and the region being rendered.
#[derive(Clone, Copy)]
pub(crate) struct RegionCtx<'a> {
    /// The whole plan.
    pub(crate) plan: &'a Plan,
    /// The region being rendered.
    pub(crate) region: &'a RegionPlan,
}

impl<'a> RegionCtx<'a> {
    /// The context of `region`.
    pub(crate) fn new(plan: &'a Plan, region: &'a RegionPlan) -> Self {
        Self { plan, region }
    }
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec breaks at least one rule; every problem (and warning) is listed.
    #[error("the spec is invalid ({})", .0.summary())]
    Invalid(Diagnostics),
}

/// The objects of one region: what `DIR/<region-id>/` holds.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionBundle {
    /// Region id (the folder name).
    pub id: String,
    /// Kubeconfig context of the region's cluster.
    pub context: Option<String>,
    /// Namespace of the region's objects.
    pub namespace: String,
    /// The objects, in apply order.
    pub objects: Vec<RenderedObject>,
}

impl RegionBundle {
    /// `kustomization.yaml`: the objects' files in apply order, kept by `sortOptions: fifo`.
    #[must_use]
    pub fn kustomization(&self) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Kustomization {
            api_version: &'static str,
            kind: &'static str,
            sort_options: SortOptions,
            resources: Vec<String>,
        }
        #[derive(Serialize)]
        struct SortOptions {
            order: &'static str,
        }
        yaml::to_yaml(&Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            sort_options: SortOptions { order: "fifo" },
            resources: self.objects.iter().map(RenderedObject::file_name).collect(),
        })
    }
}

/// One file of the output folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    /// Path relative to the output folder, `/`-separated (e.g. `us-west-1/namespace-inferadb.yaml`).
    pub path: String,
    /// The file's content.
    pub contents: String,
}

/// Everything a spec renders to.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The plan the output was rendered from (topology, warnings).
    pub plan: Plan,
    /// One bundle per region, in spec order.
    pub regions: Vec<RegionBundle>,
    /// The Terraform module's outputs with their render-time values (`outputs.json`).
    pub outputs: outputs::Outputs,
    /// The ordered, per-context apply steps (`APPLY.md`).
    pub apply_guide: String,
    /// The tailnet policy (`tailnet-policy.hujson`), when Tailscale is enabled.
    pub tailnet_policy: Option<String>,
    /// Things the user must know about this output (e.g. that it is bootstrap phase 1).
    pub notices: Vec<String>,
}

impl Rendered {
    /// The bundle of region `id`.
    #[must_use]
    pub fn region(&self, id: &str) -> Option<&RegionBundle> {
        self.regions.iter().find(|bundle| bundle.id == id)
    }

    /// One multi-document YAML stream, each document preceded by `# Source: <region>/<file>`;
    /// all regions, or only `region`.
    #[must_use]
    pub fn stream(&self, region: Option<&str>) -> String {
        let mut out = String::new();
        for bundle in self
            .regions
            .iter()
            .filter(|bundle| region.is_none_or(|id| bundle.id == id))
        {
            for object in &bundle.objects {
                out.push_str("---\n");
                out.push_str(&format!("# Source: {}/{}\n", bundle.id, object.file_name()));
                out.push_str(&object.to_yaml());
            }
        }
        out
    }

    /// Every file of the output folder: `<region>/<object files>`, `<region>/kustomization.yaml`,
    /// `outputs.json`, `APPLY.md` and (with Tailscale) `tailnet-policy.hujson`, sorted by path.
    #[must_use]
    pub fn files(&self) -> Vec<OutputFile> {
        let mut files = Vec::new();
        for bundle in &self.regions {
            for object in &bundle.objects {
                files.push(OutputFile {
                    path: format!("{}/{}", bundle.id, object.file_name()),
                    contents: object.to_yaml(),
                });
            }
            files.push(OutputFile {
                path: format!("{}/kustomization.yaml", bundle.id),
                contents: bundle.kustomization(),
            });
        }
        let mut outputs = serde_json::to_string_pretty(&self.outputs).unwrap_or_default();
        outputs.push('\n');
        files.push(OutputFile {
            path: "outputs.json".to_owned(),
            contents: outputs,
        });
        files.push(OutputFile {
            path: "APPLY.md".to_owned(),
            contents: self.apply_guide.clone(),
        });
        if let Some(policy) = &self.tailnet_policy {
            files.push(OutputFile {
                path: "tailnet-policy.hujson".to_owned(),
                contents: policy.clone(),
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }
}

/// Validates a spec and renders it with default options.
///
/// ```
/// use infera_render::spec::{MultiRegionSpec, Region};
///
/// let spec = MultiRegionSpec {
///     regions: vec![Region::new("us-east-1", true, 1)],
///     ..MultiRegionSpec::default()
/// };
/// let rendered = infera_render::render(&spec)?;
/// let bundle = rendered.region("us-east-1").expect("one bundle per region");
/// assert!(bundle.objects.iter().any(|o| o.kind == "FoundationDBCluster" && o.name == "inferadb-fdb-us-east-1"));
/// assert!(rendered.stream(None).contains("# Source: us-east-1/foundationdbcluster-inferadb-fdb-us-east-1.yaml"));
/// # Ok::<(), infera_render::Error>(())
/// ```
///
/// # Errors
/// [`Error::Invalid`] with every problem when the spec breaks a rule.
pub fn render(spec: &MultiRegionSpec) -> Result<Rendered, Error> {
    render_with(spec, &PlanOptions::default(), &RenderOptions::default())
}

/// Validates a spec with `plan_options` and renders it with `options`.
///
/// # Errors
/// [`Error::Invalid`] with every problem when the spec breaks a rule.
pub fn render_with(
    spec: &MultiRegionSpec,
    plan_options: &PlanOptions,
    options: &RenderOptions,
) -> Result<Rendered, Error> {
    let plan = plan(spec, plan_options).map_err(Error::Invalid)?;
    Ok(render_plan(plan, options))
}

/// Renders a validated plan. Infallible: the plan already holds every rule.
#[must_use]
pub fn render_plan(plan: Plan, options: &RenderOptions) -> Rendered {
    let regions: Vec<RegionBundle> = plan
        .regions
        .iter()
        .map(|region| {
            let ctx = RegionCtx::new(&plan, region);
            let mut objects = namespace::objects(&ctx);
            if region.runs_operator() {
                // Deleting a CRD deletes every object of its kind: protected from pruning.
                objects.extend(options.crds.objects().iter().cloned().map(|mut crd| {
                    meta::annotate(&mut crd.value, PRUNE_PROTECTION);
                    crd
                }));
                objects.extend(operator::objects(&ctx));
                objects.extend(fdb_cluster::objects(&ctx));
            }
            objects.extend(inferadb::objects(&ctx));
            objects.extend(tailscale::router_objects(&ctx));
            objects.extend(tailscale::plaintext_secret(&ctx));
            objects.extend(monitoring::objects(&ctx));
            objects.extend(network_policy::objects(&ctx));
            scanners::annotate(&plan, &mut objects);
            for object in &mut objects {
                object.region.clone_from(&region.id);
            }
            object::sort_for_apply(&mut objects);
            RegionBundle {
                id: region.id.clone(),
                context: region.kubernetes.config_context.clone(),
                namespace: region.namespace.clone(),
                objects,
            }
        })
        .collect();
    let notices = notices(&plan, options.spec_path.as_deref().unwrap_or("<spec>"));
    Rendered {
        outputs: outputs::outputs(&plan),
        apply_guide: apply_guide::guide(&plan, options, &regions),
        tailnet_policy: tailnet_policy::policy(&plan),
        regions,
        notices,
        plan,
    }
}

fn notices(plan: &Plan, spec_path: &str) -> Vec<String> {
    match plan.bootstrap {
        Bootstrap::PhaseOne { datacenter } => {
            let datacenter = &plan.datacenters[datacenter];
            let region = &plan.regions[datacenter.region];
            vec![format!(
                "bootstrap phase 1 of 2: no seed connection string, so only datacenter {} (region {}) is rendered, as a single-datacenter region with usable_regions 1; once it is reconciled, re-render with its connection string to get all {} datacenters: {} (APPLY.md has the steps)",
                datacenter.id,
                region.id,
                plan.datacenters.len(),
                apply_guide::seeded_render(plan, datacenter.index, spec_path),
            )]
        }
        Bootstrap::SingleDatacenter | Bootstrap::Seeded { .. } => Vec::new(),
    }
}
