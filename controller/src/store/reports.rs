//! Inbound from agents: device reports, de-duplicated by the agent's own sequence number
//! (`devices.last_report_seq`) in the same transaction as their effects, so a re-sent
//! report changes nothing.

use super::devices::{device_event, device_in};
use super::rows::{ms, one, seq};
use super::{Result, Store, StoreError, events};
use crate::domain::{ApplyOutcome, DeviceId, DeviceReport, DeviceStatus, ReportOutcome, Timestamp};

impl Store {
    /// Records one agent report, exactly once: the `seq` check and every effect commit
    /// together, so a re-sent report (same `seq`) changes nothing.
    pub async fn record_report(
        &self,
        device: &DeviceId,
        report: &DeviceReport,
        now: Timestamp,
    ) -> Result<ReportOutcome> {
        let mut tx = self.begin_write().await?;
        let fresh = sqlx::query(
            "UPDATE devices SET last_report_seq = $2, last_seen_at = $3 \
             WHERE id = $1 AND status = 'active' AND last_report_seq < $2",
        )
        .bind(device.as_str())
        .bind(seq(report.seq)?)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        if !one(&fresh) {
            let known = device_in(&mut tx, device).await?;
            if known.status != DeviceStatus::Active {
                return Err(StoreError::Forbidden("the device is revoked"));
            }
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
            events::append_in(&mut tx, &device_event(device, "device", kind, detail), now).await?;
        }
        tx.commit().await?;
        Ok(ReportOutcome::Recorded)
    }
}
