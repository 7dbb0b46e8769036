//! The contact book pages: the list with search and the groups, one contact with its
//! lawful basis (and, for operators, the form to change it), a new contact, erasure behind
//! a confirmation page, and the per-phone proof of an erasure.
//!
//! Must never: change anything over GET, or show a person's data in the audit log (the
//! store's events carry pseudonyms).

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use super::ConsoleState;
use super::error::ConsoleError;
use super::render;
use super::session::{Operator, Session, Viewer, form_field};
use crate::api::contacts::basis_json;
use crate::domain::{BasisFields, Contact, ContactFields, ContactGroup, ContactId, Timestamp};
use crate::store::{ContactQuery, ErasureReason, StoreError};

fn contact_id(text: &str) -> Result<ContactId, ConsoleError> {
    ContactId::parse(text).map_err(|_| ConsoleError::NotFound(format!("no contact `{text}`")))
}

fn view(c: &Contact) -> Value {
    json!({
        "id": c.id.as_str(),
        "name": c.name.as_str(),
        "number": c.number.as_str(),
        "company": c.company.as_ref().map(|c| c.as_str()),
        "groups": c.groups.iter().map(ContactGroup::as_str).collect::<Vec<_>>().join(", "),
        "basis": c.basis.as_ref().map(basis_json),
        "pseudonym": c.pseudonym.as_str(),
        "updated_at": c.updated_at.to_string(),
    })
}

/// `GET /contacts?q=&group=`.
pub async fn list(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let mut query = ContactQuery {
        limit: 200,
        ..ContactQuery::default()
    };
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        let v = v.trim();
        match k.as_ref() {
            "q" if !v.is_empty() => query.search = Some(v.chars().take(100).collect()),
            "group" if !v.is_empty() => {
                query.group = Some(ContactGroup::parse(v).map_err(|e| {
                    ConsoleError::BadRequest(format!("query parameter `group`: {e}"))
                })?);
            }
            "q" | "group" => {}
            other => {
                return Err(ConsoleError::BadRequest(format!(
                    "unknown query parameter `{other}`"
                )));
            }
        }
    }
    let store = &console.app.store;
    let contacts: Vec<Value> = store.contacts(&query).await?.iter().map(view).collect();
    let groups: Vec<Value> = store
        .contact_groups()
        .await?
        .iter()
        .map(|g| {
            json!({
                "name": g.name.as_str(),
                "description": g.description,
                "members": g.members,
                "with_basis": g.with_basis,
            })
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("contacts", &contacts);
    context.insert("groups", &groups);
    context.insert("q", &query.search);
    context.insert("group", &query.group.as_ref().map(ContactGroup::as_str));
    context.insert("can_edit", &Operator::ACCESS.allows(viewer.0.user.role));
    Ok(render::page(
        &viewer.0,
        "contacts",
        "contacts.html",
        context,
    ))
}

fn form_page(
    session: &Session,
    contact: Option<&Contact>,
    fields: &ContactFields,
    errors: &[crate::domain::FieldError],
) -> Response {
    let mut context = tera::Context::new();
    context.insert("contact", &contact.map(view));
    context.insert(
        "fields",
        &json!({
            "name": fields.name,
            "number": fields.number,
            "region": fields.region,
            "company": fields.company,
            "groups": fields.groups.join(", "),
            "basis": fields.basis.kind,
            "wording": fields.basis.wording,
            "wording_version": fields.basis.wording_version,
            "channel": fields.basis.channel,
            "note": fields.basis.note,
        }),
    );
    context.insert("errors", errors);
    render::page(session, "contacts", "contact.html", context)
}

fn fields_of(c: &Contact) -> ContactFields {
    let mut basis = BasisFields::default();
    match &c.basis {
        None => {}
        Some(crate::domain::Basis::Contract) => basis.kind = "contract".into(),
        Some(crate::domain::Basis::LegitimateInterest { note }) => {
            basis.kind = "legitimate_interest".into();
            basis.note = note.clone();
        }
        Some(crate::domain::Basis::Consent(consent)) => {
            basis.kind = "consent".into();
            basis.wording = consent.wording.clone();
            basis.wording_version = consent.wording_version.clone();
            basis.channel = consent.channel.clone();
        }
    }
    ContactFields {
        name: c.name.as_str().to_owned(),
        number: c.number.as_str().to_owned(),
        region: String::new(),
        company: c
            .company
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        groups: c.groups.iter().map(|g| g.as_str().to_owned()).collect(),
        basis,
    }
}

/// The form's fields (`csrf` is checked by the guard).
fn fields_from_form(body: &[u8]) -> ContactFields {
    let field = |name: &str| form_field(body, name).unwrap_or_default();
    ContactFields {
        name: field("name"),
        number: field("number"),
        region: field("region"),
        company: field("company"),
        groups: field("groups")
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect(),
        basis: BasisFields {
            kind: field("basis"),
            wording: field("wording"),
            wording_version: field("wording_version"),
            channel: field("channel"),
            note: field("note"),
        },
    }
}

/// `GET /contacts/new`.
pub async fn new_form(operator: Operator) -> Result<Response, ConsoleError> {
    Ok(form_page(&operator.0, None, &ContactFields::default(), &[]))
}

/// `POST /contacts/new`: adds the contact, or shows the form again with every problem.
pub async fn create(
    operator: Operator,
    State(console): State<ConsoleState>,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let fields = fields_from_form(&body);
    let now = Timestamp::now();
    let actor = operator.actor();
    let draft = match fields.to_draft(&actor, now) {
        Ok(d) => d,
        Err(errors) => return Ok(form_page(&operator.0, None, &fields, &errors)),
    };
    let created = match console.app.store.create_contact(&draft, &actor, now).await {
        Ok(c) => c,
        Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => {
            let errors = [crate::domain::FieldError {
                field: "contact".into(),
                message: m,
            }];
            return Ok(form_page(&operator.0, None, &fields, &errors));
        }
        Err(e) => return Err(e.into()),
    };
    crate::api::contacts::requeue(&console.app).await;
    Ok(Redirect::to(&format!("/contacts/{}", created.id)).into_response())
}

/// `GET /contacts/{id}`: the contact, and for operators the form to change it.
pub async fn show(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let contact = console.app.store.contact(&contact_id(&id)?).await?;
    let mut response = form_page(&viewer.0, Some(&contact), &fields_of(&contact), &[]);
    if !Operator::ACCESS.allows(viewer.0.user.role) {
        let mut context = tera::Context::new();
        context.insert("contact", &view(&contact));
        context.insert("read_only", &true);
        context.insert("fields", &json!({}));
        context.insert("errors", &Vec::<Value>::new());
        response = render::page(&viewer.0, "contacts", "contact.html", context);
    }
    Ok(response)
}

/// `POST /contacts/{id}`: changes the contact.
pub async fn update(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let id = contact_id(&id)?;
    let contact = console.app.store.contact(&id).await?;
    let fields = fields_from_form(&body);
    let now = Timestamp::now();
    let actor = operator.actor();
    let draft = match fields.to_draft(&actor, now) {
        Ok(d) => d,
        Err(errors) => return Ok(form_page(&operator.0, Some(&contact), &fields, &errors)),
    };
    match console
        .app
        .store
        .update_contact(&id, &draft, &actor, now)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(m) | StoreError::Invalid(m)) => {
            let errors = [crate::domain::FieldError {
                field: "contact".into(),
                message: m,
            }];
            return Ok(form_page(&operator.0, Some(&contact), &fields, &errors));
        }
        Err(e) => return Err(e.into()),
    }
    crate::api::contacts::requeue(&console.app).await;
    Ok(Redirect::to(&format!("/contacts/{id}")).into_response())
}

/// `GET /contacts/{id}/erase`: asks before erasing.
pub async fn confirm_erase(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let contact = console.app.store.contact(&contact_id(&id)?).await?;
    let mut context = tera::Context::new();
    context.insert("contact", &view(&contact));
    Ok(render::page(&operator.0, "contacts", "erase.html", context))
}

/// `POST /contacts/{id}/erase`: takes the person off every phone and out of the book;
/// shows the per-phone proof.
pub async fn erase(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let id = contact_id(&id)?;
    let reason = match form_field(&body, "reason").as_deref() {
        Some("withdrawal") => ErasureReason::Withdrawal,
        _ => ErasureReason::Erasure,
    };
    let record = crate::allow_lists::erase(&console.app, &id, reason, &operator.actor()).await?;
    Ok(Redirect::to(&format!("/erasures/{}", record.id)).into_response())
}

/// `GET /erasures/{id}`: an erasure and, per phone, when its agent confirmed the removal.
pub async fn erasure(
    viewer: Viewer,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConsoleError::NotFound(format!("no erasure `{id}`")));
    }
    let record = console.app.store.erasure(&id).await?;
    let mut context = tera::Context::new();
    context.insert("erasure", &crate::api::contacts::erasure_json(&record));
    context.insert(
        "pending",
        &record
            .receipts
            .iter()
            .filter(|r| r.confirmed_at.is_none())
            .count(),
    );
    Ok(render::page(&viewer.0, "contacts", "erasure.html", context))
}

/// `POST /contact-groups`: creates a group.
pub async fn create_group(
    operator: Operator,
    State(console): State<ConsoleState>,
    body: axum::body::Bytes,
) -> Result<Response, ConsoleError> {
    let name = form_field(&body, "name").unwrap_or_default();
    let name = ContactGroup::parse(name.trim())
        .map_err(|e| ConsoleError::BadRequest(format!("group name: {e}")))?;
    let description: String = form_field(&body, "description")
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    console
        .app
        .store
        .create_contact_group(&name, &description, &operator.actor(), Timestamp::now())
        .await?;
    Ok(Redirect::to("/contacts").into_response())
}
