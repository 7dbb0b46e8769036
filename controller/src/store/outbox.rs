//! The durable outbox of pushes to each device, the deliveries of profile versions they
//! carry, and the agent's acknowledgements of them.
//!
//! At-most-once, never-lost: a push is a row before anything is sent; it is re-sent until
//! the agent acknowledges its `seq`; a claim is a lease (`lease_owner`, `lease_until`) taken
//! by one conditional UPDATE, so two gateways never send the same push at once and a
//! crashed one's lease simply runs out. (Reports, the other direction, are in `reports`.)

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::rows::{int, ms, opt_parsed, opt_text, opt_time, parsed, seq, text, time, uint};
use super::{Result, Store, StoreError};
use crate::domain::{Delivery, DeviceId, NewEvent, Push, PushKind, Timestamp};

/// A claim on a device's pending pushes: who holds it and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Unique per gateway connection, e.g. `gw-<pid>-<connection number>`.
    pub owner: String,
    /// After this the pushes may be claimed again (and so re-sent).
    pub until: Timestamp,
}

/// What acknowledging a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// First acknowledgement: recorded.
    Acked,
    /// Acknowledged before: nothing changed.
    AlreadyAcked,
}

macro_rules! push_columns {
    () => {
        "o.device_id, o.seq, o.kind, o.body, d.version, o.created_at, o.attempts, o.acked_at"
    };
}

fn push_from_row(row: &AnyRow) -> Result<Push> {
    Ok(Push {
        device: parsed(row, "device_id")?,
        seq: uint(row, "seq")?,
        kind: PushKind::parse(&text(row, "kind")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        body: text(row, "body")?,
        version: opt_parsed(row, "version")?,
        created_at: time(row, "created_at")?,
        attempts: u32::try_from(int(row, "attempts")?).unwrap_or(u32::MAX),
        acked_at: opt_time(row, "acked_at")?,
    })
}

fn delivery_from_row(row: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: int(row, "id")?,
        device: parsed(row, "device_id")?,
        profile: parsed(row, "profile_name")?,
        version: parsed(row, "version")?,
        assigned_at: time(row, "assigned_at")?,
        delivered_at: opt_time(row, "delivered_at")?,
        applied_at: opt_time(row, "applied_at")?,
        failed_at: opt_time(row, "failed_at")?,
        error: opt_text(row, "error")?,
    })
}

/// Appends a push to a device's outbox with the next `seq`. The seq counter is bumped
/// first, so on SQLite and PostgreSQL alike concurrent enqueuers serialise on that row.
pub(super) async fn enqueue_in(
    conn: &mut AnyConnection,
    device: &DeviceId,
    kind: &PushKind,
    body: &str,
    delivery_id: Option<i64>,
    now: Timestamp,
) -> Result<u64> {
    let row = sqlx::query("UPDATE devices SET last_push_seq = last_push_seq + 1 WHERE id = $1 RETURNING last_push_seq")
        .bind(device.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("device {device}")))?;
    let next = int(&row, "last_push_seq")?;
    sqlx::query(
        "INSERT INTO outbox (device_id, seq, kind, body, delivery_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(device.as_str())
    .bind(next)
    .bind(kind.as_str())
    .bind(body)
    .bind(delivery_id)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(u64::try_from(next).unwrap_or(0))
}

/// Queues the profile version that currently applies to `device` (its own assignment, else
/// its group's), unless that version is already the device's latest delivery. Older
/// unacknowledged profile pushes are superseded: the agent only needs the newest.
/// Returns whether a push was queued.
pub(super) async fn queue_current_version(
    conn: &mut AnyConnection,
    device: &DeviceId,
    now: Timestamp,
) -> Result<bool> {
    let target = sqlx::query(
        "SELECT p.name AS profile_name, p.current_version AS version, v.canonical_toml \
         FROM devices d \
         LEFT JOIN assignments da ON da.device_id = d.id \
         LEFT JOIN assignments ga ON ga.group_name = d.group_name \
         JOIN profiles p ON p.name = COALESCE(da.profile_name, ga.profile_name) \
         JOIN profile_versions v ON v.profile_name = p.name AND v.version = p.current_version \
         WHERE d.id = $1 AND d.status = 'active'",
    )
    .bind(device.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(target) = target else {
        return Ok(false);
    };
    let (profile, version) = (text(&target, "profile_name")?, text(&target, "version")?);
    let latest =
        sqlx::query("SELECT version FROM deliveries WHERE device_id = $1 ORDER BY id DESC LIMIT 1")
            .bind(device.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(latest) = latest
        && text(&latest, "version")? == version
    {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE outbox SET superseded_at = $2 WHERE device_id = $1 AND kind = 'profile' \
         AND acked_at IS NULL AND superseded_at IS NULL",
    )
    .bind(device.as_str())
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    let delivery = sqlx::query(
        "INSERT INTO deliveries (device_id, profile_name, version, assigned_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(device.as_str())
    .bind(profile.as_str())
    .bind(version.as_str())
    .bind(ms(now))
    .fetch_one(&mut *conn)
    .await?;
    let body = text(&target, "canonical_toml")?;
    enqueue_in(
        conn,
        device,
        &PushKind::profile(),
        &body,
        Some(int(&delivery, "id")?),
        now,
    )
    .await?;
    Ok(true)
}

impl Store {
    /// Queues a push of any kind (e.g. a command) for a device.
    pub async fn enqueue_push(
        &self,
        device: &DeviceId,
        kind: &PushKind,
        body: &str,
        now: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let seq = enqueue_in(&mut tx, device, kind, body, None, now).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Queues a push and appends `event` (its detail gains the push's `seq`) in one
    /// transaction: for pushes someone asked for, e.g. a command from the REST API.
    pub async fn enqueue_audited_push(
        &self,
        device: &DeviceId,
        kind: &PushKind,
        body: &str,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let seq = enqueue_in(&mut tx, device, kind, body, None, now).await?;
        let mut event = event.clone();
        if let serde_json::Value::Object(detail) = &mut event.detail {
            detail.insert("seq".into(), seq.into());
        }
        super::events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Claims up to `limit` of a device's pending pushes, in `seq` order, for `lease`.
    /// Pushes leased to someone else whose lease has not run out are skipped; so are
    /// acknowledged and superseded ones. Each claim is one conditional UPDATE, so of two
    /// concurrent claimers exactly one gets each push.
    pub async fn claim_pushes(
        &self,
        device: &DeviceId,
        lease: &Lease,
        limit: u32,
        now: Timestamp,
    ) -> Result<Vec<Push>> {
        let mut tx = self.begin_write().await?;
        let candidates = sqlx::query(
            "SELECT seq FROM outbox WHERE device_id = $1 AND acked_at IS NULL AND superseded_at IS NULL \
             AND (lease_until IS NULL OR lease_until <= $2) ORDER BY seq LIMIT $3",
        )
        .bind(device.as_str())
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let mut claimed = Vec::new();
        for candidate in &candidates {
            let n = int(candidate, "seq")?;
            let row = sqlx::query(
                "UPDATE outbox SET lease_owner = $3, lease_until = $4, attempts = attempts + 1, last_sent_at = $5 \
                 WHERE device_id = $1 AND seq = $2 AND acked_at IS NULL AND superseded_at IS NULL \
                 AND (lease_until IS NULL OR lease_until <= $5) RETURNING seq",
            )
            .bind(device.as_str())
            .bind(n)
            .bind(lease.owner.as_str())
            .bind(ms(lease.until))
            .bind(ms(now))
            .fetch_all(&mut *tx)
            .await?;
            if !row.is_empty() {
                claimed.push(n);
            }
        }
        let mut pushes = Vec::with_capacity(claimed.len());
        for n in claimed {
            let row = sqlx::query(concat!(
                "SELECT ",
                push_columns!(),
                " FROM outbox o LEFT JOIN deliveries d ON d.id = o.delivery_id WHERE o.device_id = $1 AND o.seq = $2"
            ))
            .bind(device.as_str())
            .bind(n)
            .fetch_one(&mut *tx)
            .await?;
            pushes.push(push_from_row(&row)?);
        }
        tx.commit().await?;
        Ok(pushes)
    }

    /// Gives back a lease early (the connection closed), so the pushes go out again on the
    /// next connection instead of after the lease runs out.
    pub async fn release_pushes(&self, device: &DeviceId, owner: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE outbox SET lease_owner = NULL, lease_until = NULL \
             WHERE device_id = $1 AND lease_owner = $2 AND acked_at IS NULL",
        )
        .bind(device.as_str())
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the agent's acknowledgement of push `seq`; marks its delivery delivered.
    pub async fn ack_push(
        &self,
        device: &DeviceId,
        push_seq: u64,
        now: Timestamp,
    ) -> Result<AckOutcome> {
        let mut tx = self.begin_write().await?;
        let acked = sqlx::query(
            "UPDATE outbox SET acked_at = $3 WHERE device_id = $1 AND seq = $2 AND acked_at IS NULL \
             RETURNING delivery_id",
        )
        .bind(device.as_str())
        .bind(seq(push_seq)?)
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        let Some(row) = acked.first() else {
            let known =
                sqlx::query("SELECT 1 AS found FROM outbox WHERE device_id = $1 AND seq = $2")
                    .bind(device.as_str())
                    .bind(seq(push_seq)?)
                    .fetch_optional(&mut *tx)
                    .await?;
            return match known {
                Some(_) => Ok(AckOutcome::AlreadyAcked),
                None => Err(StoreError::NotFound(format!(
                    "push {push_seq} of device {device}"
                ))),
            };
        };
        if let Some(delivery) = super::rows::opt_int(row, "delivery_id")? {
            sqlx::query(
                "UPDATE deliveries SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL",
            )
            .bind(delivery)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(AckOutcome::Acked)
    }

    /// A device's pushes not yet acknowledged nor superseded, oldest first.
    pub async fn pending_pushes(&self, device: &DeviceId) -> Result<Vec<Push>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            push_columns!(),
            " FROM outbox o LEFT JOIN deliveries d ON d.id = o.delivery_id \
             WHERE o.device_id = $1 AND o.acked_at IS NULL AND o.superseded_at IS NULL ORDER BY o.seq"
        ))
        .bind(device.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(push_from_row).collect()
    }

    /// A device's deliveries, oldest first.
    pub async fn deliveries(&self, device: &DeviceId) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT id, device_id, profile_name, version, assigned_at, delivered_at, applied_at, failed_at, error \
             FROM deliveries WHERE device_id = $1 ORDER BY id",
        )
        .bind(device.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}
