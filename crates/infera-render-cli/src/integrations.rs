//! The integration modes: the kustomize legacy exec plugin, the KRM function, and the Helm
//! post-renderer. The library does the work; this module does the I/O and the error channels.

use crate::Exit;
use crate::cli::PostRenderArgs;
use crate::{input, report};
use infera_render::{REGION_ANNOTATION, RegionSelectError, WorkloadSelectors};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Whether kustomize runs this binary as a legacy exec plugin: it sets
/// `KUSTOMIZE_PLUGIN_CONFIG_STRING` and passes the config file as the first argument
/// (docs/integrations.md §1.3).
pub fn legacy_plugin_config(args: &[String]) -> Option<PathBuf> {
    let config = std::env::var_os("KUSTOMIZE_PLUGIN_CONFIG_STRING")?;
    if config.is_empty() {
        return None;
    }
    let path = PathBuf::from(args.get(1)?);
    path.is_file().then_some(path)
}

/// The legacy exec plugin: renders one region's objects as multi-document YAML on stdout. The
/// region comes from the annotation `infera.dev/region` (or is the only region).
pub fn legacy_plugin(config: &Path) -> Exit {
    let spec_input = match input::read_spec(config) {
        Ok(spec_input) => spec_input,
        Err(message) => {
            report::problem(&format!("infera-render (kustomize plugin): {message}"));
            return Exit::Io;
        }
    };
    let name = format!("kustomize generator config ({})", spec_input.name);
    let document = match infera_render::parse_document(&spec_input.bytes) {
        Ok(document) => document,
        Err(diagnostics) => {
            report::diagnostics(&name, &diagnostics);
            return Exit::Invalid;
        }
    };
    let plan = match document.plan(&infera_render::PlanOptions::default()) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            report::diagnostics(&name, &diagnostics);
            return Exit::Invalid;
        }
    };
    let annotation = document
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.annotations.get(REGION_ANNOTATION).cloned());
    let region = match plan.select_region(annotation.as_deref()) {
        Ok(region) => region.id.clone(),
        Err(RegionSelectError::Ambiguous { count, known }) => {
            report::problem(&format!(
                "infera-render (kustomize plugin): the spec has {count} regions; set metadata.annotations.{REGION_ANNOTATION} to the region this kustomization builds ({known})"
            ));
            return Exit::Invalid;
        }
        Err(message) => {
            report::problem(&format!(
                "infera-render (kustomize plugin): metadata.annotations.{REGION_ANNOTATION}: {message}"
            ));
            return Exit::Invalid;
        }
    };
    let rendered = infera_render::render_plan(plan, &infera_render::RenderOptions::default());
    match report::stdout(&rendered.stream(Some(&region))) {
        Ok(()) => Exit::Ok,
        Err(()) => Exit::Io,
    }
}

/// Reads all of standard input, up to `limit` bytes.
fn read_stdin(limit: usize) -> Result<String, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(u64::try_from(limit).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot read standard input: {error}"))?;
    if bytes.len() > limit {
        return Err(format!("standard input is larger than {limit} bytes"));
    }
    String::from_utf8(bytes).map_err(|error| format!("standard input is not UTF-8: {error}"))
}

/// The KRM function: ResourceList in, ResourceList out; on error also the message on stderr
/// and exit code 1 (kustomize shows only those; kpt also shows the results).
pub fn krm() -> Exit {
    let input = match read_stdin(infera_render::MAX_MANIFEST_BYTES) {
        Ok(input) => input,
        Err(message) => {
            report::problem(&format!("infera-render krm: {message}"));
            return Exit::Io;
        }
    };
    let outcome = infera_render::krm(&input);
    if report::stdout(&outcome.output).is_err() {
        return Exit::Io;
    }
    match outcome.error {
        None => Exit::Ok,
        Some(message) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "infera-render krm: the function failed:\n{message}"
            );
            Exit::Invalid
        }
    }
}

fn selector(text: &str, flag: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .filter(|(key, value)| !key.is_empty() && !value.is_empty())
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("{flag} `{text}` is not KEY=VALUE"))
}

/// Where a post-render failure is logged: `--error-log`, `$INFERA_RENDER_ERROR_LOG`, or
/// `post-render.log` in the user's own state folder (`$XDG_STATE_HOME/infera-render`, else
/// `~/.local/state/infera-render`), never a shared temp folder where a planted link could
/// redirect the write.
fn error_log(args: &PostRenderArgs) -> PathBuf {
    args.error_log
        .clone()
        .or_else(|| std::env::var_os("INFERA_RENDER_ERROR_LOG").map(PathBuf::from))
        .unwrap_or_else(|| {
            let state = std::env::var_os("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state"))
                })
                .unwrap_or_else(std::env::temp_dir);
            state.join("infera-render").join("post-render.log")
        })
}

/// Makes a failure visible although Helm 4 drops the plugin's stderr: the message goes to
/// stderr (Helm 3 shows it), to the terminal when there is one, and to the log file, which every
/// copy names.
fn post_render_failure(args: &PostRenderArgs, message: &str, exit: Exit) -> Exit {
    let log = error_log(args);
    let logged = log
        .parent()
        .is_none_or(|parent| std::fs::create_dir_all(parent).is_ok())
        && std::fs::write(&log, format!("{message}\n")).is_ok();
    let text = if logged {
        format!(
            "infera-render post-render failed (full message in {}):\n{message}\n",
            log.display()
        )
    } else {
        format!(
            "infera-render post-render failed (could not write {}):\n{message}\n",
            log.display()
        )
    };
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    if let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") {
        let _ = tty.write_all(text.as_bytes());
    }
    exit
}

/// The Helm post-renderer.
pub fn post_render(args: &PostRenderArgs) -> Exit {
    let spec_input = match input::read_spec(&args.spec.file) {
        Ok(spec_input) => spec_input,
        Err(message) => return post_render_failure(args, &message, Exit::Io),
    };
    let document = match infera_render::parse_document(&spec_input.bytes) {
        Ok(document) => document,
        Err(diagnostics) => {
            let text = rendered(&spec_input.name, &diagnostics);
            return post_render_failure(args, &text, Exit::Invalid);
        }
    };
    let selectors = match (
        selector(&args.engine_selector, "--engine-selector"),
        selector(&args.control_selector, "--control-selector"),
    ) {
        (Ok(engine), Ok(control)) => WorkloadSelectors { engine, control },
        (Err(message), _) | (_, Err(message)) => {
            return post_render_failure(args, &message, Exit::Usage);
        }
    };
    let manifests = match read_stdin(infera_render::MAX_MANIFEST_BYTES) {
        Ok(manifests) => manifests,
        Err(message) => return post_render_failure(args, &message, Exit::Io),
    };
    let seed = match args.spec.seed_from.as_deref() {
        None => None,
        Some(path) if path.as_os_str() == "-" => {
            let message = "--seed-from -: standard input carries Helm's manifests; give the FoundationDBCluster's JSON as a file";
            return post_render_failure(args, message, Exit::Usage);
        }
        Some(path) => match crate::input::read_cluster_json(path) {
            Err(message) => return post_render_failure(args, &message, Exit::Io),
            Ok(input) => {
                match infera_render::seed_from_cluster(&String::from_utf8_lossy(&input.bytes)) {
                    Ok(seed) => Some(seed),
                    Err(message) => {
                        let message = format!("--seed-from {}: {message}", input.name);
                        return post_render_failure(args, &message, Exit::Invalid);
                    }
                }
            }
        },
    };
    let options = args
        .spec
        .plan_options(seed.as_ref().map(|seed| seed.connection_string.clone()));
    let plan = match document.plan(&options) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            let text = rendered(&spec_input.name, &diagnostics);
            return post_render_failure(args, &text, Exit::Invalid);
        }
    };
    if let Err(message) = crate::commands::check_seed_source(seed.as_ref(), &plan) {
        return post_render_failure(args, &message, Exit::Invalid);
    }
    match infera_render::post_render_plan(plan, &manifests, args.region.as_deref(), &selectors) {
        Ok(output) => {
            let warnings = output.warnings;
            if args.spec.deny_warnings && !warnings.is_empty() {
                let mut errors = warnings;
                errors.deny_warnings();
                return post_render_failure(
                    args,
                    &rendered(&spec_input.name, &errors),
                    Exit::Invalid,
                );
            }
            report::diagnostics(&spec_input.name, &warnings);
            for note in &output.notes {
                report::warning(&format!("post-render: {note}"));
            }
            if output.patched.is_empty() {
                report::warning(&format!(
                    "post-render: no workload of the chart matched {} or {}; nothing was wired to FoundationDB",
                    args.engine_selector, args.control_selector
                ));
            }
            match report::stdout(&output.output) {
                Ok(()) => Exit::Ok,
                Err(()) => Exit::Io,
            }
        }
        Err(infera_render::PostRenderError::Invalid(diagnostics)) => post_render_failure(
            args,
            &rendered(&spec_input.name, &document.locate(diagnostics)),
            Exit::Invalid,
        ),
        Err(error) => post_render_failure(args, &error.to_string(), Exit::Invalid),
    }
}

fn rendered(file: &str, diagnostics: &infera_render::Diagnostics) -> String {
    let mut sorted = diagnostics.clone();
    sorted.sort();
    let mut lines: Vec<String> = sorted
        .iter()
        .map(|diagnostic| diagnostic.render(file))
        .collect();
    lines.push(format!(
        "infera-render: {file}: invalid ({})",
        sorted.summary()
    ));
    lines.join("\n")
}
