//! `MIGRATION.md`: handing the running objects over from the Terraform module to infera-render's
//! output without destroying them.
//!
//! What the module creates, and under which names (inferadb/terraform, modules/multi-region
//! main.tf, modules/fdb-cluster main.tf, modules/fdb-operator variables.tf): per region, a Helm
//! release `fdb-operator` in `<namespace>-system` (watching every namespace with Fearless DR);
//! a FoundationDBCluster named `cluster_name`, a Secret `<cluster_name>-cluster-file` and a
//! ConfigMap `<cluster_name>-config`, a ServiceMonitor `<cluster_name>-fdb` with monitoring; the
//! Secret `tailscale.secret_name` holding `auth_key`; the Deployment `inferadb-engine` and the
//! Services `inferadb-engine` and `inferadb-engine-headless`. All of it through the one default
//! `kubernetes` provider: the module never passed the per-region providers, so every region
//! landed in one Kubernetes cluster.

use infera_render::Plan;
use std::collections::BTreeSet;
use std::fmt::Write;

fn fence(out: &mut String, lines: &[String]) {
    out.push_str("```sh\n");
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("```\n\n");
}

/// The guide for module `module`, whose spec is now `spec_path` and plans to `plan`;
/// `key_in_state` when the module was given a Tailscale auth key (it is then in Terraform's state).
pub fn guide(module: &str, spec_path: &str, plan: &Plan, key_in_state: bool) -> String {
    let cluster = &plan.cluster_name;
    let namespaces: BTreeSet<&str> = plan
        .regions
        .iter()
        .map(|region| region.namespace.as_str())
        .collect();
    // The module's Secret holding the key, unless infera-render's spec uses it too (the shared
    // key, `credentials: shared_key`).
    let needed: Vec<String> = infera_render::required_secrets(plan)
        .into_iter()
        .map(|(name, ..)| name)
        .collect();
    let tailscale_secret = plan
        .tailscale
        .as_ref()
        .map(|tailscale| tailscale.secret_name.clone())
        .filter(|name| !needed.contains(name));
    let clusters: Vec<String> = plan
        .datacenters
        .iter()
        .map(|datacenter| format!("`{}`", datacenter.resource_name))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Moving module.{module} from Terraform to infera-render\n"
    );
    let _ = writeln!(
        out,
        "The spec `{spec_path}` was imported from `module.{module}`. Terraform still manages what the module created; these steps hand it over without destroying anything that holds data. The module sent every region through one `kubernetes` provider, so everything it created is in one Kubernetes cluster: set `TF_CONTEXT` to that provider's kubeconfig context before you start.\n"
    );
    fence(
        &mut out,
        &["export TF_CONTEXT=<the context of the module's kubernetes provider>".to_owned()],
    );

    out.push_str("## 1. Make Terraform forget the module, destroying nothing\n\n");
    let _ = writeln!(
        out,
        "Replace the `module \"{module}\"` block with this block (Terraform 1.7 or later), then plan: the plan must say **0 to destroy**. Apply it only then.\n"
    );
    out.push_str("```hcl\n");
    let _ = writeln!(
        out,
        "removed {{\n  from = module.{module}\n\n  lifecycle {{\n    destroy = false\n  }}\n}}"
    );
    out.push_str("```\n\n");
    fence(
        &mut out,
        &["terraform plan    # \"0 to add, 0 to change, 0 to destroy\", and the module's resources under \"will no longer be managed\"".to_owned(), "terraform apply".to_owned()],
    );
    out.push_str("With an older Terraform, `terraform state rm module.");
    out.push_str(module);
    out.push_str("` does the same.\n\n");

    out.push_str("## 2. Stop the module's operator\n\n");
    // The chart labels its Deployment with the release (OP@v1.45.0:charts/fdb-operator/
    // templates/_helpers.tpl:46-49); the module's release is `fdb-operator`
    // (inferadb/terraform modules/fdb-operator/variables.tf).
    out.push_str("The module's operator release (`fdb-operator`) watches every namespace, so it would also reconcile infera-render's `FoundationDBCluster` objects: two operators on one object. Scale it to zero first:\n\n");
    fence(
        &mut out,
        &namespaces
            .iter()
            .map(|namespace| format!("kubectl --context \"$TF_CONTEXT\" -n {namespace}-system scale deployment -l app.kubernetes.io/instance=fdb-operator --replicas=0"))
            .collect::<Vec<_>>(),
    );

    out.push_str("## 3. Render, and read what changes\n\n");
    fence(
        &mut out,
        &[
            format!("infera-render diff -f {spec_path} -o out/"),
            format!("infera-render render -f {spec_path} -o out/"),
        ],
    );
    let _ = writeln!(
        out,
        "infera-render's database is a new one: its `FoundationDBCluster` objects are {}, with their own datacenters, where the module's was `{cluster}` in every namespace, each bootstrapping its own database. Nothing moves the module's data: if it holds data you need, copy it with FoundationDB's backup and restore (`fdbbackup` and `fdbrestore`, with backup agents running) before step 4, and keep the module's cluster until you have checked the copy.\n",
        clusters.join(", ")
    );

    out.push_str("## 4. Apply, taking the objects over once\n\n");
    out.push_str("The module's Deployment `inferadb-engine` and its Services `inferadb-engine` and `inferadb-engine-headless` have the names infera-render's have, but another label selector (which an apply cannot change on a Deployment) and ports Terraform's field manager keeps owning after a forced apply. The module's engine never served FoundationDB (its environment variable names were not the engine's, and its ServiceAccount was never created), so delete the three. Then apply with `--force-conflicts` once, for what else Terraform's field manager still owns, and follow `out/APPLY.md` from there (its commands without `--force-conflicts`). Where a region uses `$TF_CONTEXT` and the module's namespace, infera-render's operator there also reconciles the module's `FoundationDBCluster` (and moves it to its own operator version) until step 5: have its data copied first.\n\n");
    let mut lines: Vec<String> = Vec::new();
    for namespace in &namespaces {
        lines.push(format!("kubectl --context \"$TF_CONTEXT\" -n {namespace} delete deployment inferadb-engine --ignore-not-found"));
        lines.push(format!("kubectl --context \"$TF_CONTEXT\" -n {namespace} delete service inferadb-engine inferadb-engine-headless --ignore-not-found"));
    }
    for region in &plan.regions {
        lines.push(format!(
            "kubectl{} apply --server-side --force-conflicts -k out/{}/",
            region.kubectl_flags(),
            region.id
        ));
    }
    fence(&mut out, &lines);

    out.push_str("## 5. Delete what only the module used\n\n");
    let _ = writeln!(
        out,
        "Once infera-render's deployment is up (`out/APPLY.md`, \"Check\"), and the module's data is copied or not needed. Deleting the `FoundationDBCluster` deletes its volumes:\n"
    );
    let mut lines = Vec::new();
    for namespace in &namespaces {
        let at = format!("kubectl --context \"$TF_CONTEXT\" -n {namespace}");
        lines.push(format!("{at} delete foundationdbcluster {cluster}"));
        lines.push(format!(
            "{at} delete secret {cluster}-cluster-file --ignore-not-found"
        ));
        lines.push(format!(
            "{at} delete configmap {cluster}-config --ignore-not-found"
        ));
        if plan.monitoring.monitors {
            lines.push(format!(
                "{at} delete servicemonitor {cluster}-fdb --ignore-not-found"
            ));
        }
        if let Some(secret) = &tailscale_secret {
            lines.push(format!("{at} delete secret {secret} --ignore-not-found   # the module's copy of the auth key"));
        }
    }
    for namespace in &namespaces {
        let system = format!("{namespace}-system");
        if plan.monitoring.monitors {
            lines.push(format!("kubectl --context \"$TF_CONTEXT\" -n {system} delete servicemonitor fdb-operator-metrics --ignore-not-found"));
        }
        lines.push(format!(
            "helm --kube-context \"$TF_CONTEXT\" -n {system} uninstall fdb-operator"
        ));
        lines.push(format!("kubectl --context \"$TF_CONTEXT\" delete namespace {system}   # the module created it for the operator"));
    }
    fence(&mut out, &lines);
    // The chart keeps its CRDs in crds/ (OP@v1.45.0:charts/fdb-operator/crds/, the same at
    // v2.33.0), which Helm installs but never deletes.
    out.push_str("`helm uninstall` leaves the CRDs in place (the chart keeps them in `crds/`, which Helm never deletes); infera-render's operators use them.\n\n");

    out.push_str("## 6. Rotate the Tailscale key\n\n");
    if key_in_state {
        out.push_str("The module passed `tailscale.auth_key` to a Terraform resource, so the key is in Terraform's state, in plain text, and in every copy of it. Revoke it in the Tailscale admin console (Settings, Keys), and create the keys `out/APPLY.md` lists (\"Before you start\") as Secrets; none of them is ever in the spec or the output.\n\n");
    } else {
        out.push_str("The module was given no `tailscale.auth_key`, so no key is in Terraform's state; create the keys `out/APPLY.md` lists (\"Before you start\") as Secrets.\n\n");
    }

    out.push_str("## 7. Check\n\n");
    fence(
        &mut out,
        &[
            format!("terraform state list | grep -c '^module.{module}\\.'   # 0"),
            "kubectl --context \"$TF_CONTEXT\" get foundationdbclusters -A   # only infera-render's, where a region uses this context".to_owned(),
            format!("infera-render diff -f {spec_path} -o out/   # exit code 0"),
        ],
    );
    out
}
