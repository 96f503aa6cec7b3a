//! The Helm post-renderer: the chart's manifests in, the same manifests wired to FoundationDB
//! plus the region's FoundationDB and Tailscale objects out (docs/integrations.md §2).
//!
//! - The InferaDB workloads of the chart (Deployments, StatefulSets or DaemonSets whose pod
//!   labels match the engine or control selector) get the cluster file (the ConfigMap and key
//!   this tool would mount), the `INFERADB__ENGINE__`/`INFERADB__CONTROL__` storage and listen
//!   env, the wait-for-FoundationDB init container and, with Tailscale, the kernel-mode sidecar.
//!   What the chart sets itself is kept: its mesh URLs and control's audience (it knows its own
//!   Service names), the engine's signing key, control's key file and WebAuthn settings; control's
//!   audience follows the mesh URL the chart's engine signs with.
//! - The region's operator, `FoundationDBCluster`s, Tailscale router and their RBAC are appended,
//!   unless the chart already holds an object of the same kind and name. Namespace, engine and
//!   control objects are not appended: Helm owns the release namespace, the chart owns the apps.
//! - Every document Helm passed keeps its metadata, so its
//!   `postrenderer.helm.sh/postrender-filename` annotation survives.

use super::manifests::{parse_manifests, to_stream};
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::names::annotations::HELM_KEEP;
use crate::names::labels::NAME;
use crate::names::{App, CLUSTER_FILE_DIR, CLUSTER_FILE_VOLUME};
use crate::plan::{Plan, PlanOptions, RegionSelectError, plan};
use crate::render::fdb_cluster::FOUNDATIONDB_CLUSTER;
use crate::render::inferadb::{
    CONTROL_API_AUDIENCE, CopyPolicy, MASTER_KEY_DIR, app_env, cluster_file_volumes,
    master_key_volume, wait_for_foundationdb,
};
use crate::render::pod::{INFERADB_UID, mount};
use crate::render::tailscale::deployment_init_containers;
use crate::render::{RegionCtx, RenderOptions, meta, render_plan};
use infera_spec::MultiRegionSpec;
use k8s_openapi::Resource;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};

/// Which chart workloads are the engine and control: a label of their pod template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadSelectors {
    /// `key=value` selecting the engine (default `app.kubernetes.io/name=inferadb-engine`).
    pub engine: (String, String),
    /// `key=value` selecting control (default `app.kubernetes.io/name=inferadb-control`).
    pub control: (String, String),
}

impl Default for WorkloadSelectors {
    fn default() -> Self {
        Self {
            engine: (NAME.to_owned(), "inferadb-engine".to_owned()),
            control: (NAME.to_owned(), "inferadb-control".to_owned()),
        }
    }
}

/// How to post-render.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostRenderOptions {
    /// How the spec is planned (the seed connection string, plaintext secrets).
    pub plan: PlanOptions,
    /// The region the release is installed into (required when the spec has several).
    pub region: Option<String>,
    /// How the chart's engine and control workloads are found.
    pub selectors: WorkloadSelectors,
}

/// What the post-renderer produced.
#[derive(Clone, Debug, PartialEq)]
pub struct PostRendered {
    /// The manifests to hand back to Helm.
    pub output: String,
    /// `<kind>/<name>` of the chart workloads that were wired.
    pub patched: Vec<String>,
    /// `<kind>/<name>` of the objects appended.
    pub appended: Vec<String>,
    /// The spec's warnings.
    pub warnings: Diagnostics,
    /// What the user should know about how the chart's workloads were wired (a setting left to
    /// the chart that this tool cannot see, a mesh URL control cannot use).
    pub notes: Vec<String>,
}

/// Why post-rendering failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostRenderError {
    /// The spec breaks a rule.
    #[error("the spec is invalid ({})", .0.summary())]
    Invalid(Diagnostics),
    /// The manifests from Helm are unusable.
    #[error("{0}")]
    Manifests(String),
    /// The region is missing, unknown, or has nothing to wire to yet.
    #[error("{0}")]
    Region(String),
}

fn label_matches(workload: &Value, (key, value): &(String, String)) -> bool {
    workload
        .pointer("/spec/template/metadata/labels")
        .and_then(|labels| labels.get(key))
        .and_then(Value::as_str)
        == Some(value.as_str())
}

fn identity(document: &Value) -> (String, String) {
    let text = |pointer: &str| {
        document
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (text("/kind"), text("/metadata/name"))
}

/// Replaces the list entries named like `new` ones (by `name`) and adds the rest, in place.
fn upsert_named(list: &mut Vec<Value>, new: Vec<Value>, front: bool) {
    let names: Vec<Value> = new
        .iter()
        .filter_map(|item| item.get("name").cloned())
        .collect();
    list.retain(|item| item.get("name").is_none_or(|name| !names.contains(name)));
    if front {
        list.splice(0..0, new);
    } else {
        list.extend(new);
    }
}

fn array<'a>(object: &'a mut Value, key: &str) -> Option<&'a mut Vec<Value>> {
    let map = object.as_object_mut()?;
    map.entry(key)
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
}

/// Whether the chart's own value of env var `name`, when it sets one, wins over this tool's:
/// what names the chart's own Services (mesh URLs and ports, control's audience) and what the
/// chart may provide from its own Secrets and config (the engine's key, control's key file,
/// WebAuthn). Storage, cluster file and listen addresses are always this tool's.
fn chart_owned(name: &str) -> bool {
    name.contains("__MESH__")
        || name == CONTROL_API_AUDIENCE
        || name.ends_with("__PEM")
        || name.ends_with("__KEY_FILE")
        || name.contains("__WEBAUTHN__")
}

/// The chart's entry for env var `name` (a `value` or a `valueFrom`).
fn env_entry<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container
        .get("env")?
        .as_array()?
        .iter()
        .find(|var| var["name"] == name)
}

/// The literal value of env var `name`, when the chart writes one.
fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    env_entry(container, name)?.get("value")?.as_str()
}

/// Whether a URL (`http://host[:port]`) names a port.
fn has_port(url: &str) -> bool {
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
}

/// The app container of a chart workload: the one named `engine`/`control`, else the first.
fn app_container(pod: &mut Value, app: App) -> Option<&mut Value> {
    let wanted = app.short_name();
    let containers = pod.get_mut("containers")?.as_array_mut()?;
    let index = containers
        .iter()
        .position(|container| container.get("name").and_then(Value::as_str) == Some(wanted))
        .unwrap_or(0);
    containers.get_mut(index)
}

/// Wires one chart workload to FoundationDB (and Tailscale). `audience` is the engine's mesh URL
/// as the chart's engine has it, for control's `CONTROL_API_AUDIENCE`; `notes` collects what
/// the user should know.
fn patch(
    workload: &mut Value,
    label: &str,
    app: App,
    ctx: &RegionCtx<'_>,
    audience: Option<&str>,
    notes: &mut Vec<String>,
) {
    let Some(cluster_file) = &ctx.region.cluster_file else {
        return;
    };
    let Some(pod) = workload.pointer_mut("/spec/template/spec") else {
        return;
    };
    let pod_context = pod.get("securityContext").cloned().unwrap_or(Value::Null);
    let Some(container) = app_container(pod, app) else {
        return;
    };
    let uses_env_from = container
        .get("envFrom")
        .and_then(Value::as_array)
        .is_some_and(|sources| !sources.is_empty());
    let prefix = app.env_prefix();
    let mut ours: Vec<String> = Vec::new();
    let env: Vec<Value> = app_env(ctx, app)
        .into_iter()
        .filter(|var| {
            let owned = chart_owned(&var.name);
            if owned && env_entry(container, &var.name).is_some() {
                return false;
            }
            // A key from the chart's own Secrets may come through `envFrom`, which an explicit
            // entry would override; this tool cannot see inside it.
            if owned && var.value_from.is_some() && uses_env_from {
                notes.push(format!(
                    "{label}: {} is left to the chart's envFrom; if it does not set it, every pod of the engine makes up its own signing key and control rejects their tokens",
                    var.name
                ));
                return false;
            }
            true
        })
        .map(|mut var| {
            if var.name == CONTROL_API_AUDIENCE
                && let Some(audience) = audience
            {
                var.value = Some(audience.to_owned());
            }
            ours.push(var.name.clone());
            serde_json::to_value(var).unwrap_or(Value::Null)
        })
        .collect();
    if app == App::Control
        && let Some(url) = env_value(container, &format!("{prefix}MESH__URL"))
        && has_port(url)
    {
        notes.push(format!(
            "{label}: {prefix}MESH__URL `{url}` carries a port, but control appends its own (MESH__GRPC for the engine's API, MESH__PORT for its JWKS), so every call to the engine fails; drop the port from the chart's value"
        ));
    }
    // Control reads its master key from the file this tool names, unless the chart names its own.
    let mounts_master_key = app == App::Control && ours.contains(&format!("{prefix}KEY_FILE"));
    // The FoundationDB clients must run as one user (see `INFERADB_UID`): the wait step takes
    // the app's (upstream's images run as 65532: engine@a31e3c3:Dockerfile `useradd -r -u 65532`),
    // and the pod gets an fsGroup when it has none, so the file's group is one every container
    // of the pod is in, whatever primary group the chart gives the app.
    let user = |key: &str| {
        container
            .pointer(&format!("/securityContext/{key}"))
            .or_else(|| pod_context.get(key))
            .and_then(Value::as_i64)
            .unwrap_or(INFERADB_UID)
    };
    let (run_as_user, run_as_group) = (user("runAsUser"), user("runAsGroup"));
    let needs_fs_group = pod_context.get("fsGroup").is_none();
    if let Some(list) = array(container, "env") {
        upsert_named(list, env, false);
    }
    if let Some(mounts) = array(container, "volumeMounts") {
        mounts.retain(|mount| mount.get("mountPath") != Some(&json!(CLUSTER_FILE_DIR)));
        let mut wanted = vec![json!({"name": CLUSTER_FILE_VOLUME, "mountPath": CLUSTER_FILE_DIR})];
        if mounts_master_key {
            wanted.push(
                serde_json::to_value(mount("master-key", MASTER_KEY_DIR, true))
                    .unwrap_or(Value::Null),
            );
        }
        upsert_named(mounts, wanted, false);
    }
    let mut volumes: Vec<Value> = cluster_file_volumes(cluster_file.config_map())
        .iter()
        .map(|volume| serde_json::to_value(volume).unwrap_or(Value::Null))
        .collect();
    if mounts_master_key && let Some(volume) = master_key_volume(ctx.plan) {
        volumes.push(serde_json::to_value(volume).unwrap_or(Value::Null));
    }
    let mut inits: Vec<Value> = deployment_init_containers(ctx, app.workload())
        .iter()
        .map(|container| serde_json::to_value(container).unwrap_or(Value::Null))
        .collect();
    let mut wait = serde_json::to_value(wait_for_foundationdb(
        ctx,
        CopyPolicy::of(cluster_file),
        mounts_master_key,
    ))
    .unwrap_or(Value::Null);
    // The wait step mounts /tmp from the pod; a chart may not have that volume, so it gets none.
    if let Some(mounts) = wait.get_mut("volumeMounts").and_then(Value::as_array_mut) {
        mounts.retain(|mount| mount["name"] != "tmp");
    }
    if let Some(context) = wait.get_mut("securityContext") {
        context["readOnlyRootFilesystem"] = json!(false);
        context["runAsUser"] = json!(run_as_user);
        context["runAsGroup"] = json!(run_as_group);
    }
    inits.push(wait);
    if needs_fs_group {
        if !pod.get("securityContext").is_some_and(Value::is_object) {
            pod["securityContext"] = json!({});
        }
        pod["securityContext"]["fsGroup"] = json!(run_as_group);
    }
    if let Some(list) = array(pod, "volumes") {
        upsert_named(list, volumes, false);
    }
    if let Some(list) = array(pod, "initContainers") {
        upsert_named(list, inits, true);
    }
}

/// Post-renders Helm's manifests for one region of the spec.
///
/// # Errors
/// [`PostRenderError`] when the spec is invalid, the manifests are not YAML, or the region is
/// missing, unknown or has no cluster file yet.
pub fn post_render(
    spec: &MultiRegionSpec,
    manifests: &str,
    options: &PostRenderOptions,
) -> Result<PostRendered, PostRenderError> {
    let plan = plan(spec, &options.plan).map_err(PostRenderError::Invalid)?;
    post_render_plan(
        plan,
        manifests,
        options.region.as_deref(),
        &options.selectors,
    )
}

/// Post-renders Helm's manifests for one region of a plan (from [`crate::Document::plan`],
/// so its warnings are already placed in the document).
///
/// # Errors
/// [`PostRenderError`] when the manifests are not YAML, or the region is missing, unknown or
/// has no cluster file yet.
pub fn post_render_plan(
    plan: Plan,
    manifests: &str,
    region: Option<&str>,
    selectors: &WorkloadSelectors,
) -> Result<PostRendered, PostRenderError> {
    if plan.network_policies {
        // The chart owns engine and control, whose pods carry the chart's labels: the
        // FoundationDB pods' policy would admit none of them (render/network_policy.rs selects
        // infera-render's own labels), so every FoundationDB connection of the chart's apps
        // would be dropped on a CNI that enforces policies.
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(
            Diagnostic::error(
                FieldPath::root().key("network_policies").key("enabled"),
                "the Helm post-renderer leaves engine and control to the chart, whose pods carry the chart's labels, so infera-render's NetworkPolicies would cut them off from FoundationDB",
            )
            .with_help("turn network_policies off for post-render and give the chart's pods their own policies, or render engine and control with `infera-render render`"),
        );
        return Err(PostRenderError::Invalid(diagnostics));
    }
    let region = plan
        .select_region(region)
        .map_err(|error| {
            PostRenderError::Region(match error {
                RegionSelectError::Ambiguous { count, known } => format!(
                    "the spec has {count} regions; pass --region with the one this release is installed into ({known})"
                ),
                error => format!("--region: {error}"),
            })
        })?;
    if region.cluster_file.is_none() {
        return Err(PostRenderError::Region(format!(
            "region {} has no FoundationDB cluster file yet (bootstrap phase 1): install the bootstrap region first, then pass --seed-connection-string",
            region.id
        )));
    }
    let index = region.index;
    let ctx = RegionCtx::new(&plan, region);
    let mut documents = parse_manifests(manifests).map_err(PostRenderError::Manifests)?;
    if documents.is_empty() {
        return Err(PostRenderError::Manifests(
            "no manifests on standard input".to_owned(),
        ));
    }
    let mut patched = Vec::new();
    let mut notes = Vec::new();
    // The engine first: control's audience is the mesh URL the engine ends up with.
    let mut audience: Option<String> = None;
    for (app, selector) in [
        (App::Engine, &selectors.engine),
        (App::Control, &selectors.control),
    ] {
        for document in &mut documents {
            let (kind, name) = identity(document);
            if !matches!(kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet")
                || !label_matches(document, selector)
            {
                continue;
            }
            let label = format!("{kind}/{name}");
            patch(document, &label, app, &ctx, audience.as_deref(), &mut notes);
            patched.push(label.clone());
            if app == App::Engine
                && audience.is_none()
                && let Some(pod) = document.pointer_mut("/spec/template/spec")
                && let Some(container) = app_container(pod, app)
            {
                let name = format!("{}MESH__URL", app.env_prefix());
                audience = env_value(container, &name).map(str::to_owned);
                if audience.is_none() && env_entry(container, &name).is_some() {
                    notes.push(format!(
                        "{label}: {name} comes from a reference this tool cannot read; control's CONTROL_API_AUDIENCE must be exactly that value (the engine signs with it), so set it in the chart"
                    ));
                }
            }
        }
    }
    let existing: Vec<(String, String)> = documents.iter().map(identity).collect();
    let warnings = plan.warnings.clone();
    let chart_apps: Vec<&str> = App::ALL.iter().map(|app| app.name()).collect();
    let rendered = render_plan(plan, &RenderOptions::default());
    let mut appended = Vec::new();
    if let Some(bundle) = rendered.regions.get(index.index()) {
        for object in &bundle.objects {
            let app = object
                .value
                .pointer("/metadata/labels")
                .and_then(|labels| labels.get(NAME))
                .and_then(Value::as_str);
            // The chart owns the apps.
            let owned_by_chart = app.is_some_and(|app| chart_apps.contains(&app));
            if object.kind == "Namespace"
                || owned_by_chart
                || existing.contains(&(object.kind.clone(), object.name.clone()))
            {
                continue;
            }
            appended.push(format!("{}/{}", object.kind, object.name));
            let mut value = object.value.clone();
            // Helm deletes what an upgrade no longer renders, and everything on uninstall; a
            // FoundationDBCluster's volumes go with it, and every cluster with a CRD.
            if object.kind == FOUNDATIONDB_CLUSTER.kind
                || object.kind == CustomResourceDefinition::KIND
            {
                meta::annotate(&mut value, [HELM_KEEP]);
            }
            documents.push(value);
        }
    }
    Ok(PostRendered {
        output: to_stream(&documents),
        patched,
        appended,
        warnings,
        notes,
    })
}
