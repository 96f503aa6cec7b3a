//! The pipeline every front end runs: a parsed [`Document`] is planned here, with its
//! diagnostics placed in the document (the body's path prefix and source positions), so the
//! CLI, the kustomize plugin, the KRM function and the post-renderer cannot forget to.

use crate::diagnostics::Diagnostics;
use crate::plan::{Plan, PlanOptions, plan};
use crate::source::Document;

impl Document {
    /// Checks every rule of the document's spec and resolves it into a [`Plan`]; the errors,
    /// or the plan's warnings, are placed in this document ([`Document::locate`]).
    ///
    /// ```
    /// let text = "regions:\n  - {id: us-east-1, is_primary: true, priority: 1}\nfdb_version: '7.3'\n";
    /// let document = infera_render::parse_document(text.as_bytes())?;
    /// let errors = document.plan(&Default::default()).expect_err("7.3 is not a version");
    /// let error = errors
    ///     .iter()
    ///     .find(|d| d.severity == infera_render::Severity::Error)
    ///     .expect("one error");
    /// assert_eq!(error.path.to_string(), "fdb_version");
    /// assert_eq!(error.position.map(|p| p.line), Some(3));
    /// # Ok::<(), infera_render::Diagnostics>(())
    /// ```
    ///
    /// # Errors
    /// Every error (and warning) when the spec breaks at least one rule.
    pub fn plan(&self, options: &PlanOptions) -> Result<Plan, Diagnostics> {
        match plan(&self.spec, options) {
            Ok(mut plan) => {
                plan.warnings = self.locate(std::mem::take(&mut plan.warnings));
                Ok(plan)
            }
            Err(diagnostics) => Err(self.locate(diagnostics)),
        }
    }
}
