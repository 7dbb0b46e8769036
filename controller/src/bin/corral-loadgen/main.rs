//! `corral-loadgen`: the controller's load harness. Prepares N simulated devices in a data
//! directory (real per-device certificates from the controller's CA), starts the real
//! `corral serve` on it as a child process, opens N mutual-TLS agent connections, then
//! uploads one profile version assigned to every device through the REST API and times its arrival at each
//! agent and the acknowledgement of each agent's apply result. Afterwards it stops the
//! controller and checks the database: one delivery per device, delivered and applied.
//!
//! It is a binary of the controller crate because it needs the controller library to
//! prepare devices and its tests need the `corral` binary beside it (Cargo's
//! `CARGO_BIN_EXE_*`); it adds no dependency. Method and figures: `docs/benchmarks.md`.

mod agents;
mod fleet;
mod publish;
mod server;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use corral_controller::domain::{PushKind, VersionHash};
use corral_controller::store::{Store, StoreOptions};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use agents::{AgentLog, AgentPlan, Progress};
use server::{Server, Usage};

/// Opens N simulated agent connections to a real `corral serve` and times a fleet-wide push.
#[derive(Debug, Parser)]
#[command(name = "corral-loadgen", version)]
struct Args {
    /// Data directory (kept between runs: the enrolled devices are reused).
    #[arg(long)]
    data_dir: PathBuf,
    /// How many agents to connect.
    #[arg(long, default_value_t = 10_000)]
    agents: usize,
    /// The `corral` binary to start (default: the one next to this program).
    #[arg(long)]
    corral: Option<PathBuf>,
    /// A PostgreSQL URL instead of SQLite in the data directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Seconds between an agent's heartbeats.
    #[arg(long, default_value_t = 60)]
    heartbeat_secs: u64,
    /// TLS handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 64)]
    handshakes: usize,
    /// Give up waiting for connections, or for the push, after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Percentiles of a set of durations, in milliseconds.
#[derive(Debug, Default, serde::Serialize)]
struct Spread {
    n: usize,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn spread(mut values: Vec<Duration>) -> Spread {
    values.sort();
    let at = |q: f64| -> f64 {
        if values.is_empty() {
            return 0.0;
        }
        let i = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
        values[i].as_secs_f64() * 1000.0
    };
    Spread {
        n: values.len(),
        p50_ms: at(0.50),
        p90_ms: at(0.90),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    }
}

/// Everything a run measured and checked.
#[derive(Debug, Default, serde::Serialize)]
struct Report {
    agents: usize,
    connected: usize,
    failed: usize,
    connect_wall_s: f64,
    connect: Spread,
    publish_ms: f64,
    /// From sending the upload request to the push frame's arrival.
    delivery: Spread,
    /// From the start of the publish to the `ack` of the agent's apply result.
    acknowledged: Spread,
    /// Agents that never got the push, and agents that got it more than once.
    missing_pushes: usize,
    duplicate_pushes: usize,
    /// Database check after the run: devices without exactly one delivery of the version,
    /// not marked delivered and applied, or with a profile push still pending.
    bad_deliveries: usize,
    not_applied: usize,
    still_pending: usize,
    /// The controller's memory and CPU time: idle before connections, with every agent
    /// connected, and after the push.
    server_start: Usage,
    server_connected: Usage,
    server_after_push: Usage,
    /// CPU seconds the controller spent on the push (publish to last ack + 1 s).
    server_push_cpu_s: f64,
    loadgen_after: Usage,
    load_average: String,
    errors: Vec<String>,
}

impl Report {
    fn passed(&self) -> bool {
        self.failed == 0
            && self.missing_pushes == 0
            && self.duplicate_pushes == 0
            && self.bad_deliveries == 0
            && self.not_applied == 0
            && self.still_pending == 0
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(&args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    if !report.passed() {
        bail!("the run did not deliver the push to every agent exactly once");
    }
    Ok(())
}

async fn open_store(args: &Args) -> Result<Store> {
    let options = StoreOptions::default();
    Ok(match &args.database_url {
        Some(url) => Store::open(url, &options).await?,
        None => Store::open_sqlite(&args.data_dir.join("corral.db"), &options).await?,
    })
}

async fn run(args: &Args) -> Result<Report> {
    corral_controller::serve::ensure_data_dir(&args.data_dir)?;
    let corral = match &args.corral {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory")?
            .join("corral"),
    };
    let store = open_store(args).await?;
    let (fleet, ca_pem) = fleet::prepare(&store, &args.data_dir, args.agents).await?;
    let next_seqs: HashMap<String, u64> = store
        .devices()
        .await?
        .into_iter()
        .map(|d| (d.id.to_string(), d.last_report_seq + 1))
        .collect();

    let server = Server::start(&corral, &args.data_dir, args.database_url.as_deref())?;
    let mut report = Report {
        agents: args.agents,
        server_start: server.usage()?,
        ..Report::default()
    };
    let (version_tx, version_rx) = watch::channel(None);
    let (stop_tx, stop_rx) = watch::channel(false);
    let progress = Arc::new(Progress::default());
    let plan = Arc::new(AgentPlan {
        gateway: server.gateway,
        ca_pem,
        heartbeat: Duration::from_secs(args.heartbeat_secs.max(1)),
        handshakes: Arc::new(Semaphore::new(args.handshakes.max(1))),
        progress: Arc::clone(&progress),
        version: version_rx,
        stop: stop_rx,
    });
    let patience = Duration::from_secs(args.timeout_secs);

    // Connect every agent.
    let connecting = Instant::now();
    let mut tasks = JoinSet::new();
    for device in fleet {
        let next = next_seqs.get(&device.id).copied().unwrap_or(1);
        tasks.spawn(agents::run_agent(Arc::clone(&plan), device, next));
    }
    let all = args.agents;
    wait_until(patience, || {
        progress.connected.load(Ordering::Relaxed) + progress.failed.load(Ordering::Relaxed) >= all
    })
    .await;
    report.connect_wall_s = connecting.elapsed().as_secs_f64();
    report.connected = progress.connected.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    report.server_connected = server.usage()?;

    // One fleet-wide push: a new version of the profile every device is assigned,
    // uploaded through the REST API as an administrator would.
    let upload = publish::Upload::prepare(&store, server.api).await?;
    let version = upload.version().await?;
    version_tx.send_replace(Some(version.clone()));
    let cpu_before = server.usage()?.cpu_secs;
    let published = Instant::now();
    let (published_version, pushes) = upload.publish().await?;
    report.publish_ms = published.elapsed().as_secs_f64() * 1000.0;
    if published_version != version {
        bail!("published {published_version}, validated {version}");
    }
    let connected = report.connected;
    wait_until(patience, || {
        progress.acked.load(Ordering::Relaxed) >= connected
            || progress.failed.load(Ordering::Relaxed) > all - connected
    })
    .await;
    // Late duplicates would arrive now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.server_after_push = server.usage()?;
    report.server_push_cpu_s = report.server_after_push.cpu_secs - cpu_before;
    if pushes != args.agents {
        report.errors.push(format!(
            "the publication queued {pushes} pushes for {} devices",
            args.agents
        ));
    }

    // Close the agents, then the controller, then check the database.
    stop_tx.send_replace(true);
    let mut logs: Vec<AgentLog> = Vec::with_capacity(all);
    while let Some(done) = tasks.join_next().await {
        logs.push(done?);
    }
    report.loadgen_after = server::usage("self")?;
    server.stop()?;
    summarise(&mut report, &logs, published);
    check_store(&store, &VersionHash::parse(&version)?, &mut report).await?;
    report.load_average = std::fs::read_to_string("/proc/loadavg")?.trim().to_owned();
    store.close().await;
    Ok(report)
}

fn summarise(report: &mut Report, logs: &[AgentLog], published: Instant) {
    let mut connect = Vec::new();
    let mut delivery = Vec::new();
    let mut acked = Vec::new();
    for log in logs {
        report.failed += usize::from(log.error.is_some());
        if let Some(e) = &log.error
            && report.errors.len() < 10
        {
            report.errors.push(e.clone());
        }
        connect.push(log.connect);
        match log.pushes_of_version {
            0 => report.missing_pushes += 1,
            1 => {}
            _ => report.duplicate_pushes += 1,
        }
        if let Some(at) = log.pushed_at {
            delivery.push(at.saturating_duration_since(published));
        }
        if let Some(at) = log.acked_at {
            acked.push(at.saturating_duration_since(published));
        }
    }
    report.connect = spread(connect);
    report.delivery = spread(delivery);
    report.acknowledged = spread(acked);
}

async fn check_store(store: &Store, version: &VersionHash, report: &mut Report) -> Result<()> {
    for device in store.devices().await? {
        let of_version: Vec<_> = store
            .deliveries(&device.id)
            .await?
            .into_iter()
            .filter(|d| &d.version == version)
            .collect();
        match of_version.as_slice() {
            [one] if one.delivered_at.is_some() => {
                if one.applied_at.is_none() {
                    report.not_applied += 1;
                }
            }
            _ => report.bad_deliveries += 1,
        }
        // Profile pushes only: the controller queues each phone's contact allow-list
        // (the profile's contact groups) on its own schedule, and those answers may still
        // be on their way when the harness stops.
        let pending = store.pending_pushes(&device.id).await?;
        if pending.iter().any(|p| p.kind == PushKind::profile()) {
            report.still_pending += 1;
        }
    }
    Ok(())
}

async fn wait_until(patience: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + patience;
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn print_text(r: &Report) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let line = |name: &str, s: &Spread| {
        println!(
            "{name:<14} n={:<6} p50 {:>8.1} ms  p90 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms",
            s.n, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms
        );
    };
    println!(
        "agents         {} connected of {} ({} failed) in {:.1} s",
        r.connected, r.agents, r.failed, r.connect_wall_s
    );
    line("connect", &r.connect);
    println!(
        "publish        {:.1} ms (POST /api/v1/profiles, request to answer)",
        r.publish_ms
    );
    line("delivered", &r.delivery);
    line("acknowledged", &r.acknowledged);
    println!(
        "exactly once   missing {}, duplicates {}; store: bad deliveries {}, not applied {}, still pending {}",
        r.missing_pushes, r.duplicate_pushes, r.bad_deliveries, r.not_applied, r.still_pending
    );
    for (what, u) in [
        ("server idle", r.server_start),
        ("server conn.", r.server_connected),
        ("server pushed", r.server_after_push),
        ("loadgen", r.loadgen_after),
    ] {
        println!(
            "{what:<14} RSS {:>7.1} MiB  peak {:>7.1} MiB  CPU {:>7.2} s  threads {}",
            mib(u.rss_kib),
            mib(u.hwm_kib),
            u.cpu_secs,
            u.threads
        );
    }
    println!("server CPU for the push: {:.2} s", r.server_push_cpu_s);
    println!("load average   {}", r.load_average);
    for e in &r.errors {
        println!("error          {e}");
    }
}
