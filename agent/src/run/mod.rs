//! `corral-agent run`: the keeper (enforcing the applied profile, on its own timer, online
//! or not) and the connection loop (one gateway session at a time, reconnecting with
//! jittered exponential backoff) side by side until shutdown.
//!
//! Nothing here polls: the keeper sleeps until its next reconcile or event, the session
//! until a frame, an outbox change, a heartbeat or the renewal is due, the loop until the
//! backoff delay has passed.

pub mod keeper;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::metrics::Metrics;
use crate::outbox::{Outbox, OutboxError};
use crate::renew::Renewal;
use crate::session::{self, SessionContext};
use crate::shell::{DEFAULT_SCRIPT_TIMEOUT, PhoneShell, ShellMaker};
use crate::state::{StateDir, StateError};
use keeper::{Keeper, KeeperError};

/// How the agent runs.
#[derive(Clone)]
pub struct Options {
    /// The state directory.
    pub state: StateDir,
    /// Makes the shell to the phone.
    pub shell: ShellMaker,
    /// Longest a script may run.
    pub script_timeout: Duration,
    /// The reconnect schedule.
    pub backoff: Backoff,
    /// The certificate renewal schedule.
    pub renewal: Renewal,
    /// Where the agent counts its wake-ups.
    pub metrics: Arc<Metrics>,
}

impl Options {
    /// Defaults for the state directory `state` and the shell `shell`.
    pub fn new(state: StateDir, shell: ShellMaker) -> Self {
        Options {
            state,
            shell,
            script_timeout: DEFAULT_SCRIPT_TIMEOUT,
            backoff: Backoff::default(),
            renewal: Renewal::default(),
            metrics: Arc::default(),
        }
    }
}

/// Why the agent cannot run at all (errors while running are logged and retried).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Keeper(#[from] KeeperError),
}

/// Runs until `shutdown` turns true.
pub async fn run(opts: Options, mut shutdown: watch::Receiver<bool>) -> Result<(), RunError> {
    if opts.state.finish_renewal()? {
        tracing::info!("Finished a certificate renewal a restart interrupted.");
    }
    let config = opts.state.config()?;
    let (outbox, recovery) = Outbox::open(&opts.state.outbox_dir())?;
    if let Some((why, bytes)) = &recovery.torn {
        tracing::warn!(reason = %why, bytes, "Dropped a torn last outbox record (never sent).");
    }
    tracing::info!(
        pending = recovery.pending,
        next_seq = outbox.next_seq(),
        "Outbox open."
    );
    let outbox = Arc::new(Mutex::new(outbox));
    let outbox_changed = Arc::new(Notify::new());
    let shell = PhoneShell::new(opts.shell.clone(), opts.script_timeout);
    let (keeper, status) = Keeper::new(
        opts.state.clone(),
        config.serial.clone(),
        shell,
        Arc::clone(&outbox),
        Arc::clone(&outbox_changed),
        Arc::clone(&opts.metrics),
    )?;
    let (events_tx, events_rx) = mpsc::channel(16);
    // The keeper lives exactly as long as this call: dropped (cancelled), it is aborted.
    let mut keeper_task = KeeperTask(Some(tokio::spawn(keeper.run(events_rx, shutdown.clone()))));
    let ctx = SessionContext {
        config,
        state: opts.state.clone(),
        outbox,
        outbox_changed,
        events: events_tx,
        status,
        renewal: opts.renewal,
        metrics: Arc::clone(&opts.metrics),
    };
    let mut attempt = 0;
    loop {
        let started = Instant::now();
        let result = session::session(&ctx, &mut shutdown).await;
        if *shutdown.borrow() {
            break;
        }
        match &result {
            Ok(()) => break,
            Err(e) => tracing::warn!(error = %e, "Gateway session ended."),
        }
        // Offline: the keeper need not wait for pushes before its first reconcile.
        let _ = ctx.events.try_send(keeper::Event::Offline);
        let (wait, next) = opts
            .backoff
            .after(attempt, started.elapsed(), rand::random());
        attempt = next;
        tracing::info!(wait = ?wait, attempt, "Reconnecting later.");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(ctx);
    if let Some(task) = keeper_task.0.take() {
        let _ = task.await;
    }
    Ok(())
}

/// The keeper's task, aborted when dropped.
struct KeeperTask(Option<tokio::task::JoinHandle<()>>);

impl Drop for KeeperTask {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}
