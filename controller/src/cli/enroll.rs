//! `corral enroll --all`: provision every phone attached to this station for a controller
//! reached over its REST API; live progress, a summary table, exit code 1 when any phone
//! failed. The work is `corral_controller::station::enroll`.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::net::{SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use corral_controller::adb::Station;
use corral_controller::domain::ProfileName;
use corral_controller::provision::engine::AgentBuild;
use corral_controller::station::board;
use corral_controller::station::enroll::{Display, EnrollOptions, enroll_all};

use super::station::ControllerArgs;

/// Options of `corral enroll`.
#[derive(Debug, clap::Args)]
pub struct EnrollArgs {
    /// Provision every attached phone (required: there is no single-phone mode yet).
    #[arg(long, required = true)]
    pub all: bool,
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// The profile the phones enroll into (default: the only published profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Also provision the phone whose adbd listens at HOST:PORT (direct TCP, the
    /// station's key); repeatable.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: Vec<SocketAddr>,
    /// Phones provisioned at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// Do not ask the adb server for phones (only --connect).
    #[arg(long)]
    pub no_adb_server: bool,
    /// Also take the phones on USB directly, without an adb server (builds with the `usb`
    /// feature only; stop the adb server first, it holds the phones).
    #[arg(long)]
    pub usb: bool,
    /// The adb server.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:5037")]
    pub adb_server: SocketAddrV4,
    /// The `adb` binary started as the server when none runs (default: `adb` on PATH).
    #[arg(long, value_name = "PATH")]
    pub adb: Option<String>,
    /// The station's ADB key for --connect (default: ~/.android/adbkey).
    #[arg(long, value_name = "FILE")]
    pub adb_key: Option<PathBuf>,
    /// A corral-agent build for phones with this ABI, e.g. arm64-v8a=target/aarch64-linux-android/release/corral-agent;
    /// repeatable (default: the corral-agent next to this corral, for the host's ABI).
    #[arg(long, value_name = "ABI=PATH")]
    pub agent: Vec<String>,
    /// Where the APKs profiles name (`messenger.apk`) are.
    #[arg(long, value_name = "DIR")]
    pub apk_dir: Option<PathBuf>,
    /// The enrollment address phones are given (default: what the controller reports).
    #[arg(long, value_name = "HOST:PORT")]
    pub enroll_address: Option<String>,
    /// Seconds to wait for each agent to enroll and apply the profile.
    #[arg(long, default_value_t = 180)]
    pub enroll_timeout: u64,
}

/// The host's ABI as Android names it, for the default agent build.
fn host_abi() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64-v8a",
        "arm" => "armeabi-v7a",
        "x86" => "x86",
        _ => "x86_64",
    }
}

fn agent_builds(specs: &[String]) -> anyhow::Result<BTreeMap<String, AgentBuild>> {
    let mut builds = BTreeMap::new();
    if specs.is_empty() {
        let exe = std::env::current_exe().context("finding this executable")?;
        let path = exe.with_file_name("corral-agent");
        if path.exists() {
            builds.insert(
                host_abi().to_owned(),
                AgentBuild::load(&path).with_context(|| format!("reading {}", path.display()))?,
            );
        }
        return Ok(builds);
    }
    for spec in specs {
        let Some((abi, path)) = spec.split_once('=') else {
            anyhow::bail!("--agent `{spec}`: give ABI=PATH, e.g. arm64-v8a=/path/to/corral-agent");
        };
        let build = AgentBuild::load(PathBuf::from(path).as_path())
            .with_context(|| format!("--agent {spec}: cannot read {path}"))?;
        builds.insert(abi.to_owned(), build);
    }
    Ok(builds)
}

/// Runs `corral enroll --all`.
pub fn run(args: EnrollArgs) -> ExitCode {
    super::block_on(async move {
        let client = args.controller.client()?;
        let mut station = Station {
            server: args.adb_server,
            adb_path: args.adb.clone(),
            ..Station::default()
        };
        if let Some(key) = &args.adb_key {
            station.key = key.clone();
        }
        let profile = match &args.profile {
            Some(name) => Some(
                ProfileName::parse(name).map_err(|e| anyhow::anyhow!("--profile {name}: {e}"))?,
            ),
            None => None,
        };
        let options = EnrollOptions {
            profile,
            connect: args.connect.clone(),
            use_adb_server: !args.no_adb_server,
            usb: args.usb,
            concurrency: usize::try_from(args.concurrency)?,
            station,
            agent_builds: agent_builds(&args.agent)?,
            apk_dir: args.apk_dir.clone(),
            enroll_address: args.enroll_address.clone(),
            enroll_timeout: Duration::from_secs(args.enroll_timeout),
        };
        let display = if std::io::stdout().is_terminal() {
            Display::Live
        } else {
            Display::Lines
        };
        let mut out = std::io::stdout();
        let rows = enroll_all(client, options, display, &mut out).await?;
        print!("\n{}", board::summary(&rows));
        let failed = rows.iter().filter(|r| r.result.is_err()).count();
        if failed > 0 {
            anyhow::bail!(
                "{failed} of {} phones failed; the table above says why and what to do, then run `corral enroll --all` again",
                rows.len()
            );
        }
        Ok(())
    })
}
