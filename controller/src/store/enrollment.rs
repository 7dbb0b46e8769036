//! Enrollment tokens and enrollment itself: a token is redeemed by ONE conditional UPDATE
//! (`… WHERE prefix = $1 AND secret matches AND used_at IS NULL AND revoked_at IS NULL AND
//! expires_at > now`), so of any number of concurrent redemptions exactly one succeeds, on
//! SQLite and PostgreSQL alike (Headscale's fix for its double-redemption race).

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::devices::{device_event, device_in, insert_device};
use super::rows::{ms, opt_parsed, opt_text, opt_time, time};
use super::{Result, Store, StoreError, events, outbox, profiles};
use crate::domain::{
    AssignmentTarget, Device, DeviceId, EnrollmentBinding, EnrollmentToken, EnrollmentTokenSecret,
    GroupName, NewCertificate, NewDevice, ProfileName, Timestamp, TokenPrefix,
};

/// The one message for every way a token can be unusable: unknown, wrong secret, used,
/// revoked or expired look the same from outside.
const NOT_REDEEMABLE: &str = "the enrollment token is unknown, used, revoked or expired";

fn binding_from_row(row: &AnyRow) -> Result<EnrollmentBinding> {
    let profile: Option<ProfileName> = opt_parsed(row, "profile_name")?;
    let group: Option<GroupName> = opt_parsed(row, "group_name")?;
    match (profile, group) {
        (Some(p), None) => Ok(EnrollmentBinding::Profile(p)),
        (None, Some(g)) => Ok(EnrollmentBinding::Group(g)),
        _ => Err(StoreError::Corrupt(
            "enrollment token without exactly one binding".into(),
        )),
    }
}

fn token_from_row(row: &AnyRow) -> Result<EnrollmentToken> {
    Ok(EnrollmentToken {
        prefix: TokenPrefix::parse(&super::rows::text(row, "prefix")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        binding: binding_from_row(row)?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        created_by: opt_text(row, "created_by")?,
        used_at: opt_time(row, "used_at")?,
        used_by: opt_parsed(row, "used_by_device")?,
        revoked_at: opt_time(row, "revoked_at")?,
    })
}

/// The conditional UPDATE. `Ok(binding)` for the one caller that wins.
async fn redeem_in(
    conn: &mut AnyConnection,
    token: &EnrollmentTokenSecret,
    device: &DeviceId,
    now: Timestamp,
) -> Result<EnrollmentBinding> {
    let rows = sqlx::query(
        "UPDATE enrollment_tokens SET used_at = $3, used_by_device = $4 \
         WHERE prefix = $1 AND secret_sha256 = $2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3 \
         RETURNING profile_name, group_name",
    )
    .bind(token.prefix().as_str())
    .bind(token.secret_hash().as_str())
    .bind(ms(now))
    .bind(device.as_str())
    .fetch_all(conn)
    .await?;
    match rows.first() {
        Some(row) => binding_from_row(row),
        None => Err(StoreError::Forbidden(NOT_REDEEMABLE)),
    }
}

impl Store {
    /// Stores a new enrollment token (only its prefix and the SHA-256 of its secret).
    pub async fn create_enrollment_token(
        &self,
        token: &EnrollmentTokenSecret,
        binding: &EnrollmentBinding,
        expires_at: Timestamp,
        created_by: Option<&str>,
        now: Timestamp,
    ) -> Result<EnrollmentToken> {
        let (profile, group) = match binding {
            EnrollmentBinding::Profile(p) => (Some(p.as_str()), None),
            EnrollmentBinding::Group(g) => (None, Some(g.as_str())),
        };
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO enrollment_tokens (prefix, secret_sha256, profile_name, group_name, created_at, expires_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING prefix, profile_name, group_name, created_at, expires_at, created_by, used_at, used_by_device, revoked_at",
        )
        .bind(token.prefix().as_str())
        .bind(token.secret_hash().as_str())
        .bind(profile)
        .bind(group)
        .bind(ms(now))
        .bind(ms(expires_at))
        .bind(created_by)
        .fetch_one(&mut *tx)
        .await?;
        let created = token_from_row(&row)?;
        let event = crate::domain::NewEvent {
            device: None,
            actor: created_by.unwrap_or("controller").to_owned(),
            kind: "enrollment_token.created".into(),
            detail: serde_json::json!({ "prefix": token.prefix().as_str(), "profile": profile, "group": group, "expires_at": expires_at.to_string() }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Marks a token used by `device` if, and only if, it is unused, unrevoked and
    /// unexpired. [`StoreError::Forbidden`] otherwise, the same for every reason.
    pub async fn redeem_enrollment_token(
        &self,
        token: &EnrollmentTokenSecret,
        device: &DeviceId,
        now: Timestamp,
    ) -> Result<EnrollmentBinding> {
        let mut tx = self.begin_write().await?;
        let binding = redeem_in(&mut tx, token, device, now).await?;
        tx.commit().await?;
        Ok(binding)
    }

    /// Enrolls a device in one transaction: redeems the token, creates the device (in the
    /// token's group, or assigned the token's profile), records its first certificate and
    /// queues the profile version that applies to it. Any failure leaves nothing behind, so
    /// a certificate signed for a losing redemption is never bound to anything.
    pub async fn enroll_device(
        &self,
        token: &EnrollmentTokenSecret,
        device: &NewDevice,
        certificate: &NewCertificate,
        now: Timestamp,
    ) -> Result<Device> {
        let mut tx = self.begin_write().await?;
        let binding = redeem_in(&mut tx, token, &device.id, now).await?;
        let group = match &binding {
            EnrollmentBinding::Group(g) => Some(g),
            EnrollmentBinding::Profile(_) => None,
        };
        insert_device(&mut tx, device, group, now).await?;
        super::certificates::record_in(&mut tx, &device.id, certificate, now).await?;
        if let EnrollmentBinding::Profile(p) = &binding {
            profiles::assign_in(
                &mut tx,
                &AssignmentTarget::Device(device.id.clone()),
                p,
                now,
            )
            .await?;
        } else {
            outbox::queue_current_versions(
                &mut tx,
                outbox::QueueScope::Devices(std::slice::from_ref(&device.id)),
                now,
            )
            .await?;
        }
        let detail = serde_json::json!({
            "token": token.prefix().as_str(),
            "name": device.name.as_str(),
            "certificate": certificate.serial.as_str(),
        });
        events::append_in(
            &mut tx,
            &device_event(&device.id, "device", "device.enrolled", detail),
            now,
        )
        .await?;
        let enrolled = device_in(&mut tx, &device.id).await?;
        tx.commit().await?;
        Ok(enrolled)
    }

    /// Revokes a token so it can no longer be redeemed, with a `enrollment_token.revoked`
    /// event. Revoking an already revoked token changes nothing and returns `false`;
    /// [`StoreError::NotFound`] for an unknown prefix.
    pub async fn revoke_enrollment_token(
        &self,
        prefix: &TokenPrefix,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE enrollment_tokens SET revoked_at = $2 WHERE prefix = $1 AND revoked_at IS NULL",
        )
        .bind(prefix.as_str())
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let known = sqlx::query("SELECT 1 AS found FROM enrollment_tokens WHERE prefix = $1")
                .bind(prefix.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            return match known {
                Some(_) => Ok(false),
                None => Err(StoreError::NotFound(format!("enrollment token {prefix}"))),
            };
        }
        let event = crate::domain::NewEvent {
            device: None,
            actor: actor.to_owned(),
            kind: "enrollment_token.revoked".into(),
            detail: serde_json::json!({ "prefix": prefix.as_str() }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One token's record.
    pub async fn enrollment_token(&self, prefix: &TokenPrefix) -> Result<EnrollmentToken> {
        let row = sqlx::query(
            "SELECT prefix, profile_name, group_name, created_at, expires_at, created_by, used_at, used_by_device, revoked_at \
             FROM enrollment_tokens WHERE prefix = $1",
        )
        .bind(prefix.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("enrollment token {prefix}")))?;
        token_from_row(&row)
    }

    /// Every token, newest first.
    pub async fn enrollment_tokens(&self) -> Result<Vec<EnrollmentToken>> {
        let rows = sqlx::query(
            "SELECT prefix, profile_name, group_name, created_at, expires_at, created_by, used_at, used_by_device, revoked_at \
             FROM enrollment_tokens ORDER BY created_at DESC, prefix",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }
}
