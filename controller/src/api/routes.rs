//! The route table: every REST route once, with what it needs and what it answers. The
//! router ([`super::router`]) and the OpenAPI document ([`super::openapi`]) are both
//! built from it, so a route cannot exist without being documented.
//!
//! Must never: hold logic; handlers live in the resource modules.

use axum::routing::{MethodRouter, delete, get, post, put};

use super::auth::Access;
use super::{device_actions, devices, enrollment, events, openapi, profiles};
use crate::serve::AppState;

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    /// Upper case, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }
}

/// The shape of a request or response body: a schema in the document's components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Empty,
    One(&'static str),
    List(&'static str),
}

/// A query parameter: name, JSON type, required, description.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: &'static str,
    pub required: bool,
    pub description: &'static str,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub verb: Verb,
    /// Relative to `/api/v1`, with `{name}` placeholders (axum's and OpenAPI's syntax).
    pub path: &'static str,
    pub access: Access,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub query: &'static [Param],
    pub request: Shape,
    pub status: u16,
    pub response: Shape,
    /// Error statuses beyond those implied (401/403 with credentials, 400 with a body or
    /// query, 404 with a path parameter).
    pub errors: &'static [u16],
    pub handler: fn() -> MethodRouter<AppState>,
}

/// Where the REST API is mounted.
pub const PREFIX: &str = "/api/v1";

/// Every route of the REST API.
pub static ROUTES: &[Route] = &[
    Route {
        verb: Verb::Get,
        path: "/openapi.json",
        access: Access::Public,
        operation_id: "openapi",
        summary: "This OpenAPI 3.1 document",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::One("OpenApiDocument"),
        errors: &[],
        handler: || get(openapi::serve),
    },
    Route {
        verb: Verb::Post,
        path: "/profiles/validate",
        access: Access::Read,
        operation_id: "validateProfiles",
        summary: "Validate profile files without publishing them",
        query: &[],
        request: Shape::One("ProfileFiles"),
        status: 200,
        response: Shape::One("Validation"),
        errors: &[],
        handler: || post(profiles::validate),
    },
    Route {
        verb: Verb::Post,
        path: "/profiles",
        access: Access::Administer,
        operation_id: "publishProfiles",
        summary: "Upload profile files; publish their versions and those of stored profiles extending them",
        query: &[],
        request: Shape::One("ProfileFiles"),
        status: 201,
        response: Shape::One("Publication"),
        errors: &[409, 422],
        handler: || post(profiles::publish),
    },
    Route {
        verb: Verb::Get,
        path: "/profiles",
        access: Access::Read,
        operation_id: "listProfiles",
        summary: "Every profile and its current version",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::List("ProfileSummary"),
        errors: &[],
        handler: || get(profiles::list),
    },
    Route {
        verb: Verb::Get,
        path: "/profiles/{name}",
        access: Access::Read,
        operation_id: "showProfile",
        summary: "A profile's current version and its source as last uploaded",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::One("Profile"),
        errors: &[],
        handler: || get(profiles::show),
    },
    Route {
        verb: Verb::Get,
        path: "/profiles/{name}/versions",
        access: Access::Read,
        operation_id: "listProfileVersions",
        summary: "Every version of a profile, oldest first",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::List("VersionSummary"),
        errors: &[],
        handler: || get(profiles::versions),
    },
    Route {
        verb: Verb::Get,
        path: "/profiles/{name}/versions/{version}",
        access: Access::Read,
        operation_id: "showProfileVersion",
        summary: "One version's canonical TOML",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::One("ProfileVersion"),
        errors: &[],
        handler: || get(profiles::version),
    },
    Route {
        verb: Verb::Get,
        path: "/profiles/{name}/diff",
        access: Access::Read,
        operation_id: "diffProfileVersions",
        summary: "Differences between two versions of a profile",
        query: &[
            Param {
                name: "from",
                kind: "string",
                required: true,
                description: "The old version, e.g. sha256:0123456789abcdef",
            },
            Param {
                name: "to",
                kind: "string",
                required: false,
                description: "The new version; default: the current one",
            },
        ],
        request: Shape::Empty,
        status: 200,
        response: Shape::One("ProfileDiff"),
        errors: &[],
        handler: || get(profiles::diff),
    },
    Route {
        verb: Verb::Get,
        path: "/devices",
        access: Access::Read,
        operation_id: "listDevices",
        summary: "Every device, oldest enrollment first",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::List("Device"),
        errors: &[],
        handler: || get(devices::list),
    },
    Route {
        verb: Verb::Get,
        path: "/devices/{id}",
        access: Access::Read,
        operation_id: "showDevice",
        summary: "One device with its deliveries, pending pushes, certificates, observed state and drift",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::One("DeviceDetail"),
        errors: &[],
        handler: || get(devices::show),
    },
    Route {
        verb: Verb::Put,
        path: "/devices/{id}/profile",
        access: Access::Operate,
        operation_id: "assignProfile",
        summary: "Assign a published profile to a device; its version is pushed at once",
        query: &[],
        request: Shape::One("AssignRequest"),
        status: 200,
        response: Shape::One("Assignment"),
        errors: &[409],
        handler: || put(device_actions::assign),
    },
    Route {
        verb: Verb::Post,
        path: "/devices/{id}/commands",
        access: Access::Operate,
        operation_id: "queueCommand",
        summary: "Queue a command for a device",
        query: &[],
        request: Shape::One("CommandRequest"),
        status: 202,
        response: Shape::One("QueuedCommand"),
        errors: &[409],
        handler: || post(device_actions::command),
    },
    Route {
        verb: Verb::Post,
        path: "/devices/{id}/revoke",
        access: Access::Administer,
        operation_id: "revokeDevice",
        summary: "Revoke a device and its certificates; drops its live session",
        query: &[],
        request: Shape::One("RevokeRequest"),
        status: 200,
        response: Shape::One("Revocation"),
        errors: &[],
        handler: || post(device_actions::revoke),
    },
    Route {
        verb: Verb::Post,
        path: "/enrollment-tokens",
        access: Access::Operate,
        operation_id: "createEnrollmentToken",
        summary: "Create an enrollment token; the secret is in this answer only",
        query: &[],
        request: Shape::One("EnrollmentTokenRequest"),
        status: 201,
        response: Shape::One("NewEnrollmentToken"),
        errors: &[404],
        handler: || post(enrollment::create),
    },
    Route {
        verb: Verb::Get,
        path: "/enrollment-tokens",
        access: Access::Read,
        operation_id: "listEnrollmentTokens",
        summary: "Every enrollment token, newest first, without secrets",
        query: &[],
        request: Shape::Empty,
        status: 200,
        response: Shape::List("EnrollmentToken"),
        errors: &[],
        handler: || get(enrollment::list),
    },
    Route {
        verb: Verb::Delete,
        path: "/enrollment-tokens/{prefix}",
        access: Access::Operate,
        operation_id: "revokeEnrollmentToken",
        summary: "Revoke an enrollment token",
        query: &[],
        request: Shape::Empty,
        status: 204,
        response: Shape::Empty,
        errors: &[],
        handler: || delete(enrollment::revoke),
    },
    Route {
        verb: Verb::Get,
        path: "/events",
        access: Access::Read,
        operation_id: "listEvents",
        summary: "The audit and event log, oldest first",
        query: &[
            Param {
                name: "device",
                kind: "string",
                required: false,
                description: "Only this device's events",
            },
            Param {
                name: "after",
                kind: "integer",
                required: false,
                description: "Only events with a larger id (paging: the last id seen)",
            },
            Param {
                name: "limit",
                kind: "integer",
                required: false,
                description: "At most this many, 1 to 1000 (default 100)",
            },
        ],
        request: Shape::Empty,
        status: 200,
        response: Shape::List("Event"),
        errors: &[],
        handler: || get(events::list),
    },
];
