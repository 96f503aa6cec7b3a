//! The changed fields of one object: a walk over two JSON values that matches list entries by
//! their `name` (or `id`), as the strategic-merge keys and `dyff` do, so adding one container
//! or env var is one change, not a shifted list.

use serde_json::Value;
use std::fmt;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A mapping key.
    Key(String),
    /// The list entry whose `name` (or `id`) is this.
    Named(String),
    /// The list entry at this position (lists without a key).
    Index(usize),
}

/// A field path (`spec.template.spec.containers[engine].image`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(pub(crate) Vec<Step>);

impl FieldPath {
    fn child(&self, step: Step) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        Self(steps)
    }

    /// Whether the path starts with `pattern`'s keys; `*` matches any one step.
    pub(crate) fn starts_with(&self, pattern: &[&str]) -> bool {
        pattern.len() <= self.0.len()
            && pattern
                .iter()
                .zip(&self.0)
                .all(|(want, step)| *want == "*" || matches!(step, Step::Key(key) if key == want))
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(key) if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                    if index > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Step::Key(key) => write!(f, "[{key:?}]")?,
                Step::Named(name) => write!(f, "[{name}]")?,
                Step::Index(position) => write!(f, "[{position}]")?,
            }
        }
        Ok(())
    }
}

/// One changed field: its value before and after (`None`: absent).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Delta {
    /// Where.
    pub(crate) path: FieldPath,
    /// The old value.
    pub(crate) before: Option<Value>,
    /// The new value.
    pub(crate) after: Option<Value>,
}

/// Every changed field between `before` and `after`, in the new value's order.
pub(crate) fn deltas(before: &Value, after: &Value) -> Vec<Delta> {
    let mut out = Vec::new();
    walk(&FieldPath::default(), Some(before), Some(after), &mut out);
    out
}

fn walk(path: &FieldPath, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Delta>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            for (key, value) in new {
                walk(
                    &path.child(Step::Key(key.clone())),
                    old.get(key),
                    Some(value),
                    out,
                );
            }
            for (key, value) in old {
                if !new.contains_key(key) {
                    walk(&path.child(Step::Key(key.clone())), Some(value), None, out);
                }
            }
        }
        (Some(Value::Array(old)), Some(Value::Array(new))) => {
            if let (Some(old_keys), Some(new_keys)) = (entry_keys(old), entry_keys(new)) {
                for (key, value) in new_keys.iter().zip(new) {
                    let previous = old_keys.iter().position(|k| k == key).map(|i| &old[i]);
                    walk(
                        &path.child(Step::Named(key.clone())),
                        previous,
                        Some(value),
                        out,
                    );
                }
                for (key, value) in old_keys.iter().zip(old) {
                    if !new_keys.contains(key) {
                        walk(
                            &path.child(Step::Named(key.clone())),
                            Some(value),
                            None,
                            out,
                        );
                    }
                }
            } else if old.len() == new.len() || old.iter().chain(new).all(Value::is_object) {
                // By position; entries past the shorter list are added or removed.
                for position in 0..old.len().max(new.len()) {
                    walk(
                        &path.child(Step::Index(position)),
                        old.get(position),
                        new.get(position),
                        out,
                    );
                }
            } else {
                leaf(path, before, after, out);
            }
        }
        _ => leaf(path, before, after, out),
    }
}

fn leaf(path: &FieldPath, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Delta>) {
    out.push(Delta {
        path: path.clone(),
        before: before.cloned(),
        after: after.cloned(),
    });
}

/// The entries' keys when every entry is a mapping with a unique string `name` (else `id`).
fn entry_keys(list: &[Value]) -> Option<Vec<String>> {
    ["name", "id"].iter().find_map(|field| {
        let keys: Vec<String> = list
            .iter()
            .map(|entry| entry.get(field).and_then(Value::as_str).map(str::to_owned))
            .collect::<Option<_>>()?;
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        (unique.len() == keys.len() && !keys.is_empty()).then_some(keys)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(before: &Value, after: &Value) -> Vec<String> {
        deltas(before, after)
            .iter()
            .map(|delta| delta.path.to_string())
            .collect()
    }

    #[test]
    fn lists_are_matched_by_name_not_position() {
        let before = json!({"spec": {"containers": [
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "b:1"}]}});
        let after = json!({"spec": {"containers": [
            {"name": "b", "image": "b:1"},
            {"name": "a", "image": "a:2", "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "1"}]}]}});
        assert_eq!(
            paths(&before, &after),
            ["spec.containers[a].image", "spec.containers[a].env[Y]"]
        );
    }

    #[test]
    fn keys_with_dots_are_quoted_and_removals_listed() {
        let before = json!({"metadata": {"labels": {"app.kubernetes.io/name": "x", "gone": "1"}}});
        let after = json!({"metadata": {"labels": {"app.kubernetes.io/name": "y"}}});
        let found = deltas(&before, &after);
        assert_eq!(
            found.iter().map(|d| d.path.to_string()).collect::<Vec<_>>(),
            [
                "metadata.labels[\"app.kubernetes.io/name\"]",
                "metadata.labels.gone"
            ]
        );
        assert_eq!(found[1].after, None);
        assert!(found[1].path.starts_with(&["metadata", "labels"]));
        assert!(found[1].path.starts_with(&["*", "labels"]));
        assert!(!found[1].path.starts_with(&["spec"]));
    }

    #[test]
    fn unkeyed_lists_of_equal_length_by_position_else_whole() {
        let before =
            json!({"regions": [{"datacenters": [{"id": "a", "priority": 1}]}], "args": ["x"]});
        let after = json!({"regions": [{"datacenters": [{"id": "a", "priority": 2}]}, {"datacenters": []}], "args": ["x", "y"]});
        assert_eq!(
            paths(&before, &after),
            ["regions[0].datacenters[a].priority", "regions[1]", "args"]
        );
        assert!(deltas(&before, &before).is_empty());
    }
}
