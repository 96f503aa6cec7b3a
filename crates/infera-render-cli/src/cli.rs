//! Every clap type of the command line, and nothing else.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// Render one multi-region spec into deterministic Kubernetes YAML per region: FoundationDB
/// (Fearless DR) with its operator, InferaDB engine and control, and Tailscale.
#[derive(Debug, Parser)]
#[command(name = "infera-render", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 invalid input (or a destructive change refused), 2 usage error, 3 I/O error (or the output folder is locked by another run), 16 `diff` found changes, 130 interrupted (the output folder was rolled back)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec: no output on success, every problem on stderr.
    Validate(SpecArgs),
    /// Explain the topology a spec maps to: regions, datacenters, roles, FoundationDB priorities,
    /// satellites, bootstrap phases, trade-offs and warnings.
    Plan(SpecArgs),
    /// Render the Kubernetes objects: one YAML stream on stdout, or with `-o DIR` one folder per
    /// region plus `outputs.json` and `APPLY.md`.
    Render(RenderArgs),
    /// Show what `render -o DIR` would change in DIR, without writing anything: each object
    /// added, removed or changed with its changed fields and their class (safe, restarts,
    /// replaces-fdb-pods, migrates-data, destructive), then the side files. Exit code 0: nothing
    /// would change; 16: something would.
    Diff(DiffArgs),
    /// Print the Terraform module's outputs (regions, primary_region, fdb_operators,
    /// fdb_clusters, engine_endpoints, fearless_dr_config, cluster_connection_info) as JSON.
    Outputs(SpecArgs),
    /// Print the JSON Schema of the spec.
    Schema,
    /// Turn the Terraform module's `module "..." { ... }` block into a spec (canonical envelope
    /// form, on stdout or `-o FILE`), validated, its problems at their HCL positions.
    ImportTerraform(ImportArgs),
    /// KRM function (kustomize `exec`/container functions, kpt): a ResourceList on stdin, a
    /// ResourceList on stdout. The spec is the functionConfig; the annotation infera.dev/region
    /// picks one region.
    Krm,
    /// Helm post-renderer: the chart's manifests on stdin, the same manifests wired to
    /// FoundationDB plus the region's FoundationDB and Tailscale objects on stdout.
    PostRender(PostRenderArgs),
}

/// `post-render`'s arguments.
#[derive(Debug, Args)]
pub struct PostRenderArgs {
    /// The spec and how strict to be.
    #[command(flatten)]
    pub spec: SpecArgs,

    /// The region this release is installed into (required when the spec has several).
    #[arg(long, value_name = "ID")]
    pub region: Option<String>,

    /// Pod label that marks the chart's engine workload.
    #[arg(
        long,
        value_name = "KEY=VALUE",
        default_value = "app.kubernetes.io/name=inferadb-engine"
    )]
    pub engine_selector: String,

    /// Pod label that marks the chart's control workload.
    #[arg(
        long,
        value_name = "KEY=VALUE",
        default_value = "app.kubernetes.io/name=inferadb-control"
    )]
    pub control_selector: String,

    /// Where a failure is logged, since Helm 4 does not show a post-renderer's stderr
    /// (default: $INFERA_RENDER_ERROR_LOG, else ~/.local/state/infera-render/post-render.log).
    #[arg(long, value_name = "FILE")]
    pub error_log: Option<PathBuf>,
}

/// What `render` and `diff` render: which regions, with which CRDs.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// Only this region's objects.
    #[arg(long, value_name = "ID")]
    pub region: Option<String>,

    /// Include the CRD files (*.yaml, *.yml) of this folder in every bundle that runs the
    /// operator, instead of installing them from the operator's release URL.
    #[arg(long, value_name = "DIR")]
    pub crds_dir: Option<PathBuf>,
}

/// `render`'s arguments.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The spec and how strict to be.
    #[command(flatten)]
    pub spec: SpecArgs,

    /// Write `DIR/<region-id>/` folders (one file per object and a kustomization.yaml),
    /// `DIR/outputs.json` and `DIR/APPLY.md`, atomically. Without it, one YAML stream goes to
    /// stdout.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Regions and CRDs.
    #[command(flatten)]
    pub bundle: BundleArgs,

    /// With `-o`: write even when a change is destructive (a FoundationDBCluster removed or
    /// renamed, its datacenter or process group prefix changed, a volume shrunk, usable_regions
    /// lowered). Without it such a render is refused and DIR is left as it was.
    #[arg(long)]
    pub allow_destructive: bool,

    /// With `-o`: forget the objects earlier renders stopped rendering (APPLY.md's "Removed
    /// objects"), once you have deleted them.
    #[arg(long)]
    pub forget_removed: bool,

    /// With `-o`: how long to wait while another infera-render writes the same folder, in
    /// seconds (fractions allowed), before giving up with exit code 3.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
    pub lock_timeout: Duration,
}

/// `diff`'s arguments: `render`'s, with the folder to compare with.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The spec and how strict to be.
    #[command(flatten)]
    pub spec: SpecArgs,

    /// The output folder `render -o DIR` would write (a missing folder: everything is added).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,

    /// Regions and CRDs, as for `render`.
    #[command(flatten)]
    pub bundle: BundleArgs,

    /// `text` (per region and object, with YAML hunks; coloured on a terminal unless NO_COLOR
    /// is set) or `json` (the same as a list of changes).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: DiffFormat,
}

/// How `diff` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// For people.
    Text,
    /// For programs.
    Json,
}

/// A non-negative number of seconds (`5`, `0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|value| Duration::try_from_secs_f64(value).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds (for example 5 or 0.5)"))
}

/// Where the spec comes from, and how strict to be.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// The spec file (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: PathBuf,

    /// The `status.connectionString` of the phase-1 datacenter; overrides `seed_connection_string`.
    #[arg(long, value_name = "STR", conflicts_with = "seed_from")]
    pub seed_connection_string: Option<String>,

    /// Read the seed from `kubectl get foundationdbcluster NAME -o json` (a file, or `-` for
    /// standard input): its `status.connectionString`, once the object is reconciled.
    #[arg(long, value_name = "FILE")]
    pub seed_from: Option<PathBuf>,

    /// Treat warnings as errors (exit code 1).
    #[arg(long)]
    pub deny_warnings: bool,

    /// Allow writing an inline `tailscale.auth_key` into a Secret in the output. Without it an
    /// inline key is an error: create the Secret in each cluster instead.
    #[arg(long)]
    pub allow_plaintext_secrets: bool,
}

impl SpecArgs {
    /// What the flags change in the plan, with the seed read from `--seed-from` (if given).
    #[must_use]
    pub fn plan_options(&self, seed: Option<String>) -> infera_render::PlanOptions {
        infera_render::PlanOptions {
            seed_connection_string: seed.or_else(|| self.seed_connection_string.clone()),
            allow_plaintext_secrets: self.allow_plaintext_secrets,
        }
    }
}

/// `import-terraform`'s arguments.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The Terraform files (`main.tf`, and the ones with its `variable` blocks).
    #[arg(required = true, value_name = "FILE.tf")]
    pub files: Vec<PathBuf>,

    /// A `.tfvars` file; later ones override earlier ones, as in Terraform.
    #[arg(long, value_name = "FILE.tfvars")]
    pub var_file: Vec<PathBuf>,

    /// A variable's value (a string), overriding every file.
    #[arg(long, value_name = "NAME=VALUE")]
    pub var: Vec<String>,

    /// The module block to import, when several call the module (`module "NAME"`).
    #[arg(long, value_name = "NAME")]
    pub module: Option<String>,

    /// Write the spec to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write the cutover steps from Terraform (MIGRATION.md) to FILE.
    #[arg(long, value_name = "FILE")]
    pub migration_guide: Option<PathBuf>,
}
