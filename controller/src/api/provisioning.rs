//! `/provisioning/...`: what a station (`corral enroll --all` on any PC with a USB hub)
//! needs from the controller to provision phones remotely — where agents enroll, the
//! record of runs and steps, and the list of runs with their steps (newest first).
//! Enrollment tokens come from `POST /enrollment-tokens`; whether a phone's agent has
//! enrolled and applied its profile from `GET /devices/{id}`.
//!
//! Must never: change a finished step or run (the store refuses), or record a run
//! without the caller named in its `provisioning.started` / `.done|.failed` events.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Operator, Reader};
use super::error::ApiError;
use super::extract::{Body, Query, Segments};
use crate::domain::{
    DeviceId, ProfileName, ProvisionStep, ProvisioningRun, RunOutcome, StepOutcome, Timestamp,
};
use crate::serve::AppState;

/// Runs per page when `limit` is not given, and the most one page may hold.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// The body of `POST /provisioning/runs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    pub serial: String,
    pub profile: ProfileName,
}

/// The body of `POST /provisioning/runs/{run}/steps`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartStep {
    pub step: String,
}

/// The body of `PUT /provisioning/runs/{run}/steps/{step}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishStep {
    pub outcome: String,
    pub detail: Option<String>,
    pub error: Option<String>,
}

/// The body of `PUT /provisioning/runs/{run}/outcome`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRun {
    pub outcome: String,
    pub error: Option<String>,
    pub device: Option<String>,
}

/// The longest serial a station may record (adb serials and `HOST:PORT` are short).
const MAX_SERIAL: usize = 200;
/// The longest detail or error text recorded.
const MAX_TEXT: usize = 8 * 1024;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_body", message)
}

fn run_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no provisioning run `{text}`")))
}

fn step(text: &str) -> Result<ProvisionStep, ApiError> {
    text.parse().map_err(|_| {
        let known: Vec<&str> = ProvisionStep::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::NotFound(format!(
            "no provisioning step `{text}` (steps: {})",
            known.join(", ")
        ))
    })
}

fn bounded<'a>(field: &str, text: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
    match text {
        Some(t) if t.len() > MAX_TEXT => Err(invalid(format!(
            "`{field}` is {} bytes; at most {MAX_TEXT}",
            t.len()
        ))),
        other => Ok(other),
    }
}

/// `GET /provisioning/enrollment`: where agents enroll and the CA fingerprint they pin.
pub async fn enrollment(_: Reader, State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "address": state.config.enrollment_listen.to_string(),
        "ca_fingerprint": state.ca.fingerprint(),
    }))
}

/// `POST /provisioning/runs`: 201 with the new run's id; closes the phone's unfinished
/// earlier runs as `interrupted`.
pub async fn start_run(
    operator: Operator,
    State(state): State<AppState>,
    Body(request): Body<StartRun>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let serial = request.serial.trim();
    if serial.is_empty() || serial.len() > MAX_SERIAL || serial.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`serial` must be 1 to {MAX_SERIAL} printable characters: the phone's adb serial or HOST:PORT"
        )));
    }
    super::profiles::published(&state, &request.profile).await?;
    let id = state
        .store
        .start_provisioning_run(
            serial,
            &request.profile,
            &operator.actor(),
            Timestamp::now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "serial": serial, "profile": request.profile })),
    ))
}

/// `POST /provisioning/runs/{run}/steps`: 204; a step starts once per run.
pub async fn start_step(
    _: Operator,
    State(state): State<AppState>,
    Segments(run): Segments<String>,
    Body(request): Body<StartStep>,
) -> Result<StatusCode, ApiError> {
    let run = run_id(&run)?;
    let step = request.step.parse::<ProvisionStep>().map_err(|_| {
        invalid(format!(
            "`step`: `{}` is not a provisioning step",
            request.step
        ))
    })?;
    state
        .store
        .start_provisioning_step(run, step, Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /provisioning/runs/{run}/steps/{step}`: 204; a step ends once.
pub async fn finish_step(
    _: Operator,
    State(state): State<AppState>,
    Segments((run, which)): Segments<(String, String)>,
    Body(request): Body<FinishStep>,
) -> Result<StatusCode, ApiError> {
    let (run, which) = (run_id(&run)?, step(&which)?);
    let outcome: StepOutcome = request.outcome.parse().map_err(|_| {
        invalid(format!(
            "`outcome`: `{}` is not one of done, unchanged, failed",
            request.outcome
        ))
    })?;
    let detail = bounded("detail", request.detail.as_deref())?;
    let error = bounded("error", request.error.as_deref())?;
    state
        .store
        .finish_provisioning_step(run, which, outcome, detail, error, Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /provisioning/runs/{run}/outcome`: 204; a run ends once, with its event.
pub async fn finish_run(
    operator: Operator,
    State(state): State<AppState>,
    Segments(run): Segments<String>,
    Body(request): Body<FinishRun>,
) -> Result<StatusCode, ApiError> {
    let run = run_id(&run)?;
    let outcome: RunOutcome = match request.outcome.as_str() {
        "done" => RunOutcome::Done,
        "failed" => RunOutcome::Failed,
        other => {
            return Err(invalid(format!(
                "`outcome`: `{other}` is not one of done, failed"
            )));
        }
    };
    let device: Option<DeviceId> = match request.device.as_deref() {
        Some(text) => Some(text.parse().map_err(|_| {
            invalid(format!(
                "`device`: `{text}` is not a device id (32 lowercase hex digits)"
            ))
        })?),
        None => None,
    };
    let error = bounded("error", request.error.as_deref())?;
    state
        .store
        .finish_provisioning_run(
            run,
            outcome,
            error,
            device.as_ref(),
            &operator.actor(),
            Timestamp::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn time(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// A run as the API shows it.
pub fn run_json(run: &ProvisioningRun) -> Value {
    json!({
        "id": run.id,
        "serial": run.serial,
        "profile": run.profile,
        "started_at": run.started_at.to_string(),
        "finished_at": time(run.finished_at),
        "outcome": run.outcome.as_ref().map(|o| o.as_str()),
        "error": run.error,
        "device": run.device,
        "steps": run.steps.iter().map(|s| json!({
            "step": s.step.as_str(),
            "started_at": s.started_at.to_string(),
            "finished_at": time(s.finished_at),
            "outcome": s.outcome.as_ref().map(|o| o.as_str()),
            "detail": s.detail,
            "error": s.error,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /provisioning/runs?serial=S&limit=N`: newest first, each with its steps.
pub async fn list_runs(
    _: Reader,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(query.as_deref(), &["serial", "limit"])?;
    let serial: Option<String> = query.get("serial")?;
    let limit: u32 = query.get("limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("query parameter `limit` is {limit}; it must be 1 to {MAX_LIMIT}"),
        ));
    }
    let runs = state
        .store
        .recent_provisioning_runs(serial.as_deref(), limit)
        .await?;
    Ok(Json(runs.iter().map(run_json).collect()))
}
