//! Engine and control: replicas, images (and whether they can run with FoundationDB), the
//! client library their images link, resources.

use super::k8s_values::check_resources;
use super::limits::MAX_REPLICAS;
use super::path;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::syntax::image::parse_image;
use crate::syntax::version::Version;
use infera_spec::MultiRegionSpec;

/// The repositories upstream's CI publishes InferaDB images to. Images are built from tags, and
/// every engine tag contains the commit that removed FoundationDB (`git tag --no-contains
/// d47a88e` lists none), and no control tag's Cargo.toml has the `foundationdb` crate; so none
/// of these images can use FoundationDB: the engine exits with "FoundationDB storage backend has
/// been removed", control rejects `storage=foundationdb`.
/// Upstream's CI pushes them to GitHub's registry and to Docker Hub, where the engine is
/// `inferadb/inferadb` (engine .github/workflows/release.yml, canary.yml and nightly.yml;
/// control release.yml, canary.yml and container.yml at their `canary` tags).
pub(super) const PUBLISHED_REPOSITORIES: [&str; 6] = [
    "ghcr.io/inferadb/engine",
    "ghcr.io/inferadb/control",
    "inferadb/inferadb",
    "inferadb/control",
    "docker.io/inferadb/inferadb",
    "docker.io/inferadb/control",
];

/// Why an InferaDB image reference is unlikely to run with FoundationDB storage, if it is.
pub(super) fn image_concern(image: &str, default: &str) -> Option<String> {
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

pub(super) fn check_workloads(spec: &MultiRegionSpec, diagnostics: &mut Diagnostics) {
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
