//! The controller's commands: re-sync (reconcile now and report everything), remove the
//! work profile (stop enforcing, then `pm remove-user`), reboot (`svc power reboot`) and
//! collect logs (a bounded `logcat` excerpt in the result's `output`).

use corral_wire::{AgentMessage, Command, CommandKind, CommandOutcome, CommandResult};

use super::{Change, Keeper};
use crate::observe::Observer;
use crate::shell::ShellError;

/// How many log lines `collect_logs` asks `logcat` for.
pub const LOG_LINES: u32 = 200;

/// The most log text one result carries; a longer excerpt keeps its newest lines.
pub const LOG_BYTES: usize = 64 * 1024;

/// How the phone's power manager is asked to reboot; the shell user (the agent on the
/// phone, or ADB) may. `svc power reboot` prints nothing when it works and never returns
/// (the phone goes down), so it runs in the background: the script ends normally and the
/// connection is not cut under a reader — adb_client 3.2.3 spins forever on a connection
/// closed mid-read (`TcpTransport::read_message_with_timeout` loops on `read` = 0).
pub const REBOOT: &str = "svc power reboot >/dev/null 2>&1 &";

impl Keeper {
    pub(super) async fn command(&mut self, command: Command) {
        if command.push_seq <= self.applied.push_seq {
            return;
        }
        tracing::info!(push_seq = command.push_seq, kind = ?command.kind, "Command.");
        let (outcome, output, change) = match command.kind {
            CommandKind::ReSync => {
                self.observer = Observer::new();
                self.scheduled(true).await;
                (CommandOutcome::Done, None, Change::Keep)
            }
            CommandKind::RemoveWorkProfile => {
                let (outcome, change) = self.remove_work_profile().await;
                (outcome, None, change)
            }
            CommandKind::CollectLogs => {
                let (outcome, output) = self.collect_logs().await;
                (outcome, output, Change::Keep)
            }
            CommandKind::Reboot => return self.reboot(command).await,
        };
        self.record(command.push_seq, result(&command, outcome, output), change);
    }

    /// Reboots the phone **at most once**: the command is recorded as done before the
    /// phone is asked, because an agent running on the phone dies with it, and a command
    /// not yet recorded would come again after the restart — a reboot loop. A refusal in
    /// words (the phone stays up) follows as a second result, `failed`, for the same
    /// command.
    async fn reboot(&mut self, command: Command) {
        self.record(
            command.push_seq,
            result(&command, CommandOutcome::Done, None),
            Change::Keep,
        );
        let refused = match self.shell.run(REBOOT).await {
            // The connection went down with the phone, or the request was accepted in
            // the background: both are what a reboot looks like.
            Err(ShellError::NoExitStatus | ShellError::Broken { .. }) => None,
            Ok(o) if o.output.is_empty() && o.exit == 0 => None,
            Ok(o) => Some(format!("exit status {}: {}", o.exit, o.output.trim())),
            Err(e) => Some(e.to_string()),
        };
        // The phone is going down: no script may use the old connection, and the next
        // observation must not trust what it knew before the reboot.
        self.shell.reset();
        self.observer = Observer::new();
        if let Some(error) = refused {
            tracing::warn!(%error, "The phone refused to reboot.");
            let failed = CommandOutcome::Failed { error };
            let make = result(&command, failed, None);
            if let Err(e) = self.append(make) {
                tracing::error!(error = %e, "Cannot record the refused reboot.");
            }
        }
    }

    /// `logcat -d -t N`: the newest lines of the phone's log, at most [`LOG_BYTES`].
    async fn collect_logs(&mut self) -> (CommandOutcome, Option<String>) {
        match self.shell.run(&format!("logcat -d -t {LOG_LINES}")).await {
            Ok(o) if o.exit == 0 => (CommandOutcome::Done, Some(newest(&o.output, LOG_BYTES))),
            Ok(o) => (
                CommandOutcome::Failed {
                    error: format!(
                        "logcat exited with {}: {}",
                        o.exit,
                        newest(o.output.trim(), 1024)
                    ),
                },
                None,
            ),
            Err(e) => (
                CommandOutcome::Failed {
                    error: e.to_string(),
                },
                None,
            ),
        }
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

/// The result of `command`, to be numbered by the outbox.
fn result(
    command: &Command,
    outcome: CommandOutcome,
    output: Option<String>,
) -> impl FnOnce(u64) -> AgentMessage {
    let (push_seq, command_id) = (command.push_seq, command.command_id.clone());
    move |seq| {
        AgentMessage::CommandResult(CommandResult {
            seq,
            push_seq,
            command_id,
            outcome,
            output,
        })
    }
}

/// The end of `text` that fits in `max` bytes, starting at a line when it is cut.
pub fn newest(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let tail = &text[start..];
    match tail.find('\n') {
        Some(i) if i + 1 < tail.len() => tail[i + 1..].to_owned(),
        _ => tail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::newest;

    #[test]
    fn a_long_log_keeps_its_newest_whole_lines() {
        let log = "one\ntwo\nthree\n";
        expect![[r#"
            "one\ntwo\nthree\n"
        "#]]
        .assert_debug_eq(&newest(log, 100));
        expect![[r#"
            "three\n"
        "#]]
        .assert_debug_eq(&newest(log, 8));
        expect![[r#"
            "three\n"
        "#]]
        .assert_debug_eq(&newest(log, 10));
        // No newline in reach: the bytes that fit, never half a character.
        expect![[r#"
            "aü"
        "#]]
        .assert_debug_eq(&newest("aaaü", 3));
    }
}
