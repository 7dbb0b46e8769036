//! What a plan is: the ordered actions, the drift it reports, and how the actions are
//! grouped into shell round trips.

use serde::{Deserialize, Serialize};

use super::{Action, BATCH_COMMANDS, RenderError, Users};
use crate::names::PackageName;
use crate::observed::RawContactId;

/// A difference the plan reports rather than (or as well as) fixing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "drift", rename_all = "snake_case")]
pub enum Drift {
    /// A setting only the profile-owner admin component can enforce (not installed yet).
    NeedsProfileOwner {
        setting: String,
        wanted: String,
        observed: Option<String>,
    },
    /// Accounts of types the profile does not allow; no shell command removes accounts.
    ForbiddenAccounts { account_types: Vec<String> },
    /// Contacts outside the allow-list: removed by this plan in `exact` mode, only
    /// reported in `report` mode.
    ForeignContacts {
        ids: Vec<RawContactId>,
        removed: bool,
    },
    /// A package the profile needs is on no user of the phone and has no APK.
    PackageUnavailable { package: PackageName },
}

impl Drift {
    /// Whether the plan's own actions fix it.
    pub fn fixed_by_plan(&self) -> bool {
        matches!(self, Drift::ForeignContacts { removed: true, .. })
    }
}

/// An ordered list of actions and what is reported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// What to do, in order.
    pub actions: Vec<Action>,
    /// What is different and reported.
    pub drift: Vec<Drift>,
}

impl Plan {
    /// Whether there is nothing to do (drift may still be reported).
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Whether the agent must observe again after this plan: a new work profile comes
    /// with the platform's default apps, which only a fresh observation shows.
    pub fn needs_replan(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, Action::CreateWorkProfile { .. }))
    }

    /// The actions grouped into shell invocations: profile creation alone (its output
    /// names the new user), each contact chunk alone, other consecutive actions together
    /// up to [`BATCH_COMMANDS`] commands.
    pub fn batches(&self) -> Vec<&[Action]> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut commands = 0;
        for (i, a) in self.actions.iter().enumerate() {
            let alone = matches!(
                a,
                Action::CreateWorkProfile { .. }
                    | Action::AddContacts { .. }
                    | Action::RemoveContacts { .. }
            );
            if alone || commands >= BATCH_COMMANDS {
                if start < i {
                    out.push(&self.actions[start..i]);
                }
                start = i;
                commands = 0;
            }
            commands += 1;
            if alone {
                out.push(&self.actions[i..=i]);
                start = i + 1;
                commands = 0;
            }
        }
        if start < self.actions.len() {
            out.push(&self.actions[start..]);
        }
        out
    }

    /// How many shell invocations running this plan takes.
    pub fn round_trips(&self) -> usize {
        self.batches().len()
    }

    /// Each batch as one `sh -c` script.
    pub fn scripts(&self, users: Users) -> Result<Vec<String>, RenderError> {
        self.batches()
            .into_iter()
            .map(|batch| {
                let mut parts = Vec::new();
                for a in batch {
                    parts.extend(a.commands(users)?);
                }
                Ok(parts.join(" && "))
            })
            .collect()
    }
}
