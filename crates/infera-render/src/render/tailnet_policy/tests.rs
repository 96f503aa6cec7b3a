//! The policy's content, checked as Tailscale reads it (HuJSON parsed as JSON5), over every
//! example, and the HuJSON writer's escaping and wrapping.

use super::hujson::{MAX_WIDTH, push_comment, quote};
use super::*;
use crate::{PlanOptions, parse_document, plan};
use infera_spec::MultiRegionSpec;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Every example spec, by file name, sorted.
fn examples() -> Vec<(String, MultiRegionSpec)> {
    infera_test_support::example_files()
        .into_iter()
        .map(|(name, path)| {
            let bytes = std::fs::read(&path).expect("read");
            let document =
                parse_document(&bytes).unwrap_or_else(|d| panic!("{}: {d}", path.display()));
            (name, document.spec)
        })
        .collect()
}

fn example(name: &str) -> MultiRegionSpec {
    examples()
        .into_iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("no example {name}"))
        .1
}

fn plan_of(spec: &MultiRegionSpec) -> Plan {
    plan(spec, &PlanOptions::default()).unwrap_or_else(|d| panic!("invalid spec: {d}"))
}

fn policy_text(spec: &MultiRegionSpec) -> String {
    policy(&plan_of(spec)).expect("Tailscale is enabled")
}

/// Parses HuJSON as JSON5 (a superset: `//` comments and trailing commas).
fn parse(text: &str) -> Value {
    json5::from_str(text).unwrap_or_else(|e| panic!("not HuJSON: {e}\n{text}"))
}

fn tests_from<'a>(policy: &'a Value, src: &str) -> Vec<&'a Value> {
    policy["tests"]
        .as_array()
        .expect("tests array")
        .iter()
        .filter(|test| test["src"] == src)
        .collect()
}

fn accepts(test: &Value, address: &str) -> bool {
    test["accept"]
        .as_array()
        .is_some_and(|accept| accept.iter().any(|a| a == address))
}

#[test]
fn json5_reads_comments_and_trailing_commas() {
    let value: Value = json5::from_str("// header\n{\n  // c\n  \"a\": [\"x\",],\n}\n")
        .expect("json5 accepts HuJSON");
    assert_eq!(value, json!({"a": ["x"]}));
}

#[test]
fn every_example_parses_or_is_none_without_tailscale() {
    for (name, spec) in examples() {
        let plan = plan_of(&spec);
        let Some(text) = policy(&plan) else {
            assert!(
                !spec.tailscale.enabled,
                "{name}: no policy with Tailscale on"
            );
            continue;
        };
        assert!(
            spec.tailscale.enabled,
            "{name}: a policy with Tailscale off"
        );
        let value = parse(&text);
        for section in ["tagOwners", "hosts", "grants", "autoApprovers", "tests"] {
            assert!(value.get(section).is_some(), "{name}: no {section}");
        }
        assert!(
            value.get("dns").is_none(),
            "{name}: dns is no policy section"
        );
        assert!(value.get("acls").is_none(), "{name}: legacy acls");
        assert!(text.ends_with("}\n"), "{name}: no final newline");
        assert!(text.is_ascii(), "{name}: non-ASCII text");
        assert!(text.starts_with("// "), "{name}: no header comment");
        for line in text.lines() {
            assert!(line.len() <= MAX_WIDTH, "{name}: long line {line:?}");
            assert_eq!(line.trim_end(), line, "{name}: trailing spaces in {line:?}");
        }
    }
    assert!(
        examples().iter().any(|(_, spec)| !spec.tailscale.enabled),
        "an example has Tailscale off"
    );
}

#[test]
fn two_region_satellites_routes_fdb_between_pod_cidrs() {
    let text = policy_text(&example("two-region-satellites.yaml"));
    let policy = parse(&text);
    assert_eq!(
        policy["hosts"],
        json!({"pods-us-west-1": "10.10.0.0/16", "pods-eu-central-1": "10.20.0.0/16"})
    );
    assert_eq!(
        policy["autoApprovers"],
        json!({"routes": {
            "10.10.0.0/16": ["tag:inferadb-router-us-west-1"],
            "10.20.0.0/16": ["tag:inferadb-router-eu-central-1"],
        }})
    );
    let grants = policy["grants"].as_array().expect("grants");
    assert!(grants.contains(&json!({
        "src": ["tag:inferadb-fdb"],
        "dst": ["pods-us-west-1", "pods-eu-central-1"],
        "ip": ["tcp:4500-4501"],
    })));
    // FDB to FDB across regions, in both directions.
    let fdb = tests_from(&policy, "tag:inferadb-fdb");
    assert!(fdb.iter().any(|test| accepts(test, "10.20.0.10:4501")));
    assert!(fdb.iter().any(|test| accepts(test, "10.10.0.10:4501")));
    for test in &fdb {
        assert_eq!(test["proto"], "tcp");
        assert!(test["deny"].as_array().is_some_and(|deny| !deny.is_empty()));
    }
    // Engine and control (defaults: enabled) are FDB clients of both regions; they call
    // each other only through in-region Services, so their ports stay closed across
    // regions; the routers originate nothing.
    for client in ["tag:inferadb-engine", "tag:inferadb-control"] {
        let tests = tests_from(&policy, client);
        assert!(tests.iter().any(|test| accepts(test, "10.10.0.10:4501")));
        assert!(tests.iter().any(|test| accepts(test, "10.20.0.10:4501")));
        let denied = &tests[0]["deny"];
        for address in ["10.20.0.10:8080", "10.10.0.10:9092", "10.20.0.10:22"] {
            assert!(
                denied
                    .as_array()
                    .is_some_and(|d| d.contains(&json!(address))),
                "{client} {address}"
            );
        }
    }
    for grant in grants {
        assert_eq!(grant["ip"], json!(["tcp:4500-4501"]), "{grant}");
    }
    for region in ["us-west-1", "eu-central-1"] {
        let router = tests_from(&policy, &format!("tag:inferadb-router-{region}"));
        assert_eq!(router.len(), 1);
        assert_eq!(
            router[0]["deny"],
            json!(["10.10.0.10:4501", "10.20.0.10:4501"])
        );
        assert!(router[0].get("accept").is_none());
    }
    // Per-workload keys: admins own every tag, there is no provisioner tag.
    assert_eq!(
        policy["tagOwners"]["tag:inferadb-fdb"],
        json!(["autogroup:admin"])
    );
    assert!(policy["tagOwners"].get(PROVISIONER_TAG).is_none());
    assert!(text.contains("// FDB to FDB across regions"));
}

#[test]
fn no_dns_and_no_acls() {
    for (name, spec) in examples() {
        if let Some(text) = policy(&plan_of(&spec)) {
            let policy = parse(&text);
            let keys: Vec<&str> = policy
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert!(!keys.contains(&"dns"), "{name}");
            assert!(!keys.contains(&"acls"), "{name}");
            assert!(!text.contains("\"dns\""), "{name}");
            assert!(!text.contains("\"acls\""), "{name}");
        }
    }
}

#[test]
fn deterministic() {
    for (name, spec) in examples() {
        let plan = plan_of(&spec);
        assert_eq!(policy(&plan), policy(&plan), "{name}");
        assert_eq!(policy(&plan), policy(&plan_of(&spec)), "{name}");
    }
}

#[test]
fn oauth_client_tag_owns_the_workload_tags() {
    let mut spec = example("two-region-satellites.yaml");
    spec.tailscale.credentials = Some(TailscaleCredentials::OauthClient);
    let policy = parse(&policy_text(&spec));
    let owners = &policy["tagOwners"];
    assert_eq!(owners[PROVISIONER_TAG], json!(["autogroup:admin"]));
    let all = tags(&plan_of(&spec));
    assert_eq!(all.len(), 5, "fdb, engine, control, two routers");
    for tag in all {
        assert_eq!(
            owners[tag.as_str()],
            json!(["autogroup:admin", PROVISIONER_TAG]),
            "{tag}"
        );
    }
}

#[test]
fn three_region_without_pod_cidrs_grants_nothing() {
    let spec = example("three-region.yaml");
    assert!(spec.regions.iter().all(|region| region.pod_cidr.is_none()));
    let text = policy_text(&spec);
    let policy = parse(&text);
    assert_eq!(policy["hosts"], json!({}));
    assert_eq!(policy["autoApprovers"], json!({"routes": {}}));
    assert_eq!(policy["grants"], json!([]));
    assert_eq!(policy["tests"], json!([]));
    // No pod_cidr, so no router and no router tag.
    assert_eq!(
        policy["tagOwners"].as_object().map(serde_json::Map::len),
        Some(3)
    );
    assert!(text.contains("no region sets pod_cidr"));
    assert!(!text.contains("pods-"));
}

#[test]
fn disabled_workloads_get_no_rules() {
    let mut spec = example("two-region-satellites.yaml");
    spec.control.enabled = false;
    let policy = parse(&policy_text(&spec));
    let grants = policy["grants"].as_array().expect("grants");
    assert_eq!(grants.len(), 2, "FDB to FDB and engine to FDB only");
    assert_eq!(grants[1]["src"], json!(["tag:inferadb-engine"]));
    assert!(tests_from(&policy, "tag:inferadb-control").is_empty());
    assert!(!policy["grants"].to_string().contains("9092"));
}

#[test]
fn client_regions_get_engine_rules_but_no_fdb_rules() {
    let spec = example("everything-enabled.yaml");
    let policy = parse(&policy_text(&spec));
    let fdb_grant = &policy["grants"][0];
    assert_eq!(fdb_grant["src"], json!(["tag:inferadb-fdb"]));
    let fdb_dst = fdb_grant["dst"].as_array().expect("dst");
    assert!(
        !fdb_dst.contains(&json!("pods-ap-northeast-1")),
        "a client region"
    );
    // The client region's engine and control are FDB clients of the FDB regions.
    let client_grant = &policy["grants"][1];
    assert_eq!(
        client_grant["src"],
        json!(["tag:inferadb-engine", "tag:inferadb-control"])
    );
    assert_eq!(client_grant["dst"], fdb_grant["dst"]);
}

/// Every string of the policy that is a tag.
fn tags_in(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(text) if text.starts_with("tag:") => {
            out.insert(text.clone());
        }
        Value::Array(items) => items.iter().for_each(|item| tags_in(item, out)),
        Value::Object(map) => map.iter().for_each(|(key, item)| {
            if key.starts_with("tag:") {
                out.insert(key.clone());
            }
            tags_in(item, out);
        }),
        _ => {}
    }
}

/// With the module's one key the policy knows one tag: it owns it, grants it FDB traffic to the
/// FDB regions' pod networks (and no more: its tests still deny SSH and the engine's API there),
/// and approves every region's route for it.
#[test]
fn the_shared_key_has_one_tag_for_everything() {
    let mut spec = example("everything-enabled.yaml");
    spec.tailscale.credentials = Some(TailscaleCredentials::SharedKey);
    spec.tailscale.shared_tag = Some("tag:legacy-inferadb".to_owned());
    let policy = parse(&policy_text(&spec));
    let mut tags = BTreeSet::new();
    tags_in(&policy, &mut tags);
    assert_eq!(tags, BTreeSet::from(["tag:legacy-inferadb".to_owned()]));
    assert_eq!(
        policy["tagOwners"],
        json!({"tag:legacy-inferadb": [ADMINS]})
    );
    let grants = policy["grants"].as_array().expect("grants");
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["ip"], json!(["tcp:4500-4501"]));
    for approvers in policy["autoApprovers"]["routes"]
        .as_object()
        .expect("routes")
        .values()
    {
        assert_eq!(approvers, &json!(["tag:legacy-inferadb"]));
    }
    let tests = tests_from(&policy, "tag:legacy-inferadb");
    assert!(!tests.is_empty());
    for test in tests {
        let denied = test["deny"].as_array().expect("deny");
        assert!(
            denied
                .iter()
                .any(|d| d.as_str().is_some_and(|d| d.ends_with(":22")))
        );
    }
}

#[test]
fn a_router_may_advertise_only_its_own_regions_pod_cidr() {
    let spec = example("everything-enabled.yaml");
    let plan = plan_of(&spec);
    let policy = parse(&policy_text(&spec));
    let routes = policy["autoApprovers"]["routes"]
        .as_object()
        .expect("routes");
    assert_eq!(routes.len(), 3);
    for region in &plan.regions {
        let cidr = spec.regions[region.index.index()]
            .pod_cidr
            .clone()
            .expect("pod_cidr");
        let own = router_tag(&region.id);
        assert_eq!(routes[&cidr], json!([own]), "{}", region.id);
        // Another region's router advertising this CIDR is not approved.
        for other in plan.regions.iter().filter(|other| other.id != region.id) {
            let approvers = routes[&cidr].as_array().expect("approvers");
            assert!(
                !approvers.contains(&json!(router_tag(&other.id))),
                "{}",
                other.id
            );
        }
    }
}

#[test]
fn sample_addresses() {
    let address = |cidr: &str| sample_address(&cidr.parse::<IpNet>().expect("a CIDR")).to_string();
    assert_eq!(address("10.20.0.0/16"), "10.20.0.10");
    assert_eq!(address("10.20.0.0/28"), "10.20.0.10");
    assert_eq!(address("10.20.0.0/29"), "10.20.0.1");
    assert_eq!(address("10.20.0.7/32"), "10.20.0.7");
    assert_eq!(address("fd00:10::/64"), "fd00:10::a");
    let network = PodNetwork {
        region: "r",
        network: "fd00:10::/64".parse().expect("a CIDR"),
        hosts_fdb: true,
    };
    assert_eq!(network.address(4501), "[fd00:10::a]:4501");
}

#[test]
fn writer_escapes_and_wraps() {
    assert_eq!(
        quote("a\"b\\c\u{e9}\u{1f600}\n"),
        r#""a\"b\\c\u00e9\ud83d\ude00\u000a""#
    );
    let mut out = String::new();
    push_comment(&mut out, 2, &"word ".repeat(40));
    assert!(out.lines().count() > 1);
    assert!(
        out.lines()
            .all(|line| line.starts_with("  // ") && line.len() <= MAX_WIDTH)
    );
}
