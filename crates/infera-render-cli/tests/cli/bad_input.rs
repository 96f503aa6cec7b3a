//! The bad-input corpus: every file in `tests/invalid/` must exit 1, quickly, naming the field
//! (its first line says `# expect: <text>`), and never panic. The exact stderr is a golden file
//! in `golden/invalid/`. Two huge inputs are generated here instead of being committed.

use crate::common::{golden, run, run_with_stdin};
use std::time::{Duration, Instant};

/// A hang guard, not a benchmark: each case takes a few milliseconds; this catches runaways.
const LIMIT: Duration = Duration::from_secs(2);

fn expectation(bytes: &[u8]) -> Option<String> {
    let first_line = bytes.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(first_line).ok()?;
    line.strip_prefix("# expect: ")
        .map(|text| text.trim_end().to_owned())
}

/// Each file is its own snapshot (`insta::glob!`), so a run reports every mismatch, not the
/// first; the other checks of every file are collected and reported together too.
#[test]
fn every_invalid_spec_exits_1_naming_the_problem() {
    let mut problems = Vec::new();
    let mut count = 0;
    insta::glob!("../../../../tests/invalid", "*", |path| {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !path.is_file() || name.starts_with('.') || name.ends_with(".md") {
            return;
        }
        count += 1;
        let relative = format!("tests/invalid/{name}");
        let bytes = std::fs::read(path).expect("read corpus file");
        let Some(expected) = expectation(&bytes) else {
            problems.push(format!(
                "{relative}: the first line must be `# expect: <text>`"
            ));
            return;
        };
        let started = Instant::now();
        let result = run(&["validate", "-f", &relative]);
        let took = started.elapsed();
        if result.code != 1 {
            problems.push(format!(
                "{relative}: expected exit 1, got {}:\n{}",
                result.code, result.stderr
            ));
        }
        if !result.stdout.is_empty() {
            problems.push(format!("{relative}: stdout must stay empty"));
        }
        if !result.stderr.contains(&expected) {
            problems.push(format!(
                "{relative}: stderr does not contain `{expected}`:\n{}",
                result.stderr
            ));
        }
        if !result
            .stderr
            .lines()
            .any(|line| line.starts_with("error: "))
        {
            problems.push(format!("{relative}: no `error:` line"));
        }
        if !result.stderr.contains(&format!("--> {relative}:")) {
            problems.push(format!(
                "{relative}: no file:line:column position:\n{}",
                result.stderr
            ));
        }
        if took >= LIMIT {
            problems.push(format!("{relative}: took {took:?}"));
        }
        let snapshot_name = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(stem, _)| stem)
            .to_owned();
        golden("invalid").bind(|| {
            insta::assert_snapshot!(
                snapshot_name,
                format!(
                    "$ infera-render validate -f {relative}\nexit code: {}\n{}",
                    result.code, result.stderr
                )
            );
        });
    });
    assert!(
        count >= 40,
        "the corpus needs at least 40 files, found {count}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_20_megabyte_spec_is_refused_quickly() {
    let mut text = String::from("regions:\n");
    while text.len() < 20 * 1024 * 1024 {
        text.push_str(
            "  - {id: us-west-1, is_primary: true, priority: 1, name: padding-padding-padding}\n",
        );
    }
    let started = Instant::now();
    let result = run_with_stdin(&["validate", "-f", "-"], text.as_bytes());
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains(
            "error: the spec is 1048577 bytes, more than the 1048576 bytes a spec may have"
        ),
        "{}",
        result.stderr
    );
    assert!(started.elapsed() < LIMIT);
}

#[test]
fn ten_thousand_levels_of_nesting_are_refused_quickly() {
    for text in [
        format!("regions: {}{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        format!(
            "regions:{}\n",
            (1..=10_000)
                .map(|depth| format!("\n{}- ", "  ".repeat(depth)))
                .collect::<String>()
        ),
        format!(
            "{}\n",
            (0..10_000)
                .map(|depth| format!("{}k:\n", " ".repeat(depth)))
                .collect::<String>()
        ),
    ] {
        let started = Instant::now();
        let result = run_with_stdin(&["validate", "-f", "-"], text.as_bytes());
        assert_eq!(result.code, 1, "{}", result.stderr);
        assert!(result.stderr.contains("error:"), "{}", result.stderr);
        assert!(!result.stderr.contains("panicked"), "{}", result.stderr);
        assert!(started.elapsed() < LIMIT, "took {:?}", started.elapsed());
    }
}
