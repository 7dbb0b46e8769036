//! Devices: the fleet's phones, their group, last-seen time and revocation.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::rows::{ms, one, opt_json, opt_parsed, opt_text, opt_time, parsed, text, time, uint};
use super::{Result, Store, StoreError, events, outbox};
use crate::domain::{
    CertSerial, Device, DeviceId, DeviceStatus, GroupName, NewDevice, NewEvent, Timestamp,
};

macro_rules! device_columns {
    () => {
        "id, name, serial, group_name, status, enrolled_at, last_seen_at, cert_serial, \
         cert_key_sha256, applied_version, observed_state, observed_at, drift, last_report_seq"
    };
}

pub(super) fn device_from_row(row: &AnyRow) -> Result<Device> {
    Ok(Device {
        id: parsed(row, "id")?,
        name: parsed(row, "name")?,
        serial: opt_text(row, "serial")?,
        group: opt_parsed(row, "group_name")?,
        status: DeviceStatus::parse(&text(row, "status")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        enrolled_at: time(row, "enrolled_at")?,
        last_seen_at: opt_time(row, "last_seen_at")?,
        cert_serial: opt_parsed(row, "cert_serial")?,
        cert_key_hash: opt_parsed(row, "cert_key_sha256")?,
        applied_version: opt_parsed(row, "applied_version")?,
        observed_state: opt_json(row, "observed_state")?,
        observed_at: opt_time(row, "observed_at")?,
        drift: opt_json(row, "drift")?,
        last_report_seq: uint(row, "last_report_seq")?,
    })
}

pub(super) async fn insert_device(
    conn: &mut AnyConnection,
    device: &NewDevice,
    group: Option<&GroupName>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO devices (id, name, serial, group_name, status, enrolled_at) \
         VALUES ($1, $2, $3, $4, 'active', $5)",
    )
    .bind(device.id.as_str())
    .bind(device.name.as_str())
    .bind(device.serial.as_deref())
    .bind(group.map(GroupName::as_str))
    .bind(ms(now))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn device_in(conn: &mut AnyConnection, id: &DeviceId) -> Result<Device> {
    let row = sqlx::query(concat!(
        "SELECT ",
        device_columns!(),
        " FROM devices WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("device {id}")))?;
    device_from_row(&row)
}

impl Store {
    /// One device.
    pub async fn device(&self, id: &DeviceId) -> Result<Device> {
        let mut conn = self.pool.acquire().await?;
        device_in(&mut conn, id).await
    }

    /// All devices, oldest enrollment first.
    pub async fn devices(&self) -> Result<Vec<Device>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices ORDER BY enrolled_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_from_row).collect()
    }

    /// Moves a device into a group (or out of any), and queues the profile version that
    /// now applies to it. Returns how many pushes were queued (0 or 1).
    pub async fn set_device_group(
        &self,
        id: &DeviceId,
        group: Option<&GroupName>,
        actor: &str,
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE devices SET group_name = $2 WHERE id = $1")
            .bind(id.as_str())
            .bind(group.map(GroupName::as_str))
            .execute(&mut *tx)
            .await?;
        if !one(&done) {
            return Err(StoreError::NotFound(format!("device {id}")));
        }
        let queued = outbox::queue_current_versions(
            &mut tx,
            outbox::QueueScope::Devices(std::slice::from_ref(id)),
            now,
        )
        .await?
        .len();
        let detail = serde_json::json!({ "group": group.map(GroupName::as_str) });
        events::append_in(
            &mut tx,
            &device_event(id, actor, "device.group_changed", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(queued)
    }

    /// Records that a device was heard from.
    pub async fn touch_device(&self, id: &DeviceId, now: Timestamp) -> Result<()> {
        let done = sqlx::query(
            "UPDATE devices SET last_seen_at = $2 WHERE id = $1 \
             AND (last_seen_at IS NULL OR last_seen_at < $2)",
        )
        .bind(id.as_str())
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            // Either unknown, or already seen at a later time: only the first is an error.
            self.device(id).await?;
        }
        Ok(())
    }

    /// Revokes a device and every certificate it holds. Returns the serials revoked now,
    /// so the gateway can drop their live connections. Revoking twice is a no-op.
    pub async fn revoke_device(
        &self,
        id: &DeviceId,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<CertSerial>> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE devices SET status = 'revoked' WHERE id = $1 AND status = 'active'",
        )
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        if !one(&done) {
            device_in(&mut tx, id).await?;
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "UPDATE certificates SET revoked_at = $2, revocation_reason = $3 \
             WHERE device_id = $1 AND revoked_at IS NULL RETURNING serial",
        )
        .bind(id.as_str())
        .bind(ms(now))
        .bind(reason)
        .fetch_all(&mut *tx)
        .await?;
        let serials = rows
            .iter()
            .map(|r| parsed(r, "serial"))
            .collect::<Result<Vec<CertSerial>>>()?;
        let detail = serde_json::json!({ "reason": reason, "certificates": serials.iter().map(CertSerial::as_str).collect::<Vec<_>>() });
        events::append_in(
            &mut tx,
            &device_event(id, actor, "device.revoked", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(serials)
    }
}

pub(super) fn device_event(
    id: &DeviceId,
    actor: &str,
    kind: &str,
    detail: serde_json::Value,
) -> NewEvent {
    NewEvent {
        device: Some(id.clone()),
        actor: actor.to_owned(),
        kind: kind.to_owned(),
        detail,
    }
}
