//! Logging in and out.
//!
//! Login: throttle check first (before any password work), then argon2id verification off
//! the async threads — against a dummy hash when the user does not exist or is disabled,
//! so the answer and its timing do not tell which — then a brand-new session (the one the
//! browser presented, if any, is deleted: the id is rotated at every login), a
//! `user.logged_in` event, and the cookie.
//! Must never: reuse a session id across a login, or say whether the user name exists.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::{
    LOGIN_COOKIE, MaybeSession, SESSION_COOKIE, Viewer, client_address, cookie, cookie_name,
    set_cookie,
};
use crate::domain::{NewEvent, Password, PasswordHash, SessionToken, UserName};

/// A hash to verify against when there is no user, so a wrong name costs the same time as
/// a wrong password.
static DUMMY_HASH: LazyLock<Option<PasswordHash>> =
    LazyLock::new(|| PasswordHash::create(&Password::generate()).ok());

const WRONG: &str = "Wrong user name or password.";

/// A fresh random value for the login form's double-submit token.
fn login_token() -> String {
    // A session token's shape is a good random value; only its text is used.
    SessionToken::generate().reveal()
}

fn login_page(
    console: &ConsoleState,
    status: StatusCode,
    error: Option<&str>,
    name: &str,
) -> Response {
    let token = login_token();
    let mut context = tera::Context::new();
    context.insert("csrf", &token);
    context.insert("error", &error);
    context.insert("name", name);
    let mut response = render::html("login.html", &context);
    *response.status_mut() = status;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &token, Some(3600), console.options.tls),
    );
    response
}

/// `GET /login`: the form (also to a logged-in user, who may log in as someone else; the
/// current session then ends).
pub async fn form(State(console): State<ConsoleState>) -> Response {
    login_page(&console, StatusCode::OK, None, "")
}

/// The login form's fields (`csrf` is checked by the guard).
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub name: String,
    pub password: String,
}

/// `POST /login`.
pub async fn submit(
    State(console): State<ConsoleState>,
    MaybeSession(previous): MaybeSession,
    headers: HeaderMap,
    request_extensions: axum::http::Extensions,
    Form(form): Form<LoginForm>,
) -> Result<Response, ConsoleError> {
    let address = client_address(&request_extensions);
    let name_text = form.name.trim().to_owned();
    if let Err(locked) = console.throttle.check(&name_text, address, Instant::now()) {
        tracing::warn!(user = %name_text, ?address, "Console login refused: throttled.");
        return Err(ConsoleError::Throttled(
            locked.retry_after.as_secs().div_ceil(60),
        ));
    }
    let store = &console.app.store;
    let found = match UserName::parse(&name_text) {
        Ok(name) => match store.user_credentials(&name).await {
            Ok(found) => Some(found),
            Err(crate::store::StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let password = form.password;
    let (user, hash) = match found {
        Some((user, hash)) if user.disabled_at.is_none() => (Some(user), Some(hash)),
        _ => (None, DUMMY_HASH.clone()),
    };
    let verified = tokio::task::spawn_blocking(move || match (hash, Password::parse(&password)) {
        (Some(hash), Ok(password)) => hash.verify(&password),
        _ => false,
    })
    .await
    .map_err(ConsoleError::internal)?;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            console.throttle.failed(&name_text, address, Instant::now());
            tracing::warn!(user = %name_text, ?address, "Console login failed.");
            return Ok(login_page(
                &console,
                StatusCode::UNAUTHORIZED,
                Some(WRONG),
                &name_text,
            ));
        }
    };
    console.throttle.succeeded(&name_text);
    // Rotate: whatever session the browser held ends; the new id is fresh randomness.
    if let Some(previous) = previous {
        store.delete_session(&previous.token).await?;
    } else if let Some(token) = cookie(&headers, &cookie_name(SESSION_COOKIE, console.options.tls))
        .and_then(|v| SessionToken::parse(&v).ok())
    {
        store.delete_session(&token).await?;
    }
    let now = console.options.now();
    let token = SessionToken::generate();
    store
        .create_session(
            &user,
            &token,
            now.plus(console.options.absolute_timeout),
            now,
        )
        .await?;
    store
        .append_event(
            &NewEvent {
                device: None,
                actor: format!("user:{}", user.name),
                kind: "user.logged_in".into(),
                detail: serde_json::json!({ "via": "console", "address": address.map(|a| a.to_string()) }),
            },
            now,
        )
        .await?;
    tracing::info!(user = %user.name, ?address, "Console login.");
    let mut response = Redirect::to("/fleet").into_response();
    let tls = console.options.tls;
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token.reveal(), None, tls),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, "", Some(0), tls),
    );
    Ok(response)
}

/// `POST /logout`: ends the session on the server and clears the cookie.
pub async fn logout(
    State(console): State<ConsoleState>,
    viewer: Viewer,
) -> Result<Response, ConsoleError> {
    let store = &console.app.store;
    store.delete_session(&viewer.0.token).await?;
    store
        .append_event(
            &NewEvent {
                device: None,
                actor: viewer.actor(),
                kind: "user.logged_out".into(),
                detail: serde_json::json!({ "via": "console" }),
            },
            console.options.now(),
        )
        .await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), console.options.tls),
    );
    // Tell the browser to drop anything it kept for this site.
    response.headers_mut().insert(
        header::HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cache\", \"cookies\""),
    );
    Ok(response)
}
