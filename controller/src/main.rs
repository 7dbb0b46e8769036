//! `corral`: the controller binary. One subcommand per job; each lives in its own module.
#![forbid(unsafe_code)]

mod demo;
mod profile_cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// corral — keeps company Android phones' messenger in an isolated, allow-listed work profile.
#[derive(Debug, Parser)]
#[command(name = "corral", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start simulated phones (and, as later parts land, the controller and console) with
    /// no setup.
    Demo(demo::DemoArgs),
    /// Check, show and compare configuration profiles.
    #[command(subcommand)]
    Profile(profile_cli::ProfileCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Profile(cmd) => profile_cli::run(cmd),
    }
}
