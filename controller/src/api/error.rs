//! The REST API's one error type and its JSON envelope:
//! `{"error": {"code": "<snake_case>", "message": "<what and where>", "details": …}}`.
//!
//! Owns: the mapping from every failure (credentials, roles, bad input, store errors) to
//! a status code and a stable `code`.
//! Must never: show internals — a database or corrupt-data error is logged here and
//! answered with a generic message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use corral_profiles::Diagnostic;

use super::auth::Access;
use crate::domain::Role;
use crate::store::StoreError;

/// Why a request failed, named for what the client can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or credentials that are not accepted: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the role may not do this: 403.
    #[error("the {} role may not {}; this needs {}", .role.as_str(), .needs.verb(), .needs.who())]
    Forbidden { role: Role, needs: Access },
    /// The id in the path (or a name in the body) names nothing: 404.
    #[error("{0}")]
    NotFound(String),
    /// No such route or method: 404 / 405.
    #[error("{message}")]
    NoRoute { status: StatusCode, message: String },
    /// The request is malformed (JSON, content type, a field, a parameter): 400.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// The body is too large: 413.
    #[error("{0}")]
    TooLarge(String),
    /// Profile files with errors: 422 with every diagnostic.
    #[error("{message}")]
    InvalidProfile {
        message: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// The change clashes with the current state (e.g. a revoked device): 409.
    #[error("{0}")]
    Conflict(String),
    /// The database is unreachable: 503.
    #[error("the database is unavailable; try again later")]
    Unavailable,
    /// A bug or corrupt data; details are in the controller's log: 500.
    #[error("internal error; the controller's log has the details")]
    Internal,
}

impl ApiError {
    /// A 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// Logs `what` and answers 500.
    pub fn internal(what: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %what, "REST API request failed.");
        ApiError::Internal
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NoRoute { status, .. } => *status,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidProfile { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::NoRoute { status, .. } if *status == StatusCode::METHOD_NOT_ALLOWED => {
                "method_not_allowed"
            }
            ApiError::NoRoute { .. } => "no_such_route",
            ApiError::BadRequest { code, .. } => code,
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::InvalidProfile { .. } => "invalid_profile",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal => "internal",
        }
    }

    fn details(&self) -> Option<serde_json::Value> {
        match self {
            ApiError::Forbidden { role, needs } => Some(serde_json::json!({
                "role": role.as_str(),
                "allowed_roles": needs.roles().iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            })),
            ApiError::InvalidProfile { diagnostics, .. } => Some(serde_json::json!({
                "diagnostics": super::profiles::diagnostics_json(diagnostics),
            })),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        if let (Some(details), Some(map)) = (self.details(), error.as_object_mut()) {
            map.insert("details".into(), details);
        }
        let mut response =
            (self.status(), Json(serde_json::json!({ "error": error }))).into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"corral\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            StoreError::Forbidden(why) => ApiError::Unauthorized(why.to_owned()),
            StoreError::Invalid(why) => ApiError::bad_request("invalid_request", why),
            StoreError::Unavailable(source) => {
                tracing::warn!(error = %source, "REST API: the database is unavailable.");
                ApiError::Unavailable
            }
            StoreError::Corrupt(what) => ApiError::internal(format!("corrupt data: {what}")),
        }
    }
}
