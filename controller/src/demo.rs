//! `corral demo`: the whole system with no setup, in one process tree.
//!
//! Starts the controller (the code of `corral serve`, embedded SQLite in the data
//! directory), N simulated phones, creates the first admin (its generated password kept in
//! `DIR/demo-admin.txt`, mode 0600, because only its hash is stored), uploads the
//! butcher-shop profile and its parent through the REST API, provisions every phone
//! through the same code as `corral enroll --all` (over REST with an API token; the real
//! `corral-agent` is pushed, enrolled over TLS and started as a program on the simulated
//! phone), prints the console URL and the credentials, and runs until Ctrl-C or SIGTERM,
//! which stop the agents, the phones and the controller. A second start reuses the state:
//! provisioned phones go through the steps as `unchanged` and their agents are restarted.
//!
//! Must never: print the API token it uses, or leave an agent running after it stops.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use corral_controller::adb::Station;
use corral_controller::config::{Config, Overrides};
use corral_controller::domain::{ApiToken, Timestamp};
use corral_controller::gateway::AgentListeners;
use corral_controller::provision::engine::AgentBuild;
use corral_controller::serve;
use corral_controller::station::board;
use corral_controller::station::enroll::{Display, EnrollOptions, enroll_all};
use corral_controller::station::{ApiSecret, Client};
use corral_devsim::latency::LatencyModel;
use corral_devsim::simulator::{Simulator, SimulatorConfig, listed_model};
use serde_json::json;
use tokio::net::TcpListener;

/// The profile the demo's phones enroll into, and its parent.
const PROFILES: [(&str, &str); 2] = [
    (
        "base.toml",
        include_str!("../../profiles/examples/base.toml"),
    ),
    (
        "butcher-shop.toml",
        include_str!("../../profiles/examples/butcher-shop.toml"),
    ),
];
const PROFILE: &str = "butcher-shop";

/// Options of `corral demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the demo keeps its state (reused on the next start).
    #[arg(long, default_value = "demo-data")]
    pub data_dir: PathBuf,
    /// How many simulated phones to start.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=500))]
    pub phones: u64,
    /// ADB port of the first phone; the others follow (0: free ports).
    #[arg(long, default_value_t = 5555)]
    pub base_port: u16,
    /// Console and REST API address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Agent gateway (mutual TLS) address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub gateway_listen: SocketAddr,
    /// Enrollment listener address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8444")]
    pub enrollment_listen: SocketAddr,
}

/// Runs the demo until Ctrl-C or SIGTERM.
pub fn run(args: DemoArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return crate::cli::fail(&anyhow::Error::from(e)),
    };
    let result = runtime.block_on(demo(args));
    // A start that failed half-way may leave listener threads of the phones it started;
    // they must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => crate::cli::fail(&e),
    }
}

/// Binds `addr`, saying which option moves it when it is busy.
async fn bind(addr: SocketAddr, what: &str, option: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr} for the {what}: {e} (is another corral demo or corral serve running? stop it, or give {option} with a free address)"
        )
    })
}

/// The admin's password: generated and saved on the first start, read on later ones.
fn admin_password(dir: &Path, generated: Option<String>) -> anyhow::Result<Option<String>> {
    let path = dir.join("demo-admin.txt");
    if let Some(password) = generated {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        writeln!(file, "{password}")?;
        return Ok(Some(password));
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(_) => Ok(None),
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let stop = serve::shutdown_signal();
    tokio::pin!(stop);
    // Absolute, so the phones' programs (run from inside the phones' directories) and the
    // printed paths name the same place wherever they are used from.
    let dir = std::path::absolute(&args.data_dir)?;
    serve::ensure_data_dir(&dir)?;
    let console = bind(args.listen, "console and API", "--listen").await?;
    let agents = AgentListeners {
        gateway: bind(args.gateway_listen, "agent gateway", "--gateway-listen").await?,
        enrollment: bind(
            args.enrollment_listen,
            "enrollment listener",
            "--enrollment-listen",
        )
        .await?,
    };
    let console_at = console.local_addr()?;
    let bound = [
        ("CORRAL_GATEWAY_LISTEN", agents.gateway.local_addr()?),
        ("CORRAL_ENROLLMENT_LISTEN", agents.enrollment.local_addr()?),
    ];
    let env = |key: &str| match bound.iter().find(|(k, _)| *k == key) {
        Some((_, addr)) => Some(addr.to_string()),
        None => std::env::var(key).ok(),
    };
    let overrides = Overrides {
        console_listen: Some(console_at.to_string()),
        ..Overrides::default()
    };
    let config = Config::load(&dir, &overrides, &env)?;
    let (state, first_admin) = serve::open(config).await?;
    let password = admin_password(
        &dir,
        first_admin.as_ref().map(|a| a.password.reveal().to_owned()),
    )?;
    let admin = state.store.first_admin().await?;
    let token = ApiToken::generate();
    let now = Timestamp::now();
    state
        .store
        .create_api_token(
            &admin,
            &token,
            "corral demo station",
            Some(now.plus(Duration::from_secs(24 * 3600))),
            now,
        )
        .await?;

    let (stop_controller, controller_stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = tokio::spawn(serve::serve_bound(state, console, agents, async move {
        let _ = controller_stopped.await;
    }));
    let client = Client::new(
        &format!("http://{console_at}"),
        ApiSecret::new(&token.reveal()),
    )?;
    let files: Vec<_> = PROFILES
        .iter()
        .map(|(name, text)| json!({ "name": name, "text": text }))
        .collect();
    client
        .call("POST", "/profiles", Some(&json!({ "files": files })))
        .await
        .context("uploading the butcher-shop profile")?;

    let phones_dir = dir.join("phones");
    std::fs::create_dir_all(&phones_dir)
        .with_context(|| format!("creating {}", phones_dir.display()))?;
    let simulator = Simulator::start(SimulatorConfig {
        phones: usize::try_from(args.phones)?,
        base_port: args.base_port,
        state_dir: Some(phones_dir),
        latency: LatencyModel::real(),
        ..SimulatorConfig::default()
    })
    .await
    .map_err(|e| {
        anyhow::anyhow!("{e} (is another demo running? give --base-port with a free port)")
    })?;
    println!(
        "corral demo: {} simulated phones, state in {}",
        simulator.phones().len(),
        dir.display()
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

    let outcome = tokio::select! {
        result = provision(&client, &simulator, &dir, args.phones) => Some(result),
        () = &mut stop => None,
    };
    let stopped_early = outcome.is_none();
    if let Some(result) = outcome {
        match result {
            Ok(()) => {}
            Err(e) => println!("corral demo: provisioning could not run: {e:#}"),
        }
        println!();
        println!("corral demo: ready");
        println!("  console:  http://{console_at}/");
        println!("  user:     admin");
        match &password {
            Some(p) => println!(
                "  password: {p}    (kept in {})",
                dir.join("demo-admin.txt").display()
            ),
            None => println!("  password: shown when {} was first used", dir.display()),
        }
        println!(
            "Ctrl-C stops the demo; its state stays in {} for the next start.",
            dir.display()
        );
        (&mut stop).await;
    }
    if stopped_early {
        println!("corral demo: stopping before the phones were provisioned");
    }
    println!("corral demo: stopping");
    for phone in simulator.phones() {
        phone.processes().kill_all();
    }
    simulator.shutdown().await;
    let _ = stop_controller.send(());
    controller.await.context("the controller task")??;
    println!("corral demo: stopped");
    Ok(())
}

/// Provisions every simulated phone through the station code, over REST.
async fn provision(
    client: &Client,
    simulator: &Simulator,
    dir: &Path,
    phones: u64,
) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let agent = exe.with_file_name("corral-agent");
    let build = AgentBuild::load(&agent).map_err(|e| {
        anyhow::anyhow!(
            "no corral-agent next to this corral ({}: {e}); build both with `cargo build --release --bins` (./demo.sh does)",
            agent.display()
        )
    })?;
    let abis: BTreeMap<String, AgentBuild> = simulator
        .phones()
        .iter()
        .map(|p| (p.config().abi.clone(), build.clone()))
        .collect();
    let options = EnrollOptions {
        profile: Some(PROFILE.parse()?),
        connect: simulator.addrs().to_vec(),
        use_adb_server: false,
        usb: false,
        concurrency: usize::try_from(phones)?,
        station: Station {
            key: dir.join("station-adbkey"),
            ..Station::default()
        },
        agent_builds: abis,
        apk_dir: None,
        enroll_address: None,
        enroll_timeout: Duration::from_secs(120),
    };
    let display = if std::io::stdout().is_terminal() {
        Display::Live
    } else {
        Display::Lines
    };
    println!();
    let mut out = std::io::stdout();
    let rows = enroll_all(client.clone(), options, display, &mut out).await?;
    print!("\n{}", board::summary(&rows));
    Ok(())
}
