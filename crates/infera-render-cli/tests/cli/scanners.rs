//! The security scanner users gate pipelines with, run on every example's output in both
//! phases: checkov (from PyPI, pinned with hashes by `scripts/install-tools.sh`), offline. Every
//! finding must be either absent or skipped with the reason that APPLY.md's "Scanner
//! exceptions" gives for that check; the one finding left is an image tag the spec chose
//! (`:latest`, the module's default), which the render's own warning already names. Then the
//! same output without the skip annotations is scanned again: every skip must hide a real
//! finding, so no annotation outlives what it excuses.
//!
//! kube-linter cannot be installed from a package registry here, so it does not run; its
//! ignore annotations come from the same table as checkov's.

#![allow(clippy::panic)]

use crate::common::{examples, render_into, tool};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// `(check id, file below the scanned folder)`.
type Finding = (String, String);

struct Scan {
    failed: BTreeMap<Finding, Value>,
    skipped: BTreeMap<Finding, String>,
    passed: usize,
}

/// checkov over `dir`, offline and deterministic (no update check, no guideline download, no
/// parallel runners, no config file from the home folder).
fn run_checkov(checkov: &Path, dir: &Path, home: &Path) -> Scan {
    let output = Command::new(checkov)
        .args([
            "--framework",
            "kubernetes",
            "--skip-download",
            "--compact",
            "-o",
            "json",
            "-d",
        ])
        .arg(dir)
        .current_dir(home)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("CKV_SKIP_PACKAGE_UPDATE_CHECK", "true")
        .env("CHECKOV_PARALLELIZATION_TYPE", "none")
        .output()
        .expect("run checkov");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // 0: no failure, 1: failures; anything else is checkov failing.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "checkov failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("checkov's JSON report");
    let reports = match report {
        Value::Array(reports) => reports,
        other => vec![other],
    };
    let mut scan = Scan {
        failed: BTreeMap::new(),
        skipped: BTreeMap::new(),
        passed: 0,
    };
    for report in reports {
        let results = &report["results"];
        scan.passed += results["passed_checks"].as_array().map_or(0, Vec::len);
        let key = |check: &Value| -> Finding {
            (
                check["check_id"].as_str().expect("check_id").to_owned(),
                check["file_path"].as_str().expect("file_path").to_owned(),
            )
        };
        for check in results["failed_checks"].as_array().into_iter().flatten() {
            scan.failed.insert(key(check), check.clone());
        }
        for check in results["skipped_checks"].as_array().into_iter().flatten() {
            let comment = check["check_result"]["suppress_comment"]
                .as_str()
                .unwrap_or_default();
            scan.skipped.insert(key(check), comment.to_owned());
        }
    }
    scan
}

/// The render folder of a file path checkov reports (`/<render>/<region>/<file>`).
fn render_of(file: &str) -> &str {
    file.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

/// A copy of `from` at `to` whose objects lost their checkov skip annotations.
fn without_skips(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            without_skips(&path, &target);
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        if path.extension().is_some_and(|e| e == "yaml") && text.contains("checkov.io/skip") {
            let mut documents = infera_render::parse_manifests(&text).expect("YAML");
            for document in &mut documents {
                if let Some(annotations) = document
                    .pointer_mut("/metadata/annotations")
                    .and_then(Value::as_object_mut)
                {
                    annotations.retain(|key, _| !key.starts_with("checkov.io/skip"));
                }
            }
            std::fs::write(&target, infera_render::to_stream(&documents)).expect("write");
        } else {
            std::fs::write(&target, text).expect("write");
        }
    }
}

#[test]
fn checkov_reports_no_finding_without_a_reason() {
    let Some(checkov) = tool("checkov") else {
        return;
    };
    // Not a hidden folder (`tempdir()`'s `.tmp…`): checkov skips those.
    let dir = tempfile::Builder::new()
        .prefix("infera-scan-")
        .tempdir()
        .expect("tempdir");
    let root = dir.path().join("out");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    // The render's warnings and APPLY.md, per render folder.
    let mut warnings = BTreeMap::new();
    let mut guides = BTreeMap::new();
    for example in examples() {
        for (suffix, seeded) in [("", false), ("-seeded", true)] {
            let name = format!(
                "{}{suffix}",
                Path::new(&example)
                    .file_stem()
                    .expect("stem")
                    .to_string_lossy()
            );
            let folder = root.join(&name);
            let result = render_into(&example, &folder, seeded);
            assert_eq!(result.code, 0, "{example}: {}", result.stderr);
            guides.insert(
                name.clone(),
                std::fs::read_to_string(folder.join("APPLY.md")).expect("APPLY.md"),
            );
            warnings.insert(name, result.stderr);
        }
    }

    let scan = run_checkov(&checkov, &root, &home);
    assert!(scan.passed > 1000, "only {} checks passed", scan.passed);

    // Failures: only an image tag the spec chose, which the render warned about.
    let mut unexplained = Vec::new();
    for ((check, file), finding) in &scan.failed {
        let render = render_of(file);
        let object =
            std::fs::read_to_string(root.join(file.trim_start_matches('/'))).unwrap_or_default();
        let latest: Vec<&str> = object
            .lines()
            .filter_map(|line| line.trim().strip_prefix("image: "))
            .filter(|image| image.ends_with(":latest"))
            .collect();
        let warned = check == "CKV_K8S_14"
            && !latest.is_empty()
            && latest
                .iter()
                .all(|image| warnings[render].contains(&format!("`{image}`")));
        if !warned {
            unexplained.push(format!(
                "{check} {file} ({}): {}",
                finding["resource"].as_str().unwrap_or_default(),
                finding["check_name"].as_str().unwrap_or_default()
            ));
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} finding(s) without a reason:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );

    // Skips: each with the reason APPLY.md gives for that check.
    assert!(!scan.skipped.is_empty(), "nothing was skipped");
    let mut wrong = Vec::new();
    for ((check, file), comment) in &scan.skipped {
        let guide = &guides[render_of(file)];
        let section = guide
            .split("## Scanner exceptions")
            .nth(1)
            .map(|rest| rest.split("\n## ").next().unwrap_or_default())
            .unwrap_or_default();
        let listed = section
            .lines()
            .any(|line| line.contains(&format!("`{check}`")) && line.contains(comment.as_str()));
        if comment.is_empty() || !listed {
            wrong.push(format!("{check} {file}: {comment:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "skips whose reason APPLY.md does not list for the check:\n{}",
        wrong.join("\n")
    );

    // Without the annotations, every skip is a failure: no skip hides nothing.
    let bare = dir.path().join("bare");
    std::fs::create_dir_all(&bare).expect("mkdir");
    without_skips(&root, &bare);
    let unskipped = run_checkov(&checkov, &bare, &home);
    let stale: Vec<String> = scan
        .skipped
        .keys()
        .filter(|key| !unskipped.failed.contains_key(*key))
        .map(|(check, file)| format!("{check} {file}"))
        .collect();
    assert!(
        stale.is_empty(),
        "skip annotations on objects that pass the check anyway:\n{}",
        stale.join("\n")
    );
    let before: BTreeSet<&Finding> = scan.failed.keys().chain(scan.skipped.keys()).collect();
    let after: BTreeSet<&Finding> = unskipped.failed.keys().collect();
    assert_eq!(
        before, after,
        "the annotations change nothing but the skips"
    );
}
