//! The controller's commands: re-sync (reconcile now and report everything), remove the
//! work profile (stop enforcing, then `pm remove-user`); `reboot` and `collect_logs` are
//! answered as not supported.

use corral_wire::{AgentMessage, Command, CommandKind, CommandOutcome, CommandResult};

use super::{Change, Keeper};
use crate::observe::Observer;

impl Keeper {
    pub(super) async fn command(&mut self, command: Command) {
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

    /// Stops enforcing (the profile is cleared, so the next reconcile does not create the
    /// work profile again) and removes the work profile with its data.
    pub(super) async fn remove_work_profile(&mut self) -> (CommandOutcome, Change) {
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
}
