//! Publishing profile files: the one path the REST upload (`POST /api/v1/profiles`) and
//! the console's editor, upload, staged rollout and clone pages all take — resolve with
//! the stored sources ([`super::profile_upload::plan_upload`]), publish every planned
//! profile in one transaction (children of an uploaded profile republished, one
//! `profile.published` event each), then hand the queued pushes to the gateway.
//!
//! Must never: publish anything when a diagnostic is an error, or tell the gateway about
//! pushes before the transaction that queued them has committed.

use super::profile_upload::{FileListError, UploadFile, UploadPlan, check_files, plan_upload};
use crate::domain::{GroupName, ProfileName, Timestamp};
use crate::serve::AppState;
use crate::store::{Publication, Rollout, Staging, StoreError};

/// Why nothing was published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The file list itself is unusable (empty, duplicate names, …): fix the request.
    #[error(transparent)]
    Files(#[from] FileListError),
    /// The files do not validate; the plan holds every diagnostic.
    #[error("the profile files have {} error(s); nothing was published", .0.diagnostics.iter().filter(|d| d.is_error()).count())]
    Invalid(UploadPlan),
    /// The request clashes with what is stored (e.g. staging a profile others extend).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a publish did: the plan (with its warnings) and one publication per profile.
#[derive(Debug, Clone)]
pub struct Published {
    pub plan: UploadPlan,
    pub publications: Vec<Publication>,
}

/// Resolves `files` against the stored sources; changes nothing.
pub async fn plan_files(
    state: &AppState,
    files: &[UploadFile],
) -> Result<UploadPlan, PublishError> {
    check_files(files)?;
    let stored = state.store.profile_sources().await?;
    Ok(plan_upload(files, &stored))
}

/// Validates and publishes `files` as `actor`; pushes go out after the commit.
pub async fn publish_files(
    state: &AppState,
    files: &[UploadFile],
    actor: &str,
) -> Result<Published, PublishError> {
    let plan = plan_files(state, files).await?;
    if plan.has_errors() {
        return Err(PublishError::Invalid(plan));
    }
    let uploads: Vec<_> = plan.profiles.iter().map(|p| p.upload.clone()).collect();
    let started = std::time::Instant::now();
    let publications = state
        .store
        .publish_profiles(&uploads, actor, Timestamp::now())
        .await?;
    tracing::info!(
        profiles = publications.len(),
        pushes = publications.iter().map(|p| p.pushes).sum::<usize>(),
        ms = started.elapsed().as_millis(),
        "Published profiles."
    );
    for publication in &publications {
        state.gateway.send_queued(&publication.queued);
    }
    Ok(Published { plan, publications })
}

/// Validates `file` (one profile, already published, that no stored profile extends)
/// and stages its new version for the phones of `group`; the rest of the profile's
/// phones keep the current version until [`promote`].
pub async fn stage_file(
    state: &AppState,
    file: &UploadFile,
    group: &GroupName,
    actor: &str,
) -> Result<(UploadPlan, Staging), PublishError> {
    let plan = plan_files(state, std::slice::from_ref(file)).await?;
    if plan.has_errors() {
        return Err(PublishError::Invalid(plan));
    }
    let (staged, others): (Vec<_>, Vec<_>) = plan.profiles.iter().partition(|p| p.uploaded);
    if !others.is_empty() {
        let names: Vec<String> = others
            .iter()
            .map(|p| p.upload.profile.to_string())
            .collect();
        return Err(PublishError::Conflict(format!(
            "{} extend this profile and would change for every phone; publish it without staging",
            names.join(", ")
        )));
    }
    let [planned] = staged.as_slice() else {
        return Err(PublishError::Conflict(
            "a staged rollout takes exactly one profile".into(),
        ));
    };
    let upload = &planned.upload;
    let staging = state
        .store
        .stage_profile_version(
            &upload.profile,
            &upload.version,
            &upload.canonical_toml,
            &upload.file_name,
            &upload.source,
            group,
            actor,
            Timestamp::now(),
        )
        .await?;
    state.gateway.send_queued(&staging.queued);
    Ok((plan, staging))
}

/// Promotes the profile's staged version to every phone: the staged source is published
/// like an upload (which ends the rollout). Refused when the source no longer resolves
/// to the staged version (a parent changed since); stage it again then.
pub async fn promote(
    state: &AppState,
    profile: &ProfileName,
    actor: &str,
) -> Result<(Rollout, Published), PublishError> {
    let rollout = state.store.profile_rollout(profile).await?.ok_or_else(|| {
        PublishError::Conflict(format!(
            "profile {profile} has no staged rollout in progress"
        ))
    })?;
    let file = UploadFile {
        name: rollout.file_name.clone(),
        text: rollout.source.clone(),
    };
    let plan = plan_files(state, std::slice::from_ref(&file)).await?;
    let same = plan
        .profiles
        .iter()
        .any(|p| &p.upload.profile == profile && p.upload.version == rollout.version);
    if plan.has_errors() || !same {
        return Err(PublishError::Conflict(format!(
            "the staged source of {profile} no longer resolves to version {} (a parent changed since it was staged); stage it again",
            rollout.version
        )));
    }
    let published = publish_files(state, std::slice::from_ref(&file), actor).await?;
    Ok((rollout, published))
}
