//! Reading the spec from a file or standard input.

use infera_render::MAX_SPEC_BYTES;
use std::io::Read;
use std::path::Path;

/// The spec's bytes and the name diagnostics use for it.
pub struct SpecInput {
    /// The path as given, or `<stdin>`.
    pub name: String,
    /// The raw bytes (at most one byte more than the spec limit, so oversized input is reported
    /// without reading all of it).
    pub bytes: Vec<u8>,
}

/// Reads the spec. `-` is standard input.
///
/// # Errors
/// A message naming the file and the I/O problem (exit code 3).
pub fn read_spec(path: &Path) -> Result<SpecInput, String> {
    read(path, "the spec", MAX_SPEC_BYTES)
}

/// Reads `kubectl get foundationdbcluster -o json` for `--seed-from`. `-` is standard input.
///
/// # Errors
/// A message naming the file and the I/O problem (exit code 3).
pub fn read_cluster_json(path: &Path) -> Result<SpecInput, String> {
    read(path, "--seed-from", infera_render::MAX_CLUSTER_JSON_BYTES)
}

/// Reads at most `max` bytes and one more (so oversized input is reported without reading all
/// of it).
fn read(path: &Path, what: &str, max: usize) -> Result<SpecInput, String> {
    let limit = u64::try_from(max).unwrap_or(u64::MAX) + 1;
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|error| format!("cannot read {what} from standard input: {error}"))?;
        return Ok(SpecInput {
            name: "<stdin>".to_owned(),
            bytes,
        });
    }
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| format!("cannot read {name}: {error}"))?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read {name}: {error}"))?;
    Ok(SpecInput { name, bytes })
}
