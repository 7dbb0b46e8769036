//! `corral admin token`: print a new API token for an admin (works while `serve` runs).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use corral_controller::config::parse_duration;
use corral_controller::domain::{ApiToken, Timestamp, UserName};
use corral_controller::serve::open_store;

use super::ConfigArgs;

/// Admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Print a new API token (for `Authorization: Bearer …`); it is shown only once.
    Token {
        #[command(flatten)]
        config: ConfigArgs,
        /// Whose token (default: the first admin).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// What the token is for, shown in the console.
        #[arg(long, default_value = "cli")]
        label: String,
        /// Lifetime, e.g. 90d (default: until revoked).
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
}

/// Runs an admin subcommand.
pub fn run(cmd: AdminCommand) -> ExitCode {
    let AdminCommand::Token {
        config,
        user,
        label,
        expires,
    } = cmd;
    super::block_on(async move {
        let config = config.load(None)?;
        let now = Timestamp::now();
        let expires_at = match expires {
            Some(text) => Some(
                now.plus(
                    parse_duration(&text)
                        .map_err(anyhow::Error::msg)
                        .context("--expires")?,
                ),
            ),
            None => None,
        };
        let store = open_store(&config).await?;
        let user = match user {
            Some(name) => {
                let name = UserName::parse(&name)?;
                store.user_credentials(&name).await?.0
            }
            None => store
                .first_admin()
                .await
                .context("no admin account yet: start `corral serve` once first")?,
        };
        let token = ApiToken::generate();
        store
            .create_api_token(&user, &token, &label, expires_at, now)
            .await?;
        store.close().await;
        println!("{}", token.reveal());
        Ok(())
    })
}
