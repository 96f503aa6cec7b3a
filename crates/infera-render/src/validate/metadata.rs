//! The envelope's metadata: a valid Kubernetes object's, since kustomize and kpt treat the spec
//! as one.

use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::syntax::names::{
    dns_label_problem, dns_subdomain_problem, label_key_problem, label_value_problem,
};
use infera_spec::Metadata;

/// The envelope's metadata must be a valid Kubernetes object's: kustomize and kpt treat the spec
/// as one.
pub(crate) fn check_metadata(metadata: &Metadata) -> Diagnostics {
    let at = FieldPath::root().key("metadata");
    let mut diagnostics = Diagnostics::new();
    if let Some(problem) = dns_subdomain_problem(&metadata.name) {
        diagnostics.push(
            Diagnostic::error(at.clone().key("name"), problem)
                .with_help("the spec is a Kubernetes-style object; its name is a DNS subdomain such as `inferadb`"),
        );
    }
    if let Some(problem) = metadata.namespace.as_deref().and_then(dns_label_problem) {
        diagnostics.error(at.clone().key("namespace"), problem);
    }
    for (key, value) in &metadata.labels {
        let entry = at.clone().key("labels").key(key.clone());
        if let Some(problem) = label_key_problem(key).or_else(|| label_value_problem(value)) {
            diagnostics.error(entry, problem);
        }
    }
    for key in metadata.annotations.keys() {
        if let Some(problem) = label_key_problem(key) {
            diagnostics.error(at.clone().key("annotations").key(key.clone()), problem);
        }
    }
    diagnostics
}
