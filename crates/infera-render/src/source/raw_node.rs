//! The located YAML tree serde-saphyr builds, and its conversion to JSON with a [`SourceMap`].

use super::source_map::{SourceEntry, SourceMap};
use super::yaml_errors::position_of;
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath, SourcePosition};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;
use std::fmt;

/// A YAML node as serde-saphyr infers it (`deserialize_any`), each child with its location.
#[derive(Debug)]
pub(super) enum RawNode {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawNodeVisitor)
    }
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<RawNode, E> {
        Ok(RawNode::Int(value.into()))
    }

    fn visit_i128<E>(self, value: i128) -> Result<RawNode, E> {
        Ok(RawNode::Int(value))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<RawNode, E> {
        Ok(i128::try_from(value).map_or(RawNode::Float(value as f64), RawNode::Int))
    }

    fn visit_f64<E>(self, value: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = access.next_key()? {
            let value = access.next_value()?;
            entries.push((key, value));
        }
        Ok(RawNode::Map(entries))
    }
}

/// The scalar exactly as written, from the node's byte span.
fn scalar_text(node: &Spanned<RawNode>, text: &str) -> Option<String> {
    let span = node.referenced.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    text.get(start..start.checked_add(len)?).map(str::to_owned)
}

pub(super) fn to_json(
    node: &Spanned<RawNode>,
    key_position: Option<SourcePosition>,
    path: &FieldPath,
    text: &str,
    source: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Value {
    let is_scalar = !matches!(node.value, RawNode::Seq(_) | RawNode::Map(_));
    source.insert(
        path.clone(),
        SourceEntry {
            key: key_position,
            value: position_of(&node.referenced),
            scalar_text: if is_scalar {
                scalar_text(node, text)
            } else {
                None
            },
        },
    );
    match &node.value {
        RawNode::Null => Value::Null,
        RawNode::Bool(value) => Value::Bool(*value),
        RawNode::Int(value) => i64::try_from(*value)
            .map(Number::from)
            .or_else(|_| u64::try_from(*value).map(Number::from))
            .map_or_else(
                |_| {
                    diagnostics.error(path.clone(), format!("the integer {value} is too large"));
                    Value::Null
                },
                Value::Number,
            ),
        RawNode::Float(value) => Number::from_f64(*value).map_or_else(
            || {
                diagnostics.error(path.clone(), "expected a finite number");
                Value::Null
            },
            Value::Number,
        ),
        RawNode::Str(value) => Value::String(value.clone()),
        RawNode::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    to_json(
                        item,
                        None,
                        &path.clone().index(index),
                        text,
                        source,
                        diagnostics,
                    )
                })
                .collect(),
        ),
        RawNode::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let RawNode::Str(name) = &key.value else {
                    let written = scalar_text(key, text).unwrap_or_else(|| "?".to_owned());
                    let mut diagnostic = Diagnostic::error(
                        path.clone(),
                        format!("the key `{written}` is not a string"),
                    )
                    .with_help(format!("keys must be strings; quote it: \"{written}\""));
                    diagnostic.position = Some(position_of(&key.referenced));
                    diagnostics.push(diagnostic);
                    continue;
                };
                let child = path.clone().key(name.clone());
                let child_value = to_json(
                    value,
                    Some(position_of(&key.referenced)),
                    &child,
                    text,
                    source,
                    diagnostics,
                );
                map.insert(name.clone(), child_value);
            }
            Value::Object(map)
        }
    }
}
