//! The console's one error type, answered as an HTML page (or a redirect to the login).
//!
//! Must never: show internals — database and corrupt-data errors go to the log and the
//! page says only that something went wrong.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::render;
use crate::api::auth::Access;
use crate::domain::Role;
use crate::store::StoreError;

/// Why a console request failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No session (or it expired): 303 to the login page.
    #[error("please log in")]
    LoggedOut,
    /// The role may not do this: 403.
    #[error("the {} role may not do this; it needs {}", .role.as_str(), .needs.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or "))]
    Forbidden { role: Role, needs: Access },
    /// A state change without a matching CSRF token, or from another site: 403.
    #[error("refused: {0}")]
    Forgery(String),
    /// Nothing by that name or id: 404.
    #[error("{0}")]
    NotFound(String),
    /// A malformed form or query: 400.
    #[error("{0}")]
    BadRequest(String),
    /// The change clashes with the current state: 409.
    #[error("{0}")]
    Conflict(String),
    /// Too many failed logins: 429.
    #[error("too many failed logins; try again in {0} minutes")]
    Throttled(u64),
    /// The database is unreachable: 503.
    #[error("the database is unavailable; try again later")]
    Unavailable,
    /// A bug or corrupt data; details are in the controller's log: 500.
    #[error("something went wrong; the controller's log has the details")]
    Internal,
}

impl ConsoleError {
    /// Logs `what` and answers 500.
    pub fn internal(what: impl std::fmt::Display) -> ConsoleError {
        tracing::error!(error = %what, "Console request failed.");
        ConsoleError::Internal
    }

    fn status(&self) -> StatusCode {
        match self {
            ConsoleError::LoggedOut => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden { .. } | ConsoleError::Forgery(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ConsoleError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ConsoleError::LoggedOut = self {
            return (
                status,
                [(header::LOCATION, HeaderValue::from_static("/login"))],
            )
                .into_response();
        }
        let mut context = tera::Context::new();
        context.insert("status", &status.as_u16());
        context.insert("reason", status.canonical_reason().unwrap_or("Error"));
        context.insert("message", &self.to_string());
        (status, render::html("error.html", &context)).into_response()
    }
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ConsoleError::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => ConsoleError::Conflict(what),
            StoreError::Forbidden(_) => ConsoleError::LoggedOut,
            StoreError::Invalid(why) => ConsoleError::BadRequest(why),
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "Console: the database is unavailable.");
                ConsoleError::Unavailable
            }
            StoreError::Corrupt(what) => ConsoleError::internal(format!("corrupt data: {what}")),
        }
    }
}
