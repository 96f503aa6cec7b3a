//! Reading a spec document from YAML or JSON text, keeping where every value was written.
//!
//! The text is parsed once with serde-saphyr into a tree of located nodes, with strict YAML 1.2
//! typing: `yes`/`no`/`on`/`off` are strings, not booleans, and a quoted `"3"` stays a string.
//! Budgets stop alias bombs, deep nesting and oversized input before they cost time or memory.
//! The tree becomes a JSON value plus a [`SourceMap`] (field path → line and column); the value
//! is checked against the spec's JSON Schema ([`crate::schema_check`]), which reports every
//! structural problem at once, and only then deserialized into the typed spec.

use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath, SourcePosition};
use crate::schema_check;
use infera_spec::{Metadata, MultiRegionDeployment, MultiRegionSpec};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};
use std::collections::BTreeMap;
use std::fmt;

/// The largest spec accepted, in bytes. Specs are a few kilobytes; anything near this limit is
/// a mistake (the wrong file), and refusing it early keeps every run fast.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

/// Which of the two accepted forms a document has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `apiVersion`/`kind`/`metadata`/`spec`: field paths start with `spec.`.
    Envelope,
    /// Only the spec body (the Terraform module's inputs).
    Bare,
}

/// Where each value of a document was written: field path → line and column.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    entries: BTreeMap<FieldPath, SourceEntry>,
}

#[derive(Clone, Debug)]
struct SourceEntry {
    key: Option<SourcePosition>,
    value: SourcePosition,
    scalar_text: Option<String>,
}

impl SourceMap {
    /// The position of the value at `path`, or of its nearest written ancestor. The flag is true
    /// when `path` itself was not written (its default applies).
    #[must_use]
    pub fn position(&self, path: &FieldPath) -> Option<(SourcePosition, bool)> {
        let mut current = Some(path.clone());
        let mut defaulted = false;
        while let Some(candidate) = current {
            if let Some(entry) = self.entries.get(&candidate) {
                return Some((entry.value, defaulted));
            }
            defaulted = true;
            current = candidate.parent();
        }
        None
    }

    /// The position of the key that introduces `path` (for problems with the key itself).
    #[must_use]
    pub fn key_position(&self, path: &FieldPath) -> Option<SourcePosition> {
        self.entries.get(path).and_then(|entry| entry.key)
    }

    /// The scalar at `path` exactly as written in the source (e.g. `0755` or `yes`).
    #[must_use]
    pub fn scalar_text(&self, path: &FieldPath) -> Option<&str> {
        self.entries
            .get(path)
            .and_then(|entry| entry.scalar_text.as_deref())
    }

    /// Whether a value was written at `path`.
    #[must_use]
    pub fn contains(&self, path: &FieldPath) -> bool {
        self.entries.contains_key(path)
    }

    fn insert(&mut self, path: FieldPath, entry: SourceEntry) {
        self.entries.insert(path, entry);
    }
}

/// A parsed and structurally valid spec document.
#[derive(Clone, Debug)]
pub struct Document {
    /// The spec body.
    pub spec: MultiRegionSpec,
    /// The envelope's metadata (envelope form only).
    pub metadata: Option<Metadata>,
    /// Which form the document had.
    pub form: Form,
    /// Where each value was written.
    pub source: SourceMap,
}

impl Document {
    /// The path of the spec body inside the document: `spec` for the envelope, the root for the
    /// bare form.
    #[must_use]
    pub fn body_path(&self) -> FieldPath {
        body_path(self.form)
    }

    /// Places diagnostics about the spec body in this document: prefixes their paths with
    /// [`Document::body_path`] and attaches source positions.
    #[must_use]
    pub fn locate(&self, diagnostics: Diagnostics) -> Diagnostics {
        let body = self.body_path();
        diagnostics
            .into_iter()
            .map(|mut diagnostic| {
                diagnostic.path = body.join(&diagnostic.path);
                locate_one(&self.source, &mut diagnostic);
                diagnostic
            })
            .collect()
    }

    /// The document as its canonical envelope (a bare spec gets `metadata.name` from
    /// `cluster_name`).
    #[must_use]
    pub fn to_envelope(&self) -> MultiRegionDeployment {
        let mut envelope =
            MultiRegionDeployment::new(self.spec.cluster_name.clone(), self.spec.clone());
        if let Some(metadata) = &self.metadata {
            envelope.metadata = metadata.clone();
        }
        envelope
    }
}

fn body_path(form: Form) -> FieldPath {
    match form {
        Form::Envelope => FieldPath::root().key("spec"),
        Form::Bare => FieldPath::root(),
    }
}

fn locate_one(source: &SourceMap, diagnostic: &mut Diagnostic) {
    if diagnostic.position.is_none()
        && let Some((position, defaulted)) = source.position(&diagnostic.path)
    {
        diagnostic.position = Some(position);
        diagnostic.defaulted = defaulted;
    }
}

/// Parses a spec document (YAML or JSON) and checks its structure against the spec's JSON
/// Schema. Every structural problem (syntax, unknown keys, wrong types, missing keys) is reported
/// at once, each with its field path and position.
///
/// ```
/// let text = "regions:\n  - id: us-west-1\n    is_primary: true\n    priority: 1\n";
/// let document = infera_render::parse_document(text.as_bytes())?;
/// assert_eq!(document.spec.regions[0].id, "us-west-1");
/// assert_eq!(document.form, infera_render::Form::Bare);
/// # Ok::<(), infera_render::Diagnostics>(())
/// ```
///
/// # Errors
/// The diagnostics when the text is not a structurally valid spec document.
pub fn parse_document(bytes: &[u8]) -> Result<Document, Diagnostics> {
    let root = FieldPath::root();
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(single(
            Diagnostic::error(
                root,
                format!(
                    "the spec is {} bytes, more than the {} bytes a spec may have",
                    bytes.len(),
                    MAX_SPEC_BYTES
                ),
            )
            .with_help(
                "a spec is a few kilobytes of YAML or JSON; check that this is the right file",
            ),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return Err(single(not_utf8(bytes, &error))),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let documents = match serde_saphyr::from_str_multiple_with_options::<Spanned<RawNode>, Vec<_>>(
        text,
        parser_options(),
    ) {
        Ok(documents) => documents,
        Err(error) => return Err(single(syntax_error(&error))),
    };
    let node = match documents.as_slice() {
        [] => {
            let mut diagnostic = Diagnostic::error(root, "the spec is empty").with_help(
                "write a MultiRegionDeployment (apiVersion: infera.dev/v1alpha1) or the module's inputs (regions: ...); `infera-render schema` prints the schema",
            );
            diagnostic.position = Some(SourcePosition { line: 1, column: 1 });
            return Err(single(diagnostic));
        }
        [node] => node,
        [_, second, ..] => {
            let mut diagnostic = Diagnostic::error(
                root,
                format!(
                    "the file holds {} YAML documents; a spec is exactly one",
                    documents.len()
                ),
            )
            .with_help("remove the extra `---` documents, or split them into separate files");
            diagnostic.position = Some(position_of(&second.referenced));
            return Err(single(diagnostic));
        }
    };

    let mut source = SourceMap::default();
    let mut diagnostics = Diagnostics::new();
    let value = to_json(node, None, &root, text, &mut source, &mut diagnostics);
    if diagnostics.has_errors() {
        return Err(located(&source, diagnostics));
    }

    let form = detect_form(&value);
    let schema_def = match form {
        Form::Envelope => "MultiRegionDeployment",
        Form::Bare => "MultiRegionSpec",
    };
    diagnostics.extend(schema_check::check(&value, schema_def, &source));
    if diagnostics.has_errors() {
        return Err(located(&source, diagnostics));
    }

    let (spec, metadata) = match form {
        Form::Envelope => typed::<MultiRegionDeployment>(value)
            .map(|envelope| (envelope.spec, Some(envelope.metadata))),
        Form::Bare => typed::<MultiRegionSpec>(value).map(|spec| (spec, None)),
    }
    .map_err(|diagnostic| located(&source, single(diagnostic)))?;
    if let Some(metadata) = &metadata {
        let problems = check_metadata(metadata);
        if problems.has_errors() {
            return Err(located(&source, problems));
        }
    }

    Ok(Document {
        spec,
        metadata,
        form,
        source,
    })
}

fn single(diagnostic: Diagnostic) -> Diagnostics {
    std::iter::once(diagnostic).collect()
}

fn located(source: &SourceMap, mut diagnostics: Diagnostics) -> Diagnostics {
    for diagnostic in diagnostics.iter_mut() {
        locate_one(source, diagnostic);
    }
    diagnostics
}

fn parser_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 100_000;
    budget.max_nodes = 50_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = 32;
    budget.max_documents = 16;
    budget.max_total_scalar_bytes = MAX_SPEC_BYTES;
    budget.max_recorded_anchor_events = 10_000;
    budget.max_recorded_anchor_bytes = MAX_SPEC_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 10_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.strict_booleans = true;
    options.reject_unsupported_tags = true;
    options.with_snippet = false;
    options
}

fn position_of(location: &serde_saphyr::Location) -> SourcePosition {
    SourcePosition {
        line: location.line(),
        column: location.column(),
    }
}

fn syntax_error(error: &serde_saphyr::Error) -> Diagnostic {
    let message = UserMessageFormatter.format_message(error).into_owned();
    let message = message
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or_default()
        .to_owned();
    let (message, help) = if message.contains("budget breached") || message.contains("too complex")
    {
        (
            format!("the YAML is too large or too deeply nested for a spec ({message})"),
            "a spec is small and flat; aliases that expand to huge documents (\"billion laughs\") are refused",
        )
    } else if message.contains("recursion limit") {
        (
            format!("the YAML is nested too deeply for a spec ({message})"),
            "a spec nests a few levels deep; check the brackets and indentation",
        )
    } else if message.contains("tab") {
        (
            format!("invalid YAML: {message}"),
            "YAML indentation must use spaces, not tabs",
        )
    } else if message.contains("expected <document start>") {
        (
            format!("invalid YAML: {message}"),
            "the document ends before this point; remove what follows it (a spec is one YAML or JSON value)",
        )
    } else if message.contains("duplicate mapping key") {
        (
            format!("invalid YAML: {message}"),
            "each key may appear once per mapping; remove or merge the repeated key",
        )
    } else {
        (
            format!("invalid YAML: {message}"),
            "the spec must be one YAML or JSON document",
        )
    };
    let mut diagnostic = Diagnostic::error(FieldPath::root(), message).with_help(help);
    diagnostic.position = error
        .location()
        .filter(|location| location.line() > 0)
        .map(|location| position_of(&location));
    diagnostic
}

fn not_utf8(bytes: &[u8], error: &std::str::Utf8Error) -> Diagnostic {
    let valid = &bytes[..error.valid_up_to()];
    let line = valid.iter().filter(|&&byte| byte == b'\n').count() as u64 + 1;
    let line_start = valid
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |n| n + 1);
    let column = String::from_utf8_lossy(&valid[line_start..])
        .chars()
        .count() as u64
        + 1;
    let byte = bytes.get(error.valid_up_to()).copied().unwrap_or_default();
    let mut diagnostic = Diagnostic::error(
        FieldPath::root(),
        format!(
            "the spec is not valid UTF-8 (byte 0x{byte:02x} at offset {})",
            error.valid_up_to()
        ),
    )
    .with_help("save the file as UTF-8");
    diagnostic.position = Some(SourcePosition { line, column });
    diagnostic
}

fn detect_form(value: &Value) -> Form {
    match value {
        Value::Object(map)
            if ["apiVersion", "kind", "metadata", "spec"]
                .iter()
                .any(|key| map.contains_key(*key)) =>
        {
            Form::Envelope
        }
        _ => Form::Bare,
    }
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Diagnostic> {
    serde_json::from_value(value).map_err(|error| {
        // The schema check accepts only what deserializes, so this is a bug if it happens; it
        // is still reported as a diagnostic, never a panic.
        Diagnostic::error(
            FieldPath::root(),
            format!("the spec does not match its types: {error}"),
        )
    })
}

/// A YAML node as serde-saphyr infers it (`deserialize_any`), each child with its location.
#[derive(Debug)]
enum RawNode {
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

fn to_json(
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

/// The envelope's metadata must be a valid Kubernetes object's: kustomize and kpt treat the spec
/// as one.
fn check_metadata(metadata: &Metadata) -> Diagnostics {
    use crate::validate::names::{
        dns_label_problem, dns_subdomain_problem, label_key_problem, label_value_problem,
    };
    let at = FieldPath::root().key("metadata");
    let mut diagnostics = Diagnostics::new();
    if let Some(problem) = dns_subdomain_problem(&metadata.name) {
        diagnostics.push(
            Diagnostic::error(at.clone().key("name"), problem)
                .with_help("the spec is a Kubernetes-style object; its name is a DNS subdomain such as `inferadb`"),
        );
    }
    if let Some(problem) = metadata.namespace.as_deref().and_then(dns_label_problem) {
        diagnostics.error(at.clone().key("namespace"), problem);
    }
    for (key, value) in &metadata.labels {
        let entry = at.clone().key("labels").key(key.clone());
        if let Some(problem) = label_key_problem(key).or_else(|| label_value_problem(value)) {
            diagnostics.error(entry, problem);
        }
    }
    for key in metadata.annotations.keys() {
        if let Some(problem) = label_key_problem(key) {
            diagnostics.error(at.clone().key("annotations").key(key.clone()), problem);
        }
    }
    diagnostics
}
