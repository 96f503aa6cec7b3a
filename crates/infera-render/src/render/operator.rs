//! The FDB Kubernetes Operator of one region, as raw manifests (the upstream Helm chart is not
//! published: docs/fdb-multi-region.md §3.3): ServiceAccount, RBAC scoped to the region's
//! namespace, and the Deployment with the client-library init container for the FDB version in use.
//!
//! Sources: OP v2.33.0 config/samples/deployment.yaml and the v1.x chart
//! (charts/fdb-operator/templates/manager/deployment.yaml), summarised in
//! docs/fdb-multi-region.md §3.1 and §3.4.

use super::object::RenderedObject;
use super::pod::{
    FDB_UID, empty_dir, env, env_field, fixed_resources, hardened, http_probe, mount, pod_security,
    scrape_annotations, template,
};
use super::ports::OPERATOR_METRICS;
use super::rbac::{self, role_ref};
use super::tailscale;
use super::{RegionCtx, labels, meta};
use crate::names::tailscale::Workload;
use crate::names::{OPERATOR_APP, OPERATOR_DEPLOYMENT, OPERATOR_NAME, node_reader_name};
use crate::plan::Plan;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The operator image, tagged `v<version>` as upstream tags it (rule 21).
pub fn operator_image(plan: &Plan) -> String {
    format!(
        "foundationdb/fdb-kubernetes-operator:v{}",
        plan.operator_version
    )
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| {
        items
            .iter()
            .map(|item| (*item).to_owned())
            .collect::<Vec<_>>()
    };
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

const ALL_VERBS: [&str; 7] = [
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// Every object of the region's operator.
pub(crate) fn objects(ctx: &RegionCtx<'_>) -> Vec<RenderedObject> {
    let namespace = ctx.region.namespace.clone();
    let subject = rbac::service_account(OPERATOR_NAME, &namespace);
    let service_account = ServiceAccount {
        metadata: meta::namespaced(ctx, OPERATOR_NAME, OPERATOR_APP, "operator"),
        ..ServiceAccount::default()
    };
    // Namespaced: the operator watches only its own namespace (WATCH_NAMESPACE), so a Role is
    // enough (docs/fdb-multi-region.md §3.4; the Terraform module's globalMode confused "all
    // namespaces" with "several Kubernetes clusters", §7 item 13). Upstream's role also grants every
    // verb on Secrets (OP@v2.33.0:config/rbac/role.yaml, from the kubebuilder marker at
    // controllers/cluster_controller.go:176), but no code of the operator reads or writes a
    // Secret at either tag (controllers/, internal/, pkg/, setup/, fdbclient/ of v1.45.0 and
    // v2.33.0), and this namespace holds control's master key and the Tailscale credentials, so
    // Secrets are left out.
    let role = Role {
        metadata: meta::namespaced(ctx, OPERATOR_NAME, OPERATOR_APP, "operator"),
        rules: Some(vec![
            rule(
                &[""],
                &[
                    "configmaps",
                    "events",
                    "persistentvolumeclaims",
                    "pods",
                    "services",
                ],
                &ALL_VERBS,
            ),
            rule(&["apps"], &["deployments"], &ALL_VERBS),
            rule(
                &["apps.foundationdb.org"],
                &[
                    "foundationdbbackups",
                    "foundationdbclusters",
                    "foundationdbrestores",
                ],
                &ALL_VERBS,
            ),
            rule(
                &["apps.foundationdb.org"],
                &[
                    "foundationdbbackups/status",
                    "foundationdbclusters/status",
                    "foundationdbrestores/status",
                ],
                &["get", "patch", "update"],
            ),
            rule(&["coordination.k8s.io"], &["leases"], &ALL_VERBS),
        ]),
    };
    let role_binding = RoleBinding {
        metadata: meta::namespaced(ctx, OPERATOR_NAME, OPERATOR_APP, "operator"),
        role_ref: role_ref("Role", OPERATOR_NAME),
        subjects: Some(vec![subject.clone()]),
    };
    let node_reader = node_reader_name(&namespace);
    let cluster_role = ClusterRole {
        metadata: meta::cluster_wide(ctx, &node_reader, OPERATOR_APP, "operator"),
        rules: Some(vec![rule(&[""], &["nodes"], &["get", "list", "watch"])]),
        ..ClusterRole::default()
    };
    let cluster_role_binding = ClusterRoleBinding {
        metadata: meta::cluster_wide(ctx, &node_reader, OPERATOR_APP, "operator"),
        role_ref: role_ref("ClusterRole", &node_reader),
        subjects: Some(vec![subject]),
    };
    vec![
        RenderedObject::new(&service_account),
        RenderedObject::new(&role),
        RenderedObject::new(&role_binding),
        RenderedObject::new(&cluster_role),
        RenderedObject::new(&cluster_role_binding),
        RenderedObject::new(&deployment(ctx)),
    ]
}

/// The init container that copies the client library (and fdbcli/fdbbackup/fdbrestore) of the
/// FDB minor version in use into `/usr/bin/fdb`. Operator 1.45.0 ships no 7.3 library
/// (docs/fdb-multi-region.md §3.1), so one is always added for the cluster's own version.
fn client_library_init(plan: &Plan) -> Container {
    let version = plan.fdb_version;
    let minor = version.minor_line();
    let (image, output_dir, mode) = if plan.operator_version.major >= 2 {
        // v2: fdb-kubernetes-monitor, `--mode init` (OP v2.33.0 config/samples/deployment.yaml).
        (
            format!("foundationdb/fdb-kubernetes-monitor:{version}"),
            "/var/output-files".to_owned(),
            vec!["--mode".to_owned(), "init".to_owned()],
        )
    } else {
        // v1: the sidecar image, a versioned output folder and `--init-mode` (v1 chart).
        (
            format!("foundationdb/foundationdb-kubernetes-sidecar:{version}-1"),
            format!("/var/output-files/{version}"),
            vec!["--init-mode".to_owned()],
        )
    };
    let mut args = vec!["--copy-library".to_owned(), minor.clone()];
    for binary in ["fdbcli", "fdbbackup", "fdbrestore"] {
        args.push("--copy-binary".to_owned());
        args.push(binary.to_owned());
    }
    args.push("--output-dir".to_owned());
    args.push(output_dir);
    args.extend(mode);
    Container {
        name: format!("foundationdb-kubernetes-init-{}", minor.replace('.', "-")),
        image: Some(image),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        args: Some(args),
        volume_mounts: Some(vec![mount("fdb-binaries", "/var/output-files", false)]),
        resources: Some(fixed_resources("10m", "50Mi")),
        security_context: Some(hardened(Some(FDB_UID), true)),
        ..Container::default()
    }
}

fn deployment(ctx: &RegionCtx<'_>) -> Deployment {
    let plan = ctx.plan;
    let selector = labels::selector(ctx, OPERATOR_APP);
    let pod_labels = labels::common(ctx, OPERATOR_APP, "operator");
    let mut env_vars = Vec::new();
    if plan.operator_version.major < 2 {
        // The v1 chart points the client at the copied libraries explicitly.
        env_vars.push(env(
            "FDB_NETWORK_OPTION_EXTERNAL_CLIENT_DIRECTORY",
            "/usr/bin/fdb",
        ));
    }
    env_vars.push(env_field("WATCH_NAMESPACE", "metadata.namespace"));
    let manager = Container {
        name: "manager".to_owned(),
        image: Some(operator_image(plan)),
        image_pull_policy: Some("IfNotPresent".to_owned()),
        command: Some(vec!["/manager".to_owned()]),
        env: Some(env_vars),
        ports: Some(vec![ContainerPort {
            name: Some("metrics".to_owned()),
            container_port: i32::from(OPERATOR_METRICS),
            ..ContainerPort::default()
        }]),
        liveness_probe: Some(http_probe(
            "/metrics",
            IntOrString::String("metrics".to_owned()),
            10,
            3,
            None,
        )),
        resources: Some(fixed_resources("500m", "256Mi")),
        security_context: Some(hardened(Some(FDB_UID), true)),
        volume_mounts: Some(vec![
            mount("tmp", "/tmp", false),
            mount("logs", "/var/log/fdb", false),
            mount("fdb-binaries", "/usr/bin/fdb", false),
        ]),
        ..Container::default()
    };
    // The operator runs fdbcli against every process of the cluster, in every region
    // (docs/fdb-multi-region.md §5.3), so it needs the routes to the remote pod CIDRs too.
    // Its state is in memory, so its identity is ephemeral (an FDB tag, an ephemeral credential).
    let mut init_containers = tailscale::deployment_init_containers(ctx, Workload::FdbEphemeral);
    init_containers.push(client_library_init(plan));
    let (selector, template) = template(
        selector,
        pod_labels,
        scrape_annotations(plan.monitoring.scrape, OPERATOR_METRICS),
        PodSpec {
            service_account_name: Some(OPERATOR_NAME.to_owned()),
            security_context: Some(pod_security(FDB_UID)),
            termination_grace_period_seconds: Some(10),
            init_containers: Some(init_containers),
            containers: vec![manager],
            volumes: Some(vec![
                empty_dir("tmp"),
                empty_dir("logs"),
                empty_dir("fdb-binaries"),
            ]),
            ..PodSpec::default()
        },
    );
    let spec = DeploymentSpec {
        replicas: Some(1),
        selector,
        template,
        ..DeploymentSpec::default()
    };
    k8s_openapi::k8s_if_le_1_36! { let spec = Some(spec); }
    Deployment {
        metadata: meta::namespaced(ctx, OPERATOR_DEPLOYMENT, OPERATOR_APP, "operator"),
        spec,
        ..Deployment::default()
    }
}
