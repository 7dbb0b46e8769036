//! `GET /events`: the append-only audit and event log, oldest first, paged by id.
//!
//! Must never: write anything (reading the log is not itself logged).

use axum::Json;
use axum::extract::{RawQuery, State};
use serde_json::{Value, json};

use super::auth::Reader;
use super::devices::device_id;
use super::error::ApiError;
use super::extract::Query;
use crate::serve::AppState;

/// Entries per page when `limit` is not given, and the most one page may hold.
pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// `GET /events?device=ID&after=ID&limit=N`.
pub async fn list(
    _: Reader,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(query.as_deref(), &["device", "after", "limit"])?;
    let device = match query.get::<String>("device")? {
        Some(text) => Some(device_id(&text).map_err(|_| {
            ApiError::bad_request(
                "invalid_query",
                format!("query parameter `device`: `{text}` is not a device id (32 lowercase hex digits)"),
            )
        })?),
        None => None,
    };
    let after: i64 = query.get("after")?.unwrap_or(0);
    let limit: u32 = query.get("limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("query parameter `limit` is {limit}; it must be 1 to {MAX_LIMIT}"),
        ));
    }
    let events = state.store.events(device.as_ref(), after, limit).await?;
    Ok(Json(
        events
            .iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "at": e.at.to_string(),
                    "device": e.device,
                    "actor": e.actor,
                    "kind": e.kind,
                    "detail": e.detail,
                })
            })
            .collect(),
    ))
}
