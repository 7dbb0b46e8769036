//! Inbound from agents: device reports, de-duplicated by the agent's own sequence number
//! (`devices.last_report_seq`) in the same transaction as their effects, so a re-sent
//! report changes nothing.

use sqlx::AnyConnection;

use super::devices::device_event;
use super::rows::ms;
use super::{Result, Store, StoreError, agents, answers, events, outbox};
use crate::domain::{ApplyOutcome, DeviceId, DeviceReport, ReportOutcome, Timestamp};

/// One agent's answer that changes the store: the push it answers (acknowledged first)
/// and/or a report. What the gateway hands to [`Store::record_answers`].
#[derive(Debug, Clone, PartialEq)]
pub struct AgentAnswer {
    pub device: DeviceId,
    pub push_seq: Option<u64>,
    pub report: Option<AnswerReport>,
}

/// The report part of an [`AgentAnswer`].
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerReport {
    /// Observed state, drift or apply results ([`Store::record_report`]).
    Device(DeviceReport),
    /// A command's result ([`Store::record_command_result`]).
    Command {
        seq: u64,
        command_id: String,
        error: Option<String>,
        /// What the command printed for the operator (`collect_logs`).
        output: Option<String>,
    },
    /// An allow-list push's result: applied (`error` is `None`) or failed.
    Contacts {
        seq: u64,
        push_seq: u64,
        version: String,
        error: Option<String>,
    },
}

impl Store {
    /// Records many agents' answers in one transaction — group commit: one lock and one
    /// sync for the lot instead of one per answer, each answer with exactly the effects
    /// [`Store::ack_push`], [`Store::record_report`] and [`Store::record_command_result`]
    /// would have. An answer refused on its own (a push that does not exist, a revoked
    /// device) gets its error in the returned list (one entry per answer, in order) and
    /// does not stop the others; nothing is written for it, except that a revoked
    /// device's acknowledgement of a push that exists stays recorded, as when the two were
    /// separate transactions. A database failure fails the whole batch: nothing commits.
    pub async fn record_answers(
        &self,
        answers: &[AgentAnswer],
        now: Timestamp,
    ) -> Result<Vec<Result<()>>> {
        let mut tx = self.begin_write().await?;
        let mut results: Vec<Result<()>> = answers.iter().map(|_| Ok(())).collect();
        // Acknowledgements and "applied" results set-based, the rest one by one; the two
        // groups never share a device, so the order between them does not matter.
        let (simple, rest) = answers::partition(answers);
        if !simple.is_empty() {
            for (index, e) in answers::record_simple_in(&mut tx, &simple, now).await? {
                results[index] = Err(e);
            }
        }
        for index in rest {
            match answer_in(&mut tx, &answers[index], now).await {
                Ok(()) => {}
                Err(e @ (StoreError::Unavailable(_) | StoreError::Conflict(_))) => return Err(e),
                Err(e) => results[index] = Err(e),
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Records one agent report, exactly once: the `seq` check and every effect commit
    /// together, so a re-sent report (same `seq`) changes nothing.
    pub async fn record_report(
        &self,
        device: &DeviceId,
        report: &DeviceReport,
        now: Timestamp,
    ) -> Result<ReportOutcome> {
        let mut tx = self.begin_write().await?;
        let outcome = record_report_in(&mut tx, device, report, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

async fn answer_in(conn: &mut AnyConnection, answer: &AgentAnswer, now: Timestamp) -> Result<()> {
    if let Some(push_seq) = answer.push_seq {
        outbox::ack_in(conn, &answer.device, push_seq, now).await?;
    }
    match &answer.report {
        None => {}
        Some(AnswerReport::Device(report)) => {
            record_report_in(conn, &answer.device, report, now).await?;
        }
        Some(AnswerReport::Command {
            seq,
            command_id,
            error,
            output,
        }) => {
            agents::record_command_in(
                conn,
                &answer.device,
                *seq,
                command_id,
                error.as_deref(),
                output.as_deref(),
                now,
            )
            .await?;
        }
        Some(AnswerReport::Contacts {
            seq,
            push_seq,
            version,
            error,
        }) => {
            super::allow_lists::contacts_result_in(
                conn,
                &answer.device,
                *seq,
                *push_seq,
                version,
                error.as_deref(),
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// [`Store::record_report`] inside a transaction. On an error nothing was written.
async fn record_report_in(
    tx: &mut AnyConnection,
    device: &DeviceId,
    report: &DeviceReport,
    now: Timestamp,
) -> Result<ReportOutcome> {
    {
        if agents::advance_report_seq(tx, device, report.seq, now).await?
            == ReportOutcome::Duplicate
        {
            return Ok(ReportOutcome::Duplicate);
        }
        if let Some(state) = &report.observed_state {
            sqlx::query("UPDATE devices SET observed_state = $2, observed_at = $3 WHERE id = $1")
                .bind(device.as_str())
                .bind(state.to_string())
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        if let Some(drift) = &report.drift {
            sqlx::query("UPDATE devices SET drift = $2 WHERE id = $1")
                .bind(device.as_str())
                .bind(drift.to_string())
                .execute(&mut *tx)
                .await?;
            let (kind, detail) = drift_event(drift);
            events::append_in(tx, &device_event(device, "device", kind, detail), now).await?;
        }
        for result in &report.applied {
            let (applied_at, failed_at, error) = match &result.outcome {
                ApplyOutcome::Applied => (Some(ms(now)), None, None),
                ApplyOutcome::Failed(e) => (None, Some(ms(now)), Some(e.as_str())),
            };
            sqlx::query(
                "UPDATE deliveries SET applied_at = COALESCE(applied_at, $3), failed_at = $4, error = $5 \
                 WHERE id = (SELECT MAX(id) FROM deliveries WHERE device_id = $1 AND version = $2)",
            )
            .bind(device.as_str())
            .bind(result.version.as_str())
            .bind(applied_at)
            .bind(failed_at)
            .bind(error)
            .execute(&mut *tx)
            .await?;
            if applied_at.is_some() {
                sqlx::query("UPDATE devices SET applied_version = $2 WHERE id = $1")
                    .bind(device.as_str())
                    .bind(result.version.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let (kind, detail) = match &result.outcome {
                ApplyOutcome::Applied => (
                    "profile.applied",
                    serde_json::json!({ "version": result.version.as_str() }),
                ),
                ApplyOutcome::Failed(e) => (
                    "profile.apply_failed",
                    serde_json::json!({ "version": result.version.as_str(), "error": e }),
                ),
            };
            events::append_in(tx, &device_event(device, "device", kind, detail), now).await?;
        }
        Ok(ReportOutcome::Recorded)
    }
}

/// The event a drift report leaves in the log (the phone page's drift history): agents
/// send a drift report only when what they have to say changed, so one event per report
/// stays small. `drift.cleared` for no items, `drift.repaired` when the
/// agent repaired what it found in the same pass, `drift.detected` otherwise; the
/// detail names the kinds of difference and how many, never contact ids.
pub(crate) fn drift_event(drift: &serde_json::Value) -> (&'static str, serde_json::Value) {
    let items = drift
        .get("items")
        .and_then(serde_json::Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let repaired = drift
        .get("repaired")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let kinds: std::collections::BTreeSet<&str> = items
        .iter()
        .filter_map(|i| i.get("drift").and_then(serde_json::Value::as_str))
        .collect();
    let kind = match (items.is_empty(), repaired) {
        (true, _) => "drift.cleared",
        (false, true) => "drift.repaired",
        (false, false) => "drift.detected",
    };
    (
        kind,
        serde_json::json!({ "items": items.len(), "kinds": kinds, "repaired": repaired }),
    )
}
