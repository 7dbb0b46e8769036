//! Reading requests: JSON bodies, path segments and query strings, each refusal turned
//! into an [`ApiError`] that names the field or position (axum's own rejections are
//! plain text).
//!
//! Must never: accept a body that is not `application/json`, or ignore an unknown field
//! or query parameter (a typo would silently do something else).

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::ParseError;

/// A JSON request body; refusals name the field and position.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        // "…: files[0]: missing field `text` at line 1 column 30"
        JsonRejection::JsonDataError(e) => ApiError::bad_request(
            "invalid_body",
            format!("request body: {}", inner_message(&e.body_text())),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "invalid_json",
            format!(
                "request body is not valid JSON: {}",
                inner_message(&e.body_text())
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
            "wrong_content_type",
            "request body must be JSON, sent with `Content-Type: application/json`",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge("request body is larger than the 2 MiB limit".into())
        }
        other => ApiError::bad_request(
            "invalid_body",
            format!("request body: {}", other.body_text()),
        ),
    }
}

/// axum prefixes serde's message with its own sentence; keep serde's part.
fn inner_message(text: &str) -> String {
    match text.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("Failed to") => rest.to_owned(),
        _ => text.to_owned(),
    }
}

/// Path segments (`{id}`, `{name}`, …) as plain text; handlers parse them so that a
/// malformed id can be answered like an unknown one.
#[derive(Debug)]
pub struct Segments<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Segments(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

fn path_rejection(rejection: &PathRejection) -> ApiError {
    ApiError::bad_request(
        "invalid_path",
        format!("request path: {}", rejection.body_text()),
    )
}

/// Parses a path segment that names something, answering 404 ("no device `x`") when it
/// cannot name anything: to the client a malformed id and an unknown one are the same.
pub fn named<T: FromStr<Err = ParseError>>(what: &str, text: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|e: ParseError| ApiError::NotFound(format!("no {what} `{text}` ({})", e.reason)))
}

/// A query string's parameters; unknown or repeated ones are refused.
#[derive(Debug, Default)]
pub struct Query {
    params: BTreeMap<String, String>,
}

impl Query {
    /// Parses `raw` (without `?`), allowing only `allowed` names.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Query, ApiError> {
        let mut params = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !allowed.contains(&key.as_ref()) {
                let known = if allowed.is_empty() {
                    "this route takes none".to_owned()
                } else {
                    format!("known: {}", allowed.join(", "))
                };
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("unknown query parameter `{key}` ({known})"),
                ));
            }
            if params
                .insert(key.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("query parameter `{key}` is given twice"),
                ));
            }
        }
        Ok(Query { params })
    }

    /// An optional parameter, parsed.
    pub fn get<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.params
            .get(name)
            .map(|v| {
                v.parse().map_err(|e| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("query parameter `{name}`: `{v}` is not valid: {e}"),
                    )
                })
            })
            .transpose()
    }

    /// A required parameter, parsed.
    pub fn require<T: FromStr>(&self, name: &str) -> Result<T, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)?.ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("query parameter `{name}` is required"),
            )
        })
    }
}
