//! The committed JSON Schema must be exactly what the types generate.

use std::path::Path;

#[test]
fn committed_schema_matches_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/infera-spec.schema.json");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let generated = infera_spec::json_schema_text();
    assert!(
        committed == generated,
        "schemas/infera-spec.schema.json is out of date with the spec types; regenerate it with\n  cargo run -q -p infera-render-cli -- schema > schemas/infera-spec.schema.json\nand review the diff"
    );
}

#[test]
fn every_object_rejects_unknown_keys() {
    let schema = infera_spec::json_schema();
    let defs = schema["$defs"].as_object().expect("schema has $defs");
    for (name, definition) in defs {
        if definition.get("type").and_then(|t| t.as_str()) == Some("object")
            && definition.get("properties").is_some()
        {
            assert_eq!(
                definition.get("additionalProperties"),
                Some(&serde_json::Value::Bool(false)),
                "{name} must have additionalProperties: false"
            );
        }
    }
}

#[test]
fn every_property_is_described() {
    let schema = infera_spec::json_schema();
    for (name, definition) in schema["$defs"].as_object().expect("schema has $defs") {
        assert!(
            definition.get("description").is_some(),
            "{name} has no description"
        );
        for (property, body) in definition
            .get("properties")
            .and_then(|p| p.as_object())
            .into_iter()
            .flatten()
        {
            assert!(
                body.get("description").is_some(),
                "{name}.{property} has no description"
            );
        }
    }
}
