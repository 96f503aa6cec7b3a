//! The human-readable plan printed by `infera-render plan`: regions, datacenters, roles, FDB
//! priorities and their conversion, satellites, bootstrap phases, trade-offs and warnings.

use crate::plan::{Bootstrap, DatacenterKind, Plan, RegionRole};
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
    let spec = &plan.spec;
    let fearless = &spec.fearless_dr;
    let mut out = String::new();
    let satellites = match fearless.satellite_redundancy_mode {
        Some(mode) if plan.satellites_in_use() => format!(
            "{} · satellite_logs {}",
            mode.as_str(),
            fearless.satellite_logs_or_default()
        ),
        _ => "none".to_owned(),
    };
    let _ = writeln!(out, "FoundationDB cluster {}", spec.cluster_name);
    let _ = writeln!(
        out,
        "  FoundationDB {} · operator v{} · redundancy {} · storage engine {}",
        plan.fdb_version,
        plan.operator_version,
        spec.redundancy_mode.as_str(),
        spec.storage_engine.as_str()
    );
    let _ = writeln!(
        out,
        "  Fearless DR {} · usable_regions {} · satellites: {} · {} coordinators",
        if fearless.enabled { "on" } else { "off" },
        fearless.usable_regions,
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
        let spec_region = plan.region_spec(region.index);
        let role = match region.role {
            RegionRole::FdbRegion(0) => "active FDB region".to_owned(),
            RegionRole::FdbRegion(_) => "DR FDB region".to_owned(),
            RegionRole::Satellite => "satellite site".to_owned(),
            RegionRole::Client => "client (no FDB)".to_owned(),
        };
        rows.push(vec![
            (region.rank + 1).to_string(),
            format!(
                "{}{}",
                region.id,
                if spec_region.is_primary { " *" } else { "" }
            ),
            spec_region.priority.to_string(),
            role,
            spec_region
                .kubernetes
                .config_context
                .clone()
                .unwrap_or_else(|| "(current)".to_owned()),
            spec_region.namespace.clone(),
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
                counts.storage, counts.log, counts.stateless
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
        let spec_region = plan.region_spec(region.index);
        let result = match region.role {
            RegionRole::FdbRegion(index) => {
                let priority = plan.fdb_regions[index].primary.fdb_priority;
                if index == 0 {
                    format!("FDB priority {priority}: the active region")
                } else {
                    format!("FDB priority {priority}: automatic failover target (>= 0)")
                }
            }
            RegionRole::Satellite => "satellite priorities inside each FDB region".to_owned(),
            RegionRole::Client => "no FDB priority (client region)".to_owned(),
        };
        rows.push(vec![
            region.id.clone(),
            format!(
                "priority {} (rank {})",
                spec_region.priority,
                region.rank + 1
            ),
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
            let region = plan.region_spec(datacenter.region);
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
                "  phase 2: re-render with --seed-connection-string '<that string>': every datacenter ({}) with the full configuration",
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

/// Engine, control and Tailscale per region.
fn network(plan: &Plan) -> String {
    let spec = &plan.spec;
    let mut out = String::from("\nWorkloads and network\n");
    let tailscale = &spec.tailscale;
    if tailscale.enabled {
        let _ = writeln!(
            out,
            "  Tailscale {} ({}): a subnet router per region advertises its pod_cidr; FoundationDB, operator, engine and control pods run a kernel-mode sidecar that accepts the other regions' routes",
            tailscale.image,
            tailscale.credentials.as_str()
        );
    } else {
        out.push_str("  Tailscale off: the regions' pod networks must reach each other some other way (FoundationDB advertises pod IPs)\n");
    }
    let mut rows = Vec::new();
    for region in plan.regions_by_rank() {
        let spec_region = plan.region_spec(region.index);
        let app = |enabled: bool, replicas: u32, name: &str| {
            if enabled {
                format!("{name} x{replicas}")
            } else {
                format!("no {name}")
            }
        };
        let route = match (&spec_region.pod_cidr, tailscale.enabled) {
            (Some(cidr), true) => format!("routes {cidr}"),
            (None, true) => "no pod_cidr: not routed".to_owned(),
            (Some(cidr), false) => format!("pod_cidr {cidr}"),
            (None, false) => String::new(),
        };
        rows.push(vec![
            region.id.clone(),
            app(spec.engine.enabled, spec.engine.replicas, "engine"),
            app(spec.control.enabled, spec.control.replicas, "control"),
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
    if same_region_satellites {
        notes.push(
            "zone satellites: commits wait for a log write in another zone of the same cloud region (low added latency); losing the active datacenter loses no committed data".to_owned(),
        );
    }
    for region in &plan.regions {
        match region.role {
            RegionRole::Satellite => notes.push(format!(
                "{} is a satellite site: every commit waits for a round trip to it; the cluster survives the loss of a whole region without losing committed data",
                region.id
            )),
            RegionRole::Client => notes.push(format!(
                "{} is a client region: it stores no FoundationDB data (FoundationDB keeps at most 2 regions); its engine and control reach the FDB regions across the network. Alternative: fdb_role: satellite (durable against a full region loss, but a cross-region round trip on every commit)",
                region.id
            )),
            RegionRole::FdbRegion(_) => {}
        }
    }
    if plan.fdb_regions.len() == 2 && plan.spec.fearless_dr.usable_regions == 2 {
        notes.push("usable_regions 2: both FDB regions hold a full replica; the DR region is asynchronously up to date and takes over automatically".to_owned());
    }
    notes
}
