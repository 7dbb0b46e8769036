//! `/profiles`: validate and upload profile files, list profiles, their versions and the
//! differences between two versions.
//!
//! Owns: the JSON of uploads and versions; publishing itself is
//! [`super::profile_publish`] (shared with the console), the resolution the pure
//! [`super::profile_upload`].
//! Must never: publish a version string other than `ResolvedProfile::version()`, or
//! publish part of an upload (the store does it in one transaction).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use corral_profiles::Diagnostic;
use serde_json::{Value, json};

use super::auth::{FleetAdmin, Reader};
use super::error::ApiError;
use super::extract::{Body, Query, Segments, named};
use super::profile_publish::{PublishError, Published, plan_files, publish_files};
use super::profile_upload::{UploadPlan, UploadRequest};
use crate::domain::{ProfileName, ProfileVersion, VersionHash};
use crate::serve::AppState;
use crate::store::StoreError;

/// Diagnostics as the API shows them (`file`, `line`, `column`, `severity`, `code`,
/// `message`, `hint`, `label`, `related`).
pub fn diagnostics_json(diagnostics: &[Diagnostic]) -> Value {
    diagnostics
        .iter()
        .map(|d| {
            json!({
                "file": d.position.file,
                "line": d.position.line,
                "column": d.position.column,
                "severity": d.severity,
                "code": d.code.as_str(),
                "message": d.message,
                "hint": d.hint,
                "label": d.label,
                "related": d.related.iter().map(|r| json!({
                    "file": r.position.file,
                    "line": r.position.line,
                    "column": r.position.column,
                    "message": r.message,
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

async fn plan(state: &AppState, request: &UploadRequest) -> Result<UploadPlan, ApiError> {
    plan_files(state, &request.files)
        .await
        .map_err(ApiError::from)
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Files(e) => ApiError::bad_request("invalid_body", e.to_string()),
            PublishError::Invalid(plan) => {
                let errors = plan.diagnostics.iter().filter(|d| d.is_error()).count();
                let first = plan
                    .diagnostics
                    .iter()
                    .find(|d| d.is_error())
                    .map(|d| {
                        format!(
                            "; first: {}:{}:{}: {}",
                            d.position.file, d.position.line, d.position.column, d.message
                        )
                    })
                    .unwrap_or_default();
                ApiError::InvalidProfile {
                    message: format!(
                        "the profile files have {errors} error(s){first}; nothing was published"
                    ),
                    diagnostics: plan.diagnostics,
                }
            }
            PublishError::Conflict(why) => ApiError::Conflict(why),
            PublishError::Store(e) => e.into(),
        }
    }
}

/// `POST /profiles/validate`: what an upload would publish, or why not. Changes nothing.
pub async fn validate(
    _: Reader,
    State(state): State<AppState>,
    Body(request): Body<UploadRequest>,
) -> Result<Json<Value>, ApiError> {
    let plan = plan(&state, &request).await?;
    let profiles: Vec<Value> = plan
        .profiles
        .iter()
        .map(|p| {
            json!({
                "name": p.upload.profile,
                "version": p.upload.version,
                "file": p.upload.file_name,
                "uploaded": p.uploaded,
            })
        })
        .collect();
    Ok(Json(json!({
        "ok": !plan.has_errors(),
        "diagnostics": diagnostics_json(&plan.diagnostics),
        "profiles": profiles,
    })))
}

/// `POST /profiles`: validates and publishes; stored children of uploaded profiles are
/// re-resolved and republished; devices that now need another version get a push.
pub async fn publish(
    admin: FleetAdmin,
    State(state): State<AppState>,
    Body(request): Body<UploadRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Published { plan, publications } =
        publish_files(&state, &request.files, &admin.actor()).await?;
    let mut published = Vec::with_capacity(publications.len());
    for (planned, publication) in plan.profiles.iter().zip(&publications) {
        published.push(json!({
            "name": planned.upload.profile,
            "version": publication.version.version,
            "previous_version": publication.previous,
            "changed": publication.changed(),
            "uploaded": planned.uploaded,
            "devices_affected": publication.pushes,
        }));
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "published": published,
            "diagnostics": diagnostics_json(&plan.diagnostics),
        })),
    ))
}

/// `GET /profiles`.
pub async fn list(_: Reader, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let profiles = state.store.profiles().await?;
    Ok(Json(
        profiles
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "current_version": p.current_version,
                    "updated_at": p.updated_at.to_string(),
                })
            })
            .collect(),
    ))
}

/// The current version of a profile named in a request body's `profile` field; 404
/// when it has never been published.
pub(super) async fn published(
    state: &AppState,
    profile: &ProfileName,
) -> Result<ProfileVersion, ApiError> {
    match state.store.current_profile_version(profile).await {
        Err(StoreError::NotFound(_)) => Err(ApiError::NotFound(format!(
            "`profile`: no profile `{profile}` has been published"
        ))),
        other => Ok(other?),
    }
}

fn profile_name(text: &str) -> Result<ProfileName, ApiError> {
    named("profile", text)
}

/// `GET /profiles/{name}`: the current version and the source as last uploaded.
pub async fn show(
    _: Reader,
    State(state): State<AppState>,
    Segments(name): Segments<String>,
) -> Result<Json<Value>, ApiError> {
    let name = profile_name(&name)?;
    let current = state.store.current_profile_version(&name).await?;
    let source = match state.store.profile_source(&name).await {
        Ok(s) => Some(json!({
            "file": s.file_name,
            "text": s.source,
            "extends": s.parent,
            "uploaded_at": s.uploaded_at.to_string(),
            "uploaded_by": s.uploaded_by,
        })),
        Err(StoreError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(Json(json!({
        "name": name,
        "current_version": current.version,
        "canonical_toml": current.canonical_toml,
        "source": source,
    })))
}

/// Every version of a profile, oldest first; 404 when it has none.
async fn versions_of(
    state: &AppState,
    name: &ProfileName,
) -> Result<Vec<ProfileVersion>, ApiError> {
    let versions = state.store.profile_versions(name).await?;
    if versions.is_empty() {
        return Err(ApiError::NotFound(format!("no profile `{name}`")));
    }
    Ok(versions)
}

/// `GET /profiles/{name}/versions`.
pub async fn versions(
    _: Reader,
    State(state): State<AppState>,
    Segments(name): Segments<String>,
) -> Result<Json<Value>, ApiError> {
    let name = profile_name(&name)?;
    let versions = versions_of(&state, &name).await?;
    let current = state.store.current_profile_version(&name).await?.version;
    Ok(Json(
        versions
            .iter()
            .map(|v| {
                json!({
                    "version": v.version,
                    "created_at": v.created_at.to_string(),
                    "current": v.version == current,
                })
            })
            .collect(),
    ))
}

async fn one_version(
    state: &AppState,
    name: &ProfileName,
    version: &str,
) -> Result<ProfileVersion, ApiError> {
    let version: VersionHash = version.parse().map_err(|e: crate::domain::ParseError| {
        ApiError::NotFound(format!(
            "no version `{version}` of profile `{name}` ({})",
            e.reason
        ))
    })?;
    match state.store.profile_version(name, &version).await {
        Err(StoreError::NotFound(_)) => {
            versions_of(state, name).await?;
            Err(ApiError::NotFound(format!(
                "no version `{version}` of profile `{name}`"
            )))
        }
        other => Ok(other?),
    }
}

/// `GET /profiles/{name}/versions/{version}`.
pub async fn version(
    _: Reader,
    State(state): State<AppState>,
    Segments((name, version)): Segments<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let name = profile_name(&name)?;
    let v = one_version(&state, &name, &version).await?;
    Ok(Json(json!({
        "name": v.profile,
        "version": v.version,
        "canonical_toml": v.canonical_toml,
        "created_at": v.created_at.to_string(),
    })))
}

/// A stored version resolved again (its canonical TOML is itself a valid profile).
fn resolved(v: &ProfileVersion) -> Result<corral_profiles::ResolvedProfile, ApiError> {
    v.resolve().map_err(|e| {
        ApiError::internal(format!(
            "stored version {} of profile {} does not resolve: {e}",
            v.version, v.profile
        ))
    })
}

/// `GET /profiles/{name}/diff?from=V1&to=V2`: `to` defaults to the current version.
pub async fn diff(
    _: Reader,
    State(state): State<AppState>,
    Segments(name): Segments<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(query.as_deref(), &["from", "to"])?;
    let name = profile_name(&name)?;
    let from: String = query.require("from")?;
    let to = match query.get::<String>("to")? {
        Some(to) => to,
        None => state
            .store
            .current_profile_version(&name)
            .await?
            .version
            .to_string(),
    };
    let (old, new) = (
        one_version(&state, &name, &from).await?,
        one_version(&state, &name, &to).await?,
    );
    let d = corral_profiles::diff(&resolved(&old)?, &resolved(&new)?);
    Ok(Json(json!({
        "name": name,
        "from": old.version,
        "to": new.version,
        "equal": d.is_empty(),
        "text": d.to_text(),
        "changes": d.changes,
    })))
}
