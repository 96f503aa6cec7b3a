//! NetworkPolicies (`network_policies.enabled`): per region, one policy that isolates every pod
//! infera-render renders for ingress and egress (nothing is allowed by it), and one policy per
//! workload that allows exactly the connections of [`flows`]. NetworkPolicies are a union
//! (kubernetes.io/docs/concepts/services-networking/network-policies, "The two sorts of pod
//! isolation"), so the per-workload policies are the whole allow list, and a connection needs
//! both the source's egress and the destination's ingress to allow it.
//!
//! What crosses regions depends on the network:
//! - With Tailscale, FoundationDB traffic between regions leaves a pod inside WireGuard (UDP,
//!   from the pod's own `tailscale0`, so the CNI never sees TCP 4501 to another region) and
//!   reaches the other region's pods through that region's subnet router, which forwards it
//!   with its own pod address: subnet routers masquerade by default (`--snat-subnet-routes`
//!   defaults to true, tailscale@v1.78.3:cmd/tailscale/cli/up.go:125,309, v1.56.1 :124,293; containerboot never
//!   changes it). So the policies allow UDP out for the Tailscale containers, direct WireGuard
//!   in, and the FoundationDB port from the region's router pods.
//! - Without Tailscale, the other regions' pods connect from their pod IPs: the policies allow
//!   the FoundationDB ports to and from the other regions' `pod_cidr`s (validation requires
//!   them).
//!
//! Kubelet probes need no rule: traffic from a pod's own node is always allowed (the same page,
//! "Behavior of to and from selectors"... "traffic to and from the node where a Pod is running is
//! always allowed").

use super::object::RenderedObject;
use super::ports;
use super::{RegionCtx, labels, meta};
use crate::names::labels::{INSTANCE, MANAGED_BY};
use crate::names::tailscale::ROUTER_NAME;
use crate::names::{App, FDB_APP, INFERADB_APP, OPERATOR_APP};
use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The policy that isolates every pod of the region.
pub(crate) const DEFAULT_DENY: &str = "inferadb-default-deny";

/// A workload of the region, selected by its `app.kubernetes.io/name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// The FoundationDB pods (every `FoundationDBCluster` of the region).
    Fdb,
    /// The FDB operator.
    Operator,
    /// The InferaDB engine.
    Engine,
    /// InferaDB control.
    Control,
    /// The Tailscale subnet router.
    Router,
}

impl Workload {
    /// Its `app.kubernetes.io/name`, which is also its policy's name.
    #[must_use]
    pub fn app(self) -> &'static str {
        match self {
            Self::Fdb => FDB_APP,
            Self::Operator => OPERATOR_APP,
            Self::Engine => App::Engine.name(),
            Self::Control => App::Control.name(),
            Self::Router => ROUTER_NAME,
        }
    }
}

/// The other end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// The pods of a workload of this region (its namespace).
    Pods(Workload),
    /// Any pod of any namespace of the cluster (Prometheus, wherever it runs).
    ClusterPods,
    /// Any address: the public APIs' clients, the Kubernetes API server, the internet.
    Anywhere,
    /// The other regions' pod networks (cross-region traffic without Tailscale).
    Networks(Vec<IpNet>),
}

/// `TCP` or `UDP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }
}

/// Destination ports of a connection: one, or every port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ports {
    /// One port.
    One(u16),
    /// Every port.
    All,
}

/// One connection the deployment makes: `from` opens it to `to` on `protocol`/`ports`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Who connects.
    pub from: Peer,
    /// To whom.
    pub to: Peer,
    /// The protocol.
    pub protocol: Protocol,
    /// The destination ports.
    pub ports: Ports,
    /// Why the deployment needs it.
    pub why: &'static str,
}

/// The workloads that run in a region.
fn workloads(ctx: &RegionCtx<'_>) -> Vec<Workload> {
    let mut out = Vec::new();
    if ctx.region.runs_operator() {
        out.extend([Workload::Fdb, Workload::Operator]);
    }
    if ctx.region.runs(App::Engine) {
        out.push(Workload::Engine);
    }
    if ctx.region.runs(App::Control) {
        out.push(Workload::Control);
    }
    if ctx.plan.tailscale.is_some() && ctx.region.pod_network.is_some() {
        out.push(Workload::Router);
    }
    out
}

/// The FoundationDB pods run the split image's sidecar, which the operator calls over HTTP
/// (operator 1.x); the unified image's monitor is reached through the Kubernetes API instead.
fn split_image(ctx: &RegionCtx<'_>) -> bool {
    ctx.plan.operator_version.major < 2
}

/// Every connection the region's pods make or accept, which is what the policies allow.
#[must_use]
#[allow(clippy::too_many_lines)]
pub(crate) fn flows(ctx: &RegionCtx<'_>) -> Vec<Flow> {
    let present = workloads(ctx);
    let has = |w: Workload| present.contains(&w);
    let tailscale = ctx.plan.tailscale.is_some();
    // One process per pod, without TLS: FoundationDB listens on 4501 alone.
    let fdb_ports = Ports::One(ports::FDB_PLAIN);
    let mut flows = Vec::new();
    let mut flow = |from: Peer, to: Peer, protocol, ports, why| {
        flows.push(Flow {
            from,
            to,
            protocol,
            ports,
            why,
        });
    };

    // FoundationDB: its processes talk to each other, and every client (the operator's fdbcli,
    // engine, control and their wait step) opens connections to the coordinators and processes.
    // With Tailscale, the other regions' connections arrive from the region's router.
    let fdb_clients = [
        (Workload::Fdb, "FoundationDB processes talk to each other"),
        (
            Workload::Operator,
            "the operator runs fdbcli against the database",
        ),
        (Workload::Engine, "the engine's FoundationDB client"),
        (Workload::Control, "control's FoundationDB client"),
        (
            Workload::Router,
            "the other regions' FoundationDB traffic, forwarded by the subnet router",
        ),
    ];
    if has(Workload::Fdb) {
        for (client, why) in fdb_clients {
            if has(client) {
                flow(
                    Peer::Pods(client),
                    Peer::Pods(Workload::Fdb),
                    Protocol::Tcp,
                    fdb_ports,
                    why,
                );
            }
        }
    }
    // Without Tailscale the other regions' pods connect from their own addresses, and this
    // region's pods connect to theirs.
    let others: Vec<IpNet> = ctx
        .plan
        .regions
        .iter()
        .filter(|region| region.index != ctx.region.index)
        .filter_map(|region| region.pod_network)
        .collect();
    if !tailscale && !others.is_empty() {
        if has(Workload::Fdb) {
            flow(
                Peer::Networks(others.clone()),
                Peer::Pods(Workload::Fdb),
                Protocol::Tcp,
                fdb_ports,
                "the other regions' FoundationDB processes and clients",
            );
        }
        for (client, why) in fdb_clients {
            if has(client) && client != Workload::Router {
                flow(
                    Peer::Pods(client),
                    Peer::Networks(others.clone()),
                    Protocol::Tcp,
                    fdb_ports,
                    why,
                );
            }
        }
    }
    if split_image(ctx) && has(Workload::Fdb) {
        flow(
            Peer::Pods(Workload::Operator),
            Peer::Pods(Workload::Fdb),
            Protocol::Tcp,
            Ports::One(ports::FDB_SIDECAR),
            "the operator reads and updates each pod's configuration through its sidecar",
        );
    }

    // Engine and control call each other through their in-region Services.
    if has(Workload::Engine) && has(Workload::Control) {
        flow(
            Peer::Pods(Workload::Control),
            Peer::Pods(Workload::Engine),
            Protocol::Tcp,
            Ports::One(ports::ENGINE_HTTP),
            "control's engine client",
        );
        flow(
            Peer::Pods(Workload::Control),
            Peer::Pods(Workload::Engine),
            Protocol::Tcp,
            Ports::One(ports::ENGINE_MESH),
            "control reads the engine's signing keys (JWKS)",
        );
        flow(
            Peer::Pods(Workload::Engine),
            Peer::Pods(Workload::Control),
            Protocol::Tcp,
            Ports::One(ports::CONTROL_MESH),
            "the engine's calls to control's mesh API",
        );
    }
    // The public APIs, from wherever their clients are.
    if has(Workload::Engine) {
        flow(
            Peer::Anywhere,
            Peer::Pods(Workload::Engine),
            Protocol::Tcp,
            Ports::One(ports::ENGINE_HTTP),
            "the engine's public API",
        );
    }
    if has(Workload::Control) {
        flow(
            Peer::Anywhere,
            Peer::Pods(Workload::Control),
            Protocol::Tcp,
            Ports::One(ports::CONTROL_HTTP),
            "control's public API (and its /metrics)",
        );
    }
    // Prometheus, from any namespace.
    if ctx.plan.monitoring.scrape {
        if has(Workload::Engine) {
            flow(
                Peer::ClusterPods,
                Peer::Pods(Workload::Engine),
                Protocol::Tcp,
                Ports::One(ports::ENGINE_MESH),
                "Prometheus scrapes the engine's /metrics",
            );
        }
        if has(Workload::Operator) {
            flow(
                Peer::ClusterPods,
                Peer::Pods(Workload::Operator),
                Protocol::Tcp,
                Ports::One(ports::OPERATOR_METRICS),
                "Prometheus scrapes the operator's /metrics",
            );
        }
    }

    for &workload in &present {
        // Service names (and Tailscale's control server) are resolved through DNS: the
        // cluster's DNS Service, or a node-local cache at a link-local address, so any address.
        for protocol in [Protocol::Udp, Protocol::Tcp] {
            flow(
                Peer::Pods(workload),
                Peer::Anywhere,
                protocol,
                Ports::One(ports::DNS),
                "DNS",
            );
        }
    }
    // The Kubernetes API server: its Service's port and the common ports of its endpoints
    // (policies see the endpoint after the Service's translation on most CNIs). Engine and
    // control do not call it: their discovery is off, and their tokens are not mounted.
    let api_clients = [
        (
            Workload::Fdb,
            !split_image(ctx),
            "the unified image's monitor reads and updates its Pod",
        ),
        (Workload::Operator, true, "the operator's controllers"),
        (
            Workload::Router,
            true,
            "the router keeps its Tailscale state in a Secret",
        ),
    ];
    for (workload, needs, why) in api_clients {
        if has(workload) && needs {
            for port in ports::KUBERNETES_API {
                flow(
                    Peer::Pods(workload),
                    Peer::Anywhere,
                    Protocol::Tcp,
                    Ports::One(port),
                    why,
                );
            }
        }
    }
    // Tailscale: WireGuard to the peers and STUN over UDP (any port: the peers' ports are
    // chosen by NAT traversal), the control server and DERP over HTTP and HTTPS, and direct
    // WireGuard connections in on tailscaled's port, which the sidecars then fix
    // (`TS_TAILSCALED_EXTRA_ARGS`, render/tailscale.rs). Tailscale's firewall guide asks for
    // outgoing UDP and TCP 443 to any address (tailscale.com/kb/1082/firewall-ports).
    if tailscale {
        for &workload in &present {
            flow(
                Peer::Pods(workload),
                Peer::Anywhere,
                Protocol::Udp,
                Ports::All,
                "Tailscale: WireGuard to its peers, STUN",
            );
            for port in ports::TAILSCALE_TCP {
                flow(
                    Peer::Pods(workload),
                    Peer::Anywhere,
                    Protocol::Tcp,
                    Ports::One(port),
                    "Tailscale: the control server and DERP relays",
                );
            }
            flow(
                Peer::Anywhere,
                Peer::Pods(workload),
                Protocol::Udp,
                Ports::One(ports::TAILSCALE_WIREGUARD),
                "Tailscale: direct WireGuard connections from its peers",
            );
        }
    }
    flows
}

/// The pods of a workload.
fn selector(ctx: &RegionCtx<'_>, workload: Workload) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels::selector(ctx, workload.app())),
        ..LabelSelector::default()
    }
}

/// A peer as the API writes it; `None` for anywhere (no `from`/`to` at all).
fn peers(ctx: &RegionCtx<'_>, peer: &Peer) -> Option<Vec<NetworkPolicyPeer>> {
    match peer {
        Peer::Anywhere => None,
        Peer::Pods(workload) => Some(vec![NetworkPolicyPeer {
            pod_selector: Some(selector(ctx, *workload)),
            ..NetworkPolicyPeer::default()
        }]),
        Peer::ClusterPods => Some(vec![NetworkPolicyPeer {
            namespace_selector: Some(LabelSelector::default()),
            ..NetworkPolicyPeer::default()
        }]),
        Peer::Networks(networks) => Some(
            networks
                .iter()
                .map(|network| NetworkPolicyPeer {
                    ip_block: Some(IPBlock {
                        cidr: network.to_string(),
                        except: None,
                    }),
                    ..NetworkPolicyPeer::default()
                })
                .collect(),
        ),
    }
}

fn port(protocol: Protocol, ports: Ports) -> NetworkPolicyPort {
    let (port, end_port) = match ports {
        Ports::One(port) => (Some(IntOrString::Int(i32::from(port))), None),
        Ports::All => (None, None),
    };
    NetworkPolicyPort {
        protocol: Some(protocol.as_str().to_owned()),
        port,
        end_port,
    }
}

/// Rules with the same peers share one rule, their ports listed together (in flow order).
fn rules(
    ctx: &RegionCtx<'_>,
    flows: &[&Flow],
    peer_of: impl Fn(&Flow) -> &Peer,
) -> Vec<(Option<Vec<NetworkPolicyPeer>>, Vec<NetworkPolicyPort>)> {
    let mut out: Vec<(Option<Vec<NetworkPolicyPeer>>, Vec<NetworkPolicyPort>)> = Vec::new();
    for flow in flows {
        let peer = peers(ctx, peer_of(flow));
        let port = port(flow.protocol, flow.ports);
        match out.iter_mut().find(|(existing, _)| *existing == peer) {
            Some((_, ports)) => {
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
            None => out.push((peer, vec![port])),
        }
    }
    out
}

/// The region's NetworkPolicies; none unless `network_policies.enabled`.
pub(crate) fn objects(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    if !ctx.plan.network_policies {
        return Vec::new();
    }
    let all_ours = LabelSelector {
        match_labels: Some(BTreeMap::from([
            (INSTANCE.to_owned(), ctx.region.namespace.clone()),
            (MANAGED_BY.to_owned(), "infera-render".to_owned()),
        ])),
        ..LabelSelector::default()
    };
    let both = Some(vec!["Ingress".to_owned(), "Egress".to_owned()]);
    let mut objects = vec![RenderedObject::new(&NetworkPolicy {
        metadata: meta::namespaced(ctx, DEFAULT_DENY, INFERADB_APP, "network-policy"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(all_ours),
            policy_types: both.clone(),
            ..NetworkPolicySpec::default()
        }),
    })];
    let flows = flows(ctx);
    for workload in workloads(ctx) {
        let me = Peer::Pods(workload);
        let incoming: Vec<&Flow> = flows.iter().filter(|f| f.to == me).collect();
        let outgoing: Vec<&Flow> = flows.iter().filter(|f| f.from == me).collect();
        let ingress = rules(ctx, &incoming, |f| &f.from)
            .into_iter()
            .map(|(from, ports)| NetworkPolicyIngressRule {
                from,
                ports: Some(ports),
            })
            .collect();
        let egress = rules(ctx, &outgoing, |f| &f.to)
            .into_iter()
            .map(|(to, ports)| NetworkPolicyEgressRule {
                to,
                ports: Some(ports),
            })
            .collect();
        objects.push(RenderedObject::new(&NetworkPolicy {
            metadata: meta::namespaced(ctx, workload.app(), workload.app(), "network-policy"),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector(ctx, workload)),
                policy_types: both.clone(),
                ingress: Some(ingress),
                egress: Some(egress),
            }),
        }));
    }
    objects
}
