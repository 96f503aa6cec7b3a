//! `APPLY.md`: the ordered, per-context steps to apply the output, including the FoundationDB
//! bootstrap phases (docs/fdb-multi-region.md §2.4).

use super::crds::{CRD_PLURALS, crd_url};
use super::{RegionBundle, RenderOptions};
use crate::names::tailscale::{ROUTER_NAME, Workload, router_tag};
use crate::plan::{Bootstrap, DatacenterId, Plan, RegionPlan, RegionRole};
use infera_spec::TailscaleCredentials;
use std::fmt::Write;

/// `kubectl` with the region's context (and kubeconfig, when the spec names one).
pub(crate) fn kubectl(region: &RegionPlan) -> String {
    format!("kubectl{}", region.kubectl_flags())
}

/// The re-render with datacenter `datacenter`'s current connection string, read from the
/// cluster in one pipe: `kubectl get foundationdbcluster -o json` into `--seed-from -`, which
/// also refuses an object the operator has not reconciled yet.
pub(crate) fn seeded_render(plan: &Plan, datacenter: DatacenterId, spec_path: &str) -> String {
    let dc = &plan.datacenters[datacenter];
    let region = &plan.regions[dc.region];
    format!(
        "{} -n {} get foundationdbcluster {} -o json | infera-render render -f {spec_path} -o <this folder> --seed-from -",
        kubectl(region),
        region.namespace,
        dc.resource_name
    )
}

pub(crate) fn fence(out: &mut String, lines: &[String]) {
    out.push_str("```sh\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("```\n\n");
}

fn region_steps(
    out: &mut String,
    plan: &Plan,
    options: &RenderOptions,
    bundle: &RegionBundle,
    region: &RegionPlan,
) {
    let kubectl = kubectl(region);
    let context = region
        .kubernetes
        .config_context
        .as_deref()
        .unwrap_or("the current context");
    let role = match region.role {
        RegionRole::Active => "active FoundationDB region",
        RegionRole::Dr => "DR FoundationDB region",
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
    let datacenters: Vec<DatacenterId> = region
        .datacenters
        .iter()
        .copied()
        .filter(|&index| plan.datacenters[index].rendered)
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
    for app in &region.apps {
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
    let enabled_apps = plan.engine.is_some() || plan.control.is_some();
    if enabled_apps && region.apps.is_empty() {
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
    // In phase 2 the staged change needs every region, so the wait comes after the last one.
    if !datacenters.is_empty() && !matches!(plan.bootstrap, Bootstrap::Seeded { .. }) {
        out.push_str("3. Wait until the operator has fully reconciled it (the first reconciliation takes minutes):\n\n");
        let lines: Vec<String> = datacenters
            .iter()
            .map(|&dc| reconciled_wait(plan, dc))
            .collect();
        fence(out, &lines);
    }
}

/// A loop that returns once the operator has reconciled the current generation of a
/// datacenter's `FoundationDBCluster` (`status.generations.reconciled == metadata.generation`),
/// as upstream's own scripts wait (OP@v2.33.0:config/tests/multi_dc/functions.bash:13-35);
/// `status.health.available` is true long before the staged configuration change ends.
pub(crate) fn reconciled_wait(plan: &Plan, datacenter: DatacenterId) -> String {
    let dc = &plan.datacenters[datacenter];
    let region = &plan.regions[dc.region];
    format!(
        "until {} -n {} get foundationdbcluster {name} -o jsonpath='{{.metadata.generation}} {{.status.generations.reconciled}}' | awk '{{ ok = ($1 != \"\" && $1 == $2) }} END {{ exit !ok }}'; do echo 'waiting for {name} to reconcile'; sleep 15; done",
        kubectl(region),
        region.namespace,
        name = dc.resource_name,
    )
}

/// `fdbcli --exec '<command>'` in a storage pod of `datacenter`.
fn fdbcli(plan: &Plan, datacenter: DatacenterId, command: &str) -> String {
    let dc = &plan.datacenters[datacenter];
    let region = &plan.regions[dc.region];
    let kubectl = kubectl(region);
    let namespace = &region.namespace;
    format!(
        "{kubectl} -n {namespace} exec $({kubectl} -n {namespace} get pod -l foundationdb.org/fdb-cluster-name={},foundationdb.org/fdb-process-class=storage -o name | head -n 1) -c foundationdb -- fdbcli --exec '{command}'",
        dc.resource_name
    )
}

/// The `fdbcli` command that writes `status json` to `status.json`, run in a storage pod of the
/// active primary datacenter.
fn status_json_command(plan: &Plan) -> String {
    format!(
        "{} > status.json",
        fdbcli(plan, plan.active().primary.datacenter, "status json")
    )
}

/// A `jq` program over `status json` that is true once FoundationDB runs the configuration
/// this output asks for: `usable_regions`, each region's primary at its priority, and the
/// coordinator count (FDB@7.3.43:fdbclient/Schemas.cpp: `cluster.configuration.usable_regions`,
/// `cluster.configuration.regions[].datacenters[]`, `client.coordinators.coordinators[]`).
pub(crate) fn status_check_filter(plan: &Plan) -> String {
    let configuration = super::fdb_cluster::database_configuration(plan);
    let priorities: Vec<String> = configuration
        .primaries()
        .map(|(id, priority)| format!("\"{id}\": {priority}"))
        .collect();
    format!(
        ".cluster.configuration.usable_regions == {} and ([.cluster.configuration.regions[].datacenters[] | select((.satellite // 0) == 0) | {{(.id): .priority}}] | add) == {{{}}} and (.client.coordinators.coordinators | length) == {}",
        configuration.usable_regions(),
        priorities.join(", "),
        plan.failures.rendered.analysis.coordinators
    )
}

/// A `jq` program that prints how many coordinators each datacenter holds.
pub(crate) const COORDINATOR_SPLIT_FILTER: &str = "[.cluster.processes[] | select(any(.roles[]?; .role == \"coordinator\")) | .locality.dcid] | group_by(.) | map(\"\\(.[0]): \\(length)\") | join(\", \")";

/// After phase 2: wait until every object is reconciled, then check FoundationDB's own view.
fn staged_change_check(out: &mut String, plan: &Plan) {
    out.push_str("## Then: wait for the staged change\n\n");
    if plan.fdb_regions.len() == 2 && plan.fdb.usable_regions == 2 {
        out.push_str("The operator now changes the database configuration step by step (it adds the other region at priority -1, raises `usable_regions` to 2, waits until the data is copied there, then sets its final priority) and moves the coordinators. The failure scenarios below hold only once this has finished.\n\n");
    } else {
        out.push_str("The operator now adds the other datacenters to the database configuration. The failure scenarios below hold only once this has finished.\n\n");
    }
    out.push_str("1. Wait until every `FoundationDBCluster` is fully reconciled:\n\n");
    let lines: Vec<String> = plan
        .apply_order()
        .into_iter()
        .flat_map(|region| plan.regions[region].datacenters.clone())
        .map(|dc| reconciled_wait(plan, dc))
        .collect();
    fence(out, &lines);
    out.push_str("2. Check that FoundationDB runs the configuration this output asks for (needs `jq`; `true` when it does) and see where the coordinators are:\n\n");
    fence(
        out,
        &[
            status_json_command(plan),
            format!("jq -e '{}' status.json", status_check_filter(plan)),
            format!("jq -r '{COORDINATOR_SPLIT_FILTER}' status.json"),
        ],
    );
    let analysis = &plan.failures.rendered.analysis;
    let join_order_matters = analysis
        .scenarios
        .iter()
        .any(|scenario| scenario.coordinators_left_placed != Some(scenario.coordinators_left));
    if let (Ok(placement), true) = (&analysis.placement, join_order_matters) {
        let expected: Vec<String> = plan
            .failures
            .rendered
            .topology
            .datacenters
            .iter()
            .zip(placement)
            .filter(|(_, count)| **count > 0)
            .map(|(dc, count)| format!("{}: {count}", dc.id))
            .collect();
        let _ = writeln!(
            out,
            "With every datacenter up when the operator chose them, the coordinators are `{}`; a split that puts more of them in one region (possible when a datacenter joined late) changes which losses the table below survives: each scenario's row counts the worst case.\n",
            expected.join(", ")
        );
    }
}

/// The regions without an FDB datacenter that run engine or control: their cluster file is the
/// ConfigMap infera-render writes from the connection string it was given.
fn client_regions_with_apps(plan: &Plan) -> Vec<&RegionPlan> {
    plan.regions
        .iter()
        .filter(|region| region.role == RegionRole::Client && !region.apps.is_empty())
        .collect()
}

/// After phase 2: the client regions' cluster file still holds the seed, whose coordinators the
/// staged change replaces (the operator recruits 9 with `usable_regions` 2:
/// OP@v2.33.0:api/v1beta2/foundationdbcluster_types.go:1729-1736). Pods that
/// start after the old coordinators are gone cannot connect with it.
fn client_region_refresh(out: &mut String, plan: &Plan, spec_path: &str) {
    let clients = client_regions_with_apps(plan);
    if clients.is_empty() {
        return;
    }
    let ids: Vec<String> = clients
        .iter()
        .map(|region| format!("`{}`", region.id))
        .collect();
    out.push_str("## Then: give the client regions the current connection string\n\n");
    let (subject, runs, its) = if ids.len() == 1 {
        ("The client region", "runs", "its")
    } else {
        ("The client regions", "run", "their")
    };
    let _ = writeln!(
        out,
        "{subject} {} {runs} no operator, so nothing keeps {its} cluster file current: infera-render wrote it from the seed connection string, which stops listing the coordinators once the operator changes them as the datacenters join (it recruits 9 with `usable_regions: 2`). Running engine and control pods follow the move themselves and keep it in their pod's copy of the file, but a pod that starts later begins with the seed, and cannot connect once the seed's coordinators are gone. Re-render with the current connection string and apply the client regions again:\n",
        ids.join(", ")
    );
    let mut lines = vec![seeded_render(plan, plan.configuring_datacenter, spec_path)];
    for region in &clients {
        lines.push(format!(
            "{} apply --server-side -k {}/",
            kubectl(region),
            region.id
        ));
    }
    fence(out, &lines);
    out.push_str("Only the client regions' cluster-file ConfigMap and the `seedConnectionString` of the `FoundationDBCluster` objects change (the operator uses the seed only in addition to the connection string it knows, so applying the other regions too changes nothing; do it if the folder is what you deploy from). Do the same whenever the coordinators change again: after a failover, or when the operator replaces a coordinator.\n\n");
}

/// One Secret the user creates: its name, key, what it holds, and the shell variable (or
/// file) its value comes from.
struct Prerequisite {
    name: String,
    key: String,
    what: String,
    /// `$VAR` (written with `printf %s`, so no trailing newline gets into the value) or a file.
    source: Source,
}

enum Source {
    Variable(&'static str),
    /// A local file, made once by `make` and used for every region.
    File {
        file: &'static str,
        make: &'static str,
    },
}

/// Every Secret the user creates for `plan`, once each (name, key, what it holds), in region
/// order: what APPLY.md's "Before you start" lists.
#[must_use]
pub fn required_secrets(plan: &Plan) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for region in &plan.regions {
        for secret in prerequisites_of(plan, region) {
            if !out.iter().any(|(name, ..)| *name == secret.name) {
                out.push((secret.name, secret.key, secret.what));
            }
        }
    }
    out
}

/// The Secrets region `region` needs (never rendered: they are referenced).
fn prerequisites_of(plan: &Plan, region: &RegionPlan) -> Vec<Prerequisite> {
    let hosts_fdb = !region.datacenters.is_empty();
    let id = &region.id;
    let mut out = Vec::new();
    if let Some(tailscale) = &plan.tailscale {
        let inline = tailscale.inline_secret.is_some();
        match tailscale.credentials {
            TailscaleCredentials::PerWorkloadKeys => {
                for workload in Workload::ALL {
                    let (used, variable, what) = match workload {
                        Workload::Fdb => (
                            hosts_fdb,
                            "TS_FDB",
                            "FoundationDB log and storage pods, whose identity lasts as long as their volume",
                        ),
                        Workload::FdbEphemeral => (
                            hosts_fdb,
                            "TS_FDB_EPHEMERAL",
                            "the operator and stateless FoundationDB pods",
                        ),
                        Workload::Engine => (plan.engine.is_some(), "TS_ENGINE", "the engine pods"),
                        Workload::Control => {
                            (plan.control.is_some(), "TS_CONTROL", "the control pods")
                        }
                        Workload::Router => (
                            region.pod_network.is_some(),
                            "TS_ROUTER",
                            "the region's subnet router: a different key in every region",
                        ),
                    };
                    if !used {
                        continue;
                    }
                    let (name, key) = tailscale.credential_secret(workload);
                    let kind = if workload.ephemeral() {
                        "reusable, ephemeral"
                    } else {
                        "reusable"
                    };
                    // The router's tag names its region; the list describes all regions.
                    let tag = if workload == Workload::Router {
                        router_tag("<region id>")
                    } else {
                        workload.tag(id)
                    };
                    out.push(Prerequisite {
                        name,
                        key,
                        what: format!("a {kind}, pre-approved auth key tagged {tag}, for {what}"),
                        source: Source::Variable(variable),
                    });
                }
            }
            TailscaleCredentials::OauthClient if !inline => {
                let (name, key) = tailscale.credential_secret(Workload::Fdb);
                out.push(Prerequisite {
                    name,
                    key,
                    what: "the client secret (tskey-client-...) of a Tailscale OAuth client created with the Auth Keys (write) scope and the tag tag:inferadb-provisioner, which owns every workload tag: each pod mints its own key with its own tag".to_owned(),
                    source: Source::Variable("TS_OAUTH_CLIENT_SECRET"),
                });
            }
            TailscaleCredentials::SharedKey if !inline => {
                let (name, key) = tailscale.credential_secret(Workload::Fdb);
                out.push(Prerequisite {
                    name,
                    key,
                    what: format!(
                        "one reusable, pre-approved auth key tagged {} for every workload (credentials: shared_key, the Terraform module's one key: the tailnet policy cannot tell the workloads apart)",
                        tailscale.shared_tag
                    ),
                    source: Source::Variable("TS_AUTHKEY"),
                });
            }
            TailscaleCredentials::OauthClient | TailscaleCredentials::SharedKey => {}
        }
    }
    // Every region runs the enabled apps once the connection string is known, so the Secrets
    // are listed from the start: made once, from the same files.
    let key_files = [
        (
            plan.engine.as_ref().map(|engine| &engine.identity_secret),
            "the engine's Ed25519 signing key, PEM (`PRIVATE KEY`): every engine pod signs its tokens for control with it and serves it in its JWKS, so it must be the same in every replica and every region (the engine pods do not start without it)",
            "engine-identity.pem",
            "openssl genpkey -algorithm ed25519 -out engine-identity.pem",
        ),
        (
            plan.control
                .as_ref()
                .map(|control| &control.master_key_secret),
            "control's master key: exactly 32 random bytes (not text, not base64: control rejects any other length, and the wait step refuses to start control with one), byte-identical in every region, because it encrypts the private keys control keeps in the shared database; keep a copy, without it those keys are lost",
            "master.key",
            "head -c 32 /dev/urandom > master.key",
        ),
    ];
    for (secret, what, file, make) in key_files {
        if let Some(secret) = secret {
            out.push(Prerequisite {
                name: secret.name.clone(),
                key: secret.key.clone(),
                what: what.to_owned(),
                source: Source::File { file, make },
            });
        }
    }
    out
}

/// The Secrets to create before applying, per region, and the tailnet policy.
fn prerequisites(out: &mut String, plan: &Plan) {
    let tailscale = plan.tailscale.as_ref();
    let per_region: Vec<(&RegionPlan, Vec<Prerequisite>)> = plan
        .regions
        .iter()
        .map(|region| (region, prerequisites_of(plan, region)))
        .collect();
    if per_region.iter().all(|(_, list)| list.is_empty()) && tailscale.is_none() {
        return;
    }
    out.push_str("## Before you start\n\n");
    let mut described: Vec<(String, String)> = Vec::new();
    for (_, list) in &per_region {
        for prerequisite in list {
            let label = format!("`{}` (key `{}`)", prerequisite.name, prerequisite.key);
            if !described.iter().any(|(name, _)| name == &label) {
                described.push((label, prerequisite.what.clone()));
            }
        }
    }
    if !described.is_empty() {
        out.push_str("infera-render never writes these Secrets; create them in each region's namespace (the lines below create only those the region uses):\n\n");
        for (label, what) in &described {
            let _ = writeln!(out, "- {label}: {what}");
        }
        out.push('\n');
        let variables: Vec<&str> = per_region
            .iter()
            .flat_map(|(_, list)| list.iter())
            .filter_map(|prerequisite| match prerequisite.source {
                Source::Variable(variable) => Some(variable),
                Source::File { .. } => None,
            })
            .fold(Vec::new(), |mut seen, variable| {
                if !seen.contains(&variable) {
                    seen.push(variable);
                }
                seen
            });
        if !variables.is_empty() {
            let _ = writeln!(
                out,
                "Set {} to the keys first ({}); `printf %s` writes them without a trailing newline, which would otherwise become part of the key.\n",
                variables
                    .iter()
                    .map(|variable| format!("`{variable}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if variables.contains(&"TS_ROUTER") {
                    "`TS_ROUTER` to each region's own router key before that region's lines"
                } else {
                    "the same in every region"
                }
            );
        }
        let mut made: Vec<&str> = Vec::new();
        for prerequisite in per_region.iter().flat_map(|(_, list)| list.iter()) {
            if let Source::File { make, .. } = prerequisite.source
                && !made.contains(&make)
            {
                made.push(make);
            }
        }
        if !made.is_empty() {
            out.push_str("Make the key files once, here, and use the same files for every region (keep them somewhere safe, then delete them here):\n\n");
            let lines: Vec<String> = made.iter().map(|make| (*make).to_owned()).collect();
            fence(out, &lines);
        }
        let mut lines = Vec::new();
        for (region, list) in &per_region {
            if list.is_empty() {
                continue;
            }
            let kubectl = kubectl(region);
            let namespace = &region.namespace;
            lines.push(format!(
                "{kubectl} create namespace {namespace} --dry-run=client -o yaml | {kubectl} apply -f -"
            ));
            for prerequisite in list {
                let (name, key) = (&prerequisite.name, &prerequisite.key);
                lines.push(match prerequisite.source {
                    Source::Variable(variable) => format!(
                        "printf %s \"${variable}\" | {kubectl} -n {namespace} create secret generic {name} --from-file={key}=/dev/stdin"
                    ),
                    Source::File { file, .. } => format!(
                        "{kubectl} -n {namespace} create secret generic {name} --from-file={key}={file}"
                    ),
                });
            }
        }
        fence(out, &lines);
    }
    if let Some(tailscale) = tailscale {
        if tailscale.credentials != TailscaleCredentials::OauthClient {
            out.push_str("Auth keys expire (after 90 days at most). Pods whose Tailscale state does not outlive them (engine, control, the operator, stateless FoundationDB pods) log in with their key again on every start, so put fresh keys into these Secrets before the old ones expire, or use `tailscale.credentials: oauth_client`, whose client secret does not expire.\n\n");
        }
        if tailscale.shared() {
            let _ = writeln!(
                out,
                "With the shared key every node is persistent: engine, control, the operator and stateless FoundationDB pods register a new node on every start and leave the old one offline in the tailnet (ephemeral keys, one per workload with `credentials: per_workload_keys`, remove those by themselves). Remove the offline ones in the admin console (Machines, filter by `{}`).\n",
                tailscale.shared_tag
            );
            let _ = writeln!(
                out,
                "Apply `tailnet-policy.hujson` to the tailnet first (admin console, Access controls, or the policy API). With the shared key it has one tag, `{}`: it grants FoundationDB traffic between the regions' pod CIDRs to every pod of the deployment, and auto-approves every region's pod CIDR for any of them. Move to `credentials: per_workload_keys` (one key per workload, and per region for the routers) or `oauth_client` to tell them apart.\n",
                tailscale.shared_tag
            );
        } else {
            out.push_str("Apply `tailnet-policy.hujson` to the tailnet first (admin console, Access controls, or the policy API). It defines the tags (one per workload, one per region's router), grants FoundationDB traffic between the regions' pod CIDRs, and auto-approves each region's pod CIDR for that region's router only.\n\n");
        }
    }
}

/// How many distinct nodes each datacenter needs (`crate::plan::failures::nodes_needed`).
fn nodes_section(out: &mut String, plan: &Plan) {
    out.push_str("## Nodes\n\n");
    out.push_str("FoundationDB's fault domain is the node: the operator puts at most one coordinator on a node, and FoundationDB one replica or log copy. With fewer nodes than below, the operator cannot place every coordinator (it keeps the old ones, and the failure scenarios of this file do not hold) or FoundationDB refuses the configuration. The operator only prefers to spread pods over nodes; make sure each datacenter's zone has these nodes for FoundationDB pods (one FoundationDB pod per node is what the scenarios assume):\n\n");
    for (index, coordinators, nodes) in crate::plan::failures::nodes_needed(plan) {
        let dc = &plan.datacenters[index];
        let _ = writeln!(
            out,
            "- `{}` (region {}): at least {nodes} node(s); {coordinators} coordinator(s) once every datacenter is up",
            dc.id, plan.regions[dc.region].id
        );
    }
    out.push('\n');
}

/// Which containers run privileged, and why: every exception is documented.
fn privileged_section(out: &mut String, plan: &Plan) {
    if plan.tailscale.is_none() {
        return;
    }
    out.push_str("## Privileged containers\n\n");
    out.push_str("Every container is non-root with no capabilities (and a read-only root filesystem where the image allows), except these:\n\n");
    out.push_str("- The `tailscale` containers (in the FoundationDB pods, the operator, engine and control pods, and the `tailscale-router` pods) run as root with `privileged: true`. Kernel-mode Tailscale creates the `tailscale0` interface and the routes to the other regions' pod CIDRs, which FoundationDB traffic needs: fdbserver advertises pod IPs and cannot use a SOCKS proxy, so userspace mode cannot carry it. Since runc 1.2 (containerd 1.7.24), `NET_ADMIN` no longer gives access to `/dev/net/tun`, so `privileged` is required (tailscale PR #14262).\n");
    out.push_str("- The `tailscale-own-route` init container in the same pods runs as root with `NET_ADMIN` only. With `--accept-routes` a sidecar also accepts its own region's pod CIDR from its own router, and tailscaled looks its routes up ahead of the main table (rule priority 5270): every reply inside the region would leave through `tailscale0` and be dropped. This happens on every CNI. The init container adds `ip rule pref 5260 to <this region's pod_cidr> lookup main`, so traffic inside the region stays on the pod network and only the other regions' pod CIDRs go through Tailscale.\n");
    out.push_str("- The `foundationdb` container keeps a writable root filesystem: the operator's images are not documented to run read-only.\n\n");
    out.push_str("So that Pod Security Admission admits these pods, each namespace is labelled `pod-security.kubernetes.io/enforce: privileged`, with `warn` and `audit` at `baseline`: `kubectl apply` prints a warning for each exception and the audit log records them.\n\n");
    out.push_str("Secrets: no pod can read a Secret it does not own. The sidecars of the FoundationDB pods keep their node state on the pod's own data volume (no Secret), those of engine, control and the operator in memory; each router may read and update only its own state Secret `ts-tailscale-router-<n>`. The operator's Role has no access to Secrets (its code reads none). Credentials reach the pods as `secretKeyRef`s, which the kubelet resolves.\n\n");
}

/// A markdown table cell: no line breaks, no column separators.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The failure table of `APPLY.md`, from the same rows as `plan`.
fn failure_table(out: &mut String, plan: &Plan, failure: &crate::plan::failures::FailureAnalysis) {
    out.push_str("| if this is lost | recovery | acknowledged commits lost | coordinators left | what to do |\n");
    out.push_str("|---|---|---|---|---|\n");
    for [lost, recovery, data_loss, left, action] in crate::plan::failures::table(plan, failure) {
        let _ = writeln!(
            out,
            "| {} | {recovery} | {data_loss} | {} | {} |",
            cell(&lost),
            cell(&left),
            cell(&action)
        );
    }
    out.push('\n');
}

/// Failover and failback: what survives which loss (computed), and the procedures.
fn failover_section(out: &mut String, plan: &Plan, spec_path: &str) {
    out.push_str("## Failover and failback\n\n");
    out.push_str("What happens when a datacenter or a whole region is lost, computed by infera-render from the operator's coordinator placement and FoundationDB's recovery rules. It assumes one FoundationDB pod per node, and counts the fewest coordinators that can be left whatever order the datacenters joined in. `automatic` means FoundationDB recovers by itself without losing an acknowledged commit.\n\n");
    match &plan.bootstrap {
        Bootstrap::PhaseOne { .. } => {
            out.push_str("Until phase 2, the database is the bootstrap datacenter alone:\n\n");
            failure_table(out, plan, &plan.failures.rendered);
            if let Some(after) = &plan.failures.after_phase_two {
                out.push_str(
                    "Once phase 2 has been applied and its staged change has finished:\n\n",
                );
                failure_table(out, plan, after);
            }
        }
        Bootstrap::Seeded { .. } => {
            out.push_str("Once the staged change has finished (the wait and check above):\n\n");
            failure_table(out, plan, &plan.failures.rendered);
        }
        Bootstrap::SingleDatacenter => failure_table(out, plan, &plan.failures.rendered),
    }
    let Some(pair) = FdbPair::of(plan) else {
        return;
    };
    // A procedure is described when an action refers to it (APPLY.md: <name>).
    let mut actions: Vec<String> = Vec::new();
    for failure in std::iter::once(&plan.failures.rendered).chain(&plan.failures.after_phase_two) {
        for row in crate::plan::failures::table(plan, failure) {
            actions.push(row[4].clone());
        }
    }
    let referred = |section: &str| {
        actions
            .iter()
            .any(|action| action.contains(&format!("(APPLY.md: {section})")))
    };
    let (active, dr) = (pair.active, pair.dr);
    let configuring = &plan.datacenters[plan.configuring_datacenter].resource_name;
    let usable_one = plan.fdb.usable_regions < 2;
    out.push_str("### Planned switch\n\n");
    let _ = writeln!(
        out,
        "To make `{dr}` the active region: in the spec, set `is_primary: true` and the lowest `priority` on `{dr}`, and `is_primary: false` and a higher `priority` on `{active}`, keeping the order of `regions`. Re-render with the current connection string (`{}`): only the `FoundationDBCluster` objects change (their priorities swap), plus `outputs.json` and this file. Apply every region's bundle, in any order: only `{configuring}` changes the database configuration (the other objects have `automationOptions.configureDatabase: false`), so the switch happens once, when its region is applied, and never flips back. {}Then wait and check as after phase 2. The coordinators stay where they are.\n",
        seeded_render(plan, plan.active().primary.datacenter, spec_path),
        if usable_one {
            format!(
                "With `usable_regions: 1` the operator first copies the data to `{dr}` (usable_regions 2 for a while), then swaps the priorities and drops the old replica. "
            )
        } else {
            String::new()
        }
    );
    if referred("Failback") {
        failback(out, &pair);
    }
    if referred("Forced recovery") {
        forced_recovery(out, &pair);
    }
    if referred("Lost coordinators") {
        lost_coordinators(out, plan);
    }
    if referred("Drop a lost region") {
        drop_region(out, plan, &pair);
    }
    if plan
        .regions
        .iter()
        .any(|region| matches!(region.role, RegionRole::Client))
    {
        out.push_str("### Client regions\n\nTheir cluster file is a ConfigMap infera-render writes from the connection string (no operator runs there). After a failover, or whenever the coordinators change, re-render with the current `status.connectionString` and apply the client regions' bundles, as after phase 2 (\"Then: give the client regions the current connection string\").\n\n");
    }
}

/// The names the procedures use: the active and DR regions and their primary datacenters.
struct FdbPair<'a> {
    active: &'a str,
    dr: &'a str,
    active_dc: &'a str,
    dr_dc: &'a str,
}

impl<'a> FdbPair<'a> {
    /// The pair, when FoundationDB runs in two regions.
    fn of(plan: &'a Plan) -> Option<Self> {
        let active = plan.active();
        let dr = plan.dr()?;
        Some(Self {
            active: &plan.regions[active.region].id,
            dr: &plan.regions[dr.region].id,
            active_dc: &plan.datacenters[active.primary.datacenter].id,
            dr_dc: &plan.datacenters[dr.primary.datacenter].id,
        })
    }
}

fn failback(out: &mut String, pair: &FdbPair) {
    let FdbPair {
        active,
        dr,
        active_dc,
        dr_dc,
    } = pair;
    out.push_str("### Failback\n\n");
    // The cluster controller moves the transaction subsystem back to the higher-priority
    // region once it is healthy and caught up (FDB@7.3.43:fdbserver/include/fdbserver/ClusterController.actor.h:2419-2423).
    let _ = writeln!(
        out,
        "After an automatic failover FoundationDB keeps running in `{dr_dc}`. Once `{active}` is healthy again and has caught up (`fdbcli --exec status` shows the replication as healthy), FoundationDB moves back by itself, since `{active_dc}` still has the higher priority; to keep `{dr}` active instead, make the planned switch above.\n"
    );
}

fn forced_recovery(out: &mut String, pair: &FdbPair) {
    let FdbPair { active, dr_dc, .. } = pair;
    out.push_str("### Forced recovery\n\n");
    let _ = writeln!(
        out,
        "When the active region's log tail is lost but a majority of the coordinators survives, FoundationDB cannot recover by itself. In a pod of the surviving primary datacenter (`{dr_dc}` when `{active}` is lost), run `fdbcli --exec 'force_recovery_with_data_loss {dr_dc}'`: it discards the commits that had not reached it. Then drop the lost region (below).\n"
    );
}

fn lost_coordinators(out: &mut String, plan: &Plan) {
    out.push_str("### Lost coordinators\n\n");
    if plan.operator_version.major >= 2 {
        out.push_str("When a majority of the coordinators is lost, `fdbcli` cannot reach the database and no forced recovery can run. The kubectl-fdb plugin's `recover-multi-region-cluster` (the command in the table) copies the coordinator state of a surviving coordinator to new ones, rewrites the connection string, restarts the processes and forces a recovery, which can lose recent commits; it asks you to confirm that every pod of the cluster in the lost region is shut down. Then drop the lost region (below).\n\n");
    } else {
        let _ = writeln!(
            out,
            "When a majority of the coordinators is lost, `fdbcli` cannot reach the database and no forced recovery can run. Operator v{}'s kubectl-fdb plugin has no `recover-multi-region-cluster`; follow the operator's \"Recover Lost Quorum Of Coordinators\" procedure (docs/manual/operations.md of operator v2.x): set `spec.skip: true` on every `FoundationDBCluster`, copy `coordination-0.fdq` and `coordination-1.fdq` from a surviving coordinator's `/var/fdb/data/1/` to the new coordinators, put the new connection string in the cluster-file ConfigMap, restart every fdbserver, run `fdbcli --exec 'force_recovery_with_data_loss <surviving primary datacenter>'` (it can lose recent commits), set the new connection string as `seed_connection_string` and re-render, then unset `spec.skip`. Then drop the lost region (below).\n",
            plan.operator_version
        );
    }
}

fn drop_region(out: &mut String, plan: &Plan, pair: &FdbPair) {
    let FdbPair { active, dr, .. } = pair;
    out.push_str("### Drop a lost region\n\n");
    out.push_str("1. After a forced recovery (and after the coordinator recovery, which ends with one) FoundationDB itself lists the lost region at priority -1 with `usable_regions=1`; go to step 2. Otherwise (the lost region's datacenters are gone, but FoundationDB recovered by itself or carried on), tell FoundationDB first: the operator cannot, because FoundationDB refuses every configuration that lists a region without processes (`NOT_ENOUGH_WORKERS`) unless it is forced. In a pod of the surviving primary, depending on which region is lost:\n\n");
    let configuration = super::fdb_cluster::complete_configuration(plan);
    for (lost, region) in plan.fdb_regions.iter().enumerate() {
        let survivor = plan.fdb_regions[1 - lost].primary.datacenter;
        let _ = writeln!(out, "   `{}` lost:\n", plan.regions[region.region].id);
        fence(
            out,
            &[fdbcli(
                plan,
                survivor,
                &format!(
                    "configure FORCE usable_regions=1 regions={}",
                    configuration.regions_without(lost)
                ),
            )],
        );
    }
    let _ = write!(
        out,
        "2. In the spec, set `fdb_role: client` on the lost region (for example `{active}`), or remove it; make the surviving region (`{dr}`) `is_primary: true` with the lowest `priority`, and set `fearless_dr.usable_regions: 1`. Re-render with the surviving datacenter's current connection string and apply the surviving regions: the operator removes the lost region from the configuration. To bring the region back, make it an FDB region again and re-render: the operator adds it as in phase 2.\n\n"
    );
}

/// The whole guide.
pub(crate) fn guide(plan: &Plan, options: &RenderOptions, bundles: &[RegionBundle]) -> String {
    let spec_path = options.spec_path.as_deref().unwrap_or("<spec>");
    let mut out = String::new();
    let _ = writeln!(out, "# Applying {}\n", plan.cluster_name);
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
    nodes_section(&mut out, plan);
    out.push_str("## Steps\n\n");
    for index in plan.apply_order() {
        if let Some(bundle) = bundles.get(index.index()) {
            region_steps(&mut out, plan, options, bundle, &plan.regions[index]);
        }
    }

    if let Bootstrap::PhaseOne { datacenter } = plan.bootstrap {
        let bootstrap = &plan.datacenters[datacenter];
        out.push_str("## Then: phase 2\n\n");
        let _ = writeln!(
            out,
            "Once `{}` is reconciled (the wait above), re-render into this folder with its connection string, read from the cluster (or copy `status.connectionString` into the spec's `seed_connection_string`), and follow the new APPLY.md. `--seed-from` refuses the object until the operator has reconciled it; `infera-render diff` with the same flags shows the change first.\n",
            bootstrap.resource_name
        );
        fence(&mut out, &[seeded_render(plan, datacenter, spec_path)]);
    }

    if matches!(plan.bootstrap, Bootstrap::Seeded { .. }) {
        staged_change_check(&mut out, plan);
        client_region_refresh(&mut out, plan, spec_path);
    }
    privileged_section(&mut out, plan);
    super::scanners::guide_section(&mut out, plan, bundles);
    failover_section(&mut out, plan, spec_path);
    if plan.rendered_datacenters().next().is_some() {
        out.push_str("## Check\n\nFoundationDB's own view of the regions and datacenters, and how many coordinators each datacenter holds (needs `jq`):\n\n");
        fence(
            &mut out,
            &[
                fdbcli(plan, plan.active().primary.datacenter, "status"),
                status_json_command(plan),
                format!("jq -r '{COORDINATOR_SPLIT_FILTER}' status.json"),
            ],
        );
    }
    out
}
