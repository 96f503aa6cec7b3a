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

use super::labels;
use super::object::RenderedObject;
use super::pod::{env, env_field, env_secret, http_probe, quantities, spread, template};
use super::ports::TAILSCALE_HEALTH;
use super::rbac::{role_ref, service_account};
use super::tailscale_names::{ROUTER_NAME, Workload, credential_secret};
use crate::plan::Plan;
use crate::validate::image::parse_image;
use crate::validate::version::Version;
use infera_spec::TailscaleCredentials;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Container, PodSpec, ResourceRequirements, Secret, SecurityContext, Service, ServiceAccount,
    ServiceSpec,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The first Tailscale release whose containerboot serves `/healthz` (`TS_ENABLE_HEALTH_CHECK`).
const HEALTH_CHECK_SINCE: Version = Version::new(1, 78, 0);

/// Where a sidecar keeps its node state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// A Secret per pod, `ts-<pod name>` (FDB pods: stable names, stable tailnet identity).
    PerPodSecret,
    /// In memory: an ephemeral node per pod start (Deployment pods have random names).
    Memory,
}

/// The Tailscale version of the configured image, when its tag says (`v1.78.3`).
fn image_version(plan: &Plan) -> Option<Version> {
    let image = parse_image(&plan.spec.tailscale.image).ok()?;
    Version::parse(image.tag?.strip_prefix('v')?)
}

/// Whether the image serves `/healthz` on :9002.
pub(crate) fn has_health_check(plan: &Plan) -> bool {
    image_version(plan).is_some_and(|version| version >= HEALTH_CHECK_SINCE)
}

fn authkey_env(plan: &Plan, workload: Workload) -> Vec<k8s_openapi::api::core::v1::EnvVar> {
    let (secret, key) = credential_secret(plan, workload);
    match plan.spec.tailscale.credentials {
        TailscaleCredentials::PerWorkloadKeys => vec![env_secret("TS_AUTHKEY", &secret, &key)],
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

fn extra_args(plan: &Plan, workload: Workload) -> String {
    let mut args = Vec::new();
    if workload != Workload::Router {
        args.push("--accept-routes".to_owned());
    }
    if plan.spec.tailscale.credentials == TailscaleCredentials::OauthClient {
        args.push(format!("--advertise-tags={}", workload.tag()));
    }
    args.join(" ")
}

/// The device name: FDB pod names are unique across regions already (they hold the datacenter
/// id); other pods get the region in front (`<region>-<pod>`), validated to fit 63 characters.
fn hostname(plan: &Plan, region: usize, workload: Workload, fdb_pod: bool) -> String {
    if fdb_pod && workload == Workload::Fdb {
        "$(POD_NAME)".to_owned()
    } else {
        format!("{}-$(POD_NAME)", plan.regions[region].id)
    }
}

/// A Tailscale container. The env list is ordered: `$(VAR)` only sees earlier entries.
fn container(
    plan: &Plan,
    region: usize,
    workload: Workload,
    state: State,
    fdb_pod: bool,
) -> Container {
    let mut vars = vec![
        env_field("POD_NAME", "metadata.name"),
        env_field("POD_UID", "metadata.uid"),
        env(
            "TS_KUBE_SECRET",
            match state {
                State::PerPodSecret => "ts-$(POD_NAME)",
                State::Memory => "",
            },
        ),
        env("TS_HOSTNAME", hostname(plan, region, workload, fdb_pod)),
    ];
    vars.extend(authkey_env(plan, workload));
    vars.extend([
        env("TS_USERSPACE", "false"),
        env("TS_DEBUG_FIREWALL_MODE", "auto"),
        env("TS_ACCEPT_DNS", "false"),
        env("TS_AUTH_ONCE", "true"),
    ]);
    if workload == Workload::Router
        && let Some(cidr) = &plan.region_spec(region).pod_cidr
    {
        // The canonical spelling, the one the policy's autoApprovers name.
        let canonical = cidr
            .parse::<ipnet::IpNet>()
            .map_or_else(|_| cidr.clone(), |net| net.to_string());
        vars.push(env("TS_ROUTES", canonical));
    }
    let args = extra_args(plan, workload);
    if !args.is_empty() {
        vars.push(env("TS_EXTRA_ARGS", args));
    }
    let health = has_health_check(plan);
    if health {
        vars.push(env("TS_ENABLE_HEALTH_CHECK", "true"));
    }
    let probe = |failures| {
        http_probe(
            "/healthz",
            IntOrString::Int(i32::from(TAILSCALE_HEALTH)),
            10,
            failures,
        )
    };
    Container {
        name: "tailscale".to_owned(),
        image: Some(plan.spec.tailscale.image.clone()),
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
        ..Container::default()
    }
}

/// The sidecar of an FDB pod (a regular container in the operator's pod template: the
/// operator's own containers stay untouched).
pub(crate) fn fdb_sidecar(plan: &Plan, region: usize) -> Container {
    container(plan, region, Workload::Fdb, State::PerPodSecret, true)
}

/// The sidecar of a Deployment pod, as a native sidecar (an init container with
/// `restartPolicy: Always`, Kubernetes 1.29+): it starts before the other init containers, so
/// the wait-for-FoundationDB step can already reach the remote regions.
pub(crate) fn native_sidecar(plan: &Plan, region: usize, workload: Workload) -> Container {
    Container {
        restart_policy: Some("Always".to_owned()),
        ..container(plan, region, workload, State::Memory, false)
    }
}

fn metadata(plan: &Plan, region: usize, name: &str, app: &str, component: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(plan.region_spec(region).namespace.clone()),
        labels: Some(labels::common(plan, region, app, component)),
        ..ObjectMeta::default()
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
    plan: &Plan,
    region: usize,
    name: &str,
    account: &str,
    rules: Vec<PolicyRule>,
    app: &str,
) -> Vec<RenderedObject> {
    let role = Role {
        metadata: metadata(plan, region, name, app, "tailscale"),
        rules: Some(rules),
    };
    let binding = RoleBinding {
        metadata: metadata(plan, region, name, app, "tailscale"),
        role_ref: role_ref("Role", name),
        subjects: Some(vec![service_account(
            account,
            &plan.region_spec(region).namespace,
        )]),
    };
    vec![RenderedObject::new(&role), RenderedObject::new(&binding)]
}

/// The Role that lets the FDB pods' sidecars keep their state Secrets (`ts-<pod>`). `create`
/// cannot be limited by name, and FDB pod names are not predictable (replacements get new
/// indices), so the pods may read and write Secrets of their namespace (documented in APPLY.md).
pub(crate) fn fdb_state_rbac(plan: &Plan, region: usize, account: &str) -> Vec<RenderedObject> {
    let name = format!("{}-tailscale-state", plan.spec.cluster_name);
    role_and_binding(
        plan,
        region,
        &name,
        account,
        vec![
            rule(&["secrets"], &["create", "get", "update", "patch"], None),
            rule(&["events"], &["create", "get", "patch"], None),
        ],
        "foundationdb",
    )
}

/// The region's subnet router: a StatefulSet advertising the pod CIDR, with per-pod state
/// Secrets (`tailscale-router-<n>`, predictable, so RBAC is limited to those names).
pub(crate) fn router_objects(plan: &Plan, region: usize) -> Vec<RenderedObject> {
    if plan.region_spec(region).pod_cidr.is_none() {
        return Vec::new();
    }
    let replicas = plan.spec.tailscale.router_replicas;
    let selector = labels::selector(plan, region, ROUTER_NAME);
    let pod_labels = labels::common(plan, region, ROUTER_NAME, "network");
    let account = ServiceAccount {
        metadata: metadata(plan, region, ROUTER_NAME, ROUTER_NAME, "network"),
        ..ServiceAccount::default()
    };
    let pods: Vec<String> = (0..replicas)
        .map(|n| format!("{ROUTER_NAME}-{n}"))
        .collect();
    let mut objects = vec![RenderedObject::new(&account)];
    objects.extend(role_and_binding(
        plan,
        region,
        ROUTER_NAME,
        ROUTER_NAME,
        vec![
            rule(&["secrets"], &["create"], None),
            rule(&["secrets"], &["get", "update", "patch"], Some(pods)),
            rule(&["events"], &["create", "get", "patch"], None),
        ],
        ROUTER_NAME,
    ));
    let service = Service {
        metadata: metadata(plan, region, ROUTER_NAME, ROUTER_NAME, "network"),
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
            containers: vec![container(
                plan,
                region,
                Workload::Router,
                State::PerPodSecret,
                false,
            )],
            topology_spread_constraints: Some(topology_spread_constraints),
            affinity: Some(affinity),
            ..PodSpec::default()
        },
    );
    let spec = StatefulSetSpec {
        replicas: Some(i32::try_from(replicas).unwrap_or(2)),
        service_name: Some(ROUTER_NAME.to_owned()),
        selector,
        template,
        ..StatefulSetSpec::default()
    };
    k8s_openapi::k8s_if_le_1_36! { let spec = Some(spec); }
    let stateful_set = StatefulSet {
        metadata: metadata(plan, region, ROUTER_NAME, ROUTER_NAME, "network"),
        spec,
        ..StatefulSet::default()
    };
    objects.push(RenderedObject::new(&service));
    objects.push(RenderedObject::new(&stateful_set));
    objects
}

/// The inline OAuth client secret as a Secret: only with `--allow-plaintext-secrets` (planning
/// refuses an inline key otherwise).
pub(crate) fn plaintext_secret(plan: &Plan, region: usize) -> Option<RenderedObject> {
    let key = plan
        .spec
        .tailscale
        .auth_key
        .as_ref()
        .filter(|key| !key.is_empty())?;
    let (name, data_key) = credential_secret(plan, Workload::Fdb);
    let secret = Secret {
        metadata: metadata(plan, region, &name, "tailscale", "tailscale"),
        type_: Some("Opaque".to_owned()),
        string_data: Some(BTreeMap::from([(data_key, key.expose().to_owned())])),
        ..Secret::default()
    };
    Some(RenderedObject::new(&secret))
}
