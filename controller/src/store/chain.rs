//! The event log's hash chain in the database: the chain head and its lock, sealing rows
//! written before the chain existed, verification, and pruning through a checkpoint.
//!
//! Owns: `event_chain` (the head: last seq and hash) and `event_checkpoints`; the order
//! in which appends are chained. The encoding and the verification rules are
//! `crate::audit_chain` (pure).
//! Must never: chain an event outside the head's lock, or delete an event except through
//! [`Store::prune_events_through`], which records a checkpoint and an audit event first.
//!
//! Appends serialise, so the chain never forks: on SQLite every write transaction holds
//! the database's write lock (`BEGIN IMMEDIATE`); on PostgreSQL every write transaction
//! takes one transaction-scoped advisory lock when it begins (`Store::begin_write`), and
//! [`lock_head`] takes it again (a no-op then) for a transaction begun elsewhere. Taking
//! it first, before any row lock, is what keeps it deadlock-free.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::rows::{int, ms, opt_int, opt_text, text};
use super::{Result, Store, StoreError, events};
use crate::audit_chain::{self, Break, ChainedEvent, Start, StoredEvent, Verifier};
use crate::domain::{NewEvent, Timestamp};

/// The advisory-lock key of the chain on PostgreSQL ("corral" in ASCII).
pub(super) const CHAIN_LOCK_KEY: i64 = 0x636f_7272_616c;

/// Rows read per page when sealing or verifying.
const PAGE: i64 = 2000;

/// The last event of the chain: its position and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Head {
    pub(super) seq: i64,
    pub(super) hash: String,
}

/// Takes the chain lock on PostgreSQL (SQLite's write transaction holds it already).
pub(super) async fn lock(conn: &mut AnyConnection) -> Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHAIN_LOCK_KEY)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Locks the chain for the rest of the transaction and reads its head.
pub(super) async fn lock_head(conn: &mut AnyConnection) -> Result<Head> {
    lock(conn).await?;
    let row = sqlx::query("SELECT seq, hash FROM event_chain WHERE singleton = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Head {
        seq: int(&row, "seq")?,
        hash: text(&row, "hash")?,
    })
}

/// The head after appending `event` (with its detail text as stored and that text's
/// digest, encoding version 2) behind `head`.
pub(super) fn link(
    head: &Head,
    event: &NewEvent,
    detail: &str,
    detail_sha256: &str,
    now: Timestamp,
) -> Head {
    let seq = head.seq + 1;
    Head {
        seq,
        hash: audit_chain::hash(&ChainedEvent {
            seq,
            prev_hash: &head.hash,
            at_ms: ms(now),
            device: event.device.as_ref().map(|d| d.as_str()),
            actor: &event.actor,
            kind: &event.kind,
            detail,
            detail_sha256: Some(detail_sha256),
        }),
    }
}

/// Moves the head (inside the transaction that appended).
pub(super) async fn set_head(conn: &mut AnyConnection, head: &Head) -> Result<()> {
    sqlx::query("UPDATE event_chain SET seq = $1, hash = $2 WHERE singleton = 1")
        .bind(head.seq)
        .bind(head.hash.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn stored_from_row(row: &AnyRow) -> Result<StoredEvent> {
    Ok(StoredEvent {
        id: int(row, "id")?,
        seq: opt_int(row, "seq")?,
        prev_hash: opt_text(row, "prev_hash")?,
        hash: opt_text(row, "hash")?,
        at_ms: int(row, "at")?,
        device: opt_text(row, "device_id")?,
        actor: text(row, "actor")?,
        kind: text(row, "kind")?,
        detail: text(row, "detail")?,
        detail_sha256: opt_text(row, "detail_sha256")?,
        redacted: opt_int(row, "redacted_at")?.is_some(),
    })
}

const STORED_COLUMNS: &str =
    "id, seq, prev_hash, hash, at, device_id, actor, kind, detail, detail_sha256, redacted_at";

/// What `corral audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Every entry fits: how many were checked, and the checkpoint they start after.
    Intact { events: u64, after_checkpoint: i64 },
    /// The first entry that does not fit.
    Broken(Break),
}

impl Store {
    /// Seals events written before the chain existed (migration 0008) into it, oldest
    /// first; a no-op once done. Runs when the store opens.
    pub(super) async fn seal_unchained_events(&self) -> Result<()> {
        loop {
            let mut tx = self.begin_write().await?;
            let mut head = lock_head(&mut tx).await?;
            let sql = format!(
                "SELECT {STORED_COLUMNS} FROM events WHERE seq IS NULL ORDER BY id LIMIT {PAGE}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut *tx)
                .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in &rows {
                let event = stored_from_row(row)?;
                let seq = head.seq + 1;
                let hash = audit_chain::hash(&ChainedEvent {
                    seq,
                    prev_hash: &head.hash,
                    at_ms: event.at_ms,
                    device: event.device.as_deref(),
                    actor: &event.actor,
                    kind: &event.kind,
                    detail: &event.detail,
                    detail_sha256: event.detail_sha256.as_deref(),
                });
                sqlx::query("UPDATE events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4")
                    .bind(seq)
                    .bind(head.hash.as_str())
                    .bind(hash.as_str())
                    .bind(event.id)
                    .execute(&mut *tx)
                    .await?;
                head = Head { seq, hash };
            }
            set_head(&mut tx, &head).await?;
            tx.commit().await?;
        }
    }

    /// Walks the whole event log from the latest checkpoint and reports the first entry
    /// that does not fit the chain. Reads only; entries appended while it runs are left
    /// for the next run (it stops at the head it read first).
    pub async fn verify_event_chain(&self) -> Result<ChainVerdict> {
        let head_row = sqlx::query("SELECT seq, hash FROM event_chain WHERE singleton = 1")
            .fetch_one(&self.pool)
            .await?;
        let (head_seq, head_hash) = (int(&head_row, "seq")?, text(&head_row, "hash")?);
        let start =
            match sqlx::query("SELECT seq, hash FROM event_checkpoints ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?
            {
                Some(row) => Start {
                    seq: int(&row, "seq")?,
                    hash: text(&row, "hash")?,
                },
                None => Start::genesis(),
            };
        let after_checkpoint = start.seq;
        if let Some(row) =
            sqlx::query("SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT 1")
                .fetch_optional(&self.pool)
                .await?
        {
            return Ok(ChainVerdict::Broken(Break {
                id: Some(int(&row, "id")?),
                seq: None,
                what: "the entry is not sealed into the chain (no seq or hash)".into(),
            }));
        }
        let mut verifier = Verifier::new(start.clone());
        let mut after = start.seq;
        loop {
            let sql = format!(
                "SELECT {STORED_COLUMNS} FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT {PAGE}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after)
                .bind(head_seq)
                .fetch_all(&self.pool)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let event = stored_from_row(row)?;
                after = event.seq.unwrap_or(after);
                if let Err(found) = verifier.check(&event) {
                    return Ok(ChainVerdict::Broken(found));
                }
            }
        }
        Ok(match verifier.finish(head_seq, &head_hash) {
            Ok(events) => ChainVerdict::Intact {
                events,
                after_checkpoint,
            },
            Err(found) => ChainVerdict::Broken(found),
        })
    }

    /// The retention hook (issue 7): deletes the events up to and including chain
    /// position `through`, after recording a checkpoint (that entry's seq and hash, who,
    /// when, how many) and an `audit.pruned` event, all in one transaction. Verification
    /// then starts from the checkpoint. Returns how many entries were deleted.
    pub async fn prune_events_through(
        &self,
        through: i64,
        actor: &str,
        now: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let head = lock_head(&mut tx).await?;
        if through < 1 || through > head.seq {
            return Err(StoreError::Invalid(format!(
                "cannot prune through seq {through}: the log ends at seq {}",
                head.seq
            )));
        }
        let row = sqlx::query("SELECT hash FROM events WHERE seq = $1")
            .bind(through)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("seq {through} is already pruned")))?;
        let hash = text(&row, "hash")?;
        let count = sqlx::query("SELECT COUNT(*) AS n FROM events WHERE seq <= $1")
            .bind(through)
            .fetch_one(&mut *tx)
            .await?;
        let pruned = int(&count, "n")?;
        sqlx::query(
            "INSERT INTO event_checkpoints (seq, hash, at, actor, pruned) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(through)
        .bind(hash.as_str())
        .bind(ms(now))
        .bind(actor)
        .bind(pruned)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM events WHERE seq <= $1")
            .bind(through)
            .execute(&mut *tx)
            .await?;
        let event = NewEvent {
            device: None,
            actor: actor.to_owned(),
            kind: "audit.pruned".into(),
            detail: serde_json::json!({ "through_seq": through, "hash": hash, "pruned": pruned }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(u64::try_from(pruned).unwrap_or(0))
    }
}
