//! FoundationDB and the operator: versions, the seed connection string, satellite settings.

use super::Inputs;
use super::limits::MAX_PROCESS_COUNT;
use super::path;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::syntax::connection_string::connection_string_problem;
use crate::syntax::version::Version;
use crate::upstream::{OPERATOR_V1_MIN_FDB, OPERATOR_V2_MIN_FDB};
use infera_spec::MultiRegionSpec;

pub(super) fn check_seed(
    spec: &MultiRegionSpec,
    inputs: &Inputs<'_>,
    diagnostics: &mut Diagnostics,
) {
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

pub(super) fn check_versions(
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
