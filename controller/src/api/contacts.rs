//! `/contacts` and `/contact-groups`: the contact book over REST — list and search, show,
//! create, change and erase contacts with their lawful basis; list, create and delete
//! groups. Anyone with a role reads; admins and technicians change; every change commits
//! with an audit event that names the person by pseudonym only.
//!
//! Must never: accept a contact whose fields do not check (every field's problem is
//! answered at once), or echo a person's data into an audit event.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Operator, Reader};
use super::error::ApiError;
use super::extract::{Body, Query, Segments, named};
use crate::domain::{
    Basis, BasisFields, Contact, ContactFields, ContactGroup, ContactGroupSummary, ContactId,
    Timestamp,
};
use crate::serve::AppState;
use crate::store::{ContactQuery, ErasureReason, ErasureRecord};

/// The lawful basis in a request body.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BasisInput {
    Consent {
        wording: String,
        wording_version: String,
        channel: String,
    },
    Contract,
    LegitimateInterest {
        note: String,
    },
}

/// The body of `POST /contacts` and `PUT /contacts/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: String,
    pub number: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub basis: Option<BasisInput>,
}

impl ContactInput {
    fn fields(self) -> ContactFields {
        let basis = match self.basis {
            None => BasisFields::default(),
            Some(BasisInput::Contract) => BasisFields {
                kind: "contract".into(),
                ..BasisFields::default()
            },
            Some(BasisInput::LegitimateInterest { note }) => BasisFields {
                kind: "legitimate_interest".into(),
                note,
                ..BasisFields::default()
            },
            Some(BasisInput::Consent {
                wording,
                wording_version,
                channel,
            }) => BasisFields {
                kind: "consent".into(),
                wording,
                wording_version,
                channel,
                ..BasisFields::default()
            },
        };
        ContactFields {
            name: self.name,
            number: self.number,
            region: self.region.unwrap_or_default(),
            company: self.company.unwrap_or_default(),
            groups: self.groups,
            basis,
        }
    }
}

/// A contact as the API shows it.
pub fn contact_json(c: &Contact) -> Value {
    json!({
        "id": c.id.as_str(),
        "name": c.name.as_str(),
        "number": c.number.as_str(),
        "company": c.company.as_ref().map(|c| c.as_str()),
        "groups": c.groups.iter().map(ContactGroup::as_str).collect::<Vec<_>>(),
        "basis": c.basis.as_ref().map(basis_json),
        "reaches_phones": c.basis.is_some(),
        "pseudonym": c.pseudonym.as_str(),
        "created_at": c.created_at.to_string(),
        "updated_at": c.updated_at.to_string(),
    })
}

/// A lawful basis as the API shows it.
pub fn basis_json(b: &Basis) -> Value {
    match b {
        Basis::Contract => json!({ "kind": "contract" }),
        Basis::LegitimateInterest { note } => {
            json!({ "kind": "legitimate_interest", "note": note })
        }
        Basis::Consent(c) => json!({
            "kind": "consent",
            "wording": c.wording,
            "wording_version": c.wording_version,
            "at": c.at.to_string(),
            "channel": c.channel,
            "recorded_by": c.recorded_by,
        }),
    }
}

fn group_json(g: &ContactGroupSummary) -> Value {
    json!({
        "name": g.name.as_str(),
        "description": g.description,
        "members": g.members,
        "members_with_basis": g.with_basis,
        "created_at": g.created_at.to_string(),
    })
}

/// Queues the phones' allow-lists after a change. The change is committed already; if
/// this fails, `allow_lists::run_periodic` catches up.
pub async fn requeue(state: &AppState) {
    if let Err(e) = crate::allow_lists::requeue(state).await {
        tracing::warn!(error = %e, "Cannot queue contact allow-lists after a change.");
    }
}

/// An erasure and its per-phone proof as the API shows it.
pub fn erasure_json(r: &ErasureRecord) -> Value {
    json!({
        "id": r.id,
        "pseudonym": r.pseudonym,
        "reason": r.reason,
        "erased_at": r.erased_at.to_string(),
        "actor": r.actor,
        "phones": r.receipts.iter().map(|p| json!({
            "device": p.device.as_str(),
            "name": p.device_name,
            "push_seq": p.push_seq,
            "confirmed_at": p.confirmed_at.map(|t| t.to_string()),
        })).collect::<Vec<_>>(),
    })
}

fn draft(
    input: ContactInput,
    actor: &str,
    now: Timestamp,
) -> Result<crate::domain::ContactDraft, ApiError> {
    input.fields().to_draft(actor, now).map_err(|errors| {
        let message = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::bad_request("invalid_body", message)
    })
}

/// `GET /contacts?q=&group=&limit=&offset=`: by name.
pub async fn list(
    _: Reader,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref(), &["q", "group", "limit", "offset"])?;
    let limit: u32 = query.get("limit")?.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "query parameter `limit` must be 1 to 1000",
        ));
    }
    let group = query
        .get::<String>("group")?
        .map(|g| {
            ContactGroup::parse(&g).map_err(|e| {
                ApiError::bad_request("invalid_query", format!("query parameter `group`: {e}"))
            })
        })
        .transpose()?;
    let contacts = state
        .store
        .contacts(&ContactQuery {
            search: query.get("q")?,
            group,
            limit,
            offset: query.get("offset")?.unwrap_or(0),
        })
        .await?;
    Ok(Json(contacts.iter().map(contact_json).collect()))
}

/// `GET /contacts/{id}`.
pub async fn show(
    _: Reader,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Json<Value>, ApiError> {
    let id: ContactId = named("contact", &id)?;
    Ok(Json(contact_json(&state.store.contact(&id).await?)))
}

/// `POST /contacts`: 201 with the contact.
pub async fn create(
    operator: Operator,
    State(state): State<AppState>,
    Body(input): Body<ContactInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let now = Timestamp::now();
    let actor = operator.actor();
    let draft = draft(input, &actor, now)?;
    let created = state.store.create_contact(&draft, &actor, now).await?;
    requeue(&state).await;
    Ok((StatusCode::CREATED, Json(contact_json(&created))))
}

/// `PUT /contacts/{id}`: the contact as changed.
pub async fn update(
    operator: Operator,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Body(input): Body<ContactInput>,
) -> Result<Json<Value>, ApiError> {
    let id: ContactId = named("contact", &id)?;
    let now = Timestamp::now();
    let actor = operator.actor();
    let draft = draft(input, &actor, now)?;
    let updated = state.store.update_contact(&id, &draft, &actor, now).await?;
    requeue(&state).await;
    Ok(Json(contact_json(&updated)))
}

/// `DELETE /contacts/{id}`: erasure (Art. 17). Answers the erasure record: the pseudonym
/// that stands for the person from now on, and each phone that must confirm the removal.
pub async fn erase(
    operator: Operator,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Json<Value>, ApiError> {
    let id: ContactId = named("contact", &id)?;
    let record =
        crate::allow_lists::erase(&state, &id, ErasureReason::Erasure, &operator.actor()).await?;
    Ok(Json(erasure_json(&record)))
}

/// `GET /contact-groups`.
pub async fn groups(_: Reader, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let groups = state.store.contact_groups().await?;
    Ok(Json(groups.iter().map(group_json).collect()))
}

/// The body of `POST /contact-groups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub name: ContactGroup,
    #[serde(default)]
    pub description: String,
}

/// `POST /contact-groups`: 201 with the group.
pub async fn create_group(
    operator: Operator,
    State(state): State<AppState>,
    Body(input): Body<GroupInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if input.description.chars().count() > 500 {
        return Err(ApiError::bad_request(
            "invalid_body",
            "description: at most 500 characters",
        ));
    }
    let group = state
        .store
        .create_contact_group(
            &input.name,
            &input.description,
            &operator.actor(),
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(group_json(&group))))
}

/// `DELETE /contact-groups/{name}`: 204; its members stay in the book.
pub async fn delete_group(
    operator: Operator,
    State(state): State<AppState>,
    Segments(name): Segments<String>,
) -> Result<StatusCode, ApiError> {
    let name = ContactGroup::parse(&name)
        .map_err(|e| ApiError::NotFound(format!("no contact group `{name}` ({e})")))?;
    state
        .store
        .delete_contact_group(&name, &operator.actor(), Timestamp::now())
        .await?;
    requeue(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /contacts/import`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportInput {
    /// `csv` or `vcard`.
    pub format: String,
    /// The file's text.
    pub text: String,
    /// Country for national numbers in rows without their own `region`.
    #[serde(default)]
    pub region: Option<String>,
    /// Groups added to every row.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The basis of rows without one (vCards never carry one).
    #[serde(default)]
    pub basis: Option<BasisInput>,
    /// Import only when this equals the number of valid rows ("import the N valid
    /// rows"); without it the answer is a preview and nothing is stored.
    #[serde(default)]
    pub confirm_valid: Option<usize>,
}

/// `POST /contacts/import`: a preview (every valid row, every problem with its line and
/// field), and with `confirm_valid` equal to the number of valid rows, the import of
/// exactly those rows in one transaction. Nothing is imported otherwise.
pub async fn import(
    operator: Operator,
    State(state): State<AppState>,
    Body(input): Body<ImportInput>,
) -> Result<Json<Value>, ApiError> {
    let parsed = match input.format.as_str() {
        "csv" => crate::contact_import::parse_csv(&input.text),
        "vcard" => crate::contact_import::parse_vcard(&input.text),
        other => {
            return Err(ApiError::bad_request(
                "invalid_body",
                format!("format `{other}`: csv or vcard"),
            ));
        }
    };
    let now = Timestamp::now();
    let actor = operator.actor();
    let default_basis = ContactInput {
        name: String::new(),
        number: String::new(),
        region: None,
        company: None,
        groups: Vec::new(),
        basis: input.basis,
    }
    .fields()
    .basis;
    let defaults = crate::contact_import::preview::ImportDefaults {
        region: input.region.clone(),
        groups: input.groups.clone(),
        basis: default_basis,
    };
    let preview = crate::contact_import::preview::preview(&parsed, &defaults, &actor, now);
    let rows: Vec<Value> = preview
        .rows
        .iter()
        .map(|(line, d)| {
            json!({
                "line": line,
                "name": d.name.as_str(),
                "number": d.number.as_str(),
                "groups": d.groups.iter().map(ContactGroup::as_str).collect::<Vec<_>>(),
                "basis": d.basis.as_ref().map(Basis::kind),
            })
        })
        .collect();
    let drafts = preview.drafts();
    let errors = preview.errors;
    let confirmed = input.confirm_valid == Some(drafts.len()) && !drafts.is_empty();
    let imported = if confirmed {
        let created = state.store.import_contacts(&drafts, &actor, now).await?;
        requeue(&state).await;
        created.len()
    } else {
        0
    };
    Ok(Json(json!({
        "valid": drafts.len(),
        "invalid": errors.len(),
        "rows": rows,
        "errors": errors,
        "imported": imported,
    })))
}

/// `GET /contacts/export?format=csv|vcard`: the whole book as a file's text.
pub async fn export(
    _: Operator,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = Query::parse(raw.as_deref(), &["format"])?;
    let format: String = query.get("format")?.unwrap_or_else(|| "csv".to_owned());
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let page = state
            .store
            .contacts(&ContactQuery {
                limit: 1000,
                offset,
                ..ContactQuery::default()
            })
            .await?;
        let n = page.len();
        all.extend(page);
        if n < 1000 {
            break;
        }
        offset += 1000;
    }
    let text = match format.as_str() {
        "csv" => crate::contact_import::to_csv(&all),
        "vcard" => crate::contact_import::to_vcard(&all),
        other => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("format `{other}`: csv or vcard"),
            ));
        }
    };
    Ok(Json(
        json!({ "format": format, "contacts": all.len(), "text": text }),
    ))
}

/// `GET /contacts/{id}/record`: everything held about the person (Art. 15 access, Art. 20
/// portability) as JSON: the contact with its basis and groups, the audit entries naming
/// their pseudonym, and the tables read.
pub async fn record(
    _: Operator,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Json<Value>, ApiError> {
    let id: ContactId = named("contact", &id)?;
    let r = state.store.person_record(&id).await?;
    Ok(Json(record_json(&r, Timestamp::now())))
}

/// The person record as JSON: what `GET /contacts/{id}/record` answers and what the
/// console's record page and download show, so the three never differ.
pub fn record_json(r: &crate::store::PersonRecord, exported_at: Timestamp) -> Value {
    json!({
        "contact": contact_json(&r.contact),
        "events": r.events.iter().map(|e| json!({
            "id": e.id,
            "at": e.at.to_string(),
            "device": e.device.as_ref().map(|d| d.as_str()),
            "actor": e.actor,
            "kind": e.kind,
            "detail": e.detail,
        })).collect::<Vec<_>>(),
        "consent_links": r.consent_links.iter().map(|l| json!({
            "prefix": l.prefix.as_str(),
            "wording_version": format!("v{}", l.wording_version),
            "created_at": l.created_at.to_string(),
            "expires_at": l.expires_at.to_string(),
            "created_by": l.created_by,
            "confirmed_at": l.confirmed_at.map(|t| t.to_string()),
        })).collect::<Vec<_>>(),
        "tables": r.tables,
        "exported_at": exported_at.to_string(),
    })
}
