//! What the API does to one device: assign it a profile, queue a command, revoke it.
//! Each change commits its audit event in the store's transaction and then tells the
//! gateway, so a push goes out (or a session is dropped) at once.
//!
//! Must never: act on a revoked device, or report success before the change is committed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use corral_wire::CommandKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{FleetAdmin, Operator};
use super::devices::device_id;
use super::error::ApiError;
use super::extract::{Body, Segments};
use crate::domain::{AssignmentTarget, Device, DeviceId, DeviceStatus, ProfileName, Timestamp};
use crate::serve::AppState;
use crate::store::StoreError;

/// The body of `PUT /devices/{id}/profile`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub profile: ProfileName,
}

/// The commands the API offers, by their API names.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiCommand {
    Resync,
    Reboot,
    RemoveWorkProfile,
    CollectLogs,
}

impl From<ApiCommand> for CommandKind {
    fn from(c: ApiCommand) -> CommandKind {
        match c {
            ApiCommand::Resync => CommandKind::ReSync,
            ApiCommand::Reboot => CommandKind::Reboot,
            ApiCommand::RemoveWorkProfile => CommandKind::RemoveWorkProfile,
            ApiCommand::CollectLogs => CommandKind::CollectLogs,
        }
    }
}

/// The body of `POST /devices/{id}/commands`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    pub kind: ApiCommand,
}

/// The body of `POST /devices/{id}/revoke`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub reason: String,
}

/// The device, which must be active: 404 unknown, 409 revoked.
async fn active_device(state: &AppState, id: &str) -> Result<Device, ApiError> {
    let id = device_id(id)?;
    let device = state.store.device(&id).await?;
    if device.status == DeviceStatus::Revoked {
        return Err(ApiError::Conflict(format!(
            "device `{id}` is revoked; enroll the phone again to manage it"
        )));
    }
    Ok(device)
}

/// `PUT /devices/{id}/profile`: assigns a profile that has a published version.
pub async fn assign(
    operator: Operator,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Body(request): Body<AssignRequest>,
) -> Result<Json<Value>, ApiError> {
    let device = active_device(&state, &id).await?;
    let current = match state.store.current_profile_version(&request.profile).await {
        Err(StoreError::NotFound(_)) => {
            return Err(ApiError::NotFound(format!(
                "`profile`: no profile `{}` has been published",
                request.profile
            )));
        }
        other => other?,
    };
    let pushes = state
        .store
        .assign_profile(
            &AssignmentTarget::Device(device.id.clone()),
            &request.profile,
            &operator.actor(),
            Timestamp::now(),
        )
        .await?;
    if pushes > 0 {
        state.gateway.notify(&device.id);
    }
    Ok(Json(json!({
        "device": device.id,
        "profile": request.profile,
        "version": current.version,
        "push_queued": pushes > 0,
    })))
}

/// `POST /devices/{id}/commands`: queues a command; 202 with its push `seq`.
pub async fn command(
    operator: Operator,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Body(request): Body<CommandRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let device = active_device(&state, &id).await?;
    let (command_id, seq) = state
        .gateway
        .queue_command_as(
            &device.id,
            request.kind.into(),
            &operator.actor(),
            Timestamp::now(),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "seq": seq, "command_id": command_id, "device": device.id })),
    ))
}

/// `POST /devices/{id}/revoke`: revokes the device and its certificates and drops its
/// live session. Revoking a revoked device changes nothing.
pub async fn revoke(
    admin: FleetAdmin,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Body(request): Body<RevokeRequest>,
) -> Result<Json<Value>, ApiError> {
    let id: DeviceId = device_id(&id)?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`reason` must be 1 to 500 characters (it is kept in the audit log)",
        ));
    }
    let was_online = state.gateway.is_online(&id);
    let serials = state
        .gateway
        .revoke_device(&id, reason, &admin.actor(), Timestamp::now())
        .await?;
    Ok(Json(json!({
        "device": id,
        "status": DeviceStatus::Revoked.as_str(),
        "certificates_revoked": serials,
        "was_online": was_online,
    })))
}
