//! Phones on their way into the fleet: the serials a station is provisioning ("enrolling")
//! or failed to provision ("failed", with the failing step), that have no device row yet.
//! The fleet page shows them in a section of their own above the enrolled phones, and
//! its status filter can ask for them alone.
//!
//! Only a serial's latest run counts, and a serial with a device row is in the fleet
//! proper, so a phone that failed once and enrolled on the next attempt is not "failed".
//! Must never: load every run to decide (one indexed query per page).

use sqlx::any::AnyRow;

use super::fleet_page::like_escape;
use super::rows::{int, opt_parsed, opt_text, opt_time, parsed, text, time};
use super::{Result, Store, StoreError};
use crate::domain::{ProfileName, ProvisionStep, Timestamp};

/// Where a phone that is not enrolled yet stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingState {
    /// A station is provisioning it now.
    Enrolling,
    /// Its latest provisioning run failed or was interrupted.
    Failed,
}

impl PendingState {
    /// `enrolling` or `failed`, as the fleet's status filter spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingState::Enrolling => "enrolling",
            PendingState::Failed => "failed",
        }
    }
}

/// Which pending phones, which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQuery {
    /// Only this state; both when `None`.
    pub state: Option<PendingState>,
    /// Case-insensitive substring of the serial or the profile.
    pub search: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

/// One phone being (or failing to be) provisioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPhone {
    /// The provisioning run (its steps are on `/provisioning`).
    pub run: i64,
    pub serial: String,
    pub profile: ProfileName,
    pub state: PendingState,
    /// The step it is at (enrolling) or that failed (failed).
    pub step: Option<ProvisionStep>,
    pub error: Option<String>,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// One page of pending phones and how many matched in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPage {
    pub rows: Vec<PendingPhone>,
    pub total: u64,
}

/// The latest run of each serial without a device, unfinished or failed; `$1` the state
/// (`NULL` for both), `$2` the search pattern (`NULL` for any).
const FROM: &str = " FROM provisioning_runs r \
     WHERE r.id = (SELECT MAX(l.id) FROM provisioning_runs l WHERE l.serial = r.serial) \
     AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.serial = r.serial) \
     AND (r.outcome IS NULL OR r.outcome IN ('failed', 'interrupted')) \
     AND ($1 IS NULL OR ($1 = 'enrolling') = (r.outcome IS NULL)) \
     AND ($2 IS NULL OR LOWER(r.serial) LIKE $2 ESCAPE '\\' OR LOWER(r.profile_name) LIKE $2 ESCAPE '\\')";

fn pending_from_row(row: &AnyRow) -> Result<PendingPhone> {
    let outcome = opt_text(row, "outcome")?;
    Ok(PendingPhone {
        run: int(row, "id")?,
        serial: text(row, "serial")?,
        profile: parsed(row, "profile_name")?,
        state: match outcome {
            None => PendingState::Enrolling,
            Some(_) => PendingState::Failed,
        },
        step: opt_parsed(row, "step")?,
        error: opt_text(row, "error")?,
        started_at: time(row, "started_at")?,
        finished_at: opt_time(row, "finished_at")?,
    })
}

impl Store {
    /// Phones being provisioned or whose provisioning failed, without a device row yet,
    /// newest run first.
    pub async fn pending_phones(&self, query: &PendingQuery) -> Result<PendingPage> {
        let state = query.state.map(PendingState::as_str);
        let pattern = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", like_escape(&s.to_lowercase())));
        let total = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n{FROM}")))
            .bind(state)
            .bind(pattern.as_deref())
            .fetch_one(&self.pool)
            .await?;
        let total =
            u64::try_from(int(&total, "n")?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if total == 0 {
            return Ok(PendingPage {
                rows: Vec::new(),
                total,
            });
        }
        // The failing step when one failed, else the step started last.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT r.id, r.serial, r.profile_name, r.outcome, r.error, r.started_at, \
             r.finished_at, (SELECT s.step FROM provisioning_steps s WHERE s.run_id = r.id \
               ORDER BY CASE WHEN s.outcome = 'failed' THEN 0 ELSE 1 END, s.started_at DESC \
               LIMIT 1) AS step{FROM} ORDER BY r.id DESC LIMIT $3 OFFSET $4"
        )))
        .bind(state)
        .bind(pattern.as_deref())
        .bind(i64::from(query.limit))
        .bind(i64::from(query.offset))
        .fetch_all(&self.pool)
        .await?;
        Ok(PendingPage {
            rows: rows.iter().map(pending_from_row).collect::<Result<_>>()?,
            total,
        })
    }
}
