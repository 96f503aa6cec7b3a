//! Structural check of a spec document against the spec's own JSON Schema.
//!
//! The schema generated from the types (the one committed in `schemas/` and shown by editors)
//! is the single source of truth for structure. This walker understands the subset schemars
//! emits (`$ref`, `type`, `properties`, `required`, `additionalProperties`, `items`, `anyOf`,
//! `oneOf` of `const`s, integer formats and bounds) and, unlike a first-error deserializer,
//! reports **every** unknown key, wrong type, bad enum value and missing key at once, each with
//! its field path and a concrete suggestion.

use super::source_map::SourceMap;
use super::suggest::closest;
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// Checks `value` against the schema definition `def` (e.g. `MultiRegionSpec`).
pub(crate) fn check(value: &Value, def: &str, source: &SourceMap) -> Diagnostics {
    let schema = spec_schema();
    let mut walker = Walker {
        defs: schema.get("$defs").and_then(Value::as_object),
        source,
        diagnostics: Diagnostics::new(),
    };
    match walker.defs.and_then(|defs| defs.get(def)) {
        Some(definition) => walker.check(value, definition, &FieldPath::root()),
        None => walker.push(Diagnostic::error(
            FieldPath::root(),
            format!("internal error: the spec schema has no definition `{def}`"),
        )),
    }
    walker.diagnostics
}

fn spec_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(infera_spec::json_schema)
}

struct Walker<'a> {
    defs: Option<&'a Map<String, Value>>,
    source: &'a SourceMap,
    diagnostics: Diagnostics,
}

/// The JSON type of a value, as JSON Schema names it.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_admits(schema_type: &str, value: &Value) -> bool {
    let actual = json_type(value);
    actual == schema_type || (schema_type == "number" && actual == "integer")
}

fn schema_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn describe_type(schema_type: &str) -> &'static str {
    match schema_type {
        "null" => "null",
        "boolean" => "a boolean (true or false)",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        _ => "a value",
    }
}

impl<'a> Walker<'a> {
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut current = schema;
        for _ in 0..16 {
            let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
                return current;
            };
            let Some(target) = reference
                .strip_prefix("#/$defs/")
                .and_then(|name| self.defs.and_then(|defs| defs.get(name)))
            else {
                return current;
            };
            current = target;
        }
        current
    }

    fn describe_found(&self, value: &Value, path: &FieldPath) -> String {
        let written = self.source.scalar_text(path);
        match value {
            Value::Null => "null".to_owned(),
            Value::Bool(_) => format!("the boolean {}", written.unwrap_or(&value.to_string())),
            Value::Number(_) => format!("the number {}", written.unwrap_or(&value.to_string())),
            Value::String(text) => format!("the string {}", serde_json::Value::from(text.as_str())),
            Value::Array(_) => "a list".to_owned(),
            Value::Object(_) => "a mapping".to_owned(),
        }
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn check(&mut self, value: &Value, schema: &'a Value, path: &FieldPath) {
        let schema = self.resolve(schema);
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            self.check_alternatives(value, branches, path);
            return;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            let allowed: Vec<&Value> = options.iter().collect();
            self.check_enum(value, &allowed, path);
            return;
        }
        if let Some(constant) = schema.get("const") {
            self.check_enum(value, &[constant], path);
            return;
        }
        let types = schema_types(schema);
        if !types.is_empty() && !types.iter().any(|t| type_admits(t, value)) {
            self.type_mismatch(value, &types, path);
            return;
        }
        match value {
            Value::Object(map) => self.check_object(map, schema, path),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (index, item) in items.iter().enumerate() {
                        self.check(item, item_schema, &path.clone().index(index));
                    }
                }
            }
            Value::Number(_) => self.check_integer_range(value, schema, path),
            _ => {}
        }
    }

    fn check_alternatives(&mut self, value: &Value, branches: &'a [Value], path: &FieldPath) {
        let resolved: Vec<&'a Value> = branches.iter().map(|branch| self.resolve(branch)).collect();
        let constants: Vec<&Value> = resolved.iter().filter_map(|b| b.get("const")).collect();
        if !constants.is_empty() && constants.len() == resolved.len() {
            self.check_enum(value, &constants, path);
            return;
        }
        // `Option<T>`: null is fine when a branch admits it; otherwise check against the
        // branches whose type fits, so the user sees the real problem, not "no branch matched".
        let fitting: Vec<&'a Value> = resolved
            .iter()
            .copied()
            .filter(|branch| {
                let types = schema_types(branch);
                let inner_constants = branch.get("oneOf").or_else(|| branch.get("enum")).is_some();
                inner_constants && !value.is_null()
                    || types.is_empty() && !inner_constants && !value.is_null()
                    || types.iter().any(|t| type_admits(t, value))
            })
            .collect();
        match fitting.as_slice() {
            [] => {
                let mut types: Vec<&str> = Vec::new();
                for branch in &resolved {
                    types.extend(schema_types(branch));
                    if branch.get("oneOf").or_else(|| branch.get("enum")).is_some() {
                        types.push("string");
                    }
                }
                types.dedup();
                self.type_mismatch(value, &types, path);
            }
            [branch] => self.check(value, branch, path),
            [first, rest @ ..] => {
                for branch in rest {
                    let mut trial = Walker {
                        defs: self.defs,
                        source: self.source,
                        diagnostics: Diagnostics::new(),
                    };
                    trial.check(value, branch, path);
                    if trial.diagnostics.is_empty() {
                        return;
                    }
                }
                self.check(value, first, path);
            }
        }
    }

    fn check_enum(&mut self, value: &Value, allowed: &[&Value], path: &FieldPath) {
        if allowed.contains(&value) {
            return;
        }
        let names: Vec<String> = allowed
            .iter()
            .map(|option| {
                option
                    .as_str()
                    .map_or_else(|| option.to_string(), str::to_owned)
            })
            .collect();
        let list = names.join(", ");
        let found = self.describe_found(value, path);
        let mut diagnostic = if names.len() == 1 {
            Diagnostic::error(path.clone(), format!("expected {list}, found {found}"))
        } else {
            Diagnostic::error(path.clone(), format!("unknown value: {found}"))
                .with_help(format!("expected one of: {list}"))
        };
        if let Some(written) = value.as_str() {
            if let Some(hint) = known_bad_value(written) {
                diagnostic = diagnostic.with_help(hint);
            } else if let Some(suggestion) = closest(written, names.iter().map(String::as_str)) {
                diagnostic = diagnostic.with_help(format!(
                    "did you mean `{suggestion}`? expected one of: {list}"
                ));
            }
        } else if !value.is_string()
            && names.len() > 1
            && let Some(written) = self.source.scalar_text(path)
        {
            diagnostic = diagnostic.with_help(format!(
                "expected one of: {list} (a YAML {} `{written}` is not one of these strings)",
                json_type(value)
            ));
        }
        self.push(diagnostic);
    }

    fn type_mismatch(&mut self, value: &Value, types: &[&str], path: &FieldPath) {
        let wanted: Vec<&str> = types
            .iter()
            .filter(|t| **t != "null")
            .map(|t| describe_type(t))
            .collect();
        let wanted = if wanted.is_empty() {
            "null".to_owned()
        } else {
            wanted.join(" or ")
        };
        let found = self.describe_found(value, path);
        let mut diagnostic =
            Diagnostic::error(path.clone(), format!("expected {wanted}, found {found}"));
        let written = self.source.scalar_text(path).map(str::to_owned);
        let help = match (types, value) {
            (_, Value::String(text)) if types.contains(&"boolean") => {
                let lower = text.to_ascii_lowercase();
                if ["yes", "no", "on", "off", "y", "n"].contains(&lower.as_str()) {
                    Some(format!(
                        "`{text}` is a string here (YAML 1.2): write true or false"
                    ))
                } else if lower == "true" || lower == "false" {
                    Some(format!("remove the quotes: {lower}"))
                } else {
                    None
                }
            }
            (_, Value::String(text))
                if (types.contains(&"integer") || types.contains(&"number"))
                    && text.trim().parse::<f64>().is_ok() =>
            {
                Some(format!("remove the quotes: {}", text.trim()))
            }
            (_, Value::Bool(_) | Value::Number(_)) if types.contains(&"string") => {
                let written = written.unwrap_or_else(|| value.to_string());
                Some(format!(
                    "quote it: \"{written}\" (unquoted, YAML and Kubernetes read it as a {})",
                    json_type(value)
                ))
            }
            (_, Value::Null) if types.contains(&"object") || types.contains(&"array") => Some(
                "the key has no value; give it one or remove the key to use the default".to_owned(),
            ),
            _ => None,
        };
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.push(diagnostic);
    }

    fn check_object(&mut self, map: &Map<String, Value>, schema: &'a Value, path: &FieldPath) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        for (key, child) in map {
            let child_path = path.clone().key(key.clone());
            if let Some(property) = properties.and_then(|p| p.get(key)) {
                self.check(child, property, &child_path);
                continue;
            }
            match additional {
                Some(Value::Bool(false)) => self.unknown_key(key, properties, path, &child_path),
                Some(additional_schema @ Value::Object(_)) => {
                    self.check(child, additional_schema, &child_path);
                }
                _ => {}
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    let mut diagnostic =
                        Diagnostic::error(path.clone(), format!("missing required key `{name}`"));
                    if let Some(description) = properties
                        .and_then(|p| p.get(name))
                        .and_then(|p| p.get("description"))
                        .and_then(Value::as_str)
                    {
                        let first_sentence = first_sentence(description);
                        diagnostic = diagnostic.with_help(format!(
                            "`{name}`: {}",
                            first_sentence.replace('\n', " ").trim_end_matches('.')
                        ));
                    }
                    self.push(diagnostic);
                }
            }
        }
    }

    fn unknown_key(
        &mut self,
        key: &str,
        properties: Option<&Map<String, Value>>,
        parent: &FieldPath,
        path: &FieldPath,
    ) {
        let known: Vec<&str> = properties
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut diagnostic = Diagnostic::error(path.clone(), format!("unknown key `{key}`"));
        diagnostic.position = self.source.key_position(path);
        let list = known.join(", ");
        let spec_keys = self
            .defs
            .and_then(|defs| defs.get("MultiRegionSpec"))
            .and_then(|spec| spec.get("properties"))
            .and_then(Value::as_object);
        let help = if parent.is_root()
            && known.contains(&"apiVersion")
            && spec_keys.is_some_and(|keys| keys.contains_key(key))
        {
            format!("`{key}` belongs under `spec:` in a MultiRegionDeployment")
        } else if let Some(suggestion) = closest(key, known.iter().copied()) {
            format!("did you mean `{suggestion}`? expected one of: {list}")
        } else if known.is_empty() {
            "this mapping takes no keys".to_owned()
        } else {
            format!("expected one of: {list}")
        };
        self.push(diagnostic.with_help(help));
    }

    fn check_integer_range(&mut self, value: &Value, schema: &Value, path: &FieldPath) {
        let (min, max) = match schema.get("format").and_then(Value::as_str) {
            Some("uint32") => (0_i128, i128::from(u32::MAX)),
            Some("int32") => (i128::from(i32::MIN), i128::from(i32::MAX)),
            Some("uint64" | "uint") => (0, i128::from(u64::MAX)),
            Some("int64" | "int") => (i128::from(i64::MIN), i128::from(i64::MAX)),
            _ => (i128::MIN, i128::MAX),
        };
        let min = schema
            .get("minimum")
            .and_then(Value::as_i64)
            .map_or(min, |m| min.max(i128::from(m)));
        let max = schema
            .get("maximum")
            .and_then(Value::as_i64)
            .map_or(max, |m| max.min(i128::from(m)));
        let number = value
            .as_i64()
            .map(i128::from)
            .or_else(|| value.as_u64().map(i128::from));
        if let Some(number) = number
            && (number < min || number > max)
        {
            let message = if number < min && min == 0 {
                format!("must not be negative, found {number}")
            } else {
                format!("must be between {min} and {max}, found {number}")
            };
            self.push(Diagnostic::error(path.clone(), message));
        }
    }
}

/// The first sentence of a description (a period followed by a space, not after "e.g"/"i.e").
fn first_sentence(text: &str) -> &str {
    let mut from = 0;
    while let Some(offset) = text[from..].find(". ") {
        let end = from + offset;
        if !(text[..end].ends_with("e.g") || text[..end].ends_with("i.e")) {
            return &text[..end];
        }
        from = end + 2;
    }
    text
}

/// Values that were valid in the Terraform module but that FoundationDB or the operator refuse,
/// with the reason.
fn known_bad_value(value: &str) -> Option<&'static str> {
    match value {
        "three_datacenter" => Some(
            "three_datacenter is not supported: the operator CRD does not accept it and FoundationDB forbids it together with regions; use triple (or double) and satellites for cross-site durability",
        ),
        "custom" => Some(
            "the custom storage engine needs settings infera-render does not render; pick a named engine",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentence_skips_abbreviations() {
        assert_eq!(
            first_sentence("Region id, e.g. `x`: a label. More."),
            "Region id, e.g. `x`: a label"
        );
        assert_eq!(first_sentence("One sentence"), "One sentence");
    }
}
