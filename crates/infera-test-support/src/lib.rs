//! Test helpers shared by the infera-render crates: where the workspace, the reference data
//! (`../shared`) and the external tools (`.tools/bin`, installed by `scripts/install-tools.sh`)
//! are, and how a test skips **loudly** when one is missing (and fails instead under CI, which
//! sets `INFERA_REQUIRE_TOOLS=1`).

use std::io::Write;
use std::path::{Path, PathBuf};

/// The workspace root.
#[must_use]
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Prints to the real stderr, which the test harness does not capture, so a skip is visible.
pub fn loud(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "\n*** {message} ***\n");
}

/// Whether CI demands the reference data and tools (`.ci/run` sets `INFERA_REQUIRE_TOOLS=1`).
#[must_use]
pub fn required() -> bool {
    std::env::var_os("INFERA_REQUIRE_TOOLS").is_some_and(|value| value == "1")
}

/// Skips loudly, or fails when [`required`].
///
/// # Panics
/// Under CI, with the message.
pub fn skip(message: &str) {
    assert!(!required(), "{message} (required under CI)");
    loud(message);
}

/// `../shared/reference/fdb-operator/<version>/<file>` when present; otherwise a loud skip.
#[must_use]
pub fn operator_reference(version: &str, file: &str) -> Option<PathBuf> {
    let path = workspace()
        .join("../shared/reference/fdb-operator")
        .join(version)
        .join(file);
    if path.is_file() {
        return Some(path);
    }
    skip(&format!(
        "SKIPPED: {} is missing, so the checks against the operator's CRDs did NOT run (check out ../shared beside this repository)",
        path.display()
    ));
    None
}

/// A tool from `$INFERA_TOOLS_DIR/bin` (default `.tools/bin`) or PATH; otherwise a loud skip.
#[must_use]
pub fn tool(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("INFERA_TOOLS_DIR")
        .map_or_else(|| workspace().join(".tools"), PathBuf::from);
    let local = dir.join("bin").join(name);
    if local.is_file() {
        return Some(local);
    }
    if let Some(found) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
    {
        return Some(found);
    }
    skip(&format!(
        "SKIPPED: `{name}` was not found (run scripts/install-tools.sh), so the checks that need it did NOT run"
    ));
    None
}
