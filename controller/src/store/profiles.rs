//! Profile versions (immutable, content-addressed), each profile's current version, and
//! assignments of profiles to devices and groups. Publishing or assigning queues the
//! resulting pushes in the same transaction.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::outbox::QueueScope;
use super::rows::{ms, opt_parsed, parsed, text, time};
use super::{QueuedPush, Result, Store, StoreError, events, outbox};
use crate::domain::{
    Assignment, AssignmentTarget, DeviceId, GroupName, NewEvent, ProfileName, ProfileVersion,
    Timestamp, VersionHash,
};

/// What publishing a profile version did.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    pub version: ProfileVersion,
    /// False when this exact version was stored before (publishing is idempotent).
    pub newly_stored: bool,
    /// The profile's current version before, if it had one.
    pub previous: Option<VersionHash>,
    /// How many devices got a push queued.
    pub pushes: usize,
    /// The devices that got a push queued.
    pub pushed_to: Vec<DeviceId>,
    /// The pushes queued, for [`Gateway::send_queued`](crate::gateway::Gateway::send_queued)
    /// to send at once after the commit.
    pub queued: Vec<QueuedPush>,
}

impl Publication {
    /// Whether the profile's current version changed.
    pub fn changed(&self) -> bool {
        self.previous.as_ref() != Some(&self.version.version)
    }
}

/// A profile and its current version.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSummary {
    pub name: ProfileName,
    pub current_version: VersionHash,
    pub updated_at: Timestamp,
}

fn version_from_row(row: &AnyRow) -> Result<ProfileVersion> {
    Ok(ProfileVersion {
        profile: parsed(row, "profile_name")?,
        version: parsed(row, "version")?,
        canonical_toml: text(row, "canonical_toml")?,
        created_at: time(row, "created_at")?,
    })
}

async fn version_in(
    conn: &mut AnyConnection,
    profile: &ProfileName,
    version: &VersionHash,
) -> Result<Option<ProfileVersion>> {
    let row = sqlx::query(
        "SELECT profile_name, version, canonical_toml, created_at FROM profile_versions \
         WHERE profile_name = $1 AND version = $2",
    )
    .bind(profile.as_str())
    .bind(version.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(version_from_row).transpose()
}

fn target_columns(target: &AssignmentTarget) -> (Option<&str>, Option<&str>) {
    match target {
        AssignmentTarget::Device(d) => (Some(d.as_str()), None),
        AssignmentTarget::Group(g) => (None, Some(g.as_str())),
    }
}

/// Devices an assignment to `target` can affect.
async fn devices_of_target(
    conn: &mut AnyConnection,
    target: &AssignmentTarget,
) -> Result<Vec<DeviceId>> {
    match target {
        AssignmentTarget::Device(d) => Ok(vec![d.clone()]),
        AssignmentTarget::Group(g) => {
            let rows = sqlx::query(
                "SELECT id FROM devices WHERE group_name = $1 AND status = 'active' ORDER BY id",
            )
            .bind(g.as_str())
            .fetch_all(conn)
            .await?;
            rows.iter().map(|r| parsed(r, "id")).collect()
        }
    }
}

pub(super) async fn assign_in(
    conn: &mut AnyConnection,
    target: &AssignmentTarget,
    profile: &ProfileName,
    now: Timestamp,
) -> Result<usize> {
    outbox::lock_queueing(conn).await?;
    let (device, group) = target_columns(target);
    sqlx::query("DELETE FROM assignments WHERE device_id = $1 OR group_name = $2")
        .bind(device)
        .bind(group)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO assignments (device_id, group_name, profile_name, assigned_at) VALUES ($1, $2, $3, $4)")
        .bind(device)
        .bind(group)
        .bind(profile.as_str())
        .bind(ms(now))
        .execute(&mut *conn)
        .await?;
    let scope = match target {
        AssignmentTarget::Device(d) => QueueScope::Devices(std::slice::from_ref(d)),
        AssignmentTarget::Group(g) => QueueScope::Group(g),
    };
    Ok(outbox::queue_current_versions(conn, scope, now)
        .await?
        .len())
}

/// [`assign_in`] with its `profile.assigned` event. Returns the pushes queued.
async fn assign_audited_in(
    conn: &mut AnyConnection,
    target: &AssignmentTarget,
    profile: &ProfileName,
    actor: &str,
    now: Timestamp,
) -> Result<usize> {
    let pushes = assign_in(conn, target, profile, now).await?;
    let (device, group) = target_columns(target);
    let event = NewEvent {
        device: match target {
            AssignmentTarget::Device(d) => Some(d.clone()),
            AssignmentTarget::Group(_) => None,
        },
        actor: actor.to_owned(),
        kind: "profile.assigned".into(),
        detail: serde_json::json!({ "profile": profile.as_str(), "device": device, "group": group, "pushes": pushes }),
    };
    events::append_in(conn, &event, now).await?;
    Ok(pushes)
}

/// [`Store::publish_profile_version`] inside the caller's transaction, with its event.
pub(super) async fn publish_in(
    conn: &mut AnyConnection,
    profile: &ProfileName,
    version: &VersionHash,
    canonical_toml: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Publication> {
    let inserted = sqlx::query(
        "INSERT INTO profile_versions (profile_name, version, canonical_toml, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (profile_name, version) DO NOTHING",
    )
    .bind(profile.as_str())
    .bind(version.as_str())
    .bind(canonical_toml)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    let stored = version_in(conn, profile, version)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("profile {profile} version {version}")))?;
    if stored.canonical_toml != canonical_toml {
        return Err(StoreError::Conflict(format!(
            "profile {profile} version {version} is already stored with different content"
        )));
    }
    let previous: Option<VersionHash> =
        match sqlx::query("SELECT current_version FROM profiles WHERE name = $1")
            .bind(profile.as_str())
            .fetch_optional(&mut *conn)
            .await?
        {
            Some(row) => Some(parsed(&row, "current_version")?),
            None => None,
        };
    sqlx::query(
        "INSERT INTO profiles (name, current_version, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET current_version = excluded.current_version, updated_at = excluded.updated_at, \
         rollout_version = NULL, rollout_group = NULL, rollout_file_name = NULL, rollout_source = NULL, \
         rollout_started_at = NULL, rollout_started_by = NULL",
    )
    .bind(profile.as_str())
    .bind(version.as_str())
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    let queued = outbox::queue_current_versions(conn, QueueScope::Profile(profile), now).await?;
    let pushed_to: Vec<DeviceId> = queued.iter().map(|q| q.device.clone()).collect();
    let event = NewEvent {
        device: None,
        actor: actor.to_owned(),
        kind: "profile.published".into(),
        detail: serde_json::json!({
            "profile": profile.as_str(),
            "version": version.as_str(),
            "previous": previous.as_ref().map(VersionHash::as_str),
            "pushes": pushed_to.len(),
        }),
    };
    events::append_in(conn, &event, now).await?;
    Ok(Publication {
        version: stored,
        newly_stored: inserted.rows_affected() == 1,
        previous,
        pushes: pushed_to.len(),
        pushed_to,
        queued,
    })
}

impl Store {
    /// Stores a profile version (if new), makes it the profile's current version and queues
    /// it for every device the profile applies to. A staged rollout of the profile ends:
    /// the published version is now everyone's. `version` must be the content hash of
    /// `canonical_toml` (the profiles crate computes both); the same hash with other text
    /// is a [`StoreError::Conflict`].
    pub async fn publish_profile_version(
        &self,
        profile: &ProfileName,
        version: &VersionHash,
        canonical_toml: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Publication> {
        let mut tx = self.begin_write().await?;
        let publication = publish_in(&mut tx, profile, version, canonical_toml, actor, now).await?;
        tx.commit().await?;
        Ok(publication)
    }

    /// Every profile with a current version, by name.
    pub async fn profiles(&self) -> Result<Vec<ProfileSummary>> {
        let rows =
            sqlx::query("SELECT name, current_version, updated_at FROM profiles ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(ProfileSummary {
                    name: parsed(row, "name")?,
                    current_version: parsed(row, "current_version")?,
                    updated_at: time(row, "updated_at")?,
                })
            })
            .collect()
    }

    /// One stored version of a profile.
    pub async fn profile_version(
        &self,
        profile: &ProfileName,
        version: &VersionHash,
    ) -> Result<ProfileVersion> {
        let mut conn = self.pool.acquire().await?;
        version_in(&mut conn, profile, version)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("profile {profile} version {version}")))
    }

    /// The version devices assigned to `profile` are being moved to.
    pub async fn current_profile_version(&self, profile: &ProfileName) -> Result<ProfileVersion> {
        let row = sqlx::query(
            "SELECT v.profile_name, v.version, v.canonical_toml, v.created_at FROM profiles p \
             JOIN profile_versions v ON v.profile_name = p.name AND v.version = p.current_version WHERE p.name = $1",
        )
        .bind(profile.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("profile {profile}")))?;
        version_from_row(&row)
    }

    /// Every stored version of a profile, oldest first.
    pub async fn profile_versions(&self, profile: &ProfileName) -> Result<Vec<ProfileVersion>> {
        let rows = sqlx::query(
            "SELECT profile_name, version, canonical_toml, created_at FROM profile_versions \
             WHERE profile_name = $1 ORDER BY created_at, version",
        )
        .bind(profile.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// Assigns `profile` to a device or group (replacing its previous assignment) and
    /// queues the profile's current version, if it has one, for the devices affected.
    /// Returns how many pushes were queued.
    pub async fn assign_profile(
        &self,
        target: &AssignmentTarget,
        profile: &ProfileName,
        actor: &str,
        now: Timestamp,
    ) -> Result<usize> {
        self.assign_profile_to_all(std::slice::from_ref(target), profile, actor, now)
            .await
    }

    /// [`Store::assign_profile`] for several targets in one transaction, with one
    /// `profile.assigned` event each (the console's "assign to chosen phones"). Returns
    /// how many pushes were queued in all.
    pub async fn assign_profile_to_all(
        &self,
        targets: &[AssignmentTarget],
        profile: &ProfileName,
        actor: &str,
        now: Timestamp,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut total = 0;
        for target in targets {
            total += assign_audited_in(&mut tx, target, profile, actor, now).await?;
        }
        tx.commit().await?;
        Ok(total)
    }

    /// The active devices an assignment to `target` would affect (for confirmations).
    pub async fn devices_of_assignment_target(
        &self,
        target: &AssignmentTarget,
    ) -> Result<Vec<DeviceId>> {
        let mut conn = self.pool.acquire().await?;
        devices_of_target(&mut conn, target).await
    }

    /// Every assignment.
    pub async fn assignments(&self) -> Result<Vec<Assignment>> {
        let rows = sqlx::query(
            "SELECT device_id, group_name, profile_name, assigned_at FROM assignments ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let device: Option<DeviceId> = opt_parsed(row, "device_id")?;
                let group: Option<GroupName> = opt_parsed(row, "group_name")?;
                let target = match (device, group) {
                    (Some(d), None) => AssignmentTarget::Device(d),
                    (None, Some(g)) => AssignmentTarget::Group(g),
                    _ => {
                        return Err(StoreError::Corrupt(
                            "assignment without exactly one target".into(),
                        ));
                    }
                };
                Ok(Assignment {
                    target,
                    profile: parsed(row, "profile_name")?,
                    assigned_at: time(row, "assigned_at")?,
                })
            })
            .collect()
    }
}
