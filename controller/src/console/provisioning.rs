//! The live provisioning view: phones being provisioned by any station, newest first,
//! with the step each is at; the page refreshes itself every 5 seconds with
//! `<meta http-equiv="refresh">`, so it needs no JavaScript.
//!
//! Must never: write anything.

use axum::extract::State;
use axum::response::Response;

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::Viewer;

/// Runs shown.
const RECENT: u32 = 100;

/// `GET /provisioning`.
pub async fn live(
    viewer: Viewer,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    let runs: Vec<serde_json::Value> = console
        .app
        .store
        .recent_provisioning_runs(None, RECENT)
        .await?
        .iter()
        .map(|run| {
            let current = run.steps.last().map(|s| {
                let state = match (s.outcome, run.finished_at) {
                    (Some(outcome), _) => outcome.as_str().to_owned(),
                    (None, None) => "running".to_owned(),
                    (None, Some(_)) => "interrupted".to_owned(),
                };
                format!("{} ({state})", s.step.as_str())
            });
            serde_json::json!({
                "id": run.id,
                "serial": run.serial,
                "profile": run.profile.as_str(),
                "started_at": run.started_at.to_string(),
                "finished_at": run.finished_at.map(|t| t.to_string()),
                "outcome": run.outcome.map(|o| o.as_str()),
                "error": run.error,
                "device": run.device.as_ref().map(ToString::to_string),
                "current": current,
                "steps": run.steps.len(),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("runs", &runs);
    Ok(render::page(
        &viewer.0,
        "provisioning",
        "provisioning.html",
        context,
    ))
}
