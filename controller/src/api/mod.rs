//! The REST API under `/api/v1`: JSON over HTTP, authenticated with API tokens
//! (`Authorization: Bearer api-…`), for profiles, devices, enrollment tokens, the
//! event log, provisioning runs (what a remote station records) and the contact book. Documented by an OpenAPI 3.1 document built from the same route table.
//!
//! Owns: the route table ([`routes`]), access control ([`auth`]), request parsing
//! ([`extract`]), the error envelope ([`error`]) and one module per resource.
//! Must never: reach the database except through `Store` methods, change anything
//! without the caller's capability and an audit event committed with the change, or
//! panic on anything a client sends.

pub mod auth;
mod consent_links;
mod contact_schemas;
pub mod contacts;
mod device_actions;
mod devices;
mod enrollment;
pub mod error;
mod events;
mod extract;
pub mod openapi;
pub mod profile_publish;
pub mod profile_upload;
mod profiles;
mod provisioning;
pub mod routes;
mod schemas;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};

use error::ApiError;
use routes::ROUTES;

use crate::serve::AppState;

/// The REST API's routes, to be nested under [`routes::PREFIX`].
pub fn router() -> Router<AppState> {
    let mut api = Router::new();
    for route in ROUTES {
        api = api.route(route.path, (route.handler)());
    }
    api.fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn no_route(uri: Uri) -> ApiError {
    ApiError::NoRoute {
        status: StatusCode::NOT_FOUND,
        message: format!(
            "no route `{}{}`; the routes are listed in {}/openapi.json",
            routes::PREFIX,
            uri.path(),
            routes::PREFIX
        ),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!(
            "`{method} {}{}` is not a route; {}/openapi.json lists the methods of each path",
            routes::PREFIX,
            uri.path(),
            routes::PREFIX
        ),
    }
}
