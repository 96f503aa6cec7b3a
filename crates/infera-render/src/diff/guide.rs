//! The parts of `APPLY.md` that depend on what the folder held before: the order of a
//! FoundationDB upgrade across regions, and the objects earlier renders wrote that this one no
//! longer has.

use super::{CRD, FDB_CLUSTER, NAMESPACE, ObjectRef, Upgrade};
use crate::render::Rendered;
use crate::render::apply_guide::{fence, kubectl};
use std::fmt::Write;

/// Where the upgrade section goes: before the per-region steps.
const STEPS: &str = "## Steps\n";

/// Adds the sections to `rendered.apply_guide`.
pub(super) fn complete(rendered: &mut Rendered, upgrade: Option<&Upgrade>, removed: &[ObjectRef]) {
    if let Some(upgrade) = upgrade {
        let section = upgrade_section(rendered, upgrade);
        match rendered.apply_guide.find(STEPS) {
            Some(at) => rendered.apply_guide.insert_str(at, &section),
            None => rendered.apply_guide.push_str(&section),
        }
    }
    if !removed.is_empty() {
        let section = removed_objects(rendered, removed);
        rendered.apply_guide.push_str(&section);
    }
}

/// `kubectl` with the region's flags when the objects run where the spec now puts the region,
/// else with the context they ran in (a region dropped, or moved to another cluster).
fn kubectl_for(rendered: &Rendered, reference: &ObjectRef) -> String {
    let region = rendered
        .plan
        .regions
        .iter()
        .find(|region| region.id == reference.region)
        .filter(|region| {
            reference.context.is_none() || region.kubernetes.config_context == reference.context
        });
    match (region, &reference.context) {
        (Some(region), _) => kubectl(region),
        (None, Some(context)) => format!("kubectl --context {context}"),
        (None, None) => "kubectl".to_owned(),
    }
}

/// The upgrade of a database spread over several Kubernetes clusters: every operator must see
/// the new version before one of them restarts the processes
/// (OP@v2.33.0:docs/manual/upgrades.md:60, OP@v2.33.0:docs/manual/technical_design.md:286).
fn upgrade_section(rendered: &Rendered, upgrade: &Upgrade) -> String {
    let Upgrade { from, to } = upgrade;
    // Every region that runs a FoundationDB datacenter, whichever `--region` this render wrote.
    let clusters: Vec<(String, String, String)> = rendered
        .regions
        .iter()
        .flat_map(|bundle| {
            bundle
                .objects
                .iter()
                .filter(|object| object.kind == FDB_CLUSTER)
                .map(move |object| (bundle.id.clone(), object.name.clone(), object.file_name()))
        })
        .collect();
    let mut regions: Vec<String> = clusters
        .iter()
        .map(|(region, ..)| format!("`{region}`"))
        .collect();
    regions.dedup();
    let mut out = String::new();
    let _ = writeln!(out, "## Upgrading FoundationDB from {from} to {to}\n");
    let _ = writeln!(
        out,
        "A render into this folder changed the FoundationDB version of the `FoundationDBCluster` in {}. It is one upgrade of one database: between protocol-incompatible versions (a new minor version) the operators stage the new binaries in every pod of every region and one of them restarts every process at once when all are ready, so no region can finish before every region's `FoundationDBCluster` has the new version (the operator's upgrade guide, for clusters spread over several Kubernetes clusters). Apply these first, one right after the other, before the steps below (which apply them again, changing nothing):\n",
        regions.join(", ")
    );
    let mut apply = Vec::new();
    let mut check = Vec::new();
    for (region_id, name, file) in &clusters {
        if let Some(region) = rendered.plan.regions.iter().find(|r| &r.id == region_id) {
            apply.push(format!(
                "{} apply --server-side -f {region_id}/{file}",
                kubectl(region)
            ));
            check.push(format!(
                "{} -n {} get foundationdbcluster {name} -o jsonpath='{{.status.runningVersion}}{{\"\\n\"}}'",
                kubectl(region),
                region.namespace
            ));
        }
    }
    fence(&mut out, &apply);
    let _ = writeln!(
        out,
        "Clients of the old version lose the database until they have the new version's client library. The upgrade is done when every one of these prints {to}:\n"
    );
    fence(&mut out, &check);
    out
}

/// The order to delete in: workloads first, then what they use, identities last (the apply
/// order reversed).
fn delete_rank(kind: &str) -> u8 {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" => 0,
        "PodDisruptionBudget" => 1,
        "Service" => 2,
        "RoleBinding" | "ClusterRoleBinding" => 3,
        "Role" | "ClusterRole" => 4,
        "ConfigMap" | "Secret" => 5,
        "ServiceAccount" => 6,
        _ => 7,
    }
}

/// The objects to delete by hand, per region, the dangerous ones apart.
fn removed_objects(rendered: &Rendered, removed: &[ObjectRef]) -> String {
    let mut out = String::new();
    out.push_str("## Removed objects\n\n");
    out.push_str("Earlier renders into this folder wrote these objects and this one does not. infera-render never deletes anything in a cluster, so they keep running until you delete them. Delete them once the steps above are done:\n\n");
    let mut regions: Vec<&str> = removed.iter().map(|r| r.region.as_str()).collect();
    regions.dedup();
    for region in regions {
        let objects: Vec<&ObjectRef> = removed.iter().filter(|r| r.region == region).collect();
        let context = objects
            .iter()
            .find_map(|r| r.context.as_deref())
            .map(|context| format!(" (context `{context}`)"))
            .unwrap_or_default();
        let _ = writeln!(out, "### {region}{context}\n");
        let command =
            |reference: &&ObjectRef| reference.delete_command(&kubectl_for(rendered, reference));
        let clusters: Vec<String> = objects
            .iter()
            .filter(|r| r.kind == FDB_CLUSTER)
            .map(command)
            .collect();
        if !clusters.is_empty() {
            out.push_str("**Destructive.** Deleting a `FoundationDBCluster` deletes its volumes and the data in them (the operator makes it the owner of its PVCs). Delete it first, and only once the database no longer needs that datacenter: the remaining regions are applied and reconciled without it (as in \"Drop a lost region\" under \"Failover and failback\"), and its data lives on elsewhere. It and its namespace carry the annotations that keep Argo CD, Flux and Helm from deleting them, so only this command does:\n\n");
            fence(&mut out, &clusters);
        }
        let mut plain: Vec<&&ObjectRef> = objects
            .iter()
            .filter(|r| !matches!(r.kind.as_str(), FDB_CLUSTER | CRD | NAMESPACE))
            .collect();
        plain.sort_by_key(|r| (delete_rank(&r.kind), r.kind.clone(), r.name.clone()));
        let plain: Vec<String> = plain.into_iter().map(command).collect();
        if !plain.is_empty() {
            if !clusters.is_empty() {
                out.push_str("Then the rest:\n\n");
            }
            fence(&mut out, &plain);
        }
        for crd in objects.iter().filter(|r| r.kind == CRD) {
            let _ = writeln!(
                out,
                "Leave `CustomResourceDefinition {}` installed: deleting a CRD deletes every object of its kind, every `FoundationDBCluster` and its data included.\n",
                crd.name
            );
        }
        let namespaces: Vec<String> = objects
            .iter()
            .filter(|r| r.kind == NAMESPACE)
            .map(command)
            .collect();
        if !namespaces.is_empty() {
            out.push_str("Last, the namespace. Deleting it deletes everything in it, the Secrets you created and any `FoundationDBCluster` still there included:\n\n");
            fence(&mut out, &namespaces);
        }
    }
    out.push_str("Once they are deleted, render with `--forget-removed`, and this section lists only what is left to delete.\n\n");
    out
}
