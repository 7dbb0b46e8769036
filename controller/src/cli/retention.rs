//! `corral retention run`: runs the retention job once now with the configured windows
//! and prints what it did. The pushes it queues are sent by a running `corral serve`.

use std::process::ExitCode;

use clap::Subcommand;
use corral_controller::config::format_duration;
use corral_controller::domain::Timestamp;
use corral_controller::serve::open_store;

use super::ConfigArgs;

/// Retention subcommands.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Erase ended contacts, redact old audit detail and prune old events now.
    Run {
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs a retention subcommand.
pub fn run(cmd: RetentionCommand) -> ExitCode {
    let RetentionCommand::Run { config } = cmd;
    super::block_on(async {
        let config = config.load(None)?;
        let store = open_store(&config).await?;
        let policy = &config.retention;
        let (counts, _queued) = corral_controller::retention::run_once(
            &store,
            policy,
            Timestamp::now(),
            "cli:retention",
        )
        .await?;
        store.close().await;
        println!(
            "retention: {} ended contacts erased (no basis for {}), {} audit details redacted (older than {}), {} events pruned (older than {})",
            counts.contacts_erased,
            format_duration(policy.ended_contacts),
            counts.details_redacted,
            format_duration(policy.audit_detail),
            counts.events_pruned,
            format_duration(policy.events),
        );
        Ok(())
    })
}
