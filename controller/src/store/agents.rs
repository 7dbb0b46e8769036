//! Queries for the agent gateway that work on many devices at once, so a fleet-wide push
//! or a reconnect storm costs a few statements per few hundred devices instead of one
//! transaction per device: batched claims of pending pushes, batched "last seen", the
//! batched certificate re-check of live sessions, and command results.
//!
//! The claim is the same conditional UPDATE as [`Store::claim_pushes`] (a lease, re-checked
//! per row), only over a list of devices; profile pushes come back without their text,
//! which the gateway reads once per version.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;

use super::devices::device_event;
use super::rows::{int, ms, one, opt_int, opt_text, parsed, seq, text, uint};
use super::{CHUNK, Lease, Result, Store, StoreError, events, placeholders};
use crate::domain::{
    CertSerial, DeviceId, ProfileName, PushKind, ReportOutcome, Timestamp, VersionHash,
};

/// A push just claimed for sending.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedPush {
    pub device: DeviceId,
    pub seq: u64,
    pub kind: PushKind,
    pub content: PushContent,
}

/// What a claimed push carries.
#[derive(Debug, Clone, PartialEq)]
pub enum PushContent {
    /// A profile version: read its text once with [`Store::profile_version`].
    Profile {
        profile: ProfileName,
        version: VersionHash,
    },
    /// Any other push (e.g. a command): its body.
    Body(String),
}

impl Store {
    /// Claims every pending push of `devices` for `lease`, in one statement per few hundred
    /// devices. Like [`Store::claim_pushes`], a push leased to someone else whose lease has
    /// not run out is skipped. Sorted by device, then `seq`.
    pub async fn claim_pushes_for(
        &self,
        devices: &[DeviceId],
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Vec<ClaimedPush>> {
        let mut claimed = Vec::new();
        for chunk in devices.chunks(CHUNK) {
            let mut tx = self.begin_write().await?;
            let sql = format!(
                "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, last_sent_at = $3 \
                 WHERE device_id IN ({}) AND acked_at IS NULL AND superseded_at IS NULL \
                 AND (lease_until IS NULL OR lease_until <= $3) \
                 RETURNING device_id, seq, kind, delivery_id, body",
                placeholders(4, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(lease.owner.as_str())
                .bind(ms(lease.until))
                .bind(ms(now));
            for device in chunk {
                query = query.bind(device.as_str());
            }
            let rows = query.fetch_all(&mut *tx).await?;
            let mut deliveries = Vec::new();
            let mut pending = Vec::with_capacity(rows.len());
            for row in &rows {
                let delivery = opt_int(row, "delivery_id")?;
                deliveries.extend(delivery);
                pending.push((
                    parsed::<DeviceId>(row, "device_id")?,
                    uint(row, "seq")?,
                    PushKind::parse(&text(row, "kind")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    delivery,
                    opt_text(row, "body")?,
                ));
            }
            let versions = delivery_versions(&mut tx, &deliveries).await?;
            tx.commit().await?;
            for (device, seq, kind, delivery, body) in pending {
                let content = match (delivery, body) {
                    (Some(id), _) => {
                        let (profile, version) = versions.get(&id).cloned().ok_or_else(|| {
                            StoreError::Corrupt(format!("outbox names missing delivery {id}"))
                        })?;
                        PushContent::Profile { profile, version }
                    }
                    (None, body) => PushContent::Body(body.unwrap_or_default()),
                };
                claimed.push(ClaimedPush {
                    device,
                    seq,
                    kind,
                    content,
                });
            }
        }
        claimed.sort_by(|a, b| (&a.device, a.seq).cmp(&(&b.device, b.seq)));
        Ok(claimed)
    }

    /// Records that `sent` pushes (device, seq) went out at `now` under `lease`, as a claim
    /// would have (lease, `attempts + 1`, `last_sent_at`), in one transaction of one
    /// statement per few hundred pushes. For pushes the gateway sent straight from memory after the transaction
    /// that queued them committed: the bookkeeping follows the send instead of preceding
    /// it. Pushes acknowledged, superseded or leased to someone else meanwhile are left
    /// alone. If this never commits (a crash), the pushes are simply still unleased and go
    /// out again on the next connection; the agent ignores a `seq` it has processed.
    pub async fn record_sent(
        &self,
        sent: &[(DeviceId, u64)],
        lease: &Lease,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for chunk in sent.chunks(CHUNK) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 4 + 2 * i, 5 + 2 * i))
                .collect();
            let sql = format!(
                "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, last_sent_at = $3 \
                 WHERE (device_id, seq) IN (VALUES {}) AND acked_at IS NULL AND superseded_at IS NULL \
                 AND (lease_until IS NULL OR lease_until <= $3 OR lease_owner = $1)",
                rows.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql))
                .bind(lease.owner.as_str())
                .bind(ms(lease.until))
                .bind(ms(now));
            for (device, n) in chunk {
                query = query.bind(device.as_str()).bind(seq(*n)?);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Devices with at least one push that could be claimed now (pending and not leased,
    /// or leased with the lease run out): what a periodic sweep hands to
    /// [`Store::claim_pushes_for`].
    pub async fn devices_with_claimable_pushes(&self, now: Timestamp) -> Result<Vec<DeviceId>> {
        let rows = sqlx::query(
            "SELECT DISTINCT device_id FROM outbox WHERE acked_at IS NULL AND superseded_at IS NULL \
             AND (lease_until IS NULL OR lease_until <= $1) ORDER BY device_id",
        )
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| parsed(r, "device_id")).collect()
    }

    /// Records that these devices were heard from at `now` (never moves "last seen" back).
    pub async fn touch_devices(&self, devices: &[DeviceId], now: Timestamp) -> Result<()> {
        for chunk in devices.chunks(CHUNK) {
            let sql = format!(
                "UPDATE devices SET last_seen_at = $1 WHERE id IN ({}) \
                 AND (last_seen_at IS NULL OR last_seen_at < $1)",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
            for device in chunk {
                query = query.bind(device.as_str());
            }
            query.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Of `serials`, those that still pass [`Store::check_device_certificate`] at `now`
    /// (within validity, not revoked, device active): the gateway drops live sessions
    /// whose certificate is missing from the answer.
    pub async fn certificates_in_force(
        &self,
        serials: &[CertSerial],
        now: Timestamp,
    ) -> Result<Vec<CertSerial>> {
        let mut good = Vec::new();
        for chunk in serials.chunks(CHUNK) {
            let sql = format!(
                "SELECT c.serial FROM certificates c JOIN devices d ON d.id = c.device_id \
                 WHERE c.serial IN ({}) AND c.revoked_at IS NULL AND c.not_before <= $1 \
                 AND c.not_after > $1 AND d.status = 'active'",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(ms(now));
            for serial in chunk {
                query = query.bind(serial.as_str());
            }
            for row in query.fetch_all(&self.pool).await? {
                good.push(parsed(&row, "serial")?);
            }
        }
        Ok(good)
    }

    /// Records an agent's command result, exactly once: like [`Store::record_report`] the
    /// agent's `seq` is checked and advanced in the same transaction as the event
    /// (`command.done` or `command.failed`), so a re-send changes nothing.
    pub async fn record_command_result(
        &self,
        device: &DeviceId,
        report_seq: u64,
        command_id: &str,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<ReportOutcome> {
        let mut tx = self.begin_write().await?;
        let outcome =
            record_command_in(&mut tx, device, report_seq, command_id, error, None, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

/// Takes an agent report's `seq` (and "last seen") if it is new for `device`: exactly
/// once per report, in the caller's transaction. `Duplicate` for a seq seen before;
/// `Forbidden` for a revoked device, `NotFound` for an unknown one (nothing written).
pub(super) async fn advance_report_seq(
    conn: &mut sqlx::AnyConnection,
    device: &DeviceId,
    report_seq: u64,
    now: Timestamp,
) -> Result<ReportOutcome> {
    let fresh = sqlx::query(
        "UPDATE devices SET last_report_seq = $2, last_seen_at = $3 \
         WHERE id = $1 AND status = 'active' AND last_report_seq < $2",
    )
    .bind(device.as_str())
    .bind(seq(report_seq)?)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    if one(&fresh) {
        return Ok(ReportOutcome::Recorded);
    }
    let status = sqlx::query("SELECT status FROM devices WHERE id = $1")
        .bind(device.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("device {device}")))?;
    if text(&status, "status")? != "active" {
        return Err(StoreError::Forbidden("the device is revoked"));
    }
    Ok(ReportOutcome::Duplicate)
}

/// The most of a command's output kept in its event (the agent bounds it too; this bound
/// holds whatever an agent sends).
pub const MAX_COMMAND_OUTPUT: usize = 64 * 1024;

/// [`Store::record_command_result`] inside a transaction, with what the command printed
/// for the operator (`collect_logs`), kept in the event's detail, cut at
/// [`MAX_COMMAND_OUTPUT`] bytes on a character boundary. On an error nothing was written.
pub(super) async fn record_command_in(
    tx: &mut sqlx::AnyConnection,
    device: &DeviceId,
    report_seq: u64,
    command_id: &str,
    error: Option<&str>,
    output: Option<&str>,
    now: Timestamp,
) -> Result<ReportOutcome> {
    if advance_report_seq(tx, device, report_seq, now).await? == ReportOutcome::Duplicate {
        return Ok(ReportOutcome::Duplicate);
    }
    let (kind, mut detail) = match error {
        None => ("command.done", serde_json::json!({ "command": command_id })),
        Some(e) => (
            "command.failed",
            serde_json::json!({ "command": command_id, "error": e }),
        ),
    };
    if let (Some(output), serde_json::Value::Object(fields)) = (output, &mut detail) {
        let mut end = output.len().min(MAX_COMMAND_OUTPUT);
        while !output.is_char_boundary(end) {
            end -= 1;
        }
        fields.insert("output".into(), output[..end].into());
        if end < output.len() {
            fields.insert("output_truncated".into(), true.into());
        }
    }
    events::append_in(tx, &device_event(device, "device", kind, detail), now).await?;
    Ok(ReportOutcome::Recorded)
}

/// delivery id → (profile, version) for each of `ids`.
async fn delivery_versions(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, (ProfileName, VersionHash)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, profile_name, version FROM deliveries WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    query
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            Ok((
                int(row, "id")?,
                (parsed(row, "profile_name")?, parsed(row, "version")?),
            ))
        })
        .collect()
}
