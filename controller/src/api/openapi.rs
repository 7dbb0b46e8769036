//! The OpenAPI 3.1 document of the REST API, built from the route table
//! ([`super::routes::ROUTES`]) plus the schemas of the bodies (`schemas.rs`), and served
//! at `GET /api/v1/openapi.json`.
//!
//! Must never: list a route the router does not have, or miss one it has (both come from
//! the same table; a test also checks every documented route answers).

use axum::Json;
use serde_json::{Map, Value, json};

use super::auth::Access;
use super::routes::{PREFIX, ROUTES, Route, Shape};
use super::schemas;

/// `GET /openapi.json`.
pub async fn serve() -> Json<Value> {
    Json(document())
}

fn shape(shape: Shape) -> Option<Value> {
    match shape {
        Shape::Empty => None,
        Shape::One(name) => Some(json!({ "$ref": format!("#/components/schemas/{name}") })),
        Shape::List(name) => Some(json!({
            "type": "array",
            "items": { "$ref": format!("#/components/schemas/{name}") },
        })),
    }
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Malformed request: JSON, content type, a field or a query parameter",
        401 => "No valid API token",
        403 => "The token's role may not do this",
        404 => "Unknown id or name",
        409 => "Conflicts with the current state (e.g. the device is revoked)",
        422 => "The profile files have errors; `details.diagnostics` lists them",
        _ => "Error",
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let description = match name {
                "id" => "Device id: 32 lowercase hex digits",
                "name" => "Profile name",
                "version" => "Profile version, e.g. sha256:0123456789abcdef",
                "prefix" => "Enrollment token prefix: 12 hex digits",
                "run" => "Provisioning run id",
                "step" => "Provisioning step, e.g. preflight, work_profile, await_enrollment",
                _ => "",
            };
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": { "type": "string" },
            })
        })
        .collect()
}

fn operation(route: &Route) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(route.operation_id));
    op.insert("summary".into(), json!(route.summary));
    let roles: Vec<&str> = route.access.roles().iter().map(|r| r.as_str()).collect();
    op.insert("x-corral-roles".into(), json!(roles));
    if route.access == Access::Public {
        op.insert("security".into(), json!([]));
    }
    let mut parameters = path_parameters(route.path);
    parameters.extend(route.query.iter().map(|p| {
        json!({
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description,
            "schema": { "type": p.kind },
        })
    }));
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(schema) = shape(route.request) {
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
        );
    }
    let mut responses = Map::new();
    let ok = match shape(route.response) {
        Some(schema) => json!({
            "description": "Success",
            "content": { "application/json": { "schema": schema } },
        }),
        None => json!({ "description": "Success, no content" }),
    };
    responses.insert(route.status.to_string(), ok);
    let mut errors: Vec<u16> = route.errors.to_vec();
    if route.access != Access::Public {
        errors.extend([401, 403]);
    }
    if route.request != Shape::Empty || !route.query.is_empty() {
        errors.push(400);
    }
    if route.path.contains('{') {
        errors.push(404);
    }
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        responses.insert(
            status.to_string(),
            json!({
                "description": error_description(status),
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
            }),
        );
    }
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths
            .entry(format!("{PREFIX}{}", route.path))
            .or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(route.verb.as_str().to_lowercase(), operation(route));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "corral REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Manage corral's fleet: profiles, devices, enrollment tokens and the \
                event log. Authenticate with `Authorization: Bearer <api token>` (`corral admin \
                token` prints one). Roles: admin may do everything; technician may read, assign \
                profiles, send commands and manage enrollment tokens; auditor may only read. \
                Every change is recorded in the event log with the user who made it. Errors \
                are `{\"error\": {\"code\", \"message\", \"details\"}}`; timestamps are RFC 3339.",
        },
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API token, `api-<prefix>.<secret>`" },
            },
            "schemas": schemas::all(),
        },
    })
}
