//! Editing and uploading profiles in the browser: the profile's source (as uploaded, with
//! its `extends`) in a textarea, or a new file pasted in; validated on the server with the
//! profiles crate and published through the same path as the REST upload
//! ([`crate::api::profile_publish`]), or staged for one group first. Errors come back at
//! their line: `line:column message` and the source listed with the offending lines
//! marked, so the page works without JavaScript.
//!
//! Must never: publish when a diagnostic is an error, or publish from the edit page of
//! one profile a file that declares another.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use corral_profiles::Diagnostic;
use serde::{Deserialize, Serialize};

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::{Admin, Session};
use crate::api::profile_publish::{PublishError, Published, plan_files, publish_files, stage_file};
use crate::api::profile_upload::UploadFile;
use crate::domain::{GroupName, ProfileName, ProfileVersion, VersionHash};
use crate::store::StoreError;

/// Largest profile source the forms accept (the guard caps the whole form at 64 KiB).
const MAX_SOURCE_BYTES: usize = 60 * 1024;

pub(super) fn profile_name(text: &str) -> Result<ProfileName, ConsoleError> {
    text.parse()
        .map_err(|_| ConsoleError::NotFound(format!("no profile `{text}`")))
}

/// One line of the source as the error listing shows it.
#[derive(Debug, Serialize, PartialEq)]
pub struct LineView {
    pub number: u32,
    pub text: String,
    /// Messages of the errors and warnings on this line.
    pub notes: Vec<String>,
    /// An error points at this line.
    pub bad: bool,
}

/// A diagnostic as the page lists it.
#[derive(Debug, Serialize, PartialEq)]
pub struct DiagnosticView {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub severity: String,
    pub message: String,
    pub hint: Option<String>,
    /// Whether it is in the file on the page (else in a stored parent).
    pub here: bool,
}

/// The diagnostics of `file` with its source listed line by line, each line with the
/// messages that point at it.
pub fn source_view(
    file: &str,
    source: &str,
    diagnostics: &[Diagnostic],
) -> (Vec<DiagnosticView>, Vec<LineView>) {
    let mut views: Vec<DiagnosticView> = diagnostics
        .iter()
        .map(|d| DiagnosticView {
            file: d.position.file.clone(),
            line: d.position.line,
            column: d.position.column,
            severity: if d.is_error() { "error" } else { "warning" }.to_owned(),
            message: d.message.clone(),
            hint: d.hint.clone(),
            here: d.position.file == file,
        })
        .collect();
    views.sort_by_key(|v| (v.severity != "error", !v.here, v.line, v.column));
    let mut lines: Vec<LineView> = source
        .lines()
        .zip(1u32..)
        .map(|(text, number)| LineView {
            number,
            text: text.to_owned(),
            notes: Vec::new(),
            bad: false,
        })
        .collect();
    for d in diagnostics.iter().filter(|d| d.position.file == file) {
        // A diagnostic past the last line (e.g. "missing key" at the end) marks the last.
        let index = usize::try_from(d.position.line.max(1) - 1)
            .unwrap_or(0)
            .min(lines.len().saturating_sub(1));
        if let Some(line) = lines.get_mut(index) {
            line.notes
                .push(format!("{}: {}", d.position.column, d.message));
            line.bad |= d.is_error();
        }
    }
    (views, lines)
}

/// The editor form.
#[derive(Debug, Deserialize)]
pub struct EditForm {
    pub file_name: String,
    pub source: String,
    /// A group name: stage the new version for this group first. Empty: everyone.
    #[serde(default)]
    pub stage_group: String,
}

struct EditorPage<'a> {
    mode: &'a str,
    name: Option<&'a ProfileName>,
    file_name: &'a str,
    source: &'a str,
    stage_group: &'a str,
    diagnostics: &'a [Diagnostic],
    problem: Option<String>,
}

fn editor(session: &Session, page: EditorPage<'_>, status: StatusCode) -> Response {
    let (diagnostics, lines) = source_view(page.file_name, page.source, page.diagnostics);
    let mut context = tera::Context::new();
    context.insert("mode", page.mode);
    context.insert("name", &page.name.map(ToString::to_string));
    context.insert("file_name", page.file_name);
    context.insert("source", page.source);
    context.insert("stage_group", page.stage_group);
    context.insert(
        "errors",
        &diagnostics.iter().filter(|d| d.severity == "error").count(),
    );
    context.insert("diagnostics", &diagnostics);
    context.insert("lines", &lines);
    context.insert("problem", &page.problem);
    (
        status,
        render::page(session, "profiles", "profile_edit.html", context),
    )
        .into_response()
}

/// `GET /profiles/{name}/edit`: the source as last uploaded (or, for a profile published
/// without a source, its canonical TOML).
pub async fn form(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let store = &console.app.store;
    let current = store.current_profile_version(&name).await?;
    let (file_name, source) = match store.profile_source(&name).await {
        Ok(s) => (s.file_name, s.source),
        Err(StoreError::NotFound(_)) => (format!("{name}.toml"), current.canonical_toml),
        Err(e) => return Err(e.into()),
    };
    let page = EditorPage {
        mode: "edit",
        name: Some(&name),
        file_name: &file_name,
        source: &source,
        stage_group: "",
        diagnostics: &[],
        problem: None,
    };
    Ok(editor(&admin.0, page, StatusCode::OK))
}

fn checked_file(form: &EditForm) -> Result<UploadFile, String> {
    if form.source.len() > MAX_SOURCE_BYTES {
        return Err(format!(
            "the file is larger than {} KiB",
            MAX_SOURCE_BYTES / 1024
        ));
    }
    Ok(UploadFile {
        name: form.file_name.trim().to_owned(),
        // Browsers send textarea lines with CRLF.
        text: form.source.replace("\r\n", "\n"),
    })
}

/// `POST /profiles/{name}/edit`: validates; on errors the editor again with them at
/// their lines (422); else publishes (or stages for a group) and shows the new version
/// and its diff against the previous one.
pub async fn submit(
    admin: Admin,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let previous = console.app.store.current_profile_version(&name).await?;
    publish_form(&console, &admin, Some(&name), Some(previous), form).await
}

/// `GET /profile-upload`: an empty upload form.
pub async fn upload_form(admin: Admin) -> Response {
    let page = EditorPage {
        mode: "upload",
        name: None,
        file_name: "profile.toml",
        source: "",
        stage_group: "",
        diagnostics: &[],
        problem: None,
    };
    editor(&admin.0, page, StatusCode::OK)
}

/// `POST /profile-upload`: like the REST upload, from a form.
pub async fn upload(
    admin: Admin,
    State(console): State<ConsoleState>,
    Form(form): Form<EditForm>,
) -> Result<Response, ConsoleError> {
    publish_form(&console, &admin, None, None, form).await
}

/// `POST /profile-upload/file`: the file picker's multipart form (field `file`), then
/// like [`upload`]: a file that is not UTF-8 or is too large is refused on the editor
/// page, errors are shown at their line.
pub async fn upload_file(
    admin: Admin,
    State(console): State<ConsoleState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = super::multipart::boundary(content_type).ok_or_else(|| {
        ConsoleError::BadRequest("send the file with the upload form's file picker".into())
    })?;
    let parts = super::multipart::parse(&body, &boundary)
        .map_err(|e| ConsoleError::BadRequest(e.to_string()))?;
    let file = parts
        .iter()
        .find(|p| p.name == "file" && p.filename.is_some())
        .ok_or_else(|| ConsoleError::BadRequest("the form has no file".into()))?;
    let file_name = file
        .filename
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("profile.toml");
    // Browsers may send a path; only its last component names the file.
    let file_name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .to_owned();
    let source = match String::from_utf8(file.data.clone()) {
        Ok(text) => text,
        Err(_) => {
            let page = EditorPage {
                mode: "upload",
                name: None,
                file_name: &file_name,
                source: "",
                stage_group: "",
                diagnostics: &[],
                problem: Some(format!(
                    "{file_name} is not UTF-8 text; a profile is a TOML file"
                )),
            };
            return Ok(editor(&admin.0, page, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let form = EditForm {
        file_name,
        source,
        stage_group: String::new(),
    };
    publish_form(&console, &admin, None, None, form).await
}

async fn publish_form(
    console: &ConsoleState,
    admin: &Admin,
    name: Option<&ProfileName>,
    previous: Option<ProfileVersion>,
    form: EditForm,
) -> Result<Response, ConsoleError> {
    let mode = if name.is_some() { "edit" } else { "upload" };
    let refuse = |diagnostics: &[Diagnostic], problem: Option<String>| {
        let page = EditorPage {
            mode,
            name,
            file_name: &form.file_name,
            source: &form.source,
            stage_group: &form.stage_group,
            diagnostics,
            problem,
        };
        editor(&admin.0, page, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let file = match checked_file(&form) {
        Ok(f) => f,
        Err(why) => return Ok(refuse(&[], Some(why))),
    };
    let plan = match plan_files(&console.app, std::slice::from_ref(&file)).await {
        Ok(plan) => plan,
        Err(PublishError::Files(e)) => return Ok(refuse(&[], Some(e.to_string()))),
        Err(e) => return Err(publish_error(e)),
    };
    if plan.has_errors() {
        return Ok(refuse(&plan.diagnostics, None));
    }
    let declared = plan.profiles.iter().find(|p| p.uploaded);
    if let (Some(name), Some(declared)) = (name, declared)
        && &declared.upload.profile != name
    {
        let why = format!(
            "the file declares profile `{}`; this page publishes `{name}` only (use Upload for another profile)",
            declared.upload.profile
        );
        return Ok(refuse(&plan.diagnostics, Some(why)));
    }
    let group = form.stage_group.trim();
    if !group.is_empty() {
        let Some(name) = name else {
            return Ok(refuse(
                &plan.diagnostics,
                Some("stage a new version from the profile's edit page".into()),
            ));
        };
        let group: GroupName = match group.parse() {
            Ok(g) => g,
            Err(_) => {
                return Ok(refuse(
                    &plan.diagnostics,
                    Some(format!("`{group}` is not a group name")),
                ));
            }
        };
        return match stage_file(&console.app, &file, &group, &admin.actor()).await {
            Ok((plan, staging)) => {
                let mut context = tera::Context::new();
                context.insert("staged_group", group.as_str());
                context.insert("staged_pushes", &staging.queued.len());
                results(
                    console,
                    &admin.0,
                    name,
                    previous,
                    &plan.diagnostics,
                    &[],
                    &staging.rollout.version,
                    context,
                )
                .await
            }
            Err(PublishError::Invalid(plan)) => Ok(refuse(&plan.diagnostics, None)),
            Err(PublishError::Conflict(why)) => Ok(refuse(&plan.diagnostics, Some(why))),
            Err(e) => Err(publish_error(e)),
        };
    }
    match publish_files(&console.app, std::slice::from_ref(&file), &admin.actor()).await {
        Ok(Published { plan, publications }) => {
            let main = plan
                .profiles
                .iter()
                .zip(&publications)
                .find(|(p, _)| p.uploaded)
                .map(|(p, publication)| (p.upload.profile.clone(), publication.clone()));
            let Some((main_name, main_publication)) = main else {
                return Err(ConsoleError::internal(
                    "an upload published no uploaded profile",
                ));
            };
            let published: Vec<serde_json::Value> = plan
                .profiles
                .iter()
                .zip(&publications)
                .map(|(p, publication)| {
                    serde_json::json!({
                        "name": p.upload.profile.to_string(),
                        "version": publication.version.version.to_string(),
                        "previous": publication.previous.as_ref().map(ToString::to_string),
                        "changed": publication.changed(),
                        "uploaded": p.uploaded,
                        "pushes": publication.pushes,
                    })
                })
                .collect();
            let previous = match (previous, &main_publication.previous) {
                (Some(p), _) => Some(p),
                (None, Some(v)) => Some(console.app.store.profile_version(&main_name, v).await?),
                (None, None) => None,
            };
            results(
                console,
                &admin.0,
                &main_name,
                previous,
                &plan.diagnostics,
                &published,
                &main_publication.version.version,
                tera::Context::new(),
            )
            .await
        }
        Err(PublishError::Invalid(plan)) => Ok(refuse(&plan.diagnostics, None)),
        Err(PublishError::Files(e)) => Ok(refuse(&[], Some(e.to_string()))),
        Err(PublishError::Conflict(why)) => Ok(refuse(&[], Some(why))),
        Err(e) => Err(publish_error(e)),
    }
}

/// Store errors as console errors; the rest are handled where they occur.
pub(super) fn publish_error(e: PublishError) -> ConsoleError {
    match e {
        PublishError::Store(e) => e.into(),
        PublishError::Conflict(why) => ConsoleError::Conflict(why),
        other => ConsoleError::BadRequest(other.to_string()),
    }
}

/// The result page: what was published (or staged) and the diff of `name`'s new version
/// against `previous`.
#[allow(clippy::too_many_arguments)]
async fn results(
    console: &ConsoleState,
    session: &Session,
    name: &ProfileName,
    previous: Option<ProfileVersion>,
    diagnostics: &[Diagnostic],
    published: &[serde_json::Value],
    version: &VersionHash,
    mut context: tera::Context,
) -> Result<Response, ConsoleError> {
    let new = console.app.store.profile_version(name, version).await?;
    let diff = match &previous {
        Some(old) => Some(super::profiles::diff_of(old, &new)?.to_text()),
        None => None,
    };
    let (warnings, _) = source_view("", "", diagnostics);
    context.insert("name", name.as_str());
    context.insert("version", version.as_str());
    context.insert("previous", &previous.map(|p| p.version.to_string()));
    context.insert("diff", &diff);
    context.insert("published", published);
    context.insert("warnings", &warnings);
    Ok(render::page(session, "profiles", "published.html", context))
}
