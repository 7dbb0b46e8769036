//! `corral demo`: everything running with no setup.

use std::process::ExitCode;

/// Options of `corral demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the demo keeps its state (reused on the next start).
    #[arg(long, default_value = "demo-data")]
    pub data_dir: std::path::PathBuf,
    /// How many simulated phones to start.
    #[arg(long, default_value_t = 10)]
    pub phones: usize,
}

/// Runs the demo until Ctrl-C.
pub fn run(_args: DemoArgs) -> ExitCode {
    ExitCode::SUCCESS
}
