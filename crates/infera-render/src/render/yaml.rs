//! YAML emission with serde-saphyr, whose output survives Go's YAML 1.1 decoder (kubectl, Helm):
//! `on`, `no`, `0755`, `1_000` and friends are quoted (docs/integrations.md §3).

use serde::Serialize;

/// Serializes one document. Strings stay on one line (no folding), so a value is never split
/// in the output and diffs show whole values.
pub(crate) fn to_yaml(value: &impl Serialize) -> String {
    let options = serde_saphyr::ser_options! {
        prefer_block_scalars: false,
    };
    let mut text = serde_saphyr::to_string_with_options(value, options).unwrap_or_else(|error| {
        format!("# infera-render could not serialize this object: {error}\n")
    });
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::to_yaml;
    use serde_json::json;

    #[test]
    fn yaml_1_1_words_are_quoted() {
        let text = to_yaml(
            &json!({"a": "on", "b": "no", "c": "0755", "d": "1_000", "e": "true", "f": "plain"}),
        );
        assert_eq!(
            text,
            "a: \"on\"\nb: \"no\"\nc: \"0755\"\nd: \"1_000\"\ne: \"true\"\nf: plain\n"
        );
    }

    #[test]
    fn long_strings_stay_on_one_line() {
        let long = "word ".repeat(40);
        let text = to_yaml(&json!({ "k": long.trim() }));
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}
