//! The binary's tests, in one binary: every command and exit code (`cli`), every example
//! through the CLI into the goldens (`examples`, `render`), the bad-input corpus
//! (`bad_input`), the integrations with the real kustomize and Helm (`integrations`), the output
//! folder's safety (`output_safety`), killed, interrupted and concurrent renders
//! (`interrupted`) and the secrets scan over every mode (`secrets`).
//! `common` holds what they share.

mod argocd;
mod argocd_health;
mod bad_input;
mod cli;
mod common;
mod diff;
mod examples;
mod import_terraform;
mod integrations;
mod interrupted;
mod output_safety;
mod render;
mod scanners;
mod secrets;
