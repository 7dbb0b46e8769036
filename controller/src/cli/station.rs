//! What the station commands (`enroll`, `devices`) share: the controller's URL and the
//! API token, from `CORRAL_API_TOKEN` or `--token-file`.
//! Must never: take the token on the command line (it would show in `ps`), or print it.

use std::path::PathBuf;

use anyhow::Context as _;
use corral_controller::station::{ApiSecret, Client};

/// The environment variable holding the API token.
pub const TOKEN_ENV: &str = "CORRAL_API_TOKEN";

/// How to reach the controller.
#[derive(Debug, Clone, clap::Args)]
pub struct ControllerArgs {
    /// The controller's console/API address.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub controller: String,
    /// A file holding the API token (default: the CORRAL_API_TOKEN environment variable).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

impl ControllerArgs {
    /// The client, with the token from `--token-file` or the environment.
    pub fn client(&self) -> anyhow::Result<Client> {
        let token = match &self.token_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("--token-file {}", path.display()))?,
            None => std::env::var(TOKEN_ENV).map_err(|_| {
                anyhow::anyhow!(
                    "no API token: set {TOKEN_ENV} or give --token-file FILE (`corral admin token` prints one)"
                )
            })?,
        };
        if token.trim().is_empty() {
            anyhow::bail!("the API token is empty; `corral admin token` prints one");
        }
        Ok(Client::new(&self.controller, ApiSecret::new(&token))?)
    }
}
