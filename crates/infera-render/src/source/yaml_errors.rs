//! serde-saphyr's parser options (budgets against alias bombs and deep nesting, strict YAML 1.2
//! types) and its errors in the user's words.

use crate::diagnostics::{Diagnostic, FieldPath, SourcePosition};
use serde_saphyr::{MessageFormatter, UserMessageFormatter};

use super::MAX_SPEC_BYTES;

pub(super) fn parser_options() -> serde_saphyr::Options {
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

pub(super) fn position_of(location: &serde_saphyr::Location) -> SourcePosition {
    SourcePosition {
        line: location.line(),
        column: location.column(),
    }
}

pub(super) fn syntax_error(error: &serde_saphyr::Error) -> Diagnostic {
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

pub(super) fn not_utf8(bytes: &[u8], error: &std::str::Utf8Error) -> Diagnostic {
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
