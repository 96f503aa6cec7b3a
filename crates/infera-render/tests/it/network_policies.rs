//! NetworkPolicies, judged by what a CNI that enforces them would let through: the rendered
//! policies go into an evaluator of the NetworkPolicy API's semantics
//! (`infera_test_support::netpol`, written from the Kubernetes docs), with the region's pods as
//! rendered (their labels from the Deployments, StatefulSets and `FoundationDBCluster` pod
//! templates), and a table of connections the deployment needs must be allowed while a table of
//! connections nobody needs must be denied. The tables are written here from the design (README,
//! "NetworkPolicies"), not from the renderer's own list of flows.

#![allow(clippy::panic)]

use crate::support::{TEST_SEED, examples};
use infera_render::spec::MultiRegionSpec;
use infera_render::{PlanOptions, RenderOptions, Rendered, render_with};
use infera_test_support::netpol::{Cluster, Endpoint, Namespace, Pod, Protocol, Verdict};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

const FDB: &str = "foundationdb";
const OPERATOR: &str = "fdb-kubernetes-operator";
const ENGINE: &str = "inferadb-engine";
const CONTROL: &str = "inferadb-control";
const ROUTER: &str = "tailscale-router";

/// An address outside every cluster: a client of the public APIs, a Tailscale peer.
const INTERNET: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
/// The `kubernetes` Service's address, and an API server endpoint behind it.
const API_SERVICE: Ipv4Addr = Ipv4Addr::new(10, 96, 0, 1);
const API_ENDPOINT: Ipv4Addr = Ipv4Addr::new(172, 20, 0, 10);
/// A node-local DNS cache.
const NODE_LOCAL_DNS: Ipv4Addr = Ipv4Addr::new(169, 254, 20, 10);

/// The labels of every pod template in a bundle, by `app.kubernetes.io/name`.
fn pod_labels(objects: &[Value]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut templates = Vec::new();
    for object in objects {
        match object["kind"].as_str() {
            Some("Deployment" | "StatefulSet") => {
                templates.push(&object["spec"]["template"]["metadata"]["labels"]);
            }
            Some("FoundationDBCluster") => {
                if let Some(processes) = object["spec"]["processes"].as_object() {
                    templates.extend(
                        processes
                            .values()
                            .map(|p| &p["podTemplate"]["metadata"]["labels"]),
                    );
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for labels in templates {
        let labels: BTreeMap<String, String> = labels
            .as_object()
            .expect("a pod template has labels")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_owned()))
            .collect();
        let name = labels["app.kubernetes.io/name"].clone();
        out.insert(name, labels);
    }
    out
}

/// One region as a CNI sees it: its pods and the policies.
struct Region {
    cluster: Cluster,
    pods: BTreeMap<String, Pod>,
    /// A pod of another namespace (an application of the user's).
    stranger: Pod,
    prometheus: Pod,
    dns: Pod,
}

impl Region {
    fn new(objects: &[Value], namespace: &str, network: Option<&str>) -> Self {
        let base = network.map_or(Ipv4Addr::new(10, 244, 0, 0), |cidr| {
            cidr.split('/')
                .next()
                .and_then(|ip| ip.parse().ok())
                .expect("an IPv4 pod CIDR")
        });
        let mut next = u32::from(base) + 10;
        let mut ip = || {
            next += 1;
            IpAddr::V4(Ipv4Addr::from(next))
        };
        let pods = pod_labels(objects)
            .into_iter()
            .map(|(name, labels)| {
                let mut pod = Pod::new(namespace, &[]).with_ip(ip());
                pod.labels = labels;
                (name, pod)
            })
            .collect();
        let namespaces = vec![
            Namespace::new(namespace, &[]),
            Namespace::new("kube-system", &[]),
            Namespace::new("monitoring", &[]),
            Namespace::new("shop", &[]),
        ];
        Self {
            cluster: Cluster::new(objects, namespaces).expect("the policies are valid"),
            pods,
            stranger: Pod::new("shop", &[("app", "shop")]).with_ip(ip()),
            prometheus: Pod::new("monitoring", &[("app.kubernetes.io/name", "prometheus")])
                .with_ip(ip()),
            dns: Pod::new("kube-system", &[("k8s-app", "kube-dns")]).with_ip(ip()),
        }
    }

    fn has(&self, app: &str) -> bool {
        self.pods.contains_key(app)
    }

    fn pod(&self, app: &str) -> Endpoint {
        Endpoint::Pod(self.pods[app].clone())
    }
}

/// Checks one connection; collects the wrong verdicts.
struct Checker<'a> {
    label: String,
    region: &'a Region,
    wrong: Vec<String>,
    checked: usize,
}

impl Checker<'_> {
    fn expect(
        &mut self,
        allowed: bool,
        from: &Endpoint,
        to: &Endpoint,
        protocol: Protocol,
        port: u16,
        what: &str,
    ) {
        self.checked += 1;
        let verdict = self.region.cluster.allows(from, to, protocol, port);
        if verdict.is_allowed() != allowed {
            let want = if allowed { "allowed" } else { "denied" };
            self.wrong.push(format!(
                "{}: {what} ({protocol} {port}) should be {want}, is {}",
                self.label,
                describe(&verdict)
            ));
        }
    }

    fn allow(&mut self, from: &Endpoint, to: &Endpoint, protocol: Protocol, port: u16, what: &str) {
        self.expect(true, from, to, protocol, port, what);
    }

    fn deny(&mut self, from: &Endpoint, to: &Endpoint, protocol: Protocol, port: u16, what: &str) {
        self.expect(false, from, to, protocol, port, what);
    }
}

fn describe(verdict: &Verdict) -> String {
    if verdict.is_allowed() {
        "allowed".to_owned()
    } else {
        format!("denied ({verdict})")
    }
}

/// What the spec says about the region (independent of the renderer's plan).
struct Facts {
    tailscale: bool,
    scrape: bool,
    split_image: bool,
    /// An address in each other region's pod network (those with a `pod_cidr`).
    remote_pods: Vec<IpAddr>,
}

fn check_region(
    label: &str,
    objects: &[Value],
    namespace: &str,
    network: Option<&str>,
    facts: &Facts,
) -> (Vec<String>, usize) {
    let region = Region::new(objects, namespace, network);
    let mut c = Checker {
        label: label.to_owned(),
        region: &region,
        wrong: Vec::new(),
        checked: 0,
    };
    let internet = Endpoint::external(INTERNET);
    let stranger = Endpoint::Pod(region.stranger.clone());
    let prometheus = Endpoint::Pod(region.prometheus.clone());
    let dns = Endpoint::Pod(region.dns.clone());
    use Protocol::{Tcp, Udp};

    // Every pod of ours is isolated both ways: the default deny selects it.
    for (app, pod) in &region.pods {
        let pod = Endpoint::Pod(pod.clone());
        c.deny(&internet, &pod, Tcp, 22, &format!("the internet to {app}"));
        c.deny(
            &stranger,
            &pod,
            Tcp,
            22,
            &format!("another namespace to {app}"),
        );
        c.deny(&pod, &internet, Tcp, 22, &format!("{app} to the internet"));
        c.deny(
            &pod,
            &stranger,
            Tcp,
            8080,
            &format!("{app} to another namespace"),
        );
        // DNS, to the cluster's DNS pods and to a node-local cache.
        for protocol in [Udp, Tcp] {
            c.allow(&pod, &dns, protocol, 53, &format!("{app} to kube-dns"));
            c.allow(
                &pod,
                &Endpoint::external(NODE_LOCAL_DNS),
                protocol,
                53,
                &format!("{app} to node-local DNS"),
            );
        }
        // Kubelet probes come from the pod's node.
        c.allow(
            &Endpoint::node(Ipv4Addr::new(172, 20, 1, 5)),
            &pod,
            Tcp,
            8080,
            &format!("the kubelet to {app}"),
        );
        // Tailscale: WireGuard and STUN out, the control server and DERP over HTTPS, direct
        // WireGuard in.
        c.expect(
            facts.tailscale,
            &pod,
            &internet,
            Udp,
            41641,
            &format!("{app}'s WireGuard to a peer"),
        );
        c.expect(
            facts.tailscale,
            &pod,
            &internet,
            Udp,
            3478,
            &format!("{app}'s STUN"),
        );
        // (TCP 443 to any address is also the API server's port, for those that call it.)
        let api_client =
            [OPERATOR, ROUTER].contains(&app.as_str()) || (app == FDB && !facts.split_image);
        c.expect(
            facts.tailscale || api_client,
            &pod,
            &internet,
            Tcp,
            443,
            &format!("{app} to Tailscale's control server"),
        );
        c.expect(
            facts.tailscale,
            &pod,
            &internet,
            Tcp,
            80,
            &format!("{app} to a DERP relay over HTTP"),
        );
        c.expect(
            facts.tailscale,
            &internet,
            &pod,
            Udp,
            41641,
            &format!("a peer's direct WireGuard to {app}"),
        );
        c.deny(
            &internet,
            &pod,
            Udp,
            41642,
            &format!("another UDP port of {app}"),
        );
    }

    // FoundationDB: its processes and every client, inside the region.
    if region.has(FDB) {
        let fdb = region.pod(FDB);
        for client in [FDB, OPERATOR, ENGINE, CONTROL, ROUTER] {
            if region.has(client) {
                c.allow(
                    &region.pod(client),
                    &fdb,
                    Tcp,
                    4501,
                    &format!("{client} to FoundationDB"),
                );
            }
        }
        c.deny(&internet, &fdb, Tcp, 4501, "the internet to FoundationDB");
        c.deny(
            &stranger,
            &fdb,
            Tcp,
            4501,
            "another namespace to FoundationDB",
        );
        c.deny(&prometheus, &fdb, Tcp, 4501, "Prometheus to FoundationDB");
        // The split image's sidecar, for the operator alone.
        c.expect(
            facts.split_image,
            &region.pod(OPERATOR),
            &fdb,
            Tcp,
            8080,
            "the operator to the FDB sidecar",
        );
        for client in [ENGINE, CONTROL, ROUTER] {
            if region.has(client) {
                c.deny(
                    &region.pod(client),
                    &fdb,
                    Tcp,
                    8080,
                    &format!("{client} to the FDB sidecar"),
                );
            }
        }
        // FoundationDB pods call nobody else of ours.
        for app in [ENGINE, CONTROL] {
            if region.has(app) {
                c.deny(
                    &fdb,
                    &region.pod(app),
                    Tcp,
                    8080,
                    &format!("FoundationDB to {app}"),
                );
            }
        }
    }
    // Cross-region FoundationDB traffic: through Tailscale (UDP, above) or straight from the
    // other regions' pod networks.
    for &remote in &facts.remote_pods {
        let remote = Endpoint::external(remote);
        let direct = !facts.tailscale;
        if region.has(FDB) {
            c.expect(
                direct,
                &remote,
                &region.pod(FDB),
                Tcp,
                4501,
                "another region's pod to FoundationDB",
            );
        }
        for client in [FDB, OPERATOR, ENGINE, CONTROL] {
            if region.has(client) {
                c.expect(
                    direct,
                    &region.pod(client),
                    &remote,
                    Tcp,
                    4501,
                    &format!("{client} to another region's FoundationDB"),
                );
                c.deny(
                    &region.pod(client),
                    &remote,
                    Tcp,
                    8080,
                    &format!("{client} to another region's pod on 8080"),
                );
            }
        }
    }
    for client in [FDB, OPERATOR, ENGINE, CONTROL] {
        if region.has(client) {
            c.deny(
                &region.pod(client),
                &internet,
                Tcp,
                4501,
                &format!("{client} to FoundationDB ports on the internet"),
            );
        }
    }

    // Engine and control: their public APIs from anywhere, their mesh ports from each other.
    if region.has(ENGINE) {
        let engine = region.pod(ENGINE);
        c.allow(
            &internet,
            &engine,
            Tcp,
            8080,
            "a client to the engine's API",
        );
        c.allow(
            &stranger,
            &engine,
            Tcp,
            8080,
            "an application to the engine's API",
        );
        c.deny(
            &internet,
            &engine,
            Tcp,
            8082,
            "the internet to the engine's mesh port",
        );
        // Prometheus may run in any namespace, so with monitoring the metrics port (the mesh
        // port, which serves /metrics and the public JWKS) is open to every namespace.
        c.expect(
            facts.scrape,
            &stranger,
            &engine,
            Tcp,
            8082,
            "another namespace's pod to the engine's mesh port",
        );
        c.expect(
            facts.scrape,
            &prometheus,
            &engine,
            Tcp,
            8082,
            "Prometheus to the engine's /metrics",
        );
        if region.has(CONTROL) {
            let control = region.pod(CONTROL);
            c.allow(&control, &engine, Tcp, 8080, "control to the engine's API");
            c.allow(&control, &engine, Tcp, 8082, "control to the engine's JWKS");
            c.allow(
                &engine,
                &control,
                Tcp,
                9092,
                "the engine to control's mesh API",
            );
            c.deny(
                &engine,
                &control,
                Tcp,
                9090,
                "the engine to control's public port (not needed)",
            );
        }
        if region.has(ROUTER) {
            c.deny(
                &region.pod(ROUTER),
                &engine,
                Tcp,
                8080,
                "the router to the engine",
            );
        }
    }
    if region.has(CONTROL) {
        let control = region.pod(CONTROL);
        c.allow(&internet, &control, Tcp, 9090, "a client to control's API");
        c.deny(
            &internet,
            &control,
            Tcp,
            9092,
            "the internet to control's mesh port",
        );
        c.deny(
            &stranger,
            &control,
            Tcp,
            9092,
            "another namespace's pod to control's mesh port",
        );
    }
    if region.has(OPERATOR) {
        let operator = region.pod(OPERATOR);
        c.expect(
            facts.scrape,
            &prometheus,
            &operator,
            Tcp,
            8080,
            "Prometheus to the operator's /metrics",
        );
        c.deny(
            &internet,
            &operator,
            Tcp,
            8080,
            "the internet to the operator",
        );
    }
    if region.has(ROUTER) {
        let router = region.pod(ROUTER);
        c.deny(
            &internet,
            &router,
            Tcp,
            443,
            "the internet to the router over TCP",
        );
        c.deny(
            &router,
            &stranger,
            Tcp,
            4501,
            "the router to another namespace",
        );
    }

    // The Kubernetes API server, for those that call it: the operator, the routers (their
    // state Secrets) and the unified image's monitor. Engine and control do not (their
    // discovery is off); their Tailscale sidecars open TCP 443 to any address anyway.
    for app in [ENGINE, CONTROL] {
        if region.has(app) {
            c.deny(
                &region.pod(app),
                &Endpoint::external(API_ENDPOINT),
                Tcp,
                6443,
                &format!("{app} to the API server"),
            );
        }
    }
    for app in [OPERATOR, ROUTER] {
        if region.has(app) {
            c.allow(
                &region.pod(app),
                &Endpoint::external(API_SERVICE),
                Tcp,
                443,
                &format!("{app} to the API server's Service"),
            );
            c.allow(
                &region.pod(app),
                &Endpoint::external(API_ENDPOINT),
                Tcp,
                6443,
                &format!("{app} to the API server"),
            );
        }
    }
    if region.has(FDB) {
        c.expect(
            !facts.split_image,
            &region.pod(FDB),
            &Endpoint::external(API_ENDPOINT),
            Tcp,
            6443,
            "the unified image's monitor to the API server",
        );
    }
    (c.wrong, c.checked)
}

fn enabled(mut spec: MultiRegionSpec) -> MultiRegionSpec {
    spec.network_policies.enabled = true;
    spec
}

/// The same deployment on a network that routes pod IPs between regions, without Tailscale.
fn without_tailscale(mut spec: MultiRegionSpec) -> MultiRegionSpec {
    spec.tailscale.enabled = false;
    for (index, region) in spec.regions.iter_mut().enumerate() {
        if region.pod_cidr.is_none() {
            region.pod_cidr = Some(format!("10.{}.0.0/16", 100 + index));
        }
    }
    spec
}

fn check_render(label: &str, spec: &MultiRegionSpec, rendered: &Rendered) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (index, bundle) in rendered.regions.iter().enumerate() {
        let objects: Vec<Value> = bundle.objects.iter().map(|o| o.value.clone()).collect();
        let region = &spec.regions[index];
        let remote_pods = spec
            .regions
            .iter()
            .filter(|other| other.id != region.id)
            .filter_map(|other| other.pod_cidr.as_deref())
            .map(|cidr| {
                let base: Ipv4Addr = cidr
                    .split('/')
                    .next()
                    .and_then(|ip| ip.parse().ok())
                    .expect("IPv4");
                IpAddr::V4(Ipv4Addr::from(u32::from(base) + 99))
            })
            .collect();
        let facts = Facts {
            tailscale: spec.tailscale.enabled,
            scrape: spec.monitoring.enabled,
            split_image: spec.operator_version.starts_with("1."),
            remote_pods,
        };
        let (w, n) = check_region(
            &format!("{label} {}", bundle.id),
            &objects,
            &bundle.namespace,
            region.pod_cidr.as_deref(),
            &facts,
        );
        wrong.extend(w);
        checked += n;
    }
    (wrong, checked)
}

fn renders_of(spec: &MultiRegionSpec) -> Vec<(&'static str, Rendered)> {
    let seeded = PlanOptions {
        seed_connection_string: Some(TEST_SEED.to_owned()),
        ..PlanOptions::default()
    };
    [("as written", PlanOptions::default()), ("seeded", seeded)]
        .into_iter()
        .map(|(phase, options)| {
            let rendered = render_with(spec, &options, &RenderOptions::default())
                .unwrap_or_else(|e| panic!("{phase}: {e}"));
            (phase, rendered)
        })
        .collect()
}

#[test]
fn the_policies_allow_what_the_deployment_needs_and_nothing_else() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (name, spec) in examples() {
        let mut variants = vec![("", enabled(spec.clone()))];
        if spec.tailscale.enabled && spec.regions.len() > 1 {
            variants.push((" without Tailscale", enabled(without_tailscale(spec))));
        }
        for (variant, spec) in variants {
            for (phase, rendered) in renders_of(&spec) {
                let (w, n) = check_render(&format!("{name}{variant} ({phase})"), &spec, &rendered);
                wrong.extend(w);
                checked += n;
            }
        }
    }
    assert!(checked > 1000, "only {checked} connections checked");
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_pod_is_selected_and_every_policy_names_pods_that_exist() {
    for (name, spec) in examples() {
        for (phase, rendered) in renders_of(&enabled(spec)) {
            for bundle in &rendered.regions {
                let policies: Vec<&Value> = bundle
                    .objects
                    .iter()
                    .filter(|o| o.kind == "NetworkPolicy")
                    .map(|o| &o.value)
                    .collect();
                let objects: Vec<Value> = bundle.objects.iter().map(|o| o.value.clone()).collect();
                let apps = pod_labels(&objects);
                // One policy per workload that runs, plus the default deny.
                let mut names: Vec<&str> = policies
                    .iter()
                    .filter_map(|p| p["metadata"]["name"].as_str())
                    .collect();
                names.sort_unstable();
                let mut expected: Vec<&str> = apps.keys().map(String::as_str).collect();
                expected.push("inferadb-default-deny");
                // The FoundationDB pods' policy exists wherever the operator runs, even before
                // phase 2 brings a FoundationDBCluster to a region.
                if apps.contains_key(OPERATOR) && !apps.contains_key(FDB) {
                    expected.push(FDB);
                }
                expected.sort_unstable();
                assert_eq!(names, expected, "{name} ({phase}) {}", bundle.id);
                // The default deny alone isolates every pod both ways (each workload's own
                // policy isolates it too, so this is the only place the default deny is seen).
                let deny: Vec<Value> = policies
                    .iter()
                    .filter(|p| p["metadata"]["name"] == "inferadb-default-deny")
                    .map(|p| (*p).clone())
                    .collect();
                let cluster = Cluster::new(&deny, vec![Namespace::new(&bundle.namespace, &[])])
                    .expect("the default deny is valid");
                let outside = Endpoint::external(INTERNET);
                for (app, labels) in &apps {
                    let mut pod = Pod::new(&bundle.namespace, &[]).with_ip(API_ENDPOINT);
                    pod.labels = labels.clone();
                    let pod = Endpoint::Pod(pod);
                    for (from, to) in [(&outside, &pod), (&pod, &outside)] {
                        let verdict = cluster.allows(from, to, Protocol::Udp, 53);
                        assert!(
                            !verdict.is_allowed(),
                            "{name} ({phase}) {}: the default deny does not isolate {app}",
                            bundle.id
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn off_unless_enabled() {
    for (name, mut spec) in examples() {
        spec.network_policies.enabled = false;
        for (phase, rendered) in renders_of(&spec) {
            assert!(
                rendered
                    .regions
                    .iter()
                    .flat_map(|b| &b.objects)
                    .all(|o| o.kind != "NetworkPolicy"),
                "{name} ({phase})"
            );
        }
    }
    // The default is off (a wrong policy is an outage).
    assert!(
        !infera_render::spec::MultiRegionSpec::default()
            .network_policies
            .enabled
    );
}

/// The Tailscale containers listen where the policies let WireGuard in: without a fixed port
/// tailscaled picks a random one on Linux, and the UDP rule would match nothing.
#[test]
fn tailscaled_listens_on_the_port_the_policies_open() {
    let mut seen = 0;
    for (name, spec) in examples() {
        if !spec.tailscale.enabled {
            continue;
        }
        for (phase, rendered) in renders_of(&enabled(spec)) {
            for (region, kind, owner, pod) in crate::support::pod_specs(&rendered) {
                for container in crate::support::containers(&pod) {
                    if container["name"] != "tailscale" {
                        continue;
                    }
                    let args = container["env"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|e| e["name"] == "TS_TAILSCALED_EXTRA_ARGS")
                        .and_then(|e| e["value"].as_str());
                    assert_eq!(
                        args,
                        Some("--port=41641"),
                        "{name} ({phase}) {region} {kind}/{owner}"
                    );
                    seen += 1;
                }
            }
        }
    }
    assert!(seen > 20, "only {seen} Tailscale containers");
}
