//! Records of processing and retention in the database: the fields of the Art. 30 record
//! only a person can fill in, the counts the generated record reports, and the retention
//! job's queries (ended contacts, redaction of old event detail, the prune horizon, the
//! record of each run).
//!
//! Owns: `privacy_record_fields` and `retention_runs` (migration 0011), and the one UPDATE
//! of events besides sealing: redaction of a version-2 entry's detail.
//! Must never: delete events itself (pruning goes through [`Store::prune_events_through`],
//! which checkpoints), or redact an entry that has no detail digest (its chain link would
//! break; the trigger refuses it too).

use serde_json::json;

use super::rows::{int, ms, opt_text, text, time, uint};
use super::{Result, Store, StoreError, events};
use crate::audit_chain::REDACTED_DETAIL;
use crate::domain::{ContactId, NewEvent, Timestamp};
use crate::records::BasisCounts;

/// One filled-in field of the records of processing, with who changed it last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordField {
    pub name: String,
    pub value: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// What one run of the retention job did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionCounts {
    /// Contacts without a lawful basis past their window, erased.
    pub contacts_erased: u64,
    /// Event-log entries deleted through a checkpoint.
    pub events_pruned: u64,
    /// Event-log entries whose detail was redacted.
    pub details_redacted: u64,
}

/// A recorded run of the retention job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRun {
    pub at: Timestamp,
    pub actor: String,
    pub counts: RetentionCounts,
}

impl Store {
    /// Every filled-in field of the records of processing, by name.
    pub async fn privacy_record_fields(&self) -> Result<Vec<RecordField>> {
        let rows = sqlx::query(
            "SELECT name, value, updated_at, updated_by FROM privacy_record_fields ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RecordField {
                    name: text(row, "name")?,
                    value: text(row, "value")?,
                    updated_at: time(row, "updated_at")?,
                    updated_by: text(row, "updated_by")?,
                })
            })
            .collect()
    }

    /// Stores the fields whose value changed, in one transaction with one
    /// `privacy.records_updated` event naming them (not their values). Returns the names
    /// changed; nothing is written when none did.
    pub async fn set_privacy_record_fields(
        &self,
        fields: &[(String, String)],
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let mut changed = Vec::new();
        for (name, value) in fields {
            let old = sqlx::query("SELECT value FROM privacy_record_fields WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let old = match old {
                Some(row) => opt_text(&row, "value")?,
                None => None,
            };
            if old.as_deref().unwrap_or("") == value.as_str() {
                continue;
            }
            sqlx::query(
                "INSERT INTO privacy_record_fields (name, value, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE \
                 SET value = excluded.value, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(name.as_str())
            .bind(value.as_str())
            .bind(ms(now))
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            changed.push(name.clone());
        }
        if !changed.is_empty() {
            let event = NewEvent {
                device: None,
                actor: actor.to_owned(),
                kind: "privacy.records_updated".into(),
                detail: json!({ "fields": changed }),
            };
            events::append_in(&mut tx, &event, now).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Contacts per lawful basis.
    pub async fn basis_counts(&self) -> Result<BasisCounts> {
        let rows = sqlx::query("SELECT basis, COUNT(*) AS n FROM contacts GROUP BY basis")
            .fetch_all(&self.pool)
            .await?;
        let mut counts = BasisCounts::default();
        for row in &rows {
            let n = uint(row, "n")?;
            match opt_text(row, "basis")?.as_deref() {
                Some("consent") => counts.consent = n,
                Some("contract") => counts.contract = n,
                Some("legitimate_interest") => counts.legitimate_interest = n,
                None => counts.none = n,
                Some(other) => {
                    return Err(StoreError::Corrupt(format!("unknown basis `{other}`")));
                }
            }
        }
        Ok(counts)
    }

    /// Contacts that have no lawful basis and were last changed before `before`: what the
    /// retention job erases.
    pub async fn ended_contacts(&self, before: Timestamp) -> Result<Vec<ContactId>> {
        let rows = sqlx::query(
            "SELECT id FROM contacts WHERE basis IS NULL AND updated_at < $1 ORDER BY id",
        )
        .bind(ms(before))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                ContactId::parse(&text(row, "id")?)
                    .map_err(|e| StoreError::Corrupt(format!("contact id: {e}")))
            })
            .collect()
    }

    /// Replaces the detail of every version-2 event older than `before` by
    /// `{"redacted":true}` and marks it redacted at `now`; the stored digest keeps its
    /// chain link verifiable. Version-1 entries (sealed before migration 0011) keep their
    /// detail until they are pruned. Returns how many were redacted.
    pub async fn redact_event_details(&self, before: Timestamp, now: Timestamp) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE events SET detail = $1, redacted_at = $2 \
             WHERE at < $3 AND detail_sha256 IS NOT NULL AND redacted_at IS NULL",
        )
        .bind(REDACTED_DETAIL)
        .bind(ms(now))
        .bind(ms(before))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// The last chain position that may be pruned for a horizon of `before`: the entry
    /// before the first one at or after `before` (so a clock that once went backwards
    /// never takes a newer entry with it), or the head when every entry is older. `None`
    /// when nothing older than the horizon is left.
    pub async fn prune_horizon(&self, before: Timestamp) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT (SELECT MIN(seq) FROM events WHERE at >= $1 AND seq IS NOT NULL) AS keep, \
             (SELECT MIN(seq) FROM events WHERE seq IS NOT NULL) AS first, \
             (SELECT seq FROM event_chain WHERE singleton = 1) AS head",
        )
        .bind(ms(before))
        .fetch_one(&self.pool)
        .await?;
        let keep = super::rows::opt_int(&row, "keep")?;
        let Some(first) = super::rows::opt_int(&row, "first")? else {
            return Ok(None);
        };
        let through = match keep {
            Some(keep) => keep - 1,
            None => int(&row, "head")?,
        };
        Ok((through >= first).then_some(through))
    }

    /// Records a run of the retention job and its `retention.ran` event, one transaction.
    pub async fn record_retention_run(
        &self,
        counts: &RetentionCounts,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO retention_runs (at, actor, contacts_erased, events_pruned, details_redacted) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(ms(now))
        .bind(actor)
        .bind(as_i64(counts.contacts_erased))
        .bind(as_i64(counts.events_pruned))
        .bind(as_i64(counts.details_redacted))
        .execute(&mut *tx)
        .await?;
        let event = NewEvent {
            device: None,
            actor: actor.to_owned(),
            kind: "retention.ran".into(),
            detail: json!({
                "contacts_erased": counts.contacts_erased,
                "events_pruned": counts.events_pruned,
                "details_redacted": counts.details_redacted,
            }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest run of the retention job, if any.
    pub async fn last_retention_run(&self) -> Result<Option<RetentionRun>> {
        let row = sqlx::query(
            "SELECT at, actor, contacts_erased, events_pruned, details_redacted \
             FROM retention_runs ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(RetentionRun {
                at: time(&row, "at")?,
                actor: text(&row, "actor")?,
                counts: RetentionCounts {
                    contacts_erased: uint(&row, "contacts_erased")?,
                    events_pruned: uint(&row, "events_pruned")?,
                    details_redacted: uint(&row, "details_redacted")?,
                },
            })
        })
        .transpose()
    }
}
