//! Enforcing a plan: its batches run through the shell one round trip each, in order,
//! every command's output checked ([`check`], [`script`]); the first batch with a failure
//! ends the run, because the planner's order matters (the personal copy of the messenger is
//! only removed after the work copy exists) and the phone must be observed again before
//! anything else is decided.
//!
//! Must never: retry on its own, or call an action done whose output was not its success
//! text.

pub mod check;
pub mod script;

use corral_profiles::{Action, UserId, UserRef, Users};
use serde::Serialize;

use crate::shell::PhoneShell;
use script::ActionResult;

/// An action and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Done {
    /// The action.
    pub action: Action,
    /// What it did, in words (`hid com.android.chrome in user 10`).
    pub description: String,
}

/// A failed action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The action (`None`: the batch could not even run).
    pub action: Option<Action>,
    /// The command that failed.
    pub command: String,
    /// Why.
    pub reason: String,
}

/// What enforcing did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Enforcement {
    /// Actions done, in order.
    pub done: Vec<Done>,
    /// The failure that ended the run, if any.
    pub failure: Option<Failure>,
    /// The work profile `pm create-user` created.
    pub created_user: Option<UserId>,
    /// Shell round trips used.
    pub round_trips: usize,
}

/// Runs `batches` (from `Plan::batches`) for `users`.
pub async fn enforce(shell: &mut PhoneShell, batches: &[&[Action]], users: Users) -> Enforcement {
    let mut out = Enforcement::default();
    let mut users = users;
    for batch in batches {
        let nonce: u64 = rand::random();
        let rendered = match script::render(batch, users, nonce) {
            Ok(r) => r,
            Err(e) => {
                out.failure = Some(Failure {
                    action: batch.first().cloned(),
                    command: String::new(),
                    reason: e.to_string(),
                });
                return out;
            }
        };
        out.round_trips += 1;
        let result = match shell.run(&rendered.script).await {
            Ok(r) => r,
            Err(e) => {
                out.failure = Some(Failure {
                    action: None,
                    command: "shell".into(),
                    reason: e.to_string(),
                });
                return out;
            }
        };
        let evaluated =
            script::evaluate(&rendered, batch.len(), &result.output, result.exit, nonce);
        if let Some(id) = evaluated.created_user {
            out.created_user = Some(id);
            users.work = Some(id);
        }
        let mut failed = false;
        for (action, r) in batch.iter().zip(evaluated.results) {
            match r {
                ActionResult::Done => out.done.push(Done {
                    description: describe(action, users),
                    action: action.clone(),
                }),
                ActionResult::Failed { command, reason } if !failed => {
                    failed = true;
                    out.failure = Some(Failure {
                        action: Some(action.clone()),
                        command,
                        reason,
                    });
                }
                ActionResult::Failed { .. } | ActionResult::NotRun => {}
            }
        }
        if failed {
            return out;
        }
    }
    out
}

/// An action in words, for reports.
pub fn describe(action: &Action, users: Users) -> String {
    let user = |u: UserRef| match u {
        UserRef::Personal => users.personal.to_string(),
        UserRef::Work => users
            .work
            .map_or_else(|| "work".to_owned(), |w| w.to_string()),
    };
    match action {
        Action::CreateWorkProfile { name } => format!("created the work profile {name:?}"),
        Action::StartUser { user: u } => format!("started user {}", user(*u)),
        Action::InstallExisting { user: u, package } => {
            format!("installed {package} in user {}", user(*u))
        }
        Action::InstallApk {
            user: u, package, ..
        } => {
            format!("installed {package} from its APK in user {}", user(*u))
        }
        Action::Unhide { user: u, package } => format!("unhid {package} in user {}", user(*u)),
        Action::Hide { user: u, package } => format!("hid {package} in user {}", user(*u)),
        Action::Enable { user: u, package } => format!("enabled {package} in user {}", user(*u)),
        Action::Unsuspend { user: u, package } => {
            format!("unsuspended {package} in user {}", user(*u))
        }
        Action::Uninstall { user: u, package } => {
            format!("uninstalled {package} for user {}", user(*u))
        }
        Action::Grant {
            user: u,
            package,
            permission,
        } => format!("granted {permission} to {package} in user {}", user(*u)),
        Action::PutSecureSetting {
            user: u,
            key,
            value,
        } => {
            format!("set secure {key}={value} in user {}", user(*u))
        }
        Action::SetBackup { user: u, enabled } => format!(
            "turned backup {} in user {}",
            if *enabled { "on" } else { "off" },
            user(*u)
        ),
        Action::RemoveContacts { user: u, ids } => {
            format!("removed {} contacts in user {}", ids.len(), user(*u))
        }
        Action::AddContacts { user: u, contacts } => {
            format!("added {} contacts in user {}", contacts.len(), user(*u))
        }
    }
}
