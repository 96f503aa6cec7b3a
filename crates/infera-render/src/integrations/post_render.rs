//! The Helm post-renderer: the chart's manifests in, the same manifests wired to FoundationDB
//! plus the region's FoundationDB and Tailscale objects out (docs/integrations.md §2).
//!
//! - The InferaDB workloads of the chart (Deployments, StatefulSets or DaemonSets whose pod
//!   labels match the engine or control selector) get the cluster file (the ConfigMap and key
//!   this tool would mount), the `INFERADB__ENGINE__`/`INFERADB__CONTROL__` storage and listen
//!   env, the wait-for-FoundationDB init container and, with Tailscale, the kernel-mode sidecar.
//!   A mesh URL the chart already sets is kept (it knows its own Service names).
//! - The region's operator, `FoundationDBCluster`s, Tailscale router and their RBAC are appended,
//!   unless the chart already holds an object of the same kind and name. Namespace, engine and
//!   control objects are not appended: Helm owns the release namespace, the chart owns the apps.
//! - Every document Helm passed keeps its metadata, so its
//!   `postrenderer.helm.sh/postrender-filename` annotation survives.

use super::manifests::{parse_manifests, to_stream};
use crate::diagnostics::Diagnostics;
use crate::naming::{CLUSTER_FILE_DIR, CLUSTER_FILE_VOLUME};
use crate::plan::{PlanOptions, plan};
use crate::render::inferadb::{
    App, CONTROL_API_AUDIENCE, INFERADB_UID, app_env, cluster_file_source, cluster_file_volumes,
    wait_for_foundationdb,
};
use crate::render::labels::NAME;
use crate::render::tailscale::deployment_init_containers;
use crate::render::tailscale_names::Workload;
use crate::render::{RenderOptions, render_plan};
use infera_spec::MultiRegionSpec;
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
    /// The region the release is installed into (required when the spec has several).
    pub region: Option<String>,
    /// Overrides `seed_connection_string`.
    pub seed_connection_string: Option<String>,
    /// Allow an inline Tailscale OAuth client secret to be written into a Secret.
    pub allow_plaintext_secrets: bool,
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

/// Whether the chart's own value of env var `name` wins over the one this tool would set: the
/// mesh settings and control's audience, which name the chart's own Services.
fn chart_owned(name: &str) -> bool {
    name.contains("__MESH__") || name == CONTROL_API_AUDIENCE
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container
        .get("env")?
        .as_array()?
        .iter()
        .find(|var| var["name"] == name)?
        .get("value")?
        .as_str()
}

/// The app container of a chart workload: the one named `engine`/`control`, else the first.
fn app_container(pod: &mut Value, app: App) -> Option<&mut Value> {
    let wanted = match app {
        App::Engine => "engine",
        App::Control => "control",
    };
    let containers = pod.get_mut("containers")?.as_array_mut()?;
    let index = containers
        .iter()
        .position(|container| container.get("name").and_then(Value::as_str) == Some(wanted))
        .unwrap_or(0);
    containers.get_mut(index)
}

/// Wires one chart workload to FoundationDB (and Tailscale). `audience` is the engine's mesh URL
/// as the chart's engine has it, for control's `CONTROL_API_AUDIENCE`.
fn patch(
    workload: &mut Value,
    app: App,
    plan: &crate::Plan,
    region: usize,
    config_map: &str,
    audience: Option<&str>,
) {
    let Some(pod) = workload.pointer_mut("/spec/template/spec") else {
        return;
    };
    let pod_context = pod.get("securityContext").cloned().unwrap_or(Value::Null);
    let Some(container) = app_container(pod, app) else {
        return;
    };
    let chart_sets = |name: &str| env_value(container, name).is_some();
    let env: Vec<Value> = app_env(plan, region, app)
        .into_iter()
        .filter(|var| !(chart_owned(&var.name) && chart_sets(&var.name)))
        .map(|mut var| {
            if var.name == CONTROL_API_AUDIENCE
                && let Some(audience) = audience
            {
                var.value = Some(audience.to_owned());
            }
            serde_json::to_value(var).unwrap_or(Value::Null)
        })
        .collect();
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
        upsert_named(
            mounts,
            vec![json!({"name": CLUSTER_FILE_VOLUME, "mountPath": CLUSTER_FILE_DIR})],
            false,
        );
    }
    let volumes: Vec<Value> = cluster_file_volumes(config_map)
        .iter()
        .map(|volume| serde_json::to_value(volume).unwrap_or(Value::Null))
        .collect();
    let workload = if app == App::Engine {
        Workload::Engine
    } else {
        Workload::Control
    };
    let mut inits: Vec<Value> = deployment_init_containers(plan, region, workload)
        .iter()
        .map(|container| serde_json::to_value(container).unwrap_or(Value::Null))
        .collect();
    // The chart mounts control's master key where it likes, so the wait step does not check it.
    let mut wait = serde_json::to_value(wait_for_foundationdb(plan, false)).unwrap_or(Value::Null);
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
    let plan_options = PlanOptions {
        seed_connection_string: options.seed_connection_string.clone(),
        allow_plaintext_secrets: options.allow_plaintext_secrets,
    };
    let plan = plan(spec, &plan_options).map_err(PostRenderError::Invalid)?;
    let region = match &options.region {
        Some(id) => plan
            .region_index(id)
            .map_err(|message| PostRenderError::Region(format!("--region: {message}")))?,
        None if plan.regions.len() == 1 => 0,
        None => {
            return Err(PostRenderError::Region(format!(
                "the spec has {} regions; pass --region with the one this release is installed into ({})",
                plan.regions.len(),
                plan.region_ids()
            )));
        }
    };
    let (config_map, _) = cluster_file_source(&plan, region).ok_or_else(|| {
        PostRenderError::Region(format!(
            "region {} has no FoundationDB cluster file yet (bootstrap phase 1): install the bootstrap region first, then pass --seed-connection-string",
            plan.regions[region].id
        ))
    })?;
    let mut documents = parse_manifests(manifests).map_err(PostRenderError::Manifests)?;
    if documents.is_empty() {
        return Err(PostRenderError::Manifests(
            "no manifests on standard input".to_owned(),
        ));
    }
    let mut patched = Vec::new();
    // The engine first: control's audience is the mesh URL the engine ends up with.
    let mut audience: Option<String> = None;
    for (app, selector) in [
        (App::Engine, &options.selectors.engine),
        (App::Control, &options.selectors.control),
    ] {
        for document in &mut documents {
            let (kind, name) = identity(document);
            if !matches!(kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet")
                || !label_matches(document, selector)
            {
                continue;
            }
            patch(
                document,
                app,
                &plan,
                region,
                &config_map,
                audience.as_deref(),
            );
            patched.push(format!("{kind}/{name}"));
            if app == App::Engine
                && audience.is_none()
                && let Some(pod) = document.pointer_mut("/spec/template/spec")
                && let Some(container) = app_container(pod, app)
            {
                audience = env_value(container, &format!("{}MESH__URL", app.env_prefix()))
                    .map(str::to_owned);
            }
        }
    }
    let existing: Vec<(String, String)> = documents.iter().map(identity).collect();
    let warnings = plan.warnings.clone();
    let rendered = render_plan(
        plan,
        &RenderOptions {
            seed_connection_string: options.seed_connection_string.clone(),
            allow_plaintext_secrets: options.allow_plaintext_secrets,
            ..RenderOptions::default()
        },
    );
    let mut appended = Vec::new();
    if let Some(bundle) = rendered.regions.get(region) {
        for object in &bundle.objects {
            let app = object
                .value
                .pointer("/metadata/labels")
                .and_then(|labels| labels.get(NAME))
                .and_then(Value::as_str);
            let owned_by_chart = matches!(
                app,
                Some("inferadb-engine" | "inferadb-control" | "inferadb")
            );
            if object.kind == "Namespace"
                || owned_by_chart
                || existing.contains(&(object.kind.clone(), object.name.clone()))
            {
                continue;
            }
            appended.push(format!("{}/{}", object.kind, object.name));
            documents.push(object.value.clone());
        }
    }
    Ok(PostRendered {
        output: to_stream(&documents),
        patched,
        appended,
        warnings,
    })
}
