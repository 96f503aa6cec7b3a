//! The bad-input corpus: every file in `tests/invalid/` must exit 1, quickly, naming the field
//! (its first line says `# expect: <text>`), and never panic. The exact stderr is a golden file
//! in `golden/invalid/`. Two huge inputs are generated here instead of being committed.

mod common;

use common::{golden, run, run_with_stdin, workspace};
use std::time::{Duration, Instant};

/// A hang guard, not a benchmark: each case takes a few milliseconds; this catches runaways.
const LIMIT: Duration = Duration::from_secs(2);

fn corpus() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace().join("tests/invalid"))
        .expect("tests/invalid/")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.') && !name.ends_with(".md"))
        .collect();
    names.sort();
    names
}

fn expectation(bytes: &[u8]) -> Option<String> {
    let first_line = bytes.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(first_line).ok()?;
    line.strip_prefix("# expect: ")
        .map(|text| text.trim_end().to_owned())
}

#[test]
fn every_invalid_spec_exits_1_naming_the_problem() {
    let names = corpus();
    assert!(
        names.len() >= 40,
        "the corpus needs at least 40 files, found {}",
        names.len()
    );
    for name in names {
        let relative = format!("tests/invalid/{name}");
        let bytes = std::fs::read(workspace().join(&relative)).expect("read corpus file");
        let expected = expectation(&bytes)
            .unwrap_or_else(|| panic!("{relative}: the first line must be `# expect: <text>`"));
        let started = Instant::now();
        let result = run(&["validate", "-f", &relative]);
        let took = started.elapsed();
        assert_eq!(
            result.code, 1,
            "{relative}: expected exit 1, got {}:\n{}",
            result.code, result.stderr
        );
        assert!(
            result.stdout.is_empty(),
            "{relative}: stdout must stay empty"
        );
        assert!(
            result.stderr.contains(&expected),
            "{relative}: stderr does not contain `{expected}`:\n{}",
            result.stderr
        );
        assert!(
            result
                .stderr
                .lines()
                .any(|line| line.starts_with("error: ")),
            "{relative}: no `error:` line"
        );
        assert!(
            result.stderr.contains(&format!("--> {relative}:")),
            "{relative}: no file:line:column position:\n{}",
            result.stderr
        );
        assert!(took < LIMIT, "{relative}: took {took:?}");
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
    }
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
