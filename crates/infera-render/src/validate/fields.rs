//! Checks of each input on its own: names, versions, images, quantities, CIDRs, labels.

use super::Inputs;
use super::limits::{MAX_PROCESS_COUNT, MAX_REGIONS, MAX_REPLICAS, MAX_ZONES};
use crate::diagnostics::{Diagnostic, Diagnostics, FieldPath};
use crate::syntax::connection_string::connection_string_problem;
use crate::syntax::image::parse_image;
use crate::syntax::names::{
    dns_label_problem, dns_subdomain_problem, dns1035_label_problem, label_key_problem,
    label_value_problem,
};
use crate::syntax::quantity::{ParsedQuantity, parse_quantity};
use crate::syntax::version::Version;
use infera_spec::{
    MultiRegionSpec, Quantity, Region, Resources, TailscaleCredentials, TaintEffect,
    TolerationOperator,
};
use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet};

/// Lowest FDB version each operator major version supports (OP v2.33.0
/// api/v1beta2/foundationdb_version.go; fdb-multi-region.md §3.1).
const OPERATOR_V1_MIN_FDB: Version = Version::new(6, 2, 20);
const OPERATOR_V2_MIN_FDB: Version = Version::new(7, 1, 0);

use crate::names::labels::RESERVED_PREFIXES as RESERVED_LABEL_PREFIXES;

fn path() -> FieldPath {
    FieldPath::root()
}

/// Checks every field on its own. Returns the FDB and operator versions when both parse.
pub fn check(
    spec: &MultiRegionSpec,
    inputs: &Inputs<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<(Version, Version)> {
    check_regions(spec, diagnostics);
    if let Some(problem) = dns1035_label_problem(&spec.cluster_name) {
        diagnostics.push(
            Diagnostic::error(path().key("cluster_name"), problem)
                .with_help("cluster_name prefixes every FoundationDBCluster, pod and Service name"),
        );
    }
    check_quantity(
        &path().key("volume_size"),
        &spec.volume_size,
        true,
        diagnostics,
    );
    check_seed(spec, inputs, diagnostics);
    check_workloads(spec, diagnostics);
    check_tailscale(spec, inputs, diagnostics);
    check_control(spec, diagnostics);
    check_labels(&path().key("labels"), &spec.labels, true, diagnostics);
    check_versions(spec, diagnostics)
}

fn check_regions<'a>(spec: &'a MultiRegionSpec, diagnostics: &mut Diagnostics) {
    let regions = path().key("regions");
    if spec.regions.is_empty() {
        diagnostics.push(
            Diagnostic::error(regions.clone(), "at least one region is required")
                .with_help("add a region with id, is_primary: true and priority"),
        );
        return;
    }
    if spec.regions.len() > MAX_REGIONS {
        diagnostics.error(
            regions.clone(),
            format!(
                "{} regions is more than the {MAX_REGIONS} a spec may have",
                spec.regions.len()
            ),
        );
    }
    let mut ids: BTreeMap<&'a str, usize> = BTreeMap::new();
    let mut zones: BTreeMap<&'a str, (usize, usize)> = BTreeMap::new();
    let mut cidrs: Vec<(usize, IpNet)> = Vec::new();
    let mut contexts: BTreeMap<&'a str, usize> = BTreeMap::new();
    for (index, region) in spec.regions.iter().enumerate() {
        let at = regions.clone().index(index);
        if let Some(problem) = dns_label_problem(&region.id) {
            diagnostics.error(at.clone().key("id"), problem);
        } else if let Some(first) = ids.insert(&region.id, index) {
            ids.insert(&region.id, first);
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("id"),
                    format!("duplicate region id `{}`", region.id),
                )
                .with_help(format!(
                    "regions[{first}] already uses it; region ids must be unique"
                )),
            );
        }
        if region
            .name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            diagnostics.error(
                at.clone().key("name"),
                "must not be empty (omit it to use the id)",
            );
        }
        if let Some(problem) = dns_label_problem(&region.namespace) {
            diagnostics.error(at.clone().key("namespace"), problem);
        }
        check_zones(region, &at, &mut zones, index, diagnostics);
        check_kubernetes(spec, region, &at, &mut contexts, index, diagnostics);
        if let Some(version) = &region.fdb_version
            && *version != spec.fdb_version
        {
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("fdb_version"),
                    format!(
                        "{version} differs from fdb_version {}: every datacenter of one FoundationDB cluster runs the same version",
                        spec.fdb_version
                    ),
                )
                .with_help("remove regions[].fdb_version, or set it to the top-level fdb_version"),
            );
        }
        check_process_counts(region, &at, diagnostics);
        if let Some(resources) = &region.resources {
            check_resources(&at.clone().key("resources"), resources, diagnostics);
        }
        if let Some(class) = &region.storage_class
            && let Some(problem) = dns_subdomain_problem(class)
        {
            diagnostics.error(at.clone().key("storage_class"), problem);
        }
        check_labels(
            &at.clone().key("node_selector"),
            &region.node_selector,
            false,
            diagnostics,
        );
        check_tolerations(region, &at, diagnostics);
        if let Some(cidr) = &region.pod_cidr {
            check_cidr(cidr, &at, index, &mut cidrs, diagnostics);
            if spec.tailscale.enabled {
                check_not_tailscale_range(cidr, &at, diagnostics);
            }
        }
    }
    check_primary_and_priorities(spec, diagnostics);
}

fn check_zones<'a>(
    region: &'a Region,
    at: &FieldPath,
    zones: &mut BTreeMap<&'a str, (usize, usize)>,
    index: usize,
    diagnostics: &mut Diagnostics,
) {
    if region.zones.len() > MAX_ZONES {
        diagnostics.error(
            at.clone().key("zones"),
            format!(
                "{} zones is more than the {MAX_ZONES} a region may list",
                region.zones.len()
            ),
        );
    }
    for (position, zone) in region.zones.iter().enumerate() {
        let zone_path = at.clone().key("zones").index(position);
        if let Some(problem) = dns_label_problem(zone) {
            diagnostics.push(Diagnostic::error(zone_path, problem).with_help(
                "zone names become FoundationDB datacenter ids and object names; use the cloud's zone name, e.g. `us-west-1a`",
            ));
            continue;
        }
        match zones.get(zone.as_str()) {
            Some(&(other, other_position)) if other == index => diagnostics.error(
                zone_path,
                format!("zone `{zone}` is listed twice (also zones[{other_position}])"),
            ),
            Some(&(other, other_position)) => diagnostics.push(
                Diagnostic::error(
                    zone_path,
                    format!("zone `{zone}` is also listed by regions[{other}].zones[{other_position}]"),
                )
                .with_help("a zone belongs to one region: zones name FoundationDB datacenters, which must be unique"),
            ),
            None => {
                zones.insert(zone, (index, position));
            }
        }
    }
}

fn check_kubernetes<'a>(
    spec: &'a MultiRegionSpec,
    region: &'a Region,
    at: &FieldPath,
    contexts: &mut BTreeMap<&'a str, usize>,
    index: usize,
    diagnostics: &mut Diagnostics,
) {
    let kubernetes = at.clone().key("kubernetes");
    match region.kubernetes.config_context.as_deref() {
        Some("") => diagnostics.error(kubernetes.clone().key("config_context"), "must not be empty"),
        Some(context) => {
            if let Some(&other) = contexts.get(context) {
                let other_region = &spec.regions[other];
                if other_region.namespace == region.namespace {
                    diagnostics.push(
                        Diagnostic::error(
                            kubernetes.clone().key("config_context"),
                            format!(
                                "regions[{other}] ({}) uses the same context `{context}` and namespace `{}`: their objects would overwrite each other",
                                other_region.id, region.namespace
                            ),
                        )
                        .with_help("give each region its own Kubernetes cluster (context), or at least its own namespace"),
                    );
                } else {
                    diagnostics.push(
                        Diagnostic::warning(
                            kubernetes.clone().key("config_context"),
                            format!(
                                "regions[{other}] ({}) uses the same context `{context}`: both regions land in one Kubernetes cluster, which is not failure-independent",
                                other_region.id
                            ),
                        )
                        .with_help("fine for a test cluster; in production each region is its own cluster"),
                    );
                }
            } else {
                contexts.insert(context, index);
            }
        }
        None if spec.regions.len() > 1 => diagnostics.push(
            Diagnostic::error(
                kubernetes.clone().key("config_context"),
                "required when the spec has more than one region",
            )
            .with_help(
                "each region is its own Kubernetes cluster; name the kubeconfig context that reaches it (the Terraform module ignored this input and put every region into one cluster)",
            ),
        ),
        None => {}
    }
    for (key, set) in [
        ("host", region.kubernetes.host.is_some()),
        ("token", region.kubernetes.token.is_some()),
        ("cluster_ca", region.kubernetes.cluster_ca.is_some()),
    ] {
        if set {
            diagnostics.push(
                Diagnostic::warning(
                    kubernetes.clone().key(key),
                    format!("`{key}` is ignored: infera-render never contacts a cluster"),
                )
                .with_help(if key == "token" {
                    "remove the token from the spec; credentials belong in the kubeconfig of whoever applies the output"
                } else {
                    "remove it; the apply steps use `config_context` (and `config_path`)"
                }),
            );
        }
    }
}

fn check_process_counts(region: &Region, at: &FieldPath, diagnostics: &mut Diagnostics) {
    let counts = region.process_counts;
    for (class, count) in [
        ("storage", counts.storage),
        ("log", counts.log),
        ("stateless", counts.stateless),
    ] {
        let count_path = at.clone().key("process_counts").key(class);
        if count == 0 {
            diagnostics.push(
                Diagnostic::error(count_path, "must be at least 1")
                    .with_help("every FoundationDB region's primary datacenter needs storage, log and stateless processes"),
            );
        } else if count > MAX_PROCESS_COUNT {
            diagnostics.error(
                count_path,
                format!("{count} is more than the {MAX_PROCESS_COUNT} this renderer allows"),
            );
        }
    }
}

fn check_tolerations(region: &Region, at: &FieldPath, diagnostics: &mut Diagnostics) {
    for (position, toleration) in region.tolerations.iter().enumerate() {
        let toleration_path = at.clone().key("tolerations").index(position);
        let exists = toleration.operator == Some(TolerationOperator::Exists);
        if exists
            && toleration
                .value
                .as_deref()
                .is_some_and(|value| !value.is_empty())
        {
            diagnostics.error(
                toleration_path.clone().key("value"),
                "must be empty with `operator: Exists` (Exists matches any value)",
            );
        }
        match toleration.key.as_deref() {
            None | Some("") if !exists => diagnostics.push(
                Diagnostic::error(
                    toleration_path.clone().key("key"),
                    "is required unless `operator: Exists`",
                )
                .with_help("an empty key with operator Exists tolerates every taint"),
            ),
            Some(key) if !key.is_empty() => {
                if let Some(problem) = label_key_problem(key) {
                    diagnostics.error(toleration_path.clone().key("key"), problem);
                }
            }
            _ => {}
        }
        if let Some(value) = toleration.value.as_deref()
            && let Some(problem) = label_value_problem(value)
        {
            diagnostics.error(toleration_path.clone().key("value"), problem);
        }
        if toleration.toleration_seconds.is_some()
            && toleration.effect != Some(TaintEffect::NoExecute)
        {
            diagnostics.push(
                Diagnostic::error(
                    toleration_path.key("toleration_seconds"),
                    "is only valid with `effect: NoExecute` (Kubernetes rejects it otherwise)",
                )
                .with_help("set effect: NoExecute, or remove toleration_seconds"),
            );
        }
    }
}

fn check_cidr(
    cidr: &str,
    at: &FieldPath,
    index: usize,
    cidrs: &mut Vec<(usize, IpNet)>,
    diagnostics: &mut Diagnostics,
) {
    let cidr_path = at.clone().key("pod_cidr");
    let Ok(network) = cidr.parse::<IpNet>() else {
        diagnostics.push(
            Diagnostic::error(cidr_path, format!("`{cidr}` is not a CIDR"))
                .with_help("write the pod network as address/prefix, e.g. `10.10.0.0/16`"),
        );
        return;
    };
    if network.trunc() != network {
        diagnostics.push(
            Diagnostic::error(cidr_path, format!("`{cidr}` has host bits set"))
                .with_help(format!("did you mean `{}`?", network.trunc())),
        );
        return;
    }
    for (other, other_network) in cidrs.iter() {
        if other_network.contains(&network) || network.contains(other_network) {
            diagnostics.push(
                Diagnostic::error(
                    cidr_path.clone(),
                    format!("`{network}` overlaps regions[{other}].pod_cidr `{other_network}`"),
                )
                .with_help("pod CIDRs are routed between regions, so they must not overlap; give each cluster its own range"),
            );
        }
    }
    cidrs.push((index, network));
}

/// Tailscale's own address ranges: the CGNAT range its nodes get 100.x addresses from, and its
/// IPv6 ULA prefix.
const TAILSCALE_RANGES: [&str; 2] = ["100.64.0.0/10", "fd7a:115c:a1e0::/48"];

/// A pod network inside Tailscale's ranges breaks every sidecar pod: tailscaled drops packets
/// from 100.64.0.0/10 that do not arrive on tailscale0 (`ts-input ! -i tailscale0 -s
/// 100.64.0.0/10 -j DROP`, tailscale@v1.78.3:util/linuxfw/iptables_runner.go:318-331), and peers'
/// /32 routes live in the same range.
fn check_not_tailscale_range(cidr: &str, at: &FieldPath, diagnostics: &mut Diagnostics) {
    let Ok(network) = cidr.parse::<IpNet>() else {
        return;
    };
    for range in TAILSCALE_RANGES {
        let Ok(range) = range.parse::<IpNet>() else {
            continue;
        };
        if range.contains(&network)
            || network.contains(&range)
            || range.contains(&network.network())
        {
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("pod_cidr"),
                    format!("`{network}` overlaps Tailscale's address range {range}: the sidecars drop traffic from it that does not arrive over Tailscale, so pods in this range could not talk to sidecar pods at all"),
                )
                .with_help("use a pod network outside 100.64.0.0/10 and fd7a:115c:a1e0::/48 (EKS custom networking often puts pods in 100.64.0.0/10: pick secondary CIDRs elsewhere, or disable Tailscale and route the pod networks another way)"),
            );
        }
    }
}

fn check_primary_and_priorities(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
    let regions = path().key("regions");
    let primaries: Vec<usize> = spec
        .regions
        .iter()
        .enumerate()
        .filter_map(|(index, region)| region.is_primary.then_some(index))
        .collect();
    match primaries.as_slice() {
        [] => diagnostics.push(
            Diagnostic::error(regions.clone(), "no region has `is_primary: true`")
                .with_help("mark exactly one region as primary: the one with the lowest priority"),
        ),
        [_] => {}
        [first, rest @ ..] => {
            for index in rest {
                diagnostics.push(
                    Diagnostic::error(
                        regions.clone().index(*index).key("is_primary"),
                        format!("regions[{first}] is already the primary region; exactly one region is primary"),
                    )
                    .with_help("set is_primary: false here; failover order comes from priority"),
                );
            }
        }
    }
    let mut seen: BTreeMap<i32, usize> = BTreeMap::new();
    for (index, region) in spec.regions.iter().enumerate() {
        if let Some(&other) = seen.get(&region.priority) {
            diagnostics.push(
                Diagnostic::error(
                    regions.clone().index(index).key("priority"),
                    format!(
                        "priority {} is also used by regions[{other}] ({}): the failover order is ambiguous",
                        region.priority, spec.regions[other].id
                    ),
                )
                .with_help("give every region a distinct priority (lower = preferred)"),
            );
        } else {
            seen.insert(region.priority, index);
        }
    }
    if let [primary] = primaries.as_slice() {
        let primary_region = &spec.regions[*primary];
        if let Some((preferred, preferred_region)) = spec
            .regions
            .iter()
            .enumerate()
            .filter(|(_, region)| region.priority < primary_region.priority)
            .min_by_key(|(_, region)| region.priority)
        {
            diagnostics.push(
                Diagnostic::error(
                    regions.clone().index(*primary).key("priority"),
                    format!(
                        "the primary region {} has priority {}, but regions[{preferred}] ({}) has the preferred priority {} (lower = preferred)",
                        primary_region.id, primary_region.priority, preferred_region.id, preferred_region.priority
                    ),
                )
                .with_help("give the is_primary region the lowest priority, or mark the preferred region as primary"),
            );
        }
    }
}

fn check_seed(spec: &MultiRegionSpec, inputs: &Inputs<'_>, diagnostics: &mut Diagnostics) {
    if let Some(seed) = &spec.seed_connection_string
        && let Some(problem) = connection_string_problem(seed)
    {
        diagnostics.error(path().key("seed_connection_string"), problem);
    }
    if let Some(seed) = inputs.seed_connection_string
        && let Some(problem) = connection_string_problem(seed)
    {
        diagnostics.error(path(), format!("--seed-connection-string: {problem}"));
    }
}

/// The repositories upstream's CI publishes InferaDB images to. Images are built from tags, and
/// every engine tag contains the commit that removed FoundationDB (`git tag --no-contains
/// d47a88e` lists none), and no control tag's Cargo.toml has the `foundationdb` crate; so none
/// of these images can use FoundationDB: the engine exits with "FoundationDB storage backend has
/// been removed", control rejects `storage=foundationdb`.
/// Upstream's CI pushes them to GitHub's registry and to Docker Hub, where the engine is
/// `inferadb/inferadb` (engine .github/workflows/release.yml, canary.yml and nightly.yml;
/// control release.yml, canary.yml and container.yml at their `canary` tags).
const PUBLISHED_REPOSITORIES: [&str; 6] = [
    "ghcr.io/inferadb/engine",
    "ghcr.io/inferadb/control",
    "inferadb/inferadb",
    "inferadb/control",
    "docker.io/inferadb/inferadb",
    "docker.io/inferadb/control",
];

/// Why an InferaDB image reference is unlikely to run with FoundationDB storage, if it is.
fn image_concern(image: &str, default: &str) -> Option<String> {
    let parsed = parse_image(image).ok()?;
    if image == default {
        return Some(format!(
            "`{image}` is the module's default, a local name (docker.io/library/...) that only works where such an image was loaded by hand"
        ));
    }
    if PUBLISHED_REPOSITORIES.contains(&parsed.repository) {
        return Some(format!(
            "`{image}` is a published upstream image; every one of them was built after FoundationDB support was removed, so it exits at startup with storage=foundationdb"
        ));
    }
    if !parsed.is_pinned() {
        return Some(format!(
            "`{image}` is not pinned to a build (no tag, or `latest`): every pull may get a different binary, and the one this needs (with FoundationDB) must be a specific build"
        ));
    }
    None
}

fn check_workloads(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
    let defaults = (
        infera_spec::Engine::default(),
        infera_spec::Control::default(),
    );
    let fdb_line = Version::parse(&spec.fdb_version).map(|version| version.minor_line());
    for (name, enabled, replicas, image, resources, default_image, client) in [
        (
            "engine",
            spec.engine.enabled,
            spec.engine.replicas,
            &spec.engine.image,
            &spec.engine.resources,
            &defaults.0.image,
            &spec.engine.fdb_client_version,
        ),
        (
            "control",
            spec.control.enabled,
            spec.control.replicas,
            &spec.control.image,
            &spec.control.resources,
            &defaults.1.image,
            &spec.control.fdb_client_version,
        ),
    ] {
        let at = path().key(name);
        if !enabled {
            continue;
        }
        let who = if name == "engine" {
            "the engine"
        } else {
            "control"
        };
        if let Some(concern) = image_concern(image, default_image) {
            diagnostics.push(
                Diagnostic::warning(at.clone().key("image"), concern).with_help(format!(
                    "build {who} from a commit that still supports FoundationDB (README: \"The InferaDB images you bring\" names the commit) and push it to your registry, then pin that tag or digest"
                )),
            );
        }
        let client_ok = Version::parse(&format!("{client}.0")).is_some_and(|v| v.patch == 0)
            && client.split('.').count() == 2;
        if !client_ok {
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("fdb_client_version"),
                    format!("`{client}` is not a FoundationDB release line"),
                )
                .with_help("write major.minor, e.g. 7.3 (upstream's images link the 7.3 client)"),
            );
        } else if let Some(line) = &fdb_line
            && line != client
        {
            // A FoundationDB client speaks the protocol of its own major.minor only; the images
            // carry no multi-version client (engine@a31e3c3:Dockerfile:29,78 installs
            // foundationdb-clients 7.3.69 alone), so the app never connects, while the wait step's
            // fdbcli, which matches the cluster, lets it start.
            diagnostics.push(
                Diagnostic::error(
                    path().key("fdb_version"),
                    format!(
                        "FoundationDB {} cannot be reached by {}: its image links the FoundationDB {client} client library, which speaks only the {client} protocol",
                        spec.fdb_version,
                        who
                    ),
                )
                .with_help(format!(
                    "use a {client}.x release for fdb_version (7.3.43 is tested), or, if your {name} image links a {line} client, set {name}.fdb_client_version: \"{line}\""
                )),
            );
        }
        if replicas == 0 {
            diagnostics.push(
                Diagnostic::error(at.clone().key("replicas"), "must be at least 1")
                    .with_help(format!("to run no {name}, set {name}.enabled: false")),
            );
        } else if replicas > MAX_REPLICAS {
            diagnostics.error(
                at.clone().key("replicas"),
                format!("{replicas} is more than the {MAX_REPLICAS} this renderer allows"),
            );
        }
        if let Err(problem) = parse_image(image) {
            diagnostics.error(at.clone().key("image"), problem);
        }
        check_resources(&at.key("resources"), resources, diagnostics);
    }
}

/// Longest region id with Tailscale: device names are `<region>-<pod name>`, a DNS label, and
/// control's pod names (`inferadb-control-<10>-<5>`) take 33 characters.
const TAILSCALE_REGION_ID_MAX: usize = 63 - 1 - "inferadb-control-0123456789-abcde".len();
/// The first Tailscale release whose containerboot serves `/healthz`.
const TAILSCALE_HEALTH_CHECK_SINCE: Version = Version::new(1, 78, 0);

fn check_tailscale(spec: &MultiRegionSpec, inputs: &Inputs<'_>, diagnostics: &mut Diagnostics) {
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
                && version < TAILSCALE_HEALTH_CHECK_SINCE
            {
                diagnostics.push(
                    Diagnostic::warning(
                        at.clone().key("image"),
                        format!(
                            "Tailscale {version} predates {TAILSCALE_HEALTH_CHECK_SINCE}: its containerboot serves no /healthz, so the sidecars and routers get no startup or liveness probe"
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
}

/// An inline key may only become a Secret with `--allow-plaintext-secrets`, and only as an OAuth
/// client secret: one plain auth key for every workload would give them all the same tags
/// (docs/inferadb-and-tailscale.md §2.5, §7.12). The key itself never appears in a message.
fn check_inline_auth_key(
    spec: &MultiRegionSpec,
    inputs: &Inputs<'_>,
    diagnostics: &mut Diagnostics,
) {
    let tailscale = &spec.tailscale;
    let Some(key) = tailscale.auth_key.as_ref().filter(|key| !key.is_empty()) else {
        return;
    };
    let at = path().key("tailscale").key("auth_key");
    let namespaces: BTreeSet<&str> = spec
        .regions
        .iter()
        .map(|region| region.namespace.as_str())
        .collect();
    let namespace = namespaces.iter().next().copied().unwrap_or("inferadb");
    match tailscale.credentials {
        TailscaleCredentials::PerWorkloadKeys => diagnostics.push(
            Diagnostic::error(
                at,
                "an inline key would be shared by every workload, so they would all carry its tags and the tailnet policy could not tell FoundationDB from engine, control or the routers",
            )
            .with_help(format!(
                "remove auth_key and create one Secret per workload in every region, e.g. `kubectl -n {namespace} create secret generic {name}-fdb --from-literal={key_name}=<key tagged tag:inferadb-fdb>` (and {name}-engine, {name}-control, {name}-router); or set tailscale.credentials: oauth_client and use an OAuth client secret",
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
        TailscaleCredentials::OauthClient if !inputs.allow_plaintext_secrets => diagnostics.push(
            Diagnostic::error(
                at,
                "the OAuth client secret is inline; infera-render writes secrets into the output only with --allow-plaintext-secrets",
            )
            .with_help(format!(
                "better: remove auth_key and create the Secret in every region: `kubectl -n {namespace} create secret generic {} --from-literal={}=tskey-client-...`",
                tailscale.secret_name, tailscale.secret_key
            )),
        ),
        TailscaleCredentials::OauthClient => {}
    }
}

fn check_control(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
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

/// A reference to a key of an existing Secret: a valid Secret name and key.
fn check_secret_selector(
    at: &FieldPath,
    secret: &infera_spec::SecretKeySelector,
    diagnostics: &mut Diagnostics,
) {
    if let Some(problem) = dns_subdomain_problem(&secret.name) {
        diagnostics.error(at.clone().key("name"), problem);
    }
    if secret.key.is_empty()
        || secret.key.len() > 253
        || !secret
            .key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        diagnostics.error(
            at.clone().key("key"),
            format!(
                "`{}` is not a valid Secret key: use letters, digits, '-', '_' and '.'",
                secret.key
            ),
        );
    }
}

fn check_labels(
    at: &FieldPath,
    labels: &BTreeMap<String, String>,
    reserved: bool,
    diagnostics: &mut Diagnostics,
) {
    for (key, value) in labels {
        let entry = at.clone().key(key.clone());
        if let Some(problem) = label_key_problem(key) {
            diagnostics.error(entry.clone(), problem);
        } else if reserved
            && RESERVED_LABEL_PREFIXES
                .iter()
                .any(|prefix| key.starts_with(prefix))
        {
            diagnostics.push(
                Diagnostic::error(entry.clone(), format!("label key `{key}` is set by infera-render"))
                    .with_help(format!(
                        "keys starting with {} are reserved for selectors and bookkeeping; use your own prefix",
                        RESERVED_LABEL_PREFIXES.join(", ")
                    )),
            );
        }
        if let Some(problem) = label_value_problem(value) {
            diagnostics.error(entry, problem);
        }
    }
}

fn check_quantity(
    at: &FieldPath,
    quantity: &Quantity,
    positive: bool,
    diagnostics: &mut Diagnostics,
) -> Option<ParsedQuantity> {
    match parse_quantity(quantity.as_str()) {
        Err(problem) => {
            diagnostics.error(at.clone(), problem);
            None
        }
        Ok(parsed) if parsed.0 < 0.0 || (positive && parsed.0 == 0.0) => {
            diagnostics.error(
                at.clone(),
                format!(
                    "`{quantity}` must be {}",
                    if positive {
                        "greater than zero"
                    } else {
                        "zero or more"
                    }
                ),
            );
            None
        }
        Ok(parsed) => Some(parsed),
    }
}

fn check_resources(at: &FieldPath, resources: &Resources, diagnostics: &mut Diagnostics) {
    let mut parsed: BTreeMap<(&str, &str), ParsedQuantity> = BTreeMap::new();
    for (kind, list) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        let Some(list) = list else { continue };
        for (resource, quantity) in [("cpu", &list.cpu), ("memory", &list.memory)] {
            if let Some(quantity) = quantity
                && let Some(value) = check_quantity(
                    &at.clone().key(kind).key(resource),
                    quantity,
                    false,
                    diagnostics,
                )
            {
                parsed.insert((kind, resource), value);
            }
        }
    }
    for resource in ["cpu", "memory"] {
        if let (Some(request), Some(limit)) = (
            parsed.get(&("requests", resource)),
            parsed.get(&("limits", resource)),
        ) && request > limit
        {
            diagnostics.push(
                Diagnostic::error(
                    at.clone().key("requests").key(resource),
                    format!("the {resource} request is larger than the {resource} limit"),
                )
                .with_help("Kubernetes rejects a request above its limit; raise the limit or lower the request"),
            );
        }
    }
}

fn check_versions(
    spec: &MultiRegionSpec,
    diagnostics: &mut Diagnostics,
) -> Option<(Version, Version)> {
    let fdb = Version::parse(&spec.fdb_version);
    if fdb.is_none() {
        diagnostics.push(
            Diagnostic::error(
                path().key("fdb_version"),
                format!("`{}` is not a FoundationDB version", spec.fdb_version),
            )
            .with_help("write major.minor.patch, e.g. 7.3.43"),
        );
    }
    let operator_text = spec.operator_version.as_str();
    let operator = match operator_text.strip_prefix('v').and_then(Version::parse) {
        Some(version) => {
            diagnostics.push(
                Diagnostic::warning(
                    path().key("operator_version"),
                    format!("`{operator_text}` has a leading `v`; it is read as {version}"),
                )
                .with_help("write the version without `v` (the image tag adds it: fdb-kubernetes-operator:v1.45.0)"),
            );
            Some(version)
        }
        None => Version::parse(operator_text),
    };
    match operator {
        None => diagnostics.push(
            Diagnostic::error(
                path().key("operator_version"),
                format!("`{operator_text}` is not an operator version"),
            )
            .with_help("write major.minor.patch, e.g. 1.45.0 or 2.33.0"),
        ),
        Some(version) if !(1..=2).contains(&version.major) => diagnostics.push(
            Diagnostic::error(
                path().key("operator_version"),
                format!("operator {version} is not supported: infera-render renders for operator 1.x and 2.x"),
            )
            .with_help("use 1.45.0 (the module's default) or a 2.x release such as 2.33.0"),
        ),
        Some(_) => {}
    }
    if let Some(logs) = spec.fearless_dr.satellite_logs
        && logs > MAX_PROCESS_COUNT
    {
        diagnostics.error(
            path().key("fearless_dr").key("satellite_logs"),
            format!("{logs} is more than the {MAX_PROCESS_COUNT} this renderer allows"),
        );
    }
    if let Some(satellite_version) = &spec.fearless_dr.satellite_version
        && *satellite_version != spec.fdb_version
    {
        diagnostics.push(
            Diagnostic::error(
                path().key("fearless_dr").key("satellite_version"),
                format!(
                    "{satellite_version} differs from fdb_version {}: satellites run the cluster's version",
                    spec.fdb_version
                ),
            )
            .with_help("remove satellite_version (the module never used it)"),
        );
    }
    let (fdb, operator) = (fdb?, operator?);
    let minimum = if operator.major == 1 {
        OPERATOR_V1_MIN_FDB
    } else {
        OPERATOR_V2_MIN_FDB
    };
    if (1..=2).contains(&operator.major) && fdb < minimum {
        diagnostics.push(
            Diagnostic::error(
                path().key("fdb_version"),
                format!("FoundationDB {fdb} is older than operator {operator} supports (at least {minimum})"),
            )
            .with_help("use FoundationDB 7.1 or newer (7.3.x recommended)"),
        );
    }
    if operator.major == 1 && fdb >= Version::new(7, 3, 0) {
        diagnostics.push(
            Diagnostic::warning(
                path().key("operator_version"),
                format!(
                    "operator {operator} ships client libraries for FoundationDB 6.2, 6.3 and 7.1 only; FoundationDB {fdb} needs the {} library, so an init container that provides it is added",
                    fdb.minor_line()
                ),
            )
            .with_help("or move to operator 2.x, which ships 7.3 and 7.4 client libraries"),
        );
    }
    Some((fdb, operator))
}
