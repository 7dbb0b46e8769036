//! Each phone's contact allow-list as pushes: queueing a new list (kind `contacts`,
//! through the same durable outbox as profiles and commands), the agent's confirmation,
//! and erasures with their per-phone receipts.
//!
//! Owns: `device_allow_lists`, `erasures`, `erasure_receipts`, and the bodies of
//! `contacts` pushes. A new list supersedes the device's unsent older one, and the bodies
//! of every older `contacts` push of the device are blanked in the same transaction, so
//! a person who left a list (or was erased) stays in no stored push; an erasure also
//! blanks (and withdraws, if unsent) every other stored list that still names the person.
//! Must never: decide what a list holds (the `allow_lists` module resolves it), or keep a
//! name or number in an erasure record.

use serde_json::json;
use sqlx::AnyConnection;

use super::contacts::contact_in;
use super::devices::device_event;
use super::outbox::enqueue_in;
use super::rows::{ms, opt_text, opt_time, parsed, seq, text, time, uint};
use super::{Result, Store, StoreError, events};
use crate::domain::{
    ContactId, DeviceId, NewEvent, PushKind, ReportOutcome, Timestamp, VersionHash,
};

/// The push kind of allow-lists; the body is the list as JSON (`allow_lists::ContactsBody`).
pub const CONTACTS_KIND: &str = "contacts";

/// One device's allow-list, ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowListPush {
    pub device: DeviceId,
    /// `sha256:<16 hex>` of the list.
    pub version: String,
    /// The push body (JSON).
    pub body: String,
}

/// A list just queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedAllowList {
    pub device: DeviceId,
    pub seq: u64,
}

/// An active device with the canonical text of the profile version it is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProfileText {
    pub device: DeviceId,
    pub serial: Option<String>,
    pub version: VersionHash,
    pub text: String,
}

/// Why a person was taken off every phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureReason {
    /// Art. 17: the person (or the shop) asked for erasure.
    Erasure,
    /// Art. 7(3): the person withdrew consent (opt-out).
    Withdrawal,
}

impl ErasureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureReason::Erasure => "erasure",
            ErasureReason::Withdrawal => "withdrawal",
        }
    }
}

/// One phone's part in an erasure: the push that removes the person and when the phone's
/// agent confirmed its work profile no longer holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReceipt {
    pub device: DeviceId,
    pub device_name: String,
    pub push_seq: u64,
    pub confirmed_at: Option<Timestamp>,
}

/// An erasure and its proof per phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRecord {
    pub id: String,
    pub pseudonym: String,
    pub reason: String,
    pub erased_at: Timestamp,
    pub actor: String,
    pub receipts: Vec<ErasureReceipt>,
}

/// A device's allow-list state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceAllowList {
    pub version: String,
    pub push_seq: u64,
    pub queued_at: Timestamp,
    pub applied_version: Option<String>,
    pub applied_at: Option<Timestamp>,
    pub error: Option<String>,
}

fn contacts_kind() -> Result<PushKind> {
    PushKind::parse(CONTACTS_KIND).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Queues `list` unless it is the device's current one; returns the new push's seq.
async fn queue_in(
    conn: &mut AnyConnection,
    list: &AllowListPush,
    now: Timestamp,
) -> Result<Option<u64>> {
    let current = sqlx::query("SELECT version FROM device_allow_lists WHERE device_id = $1")
        .bind(list.device.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = current
        && text(&row, "version")? == list.version
    {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE outbox SET superseded_at = $2 WHERE device_id = $1 AND kind = 'contacts' \
         AND acked_at IS NULL AND superseded_at IS NULL",
    )
    .bind(list.device.as_str())
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    let seq_no = enqueue_in(conn, &list.device, &contacts_kind()?, &list.body, now).await?;
    // Older lists are never needed again; keep no copy of who was on them.
    sqlx::query(
        "UPDATE outbox SET body = '{}' WHERE device_id = $1 AND kind = 'contacts' AND seq < $2",
    )
    .bind(list.device.as_str())
    .bind(seq(seq_no)?)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO device_allow_lists (device_id, version, push_seq, queued_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (device_id) DO UPDATE SET \
         version = excluded.version, push_seq = excluded.push_seq, queued_at = excluded.queued_at",
    )
    .bind(list.device.as_str())
    .bind(list.version.as_str())
    .bind(seq(seq_no)?)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(Some(seq_no))
}

/// Records an agent's `contacts_result` exactly once (its report `seq`): the list applied
/// (and every erasure receipt of the device up to that push confirmed), or failed.
pub(super) async fn contacts_result_in(
    conn: &mut AnyConnection,
    device: &DeviceId,
    report_seq: u64,
    push_seq: u64,
    version: &str,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    if super::agents::advance_report_seq(conn, device, report_seq, now).await?
        == ReportOutcome::Duplicate
    {
        return Ok(());
    }
    let (kind, detail) = match error {
        None => {
            sqlx::query(
                "UPDATE device_allow_lists SET applied_version = $2, applied_push_seq = $3, \
                 applied_at = $4, failed_at = NULL, error = NULL WHERE device_id = $1 \
                 AND (applied_push_seq IS NULL OR applied_push_seq <= $3)",
            )
            .bind(device.as_str())
            .bind(version)
            .bind(seq(push_seq)?)
            .bind(ms(now))
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE erasure_receipts SET confirmed_at = $3 WHERE device_id = $1 \
                 AND push_seq <= $2 AND confirmed_at IS NULL",
            )
            .bind(device.as_str())
            .bind(seq(push_seq)?)
            .bind(ms(now))
            .execute(&mut *conn)
            .await?;
            (
                "contacts.applied",
                json!({ "version": version, "push_seq": push_seq }),
            )
        }
        Some(e) => {
            sqlx::query(
                "UPDATE device_allow_lists SET failed_at = $2, error = $3 WHERE device_id = $1",
            )
            .bind(device.as_str())
            .bind(ms(now))
            .bind(e)
            .execute(&mut *conn)
            .await?;
            (
                "contacts.apply_failed",
                json!({ "version": version, "push_seq": push_seq, "error": e }),
            )
        }
    };
    events::append_in(conn, &device_event(device, "device", kind, detail), now).await?;
    Ok(())
}

fn random_id() -> String {
    ContactId::generate().as_str().to_owned()
}

impl Store {
    /// Every active device with the canonical text of its current profile version (its own
    /// assignment, else its group's); devices without a profile are left out.
    pub async fn device_profile_texts(&self) -> Result<Vec<DeviceProfileText>> {
        let rows = sqlx::query(
            "SELECT d.id, d.serial, p.current_version AS version, v.canonical_toml FROM devices d \
             LEFT JOIN assignments da ON da.device_id = d.id \
             LEFT JOIN assignments ga ON ga.group_name = d.group_name \
             JOIN profiles p ON p.name = COALESCE(da.profile_name, ga.profile_name) \
             JOIN profile_versions v ON v.profile_name = p.name AND v.version = p.current_version \
             WHERE d.status = 'active' ORDER BY d.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeviceProfileText {
                    device: parsed(row, "id")?,
                    serial: opt_text(row, "serial")?,
                    version: parsed(row, "version")?,
                    text: text(row, "canonical_toml")?,
                })
            })
            .collect()
    }

    /// Queues each list that differs from its device's current one, in one transaction.
    pub async fn queue_allow_lists(
        &self,
        lists: &[AllowListPush],
        now: Timestamp,
    ) -> Result<Vec<QueuedAllowList>> {
        let mut tx = self.begin_write().await?;
        let mut queued = Vec::new();
        for list in lists {
            if let Some(seq) = queue_in(&mut tx, list, now).await? {
                queued.push(QueuedAllowList {
                    device: list.device.clone(),
                    seq,
                });
            }
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Takes a person off every phone and out of the book, in one transaction: the contact
    /// row and memberships are deleted, `lists` (the allow-lists without them) are queued,
    /// and an erasure record keeps only the pseudonym plus one receipt per phone whose list
    /// changed, to be confirmed by its agent.
    pub async fn erase_contact_everywhere(
        &self,
        id: &ContactId,
        reason: ErasureReason,
        lists: &[AllowListPush],
        actor: &str,
        now: Timestamp,
    ) -> Result<(ErasureRecord, Vec<QueuedAllowList>)> {
        let mut tx = self.begin_write().await?;
        let contact = contact_in(&mut tx, id).await?;
        sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let erasure = random_id();
        sqlx::query(
            "INSERT INTO erasures (id, pseudonym, reason, erased_at, actor) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(erasure.as_str())
        .bind(contact.pseudonym.as_str())
        .bind(reason.as_str())
        .bind(ms(now))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        let mut queued = Vec::new();
        for list in lists {
            if let Some(seq_no) = queue_in(&mut tx, list, now).await? {
                sqlx::query(
                    "INSERT INTO erasure_receipts (erasure_id, device_id, push_seq) VALUES ($1, $2, $3)",
                )
                .bind(erasure.as_str())
                .bind(list.device.as_str())
                .bind(seq(seq_no)?)
                .execute(&mut *tx)
                .await?;
                queued.push(QueuedAllowList {
                    device: list.device.clone(),
                    seq: seq_no,
                });
            }
        }
        // Lists not replaced above (a revoked phone, one without a profile now) may still
        // name the person in a stored push, sent or not: blank those too, and never send
        // them.
        sqlx::query(
            "UPDATE outbox SET body = '{}', superseded_at = CASE WHEN acked_at IS NULL \
             AND superseded_at IS NULL THEN $2 ELSE superseded_at END \
             WHERE kind = 'contacts' AND body LIKE $1",
        )
        .bind(format!("%\"{}\"%", id.as_str()))
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let detail = json!({
            "contact": contact.pseudonym.as_str(),
            "reason": reason.as_str(),
            "erasure": erasure,
            "phones": queued.len(),
        });
        let event = NewEvent {
            device: None,
            actor: actor.to_owned(),
            kind: "contact.erased".to_owned(),
            detail,
        };
        events::append_in(&mut tx, &event, now).await?;
        let record = erasure_in(&mut tx, &erasure).await?;
        tx.commit().await?;
        Ok((record, queued))
    }

    /// One erasure with its receipts.
    pub async fn erasure(&self, id: &str) -> Result<ErasureRecord> {
        let mut conn = self.pool.acquire().await?;
        erasure_in(&mut conn, id).await
    }

    /// Every erasure, newest first, with receipts.
    pub async fn erasures(&self) -> Result<Vec<ErasureRecord>> {
        let mut conn = self.pool.acquire().await?;
        let ids = sqlx::query("SELECT id FROM erasures ORDER BY erased_at DESC, id")
            .fetch_all(&mut *conn)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for row in &ids {
            out.push(erasure_in(&mut conn, &text(row, "id")?).await?);
        }
        Ok(out)
    }

    /// A device's allow-list state, if one was ever queued.
    pub async fn device_allow_list(&self, device: &DeviceId) -> Result<Option<DeviceAllowList>> {
        let row = sqlx::query(
            "SELECT version, push_seq, queued_at, applied_version, applied_at, error \
             FROM device_allow_lists WHERE device_id = $1",
        )
        .bind(device.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(DeviceAllowList {
                version: text(&row, "version")?,
                push_seq: uint(&row, "push_seq")?,
                queued_at: time(&row, "queued_at")?,
                applied_version: opt_text(&row, "applied_version")?,
                applied_at: opt_time(&row, "applied_at")?,
                error: opt_text(&row, "error")?,
            })
        })
        .transpose()
    }
}

async fn erasure_in(conn: &mut AnyConnection, id: &str) -> Result<ErasureRecord> {
    let row =
        sqlx::query("SELECT id, pseudonym, reason, erased_at, actor FROM erasures WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("erasure {id}")))?;
    let receipts = sqlx::query(
        "SELECT r.device_id, d.name, r.push_seq, r.confirmed_at FROM erasure_receipts r \
         JOIN devices d ON d.id = r.device_id WHERE r.erasure_id = $1 ORDER BY d.name, r.device_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ErasureRecord {
        id: text(&row, "id")?,
        pseudonym: text(&row, "pseudonym")?,
        reason: text(&row, "reason")?,
        erased_at: time(&row, "erased_at")?,
        actor: text(&row, "actor")?,
        receipts: receipts
            .iter()
            .map(|r| {
                Ok(ErasureReceipt {
                    device: parsed(r, "device_id")?,
                    device_name: text(r, "name")?,
                    push_seq: uint(r, "push_seq")?,
                    confirmed_at: opt_time(r, "confirmed_at")?,
                })
            })
            .collect::<Result<_>>()?,
    })
}
