//! `corral demo`: everything running with no setup.
//!
//! Today it starts simulated phones (the real ADB wire protocol, state kept in the data
//! directory) and prints how to reach each one with `adb`. The controller, provisioning
//! and the console join it as they land (issue 5).

use std::path::PathBuf;
use std::process::ExitCode;

use corral_devsim::latency::LatencyModel;
use corral_devsim::simulator::{Simulator, SimulatorConfig, listed_model};

/// Options of `corral demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the demo keeps its state (reused on the next start).
    #[arg(long, default_value = "demo-data")]
    pub data_dir: PathBuf,
    /// How many simulated phones to start.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=500))]
    pub phones: u64,
    /// ADB port of the first phone; the others follow.
    #[arg(long, default_value_t = 5555)]
    pub base_port: u16,
}

/// Runs the demo until Ctrl-C or SIGTERM.
pub fn run(args: DemoArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral demo: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(demo(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let phones_dir = args.data_dir.join("phones");
    std::fs::create_dir_all(&phones_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", phones_dir.display()))?;
    let config = SimulatorConfig {
        phones: usize::try_from(args.phones)?,
        base_port: args.base_port,
        state_dir: Some(phones_dir.clone()),
        latency: LatencyModel::real(),
        ..SimulatorConfig::default()
    };
    let simulator = Simulator::start(config).await.map_err(|e| {
        anyhow::anyhow!("{e} (is another demo running? try --base-port with a free port)")
    })?;
    println!(
        "corral demo: {} simulated phones, state in {}",
        simulator.phones().len(),
        args.data_dir.display()
    );
    for phone in simulator.phones() {
        let cfg = phone.config();
        println!(
            "phone {} model={} android={}    adb connect {}",
            phone.serial(),
            listed_model(&cfg.model),
            cfg.android.0,
            phone.serial()
        );
    }
    if let Some(first) = simulator.phones().first() {
        println!(
            "\ntry: adb connect {0} && adb -s {0} shell pm list users",
            first.serial()
        );
    }
    println!(
        "Ctrl-C stops the demo; its state stays in {} for the next start.",
        args.data_dir.display()
    );
    shutdown_signal().await;
    println!("corral demo: stopping");
    simulator.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
