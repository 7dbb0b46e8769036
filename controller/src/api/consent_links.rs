//! Double opt-in over REST: create a contact's consent link (its token answered once), and
//! record a withdrawal of consent (the same path as the console's and the person's own
//! link: off every phone, then erased).
//!
//! Must never: answer a link's token other than in the response that creates it, or put
//! it in an audit event.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Operator;
use super::contacts::erasure_json;
use super::error::ApiError;
use super::extract::{Body, Segments, named};
use crate::domain::{ConsentLinkToken, ContactId, Timestamp};
use crate::serve::AppState;
use crate::store::ErasureReason;

/// Longest lifetime a link may be given, in days (as in the console).
pub const MAX_DAYS: u64 = 90;
/// Lifetime when the request names none.
pub const DEFAULT_DAYS: u64 = 14;

/// The body of `POST /contacts/{id}/consent-links`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentLinkInput {
    /// Days the link can be confirmed: 1 to 90, default 14.
    #[serde(default)]
    pub days: Option<u64>,
}

/// `POST /contacts/{id}/consent-links`: 201 with the link's path (`/consent/<token>`, on
/// the console's address) and token, shown this once.
pub async fn create(
    operator: Operator,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Body(input): Body<ConsentLinkInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id: ContactId = named("contact", &id)?;
    let days = input.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("days: from 1 to {MAX_DAYS}"),
        ));
    }
    let now = Timestamp::now();
    let token = ConsentLinkToken::generate();
    let link = state
        .store
        .create_consent_link(
            &token,
            &id,
            now.plus(Duration::from_secs(days * 86_400)),
            &operator.actor(),
            now,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "prefix": link.prefix.as_str(),
            "token": token.reveal(),
            "path": format!("/consent/{}", token.reveal()),
            "wording_version": format!("v{}", link.wording_version),
            "created_at": link.created_at.to_string(),
            "expires_at": link.expires_at.to_string(),
        })),
    ))
}

/// `POST /contacts/{id}/withdrawal`: the person withdrew consent (Art. 7(3)); they are taken
/// off every phone and erased, as with `DELETE /contacts/{id}`, recorded as a withdrawal.
pub async fn withdraw(
    operator: Operator,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Json<Value>, ApiError> {
    let id: ContactId = named("contact", &id)?;
    let record =
        crate::allow_lists::erase(&state, &id, ErasureReason::Withdrawal, &operator.actor())
            .await?;
    Ok(Json(erasure_json(&record)))
}
