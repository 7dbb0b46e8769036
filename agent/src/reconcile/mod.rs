//! Reconciling: observe the phone, plan against the applied profile, enforce, observe
//! again — until the plan is empty, an action fails, or the pass limit is reached — and
//! the reports that come out of it.
//!
//! The decisions are pure functions with unit tests ([`decide_push`], [`scope`],
//! [`drift_items`], [`redacted_state`]); [`reconcile`] is the loop around the shell.
//!
//! - **Profile creation first:** a plan that creates the work profile runs only that batch;
//!   the new profile's id comes from `pm create-user`'s output, and its default apps are
//!   seen only by a fresh observation (`Plan::needs_replan`).
//! - **A stopped work profile** is started before anything about its contacts is decided
//!   (its contacts provider is unreachable while it is stopped).
//! - **After a failure** the phone is observed once more, so the report says what it looks
//!   like now, and nothing more is run until the next reconcile.

pub mod target;

use corral_profiles::{Action, ObservedPhone, Plan, Users, plan};
use serde_json::{Value, json};

use crate::enforce::{self, Done, Failure};
use crate::observe::{Interest, Observer};
use crate::shell::PhoneShell;
use crate::state::Applied;
pub use target::{Target, TargetError};

/// At most this many observe → enforce passes per reconcile.
pub const MAX_PASSES: usize = 5;

/// What to do with a profile push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushDecision {
    /// Its sequence number was acted on already: do nothing (the controller learns it from
    /// Hello).
    Duplicate,
    /// The version is the applied one: acknowledge it with an `applied` result, change
    /// nothing.
    AlreadyApplied,
    /// Apply it.
    Apply,
}

/// Decides what a push with `push_seq` carrying `version` means, given what is applied.
pub fn decide_push(applied: &Applied, push_seq: u64, version: &str) -> PushDecision {
    if push_seq <= applied.push_seq {
        PushDecision::Duplicate
    } else if applied.version.as_deref() == Some(version) {
        PushDecision::AlreadyApplied
    } else {
        PushDecision::Apply
    }
}

/// The batches of `plan` to run now: only the first when the plan creates the work
/// profile or the work profile is not running (what follows depends on a new
/// observation), all of them otherwise.
pub fn scope<'a>(plan: &'a Plan, phone: &ObservedPhone) -> Vec<&'a [Action]> {
    let batches = plan.batches();
    let stopped = phone.work.is_some() && phone.work_user().is_none_or(|u| !u.running);
    if plan.needs_replan() || stopped {
        batches.into_iter().take(1).collect()
    } else {
        batches
    }
}

/// What one reconcile found and did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The first plan: how the phone differed from the profile.
    pub found: Plan,
    /// Actions done, in order.
    pub done: Vec<Done>,
    /// The failure that stopped enforcing.
    pub failure: Option<Failure>,
    /// Observing failed (the phone's state is unknown).
    pub error: Option<String>,
    /// The last observation.
    pub observed: Option<ObservedPhone>,
    /// What was still to do when the pass limit was reached.
    pub remaining: Vec<Action>,
    /// Shell round trips used.
    pub round_trips: u64,
}

impl Report {
    /// Whether the phone now matches the profile (drift that no shell command can fix
    /// aside).
    pub fn clean(&self) -> bool {
        self.failure.is_none() && self.error.is_none() && self.remaining.is_empty()
    }

    /// Whether the phone differed at all.
    pub fn found_anything(&self) -> bool {
        !self.found.actions.is_empty() || !self.found.drift.is_empty()
    }

    /// The errors, in words, for an `ApplyResult`.
    pub fn errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(e.clone());
        }
        if let Some(f) = &self.failure {
            out.push(format!("`{}`: {}", f.command, f.reason));
        }
        if !self.remaining.is_empty() {
            out.push(format!(
                "{} actions still to do after {MAX_PASSES} passes",
                self.remaining.len()
            ));
        }
        out
    }
}

/// Observes, plans and enforces until the phone matches `target` (or a pass fails).
pub async fn reconcile(shell: &mut PhoneShell, observer: &mut Observer, target: &Target) -> Report {
    let interest = Interest::of(&target.profile.settings);
    let start = shell.round_trips();
    let mut report = Report::default();
    for pass in 0..MAX_PASSES {
        let observed = match observer.observe(shell, &interest).await {
            Ok(o) => o,
            Err(e) => {
                report.error = Some(e.to_string());
                break;
            }
        };
        let plan = plan(&target.profile, &target.allow, &observed);
        if pass == 0 {
            report.found = plan.clone();
        }
        let failed = report.failure.is_some();
        report.observed = Some(observed);
        if plan.is_empty() || failed {
            break;
        }
        if pass + 1 == MAX_PASSES {
            report.remaining = plan.actions.clone();
            break;
        }
        let Some(observed) = report.observed.as_ref() else {
            break;
        };
        let users = Users {
            personal: observed.personal_user,
            work: observed.work.as_ref().map(|w| w.user),
        };
        let batches = scope(&plan, observed);
        let enforced = enforce::enforce(shell, &batches, users).await;
        report.done.extend(enforced.done);
        report.failure = enforced.failure;
    }
    report.round_trips = shell.round_trips() - start;
    report
}

/// The items of a drift report: each difference found (with whether it was repaired),
/// each repair done, and what failed.
pub fn drift_items(report: &Report) -> Vec<Value> {
    let clean = report.clean();
    let mut items = Vec::new();
    for d in &report.found.drift {
        let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("repaired".into(), Value::Bool(d.fixed_by_plan() && clean));
        }
        items.push(v);
    }
    for d in &report.done {
        items.push(
            json!({ "drift": "corrected", "description": d.description, "action": d.action }),
        );
    }
    if let Some(f) = &report.failure {
        items.push(json!({ "drift": "repair_failed", "command": f.command, "reason": f.reason, "action": f.action }));
    }
    if let Some(e) = &report.error {
        items.push(json!({ "drift": "observation_failed", "reason": e }));
    }
    for a in &report.remaining {
        items.push(json!({ "drift": "not_repaired", "action": a }));
    }
    items
}

/// The observed state as reported to the controller: contacts that are not exactly an
/// allow-listed contact keep their id and account type, never their name or numbers.
pub fn redacted_state(observed: &ObservedPhone, target: &Target) -> Value {
    let mut o = observed.clone();
    if let Some(work) = &mut o.work {
        for c in &mut work.contacts {
            let allowed = c.account_type.is_none()
                && match (c.name.as_deref(), c.numbers.as_slice()) {
                    (Some(name), [number]) => target
                        .allow
                        .contacts()
                        .iter()
                        .any(|a| a.name == name && a.number.as_str() == number),
                    _ => false,
                };
            if !allowed {
                c.name = None;
                c.numbers.clear();
            }
        }
    }
    serde_json::to_value(&o).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests;

/// The reports a reconcile yields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reports {
    /// The observed state (redacted), when it changed or was asked for.
    pub state: Option<Value>,
    /// Drift items and whether they were repaired, when there is something new to say.
    pub drift: Option<(Vec<Value>, bool)>,
}

/// Decides what to report after `report`, given what was reported last (`None`: nothing
/// since start-up). `forced` (a re-sync command, a new profile) reports the state anyway.
pub fn reports(
    report: &Report,
    target: &Target,
    last_state: Option<&Value>,
    last_drift: Option<&Vec<Value>>,
    forced: bool,
) -> Reports {
    let state = report
        .observed
        .as_ref()
        .map(|o| redacted_state(o, target))
        .filter(|s| forced || last_state != Some(s));
    let items = drift_items(report);
    let news = !report.done.is_empty() || !report.clean();
    let changed = match last_drift {
        Some(last) => *last != items,
        None => !items.is_empty(),
    };
    let drift = (news || changed || (forced && !items.is_empty())).then(|| (items, report.clean()));
    Reports { state, drift }
}
