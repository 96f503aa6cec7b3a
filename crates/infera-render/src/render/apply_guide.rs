//! `APPLY.md`: the ordered, per-context steps to apply the output, including the FoundationDB
//! bootstrap phases (docs/fdb-multi-region.md §2.4).

use super::RenderOptions;
use super::crds::{CRD_PLURALS, crd_url};
use super::fdb_cluster::rendered_datacenters;
use crate::plan::{Bootstrap, Plan, RegionRole};
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
    let contents = if datacenters.is_empty() && runs_operator {
        "the namespace and the operator; its datacenters come in phase 2".to_owned()
    } else if datacenters.is_empty() {
        "the namespace".to_owned()
    } else {
        let names: Vec<String> = datacenters
            .iter()
            .map(|&dc| format!("`{}`", plan.datacenters[dc].resource_name))
            .collect();
        format!(
            "the namespace, the operator and FoundationDBCluster {}",
            names.join(", ")
        )
    };
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

/// The whole guide.
pub(crate) fn guide(plan: &Plan, options: &RenderOptions) -> String {
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

    out.push_str("\n## Steps\n\n");
    for index in apply_order(plan) {
        region_steps(&mut out, plan, options, index, &rendered);
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
