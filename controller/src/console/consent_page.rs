//! The public double opt-in page a contact opens from their consent link: the shop, the
//! exact wording and the privacy notice, a Confirm button, and afterwards a Withdraw
//! button on the same link; plus the built-in privacy notice.
//!
//! No account, no session, no cookies, no JavaScript, nothing from another origin (the
//! headers middleware sends a stricter policy for these paths); the forms carry a hidden
//! value bound to the link (checked by the guard). Unusable tokens are counted per client
//! address and the page is refused for a while after too many.
//! Must never: log or audit the token (events name the person's pseudonym), tell an
//! unknown link from a wrong secret, or show the person's data.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use super::ConsoleState;
use super::render;
use super::session::{client_address, consent_form_value};
use crate::domain::{ConsentLinkToken, LinkState};
use crate::store::{ConsentLinkView, ErasureReason, StoreError};

/// The throttle's "user" key for consent links: all bad guesses together, a global cap.
const GUESSES: &str = "consent-link";

fn public(status: StatusCode, template: &str, context: &tera::Context) -> Response {
    (status, render::html(template, context)).into_response()
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    let mut context = tera::Context::new();
    context.insert("title", title);
    context.insert("message", text);
    public(status, "consent_message.html", &context)
}

fn unknown() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "This link is not valid",
        "The link is incomplete or was never issued, or the contact it was for has been erased. \
         If you copied it, check that nothing is missing, or ask the shop for a new one.",
    )
}

fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again later",
        "The page cannot be shown right now.",
    )
}

/// Parses the token and looks it up; counts a miss. `Err` is the page to answer.
async fn lookup(
    console: &ConsoleState,
    extensions: &axum::http::Extensions,
    token: &str,
) -> Result<(ConsentLinkToken, ConsentLinkView), Response> {
    let address = client_address(extensions);
    if console
        .consent_throttle
        .check(GUESSES, address, Instant::now())
        .is_err()
    {
        return Err(message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many invalid links were tried from here. Please try again in 15 minutes.",
        ));
    }
    let miss = || {
        console
            .consent_throttle
            .failed(GUESSES, address, Instant::now());
        unknown()
    };
    let Ok(token) = ConsentLinkToken::parse(token) else {
        return Err(miss());
    };
    match console.app.store.consent_link(&token).await {
        Ok(view) => Ok((token, view)),
        Err(StoreError::Forbidden(_) | StoreError::NotFound(_)) => Err(miss()),
        Err(e) => {
            tracing::warn!(error = %e, "Consent page: cannot read the link.");
            Err(unavailable())
        }
    }
}

fn page(
    token: &ConsentLinkToken,
    view: &ConsentLinkView,
    now: crate::domain::Timestamp,
) -> Response {
    let state = view.link.state(now);
    let mut context = tera::Context::new();
    let url = token.reveal();
    context.insert("token", &url);
    context.insert("form", &consent_form_value(&url));
    context.insert(
        "wording",
        &json!({
            "shop_name": view.wording.shop_name,
            "text": view.wording.wording,
            "version": view.wording.version_label(),
            "privacy_url": view.wording.privacy_url.as_deref().unwrap_or("/privacy-notice"),
        }),
    );
    context.insert(
        "state",
        match state {
            LinkState::Open => "open",
            LinkState::Confirmed => "confirmed",
            LinkState::Expired => "expired",
        },
    );
    context.insert("expires_at", &view.link.expires_at.to_string());
    context.insert(
        "confirmed_at",
        &view.link.confirmed_at.map(|t| t.to_string()),
    );
    let status = if state == LinkState::Expired {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    public(status, "consent_page.html", &context)
}

/// `GET /consent/{token}`.
pub async fn show(
    State(console): State<ConsoleState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    match lookup(&console, request.extensions(), &token).await {
        Ok((token, view)) => page(&token, &view, console.options.now()),
        Err(answer) => answer,
    }
}

/// `POST /consent/{token}`: the person confirms; the contact's basis becomes this consent
/// and the allow-lists are queued, so the contact reaches the phones.
pub async fn confirm(
    State(console): State<ConsoleState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (token, _) = match lookup(&console, request.extensions(), &token).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let now = console.options.now();
    match console.app.store.confirm_consent_link(&token, now).await {
        Ok(_) => {
            crate::api::contacts::requeue(&console.app).await;
            Redirect::to(&format!("/consent/{}", token.reveal())).into_response()
        }
        // Used or expired meanwhile: the page says which.
        Err(StoreError::Conflict(_)) => match console.app.store.consent_link(&token).await {
            Ok(view) => page(&token, &view, now),
            Err(_) => unknown(),
        },
        Err(StoreError::Forbidden(_) | StoreError::NotFound(_)) => unknown(),
        Err(e) => {
            tracing::warn!(error = %e, "Consent page: cannot record the confirmation.");
            unavailable()
        }
    }
}

/// `POST /consent/{token}/withdraw`: the person withdraws a confirmed consent. Same path as
/// a withdrawal in the console: the contact is taken off every phone and erased.
pub async fn withdraw(
    State(console): State<ConsoleState>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (_, view) = match lookup(&console, request.extensions(), &token).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    if view.link.state(console.options.now()) != LinkState::Confirmed {
        return message(
            StatusCode::CONFLICT,
            "Nothing to withdraw",
            "You have not confirmed through this link, so there is no consent to withdraw.",
        );
    }
    let contact = match console.app.store.contact(&view.link.contact).await {
        Ok(c) => c,
        Err(StoreError::NotFound(_)) => return unknown(),
        Err(e) => {
            tracing::warn!(error = %e, "Consent page: cannot read the contact.");
            return unavailable();
        }
    };
    let actor = format!("contact:{}", contact.pseudonym);
    match crate::allow_lists::erase(
        &console.app,
        &view.link.contact,
        ErasureReason::Withdrawal,
        &actor,
    )
    .await
    {
        Ok(_) => message(
            StatusCode::OK,
            "Consent withdrawn",
            "Your consent is withdrawn. Your name and number are being removed from every company \
             phone and have been deleted from the shop's contact book. This link no longer works.",
        ),
        Err(StoreError::NotFound(_)) => unknown(),
        Err(e) => {
            tracing::warn!(error = %e, "Consent page: cannot record the withdrawal.");
            unavailable()
        }
    }
}

/// `GET /privacy-notice`: the built-in privacy notice a wording without its own address
/// links to.
pub async fn privacy_notice(State(console): State<ConsoleState>) -> Response {
    let shop = match console.app.store.current_consent_wording().await {
        Ok(w) => w.map(|w| w.shop_name),
        Err(e) => {
            tracing::warn!(error = %e, "Privacy notice: cannot read the wording.");
            return unavailable();
        }
    };
    let mut context = tera::Context::new();
    context.insert("shop_name", &shop.unwrap_or_else(|| "The shop".into()));
    public(StatusCode::OK, "privacy_notice.html", &context)
}
