//! The keeper: holds the applied profile and keeps the phone on it — on every push, on
//! every command, and every reconcile interval, connected or not. The only writer of
//! `applied.json` and of reports to the outbox.
//!
//! One event at a time (a push that takes minutes to apply delays the next one, never
//! interleaves with it). Between events it sleeps until the next reconcile is due: no
//! polling, no busy loop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral_wire::{
    AgentMessage, ApplyOutcome, ApplyResult, Command, CommandKind, CommandOutcome, CommandResult,
    DriftReport, ProfilePush, StateReport,
};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::{Instant, sleep_until};

use crate::metrics;
use crate::observe::Observer;
use crate::outbox::{Outbox, OutboxError};
use crate::reconcile::{self, PushDecision, Target};
use crate::shell::PhoneShell;
use crate::state::{Applied, PendingResult, StateDir, StateError};

/// What the keeper is asked to do.
#[derive(Debug, Clone)]
pub enum Event {
    /// A profile version from the controller.
    Push(ProfilePush),
    /// A command from the controller.
    Command(Command),
}

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
    target: Option<Target>,
    last_state: Option<Value>,
    last_drift: Option<Vec<Value>>,
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

impl Keeper {
    /// Loads `applied.json`, finishes a result a crash left pending, and resolves the
    /// applied profile. Returns the keeper and the status channel's receiver.
    pub fn new(
        state: StateDir,
        serial: Option<String>,
        shell: PhoneShell,
        outbox: Arc<Mutex<Outbox>>,
        outbox_changed: Arc<Notify>,
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
        let target = match (&applied.profile, &applied.version) {
            (Some(text), Some(version)) => {
                match Target::resolve(text, version, serial.as_deref()) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        tracing::error!(error = %e, "The applied profile does not resolve; waiting for a new one.");
                        None
                    }
                }
            }
            _ => None,
        };
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
                last_state: None,
                last_drift: None,
            },
            rx,
        ))
    }

    fn interval(&self) -> Option<Duration> {
        self.target
            .as_ref()
            .map(|t| Duration::from_secs(u64::from(t.profile.settings.agent.reconcile.as_secs())))
    }

    /// Runs until `events` closes or `shutdown` turns true.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // Enforce the applied profile right away after a start.
        let mut due = Instant::now();
        loop {
            metrics::KEEPER_WAKEUPS.inc();
            let timer = self.target.is_some();
            tokio::select! {
                event = events.recv() => match event {
                    Some(Event::Push(p)) => self.push(p).await,
                    Some(Event::Command(c)) => self.command(c).await,
                    None => return,
                },
                () = sleep_until(due), if timer => {
                    self.scheduled(false).await;
                    due = Instant::now() + self.interval().unwrap_or(Duration::from_secs(900));
                },
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
            // A new profile may have a shorter interval.
            if let Some(i) = self.interval() {
                due = due.min(Instant::now() + i);
            }
        }
    }

    async fn scheduled(&mut self, forced: bool) {
        let Some(target) = self.target.clone() else {
            return;
        };
        metrics::RECONCILES.inc();
        let report = reconcile::reconcile(&mut self.shell, &mut self.observer, &target).await;
        if let Some(e) = &report.error {
            tracing::warn!(error = %e, "Cannot observe the phone.");
        }
        for d in &report.done {
            tracing::info!(repaired = %d.description, "Drift repaired.");
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
        match decision {
            PushDecision::Duplicate => {}
            PushDecision::AlreadyApplied => {
                let result = |seq| apply_result(seq, &push, ApplyOutcome::Applied, Vec::new());
                self.record(push.push_seq, result, Change::Keep);
            }
            PushDecision::Apply => {
                match Target::resolve(&push.profile, &push.version, self.serial.as_deref()) {
                    Err(e) => {
                        let outcome = ApplyOutcome::Failed {
                            errors: vec![e.to_string()],
                        };
                        self.record(
                            push.push_seq,
                            |seq| apply_result(seq, &push, outcome, Vec::new()),
                            Change::Keep,
                        );
                    }
                    Ok(target) => {
                        if !target.undelivered_groups.is_empty() {
                            tracing::warn!(groups = ?target.undelivered_groups, "The push carries no members of these contact groups.");
                        }
                        metrics::RECONCILES.inc();
                        let report =
                            reconcile::reconcile(&mut self.shell, &mut self.observer, &target)
                                .await;
                        let actions: Vec<String> =
                            report.done.iter().map(|d| d.description.clone()).collect();
                        let (outcome, change) = if report.clean() {
                            (
                                ApplyOutcome::Applied,
                                Change::Apply(Box::new(target.clone())),
                            )
                        } else {
                            (
                                ApplyOutcome::Failed {
                                    errors: report.errors(),
                                },
                                Change::Keep,
                            )
                        };
                        self.record(
                            push.push_seq,
                            |seq| apply_result(seq, &push, outcome, actions),
                            change,
                        );
                        self.report(&report, &target, true);
                    }
                }
            }
        }
    }

    async fn command(&mut self, command: Command) {
        if command.push_seq <= self.applied.push_seq {
            return;
        }
        tracing::info!(push_seq = command.push_seq, kind = ?command.kind, "Command.");
        let (outcome, change) = match command.kind {
            CommandKind::ReSync => {
                self.observer = Observer::new();
                self.scheduled(true).await;
                (CommandOutcome::Done, Change::Keep)
            }
            CommandKind::RemoveWorkProfile => self.remove_work_profile().await,
            CommandKind::Reboot | CommandKind::CollectLogs => (
                CommandOutcome::Failed {
                    error: format!("{:?} is not supported by this agent", command.kind),
                },
                Change::Keep,
            ),
        };
        let result = |seq| {
            AgentMessage::CommandResult(CommandResult {
                seq,
                push_seq: command.push_seq,
                command_id: command.command_id.clone(),
                outcome,
            })
        };
        self.record(command.push_seq, result, change);
    }

    /// Stops enforcing (the profile is cleared first, so the next reconcile does not create
    /// the profile again) and removes the work profile with its data.
    async fn remove_work_profile(&mut self) -> (CommandOutcome, Change) {
        let users = match self.shell.run("pm list users").await {
            Ok(o) => crate::observe::users::parse_users(&o.output).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let work = match users {
            Ok(users) => users.into_iter().find(|u| u.is_managed_profile()),
            Err(e) => return (CommandOutcome::Failed { error: e }, Change::Keep),
        };
        let Some(work) = work else {
            return (CommandOutcome::Done, Change::Clear);
        };
        match self.shell.run(&format!("pm remove-user {}", work.id)).await {
            Ok(o)
                if o.output == "Success: removed user\n"
                    || o.output
                        .starts_with(&format!("Success: user {} removed", work.id)) =>
            {
                (CommandOutcome::Done, Change::Clear)
            }
            Ok(o) => (
                CommandOutcome::Failed {
                    error: o.output.trim().to_owned(),
                },
                Change::Clear,
            ),
            Err(e) => (
                CommandOutcome::Failed {
                    error: e.to_string(),
                },
                Change::Clear,
            ),
        }
    }

    /// Records the result of push `push_seq` exactly once (see `state::applied`).
    fn record(&mut self, push_seq: u64, make: impl FnOnce(u64) -> AgentMessage, change: Change) {
        if let Err(e) = self.try_record(push_seq, make, change) {
            tracing::error!(error = %e, push_seq, "Cannot record a result.");
        }
    }

    fn try_record(
        &mut self,
        push_seq: u64,
        make: impl FnOnce(u64) -> AgentMessage,
        change: Change,
    ) -> Result<(), KeeperError> {
        let seq = lock(&self.outbox).next_seq();
        let message = make(seq);
        let mut next = self.applied.clone();
        next.push_seq = next.push_seq.max(push_seq);
        let mut target = self.target.clone();
        match change {
            Change::Keep => {}
            Change::Apply(t) => {
                next.version = Some(t.version.clone());
                next.profile = Some(t.text.clone());
                target = Some(*t);
            }
            Change::Clear => {
                next.version = None;
                next.profile = None;
                target = None;
            }
        }
        next.pending = Some(PendingResult {
            seq,
            message: message.clone(),
        });
        self.state.write_applied(&next)?;
        lock(&self.outbox).append_at(seq, message)?;
        next.pending = None;
        self.state.write_applied(&next)?;
        self.applied = next;
        self.target = target;
        self.outbox_changed.notify_one();
        self.status
            .send_replace(status_of(&self.applied, self.target.as_ref()));
        Ok(())
    }
}

fn apply_result(
    seq: u64,
    push: &ProfilePush,
    outcome: ApplyOutcome,
    actions: Vec<String>,
) -> AgentMessage {
    AgentMessage::ApplyResult(ApplyResult {
        seq,
        push_seq: push.push_seq,
        version: push.version.clone(),
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
