//! Staged rollouts: a profile's next version goes to one group of phones first, while
//! every other phone with the profile stays on its current version, until an admin
//! promotes the version (a normal publish of the staged source, which ends the rollout)
//! or aborts it.
//!
//! Owns: the rollout columns of `profiles` (migration 0007) and [`version_for_device`],
//! the one SQL fragment that says which version of a profile applies to a device; the
//! outbox and the fleet page both use it, so what is queued and what the console shows
//! as desired never disagree.
//! Must never: change a profile's current version (only a publish does), or queue a push
//! outside the transaction that changed the rollout.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::rows::{ms, opt_text, parsed, text, time};
use super::{QueuedPush, Result, Store, StoreError, events, outbox};
use crate::domain::{GroupName, NewEvent, ProfileName, Timestamp, VersionHash};

/// The version of profile `p` (a `profiles` row) that applies to device `d` (a `devices`
/// row): the staged rollout's version when `d` is in the rollout's group, else the
/// profile's current version. A macro so `concat!` can build constant SQL from it.
macro_rules! version_for_device {
    () => {
        "(CASE WHEN p.rollout_group IS NOT NULL AND p.rollout_group = d.group_name \
         THEN p.rollout_version ELSE p.current_version END)"
    };
}
pub(super) use version_for_device;

/// A profile's staged rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub profile: ProfileName,
    /// The version the group gets.
    pub version: VersionHash,
    /// Everyone else's version (the profile's current version).
    pub current: VersionHash,
    pub group: GroupName,
    /// The source the staged version was made from, published as is on promotion.
    pub file_name: String,
    pub source: String,
    pub started_at: Timestamp,
    pub started_by: String,
}

fn rollout_from_row(row: &AnyRow) -> Result<Option<Rollout>> {
    if opt_text(row, "rollout_version")?.is_none() {
        return Ok(None);
    }
    Ok(Some(Rollout {
        profile: parsed(row, "name")?,
        version: parsed(row, "rollout_version")?,
        current: parsed(row, "current_version")?,
        group: parsed(row, "rollout_group")?,
        file_name: text(row, "rollout_file_name")?,
        source: text(row, "rollout_source")?,
        started_at: time(row, "rollout_started_at")?,
        started_by: text(row, "rollout_started_by")?,
    }))
}

/// What staging a version did.
#[derive(Debug, Clone, PartialEq)]
pub struct Staging {
    pub rollout: Rollout,
    /// Pushes queued (the group's phones; the phones of a replaced rollout's group going
    /// back to the current version).
    pub queued: Vec<QueuedPush>,
}

async fn queue_for_profile(
    conn: &mut AnyConnection,
    profile: &ProfileName,
    now: Timestamp,
) -> Result<Vec<QueuedPush>> {
    outbox::queue_current_versions(conn, outbox::QueueScope::Profile(profile), now).await
}

impl Store {
    /// Stages `version` of an already published profile for the phones of `group`: the
    /// version is stored (if new), the rollout recorded (replacing one in progress) and
    /// the phones whose applicable version changed get a push, with a `profile.staged`
    /// event, in one transaction. `version` must be the profiles crate's version of
    /// `canonical_toml`, made from `source`.
    #[allow(clippy::too_many_arguments)]
    pub async fn stage_profile_version(
        &self,
        profile: &ProfileName,
        version: &VersionHash,
        canonical_toml: &str,
        file_name: &str,
        source: &str,
        group: &GroupName,
        actor: &str,
        now: Timestamp,
    ) -> Result<Staging> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO profile_versions (profile_name, version, canonical_toml, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (profile_name, version) DO NOTHING",
        )
        .bind(profile.as_str())
        .bind(version.as_str())
        .bind(canonical_toml)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let stored = sqlx::query(
            "SELECT canonical_toml FROM profile_versions WHERE profile_name = $1 AND version = $2",
        )
        .bind(profile.as_str())
        .bind(version.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if text(&stored, "canonical_toml")? != canonical_toml {
            return Err(StoreError::Conflict(format!(
                "profile {profile} version {version} is already stored with different content"
            )));
        }
        let row = sqlx::query(
            "UPDATE profiles SET rollout_version = $2, rollout_group = $3, rollout_file_name = $4, \
             rollout_source = $5, rollout_started_at = $6, rollout_started_by = $7 \
             WHERE name = $1 RETURNING name, current_version, rollout_version, rollout_group, \
             rollout_file_name, rollout_source, rollout_started_at, rollout_started_by",
        )
        .bind(profile.as_str())
        .bind(version.as_str())
        .bind(group.as_str())
        .bind(file_name)
        .bind(source)
        .bind(ms(now))
        .bind(actor)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "profile {profile} has never been published; publish it before staging a new version"
            ))
        })?;
        let rollout = rollout_from_row(&row)?
            .ok_or_else(|| StoreError::Corrupt(format!("rollout of {profile} not recorded")))?;
        if rollout.current == rollout.version {
            return Err(StoreError::Conflict(format!(
                "version {version} is already the current version of {profile}; there is nothing to stage"
            )));
        }
        let queued = queue_for_profile(&mut tx, profile, now).await?;
        let event = NewEvent {
            device: None,
            actor: actor.to_owned(),
            kind: "profile.staged".into(),
            detail: serde_json::json!({
                "profile": profile.as_str(),
                "version": version.as_str(),
                "current": rollout.current.as_str(),
                "group": group.as_str(),
                "pushes": queued.len(),
            }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(Staging { rollout, queued })
    }

    /// The profile's staged rollout, if one is in progress.
    pub async fn profile_rollout(&self, profile: &ProfileName) -> Result<Option<Rollout>> {
        let row = sqlx::query(
            "SELECT name, current_version, rollout_version, rollout_group, rollout_file_name, \
             rollout_source, rollout_started_at, rollout_started_by FROM profiles WHERE name = $1",
        )
        .bind(profile.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("profile {profile}")))?;
        rollout_from_row(&row)
    }

    /// Every staged rollout in progress, by profile name.
    pub async fn rollouts(&self) -> Result<Vec<Rollout>> {
        let rows = sqlx::query(
            "SELECT name, current_version, rollout_version, rollout_group, rollout_file_name, \
             rollout_source, rollout_started_at, rollout_started_by FROM profiles \
             WHERE rollout_version IS NOT NULL ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut rollouts = Vec::with_capacity(rows.len());
        for row in &rows {
            rollouts.extend(rollout_from_row(row)?);
        }
        Ok(rollouts)
    }

    /// Ends the profile's staged rollout without promoting it: the group's phones go back
    /// to the current version (pushes queued), with a `profile.rollout_aborted` event, in
    /// one transaction. [`StoreError::Conflict`] when no rollout is in progress.
    pub async fn abort_rollout(
        &self,
        profile: &ProfileName,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<QueuedPush>> {
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query(
            "UPDATE profiles SET rollout_version = NULL, rollout_group = NULL, rollout_file_name = NULL, \
             rollout_source = NULL, rollout_started_at = NULL, rollout_started_by = NULL \
             WHERE name = $1 AND rollout_version IS NOT NULL RETURNING name",
        )
        .bind(profile.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if ended.is_none() {
            return Err(StoreError::Conflict(format!(
                "profile {profile} has no staged rollout in progress"
            )));
        }
        let queued = queue_for_profile(&mut tx, profile, now).await?;
        let event = NewEvent {
            device: None,
            actor: actor.to_owned(),
            kind: "profile.rollout_aborted".into(),
            detail: serde_json::json!({ "profile": profile.as_str(), "pushes": queued.len() }),
        };
        events::append_in(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(queued)
    }
}
