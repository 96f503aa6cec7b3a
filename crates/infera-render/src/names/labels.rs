//! Label keys infera-render sets. The spec's `labels` may not use the keys it selects on or
//! marks its objects with ([`is_reserved`]); the other `app.kubernetes.io/` keys are the user's,
//! and a user's value replaces infera-render's (`part-of`).

/// `app.kubernetes.io/name`: what the object is (e.g. `fdb-kubernetes-operator`).
pub const NAME: &str = "app.kubernetes.io/name";
/// `app.kubernetes.io/instance`: which instance (the namespace-qualified deployment).
pub const INSTANCE: &str = "app.kubernetes.io/instance";
/// `app.kubernetes.io/component`: its role (`operator`, `database`, `engine`, ...).
pub const COMPONENT: &str = "app.kubernetes.io/component";
/// `app.kubernetes.io/part-of`: `inferadb`, unless the spec's `labels` set it.
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

/// The label key prefixes infera-render keeps wholly (its bookkeeping, and the FDB operator's).
pub const RESERVED_PREFIXES: [&str; 2] = ["infera.dev/", "foundationdb.org/"];

/// The `app.kubernetes.io/` keys infera-render keeps: `name` and `instance` are in every
/// selector (Deployment selectors are immutable), `component` tells its objects apart, and
/// `managed-by` marks them as its own.
pub const RESERVED_KEYS: [&str; 4] = [NAME, INSTANCE, COMPONENT, MANAGED_BY];

/// Whether the spec's `labels` may not set `key`.
#[must_use]
pub fn is_reserved(key: &str) -> bool {
    RESERVED_KEYS.contains(&key)
        || RESERVED_PREFIXES
            .iter()
            .any(|prefix| key.starts_with(prefix))
}
