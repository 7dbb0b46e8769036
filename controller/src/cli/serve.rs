//! `corral serve`: parse options, set up logging, run the controller until Ctrl-C/SIGTERM.

use std::process::ExitCode;

use corral_controller::serve;

use super::ConfigArgs;

/// Options of `corral serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Console/API address (overrides `console.listen`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

/// Runs `corral serve`.
pub fn run(args: ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    super::block_on(async move {
        let config = args.config.load(args.listen)?;
        serve::run(config, serve::shutdown_signal()).await?;
        Ok(())
    })
}
