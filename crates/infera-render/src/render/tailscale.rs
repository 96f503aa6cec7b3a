//! Tailscale, designed so cross-region FoundationDB traffic actually flows.
//!
//! FoundationDB advertises pod IPs and cannot advertise a Tailscale address
//! (docs/fdb-multi-region.md §5; docs/inferadb-and-tailscale.md §5), so per-pod Tailscale
//! identities alone never carry FDB traffic. Instead:
//! - each region runs a **subnet router** (a StatefulSet) advertising the region's `pod_cidr`;
//! - FDB, operator, engine and control pods run a **kernel-mode sidecar** with `--accept-routes`,
//!   so the remote regions' pod CIDRs route through `tailscale0` to the remote routers.
//!
//! Kernel mode needs `privileged: true` (runc 1.2 removed the implicit `/dev/net/tun` access that
//! `NET_ADMIN` used to be enough for; tailscale PR #14262). Userspace mode would need every
//! program to use a SOCKS5 proxy, which fdbserver and libfdb_c cannot. Configuration goes through
//! environment variables only: the image's command is containerboot, and `args` would replace it.
//!
//! **The own region stays on the pod network.** With `--accept-routes` a sidecar also accepts its
//! own region's pod CIDR from its own router: tailscaled adds every accepted route to table 52
//! and looks that table up at rule priority 5270, ahead of the main table
//! (tailscale@v1.78.3:wgengine/router/router_linux.go:1184-1232, base 5200 at :100; the same at
//! v1.56.1 :1058-1106). Every packet to an address of the own region, replies included, would
//! then leave through `tailscale0` and be dropped by the router. So every pod with a sidecar
//! first runs an init container (`NET_ADMIN` only) that adds `ip rule pref 5260 to <own pod_cidr>
//! lookup main`, in the gap tailscaled leaves for this ("We leave spaces between each pref number.
//! This is so the sysadmin can override", :1188-1190); tailscaled deletes only its own rules, by
//! their priorities (:1314-1349).

use super::object::RenderedObject;
use super::pod::{env, env_field, env_secret, http_probe, quantities, spread, template};
use super::ports::{TAILSCALE_HEALTH, TAILSCALE_WIREGUARD};
use super::rbac::{role_ref, service_account};
use super::{RegionCtx, labels, meta};
use crate::names::tailscale::{ROUTER_NAME, Workload, router_pods, state_secret};
use crate::plan::TailscalePlan;
use infera_spec::TailscaleCredentials;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, PodSecurityContext, PodSpec, ResourceRequirements,
    SeccompProfile, Secret, SecurityContext, Service, ServiceAccount, ServiceSpec, VolumeMount,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The priority of the rule that keeps the own region's pod CIDR on the main table: between
/// tailscaled's 5250 and its table-52 rule at 5270.
pub(crate) const OWN_ROUTE_PREF: u32 = 5260;

/// Where a Tailscale container keeps its node state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// A Secret per pod, `ts-<pod name>` (routers: StatefulSet pods with predictable names, so
    /// their Role can name each Secret).
    PerPodSecret,
    /// On the FoundationDB pod's own `data` volume (subPath `tailscale`): the process group's
    /// volume for log and storage pods, so the identity lasts as long as the process group; an
    /// emptyDir for stateless pods, so it lasts as long as the pod. No Secret, so no RBAC on
    /// Secrets (containerboot: `TS_KUBE_SECRET=""` and `TS_STATE_DIR`,
    /// tailscale@v1.78.3:cmd/containerboot/tailscaled.go:63-77; v1.56.1:cmd/containerboot/main.go:609-620).
    DataVolume,
    /// In memory: an ephemeral node per container start (Deployment pods have random names).
    Memory,
}

/// Where the FoundationDB pods' sidecar mounts its part of the `data` volume.
const STATE_DIR: &str = "/var/lib/tailscale";

fn authkey_env(ts: &TailscalePlan, workload: Workload) -> Vec<k8s_openapi::api::core::v1::EnvVar> {
    let (secret, key) = ts.credential_secret(workload);
    match ts.credentials {
        // A key of its own, or the one shared key: its tags are the node's tags.
        TailscaleCredentials::PerWorkloadKeys | TailscaleCredentials::SharedKey => {
            vec![env_secret("TS_AUTHKEY", &secret, &key)]
        }
        // One OAuth client secret mints every workload's node; `$(VAR)` expands the earlier env
        // var, so the secret value itself is never written anywhere (tailscale
        // feature/oauthkey/oauthkey.go: `?ephemeral=&preauthorized=`).
        TailscaleCredentials::OauthClient => vec![
            env_secret("TS_OAUTH_CLIENT_SECRET", &secret, &key),
            env(
                "TS_AUTHKEY",
                format!(
                    "$(TS_OAUTH_CLIENT_SECRET)?ephemeral={}&preauthorized=true",
                    workload.ephemeral()
                ),
            ),
        ],
    }
}

fn extra_args(ctx: &RegionCtx<'_>, ts: &TailscalePlan, workload: Workload) -> String {
    let mut args = Vec::new();
    if workload != Workload::Router {
        args.push("--accept-routes".to_owned());
    }
    if ts.credentials == TailscaleCredentials::OauthClient {
        args.push(format!("--advertise-tags={}", workload.tag(&ctx.region.id)));
    }
    args.join(" ")
}

/// `$(POD_IP):9002`, or `[$(POD_IP)]:9002` in a region whose pod CIDR is IPv6.
fn health_address(ctx: &RegionCtx<'_>) -> String {
    if ctx
        .region
        .pod_network
        .is_some_and(|net| matches!(net, ipnet::IpNet::V6(_)))
    {
        format!("[$(POD_IP)]:{TAILSCALE_HEALTH}")
    } else {
        format!("$(POD_IP):{TAILSCALE_HEALTH}")
    }
}

/// The device name: FDB pod names are unique across regions already (they hold the datacenter
/// id); other pods get the region in front (`<region>-<pod>`), validated to fit 63 characters.
fn hostname(ctx: &RegionCtx<'_>, fdb_pod: bool) -> String {
    if fdb_pod {
        "$(POD_NAME)".to_owned()
    } else {
        format!("{}-$(POD_NAME)", ctx.region.id)
    }
}

/// A Tailscale container. The env list is ordered: `$(VAR)` only sees earlier entries.
fn container(
    ctx: &RegionCtx<'_>,
    ts: &TailscalePlan,
    workload: Workload,
    state: State,
    fdb_pod: bool,
) -> Container {
    let health = ts.containerboot_1_78;
    let router_health = health && workload == Workload::Router;
    let mut vars = vec![env_field("POD_NAME", "metadata.name")];
    if state == State::PerPodSecret {
        // Only with a state Secret does containerboot get Events RBAC; it writes Events only
        // when POD_NAME and POD_UID are both set (tailscale@v1.78.3:kube/kubeclient/client.go:407-430).
        vars.push(env_field("POD_UID", "metadata.uid"));
    }
    vars.push(env(
        "TS_KUBE_SECRET",
        match state {
            State::PerPodSecret => state_secret("$(POD_NAME)"),
            State::DataVolume | State::Memory => String::new(),
        },
    ));
    if state != State::PerPodSecret {
        // Without a state Secret containerboot needs nothing from the API server, but it still
        // builds a Kubernetes client whenever KUBERNETES_SERVICE_HOST is set, reading the
        // ServiceAccount mount and exiting when it is missing (tailscale@v1.78.3:
        // cmd/containerboot/settings.go:91, main.go:172-176; v1.56.1:cmd/containerboot/main.go:111,154-156).
        // An empty value (explicit env wins over the kubelet's service variables) keeps the
        // sidecar independent of the pod's ServiceAccount and its token.
        vars.push(env("KUBERNETES_SERVICE_HOST", ""));
    }
    if state == State::DataVolume {
        vars.push(env("TS_STATE_DIR", STATE_DIR));
    }
    vars.push(env("TS_HOSTNAME", hostname(ctx, fdb_pod)));
    vars.extend(authkey_env(ts, workload));
    vars.extend([
        env("TS_USERSPACE", "false"),
        env("TS_DEBUG_FIREWALL_MODE", "auto"),
        env("TS_ACCEPT_DNS", "false"),
        env("TS_AUTH_ONCE", "true"),
    ]);
    if workload == Workload::Router
        && let Some(network) = ctx.region.pod_network
    {
        // The canonical spelling, the one the policy's autoApprovers name.
        vars.push(env("TS_ROUTES", network.to_string()));
    }
    let args = extra_args(ctx, ts, workload);
    if !args.is_empty() {
        vars.push(env("TS_EXTRA_ARGS", args));
    }
    if ctx.plan.network_policies {
        // tailscaled picks a random UDP port on Linux unless told (its default is 0; 41641
        // comes only from its systemd unit: tailscale@v1.78.3:cmd/tailscaled/tailscaled.go:103-113,
        // v1.56.1 :99-); containerboot passes these words to tailscaled
        // (v1.78.3:cmd/containerboot/tailscaled.go:99-100, v1.56.1:cmd/containerboot/main.go:634-635).
        // A fixed port is what lets the NetworkPolicies allow direct WireGuard connections in.
        vars.push(env(
            "TS_TAILSCALED_EXTRA_ARGS",
            format!("--port={TAILSCALE_WIREGUARD}"),
        ));
    }
    if health {
        // The health endpoint listens on the pod IP only, as the Tailscale operator sets it
        // (tailscale@v1.78.3:cmd/k8s-operator/sts.go:866-870): the default `[::]:9002` also
        // listens on tailscale0 and fails outright on kernels without IPv6.
        // containerboot parses it with netip.ParseAddrPort and exits on failure
        // (tailscale@v1.78.3:cmd/containerboot/settings.go:189-192): an IPv6 address needs
        // brackets and an IPv4 one must have none, so the family comes from the pod CIDR
        // (IPv4 when the region names none).
        vars.push(env_field("POD_IP", "status.podIP"));
        vars.push(env("TS_LOCAL_ADDR_PORT", health_address(ctx)));
        vars.push(env("TS_ENABLE_HEALTH_CHECK", "true"));
    }
    let probe = |failures| {
        http_probe(
            "/healthz",
            IntOrString::Int(i32::from(TAILSCALE_HEALTH)),
            10,
            failures,
            None,
        )
    };
    Container {
        name: "tailscale".to_owned(),
        image: Some(ts.image.clone()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        env: Some(vars),
        resources: Some(ResourceRequirements {
            requests: Some(quantities("50m", "64Mi")),
            limits: Some(quantities("200m", "128Mi")),
            ..ResourceRequirements::default()
        }),
        // Kernel mode: see the module header. Root is stated explicitly, so a pod-level
        // `runAsNonRoot` (a chart's, in post-render mode) cannot keep the sidecar from starting.
        security_context: Some(SecurityContext {
            privileged: Some(true),
            run_as_user: Some(0),
            run_as_non_root: Some(false),
            ..SecurityContext::default()
        }),
        startup_probe: health.then(|| probe(30)),
        liveness_probe: health.then(|| probe(6)),
        // A router pod leaves Ready when its node loses its tailnet address after the start
        // (the startup probe covers only the start), which `kubectl get` and the StatefulSet's
        // status then show; the sidecars' readiness would only take their pods out of their
        // Services.
        readiness_probe: router_health.then(|| probe(3)),
        ports: router_health.then(|| {
            vec![ContainerPort {
                name: Some("health".to_owned()),
                container_port: i32::from(TAILSCALE_HEALTH),
                protocol: Some("TCP".to_owned()),
                ..ContainerPort::default()
            }]
        }),
        volume_mounts: (state == State::DataVolume).then(|| {
            vec![VolumeMount {
                name: "data".to_owned(),
                mount_path: STATE_DIR.to_owned(),
                sub_path: Some("tailscale".to_owned()),
                ..VolumeMount::default()
            }]
        }),
        ..Container::default()
    }
}

/// The sidecar of an FDB pod (a regular container in the operator's pod template: the
/// operator's own containers stay untouched). Its state is on the pod's `data` volume, which the
/// operator defines for every pod (the process group's PVC, an emptyDir for stateless pods) and
/// adds for any container that mounts it (OP@v2.33.0:internal/pod_models.go:420-482; OP@v1.45.0
/// the same volume); `workload` is [`Workload::Fdb`] for the pods with a PVC and
/// [`Workload::FdbEphemeral`] for stateless ones.
pub(crate) fn fdb_sidecar(ctx: &RegionCtx<'_>, workload: Workload) -> Option<Container> {
    let ts = ctx.plan.tailscale.as_ref()?;
    Some(container(ctx, ts, workload, State::DataVolume, true))
}

/// The init container that keeps the region's own pod CIDR on the main routing table, ahead of
/// the table-52 rule tailscaled adds (see the module header); `None` when the region has no
/// `pod_cidr` (then no router advertises it, so no sidecar accepts it) or runs no Tailscale. Run
/// before the sidecar starts, so tailscaled does not see the rule change.
pub(crate) fn own_route_init(ctx: &RegionCtx<'_>) -> Option<Container> {
    let ts = ctx.plan.tailscale.as_ref()?;
    let network = ctx.region.pod_network?;
    let ip = match network {
        ipnet::IpNet::V4(_) => "ip",
        ipnet::IpNet::V6(_) => "ip -6",
    };
    Some(Container {
        name: OWN_ROUTE_CONTAINER.to_owned(),
        image: Some(ts.image.clone()),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        // The image ships iproute2 (tailscale@v1.78.3:Dockerfile.base; v1.56.1 the same).
        command: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "{ip} rule del pref {OWN_ROUTE_PREF} 2>/dev/null; {ip} rule add pref {OWN_ROUTE_PREF} to {network} lookup main"
            ),
        ]),
        resources: Some(ResourceRequirements {
            requests: Some(quantities("10m", "16Mi")),
            limits: Some(quantities("100m", "32Mi")),
            ..ResourceRequirements::default()
        }),
        security_context: Some(SecurityContext {
            run_as_user: Some(0),
            run_as_non_root: Some(false),
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            capabilities: Some(Capabilities {
                add: Some(vec!["NET_ADMIN".to_owned()]),
                drop: Some(vec!["ALL".to_owned()]),
            }),
            ..SecurityContext::default()
        }),
        ..Container::default()
    })
}

/// The name of [`own_route_init`]'s container.
pub(crate) const OWN_ROUTE_CONTAINER: &str = "tailscale-own-route";

/// The init containers a Deployment pod runs for Tailscale, in order: the own-route rule, then
/// the native sidecar; empty without Tailscale.
pub(crate) fn deployment_init_containers(
    ctx: &RegionCtx<'_>,
    workload: Workload,
) -> Vec<Container> {
    let Some(ts) = &ctx.plan.tailscale else {
        return Vec::new();
    };
    own_route_init(ctx)
        .into_iter()
        .chain([native_sidecar(ctx, ts, workload)])
        .collect()
}

/// The sidecar of a Deployment pod, as a native sidecar (an init container with
/// `restartPolicy: Always`, Kubernetes 1.29+): it starts before the other init containers, so
/// the wait-for-FoundationDB step can already reach the remote regions.
fn native_sidecar(ctx: &RegionCtx<'_>, ts: &TailscalePlan, workload: Workload) -> Container {
    Container {
        restart_policy: Some("Always".to_owned()),
        ..container(ctx, ts, workload, State::Memory, false)
    }
}

fn rule(resources: &[&str], verbs: &[&str], names: Option<Vec<String>>) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        resource_names: names,
        ..PolicyRule::default()
    }
}

fn role_and_binding(
    ctx: &RegionCtx<'_>,
    name: &str,
    account: &str,
    rules: Vec<PolicyRule>,
    app: &str,
) -> Vec<RenderedObject> {
    let role = Role {
        metadata: meta::namespaced(ctx, name, app, "tailscale"),
        rules: Some(rules),
    };
    let binding = RoleBinding {
        metadata: meta::namespaced(ctx, name, app, "tailscale"),
        role_ref: role_ref("Role", name),
        subjects: Some(vec![service_account(account, &ctx.region.namespace)]),
    };
    vec![RenderedObject::new(&role), RenderedObject::new(&binding)]
}

/// The region's subnet router: a StatefulSet advertising the pod CIDR, with per-pod state
/// Secrets (`ts-tailscale-router-<n>`, predictable, so RBAC is limited to those names).
///
/// The Role grants what containerboot needs: get and update on its Secret (checked at startup,
/// fatal when missing), patch, and create (create cannot be limited by name). At 1.78 all four
/// are checked at startup, create fatally when the Secret does not exist yet
/// (tailscale@v1.78.3:kube/kubeclient/client.go:374-400, cmd/containerboot/settings.go:208-231);
/// at 1.56 only get, update and patch are checked, and a missing create fails on the state
/// store's first write (v1.56.1:kube/client.go:278-297, ipn/store/kubestore/store_kube.go:84-98).
/// From 1.78 also get, create and patch on Events (client.go:407-430).
pub(crate) fn router_objects(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    let Some(ts) = &ctx.plan.tailscale else {
        return Vec::new();
    };
    if ctx.region.pod_network.is_none() {
        return Vec::new();
    }
    let replicas = ts.router_replicas;
    let selector = labels::selector(ctx, ROUTER_NAME);
    let pod_labels = labels::common(ctx, ROUTER_NAME, "network");
    let account = ServiceAccount {
        metadata: meta::namespaced(ctx, ROUTER_NAME, ROUTER_NAME, "network"),
        ..ServiceAccount::default()
    };
    let secrets: Vec<String> = router_pods(u32::try_from(replicas).unwrap_or(0))
        .iter()
        .map(|pod| state_secret(pod))
        .collect();
    let mut rules = vec![
        rule(&["secrets"], &["create"], None),
        rule(&["secrets"], &["get", "update", "patch"], Some(secrets)),
    ];
    if ts.containerboot_1_78 {
        rules.push(rule(&["events"], &["create", "get", "patch"], None));
    }
    let mut objects = vec![RenderedObject::new(&account)];
    objects.extend(role_and_binding(
        ctx,
        ROUTER_NAME,
        ROUTER_NAME,
        rules,
        ROUTER_NAME,
    ));
    let service = Service {
        metadata: meta::namespaced(ctx, ROUTER_NAME, ROUTER_NAME, "network"),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_owned()),
            selector: Some(selector.clone()),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    let (topology_spread_constraints, affinity) = spread(&selector);
    let (selector, template) = template(
        selector,
        pod_labels,
        None,
        PodSpec {
            service_account_name: Some(ROUTER_NAME.to_owned()),
            // containerboot reads its state Secret with this token: stated, not left to the
            // ServiceAccount's or the cluster's default.
            automount_service_account_token: Some(true),
            containers: vec![container(
                ctx,
                ts,
                Workload::Router,
                State::PerPodSecret,
                false,
            )],
            topology_spread_constraints: Some(topology_spread_constraints),
            affinity: Some(affinity),
            // The container is privileged, which the runtime runs without a seccomp filter;
            // stated like every other pod's, so a scanner sees no pod without one.
            security_context: Some(PodSecurityContext {
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_owned(),
                    ..SeccompProfile::default()
                }),
                ..PodSecurityContext::default()
            }),
            ..PodSpec::default()
        },
    );
    let spec = StatefulSetSpec {
        replicas: Some(replicas),
        service_name: Some(ROUTER_NAME.to_owned()),
        selector,
        template,
        ..StatefulSetSpec::default()
    };
    k8s_openapi::k8s_if_le_1_36! { let spec = Some(spec); }
    let stateful_set = StatefulSet {
        metadata: meta::namespaced(ctx, ROUTER_NAME, ROUTER_NAME, "network"),
        spec,
        ..StatefulSet::default()
    };
    objects.push(RenderedObject::new(&service));
    objects.push(RenderedObject::new(&stateful_set));
    objects
}

/// The inline OAuth client secret or shared key as a Secret: only with
/// `--allow-plaintext-secrets` (planning refuses an inline key otherwise).
pub(crate) fn plaintext_secret(ctx: &RegionCtx<'_>) -> Option<RenderedObject> {
    let ts = ctx.plan.tailscale.as_ref()?;
    let key = ts.inline_secret.as_ref()?;
    let (name, data_key) = ts.credential_secret(Workload::Fdb);
    let secret = Secret {
        metadata: meta::namespaced(ctx, &name, "tailscale", "tailscale"),
        type_: Some("Opaque".to_owned()),
        string_data: Some(BTreeMap::from([(data_key, key.expose().to_owned())])),
        ..Secret::default()
    };
    Some(RenderedObject::new(&secret))
}
