//! Local CustomResourceDefinition files (`render --crds-dir`) added to each bundle that runs the
//! operator, instead of installing the CRDs from the operator's release URL.

use super::object::RenderedObject;
use serde_json::Value;

/// The release URL of one of the operator's CRDs, pinned to the operator version.
#[must_use]
pub fn crd_url(operator_version: &crate::Version, kind_plural: &str) -> String {
    format!(
        "https://raw.githubusercontent.com/FoundationDB/fdb-kubernetes-operator/v{operator_version}/config/crd/bases/apps.foundationdb.org_{kind_plural}.yaml"
    )
}

/// The three CRDs the operator needs.
pub const CRD_PLURALS: [&str; 3] = [
    "foundationdbclusters",
    "foundationdbbackups",
    "foundationdbrestores",
];

/// CRDs read from YAML text: every document must be an `apiextensions.k8s.io/v1`
/// CustomResourceDefinition.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CrdSet {
    crds: Vec<RenderedObject>,
}

impl CrdSet {
    /// Adds every CRD document of one file.
    ///
    /// # Errors
    /// A message when the text is not YAML or holds something other than CRDs.
    pub fn add_yaml(&mut self, text: &str) -> Result<(), String> {
        let mut options = serde_saphyr::Options::default();
        options.budget = None;
        let documents: Vec<Value> =
            serde_saphyr::from_str_multiple_with_options::<Value, Vec<_>>(text, options)
                .map_err(|error| format!("not valid YAML: {error}"))?;
        if documents.is_empty() {
            return Err("holds no document".to_owned());
        }
        for document in documents {
            let object = RenderedObject::from_value(document);
            if object.kind != "CustomResourceDefinition"
                || object.api_version != "apiextensions.k8s.io/v1"
            {
                return Err(format!(
                    "holds a {} {} `{}`, not an apiextensions.k8s.io/v1 CustomResourceDefinition",
                    object.api_version, object.kind, object.name
                ));
            }
            if object.name.is_empty() {
                return Err("holds a CustomResourceDefinition without metadata.name".to_owned());
            }
            if !self.crds.iter().any(|known| known.name == object.name) {
                self.crds.push(object);
            }
        }
        self.crds.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(())
    }

    /// Whether no CRD was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.crds.is_empty()
    }

    /// The CRDs, sorted by name.
    pub(crate) fn objects(&self) -> &[RenderedObject] {
        &self.crds
    }

    /// Names of the operator's CRDs that are missing from the set.
    #[must_use]
    pub fn missing_operator_crds(&self) -> Vec<String> {
        CRD_PLURALS
            .iter()
            .map(|plural| format!("{plural}.apps.foundationdb.org"))
            .filter(|name| !self.crds.iter().any(|crd| &crd.name == name))
            .collect()
    }
}
