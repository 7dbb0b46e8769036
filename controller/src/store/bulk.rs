//! Bulk actions on chosen phones (the fleet page's check boxes, or every phone a filter
//! matches): queue a push such as a command, assign a profile, move into a group. Each is
//! one transaction over every *active* phone of the list, writes the event each phone's
//! own action writes, plus one `fleet.bulk_action` event naming the action, the actor,
//! the count and the ids. Revoked and unknown phones are skipped and returned as such.
//!
//! Must never: act on a revoked phone, or commit part of a bulk action.

use std::collections::HashSet;

use sqlx::{AnyConnection, AssertSqlSafe};

use super::devices::device_event;
use super::outbox::{self, QueueScope, QueuedPush};
use super::rows::{ms, parsed, text};
use super::{CHUNK, Result, Store, StoreError, bind_all, events, placeholders};
use crate::domain::{
    DeviceId, DeviceName, DeviceStatus, GroupName, NewEvent, ProfileName, PushKind, Timestamp,
};

/// Who asked for a bulk action, and what it is called in the `fleet.bulk_action` event.
#[derive(Debug, Clone)]
pub struct BulkAudit {
    /// `reboot`, `resync`, `remove_work_profile`, `assign_profile`, `set_group`.
    pub action: String,
    pub actor: String,
    /// Extra fields of the summary event (e.g. the profile or group).
    pub detail: serde_json::Value,
}

/// One phone's push of a bulk push action, with the event its own action would write
/// (its detail gains the push's `seq`).
#[derive(Debug, Clone)]
pub struct BulkPush {
    pub device: DeviceId,
    pub body: String,
    pub event: NewEvent,
}

/// What a bulk action did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// The phones acted on, in the order given.
    pub done: Vec<DeviceId>,
    /// Revoked or unknown phones, left alone.
    pub skipped: Vec<DeviceId>,
    /// Profile pushes queued (assignments and group changes).
    pub queued: Vec<QueuedPush>,
}

/// A phone as a bulk confirmation lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkTarget {
    pub id: DeviceId,
    pub name: DeviceName,
    pub status: DeviceStatus,
}

/// Splits `devices` (duplicates dropped) into the active ones and the rest.
async fn split_active(
    conn: &mut AnyConnection,
    devices: &[DeviceId],
) -> Result<(Vec<DeviceId>, Vec<DeviceId>)> {
    let mut seen = HashSet::new();
    let unique: Vec<&DeviceId> = devices.iter().filter(|d| seen.insert(*d)).collect();
    let mut active = HashSet::new();
    for chunk in unique.chunks(CHUNK) {
        let sql = format!(
            "SELECT id FROM devices WHERE status = 'active' AND id IN ({})",
            placeholders(1, chunk.len())
        );
        let ids: Vec<&str> = chunk.iter().map(|d| d.as_str()).collect();
        for row in bind_all(sqlx::query(AssertSqlSafe(sql)), &ids)
            .fetch_all(&mut *conn)
            .await?
        {
            active.insert(parsed::<DeviceId>(&row, "id")?);
        }
    }
    let (done, skipped) = unique
        .into_iter()
        .cloned()
        .partition(|d| active.contains(d));
    Ok((done, skipped))
}

/// Appends the summary event of a bulk action.
async fn summarise(
    conn: &mut AnyConnection,
    audit: &BulkAudit,
    outcome: &BulkOutcome,
    now: Timestamp,
) -> Result<()> {
    let mut detail = serde_json::json!({
        "action": audit.action,
        "count": outcome.done.len(),
        "devices": outcome.done,
        "skipped": outcome.skipped,
    });
    if let (Some(into), serde_json::Value::Object(extra)) = (detail.as_object_mut(), &audit.detail)
    {
        for (k, v) in extra {
            into.insert(k.clone(), v.clone());
        }
    }
    let event = NewEvent {
        device: None,
        actor: audit.actor.clone(),
        kind: "fleet.bulk_action".into(),
        detail,
    };
    events::append_in(conn, &event, now).await?;
    Ok(())
}

/// Appends a `kind` event for each phone the action was done on (its detail from
/// `detail`), then the summary event.
async fn record_per_phone(
    conn: &mut AnyConnection,
    audit: &BulkAudit,
    outcome: &BulkOutcome,
    kind: &str,
    now: Timestamp,
    detail: impl Fn(&DeviceId) -> serde_json::Value,
) -> Result<()> {
    for device in &outcome.done {
        let event = device_event(device, &audit.actor, kind, detail(device));
        events::append_in(conn, &event, now).await?;
    }
    summarise(conn, audit, outcome, now).await
}

/// A value bound before a chunk's ids.
#[derive(Debug, Clone, Copy)]
enum Lead<'a> {
    Text(Option<&'a str>),
    Int(i64),
}

/// Runs `statement` for each [`CHUNK`] of `devices`: `leading` bound as `$1…`, then the
/// chunk's ids, whose placeholders replace `{ids}`.
async fn per_chunk(
    conn: &mut AnyConnection,
    statement: &str,
    leading: &[Lead<'_>],
    devices: &[DeviceId],
) -> Result<()> {
    for chunk in devices.chunks(CHUNK) {
        let sql = statement.replace("{ids}", &placeholders(leading.len() + 1, chunk.len()));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for lead in leading {
            query = match *lead {
                Lead::Text(t) => query.bind(t),
                Lead::Int(i) => query.bind(i),
            };
        }
        bind_all(query, chunk).execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// The known phones of `devices` (duplicates dropped) with name and status, in the
    /// order given: what a bulk confirmation counts and lists.
    pub async fn bulk_targets(&self, devices: &[DeviceId]) -> Result<Vec<BulkTarget>> {
        let mut found = std::collections::HashMap::new();
        for chunk in devices.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, name, status FROM devices WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            for row in bind_all(sqlx::query(AssertSqlSafe(sql)), chunk)
                .fetch_all(&self.pool)
                .await?
            {
                let target = BulkTarget {
                    id: parsed(&row, "id")?,
                    name: parsed(&row, "name")?,
                    status: DeviceStatus::parse(&text(&row, "status")?)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                };
                found.insert(target.id.clone(), target);
            }
        }
        Ok(devices.iter().filter_map(|d| found.remove(d)).collect())
    }

    /// Queues each push (e.g. a command to every chosen phone) whose phone is active, with
    /// its event, in one transaction with the summary event.
    pub async fn enqueue_bulk_pushes(
        &self,
        kind: &PushKind,
        pushes: &[BulkPush],
        audit: &BulkAudit,
        now: Timestamp,
    ) -> Result<BulkOutcome> {
        let mut tx = self.begin_write().await?;
        let devices: Vec<DeviceId> = pushes.iter().map(|p| p.device.clone()).collect();
        let (done, skipped) = split_active(&mut tx, &devices).await?;
        let active: HashSet<&DeviceId> = done.iter().collect();
        let mut sent = HashSet::new();
        for push in pushes
            .iter()
            .filter(|p| active.contains(&p.device) && sent.insert(&p.device))
        {
            let seq = outbox::enqueue_in(&mut tx, &push.device, kind, &push.body, now).await?;
            let mut event = push.event.clone();
            if let serde_json::Value::Object(detail) = &mut event.detail {
                detail.insert("seq".into(), seq.into());
            }
            events::append_in(&mut tx, &event, now).await?;
        }
        let outcome = BulkOutcome {
            done,
            skipped,
            queued: Vec::new(),
        };
        summarise(&mut tx, audit, &outcome, now).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Assigns `profile` to each active phone of `devices` (its own assignment, replacing
    /// any) and queues the version that now applies, with a `profile.assigned` event per
    /// phone and the summary event, in one transaction. The caller checks that the
    /// profile has a published version.
    pub async fn assign_profile_bulk(
        &self,
        devices: &[DeviceId],
        profile: &ProfileName,
        audit: &BulkAudit,
        now: Timestamp,
    ) -> Result<BulkOutcome> {
        let mut tx = self.begin_write().await?;
        outbox::lock_queueing(&mut tx).await?;
        let (done, skipped) = split_active(&mut tx, devices).await?;
        per_chunk(
            &mut tx,
            "DELETE FROM assignments WHERE device_id IN ({ids})",
            &[],
            &done,
        )
        .await?;
        per_chunk(
            &mut tx,
            "INSERT INTO assignments (device_id, group_name, profile_name, assigned_at) \
             SELECT id, NULL, $1, $2 FROM devices WHERE id IN ({ids})",
            &[Lead::Text(Some(profile.as_str())), Lead::Int(ms(now))],
            &done,
        )
        .await?;
        let queued =
            outbox::queue_current_versions(&mut tx, QueueScope::Devices(&done), now).await?;
        let outcome = BulkOutcome {
            done,
            skipped,
            queued,
        };
        let pushed: HashSet<&DeviceId> = outcome.queued.iter().map(|q| &q.device).collect();
        record_per_phone(
            &mut tx,
            audit,
            &outcome,
            "profile.assigned",
            now,
            |device| {
                serde_json::json!({
                    "profile": profile.as_str(),
                    "device": device.as_str(),
                    "group": null,
                    "pushes": usize::from(pushed.contains(device)),
                })
            },
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Moves each active phone of `devices` into `group` (or out of any) and queues the
    /// profile version that now applies to it, with a `device.group_changed` event per
    /// phone and the summary event, in one transaction.
    pub async fn set_group_bulk(
        &self,
        devices: &[DeviceId],
        group: Option<&GroupName>,
        audit: &BulkAudit,
        now: Timestamp,
    ) -> Result<BulkOutcome> {
        let mut tx = self.begin_write().await?;
        let (done, skipped) = split_active(&mut tx, devices).await?;
        per_chunk(
            &mut tx,
            "UPDATE devices SET group_name = $1 WHERE id IN ({ids})",
            &[Lead::Text(group.map(GroupName::as_str))],
            &done,
        )
        .await?;
        let queued =
            outbox::queue_current_versions(&mut tx, QueueScope::Devices(&done), now).await?;
        let outcome = BulkOutcome {
            done,
            skipped,
            queued,
        };
        record_per_phone(
            &mut tx,
            audit,
            &outcome,
            "device.group_changed",
            now,
            |_| serde_json::json!({ "group": group.map(GroupName::as_str) }),
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }
}
