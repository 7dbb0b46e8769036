//! `corral`: the controller binary. One subcommand per job; each lives in its own module.
#![forbid(unsafe_code)]

mod cli;
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
    /// Run the controller: console/API, store and CA (created on first start).
    Serve(cli::serve::ServeArgs),
    /// Print the effective configuration (secrets redacted), or what is wrong with it.
    CheckConfig(cli::ConfigArgs),
    /// Administration: API tokens.
    #[command(subcommand)]
    Admin(cli::admin::AdminCommand),
    /// Enrollment tokens.
    #[command(subcommand)]
    Token(cli::token::TokenCommand),
    /// Provision every phone attached to this station for a controller (over its REST API).
    Enroll(cli::enroll::EnrollArgs),
    /// List the fleet: status, profile and version, last seen.
    Devices(cli::devices::DevicesArgs),
    /// The audit log: verify its hash chain.
    #[command(subcommand)]
    Audit(cli::audit::AuditCommand),
    /// The retention job: purge what is past its window now.
    #[command(subcommand)]
    Retention(cli::retention::RetentionCommand),
}

fn main() -> ExitCode {
    // When a program on a simulated phone runs `sh`, this binary stands in for the
    // phone's shell (see corral_devsim::phone::route); it never returns in that case.
    corral_devsim::phone::route::run_shim_if_invoked();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Profile(cmd) => profile_cli::run(cmd),
        Command::Serve(args) => cli::serve::run(args),
        Command::CheckConfig(args) => cli::check_config::run(args),
        Command::Admin(cmd) => cli::admin::run(cmd),
        Command::Token(cmd) => cli::token::run(cmd),
        Command::Enroll(args) => cli::enroll::run(args),
        Command::Devices(args) => cli::devices::run(args),
        Command::Audit(cmd) => cli::audit::run(cmd),
        Command::Retention(cmd) => cli::retention::run(cmd),
    }
}
