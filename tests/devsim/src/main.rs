//! `corral-devsim`: serve simulated phones, or inspect one phone's saved state.
//!
//! `corral-devsim --phones N --base-port P [--auth] [--auto-accept] [--android 11|14]
//! [--state-dir DIR] [--latency real|none]` prints one line per phone
//! (`phone 127.0.0.1:PORT model=<model> android=<release>`, the model spelled as
//! `adb devices -l` spells it: `SM-A546B` → `SM_A546B`) and serves until SIGINT or SIGTERM.
//! `corral-devsim inspect --state-dir DIR --serial 127.0.0.1:PORT` prints the phone's
//! state as JSON. Usage errors exit 2, runtime errors 1. Logs go to stderr (`RUST_LOG`).
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use corral_devsim::latency::LatencyModel;
use corral_devsim::phone::{AndroidVersion, Phone, PhoneConfig};
use corral_devsim::simulator::{Simulator, SimulatorConfig, listed_model, phone_state_dir};

#[derive(Debug, Parser)]
#[command(
    name = "corral-devsim",
    version,
    about = "Simulated Android phones that speak the real ADB wire protocol",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print one phone's saved state as JSON.
    Inspect {
        /// The simulator's state directory.
        #[arg(long)]
        state_dir: PathBuf,
        /// The phone's serial, `127.0.0.1:PORT`.
        #[arg(long)]
        serial: String,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// How many phones to simulate.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    phones: u64,
    /// Port of the first phone (the others follow); 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    base_port: u16,
    /// Phones demand RSA authentication.
    #[arg(long)]
    auth: bool,
    /// Phones accept unknown host keys as if the user tapped "Allow".
    #[arg(long)]
    auto_accept: bool,
    /// Android release to imitate.
    #[arg(long, default_value = "14", value_parser = ["11", "14"])]
    android: String,
    /// Keep phone state here (default: a temporary directory removed at exit).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Delays of real phones on USB, or none.
    #[arg(long, value_enum, default_value_t = Latency::Real)]
    latency: Latency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Latency {
    Real,
    None,
}

fn main() -> ExitCode {
    // Programs running "on" a phone call back into it through this binary.
    corral_devsim::phone::run_shim_if_invoked();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match cli.command {
        Some(Command::Inspect { state_dir, serial }) => inspect(state_dir, &serial),
        None => serve(cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral-devsim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let android: u8 = args.android.parse().context("--android")?;
    let config = SimulatorConfig {
        phones: usize::try_from(args.phones).context("--phones")?,
        base_port: args.base_port,
        android: AndroidVersion(android),
        auth_required: args.auth,
        auto_accept: args.auto_accept,
        state_dir: args.state_dir,
        latency: match args.latency {
            Latency::Real => LatencyModel::real(),
            Latency::None => LatencyModel::none(),
        },
        ..SimulatorConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let simulator = Simulator::start(config).await?;
        let mut out = std::io::stdout().lock();
        for phone in simulator.phones() {
            let c = phone.config();
            writeln!(
                out,
                "phone {} model={} android={}",
                phone.serial(),
                listed_model(&c.model),
                c.android.0
            )?;
        }
        out.flush()?;
        drop(out);
        wait_for_signal().await?;
        tracing::info!("shutting down");
        // Programs started on the phones (a pushed corral-agent) are host processes:
        // they stop with the simulator instead of outliving it.
        for phone in simulator.phones() {
            phone.processes().kill_all();
        }
        simulator.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}

fn inspect(state_dir: PathBuf, serial: &str) -> anyhow::Result<()> {
    let dir = phone_state_dir(&state_dir, serial);
    if !dir.is_dir() {
        bail!(
            "no state for phone {serial} in {} (expected {})",
            state_dir.display(),
            dir.display()
        );
    }
    let phone = Phone::open(PhoneConfig::new(serial, dir))?;
    let json = serde_json::to_string_pretty(&phone.snapshot())?;
    println!("{json}");
    Ok(())
}
