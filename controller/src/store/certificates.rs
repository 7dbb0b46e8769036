//! Device certificates: what the CA issued (serial, key hash, validity), which device each
//! is bound to, revocation, and the per-connection check the gateway makes.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::devices::device_event;
use super::rows::{ms, one, opt_time, parsed, text, time};
use super::{Result, Store, StoreError, events};
use crate::domain::{CertSerial, CertificateRecord, DeviceId, NewCertificate, Timestamp};

fn certificate_from_row(row: &AnyRow) -> Result<CertificateRecord> {
    Ok(CertificateRecord {
        serial: parsed(row, "serial")?,
        device: parsed(row, "device_id")?,
        key_hash: parsed(row, "key_sha256")?,
        not_before: time(row, "not_before")?,
        not_after: time(row, "not_after")?,
        issued_at: time(row, "issued_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
    })
}

/// Records a certificate and makes it the device's current one.
pub(super) async fn record_in(
    conn: &mut AnyConnection,
    device: &DeviceId,
    cert: &NewCertificate,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO certificates (serial, device_id, key_sha256, not_before, not_after, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(cert.serial.as_str())
    .bind(device.as_str())
    .bind(cert.key_hash.as_str())
    .bind(ms(cert.not_before))
    .bind(ms(cert.not_after))
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query("UPDATE devices SET cert_serial = $2, cert_key_sha256 = $3 WHERE id = $1 AND status = 'active'")
        .bind(device.as_str())
        .bind(cert.serial.as_str())
        .bind(cert.key_hash.as_str())
        .execute(&mut *conn)
        .await?;
    if !one(&done) {
        return Err(StoreError::Forbidden("the device is unknown or revoked"));
    }
    Ok(())
}

impl Store {
    /// Records a renewed certificate for an active device. The previous one stays valid
    /// until it expires, so a renewal never breaks a live connection.
    pub async fn record_certificate(
        &self,
        device: &DeviceId,
        cert: &NewCertificate,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        record_in(&mut tx, device, cert, now).await?;
        let detail = serde_json::json!({ "certificate": cert.serial.as_str(), "not_after": cert.not_after.to_string() });
        events::append_in(
            &mut tx,
            &device_event(device, "device", "certificate.issued", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One certificate's record.
    pub async fn certificate(&self, serial: &CertSerial) -> Result<CertificateRecord> {
        let row = sqlx::query(
            "SELECT serial, device_id, key_sha256, not_before, not_after, issued_at, revoked_at \
             FROM certificates WHERE serial = $1",
        )
        .bind(serial.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("certificate {serial}")))?;
        certificate_from_row(&row)
    }

    /// A device's certificates, oldest first.
    pub async fn certificates_of(&self, device: &DeviceId) -> Result<Vec<CertificateRecord>> {
        let rows = sqlx::query(
            "SELECT serial, device_id, key_sha256, not_before, not_after, issued_at, revoked_at \
             FROM certificates WHERE device_id = $1 ORDER BY issued_at, serial",
        )
        .bind(device.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(certificate_from_row).collect()
    }

    /// The gateway's per-connection check, after TLS verified the chain: the certificate
    /// with this serial was issued to `device`, is within its validity, is not revoked, and
    /// the device is active. [`StoreError::Forbidden`] otherwise.
    pub async fn check_device_certificate(
        &self,
        serial: &CertSerial,
        device: &DeviceId,
        now: Timestamp,
    ) -> Result<()> {
        let row = sqlx::query(
            "SELECT d.status FROM certificates c JOIN devices d ON d.id = c.device_id \
             WHERE c.serial = $1 AND c.device_id = $2 AND c.revoked_at IS NULL \
             AND c.not_before <= $3 AND c.not_after > $3",
        )
        .bind(serial.as_str())
        .bind(device.as_str())
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) if text(&row, "status")? == "active" => Ok(()),
            _ => Err(StoreError::Forbidden(
                "the certificate is unknown, expired or revoked",
            )),
        }
    }

    /// Revokes one certificate (e.g. a lost key) without revoking the device.
    pub async fn revoke_certificate(
        &self,
        serial: &CertSerial,
        reason: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "UPDATE certificates SET revoked_at = $2, revocation_reason = $3 \
             WHERE serial = $1 AND revoked_at IS NULL RETURNING device_id",
        )
        .bind(serial.as_str())
        .bind(ms(now))
        .bind(reason)
        .fetch_all(&mut *tx)
        .await?;
        let Some(row) = rows.first() else {
            drop(tx);
            self.certificate(serial).await?;
            return Ok(());
        };
        let device: DeviceId = parsed(row, "device_id")?;
        let detail = serde_json::json!({ "certificate": serial.as_str(), "reason": reason });
        events::append_in(
            &mut tx,
            &device_event(&device, actor, "certificate.revoked", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
