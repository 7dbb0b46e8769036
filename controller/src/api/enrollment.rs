//! `/enrollment-tokens`: create (the secret is shown once, in the answer), list (never
//! with secrets) and revoke enrollment tokens.
//!
//! Must never: return a token's secret other than in the answer that created it.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Operator, Reader};
use super::error::ApiError;
use super::extract::{Body, Segments};
use crate::domain::{
    EnrollmentBinding, EnrollmentToken, EnrollmentTokenSecret, GroupName, ProfileName, Timestamp,
    TokenPrefix,
};
use crate::serve::AppState;
use crate::store::StoreError;

/// The longest lifetime a token may be given: 90 days.
pub const MAX_LIFETIME_SECS: u64 = 90 * 24 * 3600;

/// The body of `POST /enrollment-tokens`: exactly one of `profile` and `group`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub profile: Option<ProfileName>,
    pub group: Option<GroupName>,
    pub expires_in_secs: Option<u64>,
}

fn binding_json(binding: &EnrollmentBinding) -> (Value, Value) {
    match binding {
        EnrollmentBinding::Profile(p) => (json!(p), Value::Null),
        EnrollmentBinding::Group(g) => (Value::Null, json!(g)),
    }
}

fn token_state(token: &EnrollmentToken, now: Timestamp) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.used_at.is_some() {
        "used"
    } else if token.expires_at <= now {
        "expired"
    } else {
        "active"
    }
}

/// `POST /enrollment-tokens`: 201 with the token, shown only this once.
pub async fn create(
    operator: Operator,
    State(state): State<AppState>,
    Body(request): Body<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let binding = match (request.profile, request.group) {
        (Some(profile), None) => {
            match state.store.current_profile_version(&profile).await {
                Err(StoreError::NotFound(_)) => {
                    return Err(ApiError::NotFound(format!(
                        "`profile`: no profile `{profile}` has been published"
                    )));
                }
                other => other?,
            };
            EnrollmentBinding::Profile(profile)
        }
        (None, Some(group)) => EnrollmentBinding::Group(group),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "give exactly one of `profile` and `group`: what the enrolled phone is held to",
            ));
        }
    };
    let lifetime = match request.expires_in_secs {
        None => state.config.enrollment_token_ttl,
        Some(secs) if (1..=MAX_LIFETIME_SECS).contains(&secs) => Duration::from_secs(secs),
        Some(secs) => {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!(
                    "`expires_in_secs` is {secs}; it must be 1 to {MAX_LIFETIME_SECS} (90 days)"
                ),
            ));
        }
    };
    let now = Timestamp::now();
    let token = EnrollmentTokenSecret::generate();
    let created = state
        .store
        .create_enrollment_token(
            &token,
            &binding,
            now.plus(lifetime),
            Some(&operator.actor()),
            now,
        )
        .await?;
    let (profile, group) = binding_json(&created.binding);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": token.reveal(),
            "prefix": created.prefix.as_str(),
            "profile": profile,
            "group": group,
            "expires_at": created.expires_at.to_string(),
        })),
    ))
}

/// `GET /enrollment-tokens`: newest first, without secrets.
pub async fn list(_: Reader, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let now = Timestamp::now();
    let tokens = state.store.enrollment_tokens().await?;
    Ok(Json(
        tokens
            .iter()
            .map(|t| {
                let (profile, group) = binding_json(&t.binding);
                let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
                json!({
                    "prefix": t.prefix.as_str(),
                    "profile": profile,
                    "group": group,
                    "state": token_state(t, now),
                    "created_at": t.created_at.to_string(),
                    "created_by": t.created_by,
                    "expires_at": t.expires_at.to_string(),
                    "used_at": time(t.used_at),
                    "used_by": t.used_by,
                    "revoked_at": time(t.revoked_at),
                })
            })
            .collect(),
    ))
}

/// `DELETE /enrollment-tokens/{prefix}`: 204; revoking twice is fine.
pub async fn revoke(
    operator: Operator,
    State(state): State<AppState>,
    Segments(prefix): Segments<String>,
) -> Result<StatusCode, ApiError> {
    // The prefix as listed, or as it appears in the token (`enr-<prefix>`).
    let prefix = prefix.strip_prefix("enr-").unwrap_or(&prefix);
    let prefix = TokenPrefix::parse(prefix).map_err(|e| {
        ApiError::NotFound(format!("no enrollment token `{prefix}` ({})", e.reason))
    })?;
    state
        .store
        .revoke_enrollment_token(&prefix, &operator.actor(), Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
