//! The simulated agents: one real mutual-TLS connection per device (rustls on ring, the
//! `corral_wire::client` code the real agent uses), speaking the agent's side of the
//! protocol — Hello, heartbeats, and an `apply_result` for every profile push, whose `ack`
//! it waits for.
//!
//! Owns: connecting (a bounded number of handshakes at a time), timing what arrives, and
//! counting pushes per device so a duplicate shows.
//! Must never: act on a push twice (like the real agent, a `push_seq` at or below the
//! highest processed one is answered, not counted again).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use corral_wire::client::AgentConnection;
use corral_wire::tls::gateway_client_config;
use corral_wire::{
    AgentMessage, ApplyOutcome, ApplyResult, ContactsResult, ControllerMessage, Hello,
    PROTOCOL_VERSION,
};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, interval_at};

use crate::fleet::Device;

/// What one agent saw, returned when it stops.
#[derive(Debug, Default)]
pub struct AgentLog {
    /// Handshake + Hello + Welcome.
    pub connect: Duration,
    /// When the push of the measured version arrived, and how many times it did.
    pub pushed_at: Option<Instant>,
    pub pushes_of_version: u32,
    /// When the `ack` of the apply result for it arrived.
    pub acked_at: Option<Instant>,
    /// Why the connection ended early, if it did.
    pub error: Option<String>,
}

/// Shared progress counters the driver watches.
#[derive(Debug, Default)]
pub struct Progress {
    pub connected: AtomicUsize,
    pub failed: AtomicUsize,
    pub pushed: AtomicUsize,
    pub acked: AtomicUsize,
}

/// Settings shared by every agent.
pub struct AgentPlan {
    pub gateway: SocketAddr,
    pub ca_pem: String,
    pub heartbeat: Duration,
    /// At most this many TLS handshakes at once.
    pub handshakes: Arc<Semaphore>,
    pub progress: Arc<Progress>,
    /// The version whose arrival is timed (set once published).
    pub version: watch::Receiver<Option<String>>,
    /// Turns true when the agents should close.
    pub stop: watch::Receiver<bool>,
}

/// Runs one agent until `stop`; `outbox_next_seq` is one past the last report the store
/// has from this device (so its reports are new, not re-sends).
pub async fn run_agent(plan: Arc<AgentPlan>, device: Device, outbox_next_seq: u64) -> AgentLog {
    let mut log = AgentLog::default();
    if let Err(e) = session(&plan, &device, outbox_next_seq, &mut log).await {
        plan.progress.failed.fetch_add(1, Ordering::Relaxed);
        log.error = Some(format!("{e:#}"));
    }
    log
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn session(
    plan: &AgentPlan,
    device: &Device,
    outbox_next_seq: u64,
    log: &mut AgentLog,
) -> Result<()> {
    let config = gateway_client_config(&plan.ca_pem, &device.cert_pem, &device.key_der()?)?;
    let permit = plan.handshakes.acquire().await?;
    let started = Instant::now();
    let mut conn = AgentConnection::connect(
        &plan.gateway.to_string(),
        &plan.gateway.ip().to_string(),
        Arc::new(config),
    )
    .await?;
    conn.send(&AgentMessage::Hello(Hello {
        agent_version: "corral-loadgen".into(),
        protocol_version: PROTOCOL_VERSION,
        last_applied_version: None,
        last_push_seq_processed: 0,
        outbox_next_seq,
    }))
    .await?;
    let mut next_seq = match conn.recv().await? {
        Some(ControllerMessage::Welcome(w)) => w.acked_agent_seq.max(outbox_next_seq - 1) + 1,
        other => bail!("expected welcome, got {other:?}"),
    };
    drop(permit);
    log.connect = started.elapsed();
    plan.progress.connected.fetch_add(1, Ordering::Relaxed);

    let mut version = plan.version.clone();
    let mut stop = plan.stop.clone();
    let mut heartbeat = interval_at(Instant::now() + plan.heartbeat, plan.heartbeat);
    let mut processed = 0u64;
    // The report seq of the apply result whose ack is timed.
    let mut timed_report: Option<u64> = None;
    loop {
        let msg = tokio::select! {
            () = stopped(&mut stop) => return Ok(()),
            _ = heartbeat.tick() => {
                conn.send(&AgentMessage::Heartbeat {}).await?;
                continue;
            }
            msg = conn.recv() => msg.context("receiving")?,
        };
        let now = Instant::now();
        match msg {
            None => bail!("the gateway closed the connection"),
            Some(ControllerMessage::ProfilePush(push)) => {
                let measured =
                    version.borrow_and_update().as_deref() == Some(push.version.as_str());
                if push.push_seq <= processed {
                    if measured {
                        log.pushes_of_version += 1;
                    }
                    continue;
                }
                processed = push.push_seq;
                if measured {
                    log.pushes_of_version += 1;
                    if log.pushed_at.is_none() {
                        log.pushed_at = Some(now);
                        plan.progress.pushed.fetch_add(1, Ordering::Relaxed);
                        timed_report = Some(next_seq);
                    }
                }
                conn.send(&AgentMessage::ApplyResult(ApplyResult {
                    seq: next_seq,
                    push_seq: push.push_seq,
                    version: push.version,
                    outcome: ApplyOutcome::Applied,
                    actions: Vec::new(),
                }))
                .await?;
                next_seq += 1;
            }
            Some(ControllerMessage::Ack(ack)) => {
                if let Some(timed) = timed_report
                    && ack.agent_seq >= timed
                    && log.acked_at.is_none()
                {
                    log.acked_at = Some(now);
                    plan.progress.acked.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(ControllerMessage::ContactsPush(push)) => {
                // The allow-list of the profile's contact groups: answered at once, as a
                // phone whose work profile already holds them would (not timed).
                if push.push_seq <= processed {
                    continue;
                }
                processed = push.push_seq;
                conn.send(&AgentMessage::ContactsResult(ContactsResult {
                    seq: next_seq,
                    push_seq: push.push_seq,
                    version: push.version,
                    outcome: ApplyOutcome::Applied,
                    actions: Vec::new(),
                }))
                .await?;
                next_seq += 1;
            }
            Some(ControllerMessage::Goodbye(g)) => bail!("goodbye: {}", g.reason),
            Some(_) => {}
        }
    }
}
