//! The subcommands: read, plan, print; map outcomes to exit codes.

use crate::Exit;
use crate::cli::{Command, SpecArgs};
use crate::{input, report};
use infera_render::{Diagnostics, Document, Plan, PlanOptions};

/// Runs one subcommand.
pub fn run(command: Command) -> Exit {
    match command {
        Command::Validate(args) => match load_and_plan(&args, Warnings::Stderr) {
            Ok(_) => Exit::Ok,
            Err(exit) => exit,
        },
        Command::Plan(args) => match load_and_plan(&args, Warnings::InPlan) {
            Ok((_, plan)) => write(&infera_render::explain(&plan)),
            Err(exit) => exit,
        },
        Command::Schema => write(&infera_spec::json_schema_text()),
    }
}

fn write(text: &str) -> Exit {
    match report::stdout(text) {
        Ok(()) => Exit::Ok,
        Err(()) => Exit::Io,
    }
}

/// Where the warnings of a successful run go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Warnings {
    /// To stderr, as diagnostics (`validate`).
    Stderr,
    /// Only into the plan, which the command prints itself (`plan`).
    InPlan,
}

/// Reads, parses and plans the spec, printing diagnostics to stderr. Errors (and warnings under
/// `--deny-warnings`) end the run with exit code 1.
fn load_and_plan(args: &SpecArgs, warnings_to: Warnings) -> Result<(Document, Plan), Exit> {
    let spec_input = match input::read_spec(&args.file) {
        Ok(spec_input) => spec_input,
        Err(message) => {
            report::problem(&message);
            return Err(Exit::Io);
        }
    };
    let document = match infera_render::parse_document(&spec_input.bytes) {
        Ok(document) => document,
        Err(diagnostics) => {
            report::diagnostics(&spec_input.name, &diagnostics);
            return Err(Exit::Invalid);
        }
    };
    let options = PlanOptions {
        seed_connection_string: args.seed_connection_string.clone(),
    };
    match infera_render::plan(&document.spec, &options) {
        Ok(mut plan) => {
            // Rule order, not source order: the plan must not depend on the spec's key order.
            let mut warnings = document.locate(std::mem::take(&mut plan.warnings));
            if args.deny_warnings && !warnings.is_empty() {
                warnings.deny_warnings();
                report::diagnostics(&spec_input.name, &warnings);
                return Err(Exit::Invalid);
            }
            if warnings_to == Warnings::Stderr {
                report::diagnostics(&spec_input.name, &warnings);
            }
            plan.warnings = warnings;
            Ok((document, plan))
        }
        Err(diagnostics) => {
            let diagnostics: Diagnostics = document.locate(diagnostics);
            report::diagnostics(&spec_input.name, &diagnostics);
            Err(Exit::Invalid)
        }
    }
}
