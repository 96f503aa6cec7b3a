//! RBAC building blocks, in one place because their shape differs between Kubernetes API
//! versions (`RoleRef.apiGroup` is optional from 1.36 on): the library compiles against whichever
//! k8s-openapi version an embedder selects (docs/integrations.md §4).

use k8s_openapi::api::rbac::v1::{RoleRef, Subject};

/// A reference to a `Role` or `ClusterRole`.
pub(crate) fn role_ref(kind: &str, name: &str) -> RoleRef {
    let api_group = "rbac.authorization.k8s.io".to_owned();
    k8s_openapi::k8s_if_ge_1_36! { let api_group = Some(api_group); }
    RoleRef {
        api_group,
        kind: kind.to_owned(),
        name: name.to_owned(),
    }
}

/// A ServiceAccount as a binding's subject.
pub(crate) fn service_account(name: &str, namespace: &str) -> Subject {
    Subject {
        kind: "ServiceAccount".to_owned(),
        name: name.to_owned(),
        namespace: Some(namespace.to_owned()),
        ..Subject::default()
    }
}
