//! Control: WebAuthn, the master key Secret; the engine's identity Secret.

use super::k8s_values::check_secret_selector;
use super::path;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::syntax::names::dns_subdomain_problem;
use infera_spec::MultiRegionSpec;

pub(super) fn check_control(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
    let control = &spec.control;
    if spec.engine.enabled && !control.enabled {
        diagnostics.push(
            Diagnostic::warning(
                path().key("control").key("enabled"),
                "the engine runs without control: it has no mesh URL to fetch control's signing keys from, so it cannot verify tokens",
            )
            .with_help("enable control, or run it elsewhere and accept that the engine is unauthenticated"),
        );
    }
    if spec.engine.enabled {
        check_secret_selector(
            &path().key("engine").key("identity_secret"),
            &spec.engine.identity_secret,
            diagnostics,
        );
    }
    if !control.enabled {
        return;
    }
    let at = path().key("control");
    let webauthn = &control.webauthn;
    match &webauthn.party {
        None => diagnostics.push(
            Diagnostic::warning(
                at.clone().key("webauthn").key("party"),
                "control has no WebAuthn relying party, so passkey sign-in will not work",
            )
            .with_help("set control.webauthn.party (e.g. inferadb.example.com) and control.webauthn.origin (e.g. https://inferadb.example.com)"),
        ),
        Some(party) => {
            if let Some(problem) = dns_subdomain_problem(party) {
                diagnostics.error(at.clone().key("webauthn").key("party"), format!("{problem} (the relying-party id is a domain)"));
            }
        }
    }
    if let Some(origin) = &webauthn.origin {
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .map(|rest| rest.split([':', '/']).next().unwrap_or_default());
        match host {
            Some(host) if !host.is_empty() => {
                if let Some(party) = &webauthn.party
                    && host != party
                    && !host.ends_with(&format!(".{party}"))
                {
                    diagnostics.push(
                        Diagnostic::error(
                            at.clone().key("webauthn").key("origin"),
                            format!("the origin's host `{host}` is not `{party}` or a subdomain of it; browsers refuse such a relying party"),
                        )
                        .with_help("make webauthn.party the origin's domain (or a parent domain)"),
                    );
                }
            }
            _ => diagnostics.push(
                Diagnostic::error(
                    at.clone().key("webauthn").key("origin"),
                    format!("`{origin}` is not an origin"),
                )
                .with_help("write scheme and host, e.g. https://inferadb.example.com"),
            ),
        }
    }
    check_secret_selector(
        &at.key("master_key_secret"),
        &control.master_key_secret,
        diagnostics,
    );
}
