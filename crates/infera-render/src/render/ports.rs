//! Every port infera-render wires, in one place (docs/inferadb-and-tailscale.md §1.2-§1.3,
//! docs/fdb-multi-region.md §5.1).

/// FoundationDB, TLS (4500) and plain (4501), one process per pod: ports `4498 + 2n` and
/// `4499 + 2n` for process n = 1 (OP v2.33.0 api/v1beta2/foundationdb_process_address.go).
pub const FDB_TLS: u16 = 4500;
/// FoundationDB without TLS.
pub const FDB_PLAIN: u16 = 4501;
/// Engine: public REST/AuthZEN API and the `/livez` `/readyz` `/startupz` probes; control's
/// engine client calls it too. (The engine's gRPC port, 8081, is configured upstream but never
/// served, so it is not wired: `inferadb::App::ports`.)
pub const ENGINE_HTTP: u16 = 8080;
/// Engine: internal mesh (JWKS) and Prometheus `/metrics`.
pub const ENGINE_MESH: u16 = 8082;
/// Control: public API, probes and Prometheus `/metrics`. (Control's gRPC port, 9091, is never
/// served either.)
pub const CONTROL_HTTP: u16 = 9090;
/// Control: internal mesh API, called by the engine.
pub const CONTROL_MESH: u16 = 9092;
/// The operator's Prometheus metrics.
pub const OPERATOR_METRICS: u16 = 8080;
/// Tailscale's `/healthz` (and `/metrics`) listener in containerboot (v1.78+).
pub const TAILSCALE_HEALTH: u16 = 9002;
/// The split image's sidecar (`foundationdb-kubernetes-sidecar`), which the operator 1.x calls
/// over HTTP to copy and check each pod's configuration files.
pub const FDB_SIDECAR: u16 = 8080;
/// DNS.
pub const DNS: u16 = 53;
/// The Kubernetes API server: the `kubernetes` Service's port and the usual port of its
/// endpoints (NetworkPolicies match the endpoint after the Service's translation on most CNIs).
pub const KUBERNETES_API: [u16; 2] = [443, 6443];
/// Tailscale's control server and DERP relays: HTTPS, and HTTP for DERP's captive-portal check.
pub const TAILSCALE_TCP: [u16; 2] = [443, 80];
/// tailscaled's WireGuard port, where peers connect directly.
pub const TAILSCALE_WIREGUARD: u16 = 41641;
