//! Tailscale: region ids that fit device names, the image, the credential Secrets and an
//! inline key.

use super::Inputs;
use super::path;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::names::budgets::TAILSCALE_REGION_ID_MAX;
use crate::syntax::image::parse_image;
use crate::syntax::names::dns_subdomain_problem;
use crate::syntax::version::Version;
use crate::upstream::CONTAINERBOOT_1_78;
use infera_spec::{MultiRegionSpec, TailscaleCredentials};
use std::collections::BTreeSet;

pub(super) fn check_tailscale(
    spec: &MultiRegionSpec,
    inputs: &Inputs<'_>,
    diagnostics: &mut Diagnostics,
) {
    let tailscale = &spec.tailscale;
    if !tailscale.enabled {
        return;
    }
    let at = path().key("tailscale");
    if spec.regions.len() > 1 {
        for (index, region) in spec.regions.iter().enumerate() {
            if region.pod_cidr.is_none() {
                diagnostics.push(
                    Diagnostic::warning(
                        path().key("regions").index(index).key("pod_cidr"),
                        format!(
                            "Tailscale is enabled across regions, but region {} has no pod_cidr: FoundationDB advertises pod IPs, so cross-region FoundationDB traffic cannot be routed to or from this region",
                            region.id
                        ),
                    )
                    .with_help("set pod_cidr to the cluster's pod network (e.g. 10.10.0.0/16); each region's Tailscale subnet router advertises it"),
                );
            }
        }
    }
    for (index, region) in spec.regions.iter().enumerate() {
        if region.id.len() > TAILSCALE_REGION_ID_MAX {
            diagnostics.push(
                Diagnostic::error(
                    path().key("regions").index(index).key("id"),
                    format!(
                        "`{}` is {} characters; with Tailscale, device names `<region>-<pod name>` must fit a 63-character DNS label, so region ids may have at most {TAILSCALE_REGION_ID_MAX}",
                        region.id,
                        region.id.len()
                    ),
                )
                .with_help("use a shorter region id (the cloud's region code, e.g. `us-west-1`)"),
            );
        }
    }
    match parse_image(&tailscale.image) {
        Err(problem) => diagnostics.error(at.clone().key("image"), problem),
        Ok(image) if !image.is_pinned() => diagnostics.push(
            Diagnostic::warning(
                at.clone().key("image"),
                format!("`{}` is not pinned to a version", tailscale.image),
            )
            .with_help("pin a tag such as `tailscale/tailscale:v1.78.3`, so every pod and every run gets the same image"),
        ),
        Ok(image) => {
            if let Some(version) = image.tag.and_then(|tag| tag.strip_prefix('v')).and_then(Version::parse)
                && version < CONTAINERBOOT_1_78
            {
                diagnostics.push(
                    Diagnostic::warning(
                        at.clone().key("image"),
                        format!(
                            "Tailscale {version} predates {CONTAINERBOOT_1_78}: its containerboot serves no /healthz, so the sidecars and routers get no startup or liveness probe"
                        ),
                    )
                    .with_help("pin tailscale/tailscale:v1.78.3 or newer"),
                );
            }
        }
    }
    if let Some(problem) = dns_subdomain_problem(&tailscale.secret_name) {
        diagnostics.error(at.clone().key("secret_name"), problem);
    }
    let key_ok = !tailscale.secret_key.is_empty()
        && tailscale.secret_key.len() <= 253
        && tailscale
            .secret_key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !key_ok {
        diagnostics.error(
            at.clone().key("secret_key"),
            format!(
                "`{}` is not a valid Secret key: use letters, digits, '-', '_' and '.'",
                tailscale.secret_key
            ),
        );
    }
    if !(1..=10).contains(&tailscale.router_replicas) {
        diagnostics.error(
            at.clone().key("router_replicas"),
            format!(
                "must be between 1 and 10, found {}",
                tailscale.router_replicas
            ),
        );
    }
    check_inline_auth_key(spec, inputs, diagnostics);
    check_shared_key(spec, diagnostics);
}

/// An inline key may only become a Secret with `--allow-plaintext-secrets`, and only as an OAuth
/// client secret or as the one shared key (docs/inferadb-and-tailscale.md §2.5, §7, item 12):
/// with per-workload keys one inline key would silently give every workload the same tags. The
/// key itself never appears in a message.
pub(super) fn check_inline_auth_key(
    spec: &MultiRegionSpec,
    inputs: &Inputs<'_>,
    diagnostics: &mut Diagnostics,
) {
    let tailscale = &spec.tailscale;
    let Some(key) = tailscale.inline_key() else {
        return;
    };
    let at = path().key("tailscale").key("auth_key");
    let namespaces: BTreeSet<&str> = spec
        .regions
        .iter()
        .map(|region| region.namespace.as_str())
        .collect();
    let namespace = namespaces.iter().next().copied().unwrap_or("inferadb");
    let create_it = format!(
        "better: remove auth_key and create the Secret in every region: `kubectl -n {namespace} create secret generic {} --from-literal={}=<the key>`",
        tailscale.secret_name, tailscale.secret_key
    );
    match tailscale.effective_credentials() {
        TailscaleCredentials::PerWorkloadKeys => diagnostics.push(
            Diagnostic::error(
                at,
                "with credentials: per_workload_keys an inline key would be shared by every workload, so they would all carry its tags and the tailnet policy could not tell FoundationDB from engine, control or the routers",
            )
            .with_help(format!(
                "remove auth_key and create one Secret per workload in every region, e.g. `kubectl -n {namespace} create secret generic {name}-fdb --from-literal={key_name}=<key tagged tag:inferadb-fdb>` (and {name}-engine, {name}-control, {name}-router); or set tailscale.credentials: oauth_client and use an OAuth client secret; or, to keep the Terraform module's one key while you migrate, set tailscale.credentials: shared_key",
                name = tailscale.secret_name,
                key_name = tailscale.secret_key,
            )),
        ),
        TailscaleCredentials::OauthClient if !key.expose().starts_with("tskey-client-") => diagnostics.push(
            Diagnostic::error(
                at,
                "with credentials: oauth_client, auth_key must be an OAuth client secret (it starts with `tskey-client-`); the value is not one (not shown)",
            )
            .with_help("create an OAuth client with the auth_keys scope and tag:inferadb-provisioner in the Tailscale admin console"),
        ),
        TailscaleCredentials::SharedKey if key.expose().starts_with("tskey-client-") => diagnostics.push(
            Diagnostic::error(
                at,
                "auth_key is an OAuth client secret (`tskey-client-...`), not an auth key: as the shared key every pod would log in with the client secret itself",
            )
            .with_help("set tailscale.credentials: oauth_client, so each workload mints its own key with its own tag"),
        ),
        TailscaleCredentials::OauthClient | TailscaleCredentials::SharedKey
            if !inputs.allow_plaintext_secrets =>
        {
            diagnostics.push(
                Diagnostic::error(
                    at,
                    "the credential is inline; infera-render writes secrets into the output only with --allow-plaintext-secrets (into the Secret, nowhere else)",
                )
                .with_help(create_it),
            );
        }
        TailscaleCredentials::OauthClient | TailscaleCredentials::SharedKey => {}
    }
    if tailscale.credentials.is_none()
        && tailscale.effective_credentials() == TailscaleCredentials::SharedKey
    {
        diagnostics.push(
            Diagnostic::warning(
                path().key("tailscale").key("credentials"),
                "an inline auth_key with credentials unset is taken as credentials: shared_key, one key for every workload, as the Terraform module used it",
            )
            .with_help("set tailscale.credentials: shared_key to say so, or move to per_workload_keys (the default) or oauth_client"),
        );
    }
}

/// The shared key's tag, and what sharing one key costs.
pub(super) fn check_shared_key(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
    let tailscale = &spec.tailscale;
    let at = path().key("tailscale");
    if tailscale.effective_credentials() != TailscaleCredentials::SharedKey {
        if tailscale.shared_tag.is_some() {
            diagnostics.push(
                Diagnostic::warning(
                    at.key("shared_tag"),
                    format!(
                        "shared_tag has no effect with credentials: {}: every workload has its own tag",
                        tailscale.effective_credentials().as_str()
                    ),
                )
                .with_help("remove shared_tag, or set tailscale.credentials: shared_key"),
            );
        }
        return;
    }
    let tag = tailscale.effective_shared_tag();
    if let Some(problem) = tag_problem(tag) {
        diagnostics.error(at.clone().key("shared_tag"), problem);
    }
    diagnostics.push(
        Diagnostic::warning(
            at.key("credentials"),
            format!(
                "shared_key: every pod logs in with one key and carries {tag}, so the tailnet policy cannot tell FoundationDB from engine, control or the routers, and a pod of any region could advertise any region's pod CIDR"
            ),
        )
        .with_help("when you can, create one key per workload (credentials: per_workload_keys) or an OAuth client (credentials: oauth_client); APPLY.md lists the Secrets"),
    );
}

/// Why `tag` is not a Tailscale tag: `tag:` and a name of letters, digits and dashes that
/// starts with a letter (tailscale@v1.78.3:tailcfg/tailcfg.go:635-655, `CheckTag`).
fn tag_problem(tag: &str) -> Option<String> {
    let name = tag.strip_prefix("tag:").unwrap_or_default();
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (!valid).then(|| {
        format!("`{tag}` is not a Tailscale tag: `tag:` and a name of letters, digits and dashes that starts with a letter (e.g. tag:inferadb)")
    })
}
