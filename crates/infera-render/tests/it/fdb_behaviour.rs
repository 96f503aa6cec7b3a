//! What the FoundationDB operator and FoundationDB do with the rendered objects:
//! - the operators' staged configuration change (`infera_render::model::staging`, a port of
//!   `GetNextConfigurationChange` with FoundationDB's `configure` checks), walked from each
//!   example's phase-1 objects through its phase-2 objects applied region by region, and through a
//!   planned switch applied in every region order;
//! - the failure scenarios against hand-checked cases of the review, and `plan`, `outputs.json`
//!   and `APPLY.md` against the computation;
//! - the waits and checks `APPLY.md` renders, run exactly as rendered (a fake `kubectl`, the
//!   real `jq` on `status json` shaped like FoundationDB's schema).

#![allow(clippy::panic)]

use crate::support::{
    TEST_SEED, all_operators, applies, desired, examples, permutations, phase_two_problems,
    renders, switch_problems, switched,
};
use infera_render::model::failure::{Lost, Scenario};
use infera_render::spec::{FdbRole, MultiRegionSpec};
use infera_render::{PlanOptions, RenderOptions, Rendered, render_with};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

fn example(name: &str) -> MultiRegionSpec {
    examples()
        .into_iter()
        .find(|(file, _)| file == &format!("{name}.yaml"))
        .unwrap_or_else(|| panic!("no example {name}"))
        .1
}

fn seeded(spec: &MultiRegionSpec) -> Rendered {
    let options = PlanOptions {
        seed_connection_string: Some(TEST_SEED.to_owned()),
        ..PlanOptions::default()
    };
    render_with(spec, &options, &RenderOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_example_converges_from_phase_one_to_phase_two() {
    for (name, spec) in examples() {
        let problems = phase_two_problems(&spec);
        assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    }
}

#[test]
fn a_planned_switch_converges_in_every_apply_order_without_a_flip_back() {
    let mut walked = 0;
    for (name, spec) in examples() {
        if switched(&spec).is_none() {
            continue;
        }
        let after = seeded(&switched(&spec).expect("switched"));
        let with_clusters: Vec<usize> = after
            .regions
            .iter()
            .enumerate()
            .filter(|(_, bundle)| {
                bundle
                    .objects
                    .iter()
                    .any(|o| o.kind == "FoundationDBCluster")
            })
            .map(|(index, _)| index)
            .collect();
        for order in permutations(&with_clusters) {
            let problems = switch_problems(&spec, &order);
            assert!(
                problems.is_empty(),
                "{name}, regions applied in order {order:?}:\n{}",
                problems.join("\n")
            );
            walked += 1;
        }
    }
    assert!(walked >= 10, "{walked} switch orders walked");
}

#[test]
fn exactly_one_object_changes_the_database_configuration() {
    for (name, rendered) in renders() {
        let operators = all_operators(&rendered);
        let configuring: Vec<&str> = operators
            .iter()
            .filter(|o| o.configures)
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(configuring.len(), 1, "{name}: {configuring:?}");
        let plan = &rendered.plan;
        assert_eq!(
            configuring[0], plan.datacenters[plan.configuring_datacenter].resource_name,
            "{name}"
        );
    }
}

/// The configuration APPLY.md's "Drop a lost region" forces for each lost region, parsed out of
/// the rendered command: `(lost region id, configuration)`.
fn forced_drops(guide: &str) -> Vec<(String, infera_render::model::config::DatabaseConfiguration)> {
    let section = guide
        .split("### Drop a lost region")
        .nth(1)
        .expect("APPLY.md has the drop procedure");
    let mut out = Vec::new();
    let mut lost = String::new();
    for line in section.lines() {
        if let Some(id) = line
            .trim()
            .strip_prefix('`')
            .and_then(|l| l.strip_suffix("` lost:"))
        {
            lost = id.to_owned();
        }
        if let Some((_, rest)) = line.split_once("configure FORCE usable_regions=1 regions=") {
            let regions: Value =
                serde_json::from_str(rest.trim_end_matches('\'')).expect("regions JSON");
            let configuration = infera_render::model::config::DatabaseConfiguration::from_json(
                &json!({"usable_regions": 1, "regions": regions}),
            )
            .expect("a configuration");
            out.push((lost.clone(), configuration));
        }
    }
    out
}

/// The spec after dropping the lost region `lost` as APPLY.md says: a client region, the other
/// FDB region primary with the lowest priority, usable_regions 1.
fn dropped(spec: &MultiRegionSpec, lost: &str) -> MultiRegionSpec {
    let mut out = spec.clone();
    let lowest = out.regions.iter().map(|r| r.priority).min().unwrap_or(0);
    let plan = infera_render::plan(spec, &Default::default()).expect("valid");
    let survivor = plan
        .fdb_regions
        .iter()
        .map(|region| plan.regions[region.region].id.clone())
        .find(|id| id != lost)
        .expect("another FDB region");
    for region in &mut out.regions {
        if region.id == lost {
            region.fdb_role = FdbRole::Client;
            region.is_primary = false;
            region.priority = lowest + 100;
        } else {
            region.is_primary = region.id == survivor;
        }
        if region.id == survivor {
            region.priority = lowest - 1;
        }
    }
    out.fearless_dr.usable_regions = 1;
    out
}

#[test]
fn dropping_a_lost_region_as_apply_md_says_converges() {
    let mut walked = 0;
    for (name, spec) in examples() {
        let before = seeded(&spec);
        if !before.apply_guide.contains("### Drop a lost region") {
            // usable_regions 1 or one FDB region: no scenario asks to drop a region.
            continue;
        }
        for (lost, mut forced) in forced_drops(&before.apply_guide) {
            // `configure` changes only the keys it names.
            forced.redundancy_mode = desired(&before).redundancy_mode;
            let after = seeded(&dropped(&spec, &lost));
            let surviving = |rendered: &Rendered| -> Vec<usize> {
                rendered
                    .regions
                    .iter()
                    .enumerate()
                    .filter(|(_, bundle)| bundle.id != lost)
                    .map(|(index, _)| index)
                    .collect()
            };
            let alive: Vec<_> = surviving(&before)
                .into_iter()
                .flat_map(|index| crate::support::operators(&before.regions[index]))
                .collect();
            // From the state a forced recovery, or the rendered FORCE command, leaves.
            let walk = infera_render::model::staging::walk(
                &forced,
                &alive,
                &applies(&after, &surviving(&after)),
            );
            assert_eq!(
                walk.problems(&desired(&after)),
                Vec::<String>::new(),
                "{name}, {lost} lost"
            );
            // Without it, the operator can never remove a region that has no processes.
            let stuck = infera_render::model::staging::walk(
                &desired(&before),
                &alive,
                &applies(&after, &surviving(&after)),
            );
            assert!(
                stuck
                    .problems(&desired(&after))
                    .iter()
                    .any(|problem| problem.contains("NOT_ENOUGH_WORKERS")),
                "{name}, {lost} lost: {:?}",
                stuck.problems(&desired(&after))
            );
            walked += 1;
        }
    }
    assert!(walked >= 8, "{walked}");
}

fn scenario<'a>(rendered: &'a Rendered, lost: &Lost) -> &'a Scenario {
    rendered
        .plan
        .failures
        .rendered
        .analysis
        .scenarios
        .iter()
        .find(|s| &s.lost == lost)
        .unwrap_or_else(|| panic!("no scenario for {lost:?}"))
}

fn region(id: &str) -> Lost {
    Lost::Region(id.to_owned())
}

fn datacenter(id: &str) -> Lost {
    Lost::Datacenter(id.to_owned())
}

#[test]
fn failure_scenarios_match_the_reviews_hand_checked_cases() {
    // Zone satellites: the primary datacenter's loss is covered, the region's is not (review D1;
    // the operator's own e2e test asserts the remote is unavailable after losing primary and
    // satellite, OP@v2.33.0:e2e/test_operator_ha_failure/operator_ha_failure_test.go:137-180).
    let rendered = seeded(&example("two-region-satellites"));
    let lost = scenario(&rendered, &region("us-west-1"));
    assert!(!lost.automatic && lost.data_loss, "{lost:?}");
    let dc = scenario(&rendered, &datacenter("us-west-1a"));
    assert!(dc.automatic && !dc.data_loss, "{dc:?}");

    // The triplet survives every single region loss automatically, without data loss.
    let rendered = seeded(&example("three-region-satellite-site"));
    for id in ["us-west-1", "eu-central-1", "ap-southeast-1"] {
        let lost = scenario(&rendered, &region(id));
        assert!(lost.automatic && !lost.data_loss, "{id}: {lost:?}");
        assert_eq!(lost.coordinators_left, 6, "{id}");
    }

    // three-region: us-west-1a holds 5 of 9 coordinators and all transaction logs.
    let rendered = seeded(&example("three-region"));
    let lost = scenario(&rendered, &datacenter("us-west-1a"));
    assert!(!lost.automatic && lost.data_loss);
    assert_eq!(lost.coordinators_left, 4);
    assert!(scenario(&rendered, &region("eu-central-1")).automatic);

    // everything-enabled: losing the DR region can take the database down (5 of 9 there).
    let rendered = seeded(&example("everything-enabled"));
    let lost = scenario(&rendered, &region("eu-west-1"));
    assert!(!lost.automatic && lost.data_loss);
    assert_eq!(lost.coordinators_left_placed, Some(4));

    // usable_regions 1: the DR region holds nothing; the active one holds everything.
    let rendered = seeded(&example("two-region"));
    let lost = scenario(&rendered, &region("us-west-1"));
    assert!(!lost.automatic && lost.data_loss);
    let dr = scenario(&rendered, &region("eu-central-1"));
    assert!(dr.automatic && !dr.data_loss);
}

#[test]
fn every_scenario_is_consistent_and_listed_once() {
    for (name, rendered) in renders() {
        let plan = &rendered.plan;
        let analysis = &plan.failures.rendered.analysis;
        let rendered_dcs: Vec<&str> = rendered
            .regions
            .iter()
            .flat_map(|bundle| bundle.objects.iter())
            .filter(|object| object.kind == "FoundationDBCluster")
            .filter_map(|object| object.value.pointer("/spec/dataCenter"))
            .filter_map(Value::as_str)
            .collect();
        let mut expected: Vec<Lost> = rendered_dcs.iter().map(|id| datacenter(id)).collect();
        for region_plan in &plan.regions {
            let hosts = region_plan
                .datacenters
                .iter()
                .any(|&dc| rendered_dcs.contains(&plan.datacenters[dc].id.as_str()));
            if hosts {
                expected.push(region(&region_plan.id));
            }
        }
        let mut listed: Vec<Lost> = analysis.scenarios.iter().map(|s| s.lost.clone()).collect();
        expected.sort_by_key(|lost| format!("{lost:?}"));
        listed.sort_by_key(|lost| format!("{lost:?}"));
        assert_eq!(listed, expected, "{name}");
        for scenario in &analysis.scenarios {
            if scenario.automatic {
                assert!(
                    scenario.quorum_kept() && !scenario.data_loss,
                    "{name}: {scenario:?}"
                );
            }
        }
    }
}

/// The rows of the first markdown table after `heading` in `text`.
fn markdown_rows(text: &str, heading: &str) -> Vec<Vec<String>> {
    let section = text
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("no {heading}"));
    section
        .lines()
        .skip_while(|line| !line.starts_with("| "))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| {
            let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
            let mut cells = Vec::new();
            let mut cell = String::new();
            let mut chars = inner.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' if chars.peek() == Some(&'|') => {
                        cell.push('|');
                        chars.next();
                    }
                    '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
                    _ => cell.push(c),
                }
            }
            cells.push(cell.trim().to_owned());
            cells
        })
        .collect()
}

fn lost_text(lost: &Value) -> String {
    match (lost.get("datacenter"), lost.get("region")) {
        (Some(id), None) => format!("datacenter {}", id.as_str().unwrap_or_default()),
        (None, Some(id)) => format!("region {}", id.as_str().unwrap_or_default()),
        _ => panic!("lost must name one datacenter or one region: {lost}"),
    }
}

#[test]
fn apply_md_outputs_json_and_plan_agree_with_the_computation() {
    for (name, rendered) in renders() {
        let plan = &rendered.plan;
        let outputs = serde_json::to_value(&rendered.outputs).expect("outputs serialize");
        let scenarios = outputs["fearless_dr_config"]["failure_scenarios"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no failure_scenarios"));
        let computed = &plan.failures.rendered.analysis.scenarios;
        assert_eq!(scenarios.len(), computed.len(), "{name}");
        let rows = markdown_rows(&rendered.apply_guide, "## Failover and failback");
        assert_eq!(rows.len(), computed.len(), "{name}: APPLY.md rows");
        let explained = infera_render::explain(plan);
        for ((entry, scenario), row) in scenarios.iter().zip(computed).zip(&rows) {
            let keys: Vec<&str> = entry
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                [
                    "lost",
                    "automatic",
                    "data_loss",
                    "coordinators_left",
                    "coordinators",
                    "action"
                ],
                "{name}"
            );
            let lost = lost_text(&entry["lost"]);
            assert_eq!(lost, scenario.lost.describe(), "{name}");
            assert_eq!(entry["automatic"], scenario.automatic, "{name} {lost}");
            assert_eq!(entry["data_loss"], scenario.data_loss, "{name} {lost}");
            assert_eq!(
                entry["coordinators_left"], scenario.coordinators_left,
                "{name} {lost}"
            );
            assert_eq!(
                entry["coordinators"], scenario.coordinators,
                "{name} {lost}"
            );
            let action = entry["action"].as_str().expect("action");
            // APPLY.md: same loss, recovery, data loss, coordinators and action.
            assert_eq!(row[0], lost, "{name}");
            assert_eq!(
                row[1],
                if scenario.automatic {
                    "automatic"
                } else {
                    "manual"
                },
                "{name} {lost}"
            );
            assert_eq!(
                row[2],
                if scenario.data_loss { "possible" } else { "no" },
                "{name} {lost}"
            );
            assert!(
                row[3].starts_with(&format!(
                    "{} of {}",
                    scenario.coordinators_left, scenario.coordinators
                )),
                "{name} {lost}: {}",
                row[3]
            );
            assert_eq!(row[4], action, "{name} {lost}");
            // The plan lists the same action for the same loss.
            assert!(
                explained.contains(&format!("  - {lost}: {action}\n")),
                "{name} {lost}"
            );
            // No text says FoundationDB recovers by itself where the computation says manual.
            if !scenario.automatic {
                assert!(
                    action.contains("otherwise") || !action.starts_with("none"),
                    "{name} {lost}: {action}"
                );
            }
        }
        // The old, false promise is gone.
        assert!(!rendered.apply_guide.contains("active by itself"), "{name}");
        assert!(!rendered.apply_guide.contains("Nothing to apply"), "{name}");
    }
}

/// A folder with a fake `kubectl` that answers `get foundationdbcluster ... -o jsonpath=...`
/// with the next line of `answers` (and logs its arguments), and a `sleep` that returns at once.
fn fake_tools(dir: &Path, answers: &[&str]) {
    std::fs::write(dir.join("answers"), answers.join("\n") + "\n").expect("answers");
    let kubectl = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" >> {dir}/calls\nn=$(wc -l < {dir}/calls)\nsed -n \"${{n}}p\" {dir}/answers | tr -d '\\n'\n",
        dir = dir.display()
    );
    for (name, body) in [
        ("kubectl", kubectl.as_str()),
        ("sleep", "#!/bin/sh\nexit 0\n"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body).expect("write tool");
        let mut permissions = std::fs::metadata(&path).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&path, permissions).expect("chmod");
    }
}

fn run_as_rendered(dir: &Path, command: &str) -> (bool, Vec<String>) {
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("PATH", path)
        .current_dir(dir)
        .status()
        .expect("sh runs");
    let calls = std::fs::read_to_string(dir.join("calls")).unwrap_or_default();
    (status.success(), calls.lines().map(str::to_owned).collect())
}

#[test]
fn the_phase_one_wait_loops_until_the_operator_has_reconciled() {
    let rendered = render_with(
        &example("two-region-satellites"),
        &PlanOptions::default(),
        &RenderOptions::default(),
    )
    .expect("renders");
    let wait = rendered
        .apply_guide
        .lines()
        .find(|line| line.starts_with("until ") && line.contains("inferadb-fdb-us-west-1a"))
        .expect("APPLY.md waits for the bootstrap datacenter");
    assert!(!rendered.apply_guide.contains("health.available"));
    let dir = tempfile::tempdir().expect("tempdir");
    // Not reconciled yet (no status), then an older generation, then the current one.
    fake_tools(dir.path(), &["3 ", "3 2", "3 3"]);
    let (ok, calls) = run_as_rendered(dir.path(), wait);
    assert!(ok);
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(
        calls[0],
        "--context eks-us-west-1 -n inferadb get foundationdbcluster inferadb-fdb-us-west-1a -o jsonpath={.metadata.generation} {.status.generations.reconciled}"
    );
    // An empty answer (the object does not exist yet) keeps waiting too.
    let dir = tempfile::tempdir().expect("tempdir");
    fake_tools(dir.path(), &["", "5 5"]);
    let (ok, calls) = run_as_rendered(dir.path(), wait);
    assert!(ok && calls.len() == 2, "{calls:?}");
}

/// `status json` with the parts the check reads, in FoundationDB's schema
/// (FDB@7.3.43:fdbclient/Schemas.cpp).
fn status_json(usable: u32, priorities: &[(&str, i32)], coordinators: &[&str]) -> Value {
    let regions: Vec<Value> = priorities
        .iter()
        .map(|(id, priority)| {
            json!({"datacenters": [{"id": id, "priority": priority}, {"id": format!("{id}-sat"), "priority": 1, "satellite": 1}]})
        })
        .collect();
    let mut processes = serde_json::Map::new();
    for (n, dc) in coordinators.iter().enumerate() {
        processes.insert(
            format!("p{n}"),
            json!({"locality": {"dcid": dc, "zoneid": format!("node-{n}")}, "roles": [{"role": "coordinator"}, {"role": "storage"}]}),
        );
    }
    processes.insert(
        "other".to_owned(),
        json!({"locality": {"dcid": "eu-central-1a"}, "roles": [{"role": "log"}]}),
    );
    let list: Vec<Value> = coordinators
        .iter()
        .enumerate()
        .map(|(n, _)| json!({"address": format!("10.0.0.{n}:4501"), "reachable": true}))
        .collect();
    json!({
        "cluster": {"configuration": {"usable_regions": usable, "regions": regions}, "processes": processes},
        "client": {"coordinators": {"coordinators": list, "quorum_reachable": true}}
    })
}

/// Runs `command` with `sh -c` in `dir`.
fn sh(dir: &Path, command: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .output()
        .expect("sh runs")
}

#[test]
fn the_phase_two_check_accepts_only_the_finished_staged_change() {
    let Some(_) = infera_test_support::tool("jq") else {
        return;
    };
    let rendered = seeded(&example("two-region-satellites"));
    let guide = &rendered.apply_guide;
    let check = guide
        .lines()
        .find(|line| line.starts_with("jq -e "))
        .expect("APPLY.md checks status json with jq");
    let split = guide
        .lines()
        .find(|line| line.starts_with("jq -r "))
        .expect("APPLY.md prints the coordinator split");
    let nine = [
        "us-west-1a",
        "us-west-1a",
        "us-west-1a",
        "us-west-1b",
        "us-west-1b",
        "eu-central-1a",
        "eu-central-1a",
        "eu-central-1b",
        "eu-central-1b",
    ];
    let cases = [
        (
            status_json(2, &[("us-west-1a", 1), ("eu-central-1a", 0)], &nine),
            true,
        ),
        // Still at usable_regions 1, the DR region still at -1, or the phase-1 coordinators.
        (
            status_json(1, &[("us-west-1a", 1), ("eu-central-1a", -1)], &nine),
            false,
        ),
        (
            status_json(2, &[("us-west-1a", 1), ("eu-central-1a", -1)], &nine),
            false,
        ),
        (
            status_json(2, &[("us-west-1a", 1), ("eu-central-1a", 0)], &nine[..3]),
            false,
        ),
    ];
    for (status, accepted) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("status.json"), status.to_string()).expect("write");
        let output = sh(dir.path(), check);
        assert_eq!(
            output.status.success(),
            accepted,
            "{status}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let output = sh(dir.path(), split);
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if status["client"]["coordinators"]["coordinators"]
            .as_array()
            .map(Vec::len)
            == Some(9)
        {
            assert_eq!(
                text,
                "eu-central-1a: 2, eu-central-1b: 2, us-west-1a: 3, us-west-1b: 2"
            );
        }
    }
}

#[test]
fn every_procedure_an_action_refers_to_is_in_apply_md() {
    for (name, rendered) in renders() {
        let guide = &rendered.apply_guide;
        let headings: Vec<&str> = guide
            .lines()
            .filter_map(|line| {
                line.strip_prefix("### ")
                    .or_else(|| line.strip_prefix("## "))
            })
            .collect();
        let mut referred = 0;
        for part in guide.split("APPLY.md: ").skip(1) {
            let section = part.split(')').next().unwrap_or_default();
            assert!(
                headings.contains(&section),
                "{name}: APPLY.md refers to `{section}`, which it does not have ({headings:?})"
            );
            referred += 1;
        }
        if rendered.plan.fdb_regions.len() == 2
            && rendered.plan.fdb.usable_regions == 2
            && name.contains("seeded")
        {
            assert!(referred > 0, "{name}");
        }
    }
}
