//! The durable outbox of pushes to each device, the deliveries of profile versions they
//! carry, and the agent's acknowledgements of them.
//!
//! At-most-once, never-lost: a push is a row before anything is sent; it is re-sent until
//! the agent acknowledges its `seq`; a claim is a lease (`lease_owner`, `lease_until`) taken
//! by one conditional UPDATE, so two gateways never send the same push at once and a
//! crashed one's lease simply runs out. (Reports, the other direction, are in `reports`.)

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::rows::{int, ms, opt_parsed, opt_text, opt_time, parsed, seq, text, time, uint};
use super::{CHUNK, Result, Store, StoreError, bind_all, placeholders};
use crate::domain::{
    Delivery, DeviceId, GroupName, NewEvent, ProfileName, Push, PushKind, Timestamp, VersionHash,
};

/// A claim on a device's pending pushes: who holds it and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Unique per gateway connection, e.g. `gw-<pid>-<connection number>`.
    pub owner: String,
    /// After this the pushes may be claimed again (and so re-sent).
    pub until: Timestamp,
}

/// A push a transaction just queued, with what the gateway needs to send it at once
/// after the commit (see [`Publication::queued`](super::Publication)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPush {
    pub device: DeviceId,
    pub seq: u64,
    pub profile: ProfileName,
    pub version: VersionHash,
}

/// What acknowledging a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// First acknowledgement: recorded.
    Acked,
    /// Acknowledged before: nothing changed.
    AlreadyAcked,
}

/// A push with its content: a profile push's text is read from `profile_versions` (stored
/// once per version, not per device), any other push's from its own `body`.
macro_rules! push_columns {
    () => {
        "o.device_id, o.seq, o.kind, COALESCE(o.body, v.canonical_toml) AS body, d.version, \
         o.created_at, o.attempts, o.acked_at"
    };
}

/// The joins [`push_columns`] reads from.
macro_rules! push_tables {
    () => {
        "outbox o LEFT JOIN deliveries d ON d.id = o.delivery_id \
         LEFT JOIN profile_versions v ON v.profile_name = d.profile_name AND v.version = d.version"
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

/// Appends a push (not a profile push: those come from [`queue_current_versions`]) to a
/// device's outbox with the next `seq`. The seq counter is bumped first, so on SQLite and
/// PostgreSQL alike concurrent enqueuers serialise on that row.
pub(super) async fn enqueue_in(
    conn: &mut AnyConnection,
    device: &DeviceId,
    kind: &PushKind,
    body: &str,
    now: Timestamp,
) -> Result<u64> {
    let row = sqlx::query("UPDATE devices SET last_push_seq = last_push_seq + 1 WHERE id = $1 RETURNING last_push_seq")
        .bind(device.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("device {device}")))?;
    let next = int(&row, "last_push_seq")?;
    sqlx::query(
        "INSERT INTO outbox (device_id, seq, kind, body, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(device.as_str())
    .bind(next)
    .bind(kind.as_str())
    .bind(body)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(u64::try_from(next).unwrap_or(0))
}

/// Which devices a [`queue_current_versions`] looks at.
#[derive(Debug, Clone, Copy)]
pub(super) enum QueueScope<'a> {
    /// These devices (an enrollment, an assignment to one device).
    Devices(&'a [DeviceId]),
    /// Every device of a group (an assignment to the group).
    Group(&'a GroupName),
    /// Every device the profile applies to (a publish).
    Profile(&'a ProfileName),
}

/// The devices whose current profile version (their own assignment's, else their
/// group's; a staged rollout's version for the rollout's group, see
/// [`super::rollouts::version_for_device`]) differs from their latest delivery's, with
/// that version: one row per device due a profile push. Callers append a scope condition.
const DUE_DEVICES: &str = concat!(
    "SELECT d.id, p.name, ",
    super::rollouts::version_for_device!(),
    " AS version FROM devices d \
     LEFT JOIN assignments da ON da.device_id = d.id \
     LEFT JOIN assignments ga ON ga.group_name = d.group_name \
     JOIN profiles p ON p.name = COALESCE(da.profile_name, ga.profile_name) \
     LEFT JOIN deliveries l ON l.id = (SELECT MAX(id) FROM deliveries WHERE device_id = d.id) \
     WHERE d.status = 'active' AND (l.version IS NULL OR l.version <> ",
    super::rollouts::version_for_device!(),
    ")"
);

/// Makes the rest of the transaction the only one changing assignments or queueing
/// profile versions. SQLite's write transactions are exclusive already; on PostgreSQL a
/// transaction-scoped advisory lock does it, so two assignments of one target cannot
/// both delete-then-insert, and "the deliveries with an id above the highest one before"
/// is exactly what this transaction inserted. Taking it twice in one transaction is fine.
pub(super) async fn lock_queueing(conn: &mut AnyConnection) -> Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        // An arbitrary constant naming corral's delivery queueing.
        sqlx::query("SELECT 1 AS locked FROM pg_advisory_xact_lock(4281553015)")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Queues, for each device in `scope`, the profile version that currently applies to it
/// (its own assignment, else its group's), unless that version is already the device's
/// latest delivery. Older unacknowledged profile pushes are superseded: the agent only
/// needs the newest. The outbox row references its delivery, which references the
/// version's text; nothing is copied per device.
///
/// Set-based: the due deliveries are inserted by `INSERT … SELECT` (one statement for a
/// whole profile or group, one per [`CHUNK`] listed devices), then three statements
/// supersede, count and queue for "the deliveries this transaction inserted", whatever
/// their number; only the queued `(device, seq)` pairs cross to the caller. Publishing to
/// 10,000 devices is six statements. Returns the pushes queued, by device.
pub(super) async fn queue_current_versions(
    conn: &mut AnyConnection,
    scope: QueueScope<'_>,
    now: Timestamp,
) -> Result<Vec<QueuedPush>> {
    lock_queueing(conn).await?;
    let before = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM deliveries")
        .fetch_one(&mut *conn)
        .await?;
    let before = int(&before, "id")?;
    let insert = |condition: &str| {
        AssertSqlSafe(format!(
            "INSERT INTO deliveries (device_id, profile_name, version, assigned_at) \
             SELECT due.id, due.name, due.version, $1 FROM ({DUE_DEVICES} AND {condition}) due"
        ))
    };
    match scope {
        QueueScope::Profile(profile) => {
            sqlx::query(insert("p.name = $2"))
                .bind(ms(now))
                .bind(profile.as_str())
                .execute(&mut *conn)
                .await?;
        }
        QueueScope::Group(group) => {
            sqlx::query(insert("d.group_name = $2"))
                .bind(ms(now))
                .bind(group.as_str())
                .execute(&mut *conn)
                .await?;
        }
        QueueScope::Devices(devices) => {
            for chunk in devices.chunks(CHUNK) {
                let condition = format!("d.id IN ({})", placeholders(2, chunk.len()));
                bind_all(sqlx::query(insert(&condition)).bind(ms(now)), chunk)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    // Everything below works on "the deliveries inserted above": id > before.
    sqlx::query(
        "UPDATE outbox SET superseded_at = $1 WHERE kind = 'profile' AND acked_at IS NULL \
         AND superseded_at IS NULL AND device_id IN (SELECT device_id FROM deliveries WHERE id > $2)",
    )
    .bind(ms(now))
    .bind(before)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE devices SET last_push_seq = last_push_seq + 1 \
         WHERE id IN (SELECT device_id FROM deliveries WHERE id > $1)",
    )
    .bind(before)
    .execute(&mut *conn)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO outbox (device_id, seq, kind, delivery_id, created_at) \
         SELECT d.id, d.last_push_seq, 'profile', l.id, $1 FROM deliveries l \
         JOIN devices d ON d.id = l.device_id WHERE l.id > $2 \
         RETURNING device_id, seq, delivery_id",
    )
    .bind(ms(now))
    .bind(before)
    .fetch_all(&mut *conn)
    .await?;
    if inserted.is_empty() {
        return Ok(Vec::new());
    }
    // Which version each new delivery carries. A publish has one (profile, version) for
    // all; only a mixed scope reads the pair per delivery.
    let pairs = sqlx::query("SELECT DISTINCT profile_name, version FROM deliveries WHERE id > $1")
        .bind(before)
        .fetch_all(&mut *conn)
        .await?;
    let uniform = match pairs.as_slice() {
        [only] => Some((parsed(only, "profile_name")?, parsed(only, "version")?)),
        _ => None,
    };
    let mut of_delivery: HashMap<i64, (ProfileName, VersionHash)> = HashMap::new();
    if uniform.is_none() {
        let rows = sqlx::query("SELECT id, profile_name, version FROM deliveries WHERE id > $1")
            .bind(before)
            .fetch_all(&mut *conn)
            .await?;
        for row in &rows {
            of_delivery.insert(
                int(row, "id")?,
                (parsed(row, "profile_name")?, parsed(row, "version")?),
            );
        }
    }
    let mut queued = Vec::with_capacity(inserted.len());
    for row in &inserted {
        let delivery = int(row, "delivery_id")?;
        let (profile, version) = match &uniform {
            Some(pair) => pair.clone(),
            None => of_delivery.get(&delivery).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!("queued a push for unknown delivery {delivery}"))
            })?,
        };
        queued.push(QueuedPush {
            device: parsed(row, "device_id")?,
            seq: uint(row, "seq")?,
            profile,
            version,
        });
    }
    queued.sort_by(|a, b| a.device.cmp(&b.device));
    Ok(queued)
}

/// [`Store::ack_push`] inside a transaction. On `NotFound` nothing was written.
pub(super) async fn ack_in(
    conn: &mut AnyConnection,
    device: &DeviceId,
    push_seq: u64,
    now: Timestamp,
) -> Result<AckOutcome> {
    let acked = sqlx::query(
        "UPDATE outbox SET acked_at = $3 WHERE device_id = $1 AND seq = $2 AND acked_at IS NULL \
         RETURNING delivery_id",
    )
    .bind(device.as_str())
    .bind(seq(push_seq)?)
    .bind(ms(now))
    .fetch_all(&mut *conn)
    .await?;
    let Some(row) = acked.first() else {
        let known = sqlx::query("SELECT 1 AS found FROM outbox WHERE device_id = $1 AND seq = $2")
            .bind(device.as_str())
            .bind(seq(push_seq)?)
            .fetch_optional(&mut *conn)
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
        .execute(&mut *conn)
        .await?;
    }
    Ok(AckOutcome::Acked)
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
        let seq = enqueue_in(&mut tx, device, kind, body, now).await?;
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
        let seq = enqueue_in(&mut tx, device, kind, body, now).await?;
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
                " FROM ",
                push_tables!(),
                " WHERE o.device_id = $1 AND o.seq = $2"
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
        let outcome = ack_in(&mut tx, device, push_seq, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// A device's pushes not yet acknowledged nor superseded, oldest first.
    pub async fn pending_pushes(&self, device: &DeviceId) -> Result<Vec<Push>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            push_columns!(),
            " FROM ",
            push_tables!(),
            " WHERE o.device_id = $1 AND o.acked_at IS NULL AND o.superseded_at IS NULL ORDER BY o.seq"
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
