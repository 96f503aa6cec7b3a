//! Where each value of a document was written: field path → line and column, and the scalar
//! exactly as written.

use crate::diagnostics::{FieldPath, SourcePosition};
use std::collections::BTreeMap;

/// Where each value of a document was written: field path → line and column.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    entries: BTreeMap<FieldPath, SourceEntry>,
}

#[derive(Clone, Debug)]
pub(super) struct SourceEntry {
    pub(super) key: Option<SourcePosition>,
    pub(super) value: SourcePosition,
    pub(super) scalar_text: Option<String>,
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

    pub(super) fn insert(&mut self, path: FieldPath, entry: SourceEntry) {
        self.entries.insert(path, entry);
    }
}
