//! One agent connection, from TLS handshake to close.
//!
//! Owns: authenticating the peer (the certificate chain was verified by rustls during the
//! handshake; here: clientAuth EKU, the `corral://device/<id>` identity, and the store's
//! per-connection check that the certificate is current, unrevoked and its device
//! active), the Hello → Welcome exchange, and the loop that sends pushes and records what
//! the agent reports.
//! Must never: use a device id other than the one in the peer's certificate (a device can
//! only read and write its own records), mark a push applied without the agent's result,
//! or send the same push twice on one connection.

use std::net::SocketAddr;
use std::sync::Arc;

use corral_wire::io::{FrameReader, ReadError, write_message, write_profile_push};
use corral_wire::{AgentMessage, ControllerMessage, Goodbye, MAX_FRAME_LEN};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_rustls::TlsAcceptor;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::Inner;
use super::registry::{Outgoing, Registration};
use crate::ca::{self, PeerIdentity};
use crate::domain::{DeviceId, Timestamp};
use crate::store::StoreError;

mod messages;

pub(super) type ServerTlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// How a session ended: the reason that is logged.
#[derive(Debug, thiserror::Error)]
pub(super) enum End {
    /// The agent closed the connection between frames.
    #[error("the agent closed the connection")]
    AgentClosed,
    /// The controller closed it (revocation, replacement, shutdown).
    #[error("closed by the controller: {0}")]
    Closed(String),
    /// Nothing heard from the agent for too long.
    #[error("no frame from the agent for {0:?}")]
    Idle(std::time::Duration),
    /// The agent broke the protocol.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// Reading or writing failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The database failed; the agent will reconnect.
    #[error("store: {0}")]
    Store(String),
}

impl End {
    fn from_store(e: StoreError) -> End {
        match e {
            StoreError::Forbidden(why) => End::Closed(why.to_owned()),
            StoreError::Invalid(why) => End::Protocol(why),
            other => End::Store(other.to_string()),
        }
    }

    /// What the agent is told in its Goodbye: the protocol error (about its own frame) or
    /// a generic reason; never database details.
    fn goodbye_reason(&self) -> Option<String> {
        match self {
            End::Closed(reason) => Some(reason.clone()),
            End::Protocol(reason) => Some(reason.clone()),
            End::Idle(_) => Some("no heartbeat".into()),
            End::Store(_) => Some("the controller is temporarily unavailable".into()),
            End::AgentClosed | End::Transport(_) => None,
        }
    }
}

/// Serves one accepted TCP connection until it ends.
pub(super) async fn serve_connection(
    gw: Arc<Inner>,
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let tls = match timeout(gw.options.handshake_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "Agent TLS handshake refused.");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "Agent TLS handshake timed out.");
            return;
        }
    };
    let mut conn = FrameReader::new(tls, MAX_FRAME_LEN);
    let identity = match authenticate(&gw, conn.get_ref()).await {
        Ok(identity) => identity,
        Err(reason) => {
            tracing::warn!(%peer, %reason, "Agent connection refused.");
            let refusal = ControllerMessage::Goodbye(Goodbye {
                reason: "the certificate is not accepted".into(),
            });
            let _ = timeout(GOODBYE_TIMEOUT, write_message(conn.get_mut(), &refusal)).await;
            return;
        }
    };
    let device = identity.device.clone();
    let id = gw.next_session();
    let mut registration = gw.registry.register(&device, &identity.serial, id);
    tracing::info!(%device, serial = %identity.serial, %peer, "Agent connected.");
    let mut session = Session {
        gw: &gw,
        device: device.clone(),
        conn,
        in_flight: Vec::new(),
        processed: 0,
        last_heard: Instant::now(),
    };
    let end = session.run(&mut registration, &mut shutdown).await;
    match &end {
        End::AgentClosed | End::Closed(_) | End::Idle(_) => {
            tracing::info!(%device, reason = %end, "Agent session ended.");
        }
        _ => tracing::warn!(%device, reason = %end, "Agent session ended."),
    }
    if let Some(reason) = end.goodbye_reason() {
        session.goodbye(reason).await;
    }
    drop(session);
    let newer = gw.registry.remove(&device, registration.id);
    if let Err(e) = gw.store.release_pushes(&device, &gw.instance).await {
        tracing::warn!(%device, error = %e, "Cannot release pushes.");
    }
    if newer {
        // The release also freed the newer session's leases; let it claim them again.
        gw.pending.mark(&device);
    }
}

const GOODBYE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(250);

/// Who the peer is, if the gateway accepts it.
async fn authenticate(gw: &Inner, tls: &ServerTlsStream) -> Result<PeerIdentity, String> {
    let (_, conn) = tls.get_ref();
    let cert = conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or("no client certificate")?;
    require_client_auth(cert.as_ref())?;
    let identity = ca::peer_identity(cert.as_ref()).map_err(|e| e.to_string())?;
    gw.store
        .check_device_certificate(&identity.serial, &identity.device, Timestamp::now())
        .await
        .map_err(|e| {
            format!(
                "device {}, certificate {}: {e}",
                identity.device, identity.serial
            )
        })?;
    Ok(identity)
}

/// rustls' verifier accepts a certificate without an extended key usage extension for any
/// purpose; device certificates always carry clientAuth, so require it.
fn require_client_auth(der: &[u8]) -> Result<(), String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| "unparsable certificate")?;
    match cert.extended_key_usage() {
        Ok(Some(eku)) if eku.value.client_auth => Ok(()),
        Ok(_) => Err("the certificate is not for client authentication".into()),
        Err(_) => Err("malformed extended key usage".into()),
    }
}

/// Resolves when the registry tells the session to close; cancel-safe.
async fn closed(close: &mut watch::Receiver<Option<String>>) -> String {
    match close.wait_for(Option::is_some).await {
        Ok(reason) => reason.clone().unwrap_or_default(),
        Err(_) => "the gateway stopped".into(),
    }
}

/// What woke the session loop.
enum Step {
    Pushes(Option<Vec<Outgoing>>),
    Frame(Result<Option<AgentMessage>, ReadError>),
}

struct Session<'a> {
    gw: &'a Inner,
    /// From the certificate; the only device this session reads or writes.
    device: DeviceId,
    conn: FrameReader<ServerTlsStream>,
    /// Pushes sent on this connection and not yet answered.
    in_flight: Vec<u64>,
    /// The highest push seq the agent has acted on (from Hello, then from its answers).
    processed: u64,
    last_heard: Instant,
}

impl Session<'_> {
    async fn run(
        &mut self,
        registration: &mut Registration,
        shutdown: &mut watch::Receiver<bool>,
    ) -> End {
        let hello_timeout = self.gw.options.handshake_timeout;
        let first = tokio::select! {
            biased;
            reason = closed(&mut registration.close) => return End::Closed(reason),
            read = timeout(hello_timeout, self.conn.read::<AgentMessage>()) => read,
        };
        let hello = match first {
            Ok(Ok(Some(AgentMessage::Hello(hello)))) => hello,
            Ok(Ok(Some(_))) => return End::Protocol("the first frame must be hello".into()),
            Ok(Ok(None)) => return End::AgentClosed,
            Ok(Err(e)) => return read_end(e),
            Err(_) => return End::Idle(hello_timeout),
        };
        let welcomed = tokio::select! {
            biased;
            reason = closed(&mut registration.close) => return End::Closed(reason),
            r = self.welcome(hello) => r,
        };
        if let Err(end) = welcomed {
            return end;
        }
        let idle = self.gw.options.idle_timeout;
        loop {
            let step = tokio::select! {
                biased;
                reason = closed(&mut registration.close) => return End::Closed(reason),
                () = crate::gateway::stopped(shutdown) => {
                    return End::Closed("the controller is shutting down".into());
                }
                pushes = registration.pushes.recv() => Step::Pushes(pushes),
                read = self.conn.read::<AgentMessage>() => Step::Frame(read),
                () = sleep_until(self.last_heard + idle) => return End::Idle(idle),
            };
            // Acting (database, writes) is raced against the close signal too, so a
            // revocation drops the connection even while a write to a slow phone waits.
            let acted = tokio::select! {
                biased;
                reason = closed(&mut registration.close) => return End::Closed(reason),
                r = timeout(idle, self.act(step)) => r,
            };
            match acted {
                Ok(Ok(())) => {}
                Ok(Err(end)) => return end,
                Err(_) => return End::Transport(format!("stalled for {idle:?}")),
            }
        }
    }

    async fn act(&mut self, step: Step) -> Result<(), End> {
        match step {
            Step::Pushes(None) => Err(End::Closed("the session was replaced".into())),
            Step::Pushes(Some(pushes)) => {
                for push in pushes {
                    self.send_push(push).await?;
                }
                Ok(())
            }
            Step::Frame(Ok(Some(msg))) => {
                self.last_heard = Instant::now();
                self.gw.mark_seen(&self.device);
                self.handle(msg).await
            }
            Step::Frame(Ok(None)) => Err(End::AgentClosed),
            Step::Frame(Err(e)) => Err(read_end(e)),
        }
    }

    async fn send_push(&mut self, push: Outgoing) -> Result<(), End> {
        let seq = push.seq();
        if seq <= self.processed {
            // The agent acted on it already (its Hello said so); its answer was lost.
            return self.ack_push(seq).await;
        }
        if self.in_flight.contains(&seq) {
            return Ok(());
        }
        let stream = self.conn.get_mut();
        let written = match &push {
            Outgoing::Profile { profile, .. } => write_profile_push(stream, profile, seq).await,
            Outgoing::Command(command) => {
                write_message(stream, &ControllerMessage::Command(command.clone())).await
            }
            Outgoing::Contacts(list) => {
                write_message(stream, &ControllerMessage::ContactsPush((**list).clone())).await
            }
        };
        written.map_err(|e| End::Transport(e.to_string()))?;
        self.in_flight.push(seq);
        Ok(())
    }

    async fn send(&mut self, msg: &ControllerMessage) -> Result<(), End> {
        write_message(self.conn.get_mut(), msg)
            .await
            .map_err(|e| End::Transport(e.to_string()))
    }

    /// Best effort: tell the agent why, then close the TLS stream.
    async fn goodbye(&mut self, reason: String) {
        let msg = ControllerMessage::Goodbye(Goodbye { reason });
        let _ = timeout(GOODBYE_TIMEOUT, async {
            let _ = write_message(self.conn.get_mut(), &msg).await;
            let _ = tokio::io::AsyncWriteExt::shutdown(self.conn.get_mut()).await;
        })
        .await;
    }
}

fn read_end(e: ReadError) -> End {
    match e {
        ReadError::Frame(e) => End::Protocol(e.to_string()),
        other => End::Transport(other.to_string()),
    }
}
