//! Kubernetes values shared by every section: Secret references, labels, quantities,
//! resources.

use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::names::labels::{RESERVED_KEYS, RESERVED_PREFIXES, is_reserved};
use crate::syntax::names::{dns_subdomain_problem, label_key_problem, label_value_problem};
use crate::syntax::quantity::{ParsedQuantity, parse_quantity};
use infera_spec::{Quantity, Resources};
use std::collections::BTreeMap;

/// A reference to a key of an existing Secret: a valid Secret name and key.
pub(super) fn check_secret_selector(
    at: &FieldPath,
    secret: &infera_spec::SecretKeySelector,
    diagnostics: &mut Diagnostics,
) {
    if let Some(problem) = dns_subdomain_problem(&secret.name) {
        diagnostics.error(at.clone().key("name"), problem);
    }
    if secret.key.is_empty()
        || secret.key.len() > 253
        || !secret
            .key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        diagnostics.error(
            at.clone().key("key"),
            format!(
                "`{}` is not a valid Secret key: use letters, digits, '-', '_' and '.'",
                secret.key
            ),
        );
    }
}

pub(super) fn check_labels(
    at: &FieldPath,
    labels: &BTreeMap<String, String>,
    reserved: bool,
    diagnostics: &mut Diagnostics,
) {
    for (key, value) in labels {
        let entry = at.clone().key(key.clone());
        if let Some(problem) = label_key_problem(key) {
            diagnostics.error(entry.clone(), problem);
        } else if reserved && is_reserved(key) {
            diagnostics.push(
                Diagnostic::error(entry.clone(), format!("label key `{key}` is set by infera-render"))
                    .with_help(format!(
                        "infera-render keeps app.kubernetes.io/{{{}}} (selectors and its own objects) and every key starting with {}; other app.kubernetes.io/ keys (part-of, version, ...) are yours, or use your own prefix",
                        RESERVED_KEYS
                            .iter()
                            .map(|key| key.trim_start_matches("app.kubernetes.io/"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        RESERVED_PREFIXES.join(" or ")
                    )),
            );
        }
        if let Some(problem) = label_value_problem(value) {
            diagnostics.error(entry, problem);
        }
    }
}

pub(super) fn check_quantity(
    at: &FieldPath,
    quantity: &Quantity,
    positive: bool,
    diagnostics: &mut Diagnostics,
) -> Option<ParsedQuantity> {
    match parse_quantity(quantity.as_str()) {
        Err(problem) => {
            diagnostics.error(at.clone(), problem);
            None
        }
        Ok(parsed) if parsed.0 < 0.0 || (positive && parsed.0 == 0.0) => {
            diagnostics.error(
                at.clone(),
                format!(
                    "`{quantity}` must be {}",
                    if positive {
                        "greater than zero"
                    } else {
                        "zero or more"
                    }
                ),
            );
            None
        }
        Ok(parsed) => Some(parsed),
    }
}

pub(super) fn check_resources(
    at: &FieldPath,
    resources: &Resources,
    diagnostics: &mut Diagnostics,
) {
    let mut parsed: BTreeMap<(&str, &str), ParsedQuantity> = BTreeMap::new();
    for (kind, list) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        let Some(list) = list else { continue };
        for (resource, quantity) in [("cpu", &list.cpu), ("memory", &list.memory)] {
            if let Some(quantity) = quantity
                && let Some(value) = check_quantity(
                    &at.clone().key(kind).key(resource),
                    quantity,
                    false,
                    diagnostics,
                )
            {
                parsed.insert((kind, resource), value);
            }
        }
    }
    for resource in ["cpu", "memory"] {
        if let (Some(request), Some(limit)) = (
            parsed.get(&("requests", resource)),
            parsed.get(&("limits", resource)),
        ) && request > limit
        {
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("requests").key(resource),
                    format!("the {resource} request is larger than the {resource} limit"),
                )
                .with_help("Kubernetes rejects a request above its limit; raise the limit or lower the request"),
            );
        }
    }
}
