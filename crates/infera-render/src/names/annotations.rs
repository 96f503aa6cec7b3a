//! Annotation keys infera-render sets on the objects it renders.

/// On every `FoundationDBCluster`, every Namespace and every CRD given with `--crds-dir`: the
/// annotations that stop the GitOps tools from deleting it when it leaves the output (a region
/// dropped, a cluster renamed). Deleting a cluster deletes its volumes, since the operator makes
/// it the owner of its PVCs, and deleting its Namespace or CRD deletes the cluster, so removing
/// one is always a person's decision (`kubectl delete`), never a sync's.
/// - Argo CD: `Prune=false` skips it when it is no longer in Git, `Delete=false` keeps it when
///   the Application is deleted; options in one annotation are joined with `,`
///   (argo-cd:docs/user-guide/sync-options.md, "No Prune Resources", "No Resource Deletion").
/// - Flux: `kustomize.toolkit.fluxcd.io/prune: disabled` excludes it from garbage collection
///   (flux2 kustomize-controller docs, "Prune").
pub const PRUNE_PROTECTION: [(&str, &str); 2] = [
    (
        "argocd.argoproj.io/sync-options",
        "Prune=false,Delete=false",
    ),
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
];

/// Added by the Helm post-renderer: Helm keeps an object with this annotation on
/// `helm uninstall` and when an upgrade no longer renders it (helm docs, "Tell Helm Not To
/// Uninstall a Resource"). Only in post-render mode, on clusters and CRDs (Helm owns the release
/// namespace): outside Helm it means nothing.
pub const HELM_KEEP: (&str, &str) = ("helm.sh/resource-policy", "keep");

/// checkov's skip annotation, numbered (`checkov.io/skip1`, ...): its value is
/// `<check id>=<reason>` (checkov docs, "Suppressing/Skipping", Kubernetes).
pub const CHECKOV_SKIP: &str = "checkov.io/skip";

/// kube-linter's ignore annotation, followed by the check's name; its value is the reason
/// (stackrox/kube-linter@v0.8.3:docs/configuring-kubelinter.md:102-114).
pub const KUBE_LINTER_IGNORE: &str = "ignore-check.kube-linter.io/";
