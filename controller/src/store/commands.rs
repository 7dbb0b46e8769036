//! A device's commands as the console shows them: each queued command (an outbox row of
//! kind `command`) with how far it got — queued, sent, acknowledged — and its result from
//! the `command.done` / `command.failed` event, whose detail holds a `collect_logs`
//! output.
//!
//! Must never: change anything (reads only); the gateway queues commands and the answers
//! path records their results.

use std::collections::HashMap;

use super::rows::{json, opt_time, text, time, uint};
use super::{Result, Store};
use crate::domain::{DeviceId, Timestamp};

/// How far a command got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandState {
    /// In the outbox, never sent.
    Queued,
    /// Sent, not acknowledged yet.
    Sent,
    /// Acknowledged by the agent without a result event (superseded, or an old agent).
    Acknowledged,
    /// Replaced before it was sent.
    Superseded,
    /// The agent reports it done.
    Done,
    /// The agent reports it failed.
    Failed,
}

impl CommandState {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandState::Queued => "queued",
            CommandState::Sent => "sent",
            CommandState::Acknowledged => "acknowledged",
            CommandState::Superseded => "superseded",
            CommandState::Done => "done",
            CommandState::Failed => "failed",
        }
    }
}

/// One command of a device.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRecord {
    pub command_id: String,
    /// `re_sync`, `reboot`, `remove_work_profile`, `collect_logs` (as stored).
    pub kind: String,
    pub push_seq: u64,
    pub queued_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub attempts: u64,
    pub state: CommandState,
    /// When the result arrived.
    pub finished_at: Option<Timestamp>,
    pub error: Option<String>,
    /// What the command printed (`collect_logs`), as kept in its event.
    pub output: Option<String>,
    pub output_truncated: bool,
}

impl Store {
    /// A device's latest `limit` commands, newest first, with their results.
    pub async fn device_commands(
        &self,
        device: &DeviceId,
        limit: u32,
    ) -> Result<Vec<CommandRecord>> {
        let rows = sqlx::query(
            "SELECT seq, body, created_at, attempts, last_sent_at, acked_at, superseded_at \
             FROM outbox WHERE device_id = $1 AND kind = 'command' ORDER BY seq DESC LIMIT $2",
        )
        .bind(device.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut commands = Vec::with_capacity(rows.len());
        for row in &rows {
            // A body that is not a command (corrupt or blanked) still shows, unnamed.
            let body: serde_json::Value =
                serde_json::from_str(&text(row, "body")?).unwrap_or_default();
            let field = |k: &str| {
                body.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("?")
                    .to_owned()
            };
            let state = if opt_time(row, "acked_at")?.is_some() {
                CommandState::Acknowledged
            } else if opt_time(row, "superseded_at")?.is_some() {
                CommandState::Superseded
            } else if opt_time(row, "last_sent_at")?.is_some() {
                CommandState::Sent
            } else {
                CommandState::Queued
            };
            commands.push(CommandRecord {
                command_id: field("command_id"),
                kind: field("kind"),
                push_seq: uint(row, "seq")?,
                queued_at: time(row, "created_at")?,
                sent_at: opt_time(row, "last_sent_at")?,
                attempts: uint(row, "attempts")?,
                state,
                finished_at: None,
                error: None,
                output: None,
                output_truncated: false,
            });
        }
        let Some(oldest) = commands.iter().map(|c| c.queued_at).min() else {
            return Ok(commands);
        };
        // Results come after their command was queued; only those kinds, only this device.
        let results = sqlx::query(
            "SELECT at, kind, detail FROM events WHERE device_id = $1 \
             AND kind IN ('command.done', 'command.failed') AND at >= $2 ORDER BY id",
        )
        .bind(device.as_str())
        .bind(super::rows::ms(oldest))
        .fetch_all(&self.pool)
        .await?;
        let index: HashMap<String, usize> = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.command_id.clone(), i))
            .collect();
        for row in &results {
            let detail = json(row, "detail")?;
            let Some(&i) = detail
                .get("command")
                .and_then(|v| v.as_str())
                .and_then(|id| index.get(id))
            else {
                continue;
            };
            let c = &mut commands[i];
            c.finished_at = Some(time(row, "at")?);
            c.state = if text(row, "kind")? == "command.done" {
                CommandState::Done
            } else {
                CommandState::Failed
            };
            c.error = detail
                .get("error")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            c.output = detail
                .get("output")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            c.output_truncated = detail
                .get("output_truncated")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
        }
        Ok(commands)
    }
}
