//! What applying a change does, per changed field: the change classes and the rules that give
//! them, with the upstream behaviour each rule rests on.

use super::fields::{Delta, FieldPath};
use super::{Action, CRD, ChangeClass, FDB_CLUSTER, NAMESPACE, Reason};
use crate::syntax::quantity::parse_quantity;
use serde_json::Value;

/// The kinds whose pod template rolls out as a rolling restart.
const WORKLOADS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// What applying each kind of change does, as the upstream source at the pinned versions shows.
mod why {
    // Every object the operator creates for a cluster (PVCs, pods, Services, its ConfigMap)
    // has the cluster as controller owner (OP@v2.33.0:controllers/add_pvcs.go:68-69,
    // internal/pod_helper.go:169-180; OP@v1.45.0:controllers/add_pvcs.go:62-63), and the
    // cluster has no finalizer: Kubernetes garbage-collects them with it.
    pub(super) const CLUSTER_DELETED: &str = "deleting a FoundationDBCluster deletes its volumes and so its data: the operator makes the cluster the owner of every PVC it creates, and Kubernetes garbage-collects them with it";
    // The prefix is part of every process group ID (OP@v2.33.0:api/v1beta2/
    // foundationdbcluster_types.go:3562-3584); a group whose ID differs is replaced
    // (internal/replacements/replacements.go:226-236), all at once by default
    // (maxConcurrentReplacements unlimited, foundationdbcluster_types.go:2762-2765).
    pub(super) const PREFIX: &str = "every process group gets a new ID, so the operator replaces all of them at once: new pods and volumes for the whole datacenter, FoundationDB moving all its data, with about twice the resources while it lasts";
    // dataCenter becomes --locality_dcid (OP@v2.33.0:internal/monitor_conf.go:377-409): the
    // processes restart in a datacenter the database configuration does not name
    // (apple/foundationdb#4089: data lost after renaming datacenter_id).
    pub(super) const DATACENTER: &str = "the processes restart in a datacenter the database's region configuration does not name, and the operator ignores those still in the old one; FoundationDB does not support renaming a datacenter (apple/foundationdb#4089 lost all data this way)";
    // A patch upgrade is protocol-compatible (OP@v2.33.0:api/v1beta2/foundationdb_version.go:
    // 112-116): the pods are recreated with the new image per the pod update strategy
    // (internal/pod_models.go:536-539, controllers/bounce_processes.go:419-420).
    pub(super) const VERSION_PATCH: &str = "a patch upgrade: the operator recreates every FoundationDB pod of the datacenter with the new image (storage pods on their volumes, the others replaced)";
    // An incompatible upgrade stages the binaries through the sidecars
    // (controllers/update_sidecar_versions.go:49-52), then kills every process of the database
    // at once (bounce_processes.go:275-278, fdbclient/admin_client.go:696-710); across
    // Kubernetes clusters one operator does it for all, from the lock's pending list
    // (bounce_processes.go:176-218, OP@v2.33.0:docs/manual/upgrades.md:60, technical_design.md:286).
    pub(super) const VERSION_MAJOR: &str = "a protocol-incompatible upgrade: the operator stages the new binaries in every pod, waits until every process of the whole database (every region) is ready, restarts them all at once, then recreates the pods; clients must already have the new version's library";
    // The data directory differs between split and unified (OP@v2.33.0:internal/monitor_conf.go:
    // 286-315), so a group whose image type changes is replaced
    // (internal/replacements/replacements.go:321-328).
    pub(super) const IMAGE_TYPE: &str = "the data directory differs between the split and the unified image, so the operator replaces every stateful process group: new pods and volumes, FoundationDB moving their data";
    // Any difference in the PVC spec hash replaces the group; PVCs are never patched
    // (OP@v2.33.0:internal/replacements/replacements.go:181-197, controllers/add_pvcs.go:63-75,
    // OP@v2.33.0:docs/manual/replacements_and_deletions.md:25).
    pub(super) const VOLUME: &str = "the operator replaces every process group whose volume claim changed: new pod and volume, FoundationDB moving the data off the old one first (it never resizes a volume)";
    pub(super) const VOLUME_SMALLER: &str = "the operator replaces every process group with a smaller volume (it never resizes one); if the data does not fit in the new volumes, the moves stall and the database fills up";
    // ReplaceTransactionSystem, the default at both versions (OP@v2.33.0:api/v1beta2/
    // foundationdbcluster_types.go:1350-1355, 2885-2897; OP@v1.45.0: same file:1176-1181):
    // storage pods are deleted and re-created zone by zone, the others replaced
    // (controllers/update_pods.go:265-269).
    pub(super) const POD_TEMPLATE: &str = "the operator updates every FoundationDB pod of the datacenter: storage pods are deleted and re-created on their volumes, zone by zone, the others replaced (the default pod update strategy)";
    // FDB@7.3.43: storage_migration_type defaults to disabled (fdbclient/include/fdbclient/
    // FDBTypes.h:1392, documentation/sphinx/source/command-line-interface.rst:123-132); gradual
    // with the perpetual wiggle, or aggressive, moves existing storage servers.
    pub(super) const STORAGE_ENGINE: &str = "new storage servers use the new engine; the existing ones keep theirs unless storage_migration_type is gradual (with the perpetual storage wiggle) or aggressive, and then FoundationDB moves their data onto new ones (FoundationDB 7.3's default is disabled)";
    // configure, then data distribution re-replicates (FDB@7.3.43:documentation/sphinx/source/
    // configuration.rst:356; OP@v2.33.0:docs/manual/scaling.md:96).
    pub(super) const REDUNDANCY: &str = "FoundationDB changes how many copies it keeps and moves data until every shard has them; the operator may add or remove processes to match";
    pub(super) const USABLE_UP: &str = "FoundationDB replicates the whole database into the other region before that region is usable";
    pub(super) const USABLE_DOWN: &str = "FoundationDB drops the replica of the other region: afterwards one region holds the only copy, and losing it loses the data";
    // Applied in stages (OP@v2.33.0:api/v1beta2/foundationdb_database_configuration.go:360-370,
    // controllers/update_database_configuration.go:69-159).
    pub(super) const REGIONS: &str = "the operator reconfigures the regions (in stages when usable_regions changes too): FoundationDB moves its transaction system, and with usable_regions 2 its replicas, to match";
    pub(super) const DB_COUNTS: &str =
        "the operator reconfigures the role counts; FoundationDB recruits the roles again";
    // OP@v2.33.0:controllers/add_process_groups.go:44-118, choose_removals.go:95-140,
    // remove_process_groups.go:632-672, OP@v2.33.0:docs/manual/scaling.md:72.
    pub(super) const PROCESS_COUNTS: &str = "the operator adds process groups, or excludes the surplus ones first (FoundationDB moves their data off) and then removes them";
    pub(super) const SEED: &str =
        "read only when a process group joins; running processes keep their cluster file";
    pub(super) const AUTOMATION: &str =
        "changes what the operator does from now on, nothing it did";
    pub(super) const FDB_OTHER: &str = "changes the processes' command line or locality: assume the operator replaces every process group of the datacenter";
    // The operator neither reads nor writes the cluster's annotations (it writes the status
    // only: OP@v2.33.0:controllers/cluster_controller.go:765-789).
    pub(super) const METADATA: &str = "metadata only";
    pub(super) const TEMPLATE: &str =
        "a rolling restart: every pod is replaced with the new template";
    pub(super) const IMMUTABLE: &str = "Kubernetes does not allow changing it: `kubectl apply` is rejected; delete the object (its pods restart) and apply again";
    pub(super) const REPLICAS: &str = "pods are added or removed";
    pub(super) const ROLLOUT: &str = "changes how later rollouts run";
    pub(super) const OTHER: &str = "takes effect when applied; running pods are not restarted";
    pub(in crate::diff) const ADDED: &str = "new object";
    pub(super) const REMOVED: &str =
        "no longer rendered: it keeps running until you delete it (APPLY.md, \"Removed objects\")";
    pub(super) const CRD_REMOVED: &str = "no longer rendered (APPLY.md installs the operator's CRDs from its release instead); never delete it: deleting a CRD deletes every object of its kind, every FoundationDBCluster and its data included";
    pub(super) const UNREADABLE: &str = "the file in the folder cannot be read back as one object (it is missing, not UTF-8 text, not YAML, or several documents), so what this render changes in it is unknown";
    pub(super) const VERSION_DOWN: &str = "a downgrade to an older minor or major version: the operator restarts every process at once as for an incompatible upgrade, and FoundationDB reads its files back only where the newer release documents a way down; treat it as a restore and read the release notes first";
    pub(super) const NAMESPACE_REMOVED: &str = "no longer rendered: deleting it deletes everything in it, the FoundationDBCluster and its volumes and the Secrets you created included";
}

pub(super) use why::ADDED;

/// The reasons for one changed object, one per field.
pub(super) fn changed(kind: &str, deltas: &[Delta]) -> Vec<Reason> {
    deltas
        .iter()
        .map(|delta| {
            let (class, why) = rule(kind, delta);
            Reason::field(&delta.path, delta, class, why, kind == "Secret")
        })
        .collect()
}

/// The reason for an object whose old file cannot be read: for a FoundationDBCluster an unknown
/// change is destructive until someone looks.
pub(super) fn unreadable(kind: &str) -> Reason {
    let class = if kind == FDB_CLUSTER {
        ChangeClass::Destructive
    } else {
        ChangeClass::Safe
    };
    Reason::whole(class, why::UNREADABLE)
}

/// The reason for an added or removed object.
pub(super) fn whole(kind: &str, action: Action, namespace_holds_fdb: bool) -> Reason {
    let (class, why) = match action {
        Action::Added | Action::Changed => (ChangeClass::Safe, why::ADDED),
        Action::Removed => match kind {
            FDB_CLUSTER => (ChangeClass::Destructive, why::CLUSTER_DELETED),
            // Protected from pruning (render/mod.rs), and APPLY.md installs the CRDs from the
            // release then: nothing deletes it unless someone does.
            CRD => (ChangeClass::Safe, why::CRD_REMOVED),
            NAMESPACE if namespace_holds_fdb => (ChangeClass::Destructive, why::NAMESPACE_REMOVED),
            NAMESPACE => (ChangeClass::Safe, why::NAMESPACE_REMOVED),
            _ => (ChangeClass::Safe, why::REMOVED),
        },
    };
    Reason::whole(class, why)
}

fn rule(kind: &str, delta: &Delta) -> (ChangeClass, &'static str) {
    let path = &delta.path;
    if path.starts_with(&["metadata"]) || path.starts_with(&["apiVersion"]) {
        return (ChangeClass::Safe, why::METADATA);
    }
    if kind == FDB_CLUSTER {
        return fdb_rule(path, delta);
    }
    if WORKLOADS.contains(&kind) {
        return if path.starts_with(&["spec", "selector"])
            || path.starts_with(&["spec", "volumeClaimTemplates"])
            || path.starts_with(&["spec", "serviceName"])
        {
            (ChangeClass::Restarts, why::IMMUTABLE)
        } else if path.starts_with(&["spec", "template"]) {
            (ChangeClass::Restarts, why::TEMPLATE)
        } else if path.starts_with(&["spec", "replicas"]) {
            (ChangeClass::Safe, why::REPLICAS)
        } else {
            (ChangeClass::Safe, why::ROLLOUT)
        };
    }
    (ChangeClass::Safe, why::OTHER)
}

fn fdb_rule(path: &FieldPath, delta: &Delta) -> (ChangeClass, &'static str) {
    use ChangeClass::{Destructive, MigratesData, ReplacesFdbPods, Safe};
    let configuration = |field: &str| path.starts_with(&["spec", "databaseConfiguration", field]);
    if path.starts_with(&["spec", "dataCenter"]) {
        (Destructive, why::DATACENTER)
    } else if path.starts_with(&["spec", "processGroupIDPrefix"]) {
        (Destructive, why::PREFIX)
    } else if configuration("usable_regions") {
        if number(delta.after.as_ref()) < number(delta.before.as_ref()) {
            (Destructive, why::USABLE_DOWN)
        } else {
            (MigratesData, why::USABLE_UP)
        }
    } else if configuration("storage_engine") {
        (MigratesData, why::STORAGE_ENGINE)
    } else if configuration("redundancy_mode") {
        (MigratesData, why::REDUNDANCY)
    } else if configuration("regions") {
        (MigratesData, why::REGIONS)
    } else if path.starts_with(&["spec", "databaseConfiguration"]) {
        (Safe, why::DB_COUNTS)
    } else if path.starts_with(&["spec", "version"]) {
        if same_minor(delta) {
            (ReplacesFdbPods, why::VERSION_PATCH)
        } else if downgrade(delta) {
            (Destructive, why::VERSION_DOWN)
        } else {
            (ReplacesFdbPods, why::VERSION_MAJOR)
        }
    } else if path.starts_with(&["spec", "imageType"]) {
        (ReplacesFdbPods, why::IMAGE_TYPE)
    } else if path.starts_with(&["spec", "processes", "*", "volumeClaimTemplate"]) {
        if smaller_volume(delta) {
            (Destructive, why::VOLUME_SMALLER)
        } else {
            (ReplacesFdbPods, why::VOLUME)
        }
    } else if path.starts_with(&["spec", "processes"]) {
        (ReplacesFdbPods, why::POD_TEMPLATE)
    } else if path.starts_with(&["spec", "processCounts"]) {
        (Safe, why::PROCESS_COUNTS)
    } else if path.starts_with(&["spec", "seedConnectionString"]) {
        (Safe, why::SEED)
    } else if path.starts_with(&["spec", "automationOptions"]) {
        (Safe, why::AUTOMATION)
    } else {
        (ReplacesFdbPods, why::FDB_OTHER)
    }
}

/// Whether a version change keeps major and minor (protocol-compatible:
/// OP@v2.33.0:api/v1beta2/foundationdb_version.go:112-116).
fn same_minor(delta: &Delta) -> bool {
    let minor = |value: Option<&Value>| {
        let text = value?.as_str()?;
        let mut parts = text.split('.');
        Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
    };
    matches!((minor(delta.before.as_ref()), minor(delta.after.as_ref())), (Some(a), Some(b)) if a == b)
}

/// Whether a version change goes to an older major or minor version.
fn downgrade(delta: &Delta) -> bool {
    let version = |value: Option<&Value>| -> Option<(u64, u64)> {
        let mut parts = value?.as_str()?.split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    matches!((version(delta.before.as_ref()), version(delta.after.as_ref())), (Some(a), Some(b)) if b < a)
}

fn number(value: Option<&Value>) -> i64 {
    value.and_then(Value::as_i64).unwrap_or(0)
}

/// Whether a volume claim's storage request went down (a whole template counts by its request).
fn smaller_volume(delta: &Delta) -> bool {
    let request = |value: Option<&Value>| {
        let value = value?;
        let text = value
            .pointer("/spec/resources/requests/storage")
            .or_else(|| value.pointer("/resources/requests/storage"))
            .or_else(|| value.pointer("/requests/storage"))
            .or_else(|| value.get("storage"))
            .unwrap_or(value)
            .as_str()?;
        parse_quantity(text).ok().map(|quantity| quantity.0)
    };
    matches!(
        (request(delta.before.as_ref()), request(delta.after.as_ref())),
        (Some(before), Some(after)) if after < before
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::fields::deltas;
    use serde_json::json;

    fn classes(kind: &str, before: &Value, after: &Value) -> Vec<(String, ChangeClass)> {
        changed(kind, &deltas(before, after))
            .into_iter()
            .map(|reason| (reason.path, reason.class))
            .collect()
    }

    #[test]
    fn fdb_identity_and_data_rules() {
        let before = json!({"spec": {"dataCenter": "a", "version": "7.1.57",
            "databaseConfiguration": {"usable_regions": 2, "storage_engine": "ssd-2", "logs": 3},
            "processes": {"general": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "128Gi"}}}}}}}});
        let after = json!({"spec": {"dataCenter": "b", "version": "7.3.43",
            "databaseConfiguration": {"usable_regions": 1, "storage_engine": "ssd-redwood-1", "logs": 4},
            "processes": {"general": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "64Gi"}}}}}}}});
        assert_eq!(
            classes("FoundationDBCluster", &before, &after),
            [
                ("spec.dataCenter".to_owned(), ChangeClass::Destructive),
                ("spec.version".to_owned(), ChangeClass::ReplacesFdbPods),
                (
                    "spec.databaseConfiguration.usable_regions".to_owned(),
                    ChangeClass::Destructive
                ),
                (
                    "spec.databaseConfiguration.storage_engine".to_owned(),
                    ChangeClass::MigratesData
                ),
                (
                    "spec.databaseConfiguration.logs".to_owned(),
                    ChangeClass::Safe
                ),
                (
                    "spec.processes.general.volumeClaimTemplate.spec.resources.requests.storage"
                        .to_owned(),
                    ChangeClass::Destructive
                ),
            ]
        );
        // Growing a volume and raising usable_regions are not destructive; going back to an
        // older minor version is.
        assert_eq!(
            classes("FoundationDBCluster", &after, &before)
                .iter()
                .filter(|(_, class)| *class == ChangeClass::Destructive)
                .map(|(path, _)| path.as_str())
                .collect::<Vec<_>>(),
            ["spec.dataCenter", "spec.version"]
        );
    }

    #[test]
    fn workload_rules() {
        let before = json!({"spec": {"replicas": 2, "selector": {"matchLabels": {"a": "1"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}}});
        let after = json!({"spec": {"replicas": 3, "selector": {"matchLabels": {"a": "2"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "x:2"}]}}}});
        let found = changed("Deployment", &deltas(&before, &after));
        let summary: Vec<(&str, ChangeClass, &str)> = found
            .iter()
            .map(|r| (r.path.as_str(), r.class, r.why.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("spec.replicas", ChangeClass::Safe, why::REPLICAS),
                (
                    "spec.selector.matchLabels.a",
                    ChangeClass::Restarts,
                    why::IMMUTABLE
                ),
                (
                    "spec.template.spec.containers[c].image",
                    ChangeClass::Restarts,
                    why::TEMPLATE
                ),
            ]
        );
        assert_eq!(
            classes(
                "ConfigMap",
                &json!({"data": {"a": "1"}}),
                &json!({"data": {"a": "2"}})
            ),
            [("data.a".to_owned(), ChangeClass::Safe)]
        );
    }

    #[test]
    fn versions() {
        let version = |from: &str, to: &str| {
            changed(
                "FoundationDBCluster",
                &deltas(
                    &json!({"spec": {"version": from}}),
                    &json!({"spec": {"version": to}}),
                ),
            )[0]
            .clone()
        };
        assert_eq!(version("7.3.43", "7.3.63").why, why::VERSION_PATCH);
        assert_eq!(version("7.1.57", "7.3.43").why, why::VERSION_MAJOR);
        let down = version("7.3.43", "7.1.57");
        assert_eq!(
            (down.class, down.why.as_str()),
            (ChangeClass::Destructive, why::VERSION_DOWN)
        );
        assert_eq!(
            version("7.3.63", "7.3.43").class,
            ChangeClass::ReplacesFdbPods
        );
        assert_eq!(
            unreadable("FoundationDBCluster").class,
            ChangeClass::Destructive
        );
        assert_eq!(unreadable("Deployment").class, ChangeClass::Safe);
        assert_eq!(
            whole("CustomResourceDefinition", Action::Removed, true).class,
            ChangeClass::Safe
        );
    }

    #[test]
    fn removals() {
        assert_eq!(
            whole("FoundationDBCluster", Action::Removed, false).class,
            ChangeClass::Destructive
        );
        assert_eq!(
            whole("Namespace", Action::Removed, true).class,
            ChangeClass::Destructive
        );
        assert_eq!(
            whole("Namespace", Action::Removed, false).class,
            ChangeClass::Safe
        );
        assert_eq!(
            whole("StatefulSet", Action::Removed, true).class,
            ChangeClass::Safe
        );
        assert_eq!(
            whole("FoundationDBCluster", Action::Added, false).class,
            ChangeClass::Safe
        );
    }
}
