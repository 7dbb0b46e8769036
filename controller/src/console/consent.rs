//! The admin side of double opt-in: the consent wording with its version history, and
//! creating a contact's consent link (shown once, to be sent to the person).
//!
//! Must never: show a link's secret after the answer to its creation, or change anything
//! over GET.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::{Admin, Operator, Viewer, form_field};
use crate::domain::{ConsentLinkToken, ConsentWording, ContactId, LinkState, WordingDraft};

/// Longest lifetime a link may be given, in days.
pub const MAX_LINK_DAYS: u64 = 90;

fn wording_json(w: &ConsentWording) -> Value {
    json!({
        "version": w.version_label(),
        "shop_name": w.shop_name,
        "wording": w.wording,
        "privacy_url": w.privacy_url,
        "created_at": w.created_at.to_string(),
        "created_by": w.created_by,
    })
}

async fn wording_page(
    console: &ConsoleState,
    viewer: &Viewer,
    error: Option<String>,
) -> Result<Response, ConsoleError> {
    let versions: Vec<Value> = console
        .app
        .store
        .consent_wordings()
        .await?
        .iter()
        .map(wording_json)
        .collect();
    let mut context = tera::Context::new();
    context.insert("current", &versions.first());
    context.insert("versions", &versions);
    context.insert("error", &error);
    context.insert("can_edit", &Admin::ACCESS.allows(viewer.0.user.role));
    Ok(render::page(
        &viewer.0,
        "contacts",
        "consent_wording.html",
        context,
    ))
}

/// `GET /consent-wording`: the current wording and every earlier version.
pub async fn wording(
    viewer: Viewer,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    wording_page(&console, &viewer, None).await
}

/// `POST /consent-wording`: stores a new version (earlier versions stay as they were).
pub async fn set_wording(
    admin: Admin,
    State(console): State<ConsoleState>,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let field = |name: &str| form_field(&body, name).unwrap_or_default();
    match WordingDraft::parse(
        &field("shop_name"),
        &field("wording"),
        &field("privacy_url"),
    ) {
        Ok(draft) => {
            console
                .app
                .store
                .set_consent_wording(&draft, &admin.actor(), console.options.now())
                .await?;
            Ok(Redirect::to("/consent-wording").into_response())
        }
        Err(e) => wording_page(&console, &Viewer(admin.0), Some(e.to_string())).await,
    }
}

/// The address people open: this console's scheme and host, then `/consent/{token}`.
pub fn link_url(headers: &HeaderMap, tls: bool, token: &ConsentLinkToken) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{host}/consent/{}", token.reveal())
}

/// A contact's links for its page: state and times, never a secret.
pub async fn links_json(
    console: &ConsoleState,
    contact: &ContactId,
) -> Result<Vec<Value>, ConsoleError> {
    let now = console.options.now();
    Ok(console
        .app
        .store
        .consent_links_of(contact)
        .await?
        .iter()
        .map(|l| {
            let state = match l.state(now) {
                LinkState::Open => "waiting for the person",
                LinkState::Confirmed => "confirmed",
                LinkState::Expired => "expired",
            };
            json!({
                "prefix": l.prefix.as_str(),
                "state": state,
                "wording_version": format!("v{}", l.wording_version),
                "created_at": l.created_at.to_string(),
                "expires_at": l.expires_at.to_string(),
                "confirmed_at": l.confirmed_at.map(|t| t.to_string()),
                "created_by": l.created_by,
            })
        })
        .collect())
}

/// `POST /contacts/{id}/consent-link`: a new link with the current wording, valid for
/// `days` (default `ConsoleOptions::consent_link_ttl`); the answer shows it once.
pub async fn create_link(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let id =
        ContactId::parse(&id).map_err(|_| ConsoleError::NotFound(format!("no contact `{id}`")))?;
    let ttl = match form_field(&body, "days").as_deref().map(str::trim) {
        None | Some("") => console.options.consent_link_ttl,
        Some(days) => match days.parse::<u64>() {
            Ok(d) if (1..=MAX_LINK_DAYS).contains(&d) => Duration::from_secs(d * 86_400),
            _ => {
                return Err(ConsoleError::BadRequest(format!(
                    "days: a whole number from 1 to {MAX_LINK_DAYS}"
                )));
            }
        },
    };
    let now = console.options.now();
    let token = ConsentLinkToken::generate();
    let contact = console.app.store.contact(&id).await?;
    let link = console
        .app
        .store
        .create_consent_link(&token, &id, now.plus(ttl), &operator.actor(), now)
        .await?;
    let mut context = tera::Context::new();
    context.insert("contact_id", id.as_str());
    context.insert("contact_name", contact.name.as_str());
    context.insert("url", &link_url(&headers, console.options.tls, &token));
    context.insert("expires_at", &link.expires_at.to_string());
    context.insert("wording_version", &format!("v{}", link.wording_version));
    Ok(render::page(
        &operator.0,
        "contacts",
        "consent_link.html",
        context,
    ))
}

/// `GET /contacts/{id}/consent`: the contact's links and, for operators, the form to
/// create one.
pub async fn links(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id =
        ContactId::parse(&id).map_err(|_| ConsoleError::NotFound(format!("no contact `{id}`")))?;
    let contact = console.app.store.contact(&id).await?;
    let mut context = tera::Context::new();
    context.insert(
        "contact",
        &json!({ "id": id.as_str(), "name": contact.name.as_str() }),
    );
    context.insert("links", &links_json(&console, &id).await?);
    context.insert(
        "has_wording",
        &console.app.store.current_consent_wording().await?.is_some(),
    );
    context.insert(
        "default_days",
        &(console.options.consent_link_ttl.as_secs() / 86_400).clamp(1, MAX_LINK_DAYS),
    );
    context.insert("can_edit", &Operator::ACCESS.allows(viewer.0.user.role));
    Ok(render::page(
        &viewer.0,
        "contacts",
        "consent_links.html",
        context,
    ))
}

/// `GET /erasures`: every erasure and withdrawal (console, API or the person's own link),
/// newest first, with how many phones confirmed the removal.
pub async fn erasures(
    viewer: Viewer,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    let list: Vec<Value> = console
        .app
        .store
        .erasures()
        .await?
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "pseudonym": e.pseudonym,
                "reason": e.reason,
                "erased_at": e.erased_at.to_string(),
                "actor": e.actor,
                "phones": e.receipts.len(),
                "confirmed": e.receipts.iter().filter(|r| r.confirmed_at.is_some()).count(),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("erasures", &list);
    Ok(render::page(
        &viewer.0,
        "contacts",
        "erasures.html",
        context,
    ))
}
