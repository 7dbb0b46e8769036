//! Importing and exporting the contact book in the console: a file picker (CSV or vCard,
//! detected or chosen), a preview with every problem at its line, and an import of the
//! valid rows in one transaction only after the user confirms — with an explicit tick
//! when broken rows are skipped. Export as CSV or vCard.
//!
//! The preview waits on the server ([`ImportStash`]): the drafts as validated, under a
//! random id bound to the session that uploaded them, for 15 minutes. The confirmation
//! form carries only that id, so what is imported is exactly what was previewed and a
//! client cannot slip in other rows.
//!
//! Must never: store a contact before the confirmation, import part of a file the user
//! did not confirm, or keep a preview past its session or its lifetime.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::ConsoleState;
use super::attachment::attachment;
use super::error::ConsoleError;
use super::multipart;
use super::render;
use super::session::{Operator, Session, form_field, multipart_boundary};
use crate::contact_import::preview::{ImportDefaults, Preview, preview};
use crate::contact_import::{self as reader, MAX_BYTES};
use crate::domain::{Basis, ContactGroup, Timestamp};
use crate::store::{ContactQuery, StoreError};

/// How long a preview waits for its confirmation.
pub const PREVIEW_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Previews kept at once (the oldest goes first).
const MAX_PREVIEWS: usize = 32;

struct Stashed {
    /// The uploading session's CSRF token: bound to the session, dies with it.
    session: String,
    created: Timestamp,
    file_name: String,
    preview: Preview,
}

/// Previews awaiting confirmation, in memory (a restart forgets them: upload again).
#[derive(Default)]
pub struct ImportStash(Mutex<HashMap<String, Stashed>>);

impl std::fmt::Debug for ImportStash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportStash")
    }
}

impl ImportStash {
    fn put(&self, entry: Stashed, now: Timestamp) -> String {
        // 128 random bits in hex, like a contact id.
        let id = crate::domain::ContactId::generate().as_str().to_owned();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| now.since(s.created) < PREVIEW_LIFETIME);
        while map.len() >= MAX_PREVIEWS {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(id.clone(), entry);
        id
    }

    /// The preview under `id` if this session made it and it has not expired; removed
    /// when `take`.
    fn get(&self, id: &str, session: &str, now: Timestamp, take: bool) -> Option<Preview> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let fits = map.get(id).is_some_and(|s| {
            super::session::same_secret(&s.session, session)
                && now.since(s.created) < PREVIEW_LIFETIME
        });
        if !fits {
            return None;
        }
        if take {
            map.remove(id).map(|s| s.preview)
        } else {
            map.get(id).map(|s| s.preview.clone())
        }
    }

    fn file_name(&self, id: &str) -> String {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(id).map(|s| s.file_name.clone()).unwrap_or_default()
    }
}

/// `GET /contacts/import`: the file picker.
pub async fn form(operator: Operator) -> Result<Response, ConsoleError> {
    Ok(upload_page(&operator.0, None))
}

fn upload_page(session: &Session, problem: Option<&str>) -> Response {
    let mut context = tera::Context::new();
    context.insert("problem", &problem);
    context.insert("max_kib", &(MAX_BYTES / 1024));
    render::page(session, "contacts", "contact_import.html", context)
}

fn preview_page(
    session: &Session,
    id: &str,
    file_name: &str,
    preview: &Preview,
    problem: Option<&str>,
) -> Response {
    let rows: Vec<Value> = preview
        .rows
        .iter()
        .map(|(line, d)| {
            json!({
                "line": line,
                "name": d.name.as_str(),
                "number": d.number.as_str(),
                "company": d.company.as_ref().map(|c| c.as_str()),
                "groups": d.groups.iter().map(ContactGroup::as_str).collect::<Vec<_>>().join(", "),
                "basis": d.basis.as_ref().map(Basis::kind),
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("stash", id);
    context.insert("file_name", file_name);
    context.insert("rows", &rows);
    context.insert("errors", &preview.errors);
    context.insert("valid", &preview.rows.len());
    context.insert("broken", &preview.broken_rows());
    context.insert("problem", &problem);
    render::page(session, "contacts", "contact_import_preview.html", context)
}

/// `POST /contacts/import` (multipart): reads the file and shows the preview; stores
/// nothing.
pub async fn upload(
    operator: Operator,
    State(console): State<ConsoleState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let Some(boundary) = multipart_boundary(&headers) else {
        return Ok(upload_page(&operator.0, Some("choose a file to upload")));
    };
    let parts =
        multipart::parse(&body, &boundary).map_err(|e| ConsoleError::BadRequest(e.to_string()))?;
    let Some(file) = parts.iter().find(|p| p.name == "file") else {
        return Ok(upload_page(&operator.0, Some("choose a file to upload")));
    };
    if file.data.is_empty() {
        return Ok(upload_page(&operator.0, Some("the file is empty")));
    }
    if file.data.len() > MAX_BYTES {
        let problem = format!("the file is larger than {} KiB", MAX_BYTES / 1024);
        return Ok(upload_page(&operator.0, Some(&problem)));
    }
    let Ok(text) = std::str::from_utf8(&file.data) else {
        return Ok(upload_page(
            &operator.0,
            Some("the file is not UTF-8 text; save it as UTF-8 and upload it again"),
        ));
    };
    let text = text.trim_start_matches('\u{feff}');
    let format = multipart::text_field(&parts, "format").unwrap_or_default();
    let vcard = match format.as_str() {
        "csv" => false,
        "vcard" => true,
        _ => text
            .trim_start()
            .get(..11)
            .is_some_and(|s| s.eq_ignore_ascii_case("BEGIN:VCARD")),
    };
    let parsed = if vcard {
        reader::parse_vcard(text)
    } else {
        reader::parse_csv(text)
    };
    let region = multipart::text_field(&parts, "region")
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let now = console.options.now();
    let defaults = ImportDefaults {
        region,
        ..ImportDefaults::default()
    };
    let preview = preview(&parsed, &defaults, &operator.actor(), now);
    let file_name: String = file
        .filename
        .clone()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let id = console.imports.put(
        Stashed {
            session: operator.0.csrf(),
            created: now,
            file_name: file_name.clone(),
            preview: preview.clone(),
        },
        now,
    );
    Ok(preview_page(&operator.0, &id, &file_name, &preview, None))
}

/// `POST /contacts/import/confirm`: imports the previewed valid rows in one transaction
/// — when rows were broken, only with the `skip_broken` tick.
pub async fn confirm(
    operator: Operator,
    State(console): State<ConsoleState>,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let id = form_field(&body, "stash").unwrap_or_default();
    let session = operator.0.csrf();
    let now = console.options.now();
    let expired = || {
        ConsoleError::NotFound(
            "this import preview expired or belongs to another session; upload the file again"
                .into(),
        )
    };
    let preview = console
        .imports
        .get(&id, &session, now, false)
        .ok_or_else(expired)?;
    let file_name = console.imports.file_name(&id);
    if preview.rows.is_empty() {
        return Ok(preview_page(
            &operator.0,
            &id,
            &file_name,
            &preview,
            Some("there is no valid row to import"),
        ));
    }
    if preview.broken_rows() > 0 && form_field(&body, "skip_broken").as_deref() != Some("yes") {
        return Ok(preview_page(
            &operator.0,
            &id,
            &file_name,
            &preview,
            Some(
                "tick the box to import the valid rows and skip the broken ones, or fix the file and upload it again",
            ),
        ));
    }
    let preview = console
        .imports
        .get(&id, &session, now, true)
        .ok_or_else(expired)?;
    match console
        .app
        .store
        .import_contacts(&preview.drafts(), &operator.actor(), Timestamp::now())
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => {
            let problem = format!(
                "nothing was imported: {m} (a number may already be in the book); fix the file and upload it again"
            );
            return Ok(preview_page(
                &operator.0,
                "",
                &file_name,
                &preview,
                Some(&problem),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    crate::api::contacts::requeue(&console.app).await;
    Ok(Redirect::to("/contacts").into_response())
}

async fn whole_book(console: &ConsoleState) -> Result<Vec<crate::domain::Contact>, ConsoleError> {
    let mut all = Vec::new();
    loop {
        let page = console
            .app
            .store
            .contacts(&ContactQuery {
                limit: 1000,
                offset: u32::try_from(all.len()).unwrap_or(u32::MAX),
                ..ContactQuery::default()
            })
            .await?;
        let n = page.len();
        all.extend(page);
        if n < 1000 {
            return Ok(all);
        }
    }
}

/// `GET /contacts/export.csv`: the whole book as CSV (the import's columns).
pub async fn export_csv(
    _: Operator,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    let all = whole_book(&console).await?;
    Ok(attachment(
        "contacts.csv",
        "text/csv; charset=utf-8",
        reader::to_csv(&all),
    ))
}

/// `GET /contacts/export.vcf`: the whole book as vCard 4.0.
pub async fn export_vcard(
    _: Operator,
    State(console): State<ConsoleState>,
) -> Result<Response, ConsoleError> {
    let all = whole_book(&console).await?;
    Ok(attachment(
        "contacts.vcf",
        "text/vcard; charset=utf-8",
        reader::to_vcard(&all),
    ))
}
