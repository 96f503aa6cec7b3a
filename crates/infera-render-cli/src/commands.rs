//! The subcommands: read, plan, render, print; map outcomes to exit codes.

use crate::Exit;
use crate::cli::{BundleArgs, Command, DiffArgs, DiffFormat, RenderArgs, SpecArgs};
use crate::interrupt::Interrupt;
use crate::output_dir::{self, WriteError};
use crate::{input, report};
use infera_render::diff::{self, ChangeClass, Changes, Style};
use infera_render::{CrdSet, Document, Plan, RenderOptions, Rendered};
use std::path::Path;

/// Runs one subcommand.
pub fn run(command: Command) -> Exit {
    let result = match command {
        Command::Validate(args) => load_and_plan(&args, Warnings::Stderr).map(|_| Exit::Ok),
        Command::Plan(args) => load_and_plan(&args, Warnings::InPlan)
            .and_then(|(_, _, plan)| write(&infera_render::explain(&plan))),
        Command::Render(args) => render(&args),
        Command::Diff(args) => diff(&args),
        Command::Outputs(args) => {
            load_and_plan(&args, Warnings::Stderr).and_then(|(_, _, plan)| {
                let rendered = infera_render::render_plan(plan, &RenderOptions::default());
                let mut text = serde_json::to_string_pretty(&rendered.outputs).unwrap_or_default();
                text.push('\n');
                write(&text)
            })
        }
        Command::Schema => write(&infera_spec::json_schema_text()),
        Command::ImportTerraform(args) => import_terraform(&args),
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

/// The seed read with `--seed-from`, and the name of the object it came from.
pub(crate) fn seed_from(args: &SpecArgs) -> Result<Option<infera_render::ClusterSeed>, Exit> {
    let Some(path) = &args.seed_from else {
        return Ok(None);
    };
    if path.as_os_str() == "-" && args.file.as_os_str() == "-" {
        report::problem(
            "--file - and --seed-from - cannot both read standard input; give the spec as a file",
        );
        return Err(Exit::Usage);
    }
    let input = input::read_cluster_json(path).map_err(|message| {
        report::problem(&message);
        Exit::Io
    })?;
    let text = String::from_utf8_lossy(&input.bytes);
    infera_render::seed_from_cluster(&text)
        .map(Some)
        .map_err(|message| {
            report::problem(&format!("--seed-from {}: {message}", input.name));
            Exit::Invalid
        })
}

/// Checks that the `--seed-from` object is one of the spec's FoundationDBClusters.
pub(crate) fn check_seed_source(
    seed: Option<&infera_render::ClusterSeed>,
    plan: &Plan,
) -> Result<(), String> {
    let Some(seed) = seed else {
        return Ok(());
    };
    let names: Vec<&str> = plan
        .datacenters
        .iter()
        .map(|datacenter| datacenter.resource_name.as_str())
        .collect();
    if let Some(datacenter) = plan
        .datacenters
        .iter()
        .find(|datacenter| datacenter.resource_name == seed.name)
    {
        let namespace = &plan.regions[datacenter.region].namespace;
        match &seed.namespace {
            Some(found) if found != namespace => Err(format!(
                "--seed-from: FoundationDBCluster {} is in namespace {found}, but this spec puts it in {namespace}; read the one in {namespace}",
                seed.name
            )),
            _ => Ok(()),
        }
    } else {
        Err(format!(
            "--seed-from: FoundationDBCluster {} is not one of this spec's ({}); read one of those, with the context of its region",
            seed.name,
            names.join(", ")
        ))
    }
}

/// Reads, parses and plans the spec, printing diagnostics to stderr. Errors (and warnings under
/// `--deny-warnings`) end the run with exit code 1.
fn load_and_plan(args: &SpecArgs, warnings_to: Warnings) -> Result<(String, Document, Plan), Exit> {
    let seed = seed_from(args)?;
    let spec_input = input::read_spec(&args.file).map_err(|message| {
        report::problem(&message);
        Exit::Io
    })?;
    let document = infera_render::parse_document(&spec_input.bytes).map_err(|diagnostics| {
        report::diagnostics(&spec_input.name, &diagnostics);
        Exit::Invalid
    })?;
    let options = args.plan_options(seed.as_ref().map(|seed| seed.connection_string.clone()));
    match document.plan(&options) {
        Ok(mut plan) => {
            check_seed_source(seed.as_ref(), &plan).map_err(|message| {
                report::problem(&message);
                Exit::Invalid
            })?;
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

/// Plans and renders the spec for `render` and `diff`.
fn rendered(spec: &SpecArgs, bundle: &BundleArgs) -> Result<Rendered, Exit> {
    let crds = match &bundle.crds_dir {
        Some(dir) => read_crds(dir)?,
        None => CrdSet::default(),
    };
    let (name, _, plan) = load_and_plan(spec, Warnings::Stderr)?;
    if let Some(region) = &bundle.region
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
    Ok(rendered)
}

/// `diff`: what `render -o DIR` would change.
fn diff(args: &DiffArgs) -> Result<Exit, Exit> {
    let mut rendered = rendered(&args.spec, &args.bundle)?;
    let dir = &args.output;
    let previous = output_dir::read_previous(dir).map_err(|error| {
        report::problem(&error.to_string());
        Exit::Io
    })?;
    let changes = diff::compare(&previous, &mut rendered, args.bundle.region.as_deref());
    let text = match args.format {
        DiffFormat::Json => changes.to_json(),
        DiffFormat::Text => changes.to_text(if report::stdout_is_coloured() {
            Style::Color
        } else {
            Style::Plain
        }),
    };
    write(&text)?;
    if changes.is_empty() {
        report::note(&format!(
            "no changes: {} holds what render would write",
            dir.display()
        ));
        return Ok(Exit::Ok);
    }
    if changes.destructive().next().is_some() {
        report::warning(&format!(
            "render -o {} refuses the destructive change(s) above without --allow-destructive",
            dir.display()
        ));
    }
    Ok(Exit::Changes)
}

/// Tells what a successful render changed that the user must act on: the classes of the
/// changes, and the objects no longer rendered.
fn report_changes(changes: &Changes, dir: &Path) {
    for change in changes
        .objects
        .iter()
        .filter(|change| change.action != diff::Action::Removed)
        .filter(|change| change.class > ChangeClass::Safe)
    {
        report::note(&format!(
            "{} {}: {} ({})",
            change.object.region,
            change.object.label(),
            change.class.name(),
            reasons_of(change, change.class)
        ));
    }
    for transition in &changes.transitions {
        report::note(transition.what());
    }
    let removed: Vec<&diff::ObjectChange> = changes.newly_removed().collect();
    if !removed.is_empty() {
        report::warning(&format!(
            "{} object(s) are no longer rendered but keep running until you delete them (APPLY.md, \"Removed objects\", has the commands):",
            removed.len()
        ));
        for change in removed {
            report::warning(&format!(
                "  {} {} [{}]",
                change.object.region,
                change.object.label(),
                change.class.name()
            ));
        }
    }
    let earlier = changes
        .removed
        .len()
        .saturating_sub(changes.newly_removed().count());
    if earlier > 0 {
        report::note(&format!(
            "{}/APPLY.md still lists {earlier} object(s) earlier renders stopped rendering; once they are deleted, render with --forget-removed",
            dir.display()
        ));
    }
}

/// Why `change` has `class`: each distinct reason once, after the fields it is about
/// (`spec.a, spec.b: what applying them does; ...`).
fn reasons_of(change: &diff::ObjectChange, class: ChangeClass) -> String {
    let mut grouped: Vec<(&str, Vec<&str>)> = Vec::new();
    for reason in change.reasons.iter().filter(|reason| reason.class == class) {
        match grouped.iter_mut().find(|(why, _)| *why == reason.why) {
            Some((_, paths)) => paths.push(&reason.path),
            None => grouped.push((&reason.why, vec![&reason.path])),
        }
    }
    grouped
        .iter()
        .map(|(why, paths)| {
            let paths: Vec<&str> = paths
                .iter()
                .copied()
                .filter(|path| !path.is_empty())
                .collect();
            if paths.is_empty() {
                (*why).to_owned()
            } else {
                format!("{}: {why}", paths.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The lines that explain a refused destructive change.
fn refusals(changes: &Changes) -> Vec<String> {
    let mut lines: Vec<String> = changes
        .destructive()
        .map(|change| {
            let action = match change.action {
                diff::Action::Added => "added",
                diff::Action::Removed => "removed",
                diff::Action::Changed => "changed",
            };
            format!(
                "destructive change: {} {} {action}: {}",
                change.object.region,
                change.object.label(),
                reasons_of(change, ChangeClass::Destructive)
            )
        })
        .collect();
    lines.push("run `infera-render diff` to see every change; pass --allow-destructive to render it anyway".to_owned());
    lines
}

fn render(args: &RenderArgs) -> Result<Exit, Exit> {
    let mut rendered = rendered(&args.spec, &args.bundle)?;
    let region = args.bundle.region.clone();
    let Some(dir) = &args.output else {
        return write(&rendered.stream(region.as_deref()));
    };
    let options = output_dir::WriteOptions {
        scope: region.as_ref().map(|region| vec![format!("{region}/")]),
        lock_timeout: args.lock_timeout,
        interrupt: Interrupt::catch(),
    };
    let mut seen = Changes::default();
    let result = output_dir::write_with(dir, &options, |previous| {
        let mut previous = previous.clone();
        if args.forget_removed {
            // Only what this run renders: with --region, the other regions' list stays.
            previous.removed.retain(|reference| {
                region
                    .as_ref()
                    .is_some_and(|region| reference.region != *region)
            });
        }
        let (changes, files) = diff::compare_and_files(&previous, &mut rendered, region.as_deref());
        if !args.allow_destructive && changes.destructive().next().is_some() {
            return Err(WriteError::Refused(refusals(&changes)));
        }
        let files = files
            .into_iter()
            .filter(|file| {
                region.as_ref().is_none_or(|region| {
                    !file.path.contains('/') || file.path.starts_with(&format!("{region}/"))
                })
            })
            .map(|file| (file.path, file.contents))
            .collect();
        let removed = changes.removed.clone();
        let upgrade = changes.upgrade.clone();
        seen = changes;
        Ok(output_dir::Prepared {
            files,
            removed,
            upgrade,
        })
    });
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
            report_changes(&seen, dir);
            report::note(&format!(
                "wrote {shown}: {} file(s) written, {} unchanged, {} removed",
                outcome.written,
                outcome.unchanged,
                outcome.removed.len()
            ));
            Ok(Exit::Ok)
        }
        Err(WriteError::Refused(lines)) => {
            for line in &lines {
                report::problem(line);
            }
            report::problem(&format!("nothing was written to {shown}"));
            Err(Exit::Invalid)
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

/// `import-terraform`: the spec on stdout, or in `-o FILE`.
fn import_terraform(args: &crate::cli::ImportArgs) -> Result<Exit, Exit> {
    let imported = crate::import_terraform::import(&crate::import_terraform::Import {
        files: args.files.clone(),
        var_files: args.var_file.clone(),
        vars: args.var.clone(),
        module: args.module.clone(),
    })?;
    let written = match &args.output {
        None => write(&imported.spec)?,
        Some(path) => std::fs::write(path, &imported.spec)
            .map(|()| {
                report::note(&format!(
                    "wrote {} from module.{}",
                    path.display(),
                    imported.module
                ));
                Exit::Ok
            })
            .map_err(|error| {
                report::problem(&format!("cannot write {}: {error}", path.display()));
                Exit::Io
            })?,
    };
    if let Some(path) = &args.migration_guide {
        let spec_path = args
            .output
            .as_ref()
            .map_or_else(|| "spec.yaml".to_owned(), |path| path.display().to_string());
        if args.output.is_none() {
            report::note(&format!(
                "{} calls the spec spec.yaml: save the output there, or pass -o",
                path.display()
            ));
        }
        let text = crate::import_terraform::guide(
            &imported.module,
            &spec_path,
            &imported.plan,
            imported.key_in_state,
        );
        std::fs::write(path, text).map_err(|error| {
            report::problem(&format!("cannot write {}: {error}", path.display()));
            Exit::Io
        })?;
    }
    Ok(written)
}
