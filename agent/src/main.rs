//! `corral-agent`: enroll once, then run — on the phone (local shell) or driving a phone
//! over ADB (`--adb`). See docs/agent.md.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use corral_agent::cli::{Cli, Command, PhoneArgs};
use corral_agent::shell::{
    AdbShell, AndroidShell, DEFAULT_SCRIPT_TIMEOUT, LocalShell, PhoneShell, ShellMaker,
};
use corral_agent::state::StateDir;
use corral_agent::{enroll, run};
use tokio::sync::watch;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corral-agent: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(main_async(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral-agent: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn shell_maker(phone: &PhoneArgs) -> anyhow::Result<ShellMaker> {
    Ok(match phone.adb {
        None => Arc::new(|| Box::new(LocalShell::new()) as Box<dyn AndroidShell>),
        Some(addr) => {
            let key = match &phone.adb_key {
                Some(k) => {
                    anyhow::ensure!(k.exists(), "--adb-key {}: no such file", k.display());
                    k.clone()
                }
                None => AdbShell::default_key_path()
                    .context("no --adb-key and no HOME for ~/.android/adbkey")?,
            };
            if !key.exists() {
                tracing::warn!(key = %key.display(), "No ADB key there: a new one is made for each connection, so a phone that checks keys asks every time.");
            }
            Arc::new(move || Box::new(AdbShell::new(addr, key.clone())) as Box<dyn AndroidShell>)
        }
    })
}

async fn main_async(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Enroll(args) => {
            let state = StateDir::new(&args.phone.state_dir);
            let mut shell = PhoneShell::new(shell_maker(&args.phone)?, DEFAULT_SCRIPT_TIMEOUT);
            let info = enroll::device_info(&mut shell).await?;
            let config = enroll::enroll(
                &state,
                &args.controller,
                &args.ca_fingerprint,
                &args.token,
                info,
            )
            .await
            .context("enrollment failed")?;
            println!(
                "enrolled as device {} (gateway {})",
                config.device_id, config.gateway
            );
            Ok(())
        }
        Command::Run(phone) => {
            let state = StateDir::new(&phone.state_dir);
            let opts = run::Options::new(state, shell_maker(&phone)?);
            let (tx, rx) = watch::channel(false);
            tokio::spawn(async move {
                wait_for_signal().await;
                tracing::info!("Shutting down.");
                let _ = tx.send(true);
            });
            run::run(opts, rx).await?;
            Ok(())
        }
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
