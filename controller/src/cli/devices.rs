//! `corral devices [--json]`: the fleet as the controller's REST API shows it.

use std::io::Write as _;
use std::process::ExitCode;

use corral_controller::station::devices;

use super::station::ControllerArgs;

/// Options of `corral devices`.
#[derive(Debug, clap::Args)]
pub struct DevicesArgs {
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// Stable machine output: a JSON array, one object per device.
    #[arg(long)]
    pub json: bool,
}

/// Runs `corral devices`.
pub fn run(args: DevicesArgs) -> ExitCode {
    super::block_on(async move {
        let client = args.controller.client()?;
        let fleet = devices::fleet(&client).await?;
        let mut out = std::io::stdout().lock();
        if args.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&fleet)?)?;
        } else {
            write!(out, "{}", devices::table(&fleet))?;
        }
        Ok(())
    })
}
