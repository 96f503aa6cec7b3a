//! Test helpers shared by the infera-render crates: where the workspace, the reference data
//! (`../shared`) and the external tools (`.tools/bin`, installed by `scripts/install-tools.sh`)
//! are, and how a test skips **loudly** when one is missing (and fails instead under CI, which
//! sets `INFERA_REQUIRE_TOOLS=1`).

pub mod netpol;

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
#[must_use]
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A seed connection string for phase-2 renders (any valid string will do).
pub const TEST_SEED: &str =
    "inferadb_fdb:S33dC0nnect10n@10.10.0.10:4501,10.10.0.11:4501,10.10.0.12:4501";

/// The example specs (`examples/*.yaml`), sorted by file name: `(file name, path)`.
///
/// # Panics
/// When the examples folder cannot be read or holds fewer than 7 examples.
#[must_use]
pub fn example_files() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((name, path))
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= 7,
        "expected at least 7 examples, found {}",
        out.len()
    );
    out
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

/// A CRD schema with unknown fields forbidden: Kubernetes would silently prune them, which is
/// exactly the bug class the check exists for (docs/fdb-multi-region.md §6 rule 22).
pub fn forbid_unknown_fields(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
                && !map.contains_key("anyOf")
            {
                map.insert(
                    "anyOf".to_owned(),
                    json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            let is_object = map.get("type").and_then(Value::as_str) == Some("object");
            let preserves =
                map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if is_object
                && map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !preserves
            {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            for value in map.values_mut() {
                forbid_unknown_fields(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_unknown_fields),
        _ => {}
    }
}

/// A strict validator of `FoundationDBCluster` objects for operator `version` (`v2.33.0`,
/// `v1.45.0`), from `../shared/reference/fdb-operator/`; `None` (after a loud skip) when absent.
///
/// # Panics
/// When the reference CRD is present but malformed.
#[must_use]
pub fn fdb_cluster_validator(version: &str) -> Option<jsonschema::Validator> {
    let path = operator_reference(version, "apps.foundationdb.org_foundationdbclusters.yaml")?;
    let text = std::fs::read_to_string(&path).expect("read the CRD");
    let crd: Value = serde_saphyr::from_str(&text).expect("the CRD is YAML");
    let versions = crd["spec"]["versions"].as_array().expect("CRD versions");
    let v1beta2 = versions
        .iter()
        .find(|v| v["name"] == "v1beta2")
        .expect("v1beta2 is served");
    let mut schema = v1beta2["schema"]["openAPIV3Schema"].clone();
    forbid_unknown_fields(&mut schema);
    Some(
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&schema)
            .expect("the CRD schema compiles"),
    )
}

/// Runs `kubernetes-validate --strict -k 1.33.0` over YAML documents of native kinds; returns
/// `false` (after a loud skip) when the tool is missing.
///
/// # Panics
/// When validation fails, with the tool's report.
pub fn validate_native_objects(documents: &[String]) -> bool {
    let Some(validate) = tool("kubernetes-validate") else {
        return false;
    };
    // One folder per call: the tests of one binary run in parallel in one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("infera-validate-{}-{call}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(format!("objects-{}.yaml", documents.len()));
    std::fs::write(&file, documents.join("---\n")).expect("write objects");
    let output = Command::new(validate)
        .args(["--strict", "-k", "1.33.0", "--quiet"])
        .arg(&file)
        .output()
        .expect("run kubernetes-validate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "kubernetes-validate failed:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("ERROR") && !stdout.contains("WARN"),
        "{stdout}\n{stderr}"
    );
    true
}
