//! JSON Schemas of the REST API's bodies, the `components.schemas` of the OpenAPI
//! document. Kept next to nothing else so the handlers' `json!` views and these stay
//! easy to compare; the API tests check real answers against the documented fields.

use serde_json::{Map, Value, json};

fn string() -> Value {
    json!({ "type": "string" })
}

fn text(description: &str) -> Value {
    described(string(), description)
}

fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn integer() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn described(mut schema: Value, description: &str) -> Value {
    schema["description"] = json!(description);
    schema
}

fn nullable(mut schema: Value) -> Value {
    if let Some(t) = schema.get("type").cloned() {
        schema["type"] = json!([t, "null"]);
    } else {
        schema = json!({ "anyOf": [schema, { "type": "null" }] });
    }
    schema
}

fn any() -> Value {
    json!({})
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn one_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// An object whose `required` fields are always present and whose `optional` ones may be
/// left out of a request.
fn object(required: &[(&str, Value)], optional: &[(&str, Value)]) -> Value {
    let mut properties = Map::new();
    for (name, schema) in required.iter().chain(optional) {
        properties.insert((*name).to_owned(), schema.clone());
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "additionalProperties": false,
    })
}

fn diagnostic() -> Value {
    object(
        &[
            ("file", string()),
            ("line", integer()),
            ("column", integer()),
            ("severity", one_of(&["error", "warning", "note"])),
            (
                "code",
                text("Kind of problem, e.g. syntax, unknown-key, unknown-parent"),
            ),
            ("message", string()),
            ("hint", nullable(string())),
            ("label", nullable(string())),
            (
                "related",
                list(object(
                    &[
                        ("file", string()),
                        ("line", integer()),
                        ("column", integer()),
                        ("message", string()),
                    ],
                    &[],
                )),
            ),
        ],
        &[],
    )
}

fn device() -> Vec<(&'static str, Value)> {
    vec![
        ("id", text("32 lowercase hex digits")),
        ("name", string()),
        ("serial", nullable(string())),
        ("group", nullable(string())),
        ("status", one_of(&["active", "revoked"])),
        (
            "online",
            described(boolean(), "Whether the device has a live gateway session"),
        ),
        ("enrolled_at", time()),
        ("last_seen_at", nullable(time())),
        (
            "assigned_profile",
            nullable(text(
                "The effective profile: the device's own assignment, else its group's",
            )),
        ),
        ("assigned_via", nullable(one_of(&["device", "group"]))),
        (
            "desired_version",
            nullable(text("The assigned profile's current version")),
        ),
        (
            "applied_version",
            nullable(text("The version the device last reported applied")),
        ),
        ("in_sync", boolean()),
    ]
}

fn device_detail() -> Value {
    let mut fields = device();
    fields.extend([
        (
            "deliveries",
            list(object(
                &[
                    ("id", integer()),
                    ("profile", string()),
                    ("version", string()),
                    (
                        "state",
                        one_of(&["assigned", "delivered", "applied", "failed"]),
                    ),
                    ("assigned_at", time()),
                    ("delivered_at", nullable(time())),
                    ("applied_at", nullable(time())),
                    ("failed_at", nullable(time())),
                    ("error", nullable(string())),
                ],
                &[],
            )),
        ),
        (
            "pending_pushes",
            list(object(
                &[
                    ("seq", integer()),
                    ("kind", text("profile or command")),
                    ("version", nullable(string())),
                    ("created_at", time()),
                    ("attempts", integer()),
                ],
                &[],
            )),
        ),
        (
            "certificates",
            list(object(
                &[
                    ("serial", string()),
                    ("not_before", time()),
                    ("not_after", time()),
                    ("issued_at", time()),
                    ("revoked_at", nullable(time())),
                ],
                &[],
            )),
        ),
        ("observed_state", nullable(any())),
        ("observed_at", nullable(time())),
        ("drift", nullable(any())),
    ]);
    object(&fields, &[])
}

/// The provisioning steps in the order they run.
const STEPS: &[&str] = &[
    "preflight",
    "work_profile",
    "start_profile",
    "messenger",
    "personal_copy",
    "profile_settings",
    "push_agent",
    "start_agent",
    "await_enrollment",
];

fn enrollment_target() -> Value {
    object(
        &[
            (
                "address",
                text("HOST:PORT of the enrollment listener as the controller binds it"),
            ),
            (
                "ca_fingerprint",
                text("SHA-256 of the controller's CA certificate"),
            ),
        ],
        &[],
    )
}

fn provisioning_run() -> Value {
    let step = object(
        &[
            ("step", one_of(STEPS)),
            ("started_at", time()),
            ("finished_at", nullable(time())),
            (
                "outcome",
                nullable(one_of(&["done", "unchanged", "failed"])),
            ),
            ("detail", nullable(string())),
            ("error", nullable(string())),
        ],
        &[],
    );
    object(
        &[
            ("id", integer()),
            ("serial", string()),
            ("profile", string()),
            ("started_at", time()),
            ("finished_at", nullable(time())),
            (
                "outcome",
                nullable(one_of(&["done", "failed", "interrupted"])),
            ),
            ("error", nullable(string())),
            ("device", nullable(string())),
            ("steps", list(step)),
        ],
        &[],
    )
}

/// Every schema, by name.
pub fn all() -> Value {
    let mut schemas: Vec<(&str, Value)> = vec![
        (
            "Error",
            object(
                &[(
                    "error",
                    object(
                        &[
                            (
                                "code",
                                text("Stable snake_case code, e.g. not_found, invalid_json"),
                            ),
                            ("message", text("What is wrong and where")),
                        ],
                        &[("details", any())],
                    ),
                )],
                &[],
            ),
        ),
        (
            "OpenApiDocument",
            json!({ "type": "object", "description": "This document" }),
        ),
        (
            "ProfileFiles",
            object(
                &[(
                    "files",
                    json!({
                        "type": "array",
                        "minItems": 1,
                        "maxItems": super::profile_upload::MAX_FILES,
                        "items": object(&[("name", text("Unique; diagnostics refer to it")), ("text", text("The profile's TOML"))], &[]),
                    }),
                )],
                &[],
            ),
        ),
        ("Diagnostic", diagnostic()),
        (
            "Validation",
            object(
                &[
                    ("ok", boolean()),
                    ("diagnostics", list(reference("Diagnostic"))),
                    (
                        "profiles",
                        list(object(
                            &[
                                ("name", string()),
                                ("version", string()),
                                ("file", string()),
                                (
                                    "uploaded",
                                    described(
                                        boolean(),
                                        "False for a stored profile re-resolved because a parent changed",
                                    ),
                                ),
                            ],
                            &[],
                        )),
                    ),
                ],
                &[],
            ),
        ),
        (
            "Publication",
            object(
                &[
                    (
                        "published",
                        list(object(
                            &[
                                ("name", string()),
                                ("version", string()),
                                ("previous_version", nullable(string())),
                                ("changed", boolean()),
                                ("uploaded", boolean()),
                                (
                                    "devices_affected",
                                    described(integer(), "Devices that got a push"),
                                ),
                            ],
                            &[],
                        )),
                    ),
                    ("diagnostics", list(reference("Diagnostic"))),
                ],
                &[],
            ),
        ),
        (
            "ProfileSummary",
            object(
                &[
                    ("name", string()),
                    ("current_version", string()),
                    ("updated_at", time()),
                ],
                &[],
            ),
        ),
        (
            "Profile",
            object(
                &[
                    ("name", string()),
                    ("current_version", string()),
                    ("canonical_toml", string()),
                    (
                        "source",
                        nullable(object(
                            &[
                                ("file", string()),
                                ("text", string()),
                                ("extends", nullable(string())),
                                ("uploaded_at", time()),
                                ("uploaded_by", string()),
                            ],
                            &[],
                        )),
                    ),
                ],
                &[],
            ),
        ),
        (
            "VersionSummary",
            object(
                &[
                    ("version", string()),
                    ("created_at", time()),
                    ("current", boolean()),
                ],
                &[],
            ),
        ),
        (
            "ProfileVersion",
            object(
                &[
                    ("name", string()),
                    ("version", string()),
                    ("canonical_toml", string()),
                    ("created_at", time()),
                ],
                &[],
            ),
        ),
        (
            "ProfileDiff",
            object(
                &[
                    ("name", string()),
                    ("from", string()),
                    ("to", string()),
                    ("equal", boolean()),
                    (
                        "text",
                        text("One line per change: + added, - removed, ~ changed"),
                    ),
                    (
                        "changes",
                        list(object(
                            &[
                                ("path", text("Dotted path, e.g. messenger.personal_copy")),
                                ("kind", one_of(&["added", "removed", "changed"])),
                            ],
                            &[("old", any()), ("new", any())],
                        )),
                    ),
                ],
                &[],
            ),
        ),
        ("Device", object(&device(), &[])),
        ("DeviceDetail", device_detail()),
        (
            "AssignRequest",
            object(&[("profile", text("A published profile"))], &[]),
        ),
        (
            "Assignment",
            object(
                &[
                    ("device", string()),
                    ("profile", string()),
                    ("version", string()),
                    ("push_queued", boolean()),
                ],
                &[],
            ),
        ),
        (
            "CommandRequest",
            object(
                &[(
                    "kind",
                    one_of(&["resync", "reboot", "remove_work_profile", "collect_logs"]),
                )],
                &[],
            ),
        ),
        (
            "QueuedCommand",
            object(
                &[
                    (
                        "seq",
                        described(
                            integer(),
                            "The push's sequence number in the device's outbox",
                        ),
                    ),
                    ("command_id", string()),
                    ("device", string()),
                ],
                &[],
            ),
        ),
        (
            "RevokeRequest",
            object(
                &[("reason", text("1 to 500 characters, kept in the event log"))],
                &[],
            ),
        ),
        (
            "Revocation",
            object(
                &[
                    ("device", string()),
                    ("status", one_of(&["revoked"])),
                    ("certificates_revoked", list(string())),
                    ("was_online", boolean()),
                ],
                &[],
            ),
        ),
        (
            "EnrollmentTokenRequest",
            object(
                &[],
                &[
                    (
                        "profile",
                        text("Enroll into this published profile (or give group)"),
                    ),
                    ("group", text("Enroll into this group (or give profile)")),
                    (
                        "expires_in_secs",
                        json!({ "type": "integer", "minimum": 1, "maximum": super::enrollment::MAX_LIFETIME_SECS }),
                    ),
                ],
            ),
        ),
        (
            "NewEnrollmentToken",
            object(
                &[
                    ("token", text("enr-<prefix>.<secret>; shown only here")),
                    ("prefix", string()),
                    ("profile", nullable(string())),
                    ("group", nullable(string())),
                    ("expires_at", time()),
                ],
                &[],
            ),
        ),
        (
            "EnrollmentToken",
            object(
                &[
                    ("prefix", string()),
                    ("profile", nullable(string())),
                    ("group", nullable(string())),
                    ("state", one_of(&["active", "used", "revoked", "expired"])),
                    ("created_at", time()),
                    ("created_by", nullable(string())),
                    ("expires_at", time()),
                    ("used_at", nullable(time())),
                    ("used_by", nullable(string())),
                    ("revoked_at", nullable(time())),
                ],
                &[],
            ),
        ),
        (
            "Event",
            object(
                &[
                    ("id", integer()),
                    ("at", time()),
                    ("device", nullable(string())),
                    ("actor", text("user:<name>, device or controller")),
                    (
                        "kind",
                        text("Dotted, e.g. profile.published, device.revoked"),
                    ),
                    ("detail", any()),
                ],
                &[],
            ),
        ),
        ("EnrollmentTarget", enrollment_target()),
        (
            "ProvisioningRunRequest",
            object(
                &[
                    (
                        "serial",
                        text("The phone's adb serial, or HOST:PORT for direct TCP"),
                    ),
                    ("profile", text("A published profile")),
                ],
                &[],
            ),
        ),
        (
            "ProvisioningRunStarted",
            object(
                &[
                    ("id", integer()),
                    ("serial", string()),
                    ("profile", string()),
                ],
                &[],
            ),
        ),
        (
            "ProvisioningStepStart",
            object(&[("step", one_of(STEPS))], &[]),
        ),
        (
            "ProvisioningStepEnd",
            object(
                &[("outcome", one_of(&["done", "unchanged", "failed"]))],
                &[
                    ("detail", nullable(text("What the step found or did"))),
                    ("error", nullable(text("Why it failed, with the remedy"))),
                ],
            ),
        ),
        (
            "ProvisioningRunEnd",
            object(
                &[("outcome", one_of(&["done", "failed"]))],
                &[
                    ("error", nullable(string())),
                    ("device", nullable(text("The device the agent enrolled as"))),
                ],
            ),
        ),
        ("ProvisioningRun", provisioning_run()),
    ];
    schemas.extend(super::contact_schemas::all());
    Value::Object(
        schemas
            .into_iter()
            .map(|(name, schema)| (name.to_owned(), schema))
            .collect(),
    )
}
