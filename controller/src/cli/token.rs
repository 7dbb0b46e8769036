//! `corral token create`: print a new single-use enrollment token bound to a profile or a
//! group (works while `serve` runs).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use corral_controller::config::parse_duration;
use corral_controller::domain::{
    EnrollmentBinding, EnrollmentTokenSecret, GroupName, ProfileName, Timestamp,
};
use corral_controller::serve::open_store;
use corral_controller::store::StoreError;

use super::ConfigArgs;

/// Enrollment token subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new enrollment token; it is shown only once.
    Create {
        #[command(flatten)]
        config: ConfigArgs,
        /// Profile the enrolled device gets.
        #[arg(
            long,
            value_name = "NAME",
            required_unless_present = "group",
            conflicts_with = "group"
        )]
        profile: Option<String>,
        /// Group the enrolled device joins (and gets the group's profile).
        #[arg(long, value_name = "NAME")]
        group: Option<String>,
        /// Lifetime, e.g. 24h (default: `enrollment.token_ttl`).
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
}

/// Runs a token subcommand.
pub fn run(cmd: TokenCommand) -> ExitCode {
    let TokenCommand::Create {
        config,
        profile,
        group,
        expires,
    } = cmd;
    super::block_on(async move {
        let config = config.load(None)?;
        let binding = match (profile, group) {
            (Some(p), _) => EnrollmentBinding::Profile(ProfileName::parse(&p)?),
            (None, Some(g)) => EnrollmentBinding::Group(GroupName::parse(&g)?),
            (None, None) => anyhow::bail!("--profile or --group is required"),
        };
        let ttl = match expires {
            Some(text) => parse_duration(&text)
                .map_err(anyhow::Error::msg)
                .context("--expires")?,
            None => config.enrollment_token_ttl,
        };
        let store = open_store(&config).await?;
        if let EnrollmentBinding::Profile(p) = &binding
            && let Err(StoreError::NotFound(_)) = store.current_profile_version(p).await
        {
            eprintln!(
                "corral: note: profile {p} has no published version yet; enrolled devices get it once it has"
            );
        }
        let now = Timestamp::now();
        let token = EnrollmentTokenSecret::generate();
        let stored = store
            .create_enrollment_token(&token, &binding, now.plus(ttl), Some("cli"), now)
            .await?;
        store.close().await;
        println!("{}", token.reveal());
        eprintln!("corral: expires {}", stored.expires_at);
        Ok(())
    })
}
