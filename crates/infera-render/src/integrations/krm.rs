//! The KRM function protocol (kustomize `exec`/container functions, kpt): a `ResourceList` in,
//! a `ResourceList` out (kustomize kyaml/fn/framework; docs/integrations.md §1.2).
//!
//! The spec is the `functionConfig` (a `MultiRegionDeployment`); the annotation
//! `infera.dev/region` picks one region, otherwise every region is generated. The input items are
//! passed through, except the `config.kubernetes.io/local-config` echo of the function config;
//! each generated item carries `internal.config.kubernetes.io/path: <region>/<file>`, which kpt
//! uses to write one file per object. On error the output holds `results` with severity `error`
//! (kpt shows them; kustomize shows only stderr and the exit code).

use super::manifests::parse_manifests;
use crate::diagnostics::{Diagnostic, Severity};
use crate::plan::PlanOptions;
use crate::render::{RenderOptions, render_plan};
use crate::source::parse_document;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The annotation that picks the region to generate.
pub const REGION_ANNOTATION: &str = "infera.dev/region";
/// The annotation kpt reads to decide each item's file.
pub const PATH_ANNOTATION: &str = "internal.config.kubernetes.io/path";

/// What a function run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct KrmOutcome {
    /// The output `ResourceList`, as YAML (also on failure, then with `results`).
    pub output: String,
    /// Human-readable problems when the run failed (for stderr); `None` on success.
    pub error: Option<String>,
}

/// The output `ResourceList` (kustomize kyaml/fn/framework/framework.go `ResourceList`): the
/// items are foreign documents, kept as JSON; the function config is not echoed back.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceList {
    api_version: &'static str,
    kind: &'static str,
    items: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    results: Vec<KrmResult>,
}

/// One entry of `results` (kyaml/fn/framework/result.go `Result`).
#[derive(Serialize)]
struct KrmResult {
    message: String,
    severity: KrmSeverity,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<KrmField>,
}

/// `results[].severity` (kyaml/fn/framework/result.go `Severity`).
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
enum KrmSeverity {
    Error,
    Warning,
}

impl From<Severity> for KrmSeverity {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Error => Self::Error,
            Severity::Warning => Self::Warning,
        }
    }
}

/// `results[].field`: the field path the result is about.
#[derive(Serialize)]
struct KrmField {
    path: String,
}

fn result(message: &str, severity: KrmSeverity, field: Option<String>) -> KrmResult {
    KrmResult {
        message: message.to_owned(),
        severity,
        field: field.map(|path| KrmField { path }),
    }
}

fn outcome(items: Vec<Value>, results: Vec<KrmResult>, error: Option<String>) -> KrmOutcome {
    let list = ResourceList {
        api_version: "config.kubernetes.io/v1",
        kind: "ResourceList",
        items,
        results,
    };
    KrmOutcome {
        output: crate::render::yaml_document(&list),
        error,
    }
}

fn failure(items: Vec<Value>, message: String) -> KrmOutcome {
    outcome(
        items,
        vec![result(&message, KrmSeverity::Error, None)],
        Some(message),
    )
}

fn is_local_config(item: &Value) -> bool {
    item.pointer("/metadata/annotations/config.kubernetes.io~1local-config")
        .is_some_and(|value| value == "true")
}

/// Runs the function on a `ResourceList`.
///
/// ```
/// let input = r#"
/// apiVersion: config.kubernetes.io/v1
/// kind: ResourceList
/// items: []
/// functionConfig:
///   apiVersion: infera.dev/v1alpha1
///   kind: MultiRegionDeployment
///   metadata: {name: demo}
///   spec:
///     regions: [{id: us-east-1, is_primary: true, priority: 1}]
///     tailscale: {enabled: false}
/// "#;
/// let outcome = infera_render::krm(input);
/// assert!(outcome.error.is_none());
/// assert!(outcome.output.contains("internal.config.kubernetes.io/path: us-east-1/foundationdbcluster-inferadb-fdb-us-east-1.yaml"));
/// ```
#[must_use]
pub fn krm(input: &str) -> KrmOutcome {
    let documents = match parse_manifests(input) {
        Ok(documents) => documents,
        Err(message) => {
            return failure(
                Vec::new(),
                format!("the function input is not a ResourceList: {message}"),
            );
        }
    };
    let [list] = documents.as_slice() else {
        return failure(
            Vec::new(),
            format!(
                "the function input must be one ResourceList document, found {}",
                documents.len()
            ),
        );
    };
    if list.get("kind").and_then(Value::as_str) != Some("ResourceList") {
        return failure(
            Vec::new(),
            "the function input is not a ResourceList (kind: ResourceList)".to_owned(),
        );
    }
    let items: Vec<Value> = list
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|item| !is_local_config(item))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let Some(config) = list
        .get("functionConfig")
        .filter(|config| !config.is_null())
    else {
        return failure(
            items,
            "the ResourceList has no functionConfig: the function's config must be the MultiRegionDeployment spec".to_owned(),
        );
    };
    let text = serde_json::to_string(config).unwrap_or_default();
    let document = match parse_document(text.as_bytes()) {
        Ok(document) => document,
        Err(diagnostics) => return spec_failure(items, &diagnostics),
    };
    let region = config
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(REGION_ANNOTATION))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let plan = match document.plan(&PlanOptions::default()) {
        Ok(plan) => plan,
        Err(diagnostics) => return spec_failure(items, &diagnostics),
    };
    if let Some(region) = &region
        && let Err(message) = plan.region_named(region)
    {
        return failure(items, format!("annotation {REGION_ANNOTATION}: {message}"));
    }
    let warnings: Vec<KrmResult> = plan
        .warnings
        .iter()
        .map(|warning| {
            result(
                &warning.message,
                KrmSeverity::Warning,
                Some(warning.path.to_string()),
            )
        })
        .collect();
    let rendered = render_plan(plan, &RenderOptions::default());
    let mut output = items;
    for bundle in rendered
        .regions
        .iter()
        .filter(|bundle| region.as_ref().is_none_or(|id| &bundle.id == id))
    {
        for object in &bundle.objects {
            let mut value = object.value.clone();
            let annotations = value
                .as_object_mut()
                .and_then(|object| object.get_mut("metadata"))
                .and_then(Value::as_object_mut)
                .map(|metadata| {
                    metadata
                        .entry("annotations")
                        .or_insert_with(|| Value::Object(Map::new()))
                });
            if let Some(Value::Object(annotations)) = annotations {
                annotations.insert(
                    PATH_ANNOTATION.to_owned(),
                    json!(format!("{}/{}", bundle.id, object.file_name())),
                );
            }
            output.push(value);
        }
    }
    outcome(output, warnings, None)
}

fn spec_failure(items: Vec<Value>, diagnostics: &crate::Diagnostics) -> KrmOutcome {
    let results: Vec<KrmResult> = diagnostics
        .iter()
        .map(|diagnostic: &Diagnostic| {
            let path = diagnostic.path.to_string();
            result(
                &diagnostic.message,
                diagnostic.severity.into(),
                (!path.is_empty()).then_some(path),
            )
        })
        .collect();
    // Positions would point into the re-serialized config, not the user's file: leave them out.
    let message = diagnostics
        .iter()
        .map(|diagnostic| {
            let mut diagnostic = diagnostic.clone();
            diagnostic.position = None;
            diagnostic.render("functionConfig")
        })
        .collect::<Vec<_>>()
        .join("\n");
    outcome(items, results, Some(message))
}
