//! YAML emission whose output survives Go's YAML 1.1 decoder (kubectl, Helm): `on`, `no`,
//! `0755`, `1_000` and friends are quoted (docs/integrations.md §3).
//!
//! The layout (block mappings, sequences at their key's indentation, `{}`/`[]` for empty
//! collections, one line per scalar) is written here; it is byte-for-byte what serde-saphyr
//! writes, which a test checks on every rendered object. Scalars that are plainly safe (an ASCII
//! letter followed by letters, digits, `-`, `_`, `.` and `/`, and not a YAML 1.1 boolean or null
//! word) are written as they are; every other scalar is formatted by serde-saphyr, which decides
//! the quoting. Most scalars of a Kubernetes object take the fast path, which makes emission
//! several times faster than serializing the whole object through serde-saphyr.

use serde::Serialize;
use serde_json::{Map, Value};

/// Serializes one document. Strings stay on one line (no folding), so a value is never split
/// in the output and diffs show whole values.
pub(crate) fn to_yaml(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(value) => value_to_yaml(&value),
        Err(error) => format!("# infera-render could not serialize this object: {error}\n"),
    }
}

/// [`to_yaml`] for a value that is already JSON.
pub(crate) fn value_to_yaml(value: &Value) -> String {
    let mut out = String::with_capacity(2048);
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0, false),
        scalar => {
            write_inline(&mut out, scalar);
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, width: usize) {
    out.extend(std::iter::repeat_n(' ', width));
}

/// A mapping at `width`; with `on_dash_line`, its first key continues a `- ` line.
fn write_map(out: &mut String, map: &Map<String, Value>, width: usize, on_dash_line: bool) {
    for (position, (key, value)) in map.iter().enumerate() {
        if position > 0 || !on_dash_line {
            indent(out, width);
        }
        write_key(out, key);
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, width + 2, false);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, width, false);
            }
            scalar => {
                out.push(' ');
                write_inline(out, scalar);
                out.push('\n');
            }
        }
    }
}

/// A sequence at `width`; with `on_dash_line`, its first item continues a `- ` line.
fn write_seq(out: &mut String, items: &[Value], width: usize, on_dash_line: bool) {
    for (position, item) in items.iter().enumerate() {
        if position > 0 || !on_dash_line {
            indent(out, width);
        }
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => write_map(out, inner, width + 2, true),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, width + 2, true),
            scalar => {
                write_inline(out, scalar);
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection, on the current line.
fn write_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) if number.is_i64() || number.is_u64() => {
            out.push_str(&number.to_string());
        }
        Value::String(text) => write_string(out, text),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        // Floats: serde-saphyr's spelling (`1.0e+300`, `-0.0`).
        Value::Number(_) => write_by_serde_saphyr(out, value),
    }
}

/// A mapping key: serde-saphyr quotes some keys it would leave plain as values (`é]`), so an
/// unusual key is formatted as the key of a one-entry mapping.
fn write_key(out: &mut String, key: &str) {
    if is_plainly_safe(key) {
        out.push_str(key);
        return;
    }
    let options = serde_saphyr::ser_options! {
        prefer_block_scalars: false,
    };
    let entry = Map::from_iter([(key.to_owned(), Value::from(0))]);
    match serde_saphyr::to_string_with_options(&entry, options) {
        Ok(text) if text.ends_with(": 0\n") && text.matches('\n').count() == 1 => {
            out.push_str(&text[..text.len() - ": 0\n".len()]);
        }
        _ => write_by_serde_saphyr(out, &key),
    }
}

fn write_string(out: &mut String, text: &str) {
    if is_plainly_safe(text) {
        out.push_str(text);
    } else {
        write_by_serde_saphyr(out, &text);
    }
}

/// Words YAML 1.1 or 1.2 read as something other than a string when plain (compared
/// case-insensitively; a superset is harmless: those go to serde-saphyr, which quotes as needed).
const SPECIAL_WORDS: [&str; 14] = [
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf", "infinity", "none",
    "nil",
];

/// Whether `text` reads back as the same string in YAML 1.1 and 1.2 when written plain, by a rule
/// simple enough to be obviously right: an ASCII letter first (so never a number, date, octal,
/// `.inf` or indicator), then only letters, digits, `-`, `_`, `.`, `/`, and not a special word.
fn is_plainly_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let Some(first) = bytes.first() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        && (bytes.len() > "infinity".len()
            || !SPECIAL_WORDS
                .iter()
                .any(|word| word.eq_ignore_ascii_case(text)))
}

fn write_by_serde_saphyr(out: &mut String, scalar: &impl Serialize) {
    let options = serde_saphyr::ser_options! {
        prefer_block_scalars: false,
    };
    match serde_saphyr::to_string_with_options(scalar, options) {
        Ok(text) => out.push_str(text.trim_end_matches('\n')),
        // Strings and numbers always serialize; keep the document parseable regardless.
        Err(_) => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::{to_yaml, value_to_yaml};
    use serde_json::{Value, json};

    fn serde_saphyr_yaml(value: &Value) -> String {
        let options = serde_saphyr::ser_options! {
            prefer_block_scalars: false,
        };
        let mut text = serde_saphyr::to_string_with_options(value, options).expect("serializes");
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

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
        let text = to_yaml(&json!({ "k": long.trim(), "m": "two\nlines" }));
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn layout_and_quoting_are_serde_saphyrs() {
        let value = json!({
            "nested": [[1, 2], [], {}, [[3]], {"a": [{"b": []}], "c": {"d": {"e": null}}}],
            "empty": {}, "none": [], "null": null, "float": 1.5, "neg": -0.0, "big": 1e300,
            "u64": 18_446_744_073_709_551_615_u64, "i64": -9_223_372_036_854_775_808_i64,
            "n": "n", "": "", "key: colon": "x: y", "words": ["Yes", "NULL", "Off", "nan", "None"],
            "numbers": ["8080", "7.3", "1e3", ".5", "0x1F", "0o17", "+1", "12:30:00", "2024-01-01"],
            "indicators": ["-", "- a", "#c", "*a", "&a", "!t", "%d", "@a", "`b", "{x}", "[x]", "?", "---"],
            "plain": ["a-b", "a.b/c_d", "http://x", "$(POD_NAME)", "10.0.0.0/16", "100m", "é", "a,b"],
            "spaces": [" lead", "trail ", "a b", "x #y", "tab\there", "a\rb", "\u{feff}x", "a\u{2028}b"],
        });
        assert_eq!(value_to_yaml(&value), serde_saphyr_yaml(&value));
        for top in [
            json!({}),
            json!([]),
            json!("top"),
            json!(null),
            json!(["a", ["b"]]),
        ] {
            assert_eq!(value_to_yaml(&top), serde_saphyr_yaml(&top), "{top}");
        }
    }
}
