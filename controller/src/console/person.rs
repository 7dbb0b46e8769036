//! The person record in the console (Art. 15 access, Art. 20 portability): everything
//! corral holds about one contact as a readable page and as a JSON download. Both are
//! rendered from [`crate::api::contacts::record_json`], the REST API's answer: the page
//! shows every leaf of that JSON under its path, so page, download and API cannot differ.
//!
//! Must never: read the person's data any other way than through that one record.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::ConsoleState;
use super::attachment::attachment;
use super::error::ConsoleError;
use super::render;
use super::session::Operator;
use crate::domain::ContactId;

fn contact_id(text: &str) -> Result<ContactId, ConsoleError> {
    ContactId::parse(text).map_err(|_| ConsoleError::NotFound(format!("no contact `{text}`")))
}

/// Every leaf of `value` as (path, text): objects by key, arrays by index; strings as
/// they are, other values as JSON.
pub fn leaves(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                leaves(v, &join(k), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, &join(&i.to_string()), out);
            }
        }
        Value::String(s) => out.push((path.to_owned(), s.clone())),
        Value::Null => out.push((path.to_owned(), "—".to_owned())),
        other => out.push((path.to_owned(), other.to_string())),
    }
}

async fn record(console: &ConsoleState, id: &str) -> Result<(ContactId, Value), ConsoleError> {
    let id = contact_id(id)?;
    let r = console.app.store.person_record(&id).await?;
    Ok((
        id,
        crate::api::contacts::record_json(&r, console.options.now()),
    ))
}

/// `GET /contacts/{id}/record`: the record as a page.
pub async fn show(
    operator: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let (id, json) = record(&console, &id).await?;
    let section = |key: &str| {
        let mut out = Vec::new();
        if let Some(v) = json.get(key) {
            leaves(v, "", &mut out);
        }
        out
    };
    let events: Vec<Vec<(String, String)>> = json
        .get("events")
        .and_then(Value::as_array)
        .map(|events| {
            events
                .iter()
                .map(|e| {
                    let mut out = Vec::new();
                    leaves(e, "", &mut out);
                    out
                })
                .collect()
        })
        .unwrap_or_default();
    let mut context = tera::Context::new();
    context.insert("id", id.as_str());
    context.insert("name", &json["contact"]["name"]);
    context.insert("contact", &section("contact"));
    context.insert("events", &events);
    context.insert("tables", &section("tables"));
    context.insert("exported_at", &json["exported_at"]);
    Ok(render::page(
        &operator.0,
        "contacts",
        "person.html",
        context,
    ))
}

/// `GET /contacts/{id}/record.json`: the same record as a file to hand to the person.
pub async fn download(
    _: Operator,
    State(console): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let (id, json) = record(&console, &id).await?;
    let text = serde_json::to_string_pretty(&json).map_err(|_| ConsoleError::Internal)?;
    Ok(attachment(
        &format!("person-record-{id}.json"),
        "application/json",
        text,
    ))
}

#[cfg(test)]
mod tests {
    use super::leaves;
    use expect_test::expect;

    #[test]
    fn every_leaf_is_listed_under_its_path() {
        let v = serde_json::json!({
            "name": "Anna", "groups": ["staff", "a"], "basis": { "kind": "contract" },
            "company": null, "n": 3, "empty": []
        });
        let mut out = Vec::new();
        leaves(&v, "", &mut out);
        let text: Vec<String> = out.iter().map(|(p, v)| format!("{p} = {v}")).collect();
        expect![[r#"
            basis.kind = contract
            company = —
            empty = []
            groups.0 = staff
            groups.1 = a
            n = 3
            name = Anna"#]]
        .assert_eq(&text.join("\n"));
    }
}
