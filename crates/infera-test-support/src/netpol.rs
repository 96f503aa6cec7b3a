//! A small evaluator of Kubernetes `NetworkPolicy` (`networking.k8s.io/v1`) semantics, so tests
//! can check the policies the renderer emits against tables of required and forbidden flows.
//!
//! Written from the Kubernetes documentation, cited in the comments as:
//! - **\[concept\]** <https://kubernetes.io/docs/concepts/services-networking/network-policies/>
//!   (section names in quotes);
//! - **\[api\]** the `networking.k8s.io/v1` API reference (`NetworkPolicySpec`,
//!   `NetworkPolicyIngressRule`/`EgressRule`, `NetworkPolicyPeer`, `NetworkPolicyPort`,
//!   `IPBlock`), <https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/>;
//! - **\[selector\]** the `LabelSelector` reference,
//!   <https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/label-selector/>, and
//!   "Set-based requirement" in
//!   <https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/>;
//! - **\[validation\]** what the API server rejects (`pkg/apis/networking/validation`), checked
//!   here where it is cheap, so a policy a cluster would refuse fails the test instead of being
//!   evaluated.
//!
//! Deliberate choices where the documentation leaves behaviour to the network plugin (each is
//! repeated at the code it concerns):
//! - `ipBlock` matches any endpoint that has an IP, pods included (\[concept\] says `ipBlock`
//!   "should be cluster-external IPs, since Pod IPs are ephemeral and unpredictable"; whether pod
//!   IPs match is plugin-defined). Give pods no IP to keep them out of `ipBlock` matching.
//! - `hostNetwork` pods are treated as plain IPs (the node's), never matched by selectors and
//!   never isolated: the most common implementation per \[concept\] "NetworkPolicy and
//!   `hostNetwork` pods".
//! - Traffic from a pod's own node ([`Endpoint::Node`]) is always allowed into the pod; traffic
//!   from a pod *to* a node is checked like any IP (the stricter reading; see [`Endpoint::Node`]).
//! - [`Cluster::allows`] always evaluates `from` and `to` as two distinct pods, even if they
//!   compare equal (replicas of one workload share labels): the exemption "a pod cannot block
//!   access to itself" concerns a pod's connections to itself, which this never asks about.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// A layer-4 protocol a `NetworkPolicyPort` can name (\[api\] `NetworkPolicyPort.protocol`:
/// "TCP, UDP, or SCTP").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// `TCP`, the default when a port's `protocol` is absent.
    Tcp,
    /// `UDP`.
    Udp,
    /// `SCTP`.
    Sctp,
}

impl Protocol {
    /// The API spelling (`TCP`, `UDP`, `SCTP`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
        }
    }

    /// Parses the API spelling, which is case-sensitive (\[validation\] `ValidateNetworkPolicyPort`
    /// accepts exactly `TCP`, `UDP` and `SCTP`).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "TCP" => Some(Self::Tcp),
            "UDP" => Some(Self::Udp),
            "SCTP" => Some(Self::Sctp),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The label the control plane sets on every namespace, whose value is the namespace's name
/// (\[concept\] "Targeting a Namespace by its name": "The Kubernetes control plane sets an
/// immutable label `kubernetes.io/metadata.name` on all namespaces").
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A namespace and its labels (what `namespaceSelector` matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The namespace's name.
    pub name: String,
    /// Its labels, without [`NAMESPACE_NAME_LABEL`]: [`Cluster::new`] adds that one (and
    /// overrides any other value given for it, since the real label is immutable).
    pub labels: BTreeMap<String, String>,
}

impl Namespace {
    /// A namespace with these labels.
    #[must_use]
    pub fn new(name: &str, labels: &[(&str, &str)]) -> Self {
        Self {
            name: name.to_owned(),
            labels: to_labels(labels),
        }
    }
}

/// A pod: what selectors match (namespace, labels), what `ipBlock` matches (its IP), and its
/// named container ports (what a named `port` in a policy resolves to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's labels.
    pub labels: BTreeMap<String, String>,
    /// The pod's IP, if the test cares; `ipBlock` peers match it (see the module docs).
    pub ip: Option<IpAddr>,
    /// `spec.hostNetwork`: such a pod is treated as its IP alone (see the module docs).
    pub host_network: bool,
    /// Named container ports: name → (protocol, number), for named `port`s in policies
    /// (\[api\] `NetworkPolicyPort.port`: "This can either be a numerical or named port on a pod").
    pub ports: BTreeMap<String, (Protocol, u16)>,
}

impl Pod {
    /// A pod-network pod with these labels, no IP and no named ports.
    #[must_use]
    pub fn new(namespace: &str, labels: &[(&str, &str)]) -> Self {
        Self {
            namespace: namespace.to_owned(),
            labels: to_labels(labels),
            ip: None,
            host_network: false,
            ports: BTreeMap::new(),
        }
    }

    /// The same pod with this IP.
    #[must_use]
    pub fn with_ip(mut self, ip: impl Into<IpAddr>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// The same pod with a named container port.
    #[must_use]
    pub fn with_port(mut self, name: &str, protocol: Protocol, port: u16) -> Self {
        self.ports.insert(name.to_owned(), (protocol, port));
        self
    }

    /// The same pod with `hostNetwork: true`.
    #[must_use]
    pub fn on_host_network(mut self) -> Self {
        self.host_network = true;
        self
    }
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A pod (a `hostNetwork` pod counts as its IP only; see the module docs).
    Pod(Pod),
    /// Something outside the cluster's pod network (a Tailscale peer, a load balancer, another
    /// node): matched only by `ipBlock`, and never isolated itself.
    External {
        /// Its IP.
        ip: IpAddr,
    },
    /// **The node the pod at the other end runs on** (the kubelet's probes, its `hostNetwork`
    /// pods). As a source it is always allowed into that pod: \[concept\] "The two sorts of pod
    /// isolation": "When a pod is isolated for ingress, the only allowed connections into the
    /// pod are those from the pod's node and those allowed by the `ingress` list", and the
    /// overview's "traffic to and from the node where a Pod is running is always allowed,
    /// regardless of the IP address of the Pod or the node". As a destination it is checked
    /// against the pod's egress rules like [`Endpoint::External`]: the detailed section only
    /// exempts ingress, so this takes the stricter reading. Any *other* node is
    /// [`Endpoint::External`].
    Node {
        /// The node's IP (what `ipBlock` rules see when the pod connects to it).
        ip: IpAddr,
    },
}

impl Endpoint {
    /// An [`Endpoint::External`] at this IP.
    #[must_use]
    pub fn external(ip: impl Into<IpAddr>) -> Self {
        Self::External { ip: ip.into() }
    }

    /// An [`Endpoint::Node`] (the other end's own node) at this IP.
    #[must_use]
    pub fn node(ip: impl Into<IpAddr>) -> Self {
        Self::Node { ip: ip.into() }
    }
}

impl From<Pod> for Endpoint {
    fn from(pod: Pod) -> Self {
        Self::Pod(pod)
    }
}

/// The outcome of [`Cluster::allows`]; the lists name (`namespace/name`) the policies that
/// isolate the denying side, none of whose rules matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Both the source's egress and the destination's ingress allow the connection.
    Allowed,
    /// The source is isolated for egress and no egress rule allows the connection.
    DeniedByEgress(Vec<String>),
    /// The destination is isolated for ingress and no ingress rule allows the connection.
    DeniedByIngress(Vec<String>),
    /// Both sides deny it.
    DeniedByBoth {
        /// The policies isolating the source for egress.
        egress: Vec<String>,
        /// The policies isolating the destination for ingress.
        ingress: Vec<String>,
    },
}

impl Verdict {
    /// Whether the connection is allowed.
    #[must_use]
    pub const fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed)
    }

    /// Whether the source's egress policies deny it.
    #[must_use]
    pub const fn denied_by_egress(&self) -> bool {
        matches!(self, Self::DeniedByEgress(_) | Self::DeniedByBoth { .. })
    }

    /// Whether the destination's ingress policies deny it.
    #[must_use]
    pub const fn denied_by_ingress(&self) -> bool {
        matches!(self, Self::DeniedByIngress(_) | Self::DeniedByBoth { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let egress = |f: &mut fmt::Formatter<'_>, by: &[String]| {
            write!(
                f,
                "the source is isolated for egress by [{}] and none of their egress rules matches",
                by.join(", ")
            )
        };
        let ingress = |f: &mut fmt::Formatter<'_>, by: &[String]| {
            write!(
                f,
                "the destination is isolated for ingress by [{}] and none of their ingress rules matches",
                by.join(", ")
            )
        };
        match self {
            Self::Allowed => f.write_str("allowed"),
            Self::DeniedByEgress(by) => {
                f.write_str("denied: ")?;
                egress(f, by)
            }
            Self::DeniedByIngress(by) => {
                f.write_str("denied: ")?;
                ingress(f, by)
            }
            Self::DeniedByBoth {
                egress: out,
                ingress: into,
            } => {
                f.write_str("denied: ")?;
                egress(f, out)?;
                f.write_str("; and ")?;
                ingress(f, into)
            }
        }
    }
}

/// A `NetworkPolicy` the API server would reject, or one this evaluator cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

/// The namespaces and the `NetworkPolicy` objects of a cluster, to evaluate connections against.
#[derive(Debug, Clone)]
pub struct Cluster {
    policies: Vec<Policy>,
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
}

impl Cluster {
    /// Reads the `NetworkPolicy` objects among `documents` (parsed YAML/JSON; other kinds are
    /// ignored) and the namespaces' labels. A namespace a pod uses but `namespaces` lacks has
    /// only its [`NAMESPACE_NAME_LABEL`].
    ///
    /// # Errors
    /// A `NetworkPolicy` the API server would reject where that is cheap to tell (unknown
    /// protocol or policy type, port out of range or badly named, `endPort` misuse, a peer with
    /// no selector or with `ipBlock` and another selector, a bad CIDR or `except`, a bad label
    /// selector operator), unknown fields in its `spec` (a typo would otherwise silently widen
    /// or narrow the policy), a missing `metadata.name` or `metadata.namespace`, another
    /// `apiVersion` than `networking.k8s.io/v1`, or a duplicate `namespace/name`.
    pub fn new(documents: &[Value], namespaces: Vec<Namespace>) -> Result<Self, PolicyError> {
        let mut policies: Vec<Policy> = Vec::new();
        for document in documents {
            if let Some(policy) = Policy::parse(document)? {
                if policies.iter().any(|p| p.id == policy.id) {
                    return Err(PolicyError(format!(
                        "NetworkPolicy {} is defined twice",
                        policy.id
                    )));
                }
                policies.push(policy);
            }
        }
        let namespaces = namespaces
            .into_iter()
            .map(|namespace| {
                let mut labels = namespace.labels;
                labels.insert(NAMESPACE_NAME_LABEL.to_owned(), namespace.name.clone());
                (namespace.name, labels)
            })
            .collect();
        Ok(Self {
            policies,
            namespaces,
        })
    }

    /// The policies read, as `namespace/name`, in document order.
    pub fn policy_names(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| p.id.as_str())
    }

    /// Whether a connection from `from` to `to` on `protocol`/`port` (the destination port) is
    /// allowed: \[concept\] "The two sorts of pod isolation": "For a connection from a source pod
    /// to a destination pod to be allowed, both the egress policy on the source pod and the
    /// ingress policy on the destination pod need to allow the connection". A side that is not a
    /// pod, or a pod not isolated in that direction, allows everything ("NetworkPolicies apply
    /// to a connection with a pod on one or both ends, and are not relevant to other
    /// connections"; "By default, a pod is non-isolated for egress/ingress").
    #[must_use]
    pub fn allows(&self, from: &Endpoint, to: &Endpoint, protocol: Protocol, port: u16) -> Verdict {
        let source = Party::of(from);
        let destination = Party::of(to);
        let traffic = Traffic {
            protocol,
            port,
            destination_ports: destination.named_ports(),
        };
        let egress = match source {
            Party::Pod(pod) => self.denial(pod, Direction::Egress, &destination, &traffic),
            Party::Ip(_) => None,
        };
        let ingress = match destination {
            // The pod's own node is always let in ([`Endpoint::Node`]).
            Party::Pod(_) if matches!(from, Endpoint::Node { .. }) => None,
            Party::Pod(pod) => self.denial(pod, Direction::Ingress, &source, &traffic),
            Party::Ip(_) => None,
        };
        match (egress, ingress) {
            (None, None) => Verdict::Allowed,
            (Some(by), None) => Verdict::DeniedByEgress(by),
            (None, Some(by)) => Verdict::DeniedByIngress(by),
            (Some(egress), Some(ingress)) => Verdict::DeniedByBoth { egress, ingress },
        }
    }

    /// `None` when `pod` allows the connection in `direction`; otherwise the policies that
    /// isolate it. \[concept\] "The two sorts of pod isolation": a pod "is isolated for egress
    /// [ingress] if there is any NetworkPolicy that both selects the pod and has "Egress"
    /// ["Ingress"] in its `policyTypes`"; then the only allowed connections are "those allowed
    /// by the `egress` [`ingress`] list of some NetworkPolicy that applies to the pod", and
    /// "The effects of those lists combine additively" (a union, so order does not matter).
    fn denial(
        &self,
        pod: &Pod,
        direction: Direction,
        peer: &Party<'_>,
        traffic: &Traffic<'_>,
    ) -> Option<Vec<String>> {
        let applicable: Vec<&Policy> = self
            .policies
            .iter()
            // A policy selects pods in its own namespace only ([concept] "podSelector": "selects
            // the grouping of pods to which the policy applies"; "An empty `podSelector` selects
            // all pods in the namespace").
            .filter(|p| p.namespace == pod.namespace && p.pod_selector.matches(&pod.labels))
            .filter(|p| match direction {
                Direction::Ingress => p.ingress_isolation,
                Direction::Egress => p.egress_isolation,
            })
            .collect();
        if applicable.is_empty() {
            return None;
        }
        let allowed = applicable.iter().any(|policy| {
            let rules = match direction {
                Direction::Ingress => &policy.ingress,
                Direction::Egress => &policy.egress,
            };
            rules
                .iter()
                .any(|rule| self.rule_matches(rule, policy, peer, traffic))
        });
        if allowed {
            None
        } else {
            Some(applicable.iter().map(|p| p.id.clone()).collect())
        }
    }

    /// \[concept\] "ingress"/"egress": "Each rule allows traffic which matches both the `from`
    /// [`to`] and `ports` sections"; \[api\] `from`/`to`: "Items in this list are combined using
    /// a logical OR operation. If this field is empty or missing, this rule matches all sources
    /// [destinations]"; `ports`: "Each item in this list is combined using a logical OR. If this
    /// field is empty or missing, this rule matches all ports".
    fn rule_matches(
        &self,
        rule: &Rule,
        policy: &Policy,
        peer: &Party<'_>,
        traffic: &Traffic<'_>,
    ) -> bool {
        let peer_ok = rule.peers.is_empty()
            || rule
                .peers
                .iter()
                .any(|p| self.peer_matches(p, &policy.namespace, peer));
        let port_ok = rule.ports.is_empty() || rule.ports.iter().any(|p| p.matches(traffic));
        peer_ok && port_ok
    }

    /// \[concept\] "Behavior of `to` and `from` selectors" and \[api\] `NetworkPolicyPeer`.
    fn peer_matches(&self, peer: &Peer, policy_namespace: &str, party: &Party<'_>) -> bool {
        match peer {
            Peer::Block(block) => party.ip().is_some_and(|ip| block.contains(ip)),
            Peer::Pods {
                namespaces,
                pods: pod_selector,
            } => {
                // Selectors never match a `hostNetwork` pod or anything outside the pod network
                // ([concept] "NetworkPolicy and `hostNetwork` pods", most common implementation:
                // "it ignores `hostNetwork` pods when matching `podSelector` and
                // `namespaceSelector`"); [`Party::of`] already made those plain IPs.
                let Party::Pod(pod) = party else {
                    return false;
                };
                // "podSelector ... selects particular Pods in the same namespace as the
                // NetworkPolicy"; "namespaceSelector ... selects particular namespaces for which
                // all Pods should be allowed"; both in one entry "selects particular Pods within
                // particular namespaces" (an AND).
                let namespace_ok = match namespaces {
                    Some(selector) => selector.matches(&self.namespace_labels(&pod.namespace)),
                    None => pod.namespace == policy_namespace,
                };
                let pod_ok = pod_selector
                    .as_ref()
                    .is_none_or(|selector| selector.matches(&pod.labels));
                namespace_ok && pod_ok
            }
        }
    }

    fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        self.namespaces
            .get(name)
            .cloned()
            .unwrap_or_else(|| BTreeMap::from([(NAMESPACE_NAME_LABEL.to_owned(), name.to_owned())]))
    }
}

#[derive(Debug, Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

/// An endpoint as policies see it: a pod-network pod, or just an (optional) IP.
enum Party<'a> {
    Pod(&'a Pod),
    Ip(Option<IpAddr>),
}

impl<'a> Party<'a> {
    fn of(endpoint: &'a Endpoint) -> Self {
        match endpoint {
            // [concept] "NetworkPolicy and `hostNetwork` pods": in the most common
            // implementation "Traffic to/from `hostNetwork` pods is treated the same as all other
            // traffic to/from the node IP", and "since `hostNetwork` pods have the same IP
            // addresses as the nodes they reside on, their connections will be treated as node
            // connections. For example, you can allow traffic from a `hostNetwork` Pod using an
            // `ipBlock` rule." So such a pod is its IP: never selected by `spec.podSelector`
            // (not isolated), never matched by peer selectors, matched by `ipBlock`. (As a source
            // it is *not* given the node exemption of [`Endpoint::Node`]: this does not know
            // which node it is on. Use [`Endpoint::Node`] for that case.)
            Endpoint::Pod(pod) if pod.host_network => Self::Ip(pod.ip),
            Endpoint::Pod(pod) => Self::Pod(pod),
            Endpoint::External { ip } | Endpoint::Node { ip } => Self::Ip(Some(*ip)),
        }
    }

    const fn ip(&self) -> Option<IpAddr> {
        match self {
            // ipBlock matches a pod's IP when it has one: [concept] "ipBlock" says these "should
            // be cluster-external IPs, since Pod IPs are ephemeral and unpredictable", leaving
            // pod IPs to the plugin. Matching them is the choice that lets forbidden-flow checks
            // catch an `ipBlock` wide enough to cover pods.
            Self::Pod(pod) => pod.ip,
            Self::Ip(ip) => *ip,
        }
    }

    const fn named_ports(&self) -> Option<&'a BTreeMap<String, (Protocol, u16)>> {
        match self {
            Self::Pod(pod) => Some(&pod.ports),
            Self::Ip(_) => None,
        }
    }
}

/// The connection's protocol and destination port, and the destination pod's named ports.
struct Traffic<'a> {
    protocol: Protocol,
    port: u16,
    destination_ports: Option<&'a BTreeMap<String, (Protocol, u16)>>,
}

#[derive(Debug, Clone)]
struct Policy {
    /// `namespace/name`.
    id: String,
    namespace: String,
    pod_selector: Selector,
    ingress_isolation: bool,
    egress_isolation: bool,
    ingress: Vec<Rule>,
    egress: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    /// Empty: all peers.
    peers: Vec<Peer>,
    /// Empty: all ports.
    ports: Vec<PortRule>,
}

#[derive(Debug, Clone)]
enum Peer {
    /// At least one of the two is set (\[validation\] "must specify a peer").
    Pods {
        namespaces: Option<Selector>,
        pods: Option<Selector>,
    },
    Block(IpBlock),
}

#[derive(Debug, Clone)]
struct PortRule {
    protocol: Protocol,
    port: Option<PortSpec>,
}

#[derive(Debug, Clone)]
enum PortSpec {
    /// `port` alone (start == end) or with `endPort` (inclusive).
    Range(u16, u16),
    Named(String),
}

impl PortRule {
    /// \[api\] `NetworkPolicyPort`: `protocol` "If not specified, this field defaults to TCP";
    /// `port` "If this field is not provided, this matches all port names and numbers. If
    /// present, only traffic on the specified protocol AND port will be matched"; `endPort`
    /// "indicates that the range of ports from port to endPort if set, inclusive, should be
    /// allowed". A named port is resolved on the destination pod's container ports (with their
    /// protocol); it matches nothing when the destination is not a pod-network pod.
    fn matches(&self, traffic: &Traffic<'_>) -> bool {
        if self.protocol != traffic.protocol {
            return false;
        }
        match &self.port {
            None => true,
            Some(PortSpec::Range(start, end)) => (*start..=*end).contains(&traffic.port),
            Some(PortSpec::Named(name)) => traffic
                .destination_ports
                .and_then(|ports| ports.get(name))
                .is_some_and(|&(protocol, port)| {
                    protocol == traffic.protocol && port == traffic.port
                }),
        }
    }
}

/// A label selector: \[selector\] "The result of matchLabels and matchExpressions are ANDed. An
/// empty label selector matches all objects."
#[derive(Debug, Clone, Default)]
struct Selector {
    labels: BTreeMap<String, String>,
    expressions: Vec<Expression>,
}

#[derive(Debug, Clone)]
enum Expression {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Selector {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self.expressions.iter().all(|e| e.matches(labels))
    }
}

impl Expression {
    /// \[selector\] "Set-based requirement": `tier notin (frontend, backend)` "selects all
    /// resources with key equal to `tier` and values other than `frontend` and `backend`, and
    /// all resources with no labels with the `tier` key"; `partition` (Exists) "selects all
    /// resources including a label with key `partition`"; `!partition` (DoesNotExist) those
    /// without it.
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Self::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Self::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Self::Exists(key) => labels.contains_key(key),
            Self::DoesNotExist(key) => !labels.contains_key(key),
        }
    }
}

/// \[api\] `IPBlock`: `cidr`, and `except`, "CIDRs that should not be included within an IPBlock".
#[derive(Debug, Clone)]
struct IpBlock {
    cidr: Cidr,
    except: Vec<Cidr>,
}

impl IpBlock {
    fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(ip) && !self.except.iter().any(|e| e.contains(ip))
    }
}

/// An IPv4 or IPv6 network. An IPv4 network never contains an IPv6 address, nor the reverse.
#[derive(Debug, Clone, Copy)]
struct Cidr {
    v6: bool,
    /// The address bits, left-aligned in 128 bits for IPv4 too.
    bits: u128,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        let address: IpAddr = address.parse().ok()?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let (v6, bits, width) = match address {
            IpAddr::V4(v4) => (false, u128::from(u32::from(v4)) << 96, 32),
            IpAddr::V6(v6) => (true, u128::from(v6), 128),
        };
        // Host bits are masked off, as Go's `net.ParseCIDR` (which the API server uses) does.
        (prefix <= width).then(|| Self {
            v6,
            bits: bits & mask(prefix),
            prefix,
        })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (v6, bits) = match ip {
            IpAddr::V4(v4) => (false, u128::from(u32::from(v4)) << 96),
            IpAddr::V6(v6) => (true, u128::from(v6)),
        };
        v6 == self.v6 && bits & mask(self.prefix) == self.bits
    }

    /// \[validation\] `ValidateIPBlock`: each `except` "must be a strict subset of `cidr`".
    fn strictly_contains(&self, inner: &Self) -> bool {
        inner.v6 == self.v6
            && inner.prefix > self.prefix
            && inner.bits & mask(self.prefix) == self.bits
    }
}

fn mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

// ---- reading the JSON --------------------------------------------------------------------

type Parsed<T> = Result<T, PolicyError>;

/// Errors about one policy, prefixed with its `namespace/name` and the field path.
struct Reader<'a> {
    policy: &'a str,
}

impl Reader<'_> {
    fn error(&self, path: &str, message: impl fmt::Display) -> PolicyError {
        PolicyError(format!("NetworkPolicy {}: {path}: {message}", self.policy))
    }

    /// `value` as an object with only `allowed` keys; JSON `null` (a YAML key with no value) is
    /// read as absent, as the API server's decoder does.
    fn object<'v>(
        &self,
        value: Option<&'v Value>,
        path: &str,
        allowed: &[&str],
    ) -> Parsed<Option<&'v Map<String, Value>>> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => {
                if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
                    return Err(self.error(
                        path,
                        format!(
                            "unknown field `{key}` (expected one of: {})",
                            allowed.join(", ")
                        ),
                    ));
                }
                Ok(Some(map))
            }
            Some(other) => Err(self.error(path, format!("must be an object, not {other}"))),
        }
    }

    /// `value` as a list; `null` or absent is an empty list.
    fn list<'v>(&self, value: Option<&'v Value>, path: &str) -> Parsed<&'v [Value]> {
        match value {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.error(path, format!("must be a list, not {other}"))),
        }
    }

    fn string<'v>(&self, value: &'v Value, path: &str) -> Parsed<&'v str> {
        value
            .as_str()
            .ok_or_else(|| self.error(path, format!("must be a string, not {value}")))
    }

    fn strings(&self, value: Option<&Value>, path: &str) -> Parsed<Vec<String>> {
        self.list(value, path)?
            .iter()
            .enumerate()
            .map(|(i, v)| Ok(self.string(v, &format!("{path}[{i}]"))?.to_owned()))
            .collect()
    }

    fn selector(&self, value: &Map<String, Value>, path: &str) -> Parsed<Selector> {
        let mut selector = Selector::default();
        // Any key may appear in matchLabels, so it gets no unknown-field check.
        match value.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, v) in labels {
                    let v = self.string(v, &format!("{path}.matchLabels.{key}"))?;
                    selector.labels.insert(key.clone(), v.to_owned());
                }
            }
            Some(other) => {
                return Err(self.error(
                    &format!("{path}.matchLabels"),
                    format!("must be an object, not {other}"),
                ));
            }
        }
        let expressions = format!("{path}.matchExpressions");
        for (i, item) in self
            .list(value.get("matchExpressions"), &expressions)?
            .iter()
            .enumerate()
        {
            let here = format!("{expressions}[{i}]");
            let Some(item) = self.object(Some(item), &here, &["key", "operator", "values"])? else {
                return Err(self.error(&here, "must be an object"));
            };
            let key = self
                .string(
                    item.get("key").unwrap_or(&Value::Null),
                    &format!("{here}.key"),
                )?
                .to_owned();
            let operator = self.string(
                item.get("operator").unwrap_or(&Value::Null),
                &format!("{here}.operator"),
            )?;
            let values = self.strings(item.get("values"), &format!("{here}.values"))?;
            // [selector] `values`: "If the operator is In or NotIn, the values array must be
            // non-empty. If the operator is Exists or DoesNotExist, the values array must be
            // empty."; "Valid operators are In, NotIn, Exists and DoesNotExist."
            let expression = match (operator, values.is_empty()) {
                ("In", false) => Expression::In(key, values),
                ("NotIn", false) => Expression::NotIn(key, values),
                ("Exists", true) => Expression::Exists(key),
                ("DoesNotExist", true) => Expression::DoesNotExist(key),
                ("In" | "NotIn", true) => {
                    return Err(self.error(
                        &here,
                        format!("`values` must be non-empty for operator {operator}"),
                    ));
                }
                ("Exists" | "DoesNotExist", false) => {
                    return Err(self.error(
                        &here,
                        format!("`values` must be empty for operator {operator}"),
                    ));
                }
                _ => {
                    return Err(self.error(
                        &format!("{here}.operator"),
                        format!(
                            "unsupported operator {operator:?} (In, NotIn, Exists, DoesNotExist)"
                        ),
                    ));
                }
            };
            selector.expressions.push(expression);
        }
        Ok(selector)
    }

    /// An optional selector field: `None` when absent or `null` (a nil pointer in the API).
    fn optional_selector(&self, value: Option<&Value>, path: &str) -> Parsed<Option<Selector>> {
        self.object(value, path, &["matchLabels", "matchExpressions"])?
            .map(|map| self.selector(map, path))
            .transpose()
    }

    fn rule(&self, value: &Value, path: &str, peers_key: &str) -> Parsed<Rule> {
        // A `null` list item decodes to an empty rule, like `{}`.
        let map = self.object(Some(value), path, &[peers_key, "ports"])?;
        let empty = Map::new();
        let map = map.unwrap_or(&empty);
        let peers_path = format!("{path}.{peers_key}");
        let peers = self
            .list(map.get(peers_key), &peers_path)?
            .iter()
            .enumerate()
            .map(|(i, peer)| self.peer(peer, &format!("{peers_path}[{i}]")))
            .collect::<Parsed<_>>()?;
        let ports_path = format!("{path}.ports");
        let ports = self
            .list(map.get("ports"), &ports_path)?
            .iter()
            .enumerate()
            .map(|(i, port)| self.port(port, &format!("{ports_path}[{i}]")))
            .collect::<Parsed<_>>()?;
        Ok(Rule { peers, ports })
    }

    /// \[api\] `NetworkPolicyPeer`; \[validation\] `ValidateNetworkPolicyPeer`: at least one field
    /// ("must specify a peer"), and `ipBlock` alone ("may not specify both ipBlock and another
    /// peer").
    fn peer(&self, value: &Value, path: &str) -> Parsed<Peer> {
        let map = self
            .object(
                Some(value),
                path,
                &["podSelector", "namespaceSelector", "ipBlock"],
            )?
            .cloned()
            .unwrap_or_default();
        let pods =
            self.optional_selector(map.get("podSelector"), &format!("{path}.podSelector"))?;
        let namespaces = self.optional_selector(
            map.get("namespaceSelector"),
            &format!("{path}.namespaceSelector"),
        )?;
        let block_path = format!("{path}.ipBlock");
        let block = self.object(map.get("ipBlock"), &block_path, &["cidr", "except"])?;
        match (block, pods.is_some() || namespaces.is_some()) {
            (Some(_), true) => {
                Err(self.error(path, "may not specify both ipBlock and another peer"))
            }
            (Some(block), false) => Ok(Peer::Block(self.ip_block(block, &block_path)?)),
            (None, true) => Ok(Peer::Pods { namespaces, pods }),
            (None, false) => Err(self.error(path, "must specify a peer")),
        }
    }

    /// \[validation\] `ValidateIPBlock`: `cidr` is required and a valid CIDR; each `except` a valid
    /// CIDR and "a strict subset of `cidr`" (\[api\] "Except values will be rejected if they are
    /// outside the cidr range").
    fn ip_block(&self, map: &Map<String, Value>, path: &str) -> Parsed<IpBlock> {
        let cidr_path = format!("{path}.cidr");
        let text = self.string(map.get("cidr").unwrap_or(&Value::Null), &cidr_path)?;
        let cidr = Cidr::parse(text)
            .ok_or_else(|| self.error(&cidr_path, format!("invalid CIDR {text:?}")))?;
        let except_path = format!("{path}.except");
        let mut except = Vec::new();
        for (i, text) in self
            .strings(map.get("except"), &except_path)?
            .iter()
            .enumerate()
        {
            let here = format!("{except_path}[{i}]");
            let inner = Cidr::parse(text)
                .ok_or_else(|| self.error(&here, format!("invalid CIDR {text:?}")))?;
            if !cidr.strictly_contains(&inner) {
                return Err(
                    self.error(&here, format!("{text:?} must be a strict subset of `cidr`"))
                );
            }
            except.push(inner);
        }
        Ok(IpBlock { cidr, except })
    }

    /// \[validation\] `ValidateNetworkPolicyPort`: protocol TCP/UDP/SCTP; a numeric `port` in
    /// 1..=65535; a named `port` a valid port name; `endPort` only with a numeric `port`, in
    /// range, and "greater than or equal to `port`" (\[concept\] "Targeting a range of ports").
    fn port(&self, value: &Value, path: &str) -> Parsed<PortRule> {
        let map = self
            .object(Some(value), path, &["protocol", "port", "endPort"])?
            .cloned()
            .unwrap_or_default();
        let protocol = match map.get("protocol") {
            None | Some(Value::Null) => Protocol::Tcp,
            Some(v) => {
                let text = self.string(v, &format!("{path}.protocol"))?;
                Protocol::parse(text).ok_or_else(|| {
                    self.error(
                        &format!("{path}.protocol"),
                        format!("unsupported protocol {text:?} (TCP, UDP, SCTP)"),
                    )
                })?
            }
        };
        let end = match map.get("endPort") {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.port_number(v, &format!("{path}.endPort"))?),
        };
        let port = match (map.get("port"), end) {
            (None | Some(Value::Null), None) => None,
            (None | Some(Value::Null), Some(_)) => {
                return Err(self.error(
                    &format!("{path}.endPort"),
                    "may not be specified when `port` is not specified",
                ));
            }
            (Some(Value::String(name)), end) => {
                if end.is_some() {
                    return Err(self.error(
                        &format!("{path}.endPort"),
                        "may not be specified when `port` is non-numeric",
                    ));
                }
                if let Some(problem) = port_name_problem(name) {
                    return Err(self.error(
                        &format!("{path}.port"),
                        format!("invalid port name {name:?}: {problem}"),
                    ));
                }
                Some(PortSpec::Named(name.clone()))
            }
            (Some(v), end) => {
                let start = self.port_number(v, &format!("{path}.port"))?;
                let end = end.unwrap_or(start);
                if end < start {
                    return Err(self.error(
                        &format!("{path}.endPort"),
                        "must be greater than or equal to `port`",
                    ));
                }
                Some(PortSpec::Range(start, end))
            }
        };
        Ok(PortRule { protocol, port })
    }

    fn port_number(&self, value: &Value, path: &str) -> Parsed<u16> {
        value
            .as_u64()
            .filter(|n| (1..=65535).contains(n))
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| {
                self.error(
                    path,
                    format!("{value} is not a port number: must be between 1 and 65535, inclusive"),
                )
            })
    }
}

/// Kubernetes' `IsValidPortName` (an IANA service name): at most 15 characters of `a-z`, `0-9`
/// and `-`, at least one letter, no leading, trailing or doubled `-`.
fn port_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 15 {
        Some("must be 1 to 15 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("must contain only lowercase letters, digits and '-'")
    } else if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        Some("must contain at least one letter")
    } else if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        Some("must not begin or end with '-' or contain '--'")
    } else {
        None
    }
}

impl Policy {
    /// `Ok(None)` for documents of other kinds.
    fn parse(document: &Value) -> Parsed<Option<Self>> {
        if document.get("kind").and_then(Value::as_str) != Some("NetworkPolicy") {
            return Ok(None);
        }
        let metadata = document.get("metadata");
        let field = |key: &str| {
            metadata
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let name = field("name").unwrap_or("<unnamed>");
        let api_version = document.get("apiVersion").and_then(Value::as_str);
        if api_version != Some("networking.k8s.io/v1") {
            return Err(PolicyError(format!(
                "NetworkPolicy {name}: apiVersion {api_version:?} is not networking.k8s.io/v1"
            )));
        }
        if field("name").is_none() {
            return Err(PolicyError(
                "a NetworkPolicy has no metadata.name".to_owned(),
            ));
        }
        // A NetworkPolicy is namespaced; this does not guess the namespace `kubectl apply` would
        // use for an object without one.
        let Some(namespace) = field("namespace") else {
            return Err(PolicyError(format!(
                "NetworkPolicy {name}: metadata.namespace is required here"
            )));
        };
        let id = format!("{namespace}/{name}");
        let reader = Reader { policy: &id };
        let spec = reader
            .object(
                document.get("spec"),
                "spec",
                &["podSelector", "ingress", "egress", "policyTypes"],
            )?
            .cloned()
            .unwrap_or_default();
        // [api] `podSelector`: "This field is optional. If it is not specified, it defaults to
        // an empty selector" (which "matches all pods in the policy's namespace").
        let pod_selector = reader
            .optional_selector(spec.get("podSelector"), "spec.podSelector")?
            .unwrap_or_default();
        let ingress = reader
            .list(spec.get("ingress"), "spec.ingress")?
            .iter()
            .enumerate()
            .map(|(i, rule)| reader.rule(rule, &format!("spec.ingress[{i}]"), "from"))
            .collect::<Parsed<Vec<_>>>()?;
        let egress = reader
            .list(spec.get("egress"), "spec.egress")?
            .iter()
            .enumerate()
            .map(|(i, rule)| reader.rule(rule, &format!("spec.egress[{i}]"), "to"))
            .collect::<Parsed<Vec<_>>>()?;
        let types = reader.strings(spec.get("policyTypes"), "spec.policyTypes")?;
        if types.len() > 2 {
            return Err(reader.error(
                "spec.policyTypes",
                "may not specify more than two policyTypes",
            ));
        }
        if let Some(bad) = types.iter().find(|t| *t != "Ingress" && *t != "Egress") {
            return Err(reader.error(
                "spec.policyTypes",
                format!("unsupported value {bad:?} (Ingress, Egress)"),
            ));
        }
        // [concept] "policyTypes": "If no `policyTypes` are specified on a NetworkPolicy then by
        // default `Ingress` will always be set and `Egress` will be set if the NetworkPolicy has
        // any egress rules." (The API server defaults an empty list the same way.)
        let (ingress_isolation, egress_isolation) = if types.is_empty() {
            (true, !egress.is_empty())
        } else {
            (
                types.iter().any(|t| t == "Ingress"),
                types.iter().any(|t| t == "Egress"),
            )
        };
        Ok(Some(Self {
            id: id.clone(),
            namespace: namespace.to_owned(),
            pod_selector,
            ingress_isolation,
            egress_isolation,
            ingress,
            egress,
        }))
    }
}

fn to_labels(labels: &[(&str, &str)]) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn yaml(text: &str) -> Value {
        serde_saphyr::from_str(text).expect("test YAML parses")
    }

    fn cluster(policies: &[&str], namespaces: Vec<Namespace>) -> Cluster {
        let documents: Vec<Value> = policies.iter().map(|p| yaml(p)).collect();
        Cluster::new(&documents, namespaces).expect("valid policies")
    }

    fn error(policy: &str) -> String {
        Cluster::new(&[yaml(policy)], vec![])
            .expect_err("the policy must be rejected")
            .to_string()
    }

    fn pod(namespace: &str, labels: &[(&str, &str)]) -> Endpoint {
        Pod::new(namespace, labels).into()
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    const TCP: Protocol = Protocol::Tcp;

    /// A policy in `ns` selecting `app: db` and isolating it for ingress, with these rules.
    fn db_ingress(rules: &str) -> String {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: db, namespace: ns}}
spec:
  podSelector: {{matchLabels: {{app: db}}}}
  policyTypes: [Ingress]
{rules}"
        )
    }

    // [concept] "The two sorts of pod isolation": "By default, a pod is non-isolated for egress;
    // all outbound connections are allowed" (and likewise for ingress).
    #[test]
    fn pods_are_not_isolated_without_policies() {
        let c = cluster(&[], vec![]);
        let verdict = c.allows(&pod("a", &[]), &pod("b", &[]), TCP, 80);
        assert_eq!(verdict, Verdict::Allowed);
        assert!(
            c.allows(
                &pod("a", &[]),
                &Endpoint::external(v4(1, 1, 1, 1)),
                TCP,
                443
            )
            .is_allowed()
        );
    }

    // [concept] "A pod is isolated for ingress if there is any NetworkPolicy that both selects
    // the pod and has "Ingress" in its policyTypes"; a policy selects pods of its own namespace.
    #[test]
    fn only_selected_pods_of_the_policys_namespace_are_isolated() {
        let c = cluster(&[&db_ingress("")], vec![]);
        let client = pod("ns", &[("app", "client")]);
        let denied = c.allows(&client, &pod("ns", &[("app", "db")]), TCP, 5432);
        assert_eq!(denied, Verdict::DeniedByIngress(vec!["ns/db".to_owned()]));
        assert!(denied.to_string().contains("ns/db"), "{denied}");
        // Not selected: other labels, or the same labels in another namespace.
        assert!(
            c.allows(&client, &pod("ns", &[("app", "web")]), TCP, 80)
                .is_allowed()
        );
        assert!(
            c.allows(&client, &pod("other", &[("app", "db")]), TCP, 5432)
                .is_allowed()
        );
        // Ingress isolation says nothing about the db pod's egress.
        assert!(
            c.allows(&pod("ns", &[("app", "db")]), &client, TCP, 80)
                .is_allowed()
        );
    }

    // [concept] "policyTypes": "If no policyTypes are specified on a NetworkPolicy then by
    // default Ingress will always be set and Egress will be set if the NetworkPolicy has any
    // egress rules."
    #[test]
    fn policy_types_default_from_the_rules() {
        let header = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {}
";
        let a = pod("ns", &[("app", "a")]);
        let b = pod("ns", &[("app", "b")]);
        let outside = Endpoint::external(v4(8, 8, 8, 8));

        // Ingress rules only: isolated for ingress, not egress.
        let c = cluster(
            &[&format!(
                "{header}  ingress: [{{from: [{{podSelector: {{matchLabels: {{app: a}}}}}}]}}]"
            )],
            vec![],
        );
        assert!(c.allows(&a, &b, TCP, 80).is_allowed());
        assert!(c.allows(&b, &a, TCP, 80).denied_by_ingress());
        assert!(
            c.allows(&a, &outside, TCP, 443).is_allowed(),
            "egress is not isolated"
        );

        // Egress rules and no policyTypes: Ingress AND Egress, so ingress allows nothing.
        let c = cluster(
            &[&format!(
                "{header}  egress: [{{to: [{{podSelector: {{}}}}]}}]"
            )],
            vec![],
        );
        let verdict = c.allows(&a, &b, TCP, 80);
        assert!(
            !verdict.denied_by_egress() && verdict.denied_by_ingress(),
            "{verdict}"
        );
        assert!(c.allows(&a, &outside, TCP, 443).denied_by_egress());

        // `egress: []` has no egress rules: only Ingress is defaulted.
        let c = cluster(&[&format!("{header}  egress: []")], vec![]);
        assert!(c.allows(&a, &outside, TCP, 443).is_allowed());
        assert!(c.allows(&outside, &a, TCP, 80).denied_by_ingress());

        // No spec at all: an empty podSelector and the default [Ingress] (deny all ingress).
        let c = cluster(
            &[
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\n",
            ],
            vec![],
        );
        assert!(c.allows(&a, &b, TCP, 80).denied_by_ingress());
        assert!(c.allows(&a, &outside, TCP, 80).is_allowed());
    }

    // [concept] the isolation is per policyTypes: a policy with policyTypes [Egress] does not
    // isolate for ingress, whatever its `ingress` list says.
    #[test]
    fn explicit_policy_types_override_the_rules_present() {
        let c = cluster(
            &["apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {}
  policyTypes: [Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: nobody}}}]}]
"],
            vec![],
        );
        let a = pod("ns", &[("app", "a")]);
        let b = pod("ns", &[("app", "b")]);
        assert_eq!(
            c.allows(&a, &b, TCP, 80),
            Verdict::DeniedByEgress(vec!["ns/p".to_owned()])
        );
        assert!(
            c.allows(&Endpoint::external(v4(1, 2, 3, 4)), &b, TCP, 80)
                .is_allowed()
        );
    }

    // [concept] "Default policies": `ingress: [{}]` allows all ("Allow all ingress traffic");
    // no ingress rules allows none ("Default deny all ingress traffic"; [api] `ingress`: "If this
    // field is empty then this NetworkPolicy does not allow any traffic").
    #[test]
    fn an_empty_rule_allows_all_and_no_rules_allow_none() {
        let db = pod("ns", &[("app", "db")]);
        let anyone = [
            pod("ns", &[]),
            pod("elsewhere", &[("x", "y")]),
            Endpoint::external(v4(203, 0, 113, 9)),
        ];
        let allow_all = cluster(&[&db_ingress("  ingress: [{}]")], vec![]);
        let empty_list = cluster(&[&db_ingress("  ingress: []")], vec![]);
        let absent = cluster(&[&db_ingress("")], vec![]);
        let null = cluster(&[&db_ingress("  ingress:")], vec![]);
        for source in &anyone {
            for port in [1, 80, 65535] {
                assert!(allow_all.allows(source, &db, TCP, port).is_allowed());
                assert!(
                    allow_all
                        .allows(source, &db, Protocol::Sctp, port)
                        .is_allowed()
                );
                for deny in [&empty_list, &absent, &null] {
                    assert!(deny.allows(source, &db, TCP, port).denied_by_ingress());
                }
            }
        }
    }

    // [concept] "Network policies do not conflict; they are additive ... the connections allowed
    // in that direction from that pod is the union of what the applicable policies allow."
    #[test]
    fn rules_are_a_union_across_policies() {
        let only_a = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-a, namespace: ns}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}]}]
";
        let only_b = only_a
            .replace("from-a", "from-b")
            .replace("app: a}", "app: b}");
        let deny_all = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: ns}
spec: {podSelector: {}, policyTypes: [Ingress]}
";
        let c = cluster(&[only_a, &only_b, deny_all], vec![]);
        let db = pod("ns", &[("app", "db")]);
        assert!(
            c.allows(&pod("ns", &[("app", "a")]), &db, TCP, 1)
                .is_allowed()
        );
        assert!(
            c.allows(&pod("ns", &[("app", "b")]), &db, TCP, 1)
                .is_allowed()
        );
        assert_eq!(
            c.allows(&pod("ns", &[("app", "c")]), &db, TCP, 1),
            Verdict::DeniedByIngress(vec![
                "ns/from-a".to_owned(),
                "ns/from-b".to_owned(),
                "ns/deny".to_owned()
            ])
        );
        assert_eq!(
            c.policy_names().collect::<Vec<_>>(),
            ["ns/from-a", "ns/from-b", "ns/deny"]
        );
    }

    // [api] NetworkPolicyIngressRule: `from` "If this field is empty or missing, this rule
    // matches all sources"; `ports` "If this field is empty or missing, this rule matches all
    // ports"; [concept] "Each rule allows traffic which matches both the from and ports sections".
    #[test]
    fn empty_or_missing_from_and_ports_match_everything() {
        let db = pod("ns", &[("app", "db")]);
        let source = pod("far", &[("k", "v")]);
        for rules in [
            "  ingress: [{from: [], ports: []}]",
            "  ingress: [{from: []}]",
            "  ingress: [{ports: []}]",
        ] {
            let c = cluster(&[&db_ingress(rules)], vec![]);
            assert!(
                c.allows(&source, &db, Protocol::Udp, 9).is_allowed(),
                "{rules}"
            );
        }
        // Both sections must match: the right source on the wrong port is denied.
        let c = cluster(
            &[&db_ingress(
                "  ingress: [{from: [{podSelector: {}}], ports: [{port: 5432}]}]",
            )],
            vec![],
        );
        assert!(c.allows(&pod("ns", &[]), &db, TCP, 5432).is_allowed());
        assert!(
            c.allows(&pod("ns", &[]), &db, TCP, 5433)
                .denied_by_ingress()
        );
        assert!(c.allows(&source, &db, TCP, 5432).denied_by_ingress());
    }

    // [concept] "Behavior of to and from selectors", the `user: alice` / `role: client` example:
    // one entry with both selectors selects "Pods with the label role=client in namespaces with
    // the label user=alice"; two entries allow "Pods in the local Namespace with the label
    // role=client, *or* from any Pod in any namespace with the label user=alice".
    #[test]
    fn combined_peer_is_an_and_separate_peers_are_an_or() {
        let namespaces = vec![
            Namespace::new("alice-ns", &[("user", "alice")]),
            Namespace::new("bob-ns", &[("user", "bob")]),
        ];
        let and = cluster(
            &[&db_ingress(
                "  ingress:
  - from:
    - namespaceSelector: {matchLabels: {user: alice}}
      podSelector: {matchLabels: {role: client}}",
            )],
            namespaces.clone(),
        );
        let or = cluster(
            &[&db_ingress(
                "  ingress:
  - from:
    - namespaceSelector: {matchLabels: {user: alice}}
    - podSelector: {matchLabels: {role: client}}",
            )],
            namespaces,
        );
        let db = pod("ns", &[("app", "db")]);
        let alice_client = pod("alice-ns", &[("role", "client")]);
        let alice_other = pod("alice-ns", &[("role", "other")]);
        let bob_client = pod("bob-ns", &[("role", "client")]);
        let local_client = pod("ns", &[("role", "client")]);

        assert!(and.allows(&alice_client, &db, TCP, 1).is_allowed());
        assert!(and.allows(&alice_other, &db, TCP, 1).denied_by_ingress());
        assert!(and.allows(&bob_client, &db, TCP, 1).denied_by_ingress());
        assert!(and.allows(&local_client, &db, TCP, 1).denied_by_ingress());

        assert!(or.allows(&alice_client, &db, TCP, 1).is_allowed());
        assert!(or.allows(&alice_other, &db, TCP, 1).is_allowed());
        assert!(or.allows(&local_client, &db, TCP, 1).is_allowed());
        assert!(or.allows(&bob_client, &db, TCP, 1).denied_by_ingress());
    }

    // [concept] "podSelector: This selects particular Pods in the same namespace as the
    // NetworkPolicy"; "namespaceSelector: This selects particular namespaces for which all Pods
    // should be allowed"; [api] "if present but empty, it selects all pods/namespaces".
    #[test]
    fn pod_and_namespace_selectors_alone() {
        let db = pod("ns", &[("app", "db")]);
        let pods_only = cluster(
            &[&db_ingress("  ingress: [{from: [{podSelector: {}}]}]")],
            vec![],
        );
        assert!(
            pods_only
                .allows(&pod("ns", &[("any", "thing")]), &db, TCP, 1)
                .is_allowed()
        );
        assert!(
            pods_only
                .allows(&pod("other", &[]), &db, TCP, 1)
                .denied_by_ingress()
        );

        let namespaces = vec![Namespace::new("mon", &[("team", "obs")])];
        let ns_only = cluster(
            &[&db_ingress(
                "  ingress: [{from: [{namespaceSelector: {matchLabels: {team: obs}}}]}]",
            )],
            namespaces.clone(),
        );
        assert!(
            ns_only
                .allows(&pod("mon", &[("whatever", "x")]), &db, TCP, 1)
                .is_allowed()
        );
        assert!(ns_only.allows(&pod("mon", &[]), &db, TCP, 1).is_allowed());
        // Not the policy's own namespace, unless selected.
        assert!(
            ns_only
                .allows(&pod("ns", &[]), &db, TCP, 1)
                .denied_by_ingress()
        );

        let all_ns = cluster(
            &[&db_ingress(
                "  ingress: [{from: [{namespaceSelector: {}}]}]",
            )],
            namespaces,
        );
        assert!(
            all_ns
                .allows(&pod("anywhere", &[]), &db, TCP, 1)
                .is_allowed()
        );
        // ... but only pods: an external IP is no pod of any namespace.
        assert!(
            all_ns
                .allows(&Endpoint::external(v4(1, 1, 1, 1)), &db, TCP, 1)
                .denied_by_ingress()
        );
    }

    // [concept] "Targeting a Namespace by its name": the control plane sets an immutable label
    // kubernetes.io/metadata.name on all namespaces, whose value is the namespace name.
    #[test]
    fn namespaces_carry_their_name_label() {
        let policy = db_ingress(
            "  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: mon}}}]}]",
        );
        let db = pod("ns", &[("app", "db")]);
        // Listed (even with a wrong value given for the label) or not listed at all.
        let listed = cluster(
            &[&policy],
            vec![Namespace::new("mon", &[(NAMESPACE_NAME_LABEL, "forged")])],
        );
        let unlisted = cluster(&[&policy], vec![]);
        for c in [&listed, &unlisted] {
            assert!(c.allows(&pod("mon", &[]), &db, TCP, 1).is_allowed());
            assert!(
                c.allows(&pod("forged", &[]), &db, TCP, 1)
                    .denied_by_ingress()
            );
        }
    }

    // [selector] "The result of matchLabels and matchExpressions are ANDed"; operators In,
    // NotIn (also matching objects without the key), Exists, DoesNotExist.
    #[test]
    fn label_selector_expressions() {
        let c = cluster(
            &["apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector:
    matchLabels: {app: db}
    matchExpressions:
    - {key: tier, operator: In, values: [a, b]}
    - {key: env, operator: NotIn, values: [dev]}
    - {key: owner, operator: Exists}
    - {key: legacy, operator: DoesNotExist}
"],
            vec![],
        );
        let client = pod("other", &[]);
        let isolated = |labels: &[(&str, &str)]| {
            c.allows(&client, &pod("ns", labels), TCP, 1)
                .denied_by_ingress()
        };
        let base = [("app", "db"), ("tier", "a"), ("owner", "x")];
        assert!(isolated(&base), "NotIn matches a pod without the key");
        assert!(isolated(&[
            ("app", "db"),
            ("tier", "b"),
            ("owner", ""),
            ("env", "prod")
        ]));
        assert!(
            !isolated(&[("app", "web"), ("tier", "a"), ("owner", "x")]),
            "matchLabels"
        );
        assert!(
            !isolated(&[("app", "db"), ("tier", "c"), ("owner", "x")]),
            "In"
        );
        assert!(
            !isolated(&[("app", "db"), ("owner", "x")]),
            "In needs the key"
        );
        assert!(
            !isolated(&[("app", "db"), ("tier", "a"), ("owner", "x"), ("env", "dev")]),
            "NotIn"
        );
        assert!(!isolated(&[("app", "db"), ("tier", "a")]), "Exists");
        assert!(
            !isolated(&[("app", "db"), ("tier", "a"), ("owner", "x"), ("legacy", "")]),
            "DoesNotExist"
        );
    }

    // [concept] the example policy: "IP addresses in the ranges 172.17.0.0–172.17.0.255 and
    // 172.17.2.0–172.17.255.255 (ie, all of 172.17.0.0/16 except 172.17.1.0/24)".
    #[test]
    fn ip_block_with_except() {
        let c = cluster(
            &[&db_ingress(
                "  ingress:
  - from:
    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}
    - ipBlock: {cidr: '2001:db8::/64'}",
            )],
            vec![],
        );
        let db = pod("ns", &[("app", "db")]);
        let from = |ip: IpAddr| c.allows(&Endpoint::external(ip), &db, TCP, 1).is_allowed();
        assert!(from(v4(172, 17, 0, 0)));
        assert!(from(v4(172, 17, 0, 255)));
        assert!(!from(v4(172, 17, 1, 0)));
        assert!(!from(v4(172, 17, 1, 255)));
        assert!(from(v4(172, 17, 2, 0)));
        assert!(from(v4(172, 17, 255, 255)));
        assert!(!from(v4(172, 18, 0, 0)));
        assert!(!from(v4(172, 16, 255, 255)));
        assert!(from(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0, 0, 1, 2, 3, 4
        ))));
        assert!(!from(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0, 1, 0, 0, 0, 1
        ))));
        // The module's choice: a pod with an IP is matched by ipBlock; one without is not.
        let inside = Pod::new("x", &[]).with_ip(Ipv4Addr::new(172, 17, 3, 4));
        assert!(c.allows(&inside.clone().into(), &db, TCP, 1).is_allowed());
        let no_ip = Pod { ip: None, ..inside };
        assert!(c.allows(&no_ip.into(), &db, TCP, 1).denied_by_ingress());
    }

    // [api] NetworkPolicyPort: protocol "If not specified, this field defaults to TCP"; "only
    // traffic on the specified protocol AND port will be matched"; [concept] "Targeting a range
    // of ports": port 32000 with endPort 32768 allows "the range 32000 and 32768".
    #[test]
    fn ports_protocols_and_ranges() {
        let c = cluster(
            &[&db_ingress(
                "  ingress:
  - ports:
    - port: 53
    - {protocol: UDP, port: 5353}
    - {protocol: TCP, port: 32000, endPort: 32768}
    - {protocol: SCTP}",
            )],
            vec![],
        );
        let db = pod("ns", &[("app", "db")]);
        let src = pod("ns", &[]);
        let ok = |protocol, port| c.allows(&src, &db, protocol, port).is_allowed();
        assert!(ok(TCP, 53));
        assert!(!ok(Protocol::Udp, 53), "protocol defaults to TCP");
        assert!(ok(Protocol::Udp, 5353));
        assert!(!ok(TCP, 5353));
        assert!(!ok(TCP, 31999));
        assert!(ok(TCP, 32000));
        assert!(ok(TCP, 32500));
        assert!(ok(TCP, 32768));
        assert!(!ok(TCP, 32769));
        assert!(
            ok(Protocol::Sctp, 1),
            "a port with only a protocol matches all its ports"
        );
        assert!(ok(Protocol::Sctp, 65535));
        assert!(!ok(Protocol::Udp, 1));
    }

    // [api] port "can either be a numerical or named port on a pod": resolved on the
    // destination pod's container ports, with their protocol.
    #[test]
    fn named_ports_resolve_on_the_destination_pod() {
        let c = cluster(
            &[&db_ingress(
                "  ingress: [{ports: [{port: metrics}, {protocol: UDP, port: dns}]}]",
            )],
            vec![],
        );
        let db = Pod::new("ns", &[("app", "db")])
            .with_port("metrics", TCP, 9090)
            .with_port("dns", Protocol::Udp, 53)
            .into();
        let src = pod("ns", &[]);
        assert!(c.allows(&src, &db, TCP, 9090).is_allowed());
        assert!(c.allows(&src, &db, TCP, 9091).denied_by_ingress());
        assert!(c.allows(&src, &db, Protocol::Udp, 9090).denied_by_ingress());
        assert!(c.allows(&src, &db, Protocol::Udp, 53).is_allowed());
        assert!(c.allows(&src, &db, TCP, 53).denied_by_ingress());
        // The name must resolve with the rule's protocol: a TCP rule naming a port the pod
        // declares as UDP matches neither TCP nor UDP traffic on that number.
        let tcp_dns = cluster(
            &[&db_ingress("  ingress: [{ports: [{port: dns}]}]")],
            vec![],
        );
        assert!(tcp_dns.allows(&src, &db, TCP, 53).denied_by_ingress());
        assert!(
            tcp_dns
                .allows(&src, &db, Protocol::Udp, 53)
                .denied_by_ingress()
        );
        // A db pod without such a named port: nothing matches.
        assert!(
            c.allows(&src, &pod("ns", &[("app", "db")]), TCP, 9090)
                .denied_by_ingress()
        );

        // Egress: the name is looked up on the destination, and an IP has no named ports.
        let egress = cluster(
            &["apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: ns}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: https}]}]
"],
            vec![],
        );
        let web = Pod::new("web", &[]).with_port("https", TCP, 8443).into();
        assert!(egress.allows(&src, &web, TCP, 8443).is_allowed());
        assert!(egress.allows(&src, &web, TCP, 443).denied_by_egress());
        assert!(
            egress
                .allows(&src, &Endpoint::external(v4(1, 1, 1, 1)), TCP, 8443)
                .denied_by_egress()
        );
    }

    // [concept] "For a connection from a source pod to a destination pod to be allowed, both the
    // egress policy on the source pod and the ingress policy on the destination pod need to
    // allow the connection. If either side does not allow the connection, it will not happen."
    #[test]
    fn both_egress_and_ingress_must_allow() {
        let egress_to_db = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: app-out, namespace: ns}
spec:
  podSelector: {matchLabels: {app: app}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: 5432}]}]
";
        let db_from_app = db_ingress(
            "  ingress: [{from: [{podSelector: {matchLabels: {app: app}}}], ports: [{port: 5432}]}]",
        );
        let app = pod("ns", &[("app", "app")]);
        let db = pod("ns", &[("app", "db")]);
        let web = pod("ns", &[("app", "web")]);

        let both = cluster(&[egress_to_db, &db_from_app], vec![]);
        assert!(both.allows(&app, &db, TCP, 5432).is_allowed());
        assert_eq!(
            both.allows(&app, &db, TCP, 5433),
            Verdict::DeniedByBoth {
                egress: vec!["ns/app-out".to_owned()],
                ingress: vec!["ns/db".to_owned()]
            }
        );
        assert_eq!(
            both.allows(&app, &web, TCP, 80),
            Verdict::DeniedByEgress(vec!["ns/app-out".to_owned()])
        );
        assert_eq!(
            both.allows(&web, &db, TCP, 5432),
            Verdict::DeniedByIngress(vec!["ns/db".to_owned()])
        );
        let message = both.allows(&app, &db, TCP, 5433).to_string();
        assert!(
            message.contains("egress")
                && message.contains("ns/app-out")
                && message.contains("ns/db"),
            "{message}"
        );
    }

    // [concept] "NetworkPolicy and hostNetwork pods" (most common implementation): selectors
    // ignore hostNetwork pods, their traffic is node traffic, and "you can allow traffic from a
    // hostNetwork Pod using an ipBlock rule".
    #[test]
    fn host_network_pods_are_their_ip() {
        let c = cluster(
            &[&db_ingress(
                "  ingress: [{from: [{podSelector: {matchLabels: {app: agent}}}, {ipBlock: {cidr: 10.0.0.0/24}}]}]",
            )],
            vec![],
        );
        let db = pod("ns", &[("app", "db")]);
        let agent = Pod::new("ns", &[("app", "agent")]);
        assert!(c.allows(&agent.clone().into(), &db, TCP, 1).is_allowed());
        let host_agent = agent.clone().on_host_network();
        assert!(
            c.allows(&host_agent.clone().into(), &db, TCP, 1)
                .denied_by_ingress()
        );
        let on_node = host_agent.with_ip(Ipv4Addr::new(10, 0, 0, 7));
        assert!(c.allows(&on_node.into(), &db, TCP, 1).is_allowed());
        // A hostNetwork pod that the policy's podSelector would select is not isolated.
        let host_db = Pod::new("ns", &[("app", "db")]).on_host_network();
        assert!(
            c.allows(&pod("ns", &[]), &host_db.into(), TCP, 1)
                .is_allowed()
        );
    }

    // [concept] "When a pod is isolated for ingress, the only allowed connections into the pod
    // are those from the pod's node and those allowed by the ingress list"; overview: "traffic
    // to and from the node where a Pod is running is always allowed".
    #[test]
    fn the_pods_own_node_is_always_let_in() {
        let c = cluster(
            &["apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: ns}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"],
            vec![],
        );
        let app = pod("ns", &[("app", "app")]);
        let node = Endpoint::node(v4(10, 0, 0, 1));
        assert!(
            c.allows(&node, &app, TCP, 8080).is_allowed(),
            "kubelet probe"
        );
        // The same IP as any other endpoint is not exempt.
        assert!(
            c.allows(&Endpoint::external(v4(10, 0, 0, 1)), &app, TCP, 8080)
                .denied_by_ingress()
        );
        // The module's stricter reading: the pod's egress to its node is still checked.
        assert!(c.allows(&app, &node, TCP, 10250).denied_by_egress());
    }

    // [concept] "NetworkPolicies apply to a connection with a pod on one or both ends, and are
    // not relevant to other connections."
    #[test]
    fn connections_without_pods_are_not_policed() {
        let c = cluster(
            &["apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: ns}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"],
            vec![],
        );
        let outside = Endpoint::external(v4(1, 1, 1, 1));
        assert!(
            c.allows(&outside, &Endpoint::node(v4(10, 0, 0, 1)), TCP, 22)
                .is_allowed()
        );
        assert!(
            c.allows(
                &outside,
                &Pod::new("ns", &[]).on_host_network().into(),
                TCP,
                22
            )
            .is_allowed()
        );
    }

    // The example policy of [concept] "The NetworkPolicy resource", end to end.
    #[test]
    fn the_documentation_example() {
        let c = cluster(
            &["apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
"],
            vec![Namespace::new("mine", &[("project", "myproject")])],
        );
        let db = pod("default", &[("role", "db")]);
        assert!(
            c.allows(&pod("default", &[("role", "frontend")]), &db, TCP, 6379)
                .is_allowed()
        );
        assert!(c.allows(&pod("mine", &[]), &db, TCP, 6379).is_allowed());
        assert!(
            c.allows(&Endpoint::external(v4(172, 17, 0, 5)), &db, TCP, 6379)
                .is_allowed()
        );
        assert!(
            c.allows(&pod("default", &[("role", "frontend")]), &db, TCP, 6380)
                .denied_by_ingress()
        );
        assert!(
            c.allows(&pod("other", &[("role", "frontend")]), &db, TCP, 6379)
                .denied_by_ingress()
        );
        assert!(
            c.allows(&db, &Endpoint::external(v4(10, 0, 0, 9)), TCP, 5978)
                .is_allowed()
        );
        assert!(
            c.allows(&db, &Endpoint::external(v4(10, 0, 1, 9)), TCP, 5978)
                .denied_by_egress()
        );
        assert!(
            c.allows(&db, &pod("default", &[("role", "frontend")]), TCP, 5978)
                .denied_by_egress()
        );
    }

    #[test]
    fn other_kinds_are_ignored_and_a_missing_pod_selector_selects_all() {
        let documents = [
            yaml(
                "{apiVersion: v1, kind: Service, metadata: {name: s, namespace: ns}, spec: {ports: [{port: 0}]}}",
            ),
            yaml(
                "{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: p, namespace: ns}, spec: {policyTypes: [Ingress]}}",
            ),
        ];
        let c = Cluster::new(&documents, vec![]).expect("valid");
        assert_eq!(c.policy_names().collect::<Vec<_>>(), ["ns/p"]);
        // [api] podSelector: "If it is not specified, it defaults to an empty selector".
        assert!(
            c.allows(&pod("x", &[]), &pod("ns", &[("a", "b")]), TCP, 1)
                .denied_by_ingress()
        );
    }

    // [validation] ValidateNetworkPolicyPort / Peer / IPBlock / Spec and the LabelSelector rules:
    // what the API server rejects is an error here, never a verdict.
    #[test]
    fn malformed_policies_are_errors() {
        let cases = [
            (
                "  ingress: [{ports: [{protocol: ICMP, port: 1}]}]",
                "unsupported protocol",
            ),
            (
                "  ingress: [{ports: [{protocol: tcp, port: 1}]}]",
                "unsupported protocol",
            ),
            ("  ingress: [{ports: [{port: 0}]}]", "between 1 and 65535"),
            (
                "  ingress: [{ports: [{port: 65536}]}]",
                "between 1 and 65535",
            ),
            ("  ingress: [{ports: [{port: -1}]}]", "between 1 and 65535"),
            (
                "  ingress: [{ports: [{port: 80, endPort: 79}]}]",
                "greater than or equal",
            ),
            (
                "  ingress: [{ports: [{port: 80, endPort: 70000}]}]",
                "between 1 and 65535",
            ),
            (
                "  ingress: [{ports: [{endPort: 80}]}]",
                "`port` is not specified",
            ),
            (
                "  ingress: [{ports: [{port: http, endPort: 80}]}]",
                "non-numeric",
            ),
            (
                "  ingress: [{ports: [{port: '8080'}]}]",
                "at least one letter",
            ),
            ("  ingress: [{ports: [{port: Http}]}]", "invalid port name"),
            (
                "  ingress: [{ports: [{port: a-very-long-port-name}]}]",
                "invalid port name",
            ),
            ("  ingress: [{from: [{}]}]", "must specify a peer"),
            (
                "  ingress: [{from: [{podSelector: null}]}]",
                "must specify a peer",
            ),
            (
                "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]",
                "both ipBlock",
            ),
            (
                "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0}}]}]",
                "invalid CIDR",
            ),
            (
                "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]",
                "invalid CIDR",
            ),
            ("  ingress: [{from: [{ipBlock: {}}]}]", "cidr"),
            (
                "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}}]}]",
                "strict subset",
            ),
            (
                "  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}}]}]",
                "strict subset",
            ),
            (
                "  ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}}]}]",
                "unsupported operator",
            ),
            (
                "  ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: In, values: []}]}}]}]",
                "non-empty",
            ),
            (
                "  ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: Exists, values: [b]}]}}]}]",
                "must be empty",
            ),
            (
                "  ingress: [{from: [{podSelector: {matchLabels: {version: 1}}}]}]",
                "must be a string",
            ),
            (
                "  ingress: [{form: [{podSelector: {}}]}]",
                "unknown field `form`",
            ),
            (
                "  ingress: [{from: [{podselector: {}}]}]",
                "unknown field `podselector`",
            ),
            (
                "  ingress: [{ports: [{port: 80, protocl: UDP}]}]",
                "unknown field `protocl`",
            ),
            ("  egres: []", "unknown field `egres`"),
        ];
        for (rules, expected) in cases {
            let message = error(&db_ingress(rules));
            assert!(
                message.contains(expected),
                "{rules}: expected {expected:?} in {message:?}"
            );
            assert!(
                message.starts_with("NetworkPolicy ns/db: spec"),
                "{message}"
            );
        }
        let bad_types = db_ingress("").replace("[Ingress]", "[Ingress, Egress, Ingress]");
        assert!(error(&bad_types).contains("more than two"));
        let bad_type = db_ingress("").replace("[Ingress]", "[ingress]");
        assert!(error(&bad_type).contains("unsupported value"));
        let no_namespace = db_ingress("").replace(", namespace: ns", "");
        assert!(error(&no_namespace).contains("metadata.namespace"));
        let old_api = db_ingress("").replace("networking.k8s.io/v1", "extensions/v1beta1");
        assert!(error(&old_api).contains("apiVersion"));
        let twice = [yaml(&db_ingress("")), yaml(&db_ingress(""))];
        let message = Cluster::new(&twice, vec![])
            .expect_err("duplicate")
            .to_string();
        assert!(message.contains("twice"), "{message}");
    }

    #[test]
    fn cidr_arithmetic() {
        let net = Cidr::parse("10.1.2.3/16").expect("host bits are masked");
        assert!(net.contains(v4(10, 1, 200, 1)));
        assert!(!net.contains(v4(10, 2, 0, 0)));
        assert!(
            !net.contains(IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
            "families do not mix"
        );
        let all = Cidr::parse("0.0.0.0/0").expect("valid");
        assert!(all.contains(v4(255, 255, 255, 255)));
        assert!(!all.contains(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        let host = Cidr::parse("192.0.2.1/32").expect("valid");
        assert!(host.contains(v4(192, 0, 2, 1)) && !host.contains(v4(192, 0, 2, 2)));
        assert!(
            Cidr::parse("::/0")
                .expect("valid")
                .contains(IpAddr::V6(Ipv6Addr::LOCALHOST))
        );
        for bad in [
            "10.0.0.0",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/33",
            "::/129",
            "x/8",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
