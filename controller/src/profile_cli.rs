//! `corral profile …`: check, show and diff profile files from the command line.

use std::process::ExitCode;

use clap::Subcommand;

/// Profile subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Validate profile files; exit 0 when all are valid, 1 with diagnostics otherwise.
    Check {
        /// Profile files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

/// Runs one profile subcommand.
pub fn run(cmd: ProfileCommand) -> ExitCode {
    match cmd {
        ProfileCommand::Check { files } => {
            eprintln!("profile checking is not built yet ({} files given)", files.len());
            ExitCode::from(2)
        }
    }
}
