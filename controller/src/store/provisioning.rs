//! Provisioning runs and their steps: one run per attempt on one phone, one row per step
//! it started. Each change is one transaction; a finished step or run is never changed
//! again, so every attempt stays on record. Starting a run closes the phone's unfinished
//! earlier runs as `interrupted` (the station stopped mid-run) in the same transaction.

use sqlx::any::AnyRow;

use super::rows::{int, ms, one, opt_parsed, opt_text, opt_time, parsed, text, time};
use super::{Result, Store, StoreError, events};
use crate::domain::{
    DeviceId, NewEvent, ProfileName, ProvisionStep, ProvisioningRun, RunOutcome, StepOutcome,
    StepRecord, Timestamp,
};

pub(super) fn run_from_row(row: &AnyRow) -> Result<ProvisioningRun> {
    Ok(ProvisioningRun {
        id: int(row, "id")?,
        serial: text(row, "serial")?,
        profile: parsed(row, "profile_name")?,
        started_at: time(row, "started_at")?,
        finished_at: opt_time(row, "finished_at")?,
        outcome: opt_parsed(row, "outcome")?,
        error: opt_text(row, "error")?,
        device: opt_parsed(row, "device_id")?,
        steps: Vec::new(),
    })
}

pub(super) fn step_from_row(row: &AnyRow) -> Result<StepRecord> {
    Ok(StepRecord {
        step: parsed(row, "step")?,
        started_at: time(row, "started_at")?,
        finished_at: opt_time(row, "finished_at")?,
        outcome: opt_parsed(row, "outcome")?,
        detail: opt_text(row, "detail")?,
        error: opt_text(row, "error")?,
    })
}

/// Gives each of `runs` its steps from `steps` (rows of `provisioning_steps`), in the
/// order they ran; steps that started in the same millisecond keep the order of the steps.
fn attach_steps(runs: &mut [ProvisioningRun], steps: &[AnyRow]) -> Result<()> {
    for row in steps {
        let run_id = int(row, "run_id")?;
        let record = step_from_row(row)?;
        if let Some(run) = runs.iter_mut().find(|r| r.id == run_id) {
            run.steps.push(record);
        }
    }
    for run in runs.iter_mut() {
        run.steps.sort_by_key(|s| (s.started_at, s.step));
    }
    Ok(())
}

impl Store {
    /// Starts a run for the phone `serial` on behalf of `actor` (`provisioning` for the
    /// controller's own station, `user:NAME` over the REST API); returns its id. Appends
    /// a `provisioning.started` event in the same transaction.
    pub async fn start_provisioning_run(
        &self,
        serial: &str,
        profile: &ProfileName,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE provisioning_runs SET finished_at = $2, outcome = 'interrupted', \
             error = 'a newer run started before this one finished' \
             WHERE serial = $1 AND finished_at IS NULL",
        )
        .bind(serial)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO provisioning_runs (serial, profile_name, started_at) VALUES ($1, $2, $3) \
             RETURNING id",
        )
        .bind(serial)
        .bind(profile.as_str())
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let id = int(&row, "id")?;
        let event = NewEvent {
            device: None,
            actor: actor.to_owned(),
            kind: "provisioning.started".into(),
            detail: serde_json::json!({
                "run": id,
                "serial": serial,
                "profile": profile.as_str(),
            }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records that `step` of run `run` started.
    pub async fn start_provisioning_step(
        &self,
        run: i64,
        step: ProvisionStep,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO provisioning_steps (run_id, step, started_at) \
             SELECT id, $2, $3 FROM provisioning_runs WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(run)
        .bind(step.as_str())
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("step {step} of run {run} already started"))
            }
            other => other,
        })
        .and_then(|r| {
            if one(&r) {
                Ok(())
            } else {
                Err(StoreError::NotFound(format!(
                    "unfinished provisioning run {run}"
                )))
            }
        })?;
        tx.commit().await?;
        Ok(())
    }

    /// Records how a started step ended.
    pub async fn finish_provisioning_step(
        &self,
        run: i64,
        step: ProvisionStep,
        outcome: StepOutcome,
        detail: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE provisioning_steps SET finished_at = $3, outcome = $4, detail = $5, error = $6 \
             WHERE run_id = $1 AND step = $2 AND finished_at IS NULL",
        )
        .bind(run)
        .bind(step.as_str())
        .bind(ms(now))
        .bind(outcome.as_str())
        .bind(detail)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        if !one(&done) {
            return Err(StoreError::NotFound(format!(
                "unfinished step {step} of run {run}"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends a run, with the event describing it (by `actor`) in the same transaction.
    pub async fn finish_provisioning_run(
        &self,
        run: i64,
        outcome: RunOutcome,
        error: Option<&str>,
        device: Option<&DeviceId>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE provisioning_runs SET finished_at = $2, outcome = $3, error = $4, device_id = $5 \
             WHERE id = $1 AND finished_at IS NULL RETURNING serial",
        )
        .bind(run)
        .bind(ms(now))
        .bind(outcome.as_str())
        .bind(error)
        .bind(device.map(DeviceId::as_str))
        .fetch_all(&mut *tx)
        .await?;
        let Some(row) = rows.first() else {
            return Err(StoreError::NotFound(format!(
                "unfinished provisioning run {run}"
            )));
        };
        let serial = text(row, "serial")?;
        let event = NewEvent {
            // The device row may not exist yet (the agent had not enrolled): the serial and
            // the device id are in the detail instead.
            device: None,
            actor: actor.to_owned(),
            kind: format!("provisioning.{}", outcome.as_str()),
            detail: serde_json::json!({
                "run": run,
                "serial": serial,
                "device": device.map(DeviceId::as_str),
                "error": error,
            }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every run for `serial`, oldest first, each with its steps.
    pub async fn provisioning_runs(&self, serial: &str) -> Result<Vec<ProvisioningRun>> {
        let rows = sqlx::query(
            "SELECT id, serial, profile_name, started_at, finished_at, outcome, error, device_id \
             FROM provisioning_runs WHERE serial = $1 ORDER BY id",
        )
        .bind(serial)
        .fetch_all(&self.pool)
        .await?;
        let mut runs: Vec<ProvisioningRun> =
            rows.iter().map(run_from_row).collect::<Result<_>>()?;
        let steps = sqlx::query(
            "SELECT s.run_id, s.step, s.started_at, s.finished_at, s.outcome, s.detail, s.error \
             FROM provisioning_steps s JOIN provisioning_runs r ON r.id = s.run_id \
             WHERE r.serial = $1 ORDER BY s.run_id, s.started_at, s.step",
        )
        .bind(serial)
        .fetch_all(&self.pool)
        .await?;
        attach_steps(&mut runs, &steps)?;
        Ok(runs)
    }
}

impl Store {
    /// The newest runs first (at most `limit`), only `serial`'s when given, each with its
    /// steps: what a station's summary and the console's live view read.
    pub async fn recent_provisioning_runs(
        &self,
        serial: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ProvisioningRun>> {
        let rows = sqlx::query(
            "SELECT id, serial, profile_name, started_at, finished_at, outcome, error, device_id \
             FROM provisioning_runs WHERE ($1 IS NULL OR serial = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(serial)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut runs: Vec<ProvisioningRun> =
            rows.iter().map(run_from_row).collect::<Result<_>>()?;
        let Some(oldest) = runs.last().map(|r| r.id) else {
            return Ok(runs);
        };
        let steps = sqlx::query(
            "SELECT s.run_id, s.step, s.started_at, s.finished_at, s.outcome, s.detail, s.error \
             FROM provisioning_steps s JOIN provisioning_runs r ON r.id = s.run_id \
             WHERE r.id >= $1 AND ($2 IS NULL OR r.serial = $2)",
        )
        .bind(oldest)
        .bind(serial)
        .fetch_all(&self.pool)
        .await?;
        attach_steps(&mut runs, &steps)?;
        Ok(runs)
    }
}
