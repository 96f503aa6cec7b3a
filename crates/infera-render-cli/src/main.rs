//! `infera-render`: the command line around the infera-render library.
//!
//! The binary does the I/O (files, stdin/stdout, exit codes); everything else is the library.

mod cli;
mod commands;
mod import_terraform;
mod input;
mod integrations;
mod interrupt;
mod output_dir;
mod report;

use clap::Parser;
use std::process::ExitCode;

/// The exit codes (the README's "Commands" table and `--help` list them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// The input (spec or manifests) is invalid.
    Invalid = 1,
    /// Usage error (clap reports its own with code 2).
    Usage = 2,
    /// Cannot read or write.
    Io = 3,
    /// `diff`: something would change (Tanka's `tk diff` code).
    Changes = 16,
    /// A signal stopped the run (the shell's 128 + SIGINT).
    Interrupted = 130,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(config) = integrations::legacy_plugin_config(&args) {
        return ExitCode::from(integrations::legacy_plugin(&config) as u8);
    }
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let exit = commands::run(cli.command);
    ExitCode::from(exit as u8)
}
