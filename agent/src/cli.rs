//! The command line: `corral-agent enroll …`, `corral-agent run …`, `--version`.
//! Usage errors exit with status 2 (clap's convention), runtime errors with 1.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::enroll::{host_of, normalize_fingerprint};
use crate::state::DEFAULT_DIR;

/// corral's on-phone agent.
#[derive(Debug, Parser)]
#[command(
    name = "corral-agent",
    version,
    about = "corral's on-phone agent: keeps the work profile on its profile"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Enroll with a controller (once): make the device key, send its CSR and the token.
    Enroll(EnrollArgs),
    /// Run: keep the phone on its profile and stay connected to the gateway.
    Run(PhoneArgs),
}

/// `enroll` arguments.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The controller's enrollment listener.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub controller: String,
    /// SHA-256 fingerprint of the controller's CA (printed by `corral serve`).
    #[arg(long, value_name = "SHA256", value_parser = parse_fingerprint)]
    pub ca_fingerprint: String,
    /// The one-time enrollment token (`enr-…`).
    #[arg(long, value_name = "TOKEN")]
    pub token: String,
    #[command(flatten)]
    pub phone: PhoneArgs,
}

/// Where state lives and how the phone is reached.
#[derive(Debug, Args)]
pub struct PhoneArgs {
    /// The state directory (key, certificates, applied profile, outbox).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DIR)]
    pub state_dir: PathBuf,
    /// Drive a phone over ADB at this address instead of the local shell.
    #[arg(long, value_name = "IP:PORT")]
    pub adb: Option<SocketAddr>,
    /// The ADB private key (PKCS#8 PEM; default ~/.android/adbkey).
    #[arg(long, value_name = "PATH", requires = "adb")]
    pub adb_key: Option<PathBuf>,
}

fn parse_host_port(s: &str) -> Result<String, String> {
    host_of(s)
        .map(|_| s.to_owned())
        .ok_or_else(|| format!("expected HOST:PORT, got {s:?}"))
}

fn parse_fingerprint(s: &str) -> Result<String, String> {
    normalize_fingerprint(s).ok_or_else(|| "expected 64 hex digits (colons allowed)".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        let fp = "ab".repeat(32);
        let ok = Cli::try_parse_from([
            "corral-agent",
            "enroll",
            "--controller",
            "ctl:8444",
            "--ca-fingerprint",
            &fp,
            "--token",
            "enr-x",
        ]);
        assert!(ok.is_ok());
        for args in [
            vec![
                "corral-agent",
                "enroll",
                "--controller",
                "ctl",
                "--ca-fingerprint",
                &fp,
                "--token",
                "t",
            ],
            vec![
                "corral-agent",
                "enroll",
                "--controller",
                "ctl:1",
                "--ca-fingerprint",
                "abc",
                "--token",
                "t",
            ],
            vec!["corral-agent", "run", "--adb", "phone"],
            vec!["corral-agent", "run", "--adb-key", "/k"],
            vec!["corral-agent"],
        ] {
            let err = Cli::try_parse_from(&args).expect_err("must fail");
            assert_eq!(err.exit_code(), 2, "{args:?}");
        }
    }
}
