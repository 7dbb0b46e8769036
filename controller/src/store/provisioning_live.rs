//! The console's live provisioning view: the most recent provisioning runs from every
//! station, newest first, each with its steps so far.
//!
//! Must never: write (stations record runs through `provisioning.rs`).

use super::provisioning::{run_from_row, step_from_row};
use super::rows::int;
use super::{Result, Store};
use crate::domain::ProvisioningRun;

impl Store {
    /// The latest `limit` provisioning runs of any station, newest first, with their steps
    /// in the order they ran.
    pub async fn recent_provisioning_runs(&self, limit: u32) -> Result<Vec<ProvisioningRun>> {
        let rows = sqlx::query(
            "SELECT id, serial, profile_name, started_at, finished_at, outcome, error, device_id \
             FROM provisioning_runs ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut runs: Vec<ProvisioningRun> =
            rows.iter().map(run_from_row).collect::<Result<_>>()?;
        let Some(oldest) = runs.last().map(|r| r.id) else {
            return Ok(runs);
        };
        let steps = sqlx::query(
            "SELECT run_id, step, started_at, finished_at, outcome, detail, error \
             FROM provisioning_steps WHERE run_id >= $1 ORDER BY run_id, started_at, step",
        )
        .bind(oldest)
        .fetch_all(&self.pool)
        .await?;
        for row in &steps {
            let run_id = int(row, "run_id")?;
            let record = step_from_row(row)?;
            if let Some(run) = runs.iter_mut().find(|r| r.id == run_id) {
                run.steps.push(record);
            }
        }
        for run in &mut runs {
            run.steps.sort_by_key(|s| (s.started_at, s.step));
        }
        Ok(runs)
    }
}
