//! Reading a spec document from YAML or JSON text, keeping where every value was written.
//!
//! The text is parsed once with serde-saphyr into a tree of located nodes, with strict YAML 1.2
//! typing: `yes`/`no`/`on`/`off` are strings, not booleans, and a quoted `"3"` stays a string.
//! Budgets stop alias bombs, deep nesting and oversized input before they cost time or memory.
//! The tree becomes a JSON value plus a [`SourceMap`] (field path → line and column); the value
//! is checked against the spec's JSON Schema (`schema_check`), which reports every
//! structural problem at once, and only then deserialized into the typed spec.

mod raw_node;
mod schema_check;
mod source_map;
mod suggest;
mod yaml_errors;

pub use source_map::SourceMap;

use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath, SourcePosition};
use crate::validate::metadata::check_metadata;
use infera_spec::{Metadata, MultiRegionDeployment, MultiRegionSpec};
use raw_node::{RawNode, to_json};
use serde_json::Value;
use serde_saphyr::Spanned;
use yaml_errors::{not_utf8, parser_options, position_of, syntax_error};

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
