//! The reports of [`super::Changes`]: the human one (per region, per object, with YAML hunks),
//! the JSON one, and the text diffs of side files.

use super::{Action, ChangeClass, Changes, FileChange, ObjectChange, Previous, Transition};
use crate::render::{OutputFile, RenderedObject};
use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Lines of context around a change in a hunk.
const CONTEXT: usize = 2;
/// At most this many diff lines per side file (`APPLY.md` changes a lot at once).
const SIDE_FILE_LINES: usize = 40;
/// Values longer than this are cut in the field list.
const SHORT_VALUE: usize = 80;

/// How the human report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Plain text (a pipe, a file, `NO_COLOR`).
    Plain,
    /// With ANSI colours (a terminal).
    Color,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Self::Plain => text.to_owned(),
            Self::Color => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }

    fn class(self, class: ChangeClass) -> String {
        let code = match class {
            ChangeClass::Safe => "2",
            ChangeClass::Restarts => "36",
            ChangeClass::ReplacesFdbPods | ChangeClass::MigratesData => "33",
            ChangeClass::Destructive => "1;31",
        };
        self.paint(code, &format!("[{}]", class.name()))
    }

    fn line(self, line: &str) -> String {
        match line.as_bytes().first() {
            Some(b'+') => self.paint("32", line),
            Some(b'-') => self.paint("31", line),
            Some(b'@') => self.paint("36", line),
            _ => line.to_owned(),
        }
    }
}

/// A value in one line: JSON, cut at [`SHORT_VALUE`] characters.
pub(super) fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= SHORT_VALUE {
        return text;
    }
    let cut: String = text.chars().take(SHORT_VALUE - 1).collect();
    format!("{cut}…")
}

/// Two values in one line each; when both are cut to the same text, each is shown from where
/// they start to differ (the YAML hunk below has them whole).
fn short_pair(before: &Value, after: &Value) -> (String, String) {
    let (a, b) = (short(before), short(after));
    if a != b {
        return (a, b);
    }
    let (a, b) = (before.to_string(), after.to_string());
    let common = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(0, |((index, _), _)| index);
    let tail = |text: &str| {
        let rest: String = text[common..].chars().take(SHORT_VALUE - 2).collect();
        format!("…{rest}…")
    };
    (tail(&a), tail(&b))
}

/// A copy of a Secret with every value of `data` and `stringData` hidden.
fn hide_secret_values(object: &RenderedObject) -> Value {
    let mut value = object.value.clone();
    if object.kind == "Secret" {
        for field in ["data", "stringData"] {
            if let Some(map) = value.get_mut(field).and_then(Value::as_object_mut) {
                for entry in map.values_mut() {
                    *entry = Value::String("(hidden)".to_owned());
                }
            }
        }
    }
    value
}

/// A unified diff of an object's YAML, old to new (Secret values hidden).
pub(super) fn object_diff(old: &RenderedObject, new: &RenderedObject) -> String {
    let before = crate::render::yaml_text(&hide_secret_values(old));
    let after = crate::render::yaml_text(&hide_secret_values(new));
    unified(&before, &after, usize::MAX)
}

/// The hunks of a line diff (no file header), at most `limit` lines.
fn unified(before: &str, after: &str, limit: usize) -> String {
    let diff = TextDiff::from_lines(before, after);
    let mut lines: Vec<String> = Vec::new();
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old = first.old_range().start..last.old_range().end;
        let new = first.new_range().start..last.new_range().end;
        lines.push(format!(
            "@@ -{},{} +{},{} @@",
            old.start + 1,
            old.len(),
            new.start + 1,
            new.len()
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let text = change.value();
                lines.push(format!("{sign}{}", text.strip_suffix('\n').unwrap_or(text)));
            }
        }
    }
    let mut out = String::new();
    let total = lines.len();
    for line in lines.iter().take(limit) {
        out.push_str(line);
        out.push('\n');
    }
    if total > limit {
        let _ = writeln!(out, "… ({} more lines)", total - limit);
    }
    out
}

/// The side files (everything but the object files) that would be added, removed or changed.
pub(super) fn side_files(
    previous: &Previous,
    files: &[OutputFile],
    in_scope: &dyn Fn(&str) -> bool,
) -> Vec<FileChange> {
    let wanted = |path: &str| {
        super::object_file(path).is_none()
            && path
                .split_once('/')
                .is_none_or(|(region, _)| in_scope(region))
    };
    // Side files are few and small: copying them is cheap.
    let new: BTreeMap<String, String> = files
        .iter()
        .filter(|file| wanted(&file.path))
        .map(|file| (file.path.clone(), file.contents.clone()))
        .collect();
    let mut out = Vec::new();
    for (path, contents) in &new {
        match previous.files.get(path) {
            None => out.push(FileChange {
                path: path.clone(),
                action: Action::Added,
                diff: String::new(),
            }),
            Some(old) if old != contents => out.push(FileChange {
                path: path.clone(),
                action: Action::Changed,
                diff: unified(old, contents, SIDE_FILE_LINES),
            }),
            Some(_) => {}
        }
    }
    for path in previous.files.keys() {
        if wanted(path) && !new.contains_key(path) {
            out.push(FileChange {
                path: path.clone(),
                action: Action::Removed,
                diff: String::new(),
            });
        }
    }
    out
}

fn sign(action: Action) -> char {
    match action {
        Action::Added => '+',
        Action::Removed => '-',
        Action::Changed => '~',
    }
}

fn indented(out: &mut String, text: &str, style: Style) {
    for line in text.lines() {
        let _ = writeln!(out, "      {}", style.line(line));
    }
}

fn object(out: &mut String, change: &ObjectChange, style: Style) {
    let _ = writeln!(
        out,
        "  {} {}  {}",
        sign(change.action),
        change.object.label(),
        style.class(change.class)
    );
    for reason in &change.reasons {
        // "+ Kind name [safe]" says it all for a plain new object.
        if change.action == Action::Added
            && reason.path.is_empty()
            && reason.why == super::classify::ADDED
        {
            continue;
        }
        let field = if reason.path.is_empty() {
            String::new()
        } else {
            match (&reason.before, &reason.after) {
                (Some(before), Some(after)) => {
                    let (before, after) = short_pair(before, after);
                    format!("{}: {before} → {after}: ", reason.path)
                }
                (None, Some(after)) => format!("{}: added {}: ", reason.path, short(after)),
                (Some(_), None) => format!("{}: removed: ", reason.path),
                (None, None) => format!("{}: ", reason.path),
            }
        };
        let marker = if reason.class == ChangeClass::Safe {
            String::new()
        } else {
            format!("{} ", style.class(reason.class))
        };
        let _ = writeln!(out, "      {field}{marker}{}", reason.why);
    }
    indented(out, &change.diff, style);
}

/// The human report: transitions, then each region's objects, then the side files, then a
/// summary line. Empty when nothing would change.
pub(super) fn report(changes: &Changes, style: Style) -> String {
    let mut out = String::new();
    if changes.is_empty() {
        return out;
    }
    for transition in &changes.transitions {
        let what = transition.what();
        let _ = writeln!(out, "{} {what}", style.paint("1", "*"));
    }
    if !changes.transitions.is_empty() {
        out.push('\n');
    }
    let mut region: Option<&str> = None;
    for change in &changes.objects {
        if region != Some(change.object.region.as_str()) {
            if region.is_some() {
                out.push('\n');
            }
            region = Some(&change.object.region);
            let context = change
                .object
                .context
                .as_ref()
                .map(|context| format!(" (context {context})"))
                .unwrap_or_default();
            let _ = writeln!(out, "{}{context}", style.paint("1", &change.object.region));
        }
        object(&mut out, change, style);
    }
    if !changes.files.is_empty() {
        if region.is_some() {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", style.paint("1", "files"));
        for file in &changes.files {
            let _ = writeln!(out, "  {} {}", sign(file.action), file.path);
            indented(&mut out, &file.diff, style);
        }
    }
    out.push('\n');
    out.push_str(&summary(changes));
    out.push('\n');
    out
}

/// `3 to add, 1 to change, 2 to remove, 3 side file(s); classes: 1 destructive, 2 safe`.
pub(super) fn summary(changes: &Changes) -> String {
    let count = |action: Action| {
        changes
            .objects
            .iter()
            .filter(|change| change.action == action)
            .count()
    };
    let classes: Vec<String> = changes
        .class_counts()
        .iter()
        .rev()
        .map(|(class, count)| format!("{count} {}", class.name()))
        .collect();
    let classes = if classes.is_empty() {
        String::new()
    } else {
        format!("; {}", classes.join(", "))
    };
    format!(
        "{} to add, {} to change, {} to remove, {} side file(s){classes}",
        count(Action::Added),
        count(Action::Changed),
        count(Action::Removed),
        changes.files.len()
    )
}

/// `diff --output json`.
#[derive(Serialize)]
pub(super) struct JsonReport<'a> {
    /// Whether anything would change (the exit code says it too: 16).
    changed: bool,
    /// The summary line of the human report.
    summary: String,
    /// Counts per class.
    classes: BTreeMap<&'static str, usize>,
    transitions: &'a [Transition],
    objects: &'a [ObjectChange],
    files: &'a [FileChange],
}

impl<'a> JsonReport<'a> {
    pub(super) fn new(changes: &'a Changes) -> Self {
        Self {
            changed: !changes.is_empty(),
            summary: summary(changes),
            classes: changes
                .class_counts()
                .into_iter()
                .map(|(class, count)| (class.name(), count))
                .collect(),
            transitions: &changes.transitions,
            objects: &changes.objects,
            files: &changes.files,
        }
    }
}
