//! What a render would change in an output folder, before it changes anything: each object
//! added, removed or changed (matched by API group, kind, namespace and name, per region), the
//! changed fields with the class of what applying them does ([`ChangeClass`]), the changes that
//! span regions ([`Transition`]), and text diffs of the side files.
//!
//! [`compare`] also completes the render's `APPLY.md` with what depends on the folder's past:
//! the objects earlier renders wrote that this one no longer has ("Removed objects") and the
//! order of a FoundationDB upgrade across regions.

mod classify;
mod fields;
mod guide;
mod text;

pub use text::Style;

use crate::render::fdb_cluster::FOUNDATIONDB_CLUSTER;
use crate::render::monitoring::{POD_MONITOR, SERVICE_MONITOR};
use crate::render::{OutputFile, Rendered, RenderedObject};
use k8s_openapi::Resource;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

/// The kinds the change rules single out, named by their types.
pub(crate) const FDB_CLUSTER: &str = FOUNDATIONDB_CLUSTER.kind;
/// `Namespace`.
pub(crate) const NAMESPACE: &str = Namespace::KIND;
/// `CustomResourceDefinition`.
pub(crate) const CRD: &str = CustomResourceDefinition::KIND;

/// The guide's file name in the output folder.
const APPLY_MD: &str = "APPLY.md";
/// The outputs' file name in the output folder.
const OUTPUTS_JSON: &str = "outputs.json";
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What an output folder holds from earlier renders.
#[derive(Clone, Debug, Default)]
pub struct Previous {
    /// The files infera-render wrote there (those its manifest lists), as they are now:
    /// relative path → contents.
    pub files: BTreeMap<String, String>,
    /// Objects earlier renders stopped rendering that have not been rendered again since (the
    /// manifest keeps them until `--forget-removed`).
    pub removed: Vec<ObjectRef>,
    /// Files the manifest lists that cannot be read back as text (missing, not UTF-8): their
    /// objects are compared by file name alone.
    pub unreadable: Vec<String>,
    /// The FoundationDB upgrade an earlier render started, which APPLY.md keeps ordering while
    /// the spec's version is its target.
    pub upgrade: Option<Upgrade>,
}

/// A FoundationDB version change across the regions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upgrade {
    /// The version before.
    pub from: String,
    /// The version after.
    pub to: String,
}

impl Previous {
    /// What a folder holds right after `rendered` was written into it (no removed objects):
    /// comparing the next render with it shows what that render changes.
    #[must_use]
    pub fn written_by(rendered: &Rendered) -> Self {
        Self {
            files: rendered
                .files()
                .into_iter()
                .map(|file| (file.path, file.contents))
                .collect(),
            ..Self::default()
        }
    }
}

/// One Kubernetes object of a region.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The region whose bundle holds it.
    pub region: String,
    /// That region's kubectl context, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace` (none for cluster-scoped objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    fn of(object: &RenderedObject, context: Option<String>) -> Self {
        Self {
            region: object.region.clone(),
            context,
            api_version: object.api_version.clone(),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
        }
    }

    /// The API group (`apps`, `apps.foundationdb.org`; empty for the core group).
    #[must_use]
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    /// What matches an object across renders: an `apiVersion` change within the same group is
    /// the same object (the API server serves it under every version).
    fn key(&self) -> Key {
        (
            self.region.clone(),
            self.group().to_owned(),
            self.kind.clone(),
            self.namespace.clone(),
            self.name.clone(),
        )
    }

    /// `Kind namespace/name` (or `Kind name`).
    #[must_use]
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{} {namespace}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// The `kubectl delete` command for it, after `kubectl` (the region's context and
    /// kubeconfig flags, or `kubectl --context <its context>`).
    #[must_use]
    pub fn delete_command(&self, kubectl: &str) -> String {
        let namespace = self
            .namespace
            .as_ref()
            .map(|namespace| format!(" -n {namespace}"))
            .unwrap_or_default();
        let resource = match self.group() {
            "" => self.kind.to_ascii_lowercase(),
            group => format!("{}.{group}", self.kind.to_ascii_lowercase()),
        };
        format!("{kubectl}{namespace} delete {resource} {}", self.name)
    }
}

/// What applying a change does, from harmless to data loss (ordered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeClass {
    /// Metadata, counts, configuration read at start-up, side files: nothing restarts.
    Safe,
    /// A pod template changes: a rolling restart.
    Restarts,
    /// The operator restarts or replaces every FoundationDB process of a datacenter.
    ReplacesFdbPods,
    /// FoundationDB moves data (storage engine, redundancy, regions).
    MigratesData,
    /// Data can be lost, or a new, empty database built: `render -o` refuses it without
    /// `--allow-destructive`.
    Destructive,
}

impl ChangeClass {
    /// Every class, in order.
    pub const ALL: [Self; 5] = [
        Self::Safe,
        Self::Restarts,
        Self::ReplacesFdbPods,
        Self::MigratesData,
        Self::Destructive,
    ];

    /// The class's name (`replaces-fdb-pods`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Restarts => "restarts",
            Self::ReplacesFdbPods => "replaces-fdb-pods",
            Self::MigratesData => "migrates-data",
            Self::Destructive => "destructive",
        }
    }
}

/// What happens to an object or file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// New.
    Added,
    /// No longer rendered.
    Removed,
    /// Different.
    Changed,
}

/// One reason for an object's class: a changed field (or the whole object) and what applying
/// it does.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reason {
    /// The field (`spec.template.spec.containers[engine].image`); empty for the whole object.
    pub path: String,
    /// Its class.
    pub class: ChangeClass,
    /// The old value (`None`: absent; the string `(hidden)` for a Secret's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The new value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// What applying it does.
    pub why: String,
}

impl Reason {
    fn field(
        path: &fields::FieldPath,
        delta: &fields::Delta,
        class: ChangeClass,
        why: &str,
        hidden: bool,
    ) -> Self {
        let show = |value: &Option<Value>| {
            value.as_ref().map(|value| {
                if hidden {
                    Value::String("(hidden)".to_owned())
                } else {
                    value.clone()
                }
            })
        };
        Self {
            path: path.to_string(),
            class,
            before: show(&delta.before),
            after: show(&delta.after),
            why: why.to_owned(),
        }
    }

    fn whole(class: ChangeClass, why: &str) -> Self {
        Self {
            path: String::new(),
            class,
            before: None,
            after: None,
            why: why.to_owned(),
        }
    }
}

/// One object that would be added, removed or changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectChange {
    /// Which object.
    #[serde(flatten)]
    pub object: ObjectRef,
    /// What happens to it.
    pub action: Action,
    /// The highest class of its reasons.
    pub class: ChangeClass,
    /// Why, per field.
    pub reasons: Vec<Reason>,
    /// For a change: a unified diff of its YAML (Secret values hidden).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
}

/// One side file (`APPLY.md`, `outputs.json`, the tailnet policy, a `kustomization.yaml`) that
/// would be added, removed or changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileChange {
    /// Relative to the output folder.
    pub path: String,
    /// What happens to it.
    pub action: Action,
    /// A unified diff (changes only).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
}

/// A change that spans objects or regions, reported as one.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Transition {
    /// From one bootstrap phase to the other.
    Bootstrap {
        /// The previous phase.
        from: u8,
        /// The new phase.
        to: u8,
        /// What it means.
        what: String,
    },
    /// The FoundationDB version of every region's cluster.
    FdbVersion {
        /// The previous version.
        from: String,
        /// The new version.
        to: String,
        /// The regions whose FoundationDBCluster changes.
        regions: Vec<String>,
        /// What it means.
        what: String,
    },
    /// A region moves to another Kubernetes cluster (its kubectl context changed).
    Context {
        /// The region.
        region: String,
        /// The old context.
        from: String,
        /// The new context.
        to: String,
        /// What it means.
        what: String,
    },
    /// The operator's release.
    OperatorVersion {
        /// The previous release.
        from: String,
        /// The new release.
        to: String,
        /// What it means.
        what: String,
    },
}

impl Transition {
    /// What it means, in a sentence.
    #[must_use]
    pub fn what(&self) -> &str {
        match self {
            Self::Bootstrap { what, .. }
            | Self::FdbVersion { what, .. }
            | Self::Context { what, .. }
            | Self::OperatorVersion { what, .. } => what,
        }
    }
}

/// What a render would change: [`compare`]'s result.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Changes {
    /// Changes that span regions.
    pub transitions: Vec<Transition>,
    /// Objects added, removed or changed, by region (in the spec's order), then kind and name.
    pub objects: Vec<ObjectChange>,
    /// Side files added, removed or changed.
    pub files: Vec<FileChange>,
    /// Every object earlier renders wrote that this output no longer has, including those of
    /// earlier runs still pending: what APPLY.md's "Removed objects" lists and the folder's
    /// manifest keeps.
    #[serde(skip)]
    pub removed: Vec<ObjectRef>,
    /// The FoundationDB upgrade APPLY.md orders (started by this render or an earlier one):
    /// what the folder's manifest keeps.
    #[serde(skip)]
    pub upgrade: Option<Upgrade>,
}

impl Changes {
    /// Whether rendering would change nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.files.is_empty()
    }

    /// The destructive object changes.
    pub fn destructive(&self) -> impl Iterator<Item = &ObjectChange> {
        self.objects
            .iter()
            .filter(|change| change.class == ChangeClass::Destructive)
    }

    /// The objects this render stops rendering (not those of earlier runs).
    pub fn newly_removed(&self) -> impl Iterator<Item = &ObjectChange> {
        self.objects
            .iter()
            .filter(|change| change.action == Action::Removed)
    }

    /// Counts per class, in class order, leaving out empty ones.
    #[must_use]
    pub fn class_counts(&self) -> Vec<(ChangeClass, usize)> {
        ChangeClass::ALL
            .iter()
            .map(|class| {
                (
                    *class,
                    self.objects.iter().filter(|c| c.class == *class).count(),
                )
            })
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// The human report (empty when nothing changes).
    #[must_use]
    pub fn to_text(&self, style: Style) -> String {
        text::report(self, style)
    }

    /// The machine-readable report (`diff --output json`).
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out =
            serde_json::to_string_pretty(&text::JsonReport::new(self)).unwrap_or_default();
        out.push('\n');
        out
    }
}

/// Compares what `rendered` would write with what the folder holds (`previous`), and completes
/// `rendered.apply_guide` with the sections that depend on it. With `scope` (a region id, as
/// `render --region` writes), only that region's objects are compared; top-level files always.
pub fn compare(previous: &Previous, rendered: &mut Rendered, scope: Option<&str>) -> Changes {
    compare_and_files(previous, rendered, scope).0
}

/// [`compare`], also returning every file of the output folder as [`Rendered::files`] gives it
/// after the comparison (with the completed `APPLY.md`), so a caller that writes them does not
/// serialize every object twice.
pub fn compare_and_files(
    previous: &Previous,
    rendered: &mut Rendered,
    scope: Option<&str>,
) -> (Changes, Vec<OutputFile>) {
    let mut files = rendered.files();
    let texts: BTreeMap<&str, &str> = files
        .iter()
        .map(|file| (file.path.as_str(), file.contents.as_str()))
        .collect();
    // The old outputs.json tells the old bootstrap phase, operator release and contexts; when it
    // is the new one, there is nothing in it to compare (and nothing to parse).
    let old_outputs = previous
        .files
        .get(OUTPUTS_JSON)
        .filter(|text| texts.get(OUTPUTS_JSON) != Some(&text.as_str()))
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .unwrap_or(Value::Null);
    let contexts = Contexts::new(rendered, &old_outputs);
    let in_scope = |region: &str| scope.is_none_or(|id| id == region);

    let mut objects = compare_objects(previous, rendered, &texts, &contexts, &in_scope);
    let order: BTreeMap<&str, usize> = rendered
        .regions
        .iter()
        .enumerate()
        .map(|(index, bundle)| (bundle.id.as_str(), index))
        .collect();
    objects.sort_by(|a, b| {
        let rank = |change: &ObjectChange| {
            (
                order
                    .get(change.object.region.as_str())
                    .copied()
                    .unwrap_or(usize::MAX),
                change.object.region.clone(),
                change.object.kind.clone(),
                change.object.name.clone(),
            )
        };
        rank(a).cmp(&rank(b))
    });

    let mut transitions = transitions(&old_outputs, rendered, &objects);
    for region in &contexts.moved {
        transitions.push(Transition::Context {
            region: region.clone(),
            from: contexts.old.get(region).cloned().unwrap_or_default(),
            to: contexts.new.get(region).cloned().unwrap_or_default(),
            what: format!(
                "region {region} moves from context {} to {}: everything is created anew there, and what runs in the old cluster stays until you delete it (APPLY.md, \"Removed objects\"); its FoundationDBCluster there is a new, empty datacenter",
                contexts.old.get(region).map_or("?", String::as_str),
                contexts.new.get(region).map_or("?", String::as_str)
            ),
        });
    }
    let removed = pending_removals(previous, rendered, &objects, &in_scope);
    let upgrade = transitions
        .iter()
        .find_map(|transition| match transition {
            Transition::FdbVersion { from, to, .. } => Some(Upgrade {
                from: from.clone(),
                to: to.clone(),
            }),
            _ => None,
        })
        .or_else(|| {
            previous
                .upgrade
                .clone()
                .filter(|upgrade| upgrade.to == rendered.plan.fdb_version.to_string())
        });
    drop(texts);
    guide::complete(rendered, upgrade.as_ref(), &removed);
    if let Some(guide) = files.iter_mut().find(|file| file.path == APPLY_MD) {
        guide.contents.clone_from(&rendered.apply_guide);
    }
    let side = text::side_files(previous, &files, &in_scope);
    let changes = Changes {
        transitions,
        objects,
        files: side,
        removed,
        upgrade,
    };
    (changes, files)
}

/// Each region's kubectl context and namespace, before (the old `outputs.json`) and now (the
/// plan), and the regions whose context changed.
struct Contexts {
    old: BTreeMap<String, String>,
    new: BTreeMap<String, String>,
    namespaces: BTreeMap<String, String>,
    moved: BTreeSet<String>,
}

impl Contexts {
    fn new(rendered: &Rendered, old_outputs: &Value) -> Self {
        let mut old = BTreeMap::new();
        let mut namespaces = BTreeMap::new();
        if let Some(regions) = old_outputs.get("regions").and_then(Value::as_object) {
            for (id, region) in regions {
                if let Some(context) = region.get("kubernetes_context").and_then(Value::as_str) {
                    old.insert(id.clone(), context.to_owned());
                }
                if let Some(namespace) = region.get("namespace").and_then(Value::as_str) {
                    namespaces.insert(id.clone(), namespace.to_owned());
                }
            }
        }
        let mut new = BTreeMap::new();
        for bundle in &rendered.regions {
            if let Some(context) = &bundle.context {
                new.insert(bundle.id.clone(), context.clone());
            }
            namespaces.insert(bundle.id.clone(), bundle.namespace.clone());
        }
        let moved = old
            .iter()
            .filter(|(id, context)| new.get(*id).is_some_and(|now| now != *context))
            .map(|(id, _)| id.clone())
            .collect();
        Self {
            old,
            new,
            namespaces,
            moved,
        }
    }

    /// Where the region's objects run now (else where they ran).
    fn of(&self, region: &str) -> Option<String> {
        self.new
            .get(region)
            .or_else(|| self.old.get(region))
            .cloned()
    }

    /// Where the region's objects in the folder run (before a move: the old context).
    fn before(&self, region: &str) -> Option<String> {
        self.old
            .get(region)
            .or_else(|| self.new.get(region))
            .cloned()
    }
}

/// What matches an object across renders.
type Key = (String, String, String, Option<String>, String);

/// The kinds infera-render writes, by the lowercase prefix of their file name, with their
/// apiVersion and whether they are namespaced: an unreadable file is known by its name.
const FILE_KINDS: [(&str, &str, bool); 18] = [
    (NAMESPACE, Namespace::API_VERSION, false),
    (CRD, CustomResourceDefinition::API_VERSION, false),
    (ServiceAccount::KIND, ServiceAccount::API_VERSION, true),
    (Secret::KIND, Secret::API_VERSION, true),
    (ConfigMap::KIND, ConfigMap::API_VERSION, true),
    (ClusterRole::KIND, ClusterRole::API_VERSION, false),
    (
        ClusterRoleBinding::KIND,
        ClusterRoleBinding::API_VERSION,
        false,
    ),
    (Role::KIND, Role::API_VERSION, true),
    (RoleBinding::KIND, RoleBinding::API_VERSION, true),
    (Service::KIND, Service::API_VERSION, true),
    (NetworkPolicy::KIND, NetworkPolicy::API_VERSION, true),
    (
        PodDisruptionBudget::KIND,
        PodDisruptionBudget::API_VERSION,
        true,
    ),
    (Deployment::KIND, Deployment::API_VERSION, true),
    (StatefulSet::KIND, StatefulSet::API_VERSION, true),
    (DaemonSet::KIND, DaemonSet::API_VERSION, true),
    (FDB_CLUSTER, FOUNDATIONDB_CLUSTER.api_version, true),
    (SERVICE_MONITOR.kind, SERVICE_MONITOR.api_version, true),
    (POD_MONITOR.kind, POD_MONITOR.api_version, true),
];

/// The object a file is named for (`<kind>-<name>.yaml`), when its kind is one of ours.
fn named_object(region: &str, file: &str, contexts: &Contexts) -> Option<ObjectRef> {
    let stem = file.strip_suffix(".yaml")?;
    FILE_KINDS
        .iter()
        .filter_map(|(kind, api_version, namespaced)| {
            let name = stem.strip_prefix(&format!("{}-", kind.to_ascii_lowercase()))?;
            Some((kind, api_version, namespaced, name))
        })
        .max_by_key(|(kind, ..)| kind.len())
        .map(|(kind, api_version, namespaced, name)| ObjectRef {
            region: region.to_owned(),
            context: contexts.before(region),
            api_version: (*api_version).to_owned(),
            kind: (*kind).to_owned(),
            namespace: namespaced
                .then(|| contexts.namespaces.get(region).cloned())
                .flatten(),
            name: name.to_owned(),
        })
}

/// An object file of a region folder (`<region>/<kind>-<name>.yaml`, not the kustomization).
fn object_file(path: &str) -> Option<(&str, &str)> {
    let (region, file) = path.split_once('/')?;
    (!file.contains('/') && file != "kustomization.yaml" && file.ends_with(".yaml"))
        .then_some((region, file))
}

fn compare_objects(
    previous: &Previous,
    rendered: &Rendered,
    texts: &BTreeMap<&str, &str>,
    contexts: &Contexts,
    in_scope: &dyn Fn(&str) -> bool,
) -> Vec<ObjectChange> {
    // New objects whose file differs from the old one (identical files are unchanged objects,
    // and are not parsed at all), except in a region that moves to another cluster: there
    // everything is new.
    let mut new: BTreeMap<Key, &RenderedObject> = BTreeMap::new();
    let mut new_paths: BTreeMap<String, Key> = BTreeMap::new();
    let mut identical: BTreeSet<String> = BTreeSet::new();
    for bundle in rendered
        .regions
        .iter()
        .filter(|bundle| in_scope(&bundle.id))
    {
        let moved = contexts.moved.contains(&bundle.id);
        for object in &bundle.objects {
            let path = format!("{}/{}", bundle.id, object.file_name());
            if !moved
                && previous.files.get(&path).map(String::as_str)
                    == texts.get(path.as_str()).copied()
            {
                identical.insert(path);
                continue;
            }
            let key = ObjectRef::of(object, None).key();
            new_paths.insert(path, key.clone());
            new.insert(key, object);
        }
    }

    let mut changes = Vec::new();
    let mut removed: BTreeMap<Key, ObjectRef> = BTreeMap::new();
    let mut seen: BTreeSet<Key> = BTreeSet::new();
    let unreadable = previous.unreadable.iter().map(|path| (path, None));
    let readable = previous.files.iter().map(|(path, text)| (path, Some(text)));
    for (path, contents) in readable.chain(unreadable) {
        let Some((region, file)) = object_file(path) else {
            continue;
        };
        if !in_scope(region) || identical.contains(path) {
            continue;
        }
        let old = contents.and_then(|text| parse_object(text, region));
        let Some(old) = old else {
            // Not one object any more (edited, not text, missing): known by its file name.
            if let Some(key) = new_paths
                .get(path)
                .filter(|_| !contexts.moved.contains(region))
                && let Some(object) = new.remove(&key.clone())
            {
                seen.insert(key.clone());
                let reason = classify::unreadable(&object.kind);
                changes.push(ObjectChange {
                    object: ObjectRef::of(object, contexts.of(region)),
                    action: Action::Changed,
                    class: reason.class,
                    reasons: vec![reason],
                    diff: String::new(),
                });
            } else if let Some(reference) = named_object(region, file, contexts) {
                removed.entry(reference.key()).or_insert(reference);
            }
            continue;
        };
        let reference = ObjectRef::of(&old, contexts.before(region));
        let key = reference.key();
        // Two files holding one object: the first one counts.
        if !seen.insert(key.clone()) {
            continue;
        }
        match new
            .remove(&key)
            .filter(|_| !contexts.moved.contains(region))
        {
            Some(object) => {
                let deltas = fields::deltas(&old.value, &object.value);
                if deltas.is_empty() {
                    continue;
                }
                let reasons = classify::changed(&object.kind, &deltas);
                changes.push(ObjectChange {
                    object: ObjectRef::of(object, contexts.of(region)),
                    action: Action::Changed,
                    class: top_class(&reasons),
                    reasons,
                    diff: text::object_diff(&old, object),
                });
            }
            None => {
                removed.insert(key, reference);
            }
        }
    }
    let removed_fdb_namespaces: BTreeSet<(String, Option<String>)> = removed
        .values()
        .filter(|reference| reference.kind == FDB_CLUSTER)
        .map(|reference| (reference.region.clone(), reference.namespace.clone()))
        .collect();
    for reference in removed.into_values() {
        let holds_fdb = removed_fdb_namespaces
            .contains(&(reference.region.clone(), Some(reference.name.clone())));
        let reason = classify::whole(&reference.kind, Action::Removed, holds_fdb);
        changes.push(ObjectChange {
            class: reason.class,
            reasons: vec![reason],
            object: reference,
            action: Action::Removed,
            diff: String::new(),
        });
    }
    for object in new.into_values() {
        let reason = classify::whole(&object.kind, Action::Added, false);
        changes.push(ObjectChange {
            class: reason.class,
            reasons: vec![reason],
            object: ObjectRef::of(object, contexts.of(&object.region)),
            action: Action::Added,
            diff: String::new(),
        });
    }
    note_renames(&mut changes);
    changes
}

/// An old object file read back (`None` when it is not one Kubernetes object).
fn parse_object(contents: &str, region: &str) -> Option<RenderedObject> {
    let mut documents = crate::integrations::manifests::parse_manifests(contents).ok()?;
    if documents.len() != 1 || !documents[0].is_object() {
        return None;
    }
    let mut object = RenderedObject::from_value(documents.remove(0));
    object.region = region.to_owned();
    Some(object)
}

fn top_class(reasons: &[Reason]) -> ChangeClass {
    reasons
        .iter()
        .map(|reason| reason.class)
        .max()
        .unwrap_or(ChangeClass::Safe)
}

/// A FoundationDBCluster removed and another added in the same region: a rename, said so on
/// both.
fn note_renames(changes: &mut [ObjectChange]) {
    let fdb = |change: &ObjectChange, action: Action| {
        change.action == action && change.object.kind == FDB_CLUSTER
    };
    let pairs: Vec<(usize, usize)> = changes
        .iter()
        .enumerate()
        .filter(|(_, change)| fdb(change, Action::Removed))
        .filter_map(|(old, removed)| {
            changes
                .iter()
                .position(|added| {
                    fdb(added, Action::Added) && added.object.region == removed.object.region
                })
                .map(|new| (old, new))
        })
        .collect();
    for (old, new) in pairs {
        let (old_name, new_name) = (
            changes[old].object.name.clone(),
            changes[new].object.name.clone(),
        );
        let (old_why, new_why) = if old_name == new_name {
            (
                format!(
                    "{old_name} moves to another Kubernetes cluster: the one in the old cluster keeps its data only as long as you keep it"
                ),
                "created anew in the region's new Kubernetes cluster: new process groups on new, empty volumes, while the database still counts the old cluster's processes, which have the same process group IDs".to_owned(),
            )
        } else {
            (
                format!(
                    "renamed to {new_name}: the operator builds {new_name}'s processes from scratch on new, empty volumes, and {old_name}'s volumes and data are deleted with it"
                ),
                format!(
                    "replaces {old_name} in this region (a rename): new process groups on new, empty volumes, while the database still counts {old_name}'s processes, which have the same process group IDs"
                ),
            )
        };
        changes[old]
            .reasons
            .push(Reason::whole(ChangeClass::Destructive, &old_why));
        changes[new]
            .reasons
            .push(Reason::whole(ChangeClass::Destructive, &new_why));
        changes[new].class = ChangeClass::Destructive;
    }
}

fn fdb_versions(changes: &[ObjectChange]) -> Vec<(&ObjectChange, &Reason)> {
    changes
        .iter()
        .filter(|change| change.object.kind == FDB_CLUSTER)
        .filter_map(|change| {
            change
                .reasons
                .iter()
                .find(|reason| reason.path == "spec.version")
                .map(|reason| (change, reason))
        })
        .collect()
}

fn transitions(
    old_outputs: &Value,
    rendered: &Rendered,
    objects: &[ObjectChange],
) -> Vec<Transition> {
    let mut out = Vec::new();
    let old_phase = old_outputs
        .pointer("/bootstrap/phase")
        .and_then(Value::as_u64)
        .and_then(|phase| u8::try_from(phase).ok());
    let new_phase = rendered.outputs.bootstrap.phase;
    if let (Some(from), Some(to)) = (old_phase, new_phase)
        && from != to
    {
        let joining = rendered
            .outputs
            .bootstrap
            .rendered_datacenters
            .len()
            .saturating_sub(1);
        let what = if to == 2 {
            format!(
                "bootstrap phase 1 → 2: {joining} more datacenter(s) join the database created in phase 1 through their seed connection string; the operator stages the change to the full region configuration (APPLY.md)"
            )
        } else {
            "bootstrap phase 2 → 1: no seed connection string was given, so only the bootstrap datacenter is rendered and the other datacenters' FoundationDBClusters would be removed; pass --seed-from (or --seed-connection-string) as for phase 2".to_owned()
        };
        out.push(Transition::Bootstrap { from, to, what });
    }
    let versions = fdb_versions(objects);
    if let Some((_, first)) = versions.first() {
        let text = |value: &Option<Value>| {
            value
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (from, to) = (text(&first.before), text(&first.after));
        let mut regions: Vec<String> = versions
            .iter()
            .map(|(change, _)| change.object.region.clone())
            .collect();
        regions.dedup();
        out.push(Transition::FdbVersion {
            what: format!(
                "FoundationDB {from} → {to} in {}: one upgrade of one database; apply every region's FoundationDBCluster together, as APPLY.md (\"Upgrading FoundationDB\") orders it",
                regions.join(", ")
            ),
            from,
            to,
            regions,
        });
    }
    let release = |outputs: &Value| -> Option<String> {
        outputs
            .get("fdb_operators")?
            .as_object()?
            .values()
            .find_map(|operator| operator.get("release_version")?.as_str().map(str::to_owned))
    };
    let new_release = rendered
        .outputs
        .fdb_operators
        .values()
        .next()
        .map(|operator| operator.release_version.clone());
    if let (Some(from), Some(to)) = (release(old_outputs), new_release)
        && from != to
    {
        let major = |version: &str| version.split('.').next().unwrap_or_default().to_owned();
        let unified = if major(&from) != major(&to)
            && objects.iter().any(|change| {
                change
                    .reasons
                    .iter()
                    .any(|reason| reason.path == "spec.imageType")
            }) {
            " The FoundationDB pods change image type (split → unified), so the operator replaces every one of them."
        } else {
            ""
        };
        out.push(Transition::OperatorVersion {
            what: format!(
                "the FDB operator {from} → {to}: install the new release's CRDs before the operator (APPLY.md, Steps).{unified}"
            ),
            from,
            to,
        });
    }
    out
}

/// Every object to list under "Removed objects": those removed now, and those of earlier runs
/// not rendered again.
fn pending_removals(
    previous: &Previous,
    rendered: &Rendered,
    objects: &[ObjectChange],
    in_scope: &dyn Fn(&str) -> bool,
) -> Vec<ObjectRef> {
    // Rendered again means: the same object, in the same cluster (a region that moved leaves
    // its objects behind in the old one).
    let rendered_now: BTreeSet<(Key, Option<String>)> = rendered
        .regions
        .iter()
        .flat_map(|bundle| {
            bundle
                .objects
                .iter()
                .map(move |object| (ObjectRef::of(object, None).key(), bundle.context.clone()))
        })
        .collect();
    let mut out: Vec<ObjectRef> = previous
        .removed
        .iter()
        .filter(|reference| {
            !rendered_now.contains(&(reference.key(), reference.context.clone()))
                || !in_scope(&reference.region)
        })
        .cloned()
        .collect();
    out.extend(
        objects
            .iter()
            .filter(|change| change.action == Action::Removed)
            .map(|change| change.object.clone()),
    );
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::FILE_KINDS;
    use infera_spec::{MultiRegionSpec, Region};

    /// Every kind a render writes is known by its file name (so an unreadable file of it is
    /// still listed as that object).
    #[test]
    fn every_rendered_kind_is_known_by_its_file_name() {
        let mut spec = MultiRegionSpec {
            regions: vec![Region::new("us-east-1", true, 1)],
            ..MultiRegionSpec::default()
        };
        spec.regions[0].pod_cidr = Some("10.10.0.0/16".to_owned());
        spec.tailscale.image = "tailscale/tailscale:v1.78.3".to_owned();
        spec.monitoring.create_service_monitors = true;
        spec.network_policies.enabled = true;
        let rendered = crate::render(&spec).expect("the spec renders");
        for object in rendered.regions.iter().flat_map(|bundle| &bundle.objects) {
            assert!(
                FILE_KINDS.iter().any(|(kind, ..)| *kind == object.kind),
                "{} is not in FILE_KINDS",
                object.kind
            );
        }
    }
}
