//! Every example validates, and `plan` explains it; both outputs are golden files.

use crate::common::{examples, for_each_example, golden, run, workspace};

#[test]
fn every_example_validates_and_plans() {
    for_each_example(|example| {
        let validate = run(&["validate", "-f", example]);
        assert_eq!(
            validate.code, 0,
            "{example} must validate:\n{}",
            validate.stderr
        );
        assert!(
            validate.stdout.is_empty(),
            "validate prints nothing to stdout"
        );
        let plan = run(&["plan", "-f", example]);
        assert_eq!(plan.code, 0, "{example}: plan failed:\n{}", plan.stderr);
        assert!(
            plan.stderr.is_empty(),
            "plan keeps warnings in its output:\n{}",
            plan.stderr
        );
        let name = example
            .trim_start_matches("examples/")
            .trim_end_matches(".yaml");
        golden("plan").bind(|| {
            insta::assert_snapshot!(
                name,
                format!(
                    "$ infera-render validate -f {example}\n{}\n$ infera-render plan -f {example}\n{}",
                    validate.stderr, plan.stdout
                )
            );
        });
    });
}

#[test]
fn every_example_points_at_the_schema() {
    for example in examples() {
        let text = std::fs::read_to_string(workspace().join(&example)).expect("read example");
        assert!(
            text.lines()
                .next()
                .is_some_and(|line| line
                    == "# yaml-language-server: $schema=../schemas/infera-spec.schema.json"),
            "{example} must start with the yaml-language-server schema line"
        );
    }
}

#[test]
fn the_module_examples_keep_the_modules_key_fact() {
    // The three examples of the Terraform module's README keep its values; the renderer's
    // answer to each is in the golden plan. Spot-check the values that drive the topology.
    let text = |name: &str| {
        std::fs::read_to_string(workspace().join("examples").join(name)).expect("read")
    };
    let two = text("two-region.yaml");
    assert!(two.contains("usable_regions: 1") && two.contains("satellite_logs: 4"));
    let three = text("three-region.yaml");
    assert!(three.contains("usable_regions: 2") && three.contains("satellite_logs: 6"));
    assert!(three.contains("ap-southeast-1c"));
    let sizing = text("custom-sizing.yaml");
    assert!(sizing.contains("storage_class: fast-ssd") && sizing.contains("replicas: 5"));
}

/// Reverses the key order of every mapping.
fn shuffle(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.reverse();
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, shuffle(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(shuffle).collect())
        }
        other => other,
    }
}

#[test]
fn plan_render_and_outputs_are_deterministic_and_ignore_key_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    for example in examples() {
        let text = std::fs::read_to_string(workspace().join(&example)).expect("read");
        let value: serde_json::Value =
            serde_saphyr::from_str(&text).expect("example parses as YAML");
        let shuffled = dir.path().join("shuffled.json");
        std::fs::write(
            &shuffled,
            serde_json::to_string_pretty(&shuffle(value)).expect("json"),
        )
        .expect("write");
        let shuffled = shuffled.to_str().expect("utf-8 path").to_owned();
        for command in [
            vec!["plan"],
            vec!["render"],
            vec![
                "render",
                "--seed-connection-string",
                crate::common::TEST_SEED,
            ],
            vec!["outputs"],
        ] {
            let with = |file: &str| {
                let mut args = command.clone();
                args.extend(["-f", file]);
                run(&args)
            };
            let first = with(&example);
            let second = with(&example);
            assert_eq!(first.code, 0, "{example} {command:?}: {}", first.stderr);
            assert_eq!(
                first.stdout, second.stdout,
                "{example} {command:?}: two runs differ"
            );
            let reordered = with(&shuffled);
            assert_eq!(
                reordered.code, 0,
                "{example} {command:?}: shuffled copy failed:\n{}",
                reordered.stderr
            );
            assert_eq!(
                first.stdout, reordered.stdout,
                "{example} {command:?}: key order changed the output"
            );
        }
    }
}
