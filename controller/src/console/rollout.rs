//! Staged rollouts from the console: promote the staged version to every phone with the
//! profile, or abort it (the group goes back to the current version). Staging itself is
//! a choice on the edit page ([`super::profile_edit`]).
//!
//! Must never: act without the admin capability and the session's CSRF token (POST only).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::ConsoleState;
use super::error::ConsoleError;
use super::profile_edit::{profile_name, publish_error};
use super::session::Admin;
use crate::api::profile_publish;
use crate::domain::Timestamp;

/// `POST /profiles/{name}/rollout/promote`.
pub async fn promote(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let (_, published) = profile_publish::promote(&console.app, &name, &admin.actor())
        .await
        .map_err(publish_error)?;
    let pushes: usize = published.publications.iter().map(|p| p.pushes).sum();
    Ok(Redirect::to(&format!("/profiles/{name}?done=promoted&count={pushes}")).into_response())
}

/// `POST /profiles/{name}/rollout/abort`.
pub async fn abort(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let queued = console
        .app
        .store
        .abort_rollout(&name, &admin.actor(), Timestamp::now())
        .await?;
    console.app.gateway.send_queued(&queued);
    Ok(Redirect::to(&format!(
        "/profiles/{name}?done=aborted&count={}",
        queued.len()
    ))
    .into_response())
}
