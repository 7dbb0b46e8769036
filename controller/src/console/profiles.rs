//! Profiles: the list, one profile with its versions (current marked) and the phones it
//! is assigned to, one version's canonical TOML, and the diff between two versions.
//!
//! Must never: change anything (editing, assigning and rollouts are in their own modules).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Serialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::{Admin, Operator, Viewer};
use crate::domain::{ProfileName, ProfileVersion, VersionHash};

fn profile_name(text: &str) -> Result<ProfileName, ConsoleError> {
    text.parse()
        .map_err(|_| ConsoleError::NotFound(format!("no profile `{text}`")))
}

async fn one_version(
    console: &ConsoleState,
    name: &ProfileName,
    text: &str,
) -> Result<ProfileVersion, ConsoleError> {
    let version: VersionHash = text
        .parse()
        .map_err(|_| ConsoleError::NotFound(format!("no version `{text}` of `{name}`")))?;
    Ok(console.app.store.profile_version(name, &version).await?)
}

#[derive(Debug, Serialize)]
struct VersionView {
    version: String,
    created_at: String,
    current: bool,
}

/// `GET /profiles`.
pub async fn list(
    viewer: Viewer,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    let profiles: Vec<serde_json::Value> = console
        .app
        .store
        .profiles()
        .await?
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name.to_string(),
                "current_version": p.current_version.to_string(),
                "updated_at": p.updated_at.to_string(),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("profiles", &profiles);
    context.insert("can_admin", &Admin::ACCESS.allows(viewer.0.user.role));
    Ok(render::page(
        &viewer.0,
        "profiles",
        "profiles.html",
        context,
    ))
}

/// `GET /profiles/{name}`: the current version's TOML and every version, newest first.
pub async fn show(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let store = &console.app.store;
    let current = store.current_profile_version(&name).await?;
    let versions: Vec<VersionView> = store
        .profile_versions(&name)
        .await?
        .iter()
        .rev()
        .map(|v| VersionView {
            version: v.version.to_string(),
            created_at: v.created_at.to_string(),
            current: v.version == current.version,
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("name", name.as_str());
    context.insert("current", &current.version.to_string());
    context.insert("toml", &current.canonical_toml);
    context.insert("versions", &versions);
    let rollout = store.profile_rollout(&name).await?.map(|r| {
        serde_json::json!({
            "version": r.version.to_string(),
            "group": r.group.to_string(),
            "started_at": r.started_at.to_string(),
            "started_by": r.started_by,
        })
    });
    context.insert("rollout", &rollout);
    let role = viewer.0.user.role;
    context.insert("can_admin", &Admin::ACCESS.allows(role));
    context.insert("can_operate", &Operator::ACCESS.allows(role));
    context.insert("done", &done_notice(raw.as_deref()));
    Ok(render::page(&viewer.0, "profiles", "profile.html", context))
}

/// `GET /profiles/{name}/versions/{version}`.
pub async fn version(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let v = one_version(&console, &name, &version).await?;
    let mut context = tera::Context::new();
    context.insert("name", name.as_str());
    context.insert("version", &v.version.to_string());
    context.insert("created_at", &v.created_at.to_string());
    context.insert("toml", &v.canonical_toml);
    Ok(render::page(&viewer.0, "profiles", "version.html", context))
}

/// `GET /profiles/{name}/diff?from=V1&to=V2`: `to` defaults to the current version.
pub async fn diff(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let mut from = None;
    let mut to = None;
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "from" => from = Some(v.into_owned()),
            "to" => to = Some(v.into_owned()),
            other => {
                return Err(ConsoleError::BadRequest(format!(
                    "unknown query parameter `{other}`"
                )));
            }
        }
    }
    let from = from.ok_or_else(|| ConsoleError::BadRequest("`from` names no version".into()))?;
    let old = one_version(&console, &name, &from).await?;
    let new = match to.filter(|t| !t.is_empty()) {
        Some(to) => one_version(&console, &name, &to).await?,
        None => console.app.store.current_profile_version(&name).await?,
    };
    let d = diff_of(&old, &new)?;
    let mut context = tera::Context::new();
    context.insert("name", name.as_str());
    context.insert("from", &old.version.to_string());
    context.insert("to", &new.version.to_string());
    context.insert("equal", &d.is_empty());
    context.insert("text", &d.to_text());
    Ok(render::page(&viewer.0, "profiles", "diff.html", context))
}

/// A stored version resolved again (its canonical TOML is itself a valid profile).
pub(super) fn resolved(
    v: &ProfileVersion,
) -> Result<corral_profiles::ResolvedProfile, ConsoleError> {
    v.resolve().map_err(|e| {
        ConsoleError::internal(format!(
            "stored version {} of profile {} does not resolve: {e}",
            v.version, v.profile
        ))
    })
}

/// The diff between two stored versions.
pub(super) fn diff_of(
    old: &ProfileVersion,
    new: &ProfileVersion,
) -> Result<corral_profiles::ProfileDiff, ConsoleError> {
    Ok(corral_profiles::diff(&resolved(old)?, &resolved(new)?))
}

/// The notice after an action that redirected here (`?done=…`), as a sentence.
fn done_notice(query: Option<&str>) -> Option<String> {
    let mut done = None;
    let mut count = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "done" => done = Some(v.into_owned()),
            "count" => count = v.parse::<u64>().ok(),
            _ => {}
        }
    }
    let count = count.unwrap_or(0);
    Some(match done?.as_str() {
        "assigned" => format!(
            "Assigned to {count} phone(s); each gets the profile as soon as it is connected."
        ),
        "promoted" => {
            format!("Promoted: the staged version is now every phone's; {count} push(es) queued.")
        }
        "aborted" => format!(
            "Rollout aborted: the group goes back to the current version; {count} push(es) queued."
        ),
        "cloned" => "Cloned profile saved. Choose the phones to apply it to below.".to_owned(),
        _ => return None,
    })
}
