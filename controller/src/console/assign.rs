//! Assigning a profile from the console, to a group or to chosen phones: a form, then a
//! confirmation that names how many phones the assignment affects, then one store call
//! (the same assignment as `PUT /api/v1/devices/{id}/profile`, for every target in one
//! transaction with one `profile.assigned` event each).
//!
//! Must never: assign without the confirmation step, to a revoked phone, or a profile
//! that has never been published.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::ConsoleState;
use super::error::ConsoleError;
use super::profile_edit::profile_name;
use super::render;
use super::session::Operator;
use crate::domain::{AssignmentTarget, DeviceId, DeviceStatus, GroupName, Timestamp};
use crate::store::{FleetQuery, FleetRow};

/// Phones listed to choose from (narrow with the search).
const CHOICES: u32 = 200;

#[derive(Debug, Serialize)]
struct PhoneChoice {
    id: String,
    name: String,
    group: Option<String>,
    profile: Option<String>,
    checked: bool,
}

/// `GET /profiles/{name}/assign?q=&device=`: the group field and a list of active phones
/// (matching `q`) with check boxes; `device` pre-checks phones (e.g. after a clone).
pub async fn form(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let store = &console.app.store;
    let current = store.current_profile_version(&name).await?;
    let mut search = None;
    let mut checked = Vec::new();
    let mut source = None;
    for (k, v) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "q" if !v.trim().is_empty() => search = Some(v.trim().to_owned()),
            "device" => checked.push(v.into_owned()),
            "from" => source = Some(v.into_owned()),
            _ => {}
        }
    }
    let query = FleetQuery {
        search: search.clone(),
        status: Some(DeviceStatus::Active),
        limit: CHOICES,
        ..FleetQuery::default()
    };
    let page = store.fleet_page(&query, Timestamp::now()).await?;
    let phones: Vec<PhoneChoice> = page
        .rows
        .iter()
        .filter(|r| source.as_deref() != Some(r.id.as_str()))
        .map(|r| PhoneChoice {
            id: r.id.to_string(),
            name: r.name.to_string(),
            group: r.group.as_ref().map(ToString::to_string),
            profile: r.profile.as_ref().map(ToString::to_string),
            checked: checked.iter().any(|c| c == r.id.as_str()),
        })
        .collect();
    let mut context = tera::Context::new();
    context.insert("name", name.as_str());
    context.insert("version", &current.version.to_string());
    context.insert("q", &search.unwrap_or_default());
    context.insert("phones", &phones);
    context.insert("total", &page.total);
    context.insert("limit", &CHOICES);
    context.insert("from", &source);
    Ok(render::page(
        &operator.0,
        "profiles",
        "assign.html",
        context,
    ))
}

/// What the form asks for.
struct Choice {
    group: Option<GroupName>,
    devices: Vec<DeviceId>,
    confirmed: bool,
}

fn choice(body: &[u8]) -> Result<Choice, ConsoleError> {
    let mut group = None;
    let mut devices = Vec::new();
    let mut confirmed = false;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "group" if !v.trim().is_empty() => {
                group = Some(v.trim().parse().map_err(|_| {
                    ConsoleError::BadRequest(format!("`{}` is not a group name", v.trim()))
                })?);
            }
            "device" => devices.push(
                v.parse()
                    .map_err(|_| ConsoleError::BadRequest(format!("no phone `{v}`")))?,
            ),
            "confirm" => confirmed = v == "yes",
            _ => {}
        }
    }
    match (&group, devices.is_empty()) {
        (None, true) => Err(ConsoleError::BadRequest(
            "choose a group or at least one phone".into(),
        )),
        (Some(_), false) => Err(ConsoleError::BadRequest(
            "choose a group or phones, not both".into(),
        )),
        _ => Ok(Choice {
            group,
            devices,
            confirmed,
        }),
    }
}

/// `POST /profiles/{name}/assign`: without `confirm=yes` the confirmation page naming
/// how many phones are affected; with it, the assignment.
pub async fn submit(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ConsoleError> {
    let name = profile_name(&name)?;
    let store = &console.app.store;
    let current = store.current_profile_version(&name).await?;
    let choice = choice(&body)?;
    let mut rows: Vec<FleetRow> = Vec::with_capacity(choice.devices.len());
    for id in &choice.devices {
        let row = store.fleet_row(id).await?;
        if row.status == DeviceStatus::Revoked {
            return Err(ConsoleError::Conflict(format!(
                "{} is revoked; enroll it again to manage it",
                row.name
            )));
        }
        if !rows.iter().any(|r| r.id == row.id) {
            rows.push(row);
        }
    }
    let targets: Vec<AssignmentTarget> = match &choice.group {
        Some(g) => vec![AssignmentTarget::Group(g.clone())],
        None => rows
            .iter()
            .map(|r| AssignmentTarget::Device(r.id.clone()))
            .collect(),
    };
    let affected: Vec<DeviceId> = match &choice.group {
        Some(g) => {
            store
                .devices_of_assignment_target(&AssignmentTarget::Group(g.clone()))
                .await?
        }
        None => rows.iter().map(|r| r.id.clone()).collect(),
    };
    if !choice.confirmed {
        let mut context = tera::Context::new();
        context.insert("name", name.as_str());
        context.insert("version", &current.version.to_string());
        context.insert("group", &choice.group.as_ref().map(ToString::to_string));
        context.insert("count", &affected.len());
        let phones: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::json!({ "id": r.id.to_string(), "name": r.name.to_string() }))
            .collect();
        context.insert("phones", &phones);
        return Ok(render::page(
            &operator.0,
            "profiles",
            "assign_confirm.html",
            context,
        ));
    }
    store
        .assign_profile_to_all(&targets, &name, &operator.actor(), Timestamp::now())
        .await?;
    for device in &affected {
        console.app.gateway.notify(device);
    }
    Ok(Redirect::to(&format!(
        "/profiles/{name}?done=assigned&count={}",
        affected.len()
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_a_group_or_phones_but_not_both() {
        let id = "0123456789abcdef0123456789abcdef";
        let c = choice(format!("csrf=x&device={id}&device={id}&confirm=yes").as_bytes()).unwrap();
        assert_eq!((c.devices.len(), c.group, c.confirmed), (2, None, true));
        let c = choice(b"csrf=x&group=tills").unwrap();
        assert_eq!(c.group.map(|g| g.to_string()), Some("tills".to_owned()));
        assert!(!c.confirmed);
        for bad in [
            "csrf=x".to_owned(),
            "group=&csrf=x".to_owned(),
            format!("group=tills&device={id}"),
            "device=nope".to_owned(),
        ] {
            assert!(
                matches!(choice(bad.as_bytes()), Err(ConsoleError::BadRequest(_))),
                "{bad}"
            );
        }
    }
}
