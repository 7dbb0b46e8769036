//! The agent gateway: the mutual-TLS listener every enrolled phone keeps one connection to.
//!
//! Owns: accepting agent connections (the TLS handshake requires a client certificate from
//! the internal CA, see [`tls`]), the per-connection session ([`session`]), the registry of
//! live sessions by device, and fan-out of the durable outbox to them ([`dispatch`]).
//! Whoever queues pushes tells the gateway with [`Gateway::send_queued`] (the pushes a
//! committed transaction queued, sent at once from memory), [`Gateway::notify`] or
//! [`Gateway::notify_all`]; whoever revokes a device drops its live session with
//! [`Gateway::revoke`] (or lets [`Gateway::revoke_device`] do both).
//! Must never: poll the database per connection, let a session act for a device other
//! than its certificate's, or mark anything applied that the agent did not report.
//!
//! Sized for 10,000 concurrent agents on two cores: a session is one task with a small
//! buffer; claims, "last seen" and certificate re-checks are batched across devices;
//! agents' answers are group-committed ([`commit`]); a profile version's text is prepared
//! once and shared by every connection it goes to.

mod commit;
mod dispatch;
mod listeners;
mod registry;
mod session;
pub mod tls;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use corral_wire::CommandKind;
use rand::RngCore;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use dispatch::{COMMAND_KIND, CommandBody};
pub use listeners::{AgentListeners, serve_agent_listeners};

use crate::ca::Ca;
use crate::domain::{CertSerial, DeviceId, NewEvent, PushKind, Timestamp, hex};
use crate::store::{BulkAudit, BulkOutcome, BulkPush, QueuedPush, Store, StoreError};

/// Resolves once `stop` turns true (or its sender is gone); cancel-safe.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Timing of the gateway. The defaults suit production; tests shorten some.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// How long a claimed push is reserved for the connection it was sent on. After a
    /// crash, pushes in flight are sent again once their lease runs out.
    pub lease: Duration,
    /// How often to look for claimable pushes the gateway was not told about (expired
    /// leases, pushes queued by another process).
    pub sweep_every: Duration,
    /// How often "last seen" is written, for every device heard from meanwhile.
    pub seen_flush_every: Duration,
    /// How often live sessions' certificates are re-checked (revoked elsewhere, expired).
    pub certificate_recheck_every: Duration,
    /// TLS handshake and Hello must finish within this.
    pub handshake_timeout: Duration,
    /// A session that hears nothing (agents send heartbeats) for this long is closed.
    pub idle_timeout: Duration,
    /// How many sessions may write to the store at once; the rest wait their turn instead
    /// of timing out on the connection pool when thousands of agents answer a fleet-wide
    /// push together. Keep it below the store's pool size.
    pub concurrent_writes: usize,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            lease: Duration::from_secs(60),
            sweep_every: Duration::from_secs(15),
            seen_flush_every: Duration::from_secs(5),
            certificate_recheck_every: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(180),
            concurrent_writes: 6,
        }
    }
}

/// The gateway's shared state: cheap to clone, shared by the listener, the REST API and
/// anything else that queues pushes or revokes devices.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    ca: Arc<Ca>,
    device_cert_lifetime: Duration,
    options: GatewayOptions,
    registry: registry::SessionRegistry,
    pending: dispatch::Pending,
    /// Agents' answers waiting for their group commit.
    answers: commit::Answers,
    /// The gateway's batched writers (the dispatcher's claims, the committer's batches,
    /// "last seen") take turns here, first come first served, instead of sleeping in
    /// SQLite's busy handler; the dispatcher holds it for a whole fan-out.
    claiming: tokio::sync::Mutex<()>,
    /// Turns for sessions' store writes (see [`GatewayOptions::concurrent_writes`]).
    writes: Semaphore,
    seen: Mutex<HashSet<DeviceId>>,
    /// This gateway's lease owner name, unique per process start.
    instance: String,
    sessions_started: AtomicU64,
}

impl Inner {
    fn next_session(&self) -> u64 {
        self.sessions_started.fetch_add(1, Ordering::Relaxed)
    }

    /// A turn to write to the store; waits while others write.
    async fn write_turn(&self) -> Option<SemaphorePermit<'_>> {
        self.writes.acquire().await.ok()
    }

    fn lock_seen(&self) -> MutexGuard<'_, HashSet<DeviceId>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mark_seen(&self, device: &DeviceId) {
        let mut seen = self.lock_seen();
        if !seen.contains(device) {
            seen.insert(device.clone());
        }
    }
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("instance", &self.inner.instance)
            .field("online", &self.online())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway over `store`; device certificates it renews live `device_cert_lifetime`.
    pub fn new(
        store: Store,
        ca: Arc<Ca>,
        device_cert_lifetime: Duration,
        options: GatewayOptions,
    ) -> Gateway {
        let writes = Semaphore::new(options.concurrent_writes.max(1));
        let mut nonce = [0u8; 6];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        Gateway {
            inner: Arc::new(Inner {
                store,
                ca,
                device_cert_lifetime,
                options,
                registry: registry::SessionRegistry::default(),
                writes,
                pending: dispatch::Pending::default(),
                answers: commit::Answers::default(),
                claiming: tokio::sync::Mutex::new(()),
                seen: Mutex::new(HashSet::new()),
                instance: format!("gw-{}-{}", std::process::id(), hex(&nonce)),
                sessions_started: AtomicU64::new(0),
            }),
        }
    }

    /// New pushes were queued for `device`: if it is online, they go out now.
    pub fn notify(&self, device: &DeviceId) {
        self.inner.pending.mark(device);
    }

    /// Pushes were just queued and committed (e.g. [`Publication::queued`]): they go to
    /// the devices' live sessions at once, straight from memory, and are recorded sent
    /// afterwards; offline devices get theirs when they connect.
    ///
    /// [`Publication::queued`]: crate::store::Publication::queued
    pub fn send_queued(&self, pushes: &[QueuedPush]) {
        if !pushes.is_empty() {
            self.inner.pending.queued(pushes);
        }
    }

    /// New pushes may have been queued for many devices (a profile published, a group's
    /// assignment changed): every online device's outbox is looked at, in batches.
    pub fn notify_all(&self) {
        self.inner.pending.mark_all();
    }

    /// Drops the device's live session, if any (call after revoking it in the store).
    /// The session is told to close at once; returns whether there was one.
    pub fn revoke(&self, device: &DeviceId) -> bool {
        self.disconnect(device, "the device was revoked")
    }

    /// Drops the device's live session with `reason` (sent to the agent in Goodbye).
    pub fn disconnect(&self, device: &DeviceId, reason: &str) -> bool {
        let had = self.inner.registry.close(device, reason);
        if had {
            tracing::info!(%device, reason, "Closing the agent's session.");
        }
        had
    }

    /// Revokes the device and all its certificates in the store, then drops its live
    /// session. Returns the serials revoked now.
    pub async fn revoke_device(
        &self,
        device: &DeviceId,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<CertSerial>, StoreError> {
        let serials = self
            .inner
            .store
            .revoke_device(device, reason, actor, now)
            .await?;
        self.revoke(device);
        Ok(serials)
    }

    /// Queues a command for the device and sends it now if the device is online. Returns
    /// the command id and its push seq.
    pub async fn queue_command(
        &self,
        device: &DeviceId,
        kind: CommandKind,
        now: Timestamp,
    ) -> Result<(String, u64), StoreError> {
        self.queue_command_as(device, kind, "controller", now).await
    }

    /// [`Gateway::queue_command`] on behalf of `actor`, who is named in the
    /// `device.command_queued` event committed with the push.
    pub async fn queue_command_as(
        &self,
        device: &DeviceId,
        kind: CommandKind,
        actor: &str,
        now: Timestamp,
    ) -> Result<(String, u64), StoreError> {
        let mut id = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let command_id = format!("cmd-{}", hex(&id));
        let body = serde_json::to_string(&CommandBody {
            command_id: command_id.clone(),
            kind,
        })
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let push_kind =
            PushKind::parse(COMMAND_KIND).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let event = NewEvent {
            device: Some(device.clone()),
            actor: actor.to_owned(),
            kind: "device.command_queued".into(),
            detail: serde_json::json!({ "command_id": command_id, "kind": kind }),
        };
        let seq = self
            .inner
            .store
            .enqueue_audited_push(device, &push_kind, &body, &event, now)
            .await?;
        self.notify(device);
        Ok((command_id, seq))
    }

    /// [`Gateway::queue_command_as`] for many devices in one transaction (a bulk action
    /// from the console): each active device gets its own command id, push and
    /// `device.command_queued` event, and the summary event names them all; revoked ones
    /// are skipped. Online devices get theirs now, the others when they reconnect.
    pub async fn queue_commands_as(
        &self,
        devices: &[DeviceId],
        kind: CommandKind,
        audit: &BulkAudit,
        now: Timestamp,
    ) -> Result<BulkOutcome, StoreError> {
        let push_kind =
            PushKind::parse(COMMAND_KIND).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut pushes = Vec::with_capacity(devices.len());
        for device in devices {
            let mut id = [0u8; 8];
            rand::rngs::OsRng.fill_bytes(&mut id);
            let command_id = format!("cmd-{}", hex(&id));
            let body = serde_json::to_string(&CommandBody {
                command_id: command_id.clone(),
                kind,
            })
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
            pushes.push(BulkPush {
                device: device.clone(),
                body,
                event: NewEvent {
                    device: Some(device.clone()),
                    actor: audit.actor.clone(),
                    kind: "device.command_queued".into(),
                    detail: serde_json::json!({ "command_id": command_id, "kind": kind }),
                },
            });
        }
        let outcome = self
            .inner
            .store
            .enqueue_bulk_pushes(&push_kind, &pushes, audit, now)
            .await?;
        for device in &outcome.done {
            self.notify(device);
        }
        Ok(outcome)
    }

    /// Whether the device has a live session.
    pub fn is_online(&self, device: &DeviceId) -> bool {
        self.inner.registry.contains(device)
    }

    /// How many devices are connected.
    pub fn online(&self) -> usize {
        self.inner.registry.len()
    }

    /// Accepts agent connections on `listener` with `tls` (from [`tls::gateway_config`])
    /// until `shutdown` resolves; then tells every session to close and waits briefly for
    /// them to say goodbye.
    pub async fn serve(
        &self,
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) {
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            stop_tx.send_replace(true);
        });
        let acceptor = TlsAcceptor::from(tls);
        let dispatcher = {
            let inner = Arc::clone(&self.inner);
            let stop = stop.clone();
            tokio::spawn(async move { dispatch::run(&inner, stop).await })
        };
        let committer = tokio::spawn(commit::run(Arc::clone(&self.inner), stop.clone()));
        let mut connections = JoinSet::new();
        let mut stopping = stop.clone();
        loop {
            let accepted = tokio::select! {
                () = crate::gateway::stopped(&mut stopping) => break,
                accepted = listener.accept() => accepted,
            };
            while connections.try_join_next().is_some() {}
            match accepted {
                Ok((tcp, peer)) => {
                    let inner = Arc::clone(&self.inner);
                    let acceptor = acceptor.clone();
                    let stop = stop.clone();
                    connections.spawn(session::serve_connection(inner, tcp, peer, acceptor, stop));
                }
                Err(e) => {
                    // E.g. out of file descriptors: wait a little instead of spinning.
                    tracing::warn!(error = %e, "Cannot accept an agent connection.");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        drop(listener);
        self.inner
            .registry
            .close_all("the controller is shutting down");
        let drained = tokio::time::timeout(Duration::from_secs(5), async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            connections.abort_all();
        }
        let _ = dispatcher.await;
        let _ = committer.await;
    }
}
