//! The spec reference table of the README, generated from the JSON Schema so it cannot drift
//! from the types.

use serde_json::{Map, Value};

/// A Markdown table of every spec field: path, type, default and description, in declaration
/// order (`regions[].zones` style paths, relative to `spec`).
#[must_use]
pub fn reference_markdown() -> String {
    let schema = crate::json_schema();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut rows = Vec::new();
    if let Some(spec) = defs.get("MultiRegionSpec") {
        collect(spec, "", None, &defs, &mut rows, 0);
    }
    let mut out = String::from("| field | type | default | description |\n|---|---|---|---|\n");
    for row in rows {
        out.push_str(&row);
        out.push('\n');
    }
    out
}

fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
        .unwrap_or(schema)
}

/// The non-null branch of an `Option<T>` (`anyOf: [T, null]`), or the schema itself.
fn non_null<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array)
        && let Some(branch) = branches
            .iter()
            .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
    {
        return resolve(branch, defs);
    }
    resolve(schema, defs)
}

fn enum_values(schema: &Value) -> Option<Vec<String>> {
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("enum"))?
        .as_array()?;
    branches
        .iter()
        .map(|branch| {
            branch
                .get("const")
                .unwrap_or(branch)
                .as_str()
                .map(|s| format!("`{s}`"))
        })
        .collect()
}

fn type_name(schema: &Value, defs: &Map<String, Value>) -> String {
    let schema = non_null(schema, defs);
    if let Some(values) = enum_values(schema) {
        return values.join(" \\| ");
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    match types.as_slice() {
        ["array"] => format!(
            "list of {}",
            schema
                .get("items")
                .map_or("values".to_owned(), |items| type_name(items, defs))
        ),
        ["object"] if schema.get("properties").is_none() => "map of string".to_owned(),
        ["object"] => "object".to_owned(),
        other => other.join(" or "),
    }
}

/// Adds a row per property of `schema`; `inherited` is the parent's default object, whose
/// entries are the defaults of properties that have none of their own.
fn collect(
    schema: &Value,
    prefix: &str,
    inherited: Option<&Value>,
    defs: &Map<String, Value>,
    rows: &mut Vec<String>,
    depth: usize,
) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, property) in properties {
        let path = format!("{prefix}{name}");
        let target = non_null(property, defs);
        let own_default = property
            .get("default")
            .or_else(|| inherited.and_then(|parent| parent.get(name)));
        let default = if required.contains(&name.as_str()) {
            "required".to_owned()
        } else {
            let optional = property.get("anyOf").is_some();
            match own_default {
                Some(Value::Object(_)) => "see below".to_owned(),
                None if target.get("properties").is_some() && !optional => "see below".to_owned(),
                Some(value) => format!("`{}`", serde_json::to_string(value).unwrap_or_default()),
                None => "unset".to_owned(),
            }
        };
        let description = property
            .get("description")
            .or_else(|| target.get("description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .replace('\n', " ")
            .replace('|', "\\|");
        rows.push(format!(
            "| `{path}` | {} | {default} | {description} |",
            type_name(property, defs)
        ));
        if depth < 4 {
            if target.get("type").and_then(Value::as_str) == Some("array") {
                if let Some(items) = target.get("items") {
                    collect(
                        resolve(items, defs),
                        &format!("{path}[]."),
                        None,
                        defs,
                        rows,
                        depth + 1,
                    );
                }
            } else if target.get("properties").is_some() {
                collect(
                    target,
                    &format!("{path}."),
                    own_default,
                    defs,
                    rows,
                    depth + 1,
                );
            }
        }
    }
}
