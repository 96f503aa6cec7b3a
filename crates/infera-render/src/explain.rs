//! The human-readable plan printed by `infera-render plan`: regions, datacenters, roles, FDB
//! priorities and their conversion, satellites, bootstrap phases, trade-offs and warnings.

use crate::model::failure::Layout;
use crate::names::App;
use crate::plan::failures as resilience;
use crate::plan::{Bootstrap, DatacenterId, DatacenterKind, Plan, RegionRole};
use std::fmt::Write;

/// Lays out rows as left-aligned columns separated by two spaces.
fn table(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = indent.to_owned();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The plan as text, for humans. Deterministic: the same plan always gives the same text.
#[must_use]
pub fn explain(plan: &Plan) -> String {
    let fdb = &plan.fdb;
    let mut out = String::new();
    let satellites = match fdb.satellite_redundancy_mode {
        Some(mode) if plan.satellites_in_use() => {
            format!("{} · satellite_logs {}", mode.as_str(), fdb.satellite_logs)
        }
        _ => "none".to_owned(),
    };
    let _ = writeln!(out, "FoundationDB cluster {}", plan.cluster_name);
    let _ = writeln!(
        out,
        "  FoundationDB {} · operator v{} · redundancy {} · storage engine {}",
        plan.fdb_version,
        plan.operator_version,
        fdb.redundancy_mode.as_str(),
        fdb.storage_engine.as_str()
    );
    let _ = writeln!(
        out,
        "  Fearless DR {} · usable_regions {} · satellites: {} · {} coordinators",
        if fdb.fearless_dr { "on" } else { "off" },
        fdb.usable_regions,
        satellites,
        plan.coordinators
    );

    out.push_str("\nRegions (priority: lower = preferred, as in the Terraform module)\n");
    let mut rows = vec![vec![
        "rank".to_owned(),
        "region".to_owned(),
        "priority".to_owned(),
        "role".to_owned(),
        "context".to_owned(),
        "namespace".to_owned(),
    ]];
    for region in plan.regions_by_rank() {
        let role = match region.role {
            RegionRole::Active => "active FDB region".to_owned(),
            RegionRole::Dr => "DR FDB region".to_owned(),
            RegionRole::Satellite => "satellite site".to_owned(),
            RegionRole::Client => "client (no FDB)".to_owned(),
        };
        rows.push(vec![
            (region.rank + 1).to_string(),
            format!("{}{}", region.id, if region.is_primary { " *" } else { "" }),
            region.priority.to_string(),
            role,
            region
                .kubernetes
                .config_context
                .clone()
                .unwrap_or_else(|| "(current)".to_owned()),
            region.namespace.clone(),
        ]);
    }
    out.push_str(&table(&rows, "  "));
    out.push_str("  (* is_primary)\n");

    out.push_str("\nDatacenters (one FoundationDBCluster each)\n");
    let mut rows = vec![vec![
        "datacenter".to_owned(),
        "kind".to_owned(),
        "region".to_owned(),
        "zone".to_owned(),
        "processes".to_owned(),
        "object".to_owned(),
    ]];
    for datacenter in &plan.datacenters {
        let counts = datacenter.process_counts;
        let processes = match datacenter.kind {
            DatacenterKind::Primary => format!(
                "storage {} · log {} · stateless {}",
                counts.storage.unwrap_or(0),
                counts.log,
                counts.stateless.unwrap_or(0)
            ),
            DatacenterKind::Satellite => format!("log {} (log-only)", counts.log),
        };
        rows.push(vec![
            datacenter.id.clone(),
            match datacenter.kind {
                DatacenterKind::Primary => "primary".to_owned(),
                DatacenterKind::Satellite => "satellite".to_owned(),
            },
            plan.regions[datacenter.region].id.clone(),
            datacenter
                .zone
                .clone()
                .unwrap_or_else(|| "(any)".to_owned()),
            processes,
            datacenter.resource_name.clone(),
        ]);
    }
    out.push_str(&table(&rows, "  "));

    out.push_str(
        "\nFDB regions (databaseConfiguration.regions; FDB priority: higher = preferred)\n",
    );
    for (position, fdb_region) in plan.fdb_regions.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {} ({})",
            position + 1,
            plan.regions[fdb_region.region].id,
            if fdb_region.active { "active" } else { "DR" }
        );
        let mut rows = vec![vec![
            plan.datacenters[fdb_region.primary.datacenter].id.clone(),
            "primary".to_owned(),
            format!("priority {}", fdb_region.primary.fdb_priority),
        ]];
        for satellite in &fdb_region.satellites {
            let datacenter = &plan.datacenters[satellite.datacenter];
            let note = if datacenter.kind == DatacenterKind::Primary {
                "satellite (last resort: the other region's primary)"
            } else if datacenter.region == fdb_region.region {
                "satellite (same cloud region)"
            } else {
                "satellite (satellite site)"
            };
            rows.push(vec![
                datacenter.id.clone(),
                note.to_owned(),
                format!("priority {}", satellite.fdb_priority),
            ]);
        }
        out.push_str(&table(&rows, "       "));
    }

    out.push_str("\nPriority conversion (module: lower wins → FoundationDB: higher wins)\n");
    let mut rows = Vec::new();
    for region in plan.regions_by_rank() {
        let result = match (region.role, region.fdb_region) {
            (RegionRole::Active | RegionRole::Dr, Some(index)) => {
                let priority = plan.fdb_regions[index].primary.fdb_priority;
                if region.role == RegionRole::Active {
                    format!("FDB priority {priority}: the active region")
                } else if priority >= 0 {
                    format!(
                        "FDB priority {priority}: can become active by itself (>= 0; see If this is lost)"
                    )
                } else {
                    format!(
                        "FDB priority {priority}: holds no replica and never becomes active (usable_regions 1)"
                    )
                }
            }
            (RegionRole::Satellite, _) => "satellite priorities inside each FDB region".to_owned(),
            (RegionRole::Active | RegionRole::Dr | RegionRole::Client, _) => {
                "no FDB priority (client region)".to_owned()
            }
        };
        rows.push(vec![
            region.id.clone(),
            format!("priority {} (rank {})", region.priority, region.rank + 1),
            format!("→ {result}"),
        ]);
    }
    out.push_str(&table(&rows, "  "));

    let unused: Vec<String> = plan
        .regions
        .iter()
        .filter(|region| !region.zones_without_fdb.is_empty())
        .map(|region| format!("{} ({})", region.zones_without_fdb.join(", "), region.id))
        .collect();
    if !unused.is_empty() {
        let _ = writeln!(
            out,
            "\nZones without FoundationDB (engine and control still spread over them): {}",
            unused.join("; ")
        );
    }

    out.push_str("\nBootstrap\n");
    match &plan.bootstrap {
        Bootstrap::SingleDatacenter => {
            out.push_str("  one datacenter: applied in one step, nothing to seed\n")
        }
        Bootstrap::PhaseOne { datacenter } => {
            let datacenter = &plan.datacenters[*datacenter];
            let region = &plan.regions[datacenter.region];
            let context = region
                .kubernetes
                .config_context
                .as_deref()
                .map(|context| format!("--context {context} "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  phase 1 (this output: no seed connection string): datacenter {} alone, as a single-datacenter region with usable_regions 1",
                datacenter.id
            );
            let _ = writeln!(
                out,
                "    wait for it, then read the seed: kubectl {context}-n {} get foundationdbcluster {} -o jsonpath='{{.status.connectionString}}'",
                region.namespace, datacenter.resource_name
            );
            let _ = writeln!(
                out,
                "  phase 2: re-render with --seed-connection-string '<that string>' (or pipe `kubectl get foundationdbcluster {} -o json` into --seed-from -): every datacenter ({}) with the full configuration",
                datacenter.resource_name,
                plan.datacenters.len()
            );
        }
        Bootstrap::Seeded { .. } => {
            let _ = writeln!(
                out,
                "  phase 2 (seed connection string given): all {} datacenters join the cluster created in phase 1",
                plan.datacenters.len()
            );
        }
    }

    out.push_str(&configuration_changes(plan));
    out.push_str(&coordinators(plan));
    out.push_str(&failures(plan));
    out.push_str(&network(plan));

    let notes = trade_offs(plan);
    if !notes.is_empty() {
        out.push_str("\nTrade-offs\n");
        for note in notes {
            let _ = writeln!(out, "  - {note}");
        }
    }

    if plan.warnings.is_empty() {
        out.push_str("\nNo warnings.\n");
    } else {
        let _ = writeln!(out, "\nWarnings ({})", plan.warnings.warning_count());
        for warning in &plan.warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    out
}

/// Which object changes the database configuration.
fn configuration_changes(plan: &Plan) -> String {
    let count = plan.datacenters.len();
    if count < 2 {
        return String::new();
    }
    let configuring = &plan.datacenters[plan.configuring_datacenter];
    let others = if count == 2 {
        "the other object".to_owned()
    } else {
        format!("the other {} objects", count - 1)
    };
    format!(
        "\nConfiguration changes\n  only {} changes the database configuration (automationOptions.configureDatabase: false on {others}), so the operators of different regions never undo each other's staged changes, whatever order the regions are applied in\n",
        configuring.resource_name,
    )
}

/// Where the operator places the coordinators, and the nodes each datacenter needs.
fn coordinators(plan: &Plan) -> String {
    let complete = plan.failures.complete();
    let analysis = &complete.analysis;
    let per_datacenter = if analysis.per_datacenter_limit < analysis.coordinators {
        format!(
            "at most {} per datacenter and ",
            analysis.per_datacenter_limit
        )
    } else {
        String::new()
    };
    let mut out = format!(
        "\nCoordinators ({}{}; {per_datacenter}1 per node; one FoundationDB pod per node assumed)\n",
        analysis.coordinators,
        if plan.failures.after_phase_two.is_some() {
            " after phase 2"
        } else {
            ""
        },
    );
    let mut rows = vec![vec![
        "datacenter".to_owned(),
        "coordinators".to_owned(),
        "nodes needed".to_owned(),
    ]];
    for (index, coordinators, nodes) in resilience::nodes_needed(plan) {
        rows.push(vec![
            plan.datacenters[index].id.clone(),
            coordinators.to_string(),
            nodes.to_string(),
        ]);
    }
    out.push_str(&table(&rows, "  "));
    match &analysis.placement {
        Ok(_) if complete.topology.datacenters.len() > 1 => out.push_str("  with every datacenter up, the operator places them as shown, and again whenever it replaces one; while datacenters are still joining it can place them differently (If this is lost counts the worst case). Nodes needed: distinct nodes with FoundationDB pods (one coordinator per node, one replica or log copy per node)\n"),
        Ok(_) => out.push_str("  nodes needed: distinct nodes with FoundationDB pods (one coordinator per node, one replica per node)\n"),
        Err(not_enough) => {
            let _ = writeln!(
                out,
                "  the operator can choose only {} of {}: it keeps the phase-1 coordinators",
                not_enough.chosen, not_enough.desired
            );
        }
    }
    // Item 7 of the FoundationDB review (U5): the fault domain stays the node. Making it the
    // zone would allow at most one coordinator per zone (the operator's hard limit,
    // OP@v2.33.0:internal/locality/locality.go:309-338), which three zones cannot satisfy.
    let other_replica = complete.topology.usable_regions == 2;
    for region in &plan.regions {
        if region.zones.is_empty() && !region.datacenters.is_empty() {
            let _ = writeln!(
                out,
                "  {} lists no zones: its datacenter spreads over the cluster's zones and FoundationDB's fault domain is the node, so every replica of a shard can be in one zone; losing that zone makes those shards unavailable{}. List the region's zones to pin each datacenter to one",
                region.id,
                if other_replica {
                    " until FoundationDB copies them back from the other region"
                } else {
                    ", and loses them if the zone does not come back (no other region holds a replica)"
                }
            );
        }
    }
    out
}

/// The failure scenarios: of this output, and in phase 1 also after phase 2.
fn failures(plan: &Plan) -> String {
    let mut out = String::new();
    let heading = match plan.bootstrap {
        Bootstrap::PhaseOne { .. } => {
            "If this is lost (this output, phase 1: the bootstrap datacenter alone)"
        }
        _ => "If this is lost",
    };
    failure_table(&mut out, heading, plan, &plan.failures.rendered);
    if let Some(after) = &plan.failures.after_phase_two {
        failure_table(&mut out, "If this is lost (after phase 2)", plan, after);
    }
    out
}

fn failure_table(
    out: &mut String,
    heading: &str,
    plan: &Plan,
    failure: &resilience::FailureAnalysis,
) {
    let _ = writeln!(out, "\n{heading}");
    let mut rows = vec![vec![
        "lost".to_owned(),
        "recovery".to_owned(),
        "data loss".to_owned(),
        "coordinators left".to_owned(),
    ]];
    let table_rows = resilience::table(plan, failure);
    for [lost, recovery, data_loss, left, _] in &table_rows {
        rows.push(vec![
            lost.clone(),
            recovery.clone(),
            data_loss.clone(),
            left.clone(),
        ]);
    }
    out.push_str(&table(&rows, "  "));
    out.push_str("  what to do:\n");
    for [lost, _, _, _, action] in &table_rows {
        let _ = writeln!(out, "  - {lost}: {action}");
    }
}

/// Engine, control and Tailscale per region.
fn network(plan: &Plan) -> String {
    let mut out = String::from("\nWorkloads and network\n");
    if let Some(tailscale) = &plan.tailscale {
        let _ = writeln!(
            out,
            "  Tailscale {} ({}): a subnet router per region advertises its pod_cidr; FoundationDB, operator, engine and control pods run a kernel-mode sidecar that accepts the other regions' routes",
            tailscale.image,
            if tailscale.shared() {
                format!("shared_key: every pod carries {}", tailscale.shared_tag)
            } else {
                tailscale.credentials.as_str().to_owned()
            }
        );
    } else {
        out.push_str("  Tailscale off: the regions' pod networks must reach each other some other way (FoundationDB advertises pod IPs)\n");
    }
    let mut rows = Vec::new();
    for region in plan.regions_by_rank() {
        let app = |app: App| match plan.app_settings(app) {
            Some(settings) => format!("{} x{}", app.short_name(), settings.replicas),
            None => format!("no {}", app.short_name()),
        };
        let route = match (region.pod_network, plan.tailscale.is_some()) {
            (Some(cidr), true) => format!("routes {cidr}"),
            (None, true) => "no pod_cidr: not routed".to_owned(),
            (Some(cidr), false) => format!("pod_cidr {cidr}"),
            (None, false) => String::new(),
        };
        rows.push(vec![
            region.id.clone(),
            app(App::Engine),
            app(App::Control),
            route,
        ]);
    }
    out.push_str(&table(&rows, "  "));
    out
}

fn trade_offs(plan: &Plan) -> Vec<String> {
    let mut notes = Vec::new();
    let same_region_satellites = plan.fdb_regions.iter().any(|fdb_region| {
        fdb_region
            .satellites
            .iter()
            .any(|satellite| plan.datacenters[satellite.datacenter].region == fdb_region.region)
    });
    let usable = plan.fdb_regions.len() == 2 && plan.fdb.usable_regions == 2;
    if same_region_satellites && usable {
        notes.push(
            "zone satellites: commits wait for a log write in another zone of the same cloud region (low added latency); they die with their region, so they cover the loss of a datacenter, not of the region".to_owned(),
        );
    }
    let tail: Vec<DatacenterId> =
        match (plan.fdb_regions.first(), plan.fdb.satellite_redundancy_mode) {
            (Some(active), Some(mode)) if usable => active
                .satellites
                .iter()
                .take(mode.satellite_datacenters())
                .map(|satellite| satellite.datacenter)
                .collect(),
            _ => Vec::new(),
        };
    for region in &plan.regions {
        match region.role {
            RegionRole::Satellite if region.datacenters.iter().any(|dc| tail.contains(dc)) => notes.push(format!(
                "{} is a satellite site that holds the log tail: every commit waits for a round trip to it",
                region.id
            )),
            RegionRole::Satellite => notes.push(format!(
                "{} is a fallback satellite site: commits wait for it only while the zone satellites are down; it holds coordinators but not the log tail",
                region.id
            )),
            RegionRole::Client => {
                let mut note = format!(
                    "{} is a client region: it stores no FoundationDB data (FoundationDB keeps at most 2 regions); its engine and control reach the FDB regions across the network",
                    region.id
                );
                let triplet = plan.failures.third_site.as_ref().is_some_and(|third| {
                    third.region.as_deref() == Some(region.id.as_str())
                        && third.alternatives.iter().any(|alternative| {
                            alternative.layout == Layout::Triplet
                                && alternative.every_region_loss_automatic()
                        })
                });
                if triplet {
                    note.push_str(". Alternative: the satellite site of both FDB regions (fdb_role: satellite, one zone per FDB region: the operator's triplet): the loss of any one region is then recovered automatically, at a cross-region round trip on every commit");
                }
                notes.push(note);
            }
            RegionRole::Active | RegionRole::Dr => {}
        }
    }
    if usable {
        notes.push("usable_regions 2: both FDB regions hold a full replica; the DR region is asynchronously up to date (which losses it takes over from by itself: If this is lost)".to_owned());
    }
    notes
}
