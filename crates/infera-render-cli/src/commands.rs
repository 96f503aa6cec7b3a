//! The subcommands: read, plan, render, print; map outcomes to exit codes.

use crate::Exit;
use crate::cli::{Command, RenderArgs, SpecArgs};
use crate::interrupt::Interrupt;
use crate::output_dir::{self, WriteError};
use crate::{input, report};
use infera_render::{CrdSet, Document, Plan, RenderOptions};
use std::path::Path;

/// Runs one subcommand.
pub fn run(command: Command) -> Exit {
    let result = match command {
        Command::Validate(args) => load_and_plan(&args, Warnings::Stderr).map(|_| Exit::Ok),
        Command::Plan(args) => load_and_plan(&args, Warnings::InPlan)
            .and_then(|(_, _, plan)| write(&infera_render::explain(&plan))),
        Command::Render(args) => render(&args),
        Command::Outputs(args) => {
            load_and_plan(&args, Warnings::Stderr).and_then(|(_, _, plan)| {
                let rendered = infera_render::render_plan(plan, &RenderOptions::default());
                let mut text = serde_json::to_string_pretty(&rendered.outputs).unwrap_or_default();
                text.push('\n');
                write(&text)
            })
        }
        Command::Schema => write(&infera_spec::json_schema_text()),
        Command::Krm => Ok(crate::integrations::krm()),
        Command::PostRender(args) => Ok(crate::integrations::post_render(&args)),
    };
    result.unwrap_or_else(|exit| exit)
}

fn write(text: &str) -> Result<Exit, Exit> {
    report::stdout(text)
        .map(|()| Exit::Ok)
        .map_err(|()| Exit::Io)
}

/// Where the warnings of a successful run go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Warnings {
    /// To stderr, as diagnostics (`validate`, `render`, `outputs`).
    Stderr,
    /// Only into the plan, which the command prints itself (`plan`).
    InPlan,
}

/// Reads, parses and plans the spec, printing diagnostics to stderr. Errors (and warnings under
/// `--deny-warnings`) end the run with exit code 1.
fn load_and_plan(args: &SpecArgs, warnings_to: Warnings) -> Result<(String, Document, Plan), Exit> {
    let spec_input = input::read_spec(&args.file).map_err(|message| {
        report::problem(&message);
        Exit::Io
    })?;
    let document = infera_render::parse_document(&spec_input.bytes).map_err(|diagnostics| {
        report::diagnostics(&spec_input.name, &diagnostics);
        Exit::Invalid
    })?;
    match document.plan(&args.plan_options()) {
        Ok(mut plan) => {
            // Rule order, not source order: the plan must not depend on the spec's key order.
            let mut warnings = std::mem::take(&mut plan.warnings);
            if args.deny_warnings && !warnings.is_empty() {
                warnings.deny_warnings();
                report::diagnostics(&spec_input.name, &warnings);
                return Err(Exit::Invalid);
            }
            if warnings_to == Warnings::Stderr {
                report::diagnostics(&spec_input.name, &warnings);
            }
            plan.warnings = warnings;
            Ok((spec_input.name, document, plan))
        }
        Err(diagnostics) => {
            report::diagnostics(&spec_input.name, &diagnostics);
            Err(Exit::Invalid)
        }
    }
}

/// Reads every `*.yaml`/`*.yml` file of the CRD folder, in name order.
fn read_crds(dir: &Path) -> Result<CrdSet, Exit> {
    let entries = std::fs::read_dir(dir).map_err(|error| {
        report::problem(&format!(
            "cannot read --crds-dir {}: {error}",
            dir.display()
        ));
        Exit::Io
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    paths.sort();
    let mut crds = CrdSet::default();
    for path in &paths {
        let text = std::fs::read_to_string(path).map_err(|error| {
            report::problem(&format!("cannot read {}: {error}", path.display()));
            Exit::Io
        })?;
        crds.add_yaml(&text).map_err(|message| {
            report::problem(&format!("--crds-dir: {} {message}", path.display()));
            Exit::Invalid
        })?;
    }
    let missing = crds.missing_operator_crds();
    if !missing.is_empty() {
        report::problem(&format!(
            "--crds-dir {} lacks the operator's CRD(s) {}; add them (from the operator's config/crd/bases at the operator's version)",
            dir.display(),
            missing.join(", ")
        ));
        return Err(Exit::Invalid);
    }
    Ok(crds)
}

fn render(args: &RenderArgs) -> Result<Exit, Exit> {
    let crds = match &args.crds_dir {
        Some(dir) => read_crds(dir)?,
        None => CrdSet::default(),
    };
    let (name, _, plan) = load_and_plan(&args.spec, Warnings::Stderr)?;
    if let Some(region) = &args.region
        && let Err(message) = plan.region_named(region)
    {
        report::problem(&format!("--region: {message}"));
        return Err(Exit::Usage);
    }
    let options = RenderOptions {
        crds,
        spec_path: Some(name),
    };
    let rendered = infera_render::render_plan(plan, &options);
    for notice in &rendered.notices {
        report::note(notice);
    }
    let Some(dir) = &args.output else {
        return write(&rendered.stream(args.region.as_deref()));
    };
    let files: Vec<(String, String)> = rendered
        .files()
        .into_iter()
        .filter(|file| {
            args.region.as_ref().is_none_or(|region| {
                !file.path.contains('/') || file.path.starts_with(&format!("{region}/"))
            })
        })
        .map(|file| (file.path, file.contents))
        .collect();
    let options = output_dir::WriteOptions {
        scope: args
            .region
            .as_ref()
            .map(|region| vec![format!("{region}/")]),
        lock_timeout: args.lock_timeout,
        interrupt: Interrupt::catch(),
    };
    let result = output_dir::write(dir, &files, &options);
    let shown = dir.display();
    match result {
        Ok(outcome) => {
            for note in &outcome.recovered {
                report::note(note);
            }
            for warning in &outcome.rescued {
                report::warning(warning);
            }
            for path in &outcome.kept_edited {
                report::warning(&format!(
                    "{} is no longer rendered but was edited, so it was kept",
                    dir.join(path).display()
                ));
            }
            report::note(&format!(
                "wrote {shown}: {} file(s) written, {} unchanged, {} removed",
                outcome.written,
                outcome.unchanged,
                outcome.removed.len()
            ));
            Ok(Exit::Ok)
        }
        Err(WriteError::Conflicts(conflicts)) => {
            for conflict in &conflicts {
                report::problem(conflict);
            }
            report::problem(&format!("nothing was written to {shown}"));
            Err(Exit::Io)
        }
        Err(WriteError::Io(message)) => {
            report::problem(&message);
            report::problem(&format!(
                "nothing was written to {shown} (the run was rolled back)"
            ));
            Err(Exit::Io)
        }
        Err(WriteError::Locked { pid, waited }) => {
            let pid = pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default();
            report::problem(&format!(
                "another infera-render{pid} is writing {shown}; it was still at it after {}s (--lock-timeout), so nothing was written",
                waited.as_secs_f64()
            ));
            Err(Exit::Io)
        }
        Err(WriteError::Interrupted) => {
            report::problem(&format!(
                "interrupted: nothing was written to {shown} (the run was rolled back)"
            ));
            Err(Exit::Interrupted)
        }
    }
}
