//! The findings the security scanners users gate their pipelines with (checkov, kube-linter)
//! report on the output, accepted with a reason: one table ([`EXCEPTIONS`]) from which both the
//! objects' skip annotations and APPLY.md's "Scanner exceptions" list are made, so the two
//! cannot disagree. Everything else a scanner reports was fixed in the objects themselves
//! (probes, seccomp, tokens that are not needed, budgets).
//!
//! - checkov reads `checkov.io/skip<n>: <check id>=<reason>` from an object's own
//!   `metadata.annotations`, per object and check (not per container); a `=` in the reason makes
//!   it fail, so no reason holds one.
//! - kube-linter reads `ignore-check.kube-linter.io/<check name>: <reason>`
//!   (stackrox/kube-linter@v0.8.3:docs/configuring-kubelinter.md:102-114).
//!
//! Neither scanner looks into a `FoundationDBCluster`'s pod templates, so its pods (and their
//! privileged Tailscale sidecar) are judged only at admission: APPLY.md says so.

use super::object::RenderedObject;
use super::{RegionBundle, meta};
use crate::names::annotations::{CHECKOV_SKIP, KUBE_LINTER_IGNORE};
use crate::names::labels::NAME;
use crate::names::tailscale::ROUTER_NAME;
use crate::names::{App, OPERATOR_APP};
use crate::plan::Plan;
use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// What the exceptions look at in a workload object.
pub(crate) struct Workload<'a> {
    /// Its `app.kubernetes.io/name`.
    app: &'a str,
    /// Its containers and init containers.
    containers: Vec<&'a Value>,
}

impl Workload<'_> {
    fn has_container(&self, name: &str) -> bool {
        self.containers.iter().any(|c| c["name"] == name)
    }

    /// Whether an image is named by tag alone (no digest).
    fn has_image_without_digest(&self) -> bool {
        self.containers
            .iter()
            .filter_map(|c| c["image"].as_str())
            .any(|image| !image.contains("@sha256:"))
    }
}

/// A finding accepted on purpose.
pub(crate) struct Exception {
    /// checkov's check ids.
    pub(crate) checkov: &'static [&'static str],
    /// kube-linter's check names.
    pub(crate) kube_linter: &'static [&'static str],
    /// What in the object causes it (for APPLY.md).
    pub(crate) cause: &'static str,
    /// Why it stays: the annotations' value (no `=`).
    pub(crate) reason: &'static str,
    /// Whether the object has what causes it.
    applies: fn(&Plan, &Workload<'_>) -> bool,
}

/// The Tailscale sidecar or the router's container.
const TAILSCALE: &str = "tailscale";
/// The init container that keeps the own region's traffic on the pod network.
const OWN_ROUTE: &str = super::tailscale::OWN_ROUTE_CONTAINER;

/// Every accepted finding. The reasons are short: APPLY.md's "Privileged containers" has the
/// long form.
pub(crate) static EXCEPTIONS: &[Exception] = &[
    Exception {
        checkov: &["CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_28", "CKV_K8S_37"],
        kube_linter: &["privileged-container", "privilege-escalation-container"],
        cause: "the `tailscale` container is privileged (which grants every capability and privilege escalation)",
        reason: "kernel-mode Tailscale needs privileged for /dev/net/tun since runc 1.2: its tailscale0 routes carry the FoundationDB traffic between regions (APPLY.md, Privileged containers)",
        applies: |_, w| w.has_container(TAILSCALE),
    },
    Exception {
        checkov: &["CKV_K8S_22"],
        kube_linter: &["no-read-only-root-fs"],
        cause: "the `tailscale` container's root filesystem is writable",
        reason: "tailscaled writes its socket under /tmp and iptables its lock under /run of the image, untested with emptyDirs there yet; the container is privileged, so a read-only root would add little",
        applies: |_, w| w.has_container(TAILSCALE),
    },
    Exception {
        checkov: &[],
        kube_linter: &["run-as-non-root"],
        cause: "the `tailscale` containers (and `tailscale-own-route`, where it runs) run as root",
        reason: "tailscaled needs root to create tailscale0 and its routes, as tailscale-own-route does for its routing rule where it runs",
        applies: |_, w| w.has_container(TAILSCALE),
    },
    Exception {
        checkov: &["CKV_K8S_23", "CKV_K8S_40"],
        kube_linter: &[],
        cause: "the router's `tailscale` container runs as root (UID 0)",
        reason: "the subnet router creates tailscale0 and forwards between it and the pod network, which needs root",
        applies: |_, w| w.app == ROUTER_NAME,
    },
    Exception {
        checkov: &["CKV_K8S_25"],
        kube_linter: &[],
        cause: "the `tailscale-own-route` init container adds `NET_ADMIN`",
        reason: "tailscale-own-route adds one ip rule that keeps the own region on the pod network, which needs NET_ADMIN (all other capabilities dropped)",
        applies: |_, w| w.has_container(OWN_ROUTE),
    },
    Exception {
        checkov: &["CKV_K8S_35"],
        kube_linter: &[],
        cause: "credentials reach containers as environment variables (`TS_AUTHKEY` or `TS_OAUTH_CLIENT_SECRET`, `INFERADB__ENGINE__PEM`)",
        reason: "secretKeyRefs the kubelet resolves, never written into the manifest: containerboot takes its credential from its environment, and the engine takes its signing key as a configuration value (INFERADB__ENGINE__PEM), not as a file",
        applies: |_, w| w.has_container(TAILSCALE) || w.app == App::Engine.name(),
    },
    Exception {
        checkov: &["CKV_K8S_38"],
        kube_linter: &[],
        cause: "the pod mounts its ServiceAccount token",
        reason: "it calls the Kubernetes API: the operator reconciles its objects, a router keeps its Tailscale state in its Secret",
        applies: |_, w| w.app == OPERATOR_APP || w.app == ROUTER_NAME,
    },
    Exception {
        checkov: &["CKV_K8S_40"],
        kube_linter: &[],
        cause: "the operator runs as UID 4059",
        reason: "4059 is the user the operator image is built with, as in the operator's own manifests",
        applies: |_, w| w.app == OPERATOR_APP,
    },
    Exception {
        checkov: &["CKV_K8S_9"],
        kube_linter: &[],
        cause: "the operator has no readiness probe",
        reason: "the operator registers no health check (its probe address defaults to localhost:9443, out of the kubelet's reach) and serves /metrics, which its liveness probe uses as the operator's chart does; no Service sends it traffic",
        applies: |_, w| w.app == OPERATOR_APP,
    },
    Exception {
        checkov: &["CKV_K8S_43", "CKV_K8S_15"],
        kube_linter: &[],
        cause: "an image is named by tag, not digest (checkov's `CKV_K8S_15` accepts a tag only with pull policy `Always`)",
        reason: "images are pinned by version tag (the operator and FoundationDB images follow operator_version and fdb_version); give engine.image, control.image or tailscale.image as name@sha256:digest to pin those; pull policy Always would make every pod start depend on the registry",
        applies: |_, w| w.has_image_without_digest(),
    },
    Exception {
        checkov: &["CKV2_K8S_6"],
        kube_linter: &[],
        cause: "no NetworkPolicy selects the pods",
        reason: "NetworkPolicies are opt-in (network_policies.enabled), since a policy that does not fit the cluster's CNI is an outage; README, NetworkPolicies",
        applies: |plan, _| !plan.network_policies,
    },
    Exception {
        checkov: &[],
        kube_linter: &["env-var-secret"],
        cause: "the router's `TS_KUBE_SECRET` variable has a value",
        reason: "TS_KUBE_SECRET names the router's state Secret; it holds no secret",
        applies: |_, w| w.app == ROUTER_NAME,
    },
];

/// The workload of an object, when it is one the scanners check.
fn workload(object: &RenderedObject) -> Option<Workload<'_>> {
    if object.kind != Deployment::KIND && object.kind != StatefulSet::KIND {
        return None;
    }
    let pod = object.value.pointer("/spec/template/spec")?;
    let app = object
        .value
        .pointer("/metadata/labels")
        .and_then(|labels| labels.get(NAME))
        .and_then(Value::as_str)?;
    let containers = ["initContainers", "containers"]
        .iter()
        .filter_map(|key| pod[key].as_array())
        .flatten()
        .collect();
    Some(Workload { app, containers })
}

/// The exceptions that apply to an object, with their positions in [`EXCEPTIONS`].
fn exceptions(plan: &Plan, object: &RenderedObject) -> Vec<(usize, &'static Exception)> {
    workload(object).map_or_else(Vec::new, |workload| {
        EXCEPTIONS
            .iter()
            .enumerate()
            .filter(|(_, exception)| (exception.applies)(plan, &workload))
            .collect()
    })
}

/// Stamps every object with the skip annotations of its exceptions: one checkov annotation per
/// check, numbered in table order (so the numbers are stable), then kube-linter's.
pub(crate) fn annotate(plan: &Plan, objects: &mut [RenderedObject]) {
    for object in objects {
        let applying = exceptions(plan, object);
        let checkov = applying
            .iter()
            .flat_map(|(_, e)| {
                e.checkov
                    .iter()
                    .map(move |check| format!("{check}={}", e.reason))
            })
            .enumerate()
            .map(|(n, value)| (format!("{CHECKOV_SKIP}{}", n + 1), value));
        let linter = applying.iter().flat_map(|(_, e)| {
            e.kube_linter
                .iter()
                .map(move |check| (format!("{KUBE_LINTER_IGNORE}{check}"), e.reason.to_owned()))
        });
        let annotations: Vec<(String, String)> = checkov.chain(linter).collect();
        if !annotations.is_empty() {
            meta::annotate(
                &mut object.value,
                annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
        }
    }
}

/// APPLY.md's list of the accepted findings, with the objects each applies to.
pub(crate) fn guide_section(out: &mut String, plan: &Plan, bundles: &[RegionBundle]) {
    let mut objects: Vec<BTreeSet<String>> = vec![BTreeSet::new(); EXCEPTIONS.len()];
    for object in bundles.iter().flat_map(|bundle| &bundle.objects) {
        for (index, _) in exceptions(plan, object) {
            objects[index].insert(format!("{} `{}`", object.kind, object.name));
        }
    }
    let rows: Vec<(&Exception, Vec<String>)> = EXCEPTIONS
        .iter()
        .zip(objects)
        .filter(|(_, objects)| !objects.is_empty())
        .map(|(exception, objects)| (exception, objects.into_iter().collect()))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str("## Scanner exceptions\n\n");
    out.push_str("checkov and kube-linter report these findings on this output. Each is intended, and each object carries its skip annotations (`checkov.io/skip<n>`, `ignore-check.kube-linter.io/<check>`) with the reason below, so the scanners list them as skipped, not failed. Neither scanner looks into a `FoundationDBCluster`'s pod templates");
    if plan.tailscale.is_some() {
        out.push_str(": the FoundationDB pods' privileged `tailscale` sidecar is judged only at admission (see the Pod Security labels above)");
    }
    out.push_str(".\n\n");
    for (exception, objects) in rows {
        let mut checks: Vec<String> = exception.checkov.iter().map(|c| format!("`{c}`")).collect();
        checks.extend(
            exception
                .kube_linter
                .iter()
                .map(|c| format!("kube-linter `{c}`")),
        );
        let _ = writeln!(
            out,
            "- {}: {} ({}). Why: {}.",
            checks.join(", "),
            exception.cause,
            objects.join(", "),
            exception.reason
        );
    }
    out.push('\n');
}
