//! Console sessions and request forgery protection.
//!
//! Owns: the cookies (session and login-form), the CSRF token of a session, the
//! [`guard`] middleware every console request passes through, and the capabilities
//! handlers take ([`Viewer`], [`Operator`], [`Admin`]) — a handler without one does not
//! compile against the route table's role column, and the actor of its audit event comes
//! from it.
//! Must never: accept a state change (any method but GET/HEAD) without a CSRF token that
//! matches the session (or, for the login form, the login cookie); accept a session id
//! the server did not issue; say which of user name or password was wrong.
//!
//! The public consent pages have no session: their forms carry a value bound to the link
//! ([`consent_form_value`]), and the `Origin` check applies as everywhere.
//!
//! The CSRF token is a synchronizer token bound to the session: SHA-256 over a fixed label
//! and the session's secret. Only the server and the HttpOnly cookie know that secret, so
//! the token cannot be guessed from another site, it is checked on the server for every
//! POST, and it dies with the session (a new one at every login) without a table of its own.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::ConsoleState;
use super::error::ConsoleError;
use crate::api::auth::Access;
use crate::domain::{AdminUser, Role, SessionToken};

/// Largest form body the console reads (the CSRF check buffers it).
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// Largest `multipart/form-data` body (a file upload): the import's file limit and room
/// for the other fields.
pub const MAX_UPLOAD_BYTES: usize = crate::contact_import::MAX_BYTES + 64 * 1024;

/// The name of a cookie: `__Host-` prefixed when served over TLS. The prefix requires
/// `Secure`, which browsers refuse over plain HTTP, so without TLS the plain name is used
/// (and the console should only listen on loopback).
pub fn cookie_name(base: &str, tls: bool) -> String {
    if tls {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// A `Set-Cookie` value: host-only (no Domain), `Path=/`, HttpOnly, SameSite=Strict,
/// Secure under TLS. `max_age` `None` makes a browser-session cookie; `Some(0)` deletes.
pub fn set_cookie(base: &str, value: &str, max_age: Option<u64>, tls: bool) -> HeaderValue {
    let mut cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict",
        cookie_name(base, tls)
    );
    if tls {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

pub const SESSION_COOKIE: &str = "corral-session";
pub const LOGIN_COOKIE: &str = "corral-login";

/// The CSRF token of the session with this token.
pub fn csrf_token(session: &SessionToken) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(b"corral console csrf token\0");
    hash.update(session.reveal().as_bytes());
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// Whether `path` is one of the public pages a contact opens from their consent link
/// (and the built-in privacy notice): no session is looked up there, and no cookie set.
pub fn is_consent_page(path: &str) -> bool {
    path.starts_with("/consent/") || path == "/privacy-notice"
}

/// `path` as it may be logged: a consent link's token replaced by `…`.
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with("/consent/") {
        "/consent/…"
    } else {
        path
    }
}

/// The hidden form value of the consent page of link `token` (its full text): SHA-256
/// over a fixed label and the token, so it is bound to that one link and needs no cookie.
pub fn consent_form_value(token: &str) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(b"corral consent form\0");
    hash.update(token.as_bytes());
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The logged-in user of this request, put into the request by [`guard`].
#[derive(Debug, Clone)]
pub struct Session {
    pub user: AdminUser,
    pub token: SessionToken,
}

impl Session {
    /// The token forms must send back.
    pub fn csrf(&self) -> String {
        csrf_token(&self.token)
    }

    /// How the event log names this user: `user:<name>`.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.name)
    }
}

/// The client address, when the listener provides it.
pub fn client_address(parts_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    parts_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The form field `name` of an `application/x-www-form-urlencoded` body.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Every console request: finds the session (and drops a cookie that names none), and
/// refuses a state change whose CSRF token does not match. Handlers then read the
/// [`Session`] through a capability.
pub async fn guard(State(console): State<ConsoleState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let tls = console.options.tls;
    let presented = cookie(&parts.headers, &cookie_name(SESSION_COOKIE, tls))
        .and_then(|v| SessionToken::parse(&v).ok())
        .filter(|_| !is_consent_page(parts.uri.path()));
    let mut stale_cookie = false;
    if let Some(token) = presented {
        let idle = i64::try_from(console.options.idle_timeout.as_millis()).unwrap_or(i64::MAX);
        let now = console.options.now();
        let key = token.secret_hash().as_str().to_owned();
        let ttl = console.options.session_cache_ttl;
        if let Some(user) = console.sessions.get(&key, ttl, idle, now.unix_millis()) {
            parts.extensions.insert(Session { user, token });
        } else {
            let generation = console.sessions.generation();
            match console.app.store.session_lookup(&token, idle, now).await {
                Ok(found) => {
                    if !ttl.is_zero() {
                        console.sessions.put(
                            key,
                            generation,
                            found.user.clone(),
                            found.last_seen_ms,
                            found.expires_ms,
                        );
                    }
                    parts.extensions.insert(Session {
                        user: found.user,
                        token,
                    });
                }
                Err(crate::store::StoreError::Forbidden(_)) => stale_cookie = true,
                Err(e) => return ConsoleError::from(e).into_response(),
            }
        }
    }
    let changes_state = !matches!(parts.method, Method::GET | Method::HEAD);
    let request = if matches!(parts.method, Method::GET | Method::HEAD) {
        Request::from_parts(parts, body)
    } else {
        let limit = if multipart_boundary(&parts.headers).is_some() {
            MAX_UPLOAD_BYTES
        } else {
            MAX_FORM_BYTES
        };
        let Ok(bytes) = to_bytes(body, limit).await else {
            return ConsoleError::BadRequest(format!(
                "the form is too large (at most {} KiB)",
                limit / 1024
            ))
            .into_response();
        };
        if let Err(e) = check_forgery(&parts, &bytes, tls) {
            tracing::warn!(path = %loggable_path(parts.uri.path()), reason = %e, "Console: refused a state change.");
            return e.into_response();
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    let mut response = next.run(request).await;
    if changes_state {
        // Whatever it changed (a logout, a user's role or access, the fleet), the
        // short-lived caches must not show this replica's users the state before it.
        console.sessions.clear();
        console.fleet.clear();
    }
    if stale_cookie && !response.headers().contains_key(header::SET_COOKIE) {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", Some(0), tls),
        );
    }
    response
}

/// The boundary when the request is a `multipart/form-data` upload.
pub fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(super::multipart::boundary)
}

/// The CSRF rule for one state-changing request.
fn check_forgery(parts: &Parts, body: &[u8], tls: bool) -> Result<(), ConsoleError> {
    let refused = |why: &str| ConsoleError::Forgery(why.to_owned());
    // Defence in depth: a browser names the page a form came from; it must be ours.
    if let (Some(origin), Some(host)) = (
        parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    ) && origin != format!("{}://{host}", if tls { "https" } else { "http" })
        // A page sent with `Referrer-Policy: no-referrer` (the consent pages) makes the
        // browser send `Origin: null`; there the link-bound form value carries the check.
        && !(origin == "null" && is_consent_page(parts.uri.path()))
    {
        return Err(refused("the form was sent from another site"));
    }
    let sent = match multipart_boundary(&parts.headers) {
        Some(boundary) => super::multipart::parse(body, &boundary)
            .ok()
            .and_then(|fields| super::multipart::text_field(&fields, "csrf")),
        None => form_field(body, "csrf"),
    }
    .ok_or_else(|| refused("the form has no CSRF token"))?;
    let path = parts.uri.path();
    let expected = if let Some(rest) = path.strip_prefix("/consent/") {
        // A contact has no session: the form value is bound to the link instead.
        consent_form_value(rest.split('/').next().unwrap_or_default())
    } else if path == "/login" {
        // Before login there is no session: the login form's token is also in a cookie
        // only this site can set (double submit), which stops login CSRF.
        cookie(&parts.headers, &cookie_name(LOGIN_COOKIE, tls))
            .ok_or_else(|| refused("the login form expired; reload it"))?
    } else {
        parts
            .extensions
            .get::<Session>()
            .ok_or(ConsoleError::LoggedOut)?
            .csrf()
    };
    if same_secret(&sent, &expected) {
        Ok(())
    } else {
        Err(refused("the CSRF token does not match the session"))
    }
}

fn session_with(parts: &Parts, access: Access) -> Result<Session, ConsoleError> {
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or(ConsoleError::LoggedOut)?;
    if access.allows(session.user.role) {
        Ok(session)
    } else {
        Err(ConsoleError::Forbidden {
            role: session.user.role,
            needs: access,
        })
    }
}

/// The session, if any, for pages anyone may see (the login page).
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<ConsoleState> for MaybeSession {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(parts.extensions.get::<Session>().cloned()))
    }
}

macro_rules! capability {
    ($(#[$meta:meta])* $name:ident, $access:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Session);

        impl $name {
            /// What this capability needs.
            pub const ACCESS: Access = $access;

            /// How the event log names the user.
            pub fn actor(&self) -> String {
                self.0.actor()
            }
        }

        impl FromRequestParts<ConsoleState> for $name {
            type Rejection = ConsoleError;

            async fn from_request_parts(
                parts: &mut Parts,
                _: &ConsoleState,
            ) -> Result<Self, Self::Rejection> {
                session_with(parts, Self::ACCESS).map($name)
            }
        }
    };
}

capability!(
    /// Any logged-in user: may look.
    Viewer,
    Access::Read
);
capability!(
    /// Admin or technician: may re-sync phones.
    Operator,
    Access::Operate
);
capability!(
    /// Admin: may revoke phones.
    Admin,
    Access::Administer
);

/// The role names allowed by `access`, for pages that explain a refusal.
pub fn role_names(access: Access) -> Vec<&'static str> {
    access.roles().iter().map(|r: &Role| r.as_str()).collect()
}
