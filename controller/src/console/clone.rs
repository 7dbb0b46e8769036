//! Clone, "make these like that one": one phone's reported configuration captured into a
//! new profile ([`super::clone_capture`]), shown for review as a diff against the phone's
//! current profile, saved through the same publish path as an upload, then applied to
//! chosen phones on the assign page.
//!
//! Must never: save anything but what the server captures itself (the form carries only
//! the name and the reviewed version, so a technician cannot publish arbitrary TOML), save
//! over an existing profile, or save a capture that changed since it was reviewed.

use axum::extract::{Form, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ConsoleState;
use super::clone_capture::{Captured, capture_profile};
use super::error::ConsoleError;
use super::profile_edit::{publish_error, source_view};
use super::render;
use super::session::{Operator, Session};
use crate::api::profile_publish::{PublishError, publish_files};
use crate::api::profile_upload::UploadFile;
use crate::domain::{DeviceId, ProfileName};
use crate::store::{FleetRow, StoreError};

fn device_id(text: &str) -> Result<DeviceId, ConsoleError> {
    text.parse()
        .map_err(|_| ConsoleError::NotFound(format!("no phone `{text}`")))
}

/// A profile name made from a phone's name: `Till 07` → `till-07-clone`.
pub fn default_name(phone: &str) -> String {
    let mut slug = String::new();
    for c in phone.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(50).collect();
    if slug.is_empty() {
        "phone-clone".to_owned()
    } else {
        format!("{}-clone", slug.trim_end_matches('-'))
    }
}

/// The phone, its capture as `name`, and the canonical TOML of its current version.
struct Capture {
    row: FleetRow,
    captured: Captured,
    current: Option<crate::domain::ProfileVersion>,
}

async fn capture(
    console: &ConsoleState,
    session: &Session,
    id: &DeviceId,
    name: &corral_profiles::ProfileName,
) -> Result<Capture, ConsoleError> {
    let store = &console.app.store;
    let row = store.fleet_row(id).await?;
    let device = store.device(id).await?;
    let current = match (&row.profile, &row.desired_version) {
        (Some(p), Some(v)) => Some(store.profile_version(p, v).await?),
        _ => None,
    };
    // No time in it: the version hashes the description, and the saved capture must be
    // the reviewed one.
    let origin = format!(
        "Cloned from phone {} ({}) by {}",
        row.name,
        row.id,
        session.actor()
    );
    let captured = capture_profile(
        device.observed_state.as_ref(),
        name,
        current.as_ref().map(|c| c.canonical_toml.as_str()),
        &origin,
    )
    .map_err(|e| ConsoleError::Conflict(e.to_string()))?;
    Ok(Capture {
        row,
        captured,
        current,
    })
}

fn parse_name(text: &str) -> Result<corral_profiles::ProfileName, String> {
    corral_profiles::ProfileName::parse(text.trim()).map_err(|_| {
        format!("`{text}` is not a profile name: lowercase letters, digits and `-`, at most 63")
    })
}

fn review(
    session: &Session,
    c: &Capture,
    name: &str,
    problem: Option<String>,
    exists: bool,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let (diagnostics, lines) = source_view(
        &c.captured.file_name,
        &c.captured.toml,
        &c.captured.diagnostics,
    );
    let diff = match (&c.current, &c.captured.profile) {
        (Some(current), Some(captured)) => {
            Some(corral_profiles::diff(&super::profiles::resolved(current)?, captured).to_text())
        }
        _ => None,
    };
    let mut context = tera::Context::new();
    context.insert("id", &c.row.id.to_string());
    context.insert("phone", &c.row.name.to_string());
    context.insert("name", name);
    context.insert("toml", &c.captured.toml);
    context.insert("valid", &c.captured.profile.is_some());
    context.insert(
        "version",
        &c.captured
            .profile
            .as_ref()
            .map(|p| p.version().as_str().to_owned()),
    );
    context.insert(
        "current_profile",
        &c.row.profile.as_ref().map(ToString::to_string),
    );
    context.insert("diff", &diff);
    context.insert("diagnostics", &diagnostics);
    context.insert("lines", &lines);
    context.insert("problem", &problem);
    context.insert("exists", &exists);
    Ok((
        status,
        render::page(session, "fleet", "clone.html", context),
    )
        .into_response())
}

async fn exists(console: &ConsoleState, name: &str) -> Result<bool, ConsoleError> {
    let Ok(name) = ProfileName::parse(name) else {
        return Ok(false);
    };
    match console.app.store.current_profile_version(&name).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `GET /phones/{id}/clone?name=`: the phone's configuration captured as profile `name`
/// (by default `<phone>-clone`), with its diff against the phone's current profile.
pub async fn show(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let id = device_id(&id)?;
    let asked = form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let name_text = match asked {
        Some(n) => n,
        None => default_name(console.app.store.fleet_row(&id).await?.name.as_str()),
    };
    let (name, problem) = match parse_name(&name_text) {
        Ok(n) => (n, None),
        Err(why) => (
            corral_profiles::ProfileName::parse("phone-clone").map_err(ConsoleError::internal)?,
            Some(why),
        ),
    };
    let c = capture(&console, &operator.0, &id, &name).await?;
    let exists = exists(&console, name.as_str()).await?;
    review(&operator.0, &c, &name_text, problem, exists, StatusCode::OK)
}

/// The save form: the name and the version that was reviewed.
#[derive(Debug, Deserialize)]
pub struct SaveForm {
    pub name: String,
    pub version: String,
}

/// `POST /phones/{id}/clone`: captures again and, if it is still what was reviewed and
/// the name is free, publishes it as a new profile; then the assign page to choose phones.
pub async fn save(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
    Form(form): Form<SaveForm>,
) -> Result<Response, ConsoleError> {
    let id = device_id(&id)?;
    let name = parse_name(&form.name).map_err(ConsoleError::BadRequest)?;
    let c = capture(&console, &operator.0, &id, &name).await?;
    let Some(profile) = &c.captured.profile else {
        return review(
            &operator.0,
            &c,
            name.as_str(),
            Some("the captured profile does not validate; it cannot be saved".into()),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    if profile.version().as_str() != form.version {
        return review(
            &operator.0,
            &c,
            name.as_str(),
            Some("the phone reported a new state since you reviewed it; review it again".into()),
            false,
            StatusCode::CONFLICT,
        );
    }
    if exists(&console, name.as_str()).await? {
        return review(
            &operator.0,
            &c,
            name.as_str(),
            Some(format!(
                "a profile `{name}` exists already; a clone never replaces one, choose another name"
            )),
            true,
            StatusCode::CONFLICT,
        );
    }
    let file = UploadFile {
        name: c.captured.file_name.clone(),
        text: c.captured.toml.clone(),
    };
    match publish_files(&console.app, std::slice::from_ref(&file), &operator.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/profiles/{name}/assign?from={}&done=cloned",
            c.row.id
        ))
        .into_response()),
        Err(PublishError::Invalid(_)) => Err(ConsoleError::Conflict(
            "the captured profile no longer validates; review it again".into(),
        )),
        Err(e) => Err(publish_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::default_name;

    #[test]
    fn clone_names_come_from_the_phone_name() {
        assert_eq!(default_name("Till 07"), "till-07-clone");
        assert_eq!(default_name("  Café · Counter!! "), "caf-counter-clone");
        assert_eq!(default_name("***"), "phone-clone");
    }
}
