//! The groups page: every group (a group exists while a phone is in it or a profile is
//! assigned to it) with its active and revoked phone counts and its profile, each
//! linking to the fleet filtered by it. Phones join a group through the fleet's bulk
//! "set group" action or the phone page.
//!
//! Must never: change anything.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::Viewer;

#[derive(Debug, Serialize)]
struct GroupView {
    name: String,
    active: u64,
    revoked: u64,
    profile: Option<String>,
    fleet: String,
}

/// `GET /groups`.
pub async fn list(
    viewer: Viewer,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    let groups: Vec<GroupView> = console
        .app
        .store
        .groups()
        .await?
        .into_iter()
        .map(|g| GroupView {
            fleet: format!(
                "/fleet?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("group", g.name.as_str())
                    .finish()
            ),
            name: g.name.to_string(),
            active: g.active,
            revoked: g.revoked,
            profile: g.profile.as_ref().map(ToString::to_string),
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("groups", &groups);
    Ok(render::page(&viewer.0, "groups", "groups.html", context))
}
