//! Reading Kubernetes manifest streams the way Go reads them (kubectl, Helm, kustomize use
//! YAML 1.1 via sigs.k8s.io/yaml): unquoted `yes`/`on` are booleans, `0755` is octal. Re-emitted
//! with serde-saphyr, whatever the chart meant survives unchanged (docs/integrations.md §2.6).

use serde_json::Value;

/// The most bytes of manifests accepted from Helm or kustomize.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 20_000_000;
    budget.max_nodes = 10_000_000;
    budget.max_documents = 100_000;
    budget.max_depth = 64;
    budget.max_total_scalar_bytes = MAX_MANIFEST_BYTES;
    budget.max_recorded_anchor_bytes = MAX_MANIFEST_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 1_000_000;
    options.alias_limits.max_replay_stack_depth = 32;
    options.strict_booleans = false;
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    options
}

/// Parses a multi-document stream; empty documents are skipped.
///
/// # Errors
/// A message (with line and column) when the text is not YAML or too large.
pub fn parse_manifests(text: &str) -> Result<Vec<Value>, String> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "the manifests are {} bytes, more than the {MAX_MANIFEST_BYTES} accepted",
            text.len()
        ));
    }
    let documents: Vec<Value> =
        serde_saphyr::from_str_multiple_with_options::<Value, Vec<_>>(text, options()).map_err(
            |error| {
                let location = error
                    .location()
                    .map(|at| format!(" at line {}, column {}", at.line(), at.column()))
                    .unwrap_or_default();
                let message = serde_saphyr::MessageFormatter::format_message(
                    &serde_saphyr::UserMessageFormatter,
                    &error,
                );
                format!("the manifests are not valid YAML{location}: {message}")
            },
        )?;
    Ok(documents
        .into_iter()
        .filter(|document| !document.is_null())
        .collect())
}

/// Serializes documents as one stream, each starting with `---`.
#[must_use]
pub fn to_stream(documents: &[Value]) -> String {
    documents
        .iter()
        .map(|document| format!("---\n{}", crate::render::yaml_text(document)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_like_go_and_writes_safely() {
        let docs = parse_manifests("a: on\nb: 0755\nc: \"on\"\nd: 1_000\n---\n---\ne: yes\n")
            .expect("parses");
        assert_eq!(
            docs,
            vec![
                json!({"a": true, "b": 493, "c": "on", "d": 1000}),
                json!({"e": true})
            ]
        );
        assert_eq!(to_stream(&[json!({"c": "on"})]), "---\nc: \"on\"\n");
    }

    #[test]
    fn refuses_garbage_with_a_position() {
        let error = parse_manifests("a: [1, 2\n").expect_err("unclosed");
        assert!(error.contains("line"), "{error}");
    }
}
