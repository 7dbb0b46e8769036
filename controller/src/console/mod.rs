//! The web console: server-rendered HTML pages for IT admins (fleet, phone detail,
//! profiles, audit log with export, users and roles, account settings, contacts with
//! double opt-in), usable without JavaScript, with login sessions in cookies; and the
//! public consent pages a contact opens from their link ([`consent_page`]).
//!
//! Owns: the console's route table ([`routes`]), sessions, CSRF and role checks
//! ([`session`]), login throttling ([`throttle`]), security headers ([`headers`]),
//! templates and static files ([`render`]) and one module per page (profile editing,
//! upload and staging in [`profile_edit`], assignment, rollouts, and cloning with its
//! pure capture in [`clone_capture`]; the fleet's groups and bulk actions; the contact
//! import with its preview, the person record, and the records of processing with
//! retention).
//! Must never: reach the database except through `Store` methods, change anything over
//! GET or without the session's CSRF token, or run a handler without the capability its
//! route's role column names (every handler takes one).

mod account;
mod assign;
mod attachment;
mod audit;
mod bulk;
pub mod clock;
mod clone;
pub mod clone_capture;
mod consent;
mod consent_page;
mod contact_import;
mod contacts;
mod enroll_qr;
mod enrollment;
pub mod error;
mod export;
mod fleet;
mod fleet_choices;
mod fleet_query;
mod fleet_rows;
mod groups;
pub mod headers;
mod hot_cache;
mod login;
pub mod multipart;
mod password_policy;
mod person;
mod phone;
mod phone_detail;
mod phone_state;
mod profile_download;
pub mod profile_edit;
mod profiles;
mod provisioning;
mod records;
pub mod render;
mod rollout;
pub mod routes;
pub mod session;
pub mod throttle;
pub mod tls;
mod users;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::serve::AppState;
use error::ConsoleError;
use throttle::{Throttle, ThrottlePolicy};

/// How the console behaves; the defaults suit production.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Served over HTTPS: `__Host-` cookies with `Secure`, and HSTS. Set it when serving
    /// through [`tls::serve`] or behind a TLS-terminating front.
    pub tls: bool,
    /// A session unused this long ends (ASVS 7.3.1).
    pub idle_timeout: Duration,
    /// A session ends this long after login whatever its use (ASVS 7.3.2).
    pub absolute_timeout: Duration,
    /// Login throttling.
    pub throttle: ThrottlePolicy,
    /// A phone heard from within this counts as online for the fleet filter. The gateway
    /// closes a session that is silent for its idle timeout (3 minutes) and writes "last
    /// seen" every few seconds, so every connected phone was seen within it.
    pub online_window: Duration,
    /// Phones per fleet page.
    pub page_size: u32,
    /// How long the fleet filter's profile and group choices are reused before being read
    /// again (`console::fleet_choices`).
    pub choices_ttl: Duration,
    /// How long a session's user and times, once read, are reused before the database is
    /// asked again (`console::hot_cache`; `ZERO`: never cached). Logout, disabling a user
    /// and role changes on this replica clear it at once; other replicas see them within it.
    pub session_cache_ttl: Duration,
    /// How long the store's answer for one fleet-page query is reused
    /// (`console::hot_cache`; `ZERO`: never cached). The console's own changes clear it;
    /// changes from elsewhere (last-seen times, other replicas, the API) show within it.
    pub fleet_cache_ttl: Duration,
    /// Where sessions read the time (a hand-moved clock in tests).
    pub clock: clock::Clock,
    /// How long a new consent link can be confirmed (the form may choose 1 to 90 days).
    pub consent_link_ttl: Duration,
    /// Unusable consent links tried: `per_address` per client address, `per_user` all
    /// together, within `window`.
    pub consent_throttle: ThrottlePolicy,
}

impl ConsoleOptions {
    /// The current time by [`ConsoleOptions::clock`].
    pub fn now(&self) -> crate::domain::Timestamp {
        self.clock.now()
    }
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            tls: false,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            throttle: ThrottlePolicy::default(),
            online_window: Duration::from_secs(200),
            page_size: 50,
            choices_ttl: Duration::from_secs(5),
            session_cache_ttl: Duration::from_secs(1),
            fleet_cache_ttl: Duration::from_secs(1),
            clock: clock::Clock::system(),
            consent_link_ttl: Duration::from_secs(14 * 86_400),
            consent_throttle: ThrottlePolicy {
                per_user: 1000,
                per_address: 20,
                window: Duration::from_secs(15 * 60),
                capacity: 100_000,
            },
        }
    }
}

/// What console handlers share: the controller's state, the options and the throttle.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    pub app: AppState,
    pub options: Arc<ConsoleOptions>,
    pub throttle: Arc<Throttle>,
    /// Unusable consent links tried (see [`ConsoleOptions::consent_throttle`]).
    pub consent_throttle: Arc<Throttle>,
    /// Import previews awaiting confirmation (`contact_import`).
    pub imports: Arc<contact_import::ImportStash>,
    /// The fleet filter's choices, shared between requests.
    pub choices: Arc<fleet_choices::ChoiceCache>,
    /// Sessions recently confirmed by the database (`hot_cache`).
    pub sessions: Arc<hot_cache::SessionCache>,
    /// Fleet-page data recently read (`hot_cache`).
    pub fleet: Arc<hot_cache::FleetCache>,
}

/// The console's routes with their guard and headers, ready to merge at `/`.
pub fn router(app: AppState, options: ConsoleOptions) -> Router {
    let state = ConsoleState {
        app,
        throttle: Arc::new(Throttle::new(options.throttle)),
        consent_throttle: Arc::new(Throttle::new(options.consent_throttle)),
        imports: Arc::new(contact_import::ImportStash::default()),
        choices: Arc::default(),
        sessions: Arc::default(),
        fleet: Arc::default(),
        options: Arc::new(options),
    };
    let mut console = Router::new();
    for route in routes::ROUTES {
        console = console.route(route.path, (route.handler)());
    }
    console
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.options.tls,
            headers::security_headers,
        ))
        .with_state(state)
}

async fn method_not_allowed(method: Method) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        ConsoleError::BadRequest(format!("{method} is not allowed here")).to_string(),
    )
        .into_response()
}

/// Any path no route serves, outside `/api/v1`.
async fn not_found() -> ConsoleError {
    ConsoleError::NotFound("no such page".into())
}
