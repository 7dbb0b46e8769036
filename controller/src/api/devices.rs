//! `GET /devices` and `GET /devices/{id}`: the fleet as the API shows it — each device
//! with its effective profile (its own assignment, else its group's), the version it
//! should run and the one it reported applied, whether it is online, and for one device
//! its deliveries, pending pushes, certificates, observed state and drift.
//!
//! Must never: change anything (the actions are in `device_actions`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::auth::Reader;
use super::error::ApiError;
use super::extract::{Segments, named};
use crate::domain::{
    Assignment, AssignmentTarget, Delivery, DeliveryState, Device, DeviceId, ProfileName,
    Timestamp, VersionHash,
};
use crate::serve::AppState;
use crate::store::Rollout;

/// What the device view needs besides the device: assignments and current versions.
struct Fleet {
    assignments: Vec<Assignment>,
    current: BTreeMap<ProfileName, VersionHash>,
    /// Staged rollouts by profile: their group gets their version.
    rollouts: BTreeMap<ProfileName, Rollout>,
}

impl Fleet {
    async fn load(state: &AppState) -> Result<Fleet, ApiError> {
        let assignments = state.store.assignments().await?;
        let current = state
            .store
            .profiles()
            .await?
            .into_iter()
            .map(|p| (p.name, p.current_version))
            .collect();
        let rollouts = state
            .store
            .rollouts()
            .await?
            .into_iter()
            .map(|r| (r.profile.clone(), r))
            .collect();
        Ok(Fleet {
            assignments,
            current,
            rollouts,
        })
    }

    /// The version of `profile` that applies to `device` (as `store::rollouts` decides it
    /// in SQL): a staged rollout's for its group, else the current one.
    fn desired(&self, profile: &ProfileName, device: &Device) -> Option<&VersionHash> {
        match self.rollouts.get(profile) {
            Some(r) if device.group.as_ref() == Some(&r.group) => Some(&r.version),
            _ => self.current.get(profile),
        }
    }

    /// The device's effective profile and where the assignment comes from.
    fn assignment(&self, device: &Device) -> Option<(&ProfileName, &'static str)> {
        let own = self.assignments.iter().find(|a| match &a.target {
            AssignmentTarget::Device(d) => d == &device.id,
            AssignmentTarget::Group(_) => false,
        });
        let group = || {
            self.assignments.iter().find(|a| match &a.target {
                AssignmentTarget::Group(g) => device.group.as_ref() == Some(g),
                AssignmentTarget::Device(_) => false,
            })
        };
        match own {
            Some(a) => Some((&a.profile, "device")),
            None => group().map(|a| (&a.profile, "group")),
        }
    }
}

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

fn device_json(state: &AppState, fleet: &Fleet, device: &Device) -> Value {
    let assignment = fleet.assignment(device);
    let desired = assignment.and_then(|(p, _)| fleet.desired(p, device));
    json!({
        "id": device.id,
        "name": device.name,
        "serial": device.serial,
        "group": device.group,
        "status": device.status.as_str(),
        "online": state.gateway.is_online(&device.id),
        "enrolled_at": device.enrolled_at.to_string(),
        "last_seen_at": time(device.last_seen_at),
        "assigned_profile": assignment.map(|(p, _)| p),
        "assigned_via": assignment.map(|(_, via)| via),
        "desired_version": desired,
        "applied_version": device.applied_version,
        "in_sync": desired.is_some() && desired == device.applied_version.as_ref(),
    })
}

fn delivery_state(d: &Delivery) -> &'static str {
    match d.state() {
        DeliveryState::Assigned => "assigned",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Applied => "applied",
        DeliveryState::Failed => "failed",
    }
}

/// `GET /devices`: every device, oldest enrollment first.
pub async fn list(_: Reader, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let fleet = Fleet::load(&state).await?;
    let devices = state.store.devices().await?;
    Ok(Json(
        devices
            .iter()
            .map(|d| device_json(&state, &fleet, d))
            .collect(),
    ))
}

/// Parses a device id from the path; 404 when malformed.
pub fn device_id(text: &str) -> Result<DeviceId, ApiError> {
    named("device", text)
}

/// `GET /devices/{id}`: the device plus deliveries, pending pushes, certificates,
/// observed state and drift.
pub async fn show(
    _: Reader,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Json<Value>, ApiError> {
    let id = device_id(&id)?;
    let device = state.store.device(&id).await?;
    let fleet = Fleet::load(&state).await?;
    let deliveries = state.store.deliveries(&id).await?;
    let pending = state.store.pending_pushes(&id).await?;
    let certificates = state.store.certificates_of(&id).await?;
    let mut view = device_json(&state, &fleet, &device);
    if let Value::Object(map) = &mut view {
        map.insert(
            "deliveries".into(),
            deliveries
                .iter()
                .map(|d| {
                    json!({
                        "id": d.id,
                        "profile": d.profile,
                        "version": d.version,
                        "state": delivery_state(d),
                        "assigned_at": d.assigned_at.to_string(),
                        "delivered_at": time(d.delivered_at),
                        "applied_at": time(d.applied_at),
                        "failed_at": time(d.failed_at),
                        "error": d.error,
                    })
                })
                .collect(),
        );
        map.insert(
            "pending_pushes".into(),
            pending
                .iter()
                .map(|p| {
                    json!({
                        "seq": p.seq,
                        "kind": p.kind.as_str(),
                        "version": p.version,
                        "created_at": p.created_at.to_string(),
                        "attempts": p.attempts,
                    })
                })
                .collect(),
        );
        map.insert(
            "certificates".into(),
            certificates
                .iter()
                .map(|c| {
                    json!({
                        "serial": c.serial,
                        "not_before": c.not_before.to_string(),
                        "not_after": c.not_after.to_string(),
                        "issued_at": c.issued_at.to_string(),
                        "revoked_at": time(c.revoked_at),
                    })
                })
                .collect(),
        );
        map.insert(
            "observed_state".into(),
            device.observed_state.clone().into(),
        );
        map.insert("observed_at".into(), time(device.observed_at));
        map.insert("drift".into(), device.drift.clone().into());
    }
    Ok(Json(view))
}
