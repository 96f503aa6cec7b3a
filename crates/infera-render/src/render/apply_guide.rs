//! `APPLY.md`: the ordered, per-context steps to apply the output, including the FoundationDB
//! bootstrap phases (docs/fdb-multi-region.md §2.4).

use super::crds::{CRD_PLURALS, crd_url};
use super::fdb_cluster::rendered_datacenters;
use super::inferadb::rendered_apps;
use super::tailscale_names::{ROUTER_NAME, Workload, credential_secret};
use super::{RegionBundle, RenderOptions};
use crate::plan::{Bootstrap, Plan, RegionRole};
use infera_spec::TailscaleCredentials;
use std::fmt::Write;

/// `kubectl` with the region's context (and kubeconfig, when the spec names one).
pub(crate) fn kubectl(plan: &Plan, region: usize) -> String {
    let target = &plan.region_spec(region).kubernetes;
    let mut command = "kubectl".to_owned();
    if let Some(path) = &target.config_path {
        command.push_str(&format!(" --kubeconfig {path}"));
    }
    if let Some(context) = &target.config_context {
        command.push_str(&format!(" --context {context}"));
    }
    command
}

/// The command that prints a datacenter's connection string.
pub(crate) fn connection_string_command(plan: &Plan, region: usize, resource_name: &str) -> String {
    format!(
        "{} -n {} get foundationdbcluster {resource_name} -o jsonpath='{{.status.connectionString}}'",
        kubectl(plan, region),
        plan.region_spec(region).namespace
    )
}

fn fence(out: &mut String, lines: &[String]) {
    out.push_str("```sh\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("```\n\n");
}

/// Regions in apply order: those with datacenters first (by rank), then the others.
fn apply_order(plan: &Plan) -> Vec<usize> {
    let mut order: Vec<usize> = plan
        .regions_by_rank()
        .iter()
        .map(|region| region.index)
        .collect();
    order.sort_by_key(|&index| {
        (
            plan.regions[index].datacenters.is_empty(),
            plan.regions[index].rank,
        )
    });
    order
}

fn region_steps(
    out: &mut String,
    plan: &Plan,
    options: &RenderOptions,
    bundle: &RegionBundle,
    index: usize,
    rendered: &[usize],
) {
    let region = &plan.regions[index];
    let spec_region = plan.region_spec(index);
    let kubectl = kubectl(plan, index);
    let context = spec_region
        .kubernetes
        .config_context
        .as_deref()
        .unwrap_or("the current context");
    let role = match region.role {
        RegionRole::FdbRegion(0) => "active FoundationDB region",
        RegionRole::FdbRegion(_) => "DR FoundationDB region",
        RegionRole::Satellite => "satellite site",
        RegionRole::Client => "client region",
    };
    let _ = writeln!(out, "### {} ({role}; context `{context}`)\n", region.id);
    let runs_operator = !region.datacenters.is_empty();
    if runs_operator {
        if options.crds.is_empty() {
            out.push_str(&format!(
                "1. Install the operator's CRDs (once per cluster, pinned to operator v{}):\n\n",
                plan.operator_version
            ));
            let lines: Vec<String> = CRD_PLURALS
                .iter()
                .map(|plural| {
                    format!(
                        "{kubectl} apply --server-side -f {}",
                        crd_url(&plan.operator_version, plural)
                    )
                })
                .collect();
            fence(out, &lines);
        } else {
            out.push_str("1. Install the CRDs from this bundle first, and wait until they are established:\n\n");
            fence(
                out,
                &[
                    format!(
                        "{kubectl} apply --server-side -f {}/customresourcedefinition-*.yaml",
                        region.id
                    ),
                    format!(
                        "{kubectl} wait --for condition=established --timeout=60s -f {}/",
                        region.id
                    ),
                ],
            );
        }
    }
    let datacenters: Vec<usize> = region
        .datacenters
        .iter()
        .copied()
        .filter(|index| rendered.contains(index))
        .collect();
    let mut parts = vec!["the namespace".to_owned()];
    if runs_operator {
        parts.push("the operator".to_owned());
    }
    if !datacenters.is_empty() {
        let names: Vec<String> = datacenters
            .iter()
            .map(|&dc| format!("`{}`", plan.datacenters[dc].resource_name))
            .collect();
        parts.push(format!("FoundationDBCluster {}", names.join(", ")));
    }
    for app in rendered_apps(plan, index) {
        parts.push(app.name().to_owned());
    }
    if bundle
        .objects
        .iter()
        .any(|object| object.name == ROUTER_NAME)
    {
        parts.push("the Tailscale subnet router".to_owned());
    }
    let mut contents = parts.join(", ");
    if runs_operator && datacenters.is_empty() {
        contents.push_str("; its datacenters come in phase 2");
    }
    let enabled_apps = plan.spec.engine.enabled || plan.spec.control.enabled;
    if enabled_apps && rendered_apps(plan, index).is_empty() {
        contents.push_str("; engine and control follow once the connection string is known");
    }
    let _ = writeln!(
        out,
        "{}. Apply the bundle ({contents}):\n",
        if runs_operator { 2 } else { 1 }
    );
    fence(
        out,
        &[format!("{kubectl} apply --server-side -k {}/", region.id)],
    );
    if !datacenters.is_empty() {
        out.push_str("3. Wait until the operator reports the database available (the first reconciliation takes minutes):\n\n");
        let lines: Vec<String> = datacenters
            .iter()
            .map(|&dc| {
                format!(
                    "{kubectl} -n {} wait foundationdbcluster/{} --for=jsonpath='{{.status.health.available}}'=true --timeout=30m",
                    spec_region.namespace, plan.datacenters[dc].resource_name
                )
            })
            .collect();
        fence(out, &lines);
    }
}

/// The Secrets to create before applying (never rendered: they are referenced).
fn prerequisites(out: &mut String, plan: &Plan) {
    let spec = &plan.spec;
    let tailscale = &spec.tailscale;
    let mut secrets: Vec<(String, String, String)> = Vec::new();
    if tailscale.enabled {
        let inline = tailscale
            .auth_key
            .as_ref()
            .is_some_and(|key| !key.is_empty());
        match tailscale.credentials {
            TailscaleCredentials::PerWorkloadKeys => {
                for workload in Workload::ALL {
                    let (name, key) = credential_secret(plan, workload);
                    let kind = if workload.ephemeral() {
                        "reusable, ephemeral"
                    } else {
                        "reusable"
                    };
                    secrets.push((
                        name,
                        key,
                        format!("a {kind}, pre-approved auth key tagged {}", workload.tag()),
                    ));
                }
            }
            TailscaleCredentials::OauthClient if !inline => {
                let (name, key) = credential_secret(plan, Workload::Fdb);
                secrets.push((
                    name,
                    key,
                    "an OAuth client secret (tskey-client-...) whose tag tag:inferadb-provisioner owns the four workload tags".to_owned(),
                ));
            }
            TailscaleCredentials::OauthClient => {}
        }
    }
    if spec.control.enabled {
        let secret = &spec.control.master_key_secret;
        secrets.push((
            secret.name.clone(),
            secret.key.clone(),
            "control's master key (keep a copy: it protects control's data)".to_owned(),
        ));
    }
    if secrets.is_empty() && !tailscale.enabled {
        return;
    }
    out.push_str("## Before you start\n\n");
    if !secrets.is_empty() {
        out.push_str("infera-render never writes these Secrets; create them in every region's namespace:\n\n");
        for (name, key, what) in &secrets {
            let _ = writeln!(out, "- `{name}` (key `{key}`): {what}");
        }
        out.push('\n');
        let mut lines = Vec::new();
        for region in &plan.regions {
            let kubectl = kubectl(plan, region.index);
            let namespace = &plan.region_spec(region.index).namespace;
            lines.push(format!(
                "{kubectl} create namespace {namespace} --dry-run=client -o yaml | {kubectl} apply -f -"
            ));
            for (name, key, _) in &secrets {
                lines.push(format!(
                    "{kubectl} -n {namespace} create secret generic {name} --from-file={key}=<file holding the value>"
                ));
            }
        }
        fence(out, &lines);
    }
    if tailscale.enabled {
        out.push_str("Apply `tailnet-policy.hujson` to the tailnet first (admin console, Access controls, or the policy API). It defines the four tags, grants FoundationDB traffic between the regions' pod CIDRs, and auto-approves the routes the subnet routers advertise.\n\n");
    }
}

/// Which containers run privileged, and why (DESIGN.md §5: every exception is documented).
fn privileged_section(out: &mut String, plan: &Plan) {
    if !plan.spec.tailscale.enabled {
        return;
    }
    out.push_str("## Privileged containers\n\n");
    out.push_str("Every container is non-root with no capabilities (and a read-only root filesystem where the image allows), except these:\n\n");
    out.push_str("- The `tailscale` containers (in the FoundationDB pods, the operator, engine and control pods, and the `tailscale-router` pods) run as root with `privileged: true`. Kernel-mode Tailscale creates the `tailscale0` interface and the routes to the other regions' pod CIDRs, which FoundationDB traffic needs: fdbserver advertises pod IPs and cannot use a SOCKS proxy, so userspace mode cannot carry it. Since runc 1.2 (containerd 1.7.24), `NET_ADMIN` no longer gives access to `/dev/net/tun`, so `privileged` is required (tailscale PR #14262).\n");
    out.push_str("- The FoundationDB pods' ServiceAccount may create, read and update the Secrets of its namespace: each sidecar keeps its node state in `ts-<pod name>`, and FoundationDB pod names are not predictable enough to list. Keep other Secrets out of that namespace, or accept that these pods can read them.\n");
    out.push_str("- The `foundationdb` container keeps a writable root filesystem: the operator's images are not documented to run read-only.\n\n");
    out.push_str("Caveat: a sidecar that accepts routes also accepts the route to its own region's pod CIDR (advertised by its own router). Depending on the CNI, traffic inside the region may then take the router path; test this on your CNI.\n\n");
}

/// Failover and failback: what changes in the spec, and which objects change.
fn failover_section(out: &mut String, plan: &Plan, spec_path: &str) {
    if plan.fdb_regions.len() < 2 {
        return;
    }
    let active = &plan.regions[plan.fdb_regions[0].region].id;
    let dr = &plan.regions[plan.fdb_regions[1].region].id;
    out.push_str("## Failover and failback\n\n");
    if plan.spec.fearless_dr.usable_regions == 2 {
        let _ = writeln!(
            out,
            "- **Automatic failover.** Both regions' primary datacenters have a FoundationDB priority `>= 0` (`{active}`: 1, `{dr}`: 0), so when `{active}` fails, FoundationDB makes `{dr}` active by itself. Nothing to apply; engine and control in every region keep using the same cluster file."
        );
    } else {
        let _ = writeln!(
            out,
            "- **No automatic failover yet.** With `usable_regions: 1`, `{dr}` holds no replica. Set `fearless_dr.usable_regions: 2` and re-render; the operator stages the change."
        );
    }
    let _ = writeln!(
        out,
        "- **Planned switch (make `{dr}` the primary).** In the spec, set `is_primary: true` and the lowest `priority` on `{dr}`, and `is_primary: false` and a higher `priority` on `{active}`. Re-render (`infera-render render -f {spec_path} -o <this folder> --seed-connection-string ...`): only the `FoundationDBCluster` objects change (their `databaseConfiguration.regions` priorities swap), plus `outputs.json` and this file. Apply every region's bundle; the operators reconfigure the database."
    );
    let _ = writeln!(
        out,
        "- **Failback.** Once `{active}` is healthy again and fully replicated (`fdbcli --exec status` shows the replication as healthy), swap the two regions back in the spec and re-render the same way."
    );
    let _ = writeln!(
        out,
        "- **Forced recovery.** If the active region is lost and had no surviving satellite, FoundationDB cannot recover on its own: `fdbcli --exec 'force_recovery_with_data_loss <datacenter id>'` in the surviving region discards the commits that had not reached it. Satellites (`fearless_dr.satellite_redundancy_mode`) avoid this."
    );
    if plan
        .regions
        .iter()
        .any(|region| matches!(region.role, RegionRole::Client))
    {
        out.push_str("- **Client regions.** Their cluster file is a ConfigMap infera-render writes from the connection string (no operator runs there). When the coordinators change, re-render with the current `status.connectionString` of any datacenter and apply the client regions' bundles.\n");
    }
    out.push('\n');
}

/// The whole guide.
pub(crate) fn guide(plan: &Plan, options: &RenderOptions, bundles: &[RegionBundle]) -> String {
    let spec_path = options.spec_path.as_deref().unwrap_or("<spec>");
    let rendered = rendered_datacenters(plan);
    let mut out = String::new();
    let _ = writeln!(out, "# Applying {}\n", plan.spec.cluster_name);
    let _ = writeln!(
        out,
        "Rendered by infera-render from `{spec_path}`. Run the commands from this folder. Each region is its own Kubernetes cluster, so every command names its context. Apply the regions in the order below."
    );
    match &plan.bootstrap {
        Bootstrap::PhaseOne { datacenter } => {
            let bootstrap = &plan.datacenters[*datacenter];
            let _ = writeln!(
                out,
                "\n**Bootstrap phase 1 of 2.** No seed connection string was given, so this output holds only the bootstrap datacenter `{}` (region {}), as a single-datacenter region with `usable_regions: 1`. Without this step every region's operator would create its own, separate database. The other {} datacenter(s) follow in phase 2.",
                bootstrap.id,
                plan.regions[bootstrap.region].id,
                plan.datacenters.len() - 1
            );
        }
        Bootstrap::Seeded { .. } => {
            let _ = writeln!(
                out,
                "\n**Bootstrap phase 2.** Every datacenter ({}) joins the database created in phase 1 through its seed connection string, with the full region configuration. The operator stages the change from the phase-1 configuration itself.",
                plan.datacenters.len()
            );
        }
        Bootstrap::SingleDatacenter => {
            out.push_str("\nOne FoundationDB datacenter: nothing to bootstrap in phases.\n");
        }
    }

    out.push('\n');
    prerequisites(&mut out, plan);
    out.push_str("## Steps\n\n");
    for index in apply_order(plan) {
        if let Some(bundle) = bundles.get(index) {
            region_steps(&mut out, plan, options, bundle, index, &rendered);
        }
    }

    if let Bootstrap::PhaseOne { datacenter } = plan.bootstrap {
        let bootstrap = &plan.datacenters[datacenter];
        out.push_str("## Then: phase 2\n\n");
        out.push_str("1. Read the bootstrap datacenter's connection string:\n\n");
        fence(
            &mut out,
            &[connection_string_command(
                plan,
                bootstrap.region,
                &bootstrap.resource_name,
            )],
        );
        out.push_str("2. Re-render into this folder with it (or set `seed_connection_string` in the spec), and follow the new APPLY.md:\n\n");
        fence(
            &mut out,
            &[format!(
                "infera-render render -f {spec_path} -o <this folder> --seed-connection-string '<the connection string>'"
            )],
        );
    }

    privileged_section(&mut out, plan);
    failover_section(&mut out, plan, spec_path);
    if !rendered.is_empty() {
        let active = &plan.datacenters[plan.fdb_regions[0].primary.datacenter];
        let region = active.region;
        out.push_str("## Check\n\nFoundationDB's own view of the regions and datacenters:\n\n");
        fence(
            &mut out,
            &[format!(
                "{} -n {} exec $({} -n {} get pod -l foundationdb.org/fdb-cluster-name={},foundationdb.org/fdb-process-class=storage -o name | head -n 1) -c foundationdb -- fdbcli --exec 'status'",
                kubectl(plan, region),
                plan.region_spec(region).namespace,
                kubectl(plan, region),
                plan.region_spec(region).namespace,
                active.resource_name
            )],
        );
    }
    out
}
