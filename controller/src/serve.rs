//! `corral serve`: the long-running controller.
//!
//! Owns: start-up order (data directory → store + migrations → CA → first admin), the
//! shared [`AppState`], the console/API listener with `GET /healthz`, and graceful
//! shutdown. The REST API, the console, the agent gateway (`gateway_listen`) and the
//! enrollment listener (`enrollment_listen`) are built on [`AppState`] and plug in here:
//! routers merge into [`router`], TLS listeners are spawned from [`run`] with
//! [`crate::ca::Ca::server_identity`].
//! Must never: print a secret except the first admin's generated password, once.

use std::future::Future;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::ca::{Ca, CaError};
use crate::config::Config;
use crate::console::ConsoleOptions;
use crate::domain::{Password, PasswordHash, Timestamp, UserName};
use crate::gateway::{AgentListeners, Gateway, GatewayOptions, serve_agent_listeners};
use crate::store::{Store, StoreError, StoreOptions};

/// Why the controller could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory cannot be created or used.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CA failed (e.g. an unsafe key file).
    #[error(transparent)]
    Ca(#[from] CaError),
    /// A listener could not be bound or failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// Hashing the first admin's password failed.
    #[error("creating the first admin: {0}")]
    FirstAdmin(String),
}

/// What every front end shares: the store, the CA, the configuration and the agent
/// gateway (whoever queues pushes calls `gateway.notify…`; whoever revokes a device calls
/// `gateway.revoke`).
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub ca: Arc<Ca>,
    pub config: Arc<Config>,
    pub gateway: Gateway,
}

/// The first admin account created by this start, with its generated password.
#[derive(Debug)]
pub struct FirstAdmin {
    pub name: UserName,
    pub password: Password,
}

/// Creates the data directory (mode 0700) when missing.
pub fn ensure_data_dir(path: &Path) -> Result<(), ServeError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| ServeError::DataDir {
            path: path.to_owned(),
            source,
        })
}

/// Opens (and migrates) the configured database. Used by `serve` and by the one-shot
/// commands (`admin token`, `token create`), which may run while `serve` does.
pub async fn open_store(config: &Config) -> Result<Store, ServeError> {
    ensure_data_dir(&config.data_dir)?;
    Ok(Store::open(&config.database.connection_url(), &StoreOptions::default()).await?)
}

/// Everything `serve` needs before it listens: store, CA and — on the first start only —
/// the first admin account. Returns the admin's password so the caller can show it once.
pub async fn open(config: Config) -> Result<(AppState, Option<FirstAdmin>), ServeError> {
    let store = open_store(&config).await?;
    let ca = Ca::open_or_create(&config.data_dir, Timestamp::now())?;
    let first_admin = bootstrap_admin(&store).await?;
    let ca = Arc::new(ca);
    let gateway = Gateway::new(
        store.clone(),
        Arc::clone(&ca),
        config.device_cert_lifetime,
        GatewayOptions::default(),
    );
    Ok((
        AppState {
            store,
            ca,
            config: Arc::new(config),
            gateway,
        },
        first_admin,
    ))
}

/// Creates the `admin` account with a generated password when no admin exists.
async fn bootstrap_admin(store: &Store) -> Result<Option<FirstAdmin>, ServeError> {
    if store.first_admin().await.is_ok() {
        return Ok(None);
    }
    let password = Password::generate();
    let to_hash = password.clone();
    let hash = tokio::task::spawn_blocking(move || PasswordHash::create(&to_hash))
        .await
        .map_err(|e| ServeError::FirstAdmin(e.to_string()))?
        .map_err(|e| ServeError::FirstAdmin(e.to_string()))?;
    let name = UserName::parse("admin").map_err(|e| ServeError::FirstAdmin(e.to_string()))?;
    Ok(store
        .create_first_admin(&name, &hash, Timestamp::now())
        .await?
        .map(|_| FirstAdmin { name, password }))
}

/// The console/API router: `/healthz`, the REST API under `/api/v1` and the web console
/// everywhere else, with the console's default options.
pub fn router(state: AppState) -> Router {
    router_with(state, ConsoleOptions::default())
}

/// [`router`] with chosen console options (tests shorten timeouts).
pub fn router_with(state: AppState, console: ConsoleOptions) -> Router {
    let console = crate::console::router(state.clone(), console);
    Router::new()
        .route("/healthz", get(healthz))
        .nest(crate::api::routes::PREFIX, crate::api::router())
        .with_state(state)
        .merge(console)
}

/// 200 when the database answers, 503 otherwise; never shows the error itself.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "Health check failed.");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

/// Serves the console/API on `listener` until `shutdown` resolves, then finishes the
/// requests in flight. Tests call this with a `127.0.0.1:0` listener.
pub async fn serve_console(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The client address feeds the console's per-address login throttling.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Runs the controller until `shutdown` resolves: opens everything, prints the first
/// admin's password (first start only), the CA fingerprint and the bound address to
/// stdout, and serves.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = config.console_listen;
    let (state, first_admin) = open(config).await?;
    if let Some(admin) = first_admin {
        println!("corral: created the first admin account; this password is shown only once:");
        println!("  user:     {}", admin.name);
        println!("  password: {}", admin.password.reveal());
    }
    println!(
        "corral: CA fingerprint (agents pin it): {}",
        state.ca.fingerprint()
    );
    let listener = bind(addr).await?;
    // The agent gateway and the enrollment listener start here, next to the console.
    let agents = AgentListeners {
        gateway: bind(state.config.gateway_listen).await?,
        enrollment: bind(state.config.enrollment_listen).await?,
    };
    serve_bound(state, listener, agents, shutdown).await
}

/// Serves the console/API on `listener` and the agent listeners on `agents` (all bound
/// already: `corral demo` binds first so a busy port is reported before anything
/// starts) until `shutdown` resolves; prints where each one listens.
pub async fn serve_bound(
    mut state: AppState,
    listener: TcpListener,
    agents: AgentListeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = state.config.console_listen;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr, source })?;
    // The configuration says where the listeners really are (port 0 picks one), so what
    // the API reports — the enrollment address a station hands to phones — is reachable.
    let mut config = (*state.config).clone();
    config.console_listen = bound;
    if let Ok(at) = agents.gateway.local_addr() {
        config.gateway_listen = at;
    }
    if let Ok(at) = agents.enrollment.local_addr() {
        config.enrollment_listen = at;
    }
    state.config = Arc::new(config);
    for (what, listener) in [
        ("agent gateway", &agents.gateway),
        ("enrollment", &agents.enrollment),
    ] {
        if let Ok(at) = listener.local_addr() {
            println!("corral: {what} on {at}");
        }
    }
    let tls = console_tls(&state)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("corral: console and API on {scheme}://{bound}");
    tracing::info!(%bound, database = %state.config.database, "Controller started.");
    let store = state.store.clone();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let stopped = |mut stop: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    spawn_outbox_signal(state.gateway.clone());
    // Contact allow-lists: the safety net behind the re-queue each contact change does.
    tokio::spawn(crate::allow_lists::run_periodic(
        state.clone(),
        crate::allow_lists::RESYNC_EVERY,
        stopped(stop.clone()),
    ));
    // Retention: purges what is past its window (`[retention]`), every `retention.every`.
    tokio::spawn(crate::retention::run_periodic(
        state.clone(),
        crate::console::clock::Clock::system(),
        stopped(stop.clone()),
    ));
    let agent_state = state.clone();
    let agent_stop = stopped(stop.clone());
    let agent_listeners =
        tokio::spawn(async move { serve_agent_listeners(&agent_state, agents, agent_stop).await });
    let shutdown = async move {
        shutdown.await;
        stop_tx.send_replace(true);
    };
    let served = match tls {
        None => serve_console(listener, state, shutdown).await,
        Some(config) => {
            let options = ConsoleOptions {
                tls: true,
                ..ConsoleOptions::default()
            };
            crate::console::tls::serve(listener, config, router_with(state, options), shutdown)
                .await
        }
    };
    let agents_served = agent_listeners.await;
    store.close().await;
    served.map_err(|source| ServeError::Listen {
        addr: bound,
        source,
    })?;
    if let Ok(result) = agents_served {
        result?;
    }
    tracing::info!("Controller stopped.");
    Ok(())
}

/// The console's TLS configuration per `console.tls`, or `None` for plain HTTP. A
/// CA-issued certificate is renewed in place at 70% of its lifetime (checked hourly).
fn console_tls(state: &AppState) -> Result<Option<Arc<rustls::ServerConfig>>, ServeError> {
    use crate::config::ConsoleTls;
    match &state.config.console_tls {
        ConsoleTls::Off => Ok(None),
        ConsoleTls::Ca => {
            let (config, certificate) = crate::console::tls::config_from_ca(
                Arc::clone(&state.ca),
                &state.config.server_names,
                Timestamp::now(),
            )?;
            tokio::spawn(async move {
                let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    hourly.tick().await;
                    if let Err(e) = certificate.renew_if_due(Timestamp::now()) {
                        tracing::warn!(error = %e, "Console TLS: renewing the certificate failed.");
                    }
                }
            });
            Ok(Some(config))
        }
        ConsoleTls::Files { cert, key } => {
            let read = |path: &Path| {
                std::fs::read(path).map_err(|e| {
                    ServeError::Ca(CaError::Invalid(format!("reading {}: {e}", path.display())))
                })
            };
            Ok(Some(crate::console::tls::config_from_pem(
                &read(cert)?,
                &read(key)?,
            )?))
        }
    }
}

/// On SIGUSR1 the gateway looks at every online device's outbox at once: the way another
/// process that queued pushes in the same database (a script over the store, the load
/// harness) tells a running controller, instead of waiting for the next sweep.
fn spawn_outbox_signal(gateway: Gateway) {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::user_defined1()) {
        Ok(mut usr1) => {
            tokio::spawn(async move {
                while usr1.recv().await.is_some() {
                    tracing::info!("SIGUSR1: looking for pending pushes now.");
                    gateway.notify_all();
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "Cannot install the SIGUSR1 handler."),
    }
}

async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so a signal that arrives during start-up
/// still stops the controller gracefully instead of killing it. Call it inside the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let (Ok(mut interrupt), Ok(mut terminate)) = (interrupt, terminate) else {
            tracing::warn!("Cannot install signal handlers; stop the controller with SIGKILL.");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    }
}
