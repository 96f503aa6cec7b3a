//! Label keys infera-render sets. The spec's `labels` may not use these prefixes
//! (`infera.dev/`, `app.kubernetes.io/`, `foundationdb.org/`), so none is ever overridden.

/// `app.kubernetes.io/name`: what the object is (e.g. `fdb-kubernetes-operator`).
pub const NAME: &str = "app.kubernetes.io/name";
/// `app.kubernetes.io/instance`: which instance (the namespace-qualified deployment).
pub const INSTANCE: &str = "app.kubernetes.io/instance";
/// `app.kubernetes.io/component`: its role (`operator`, `database`, `engine`, ...).
pub const COMPONENT: &str = "app.kubernetes.io/component";
/// `app.kubernetes.io/part-of`: always `inferadb`.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// `app.kubernetes.io/managed-by`: always `infera-render`.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// `infera.dev/region`: the spec region the object belongs to.
pub const REGION: &str = "infera.dev/region";
/// `infera.dev/service`: on the engine's and control's Services, `main` or `headless`, so a
/// ServiceMonitor can select the main Service alone (the headless one selects the same pods).
pub const SERVICE: &str = "infera.dev/service";
/// The value of [`SERVICE`] on an app's main Service.
pub const MAIN_SERVICE: &str = "main";
/// The value of [`SERVICE`] on the engine's headless Service.
pub const HEADLESS_SERVICE: &str = "headless";

/// The label key prefixes infera-render sets itself (selectors and bookkeeping); the spec's
/// `labels` may not use them.
pub const RESERVED_PREFIXES: [&str; 3] = ["infera.dev/", "foundationdb.org/", "app.kubernetes.io/"];
