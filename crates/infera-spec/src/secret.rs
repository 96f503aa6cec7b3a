//! A string that must never be printed by accident.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret value from the spec (a Tailscale auth key, a kubeconfig token).
///
/// `Debug` and `Display` print `[redacted]`; only [`SecretString::expose`] gives the value, so
/// every place that writes a secret is visible in the code. It serializes as the plain string, so
/// a spec round-trips.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Call this only where the value is meant to be written.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty (the Terraform module's default for `tailscale.auth_key`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::SecretString;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = SecretString::new("tskey-auth-abc");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
        assert_eq!(secret.expose(), "tskey-auth-abc");
    }
}
