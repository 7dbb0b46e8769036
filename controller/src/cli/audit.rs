//! `corral audit verify`: walks the hash-chained event log and reports it intact (with the
//! count) or names the first tampered entry, exiting non-zero.

use std::process::ExitCode;

use clap::Subcommand;
use corral_controller::serve::open_store;
use corral_controller::store::ChainVerdict;

use super::ConfigArgs;

/// Audit log subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the event log's hash chain; exit 0 when intact, 2 at the first tampered entry.
    Verify {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Exit status when the chain is broken (1 stays "could not check").
const TAMPERED: u8 = 2;

/// Runs an audit subcommand.
pub fn run(cmd: AuditCommand) -> ExitCode {
    let AuditCommand::Verify { config } = cmd;
    let mut verdict = None;
    let status = super::block_on(async {
        let config = config.load(None)?;
        let store = open_store(&config).await?;
        verdict = Some(store.verify_event_chain().await?);
        store.close().await;
        Ok(())
    });
    match verdict {
        Some(ChainVerdict::Intact {
            events,
            after_checkpoint,
        }) => {
            if after_checkpoint > 0 {
                println!(
                    "audit log OK: {events} events verified after the checkpoint at seq {after_checkpoint}"
                );
            } else {
                println!("audit log OK: {events} events verified");
            }
            ExitCode::SUCCESS
        }
        Some(ChainVerdict::Broken(found)) => {
            println!("audit log TAMPERED: first bad entry: {found}");
            ExitCode::from(TAMPERED)
        }
        None => status,
    }
}
