//! The controller's own subcommands (`serve`, `check-config`, `admin`, `token`, `audit`,
//! `retention`)
//! and the station's (`enroll`, `devices`): argument
//! parsing and output. One module per command; the work itself lives in the library.
//! Must never: hold logic a test would want to call without the binary.

pub mod admin;
pub mod audit;
pub mod check_config;
pub mod devices;
pub mod enroll;
pub mod retention;
pub mod serve;
pub mod station;
pub mod token;

use std::path::PathBuf;
use std::process::ExitCode;

use corral_controller::config::{Config, Overrides};

/// Where the controller's state and configuration are.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Data directory: SQLite database, CA, `corral.toml`. Created on first start.
    #[arg(long, value_name = "DIR", default_value = "corral-data")]
    pub data_dir: PathBuf,
    /// Configuration file (default: `<data-dir>/corral.toml` when it exists).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL, `postgres://…` or `sqlite://PATH` (default: SQLite in the data dir).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl ConfigArgs {
    /// The effective configuration: file, then `CORRAL_…` environment, then these flags.
    pub fn load(&self, console_listen: Option<String>) -> anyhow::Result<Config> {
        let overrides = Overrides {
            config_file: self.config.clone(),
            database_url: self.database_url.clone(),
            console_listen,
        };
        let env = |key: &str| std::env::var(key).ok();
        Ok(Config::load(&self.data_dir, &overrides, &env)?)
    }
}

/// Runs an async command on a fresh runtime; prints its error the same way for every
/// command and exits 1.
pub fn block_on(work: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&anyhow::Error::from(e)),
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Prints `corral: error: …` with its causes and returns exit code 1.
pub fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("corral: error: {e:#}");
    ExitCode::FAILURE
}
