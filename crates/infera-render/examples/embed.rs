//! Embedding infera-render: build a spec in code, render it, print one region.
//!
//! `cargo run --example embed` (from the workspace root).

use infera_render::spec::{MultiRegionSpec, Region, SatelliteRedundancyMode};

fn region(id: &str, primary: bool, priority: i32, zones: &[&str], cidr: &str) -> Region {
    let mut region = Region::new(id, primary, priority);
    region.zones = zones.iter().map(|zone| (*zone).to_owned()).collect();
    region.pod_cidr = Some(cidr.to_owned());
    region.kubernetes.config_context = Some(format!("eks-{id}"));
    region
}

fn main() -> Result<(), infera_render::Error> {
    let mut spec = MultiRegionSpec {
        regions: vec![
            region(
                "us-west-1",
                true,
                1,
                &["us-west-1a", "us-west-1b"],
                "10.10.0.0/16",
            ),
            region(
                "eu-central-1",
                false,
                2,
                &["eu-central-1a", "eu-central-1b"],
                "10.20.0.0/16",
            ),
        ],
        operator_version: "2.33.0".to_owned(),
        ..MultiRegionSpec::default()
    };
    spec.fearless_dr.usable_regions = 2;
    spec.fearless_dr.satellite_redundancy_mode = Some(SatelliteRedundancyMode::OneSatelliteDouble);
    spec.tailscale.image = "tailscale/tailscale:v1.78.3".to_owned();

    let rendered = infera_render::render(&spec)?;
    for warning in &rendered.plan.warnings {
        eprintln!("{warning}");
    }
    for notice in &rendered.notices {
        eprintln!("note: {notice}");
    }
    print!("{}", rendered.stream(Some("us-west-1")));
    Ok(())
}
