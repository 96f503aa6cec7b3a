//! Every clap type of the command line, and nothing else.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Render one multi-region spec into deterministic Kubernetes YAML per region: FoundationDB
/// (Fearless DR) with its operator, InferaDB engine and control, and Tailscale.
#[derive(Debug, Parser)]
#[command(name = "infera-render", version, propagate_version = true)]
#[command(after_help = "Exit codes: 0 success, 1 invalid input, 2 usage error, 3 I/O error.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec: no output on success, every problem on stderr.
    Validate(SpecArgs),
    /// Explain the topology a spec maps to: regions, datacenters, roles, FoundationDB priorities,
    /// satellites, bootstrap phases, trade-offs and warnings.
    Plan(SpecArgs),
    /// Print the JSON Schema of the spec.
    Schema,
}

/// Where the spec comes from, and how strict to be.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// The spec file (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: PathBuf,

    /// The `status.connectionString` of the phase-1 datacenter; overrides `seed_connection_string`.
    #[arg(long, value_name = "STR")]
    pub seed_connection_string: Option<String>,

    /// Treat warnings as errors (exit code 1).
    #[arg(long)]
    pub deny_warnings: bool,
}
