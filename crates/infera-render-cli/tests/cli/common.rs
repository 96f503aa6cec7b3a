//! Helpers shared by the CLI tests: run the built binary from the workspace root.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub use infera_test_support::{operator_reference, tool, workspace};

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

/// The [`Run`] of a finished process.
pub fn finish(output: Output) -> Run {
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
    infera_test_support::example_files()
        .into_iter()
        .map(|(name, _)| format!("examples/{name}"))
        .collect()
}

/// Runs `check` on every example (`examples/<name>.yaml`, relative to the workspace root), one
/// `insta::glob!` entry each, so a run reports every golden that differs, not only the first.
pub fn for_each_example(mut check: impl FnMut(&str)) {
    insta::glob!("../../../../examples", "*.yaml", |path| {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        check(&format!("examples/{name}"));
    });
}

/// `infera-render render -f SPEC -o OUT`, in phase 2 (with [`TEST_SEED`]) when `seeded`.
pub fn render_into(spec: &str, out: &Path, seeded: bool) -> Run {
    let out = out.to_str().expect("utf-8 path");
    let mut args = vec!["render", "-f", spec, "-o", out];
    if seeded {
        args.extend(["--seed-connection-string", TEST_SEED]);
    }
    run(&args)
}

/// Every example rendered with `-o` below `dir`, in bootstrap phase 1 (as written) and phase 2
/// (with [`TEST_SEED`]): `(label, region folders, sorted)` per render.
pub fn render_examples_in_both_phases(dir: &Path) -> Vec<(String, Vec<std::path::PathBuf>)> {
    let mut out = Vec::new();
    for example in examples() {
        for (phase, seeded) in [("1", false), ("2", true)] {
            let folder = dir.join(format!("{}-{phase}", example.replace('/', "_")));
            let result = render_into(&example, &folder, seeded);
            assert_eq!(result.code, 0, "{example}: {}", result.stderr);
            let mut regions: Vec<std::path::PathBuf> = std::fs::read_dir(&folder)
                .expect("read the output folder")
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.is_dir())
                .collect();
            regions.sort();
            out.push((format!("{example} (phase {phase})"), regions));
        }
    }
    out
}

/// insta settings that write snapshots to `golden/<folder>/` at the workspace root.
pub fn golden(folder: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace().join("golden").join(folder));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    // Inside `insta::glob!` the goldens keep their plain names, without the glob's suffix or
    // input-file header.
    settings.remove_snapshot_suffix();
    settings.remove_input_file();
    settings
}

pub use infera_test_support::TEST_SEED;

/// Every file below `dir` (relative path → bytes); directories end with `/`, symlinks show
/// their target. Two equal trees mean nothing changed.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("read_dir") {
            let path = entry.expect("entry").path();
            let relative = path
                .strip_prefix(dir)
                .expect("prefix")
                .display()
                .to_string();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.file_type().is_symlink() {
                out.insert(
                    relative,
                    format!("-> {}", std::fs::read_link(&path).expect("link").display())
                        .into_bytes(),
                );
            } else if meta.is_dir() {
                out.insert(format!("{relative}/"), Vec::new());
                stack.push(path);
            } else {
                out.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// What infera-render keeps in an output folder for itself: the manifest of what it wrote, and
/// the lock file (empty).
pub const TOOL_FILES: [&str; 2] = [".infera-render-manifest.json", ".infera-render.lock"];

/// A tree as one text: each file under a `=== path ===` header ([`TOOL_FILES`] excluded).
pub fn tree_text(dir: &Path) -> String {
    let mut text = String::new();
    for (path, bytes) in tree(dir) {
        if path.ends_with('/') || TOOL_FILES.contains(&path.as_str()) {
            continue;
        }
        text.push_str(&format!(
            "=== {path} ===\n{}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    text
}
