//! Account settings, for every user: change one's own password (the current one is
//! required; every other session of the user ends) and list and end one's own sessions.
//!
//! Must never: let a user name another user's session (the store matches the owner), or
//! check a current password without counting a failure in the login throttle.

use std::time::Instant;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::password_policy;
use super::render;
use super::session::{Viewer, client_address};
use crate::domain::{Password, PasswordHash, TokenPrefix};

async fn page(
    console: &ConsoleState,
    viewer: &Viewer,
    status: StatusCode,
    message: Option<&str>,
    error: Option<&str>,
) -> Result<Response, ConsoleError> {
    let session = &viewer.0;
    let now = console.options.now();
    let sessions: Vec<serde_json::Value> = console
        .app
        .store
        .sessions_of(&session.user, now)
        .await?
        .iter()
        .map(|s| {
            serde_json::json!({
                "prefix": s.prefix.as_str(),
                "created_at": s.created_at.to_string(),
                "last_seen_at": s.last_seen_at.to_string(),
                "expires_at": s.expires_at.to_string(),
                "current": &s.prefix == session.token.prefix(),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("sessions", &sessions);
    context.insert("message", &message);
    context.insert("error", &error);
    context.insert("min_chars", &password_policy::MIN_CHARS);
    let mut response = render::page(session, "account", "account.html", context);
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /account`.
pub async fn show(
    viewer: Viewer,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    page(&console, &viewer, StatusCode::OK, None, None).await
}

/// The password form (`csrf` is checked by the guard).
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub new: String,
    #[serde(default)]
    pub confirm: String,
}

/// `POST /account/password`.
pub async fn change_password(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    request_extensions: axum::http::Extensions,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ConsoleError> {
    let user = viewer.0.user.clone();
    let name = user.name.as_str().to_owned();
    let address = client_address(&request_extensions);
    if let Err(locked) = console.throttle.check(&name, address, Instant::now()) {
        return Err(ConsoleError::Throttled(
            locked.retry_after.as_secs().div_ceil(60),
        ));
    }
    let store = &console.app.store;
    let (_, hash) = store.user_credentials(&user.name).await?;
    let current = form.current;
    let verified = tokio::task::spawn_blocking(move || {
        Password::parse(&current).is_ok_and(|p| hash.verify(&p))
    })
    .await
    .map_err(ConsoleError::internal)?;
    if !verified {
        console.throttle.failed(&name, address, Instant::now());
        return page(
            &console,
            &viewer,
            StatusCode::BAD_REQUEST,
            None,
            Some("The current password is wrong."),
        )
        .await;
    }
    if form.new != form.confirm {
        return page(
            &console,
            &viewer,
            StatusCode::BAD_REQUEST,
            None,
            Some("The new password and its confirmation differ."),
        )
        .await;
    }
    let new = match password_policy::check(&form.new, &name) {
        Ok(p) => p,
        Err(why) => {
            return page(&console, &viewer, StatusCode::BAD_REQUEST, None, Some(&why)).await;
        }
    };
    let new_hash = tokio::task::spawn_blocking(move || PasswordHash::create(&new))
        .await
        .map_err(ConsoleError::internal)?
        .map_err(ConsoleError::internal)?;
    let ended = store
        .change_password(&user, &new_hash, &viewer.0.token, console.options.now())
        .await?;
    let message = format!("Password changed; {ended} other session(s) ended.");
    page(&console, &viewer, StatusCode::OK, Some(&message), None).await
}

/// `POST /account/sessions/{prefix}/end`: ends one of the user's own sessions (their
/// current one too, which logs them out).
pub async fn end_session(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path(prefix): Path<String>,
) -> Result<Response, ConsoleError> {
    let prefix = TokenPrefix::parse(&prefix)
        .map_err(|_| ConsoleError::NotFound("no such session".into()))?;
    console
        .app
        .store
        .end_session(&viewer.0.user, &prefix, console.options.now())
        .await?;
    if &prefix == viewer.0.token.prefix() {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(Redirect::to("/account").into_response())
}
