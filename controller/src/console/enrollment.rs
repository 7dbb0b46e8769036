//! Enrollment tokens in the console (admins and technicians): create one for a profile or
//! a group with an expiry — its secret shown once, with the exact `corral-agent enroll`
//! command, its `corral-enroll:` link as a QR code (`enroll_qr`) and the station's
//! `corral enroll --all` command — list them with their state, and revoke one.
//!
//! Must never: show a token's secret after the creation page, or put it in a URL.

use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ConsoleState;
use super::enroll_qr;
use super::error::ConsoleError;
use super::render;
use super::session::Operator;
use crate::config::parse_duration;
use crate::domain::{
    EnrollmentBinding, EnrollmentTokenSecret, GroupName, ProfileName, TokenPrefix,
};

fn binding_text(binding: &EnrollmentBinding) -> String {
    match binding {
        EnrollmentBinding::Profile(p) => format!("profile {p}"),
        EnrollmentBinding::Group(g) => format!("group {g}"),
    }
}

async fn page(
    console: &ConsoleState,
    operator: &Operator,
    created: Option<serde_json::Value>,
) -> Result<Response, ConsoleError> {
    let now = console.options.now();
    let tokens: Vec<serde_json::Value> = console
        .app
        .store
        .enrollment_tokens()
        .await?
        .iter()
        .map(|t| {
            let state = if t.revoked_at.is_some() {
                "revoked"
            } else if t.used_at.is_some() {
                "used"
            } else if t.expires_at <= now {
                "expired"
            } else {
                "usable"
            };
            serde_json::json!({
                "prefix": t.prefix.as_str(),
                "for": binding_text(&t.binding),
                "created_at": t.created_at.to_string(),
                "created_by": t.created_by,
                "expires_at": t.expires_at.to_string(),
                "used_by": t.used_by.as_ref().map(ToString::to_string),
                "state": state,
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("tokens", &tokens);
    context.insert("created", &created);
    context.insert(
        "default_ttl",
        &crate::config::format_duration(console.app.config.enrollment_token_ttl),
    );
    Ok(render::page(
        &operator.0,
        "enrollment",
        "enrollment.html",
        context,
    ))
}

/// `GET /enrollment`.
pub async fn show(
    operator: Operator,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    page(&console, &operator, None).await
}

/// The token form (`csrf` is checked by the guard): a profile or a group, and a lifetime.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub expires: String,
}

/// `POST /enrollment/tokens`: answers the page with the new token and its command, once.
pub async fn create(
    operator: Operator,
    State(console): State<ConsoleState>,
    Form(form): Form<TokenForm>,
) -> Result<Response, ConsoleError> {
    let bad = |e: String| ConsoleError::BadRequest(e);
    let binding = match (form.profile.trim(), form.group.trim()) {
        (p, "") if !p.is_empty() => {
            EnrollmentBinding::Profile(ProfileName::parse(p).map_err(|e| bad(e.to_string()))?)
        }
        ("", g) if !g.is_empty() => {
            EnrollmentBinding::Group(GroupName::parse(g).map_err(|e| bad(e.to_string()))?)
        }
        _ => return Err(bad("name either a profile or a group".into())),
    };
    let ttl = match form.expires.trim() {
        "" => console.app.config.enrollment_token_ttl,
        text => parse_duration(text).map_err(bad)?,
    };
    let now = console.options.now();
    let token = EnrollmentTokenSecret::generate();
    let stored = console
        .app
        .store
        .create_enrollment_token(
            &token,
            &binding,
            now.plus(ttl),
            Some(&operator.actor()),
            now,
        )
        .await?;
    let config = &console.app.config;
    let host = config
        .server_names
        .first()
        .cloned()
        .unwrap_or_else(|| "localhost".into());
    let controller = format!("{host}:{}", config.enrollment_listen.port());
    let fingerprint = console.app.ca.fingerprint();
    let command = format!(
        "corral-agent enroll --controller {controller} --ca-fingerprint {fingerprint} --token {}",
        token.reveal()
    );
    let link = enroll_qr::enroll_link(&controller, fingerprint, &token.reveal());
    let qr = enroll_qr::qr_svg(&link).map_err(|e| {
        tracing::error!(error = %e, "Enrollment QR code.");
        ConsoleError::Internal
    })?;
    // A station makes its own token per phone from an API token; it only needs to know
    // the profile (a group-bound token has no station equivalent yet).
    let station = format!(
        "corral enroll --all --controller {}://{host}:{} --token-file station-token.txt{}",
        if console.options.tls { "https" } else { "http" },
        config.console_listen.port(),
        match &binding {
            EnrollmentBinding::Profile(p) => format!(" --profile {p}"),
            EnrollmentBinding::Group(_) => String::new(),
        }
    );
    let created = serde_json::json!({
        "token": token.reveal(),
        "for": binding_text(&binding),
        "expires_at": stored.expires_at.to_string(),
        "command": command,
        "link": link,
        "qr_svg": qr,
        "station_command": station,
        "group_bound": matches!(binding, EnrollmentBinding::Group(_)),
    });
    page(&console, &operator, Some(created)).await
}

/// `POST /enrollment/tokens/{prefix}/revoke`.
pub async fn revoke(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(prefix): Path<String>,
) -> Result<Response, ConsoleError> {
    let prefix = TokenPrefix::parse(&prefix)
        .map_err(|_| ConsoleError::NotFound("no such enrollment token".into()))?;
    console
        .app
        .store
        .revoke_enrollment_token(&prefix, &operator.actor(), console.options.now())
        .await?;
    Ok(Redirect::to("/enrollment").into_response())
}
