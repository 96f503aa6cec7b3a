//! How each region is reached and how its FoundationDB pods are placed: the kubeconfig
//! target, process counts, tolerations.

use super::limits::MAX_PROCESS_COUNT;
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::syntax::names::{label_key_problem, label_value_problem};
use infera_spec::{MultiRegionSpec, Region, TaintEffect, TolerationOperator};
use std::collections::BTreeMap;

pub(super) fn check_kubernetes<'a>(
    spec: &'a MultiRegionSpec,
    region: &'a Region,
    at: &FieldPath,
    contexts: &mut BTreeMap<&'a str, usize>,
    index: usize,
    diagnostics: &mut Diagnostics,
) {
    let kubernetes = at.clone().key("kubernetes");
    match region.kubernetes.config_context.as_deref() {
        Some("") => diagnostics.error(kubernetes.clone().key("config_context"), "must not be empty"),
        Some(context) => {
            if let Some(&other) = contexts.get(context) {
                let other_region = &spec.regions[other];
                if other_region.namespace == region.namespace {
                    diagnostics.push(
                        Diagnostic::error(
                            kubernetes.clone().key("config_context"),
                            format!(
                                "regions[{other}] ({}) uses the same context `{context}` and namespace `{}`: their objects would overwrite each other",
                                other_region.id, region.namespace
                            ),
                        )
                        .with_help("give each region its own Kubernetes cluster (context), or at least its own namespace"),
                    );
                } else {
                    diagnostics.push(
                        Diagnostic::warning(
                            kubernetes.clone().key("config_context"),
                            format!(
                                "regions[{other}] ({}) uses the same context `{context}`: both regions land in one Kubernetes cluster, which is not failure-independent",
                                other_region.id
                            ),
                        )
                        .with_help("fine for a test cluster; in production each region is its own cluster"),
                    );
                }
            } else {
                contexts.insert(context, index);
            }
        }
        None if spec.regions.len() > 1 => diagnostics.push(
            Diagnostic::error(
                kubernetes.clone().key("config_context"),
                "required when the spec has more than one region",
            )
            .with_help(
                "each region is its own Kubernetes cluster; name the kubeconfig context that reaches it (the Terraform module ignored this input and put every region into one cluster)",
            ),
        ),
        None => {}
    }
    for (key, set) in [
        ("host", region.kubernetes.host.is_some()),
        ("token", region.kubernetes.token.is_some()),
        ("cluster_ca", region.kubernetes.cluster_ca.is_some()),
    ] {
        if set {
            diagnostics.push(
                Diagnostic::warning(
                    kubernetes.clone().key(key),
                    format!("`{key}` is ignored: infera-render never contacts a cluster"),
                )
                .with_help(if key == "token" {
                    "remove the token from the spec; credentials belong in the kubeconfig of whoever applies the output"
                } else {
                    "remove it; the apply steps use `config_context` (and `config_path`)"
                }),
            );
        }
    }
}

pub(super) fn check_process_counts(region: &Region, at: &FieldPath, diagnostics: &mut Diagnostics) {
    let counts = region.process_counts;
    for (class, count) in [
        ("storage", counts.storage),
        ("log", counts.log),
        ("stateless", counts.stateless),
    ] {
        let count_path = at.clone().key("process_counts").key(class);
        if count == 0 {
            diagnostics.push(
                Diagnostic::error(count_path, "must be at least 1")
                    .with_help("every FoundationDB region's primary datacenter needs storage, log and stateless processes"),
            );
        } else if count > MAX_PROCESS_COUNT {
            diagnostics.error(
                count_path,
                format!("{count} is more than the {MAX_PROCESS_COUNT} this renderer allows"),
            );
        }
    }
}

pub(super) fn check_tolerations(region: &Region, at: &FieldPath, diagnostics: &mut Diagnostics) {
    for (position, toleration) in region.tolerations.iter().enumerate() {
        let toleration_path = at.clone().key("tolerations").index(position);
        let exists = toleration.operator == Some(TolerationOperator::Exists);
        if exists
            && toleration
                .value
                .as_deref()
                .is_some_and(|value| !value.is_empty())
        {
            diagnostics.error(
                toleration_path.clone().key("value"),
                "must be empty with `operator: Exists` (Exists matches any value)",
            );
        }
        match toleration.key.as_deref() {
            None | Some("") if !exists => diagnostics.push(
                Diagnostic::error(
                    toleration_path.clone().key("key"),
                    "is required unless `operator: Exists`",
                )
                .with_help("an empty key with operator Exists tolerates every taint"),
            ),
            Some(key) if !key.is_empty() => {
                if let Some(problem) = label_key_problem(key) {
                    diagnostics.error(toleration_path.clone().key("key"), problem);
                }
            }
            _ => {}
        }
        if let Some(value) = toleration.value.as_deref()
            && let Some(problem) = label_value_problem(value)
        {
            diagnostics.error(toleration_path.clone().key("value"), problem);
        }
        if toleration.toleration_seconds.is_some()
            && toleration.effect != Some(TaintEffect::NoExecute)
        {
            diagnostics.push(
                Diagnostic::error(
                    toleration_path.key("toleration_seconds"),
                    "is only valid with `effect: NoExecute` (Kubernetes rejects it otherwise)",
                )
                .with_help("set effect: NoExecute, or remove toleration_seconds"),
            );
        }
    }
}
