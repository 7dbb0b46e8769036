//! The keeper: holds the applied profile and keeps the phone on it — on every push, on
//! every command, and every reconcile interval, connected or not. The only writer of
//! `applied.json` and of reports to the outbox.
//!
//! One event at a time (a push that takes minutes to apply delays the next one, never
//! interleaves with it). Between events it sleeps until the next reconcile is due: no
//! polling, no busy loop. After a start, the first reconcile waits (briefly) for the
//! first connection's pushes, so a phone that was offline carries out a withdrawal or
//! erasure queued meanwhile before anything else.

mod commands;
pub use commands::{LOG_BYTES, LOG_LINES, REBOOT};
mod contacts;
mod record;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral_wire::{
    AgentMessage, ApplyOutcome, ApplyResult, Command, ContactsPush, DriftReport, ProfilePush,
    StateReport,
};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::{Instant, sleep_until};

use crate::metrics::Metrics;
use crate::observe::Observer;
use crate::outbox::{Outbox, OutboxError};
use crate::reconcile::{self, PushDecision, Target};
use crate::shell::PhoneShell;
use crate::state::{Applied, Directory, StateDir, StateError};

/// What the keeper is asked to do.
#[derive(Debug, Clone)]
pub enum Event {
    /// A profile version from the controller.
    Push(ProfilePush),
    /// A command from the controller.
    Command(Command),
    /// The contact groups' members from the controller.
    Contacts(ContactsPush),
    /// A session was welcomed: what the controller has pending follows at once.
    Online,
    /// A session attempt ended (or never connected).
    Offline,
}

/// Longest the first reconcile after a start waits for the controller's pending pushes.
pub const FIRST_RECONCILE_HOLD: Duration = Duration::from_secs(30);
/// After a welcome, how long the first reconcile waits for the pushes that follow it.
pub const SETTLE_AFTER_WELCOME: Duration = Duration::from_secs(2);

/// What the session needs to know about the keeper (for Hello and heartbeats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The applied profile version.
    pub applied_version: Option<String>,
    /// The highest push acted on.
    pub push_seq: u64,
    /// The applied profile's heartbeat interval.
    pub heartbeat: Duration,
}

/// Heartbeat interval before any profile is applied.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(60);

/// Why the keeper cannot keep its records.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// What becomes of the applied profile with a result.
enum Change {
    Keep,
    Apply(Box<Target>),
    /// Not applied; retry it at every reconcile.
    Want(Box<Target>, u64),
    Clear,
}

/// The keeper and everything it owns.
pub struct Keeper {
    state: StateDir,
    serial: Option<String>,
    shell: PhoneShell,
    observer: Observer,
    outbox: Arc<Mutex<Outbox>>,
    outbox_changed: Arc<Notify>,
    status: watch::Sender<Status>,
    applied: Applied,
    /// The applied profile.
    target: Option<Target>,
    /// A pushed profile that failed to apply, and its push.
    wanted: Option<(Target, u64)>,
    last_state: Option<Value>,
    last_drift: Option<Vec<Value>>,
    last_reconcile: Option<Instant>,
    metrics: Arc<Metrics>,
    /// The contact groups last pushed.
    directory: Directory,
    /// A contacts push whose list is not on the phone yet (its result said failed): its
    /// `applied` result follows the first clean reconcile.
    contacts_pending: Option<(u64, String)>,
    /// Until when the first reconcile after a start waits: a phone that was offline acts
    /// on what the controller queued meanwhile (a withdrawal, an erasure) before anything
    /// else. Released by the first push, by a failed connection, or when it runs out.
    hold: Option<Instant>,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper")
            .field("applied", &self.applied.version)
            .field("push_seq", &self.applied.push_seq)
            .finish_non_exhaustive()
    }
}

fn status_of(applied: &Applied, target: Option<&Target>) -> Status {
    Status {
        applied_version: applied.version.clone(),
        push_seq: applied.push_seq,
        heartbeat: target.map_or(DEFAULT_HEARTBEAT, |t| {
            Duration::from_secs(u64::from(t.profile.settings.agent.heartbeat.as_secs()))
        }),
    }
}

fn resolve_stored(
    text: &str,
    version: &str,
    serial: Option<&str>,
    directory: &Directory,
) -> Option<Target> {
    match Target::resolve(text, version, serial, directory) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::error!(error = %e, version, "A stored profile does not resolve; waiting for a new one.");
            None
        }
    }
}

impl Keeper {
    /// Loads `applied.json`, finishes a result a crash left pending, and resolves the
    /// applied (and wanted) profile. Returns the keeper and the status channel's receiver.
    pub fn new(
        state: StateDir,
        serial: Option<String>,
        shell: PhoneShell,
        outbox: Arc<Mutex<Outbox>>,
        outbox_changed: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Result<(Keeper, watch::Receiver<Status>), KeeperError> {
        let mut applied = state.applied()?;
        if let Some(pending) = applied.pending.take() {
            let written = lock(&outbox).append_at(pending.seq, pending.message)?;
            tracing::info!(
                seq = pending.seq,
                written,
                "Finished a result interrupted by a crash."
            );
            state.write_applied(&applied)?;
            outbox_changed.notify_one();
        }
        let directory = state.directory()?;
        let target = match (&applied.profile, &applied.version) {
            (Some(text), Some(version)) => {
                resolve_stored(text, version, serial.as_deref(), &directory)
            }
            _ => None,
        };
        let wanted = applied.wanted.as_ref().and_then(|w| {
            resolve_stored(&w.profile, &w.version, serial.as_deref(), &directory)
                .map(|t| (t, w.push_seq))
        });
        let (status, rx) = watch::channel(status_of(&applied, target.as_ref()));
        Ok((
            Keeper {
                state,
                serial,
                shell,
                observer: Observer::new(),
                outbox,
                outbox_changed,
                status,
                applied,
                target,
                wanted,
                last_state: None,
                last_drift: None,
                last_reconcile: None,
                metrics,
                directory,
                contacts_pending: None,
                hold: Some(Instant::now() + FIRST_RECONCILE_HOLD),
            },
            rx,
        ))
    }

    /// The profile the phone is being brought to: a wanted one first, else the applied one.
    fn current(&self) -> Option<&Target> {
        self.wanted
            .as_ref()
            .map(|(t, _)| t)
            .or(self.target.as_ref())
    }

    fn interval(&self) -> Option<Duration> {
        self.current()
            .map(|t| Duration::from_secs(u64::from(t.profile.settings.agent.reconcile.as_secs())))
    }

    /// When the next scheduled reconcile is due: an interval after the last reconcile of
    /// any kind, or now when there has been none since the start.
    fn due(&self) -> Instant {
        match (self.last_reconcile, self.interval(), self.hold) {
            (Some(last), Some(interval), _) => last + interval,
            (None, _, Some(hold)) => hold,
            _ => Instant::now(),
        }
    }

    /// Runs until `events` closes or `shutdown` turns true.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            self.metrics.keeper_wakeups.inc();
            let timer = self.current().is_some();
            let due = self.due();
            tokio::select! {
                // What the controller sent goes before the timer.
                biased;
                event = events.recv() => match event {
                    Some(Event::Push(p)) => {
                        self.hold = None;
                        self.push(p).await;
                    }
                    Some(Event::Command(c)) => {
                        self.hold = None;
                        self.command(c).await;
                    }
                    Some(Event::Contacts(c)) => {
                        self.hold = None;
                        self.contacts(c).await;
                    }
                    Some(Event::Online) => {
                        let settled = Instant::now() + SETTLE_AFTER_WELCOME;
                        self.hold = self.hold.map(|h| h.min(settled));
                    }
                    Some(Event::Offline) => self.hold = None,
                    None => return,
                },
                () = sleep_until(due), if timer => self.scheduled(false).await,
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    async fn reconcile(&mut self, target: &Target) -> reconcile::Report {
        self.metrics.reconciles.inc();
        let report = reconcile::reconcile(&mut self.shell, &mut self.observer, target).await;
        self.last_reconcile = Some(Instant::now());
        if let Some(e) = &report.error {
            tracing::warn!(error = %e, "Cannot observe the phone.");
        }
        if let Some(f) = &report.failure {
            tracing::warn!(command = %f.command, reason = %f.reason, "An action failed.");
        }
        report
    }

    /// The timer (or a re-sync): a wanted profile is tried again; otherwise the applied one
    /// is enforced.
    pub(super) async fn scheduled(&mut self, forced: bool) {
        if let Some((target, push_seq)) = self.wanted.clone() {
            let report = self.reconcile(&target).await;
            if report.clean() {
                self.confirm_pending_contacts(&report);
                tracing::info!(version = %target.version, "A profile that had failed is applied now.");
                let actions = descriptions(&report);
                let (version, change) = (
                    target.version.clone(),
                    Change::Apply(Box::new(target.clone())),
                );
                self.record(
                    push_seq,
                    |seq| apply_result(seq, push_seq, &version, ApplyOutcome::Applied, actions),
                    change,
                );
            }
            self.report(&report, &target, forced);
            return;
        }
        let Some(target) = self.target.clone() else {
            return;
        };
        let report = self.reconcile(&target).await;
        for d in &report.done {
            tracing::info!(repaired = %d.description, "Drift repaired.");
        }
        if report.clean() {
            self.confirm_pending_contacts(&report);
        }
        self.report(&report, &target, forced);
    }

    fn report(&mut self, report: &reconcile::Report, target: &Target, forced: bool) {
        let out = reconcile::reports(
            report,
            target,
            self.last_state.as_ref(),
            self.last_drift.as_ref(),
            forced,
        );
        if let Some(state) = out.state {
            match self.append(|seq| {
                AgentMessage::StateReport(StateReport {
                    seq,
                    observed: state.clone(),
                })
            }) {
                Ok(()) => self.last_state = Some(state),
                Err(e) => tracing::error!(error = %e, "Cannot queue a state report."),
            }
        }
        if let Some((items, repaired)) = out.drift {
            match self.append(|seq| {
                AgentMessage::DriftReport(DriftReport {
                    seq,
                    items: items.clone(),
                    repaired,
                })
            }) {
                Ok(()) => self.last_drift = Some(items),
                Err(e) => tracing::error!(error = %e, "Cannot queue a drift report."),
            }
        }
    }

    fn append(&mut self, make: impl FnOnce(u64) -> AgentMessage) -> Result<(), OutboxError> {
        lock(&self.outbox).append(make)?;
        self.outbox_changed.notify_one();
        Ok(())
    }

    async fn push(&mut self, push: ProfilePush) {
        let decision = reconcile::decide_push(&self.applied, push.push_seq, &push.version);
        tracing::info!(push_seq = push.push_seq, version = %push.version, ?decision, "Profile push.");
        let (seq, version) = (push.push_seq, push.version.clone());
        match decision {
            PushDecision::Duplicate => {}
            PushDecision::AlreadyApplied => {
                // A newer push of the applied version replaces any wanted one.
                let change = match &self.target {
                    Some(t) if self.wanted.is_some() => Change::Apply(Box::new(t.clone())),
                    _ => Change::Keep,
                };
                self.record(
                    seq,
                    |s| apply_result(s, seq, &version, ApplyOutcome::Applied, Vec::new()),
                    change,
                );
            }
            PushDecision::Apply => {
                match Target::resolve(
                    &push.profile,
                    &push.version,
                    self.serial.as_deref(),
                    &self.directory,
                ) {
                    Err(e) => {
                        let outcome = ApplyOutcome::Failed {
                            errors: vec![e.to_string()],
                        };
                        self.record(
                            seq,
                            |s| apply_result(s, seq, &version, outcome, Vec::new()),
                            Change::Keep,
                        );
                    }
                    Ok(target) => {
                        if !target.undelivered_groups.is_empty() {
                            tracing::warn!(groups = ?target.undelivered_groups, "The push carries no members of these contact groups.");
                        }
                        let report = self.reconcile(&target).await;
                        let actions = descriptions(&report);
                        let (outcome, change) = if report.clean() {
                            (
                                ApplyOutcome::Applied,
                                Change::Apply(Box::new(target.clone())),
                            )
                        } else {
                            tracing::warn!(errors = ?report.errors(), "Applying the profile failed; retrying at every reconcile.");
                            (
                                ApplyOutcome::Failed {
                                    errors: report.errors(),
                                },
                                Change::Want(Box::new(target.clone()), seq),
                            )
                        };
                        self.record(
                            seq,
                            |s| apply_result(s, seq, &version, outcome, actions),
                            change,
                        );
                        self.report(&report, &target, true);
                    }
                }
            }
        }
    }
}

fn descriptions(report: &reconcile::Report) -> Vec<String> {
    report.done.iter().map(|d| d.description.clone()).collect()
}

fn apply_result(
    seq: u64,
    push_seq: u64,
    version: &str,
    outcome: ApplyOutcome,
    actions: Vec<String>,
) -> AgentMessage {
    AgentMessage::ApplyResult(ApplyResult {
        seq,
        push_seq,
        version: version.to_owned(),
        outcome,
        actions,
    })
}

/// Locks the outbox; a panic elsewhere while holding it does not stop reporting.
pub fn lock(outbox: &Mutex<Outbox>) -> std::sync::MutexGuard<'_, Outbox> {
    outbox
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
