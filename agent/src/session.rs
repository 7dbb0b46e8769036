//! One mutual-TLS connection to the gateway: Hello with where the agent stands, Welcome
//! with how far the controller has the outbox, then until the connection ends — reports
//! from the outbox as they are written, pushes and commands handed to the keeper, acks
//! applied to the outbox, heartbeats at the applied profile's interval, and the certificate
//! renewed at 70% of its lifetime (a new key made here; only its CSR is sent).
//!
//! Must never: send a report that is not in the outbox, act on a push itself (the keeper
//! does), or keep a connection the controller stopped answering (3 heartbeats of silence).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral_wire::client::{AgentConnection, ConnectError};
use corral_wire::tls::{DeviceKey, TlsError, gateway_client_config};
use corral_wire::{AgentMessage, ControllerMessage, Hello, PROTOCOL_VERSION, RenewRequest};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout};

use crate::metrics::Metrics;
use crate::outbox::{Outbox, OutboxError};
use crate::renew::Renewal;
use crate::run::keeper::{Event, Status, lock};
use crate::state::{AgentConfig, StateDir, StateError};

/// How long the gateway has to answer Hello.
pub const WELCOME_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("TLS configuration: {0}")]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error("the gateway broke the protocol: {0}")]
    Protocol(String),
    #[error("the gateway said goodbye: {0}")]
    Goodbye(String),
    #[error("the gateway closed the connection")]
    Closed,
    #[error("nothing heard from the gateway for {0:?}")]
    Silent(Duration),
    #[error("the keeper stopped")]
    KeeperGone,
}

/// What a session works with.
#[derive(Clone)]
pub struct SessionContext {
    pub config: AgentConfig,
    pub state: StateDir,
    pub outbox: Arc<Mutex<Outbox>>,
    pub outbox_changed: Arc<Notify>,
    pub events: mpsc::Sender<Event>,
    pub status: watch::Receiver<Status>,
    pub renewal: Renewal,
    pub metrics: Arc<Metrics>,
}

/// The gateway client configuration from the state directory's key and certificates.
pub fn tls_config(state: &StateDir) -> Result<rustls::ClientConfig, SessionError> {
    let missing = |name: &str| StateError::NotEnrolled(state.path(name));
    let key = state
        .read_key("key.pem")?
        .ok_or_else(|| missing("key.pem"))?;
    let cert = state.read("cert.pem")?.ok_or_else(|| missing("cert.pem"))?;
    let ca = state.read("ca.pem")?.ok_or_else(|| missing("ca.pem"))?;
    Ok(gateway_client_config(&ca, &cert, key.pkcs8_der())?)
}

/// Validity of the PEM certificate `pem` in seconds since the epoch.
pub fn validity(pem: &str) -> Option<(i64, i64)> {
    let (_, doc) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let cert = doc.parse_x509().ok()?;
    let v = cert.validity();
    Some((v.not_before.timestamp(), v.not_after.timestamp()))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// When the current certificate is to be renewed.
fn renewal_due(ctx: &SessionContext) -> Result<Instant, SessionError> {
    let cert = ctx.state.read("cert.pem")?.unwrap_or_default();
    let wait = match validity(&cert) {
        Some((nb, na)) => ctx.renewal.renew_in(nb, na, unix_now()),
        None => ctx.renewal.max,
    };
    Ok(Instant::now() + wait)
}

/// Runs one session until it ends; `Ok` when `shutdown` asked for it.
pub async fn session(
    ctx: &SessionContext,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), SessionError> {
    ctx.metrics.connects.inc();
    let tls = Arc::new(tls_config(&ctx.state)?);
    let mut conn =
        AgentConnection::connect(&ctx.config.gateway, &ctx.config.server_name, tls).await?;
    let status = ctx.status.borrow().clone();
    let next_seq = lock(&ctx.outbox).next_seq();
    conn.send(&AgentMessage::Hello(Hello {
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        protocol_version: PROTOCOL_VERSION,
        last_applied_version: status.applied_version.clone(),
        last_push_seq_processed: status.push_seq,
        outbox_next_seq: next_seq,
    }))
    .await?;
    let welcome = match timeout(WELCOME_TIMEOUT, conn.recv()).await {
        Err(_) => return Err(SessionError::Silent(WELCOME_TIMEOUT)),
        Ok(r) => r?,
    };
    match welcome {
        Some(ControllerMessage::Welcome(w)) => {
            tracing::info!(device = %w.device_id, acked = w.acked_agent_seq, "Connected to the gateway.");
            lock(&ctx.outbox).welcome(w.acked_agent_seq)?;
            // Best effort: only delays (or not) the keeper's first reconcile.
            let _ = ctx.events.try_send(Event::Online);
        }
        Some(ControllerMessage::Goodbye(g)) => return Err(SessionError::Goodbye(g.reason)),
        Some(other) => {
            return Err(SessionError::Protocol(format!(
                "expected welcome, got {other:?}"
            )));
        }
        None => return Err(SessionError::Closed),
    }
    let result = serve(ctx, &mut conn, status.heartbeat, shutdown).await;
    lock(&ctx.outbox).disconnected();
    result
}

async fn serve(
    ctx: &SessionContext,
    conn: &mut AgentConnection,
    heartbeat: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), SessionError> {
    let mut status = ctx.status.clone();
    let mut heartbeat = heartbeat;
    let mut last_heard = Instant::now();
    let mut next_beat = Instant::now() + heartbeat;
    let mut renew_at = renewal_due(ctx)?;
    let mut renewing = false;
    loop {
        ctx.metrics.session_wakeups.inc();
        let unsent = lock(&ctx.outbox).take_unsent();
        for m in &unsent {
            conn.send(m).await?;
        }
        tokio::select! {
            msg = conn.recv() => {
                last_heard = Instant::now();
                match msg? {
                    None => return Err(SessionError::Closed),
                    Some(m) => {
                        if handle(ctx, m, &mut renewing).await? {
                            renew_at = renewal_due(ctx)?;
                        }
                    }
                }
            }
            () = ctx.outbox_changed.notified() => {}
            () = sleep_until(next_beat) => {
                let silent = last_heard.elapsed();
                if silent > heartbeat * 3 {
                    return Err(SessionError::Silent(silent));
                }
                conn.send(&AgentMessage::Heartbeat {}).await?;
                ctx.metrics.heartbeats.inc();
                next_beat = Instant::now() + heartbeat;
            }
            () = sleep_until(renew_at), if !renewing => {
                let key = DeviceKey::generate()?;
                ctx.state.write_key("key.next.pem", &key)?;
                conn.send(&AgentMessage::RenewRequest(RenewRequest { csr_pem: key.csr_pem()? })).await?;
                tracing::info!("Asked for a new certificate.");
                renewing = true;
            }
            changed = status.changed() => {
                if changed.is_err() {
                    return Err(SessionError::KeeperGone);
                }
                let hb = status.borrow_and_update().heartbeat;
                if hb != heartbeat {
                    heartbeat = hb;
                    next_beat = next_beat.min(Instant::now() + heartbeat);
                }
            }
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// Handles one message; `Ok(true)` when the certificate was renewed.
async fn handle(
    ctx: &SessionContext,
    msg: ControllerMessage,
    renewing: &mut bool,
) -> Result<bool, SessionError> {
    match msg {
        ControllerMessage::ProfilePush(p) => {
            ctx.events
                .send(Event::Push(p))
                .await
                .map_err(|_| SessionError::KeeperGone)?;
        }
        ControllerMessage::Command(c) => {
            ctx.events
                .send(Event::Command(c))
                .await
                .map_err(|_| SessionError::KeeperGone)?;
        }
        ControllerMessage::ContactsPush(c) => {
            ctx.events
                .send(Event::Contacts(c))
                .await
                .map_err(|_| SessionError::KeeperGone)?;
        }
        ControllerMessage::Ack(a) => lock(&ctx.outbox).ack(a.agent_seq)?,
        ControllerMessage::HeartbeatAck {} => {}
        ControllerMessage::Goodbye(g) => return Err(SessionError::Goodbye(g.reason)),
        ControllerMessage::Welcome(_) => {
            return Err(SessionError::Protocol("a second welcome".into()));
        }
        ControllerMessage::Renewed(r) => {
            if !*renewing {
                return Err(SessionError::Protocol(
                    "a certificate nobody asked for".into(),
                ));
            }
            *renewing = false;
            install_renewed(&ctx.state, &r.certificate_pem)?;
            tracing::info!("Certificate renewed; the next connection uses it.");
            return Ok(true);
        }
    }
    Ok(false)
}

/// Checks that `cert_pem` certifies the key waiting in `key.next.pem`, then switches to
/// the new key and certificate (see `StateDir::finish_renewal`).
fn install_renewed(state: &StateDir, cert_pem: &str) -> Result<(), SessionError> {
    let key = state
        .read_key("key.next.pem")?
        .ok_or_else(|| SessionError::Protocol("renewed without a pending key".into()))?;
    let ca = state.read("ca.pem")?.unwrap_or_default();
    // The same check the next handshake makes: the key must fit the certificate.
    gateway_client_config(&ca, cert_pem, key.pkcs8_der())
        .map_err(|e| SessionError::Protocol(format!("renewed certificate unusable: {e}")))?;
    if !same_key(cert_pem, &key) {
        return Err(SessionError::Protocol(
            "the renewed certificate is for another key".into(),
        ));
    }
    state.write_atomic("cert.next.pem", cert_pem.as_bytes(), 0o644)?;
    state.finish_renewal()?;
    Ok(())
}

fn same_key(cert_pem: &str, key: &DeviceKey) -> bool {
    use rcgen::PublicKeyData;
    let Ok((_, doc)) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()) else {
        return false;
    };
    let Ok(cert) = doc.parse_x509() else {
        return false;
    };
    let Ok(pair) = rcgen::KeyPair::try_from(key.pkcs8_der()) else {
        return false;
    };
    cert.public_key().raw == pair.subject_public_key_info().as_slice()
}
