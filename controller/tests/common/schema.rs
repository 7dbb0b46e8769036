//! Checks a real API answer against the schema the OpenAPI document gives for it:
//! required fields present, no undocumented ones, JSON types and enums as documented.
//! Enough of JSON Schema for what `api/schemas.rs` uses (`$ref`, `type`, `properties`,
//! `required`, `additionalProperties: false`, `items`, `enum`, `anyOf`).

use serde_json::Value;

/// Panics listing every difference between `value` and the component `name`.
pub fn assert_conforms(document: &Value, name: &str, value: &Value) {
    let mut problems = Vec::new();
    let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
    check(document, &schema, value, "$", &mut problems);
    assert!(problems.is_empty(), "{name}: {problems:#?}\nin {value:#}");
}

/// The response schema of `verb path` in the document, as a component name (or
/// `[name]` for a list).
pub fn check_response(document: &Value, verb: &str, path: &str, value: &Value) {
    let responses = &document["paths"][path][verb.to_lowercase()]["responses"];
    let ok = responses
        .as_object()
        .and_then(|r| r.iter().find(|(status, _)| status.starts_with('2')))
        .map(|(_, r)| r["content"]["application/json"]["schema"].clone())
        .unwrap_or_else(|| panic!("{verb} {path} is not documented"));
    let mut problems = Vec::new();
    check(document, &ok, value, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{verb} {path}: {problems:#?}\nin {value:#}"
    );
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(document: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        let target = &document["components"]["schemas"][name];
        assert!(!target.is_null(), "dangling {reference}");
        return check(document, target, value, at, problems);
    }
    if let Some(options) = schema["anyOf"].as_array() {
        let fits = options.iter().any(|o| {
            let mut inner = Vec::new();
            check(document, o, value, at, &mut inner);
            inner.is_empty()
        });
        if !fits {
            problems.push(format!("{at}: fits none of anyOf"));
        }
        return;
    }
    let actual = type_name(value);
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    let fits = allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
    if !fits {
        problems.push(format!("{at}: {actual}, documented as {allowed:?}"));
        return;
    }
    if let Some(options) = schema["enum"].as_array()
        && !value.is_null()
        && !options.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {options:?}"));
    }
    match value {
        Value::Object(map) => {
            let properties = schema["properties"].as_object();
            for required in schema["required"].as_array().into_iter().flatten() {
                let key = required.as_str().unwrap_or_default();
                if !map.contains_key(key) {
                    problems.push(format!("{at}.{key}: documented as required, missing"));
                }
            }
            for (key, field) in map {
                match properties.and_then(|p| p.get(key)) {
                    Some(s) => check(document, s, field, &format!("{at}.{key}"), problems),
                    None if schema["additionalProperties"] == Value::Bool(false) => {
                        problems.push(format!("{at}.{key}: not documented"));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(
                    document,
                    &schema["items"],
                    item,
                    &format!("{at}[{i}]"),
                    problems,
                );
            }
        }
        _ => {}
    }
}
