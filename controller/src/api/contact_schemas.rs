//! JSON Schemas of the contact book's bodies (`/contacts`, `/contact-groups`), added to
//! the OpenAPI document's components by [`super::schemas::all`].

use serde_json::{Map, Value, json};

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

fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn nullable_string(description: &str) -> Value {
    json!({ "type": ["string", "null"], "description": description })
}

fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

fn kinds() -> Value {
    json!({ "type": "string", "enum": ["consent", "contract", "legitimate_interest"] })
}

fn basis_input_for_import() -> Value {
    object(
        &[("kind", kinds())],
        &[
            (
                "wording",
                string("Consent: the exact wording the person agreed to"),
            ),
            ("wording_version", string("Consent: the wording's version")),
            ("channel", string("Consent: how it was given")),
            (
                "note",
                string("Legitimate interest: the balancing of interests"),
            ),
        ],
    )
}

/// The contact book's schemas, by name.
pub fn all() -> Vec<(&'static str, Value)> {
    let basis = object(
        &[("kind", kinds())],
        &[
            (
                "wording",
                string("Consent: the exact wording the person agreed to"),
            ),
            ("wording_version", string("Consent: the wording's version")),
            ("at", time()),
            (
                "channel",
                string("Consent: how it was given, e.g. paper form, consent link"),
            ),
            (
                "recorded_by",
                string("Consent: who recorded it (user:<name>, or link)"),
            ),
            (
                "note",
                string("Legitimate interest: the balancing of interests"),
            ),
        ],
    );
    let basis_input = object(
        &[("kind", kinds())],
        &[
            (
                "wording",
                string("Consent: the exact wording the person agreed to"),
            ),
            ("wording_version", string("Consent: the wording's version")),
            ("channel", string("Consent: how it was given")),
            (
                "note",
                string("Legitimate interest: the balancing of interests"),
            ),
        ],
    );
    let groups = json!({ "type": "array", "items": { "type": "string" } });
    vec![
        (
            "Contact",
            object(
                &[
                    ("id", string("32 lowercase hex digits")),
                    ("name", string("Display name on the phones")),
                    ("number", string("E.164, e.g. +49301234567")),
                    ("company", nullable_string("Optional company")),
                    ("groups", groups.clone()),
                    ("basis", json!({ "anyOf": [basis, { "type": "null" }] })),
                    (
                        "reaches_phones",
                        json!({ "type": "boolean", "description": "Whether it has a lawful basis (without one it never reaches a phone)" }),
                    ),
                    (
                        "pseudonym",
                        string("Stands for the person in the audit log, also after erasure"),
                    ),
                    ("created_at", time()),
                    ("updated_at", time()),
                ],
                &[],
            ),
        ),
        (
            "ContactInput",
            object(
                &[
                    ("name", string("1 to 100 characters")),
                    (
                        "number",
                        string("International (+49 30 1234567), or national with `region`"),
                    ),
                ],
                &[
                    (
                        "region",
                        nullable_string("Country for national numbers, e.g. DE"),
                    ),
                    ("company", nullable_string("Optional company")),
                    ("groups", groups),
                    (
                        "basis",
                        json!({ "anyOf": [basis_input, { "type": "null" }], "description": "Consent is recorded as given now, by the caller" }),
                    ),
                ],
            ),
        ),
        (
            "Erasure",
            object(
                &[
                    ("id", string("The erasure's id")),
                    (
                        "pseudonym",
                        string("What the audit log calls the person from now on"),
                    ),
                    (
                        "reason",
                        json!({ "type": "string", "enum": ["erasure", "withdrawal"] }),
                    ),
                    ("erased_at", time()),
                    (
                        "actor",
                        string("Who asked: user:<name>, or link for the person's own link"),
                    ),
                    (
                        "phones",
                        json!({ "type": "array", "items": object(
                            &[
                                ("device", string("Device id")),
                                ("name", string("Device name")),
                                ("push_seq", json!({ "type": "integer", "minimum": 0 })),
                                ("confirmed_at", json!({ "type": ["string", "null"], "format": "date-time", "description": "When the phone's agent confirmed its work profile no longer holds the person" })),
                            ],
                            &[],
                        ) }),
                    ),
                ],
                &[],
            ),
        ),
        (
            "ConsentLinkInput",
            object(
                &[],
                &[(
                    "days",
                    json!({ "type": "integer", "minimum": 1, "maximum": 90, "description": "Days the link can be confirmed (default 14)" }),
                )],
            ),
        ),
        (
            "ConsentLink",
            object(
                &[
                    ("prefix", string("The link's public id")),
                    (
                        "token",
                        string("The secret token, answered only now: send it to the person"),
                    ),
                    (
                        "path",
                        string("The public page, /consent/<token>, on the console's address"),
                    ),
                    (
                        "wording_version",
                        string("The consent wording version the page shows"),
                    ),
                    ("created_at", time()),
                    ("expires_at", time()),
                ],
                &[],
            ),
        ),
        (
            "ContactGroup",
            object(
                &[
                    ("name", string("Referenced by profiles' contacts.groups")),
                    ("description", string("Free text")),
                    ("members", json!({ "type": "integer", "minimum": 0 })),
                    (
                        "members_with_basis",
                        json!({ "type": "integer", "minimum": 0, "description": "Members that reach phones" }),
                    ),
                    ("created_at", time()),
                ],
                &[],
            ),
        ),
        (
            "ContactImport",
            object(
                &[
                    (
                        "format",
                        json!({ "type": "string", "enum": ["csv", "vcard"] }),
                    ),
                    (
                        "text",
                        string("The file's text (at most 2 MiB, 10,000 rows)"),
                    ),
                ],
                &[
                    (
                        "region",
                        nullable_string("Country for national numbers, e.g. DE"),
                    ),
                    (
                        "groups",
                        json!({ "type": "array", "items": { "type": "string" }, "description": "Added to every row" }),
                    ),
                    (
                        "basis",
                        json!({ "anyOf": [basis_input_for_import(), { "type": "null" }], "description": "For rows without one" }),
                    ),
                    (
                        "confirm_valid",
                        json!({ "type": ["integer", "null"], "minimum": 0, "description": "Import only if this equals the number of valid rows" }),
                    ),
                ],
            ),
        ),
        (
            "ContactImportResult",
            object(
                &[
                    ("valid", json!({ "type": "integer", "minimum": 0 })),
                    ("invalid", json!({ "type": "integer", "minimum": 0 })),
                    (
                        "rows",
                        json!({ "type": "array", "items": object(
                            &[
                                ("line", json!({ "type": "integer", "minimum": 0 })),
                                ("name", string("")),
                                ("number", string("")),
                                ("groups", json!({ "type": "array", "items": { "type": "string" } })),
                                ("basis", json!({ "anyOf": [kinds(), { "type": "null" }] })),
                            ],
                            &[],
                        ) }),
                    ),
                    (
                        "errors",
                        json!({ "type": "array", "items": object(
                            &[
                                ("line", json!({ "type": "integer", "minimum": 0 })),
                                ("field", string("The column or property, or file/header/row")),
                                ("message", string("What is wrong")),
                            ],
                            &[],
                        ) }),
                    ),
                    (
                        "imported",
                        json!({ "type": "integer", "minimum": 0, "description": "0 unless confirmed" }),
                    ),
                ],
                &[],
            ),
        ),
        (
            "ContactExport",
            object(
                &[
                    (
                        "format",
                        json!({ "type": "string", "enum": ["csv", "vcard"] }),
                    ),
                    ("contacts", json!({ "type": "integer", "minimum": 0 })),
                    ("text", string("The file")),
                ],
                &[],
            ),
        ),
        (
            "PersonRecord",
            object(
                &[
                    ("contact", json!({ "$ref": "#/components/schemas/Contact" })),
                    (
                        "events",
                        json!({ "type": "array", "items": { "$ref": "#/components/schemas/Event" } }),
                    ),
                    (
                        "consent_links",
                        json!({ "type": "array", "description": "The person's consent links (never their tokens)", "items": object(
                            &[
                                ("prefix", string("The link's public id")),
                                ("wording_version", string("The wording version it shows")),
                                ("created_at", time()),
                                ("expires_at", time()),
                                ("created_by", string("Who created it")),
                                ("confirmed_at", json!({ "type": ["string", "null"], "format": "date-time" })),
                            ],
                            &[],
                        ) }),
                    ),
                    (
                        "tables",
                        json!({ "type": "array", "items": { "type": "string" }, "description": "The tables read" }),
                    ),
                    ("exported_at", time()),
                ],
                &[],
            ),
        ),
        (
            "ContactGroupInput",
            object(
                &[(
                    "name",
                    string("1 to 64 letters, digits, `_`, `.`, `-` or spaces"),
                )],
                &[("description", string("At most 500 characters"))],
            ),
        ),
    ]
}
