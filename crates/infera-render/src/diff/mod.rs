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

use crate::render::{OutputFile, Rendered, RenderedObject};

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
            removed: Vec::new(),
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
    fn key(&self) -> (&str, &str, &str, Option<&str>, &str) {
        (
            &self.region,
            self.group(),
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
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
    /// The old value, short (`None`: absent, or hidden for Secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The new value, short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
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
                    "(hidden)".to_owned()
                } else {
                    text::short(value)
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

    let transitions = transitions(&old_outputs, rendered, &objects);
    let removed = pending_removals(previous, rendered, &objects, &in_scope);
    drop(texts);
    guide::complete(rendered, &transitions, &removed);
    if let Some(guide) = files.iter_mut().find(|file| file.path == APPLY_MD) {
        guide.contents.clone_from(&rendered.apply_guide);
    }
    let side = text::side_files(previous, &files, &in_scope);
    let changes = Changes {
        transitions,
        objects,
        files: side,
        removed,
    };
    (changes, files)
}

/// The kubectl context of each region: from the plan, else from the old `outputs.json`.
struct Contexts(BTreeMap<String, String>);

impl Contexts {
    fn new(rendered: &Rendered, old_outputs: &Value) -> Self {
        let mut map = BTreeMap::new();
        if let Some(regions) = old_outputs.get("regions").and_then(Value::as_object) {
            for (id, region) in regions {
                if let Some(context) = region.get("kubernetes_context").and_then(Value::as_str) {
                    map.insert(id.clone(), context.to_owned());
                }
            }
        }
        for bundle in &rendered.regions {
            if let Some(context) = &bundle.context {
                map.insert(bundle.id.clone(), context.clone());
            }
        }
        Self(map)
    }

    fn of(&self, region: &str) -> Option<String> {
        self.0.get(region).cloned()
    }
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
    // and are not parsed at all).
    let mut new: BTreeMap<(String, String, String, Option<String>, String), &RenderedObject> =
        BTreeMap::new();
    let mut identical: BTreeSet<String> = BTreeSet::new();
    for bundle in rendered
        .regions
        .iter()
        .filter(|bundle| in_scope(&bundle.id))
    {
        for object in &bundle.objects {
            let path = format!("{}/{}", bundle.id, object.file_name());
            if previous.files.get(&path).map(String::as_str) == texts.get(path.as_str()).copied() {
                identical.insert(path);
                continue;
            }
            let reference = ObjectRef::of(object, None);
            let (region, group, kind, namespace, name) = reference.key();
            new.insert(
                (
                    region.to_owned(),
                    group.to_owned(),
                    kind.to_owned(),
                    namespace.map(str::to_owned),
                    name.to_owned(),
                ),
                object,
            );
        }
    }

    let mut changes = Vec::new();
    let mut removed_fdb_namespaces: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    let mut removed = Vec::new();
    for (path, contents) in &previous.files {
        let Some((region, _)) = object_file(path) else {
            continue;
        };
        if !in_scope(region) {
            continue;
        }
        if identical.contains(path) {
            continue;
        }
        let Some(old) = parse_object(contents, region) else {
            continue;
        };
        let reference = ObjectRef::of(&old, contexts.of(region));
        let (r, g, k, n, m) = reference.key();
        let key = (
            r.to_owned(),
            g.to_owned(),
            k.to_owned(),
            n.map(str::to_owned),
            m.to_owned(),
        );
        match new.remove(&key) {
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
                if old.kind == "FoundationDBCluster" {
                    removed_fdb_namespaces.insert((old.region.clone(), old.namespace.clone()));
                }
                removed.push(reference);
            }
        }
    }
    for reference in removed {
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
        change.action == action && change.object.kind == "FoundationDBCluster"
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
        changes[old].reasons.push(Reason::whole(
            ChangeClass::Destructive,
            &format!("renamed to {new_name}: the operator builds {new_name}'s processes from scratch on new, empty volumes, and {old_name}'s volumes and data are deleted with it"),
        ));
        changes[new].reasons.push(Reason::whole(
            ChangeClass::Destructive,
            &format!("replaces {old_name} in this region (a rename): new process groups on new, empty volumes, while the database still counts {old_name}'s processes, which have the same process group IDs"),
        ));
        changes[new].class = ChangeClass::Destructive;
    }
}

fn fdb_versions(changes: &[ObjectChange]) -> Vec<(&ObjectChange, &Reason)> {
    changes
        .iter()
        .filter(|change| change.object.kind == "FoundationDBCluster")
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
        let from = first
            .before
            .clone()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        let to = first
            .after
            .clone()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
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
    let rendered_now: BTreeSet<_> = rendered
        .regions
        .iter()
        .flat_map(|bundle| bundle.objects.iter())
        .map(|object| {
            let reference = ObjectRef::of(object, None);
            let (r, g, k, n, m) = reference.key();
            (
                r.to_owned(),
                g.to_owned(),
                k.to_owned(),
                n.map(str::to_owned),
                m.to_owned(),
            )
        })
        .collect();
    let mut out: Vec<ObjectRef> = previous
        .removed
        .iter()
        .filter(|reference| {
            let (r, g, k, n, m) = reference.key();
            !rendered_now.contains(&(
                r.to_owned(),
                g.to_owned(),
                k.to_owned(),
                n.map(str::to_owned),
                m.to_owned(),
            )) || !in_scope(r)
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
