//! Helpers shared by the CLI tests: run the built binary from the workspace root.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace root (where `examples/` and `tests/` live).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The `infera-render` binary built for this test run.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_infera-render")
}

/// What one run produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `infera-render ARGS` in the workspace root with a clean environment.
pub fn run(args: &[&str]) -> Run {
    let output = Command::new(binary())
        .args(args)
        .current_dir(workspace())
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("run infera-render");
    finish(output)
}

/// Runs `infera-render ARGS` with `stdin` as standard input.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(workspace())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn infera-render");
    let mut pipe = child.stdin.take().expect("stdin");
    // The child may stop reading early (oversized input): a broken pipe is fine.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    finish(child.wait_with_output().expect("wait for infera-render"))
}

/// The example specs, sorted by name, as paths relative to the workspace root.
pub fn examples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .map(|name| format!("examples/{name}"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 7,
        "expected at least 7 examples, found {}",
        names.len()
    );
    names
}

/// insta settings that write snapshots to `golden/<folder>/` at the workspace root.
pub fn golden(folder: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace().join("golden").join(folder));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}
