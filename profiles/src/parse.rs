//! One profile file: TOML with positions, split into its header (`name`, `description`,
//! `extends`), its settings sections and its per-device overrides.
//!
//! Only the top level is checked here; the sections are checked after inheritance has
//! merged them (`validate.rs`), so each value is checked once, in the file that wrote it.

use crate::diagnostics::{Code, Diag, Loc, Sink};
use crate::names::{DeviceSerial, ProfileName, nearest};
use crate::read::{Reader, Sp};
use crate::tree::{self, Table, Value};
use crate::validate::{SCHEMA, belongs_in};

/// The sections a profile (and a device override) may contain.
pub(crate) const SECTIONS: [&str; 5] =
    ["messenger", "work_profile", "contacts", "privacy", "agent"];

#[derive(Debug)]
pub(crate) struct ParsedFile {
    pub name: Option<Sp<ProfileName>>,
    pub description: Option<String>,
    pub extends: Option<Sp<ProfileName>>,
    /// Where problems about the whole profile point: its `name`, else the file start.
    pub anchor: Loc,
    /// The settings sections.
    pub body: Table,
    /// `[devices."SERIAL"]` tables: the serial, where it is written, and the sections.
    pub devices: Vec<(Sp<DeviceSerial>, Table)>,
}

pub(crate) fn parse_file(file: usize, text: &str, sink: &mut Sink) -> ParsedFile {
    let root = tree::parse(file, text, sink);
    let empty = Table::default();
    let table = match &root.value {
        Value::Table(t) => t,
        _ => &empty,
    };
    let mut r = Reader::new(table, root.loc, "");
    let name = r
        .str("name", sink)
        .and_then(|s| match ProfileName::parse(&s.value) {
            Ok(n) => Some(Sp {
                value: n,
                loc: s.loc,
            }),
            Err(e) => {
                sink.push(
                    Diag::error(
                        Code::InvalidValue,
                        s.loc,
                        format!("`{}` is not a valid profile name", s.value),
                    )
                    .hint(e.0),
                );
                None
            }
        });
    let anchor = match (&name, table.get("name")) {
        (Some(n), _) => n.loc,
        (None, Some(e)) => e.node.loc,
        (None, None) => {
            sink.push(
                Diag::error(Code::Missing, Loc::new(file, 0..0), "a profile needs a `name`")
                    .hint("start the file with `name = \"shop-staff\"`; other profiles use it in `extends`"),
            );
            Loc::new(file, 0..0)
        }
    };
    let description = r.str("description", sink).map(|s| s.value);
    let extends = r
        .str("extends", sink)
        .and_then(|s| match ProfileName::parse(&s.value) {
            Ok(n) => Some(Sp {
                value: n,
                loc: s.loc,
            }),
            Err(e) => {
                sink.push(
                    Diag::error(
                        Code::InvalidValue,
                        s.loc,
                        format!("`{}` is not a valid profile name", s.value),
                    )
                    .hint(e.0),
                );
                None
            }
        });
    let mut devices = Vec::new();
    if let Some(mut dr) = r.table("devices", sink) {
        for (serial, entry) in dr.entries() {
            let serial = match DeviceSerial::parse(serial) {
                Ok(s) => Sp {
                    value: s,
                    loc: entry.key,
                },
                Err(e) => {
                    sink.push(
                        Diag::error(
                            Code::InvalidValue,
                            entry.key,
                            format!("`{serial}` is not a device serial"),
                        )
                        .hint(e.0),
                    );
                    continue;
                }
            };
            let Value::Table(t) = &entry.node.value else {
                let path = format!("devices.\"{}\"", serial.value);
                sink.push(crate::read::wrong_type(
                    &entry.node,
                    &path,
                    &format!("a table of overrides, like `[{path}.privacy]`"),
                ));
                continue;
            };
            check_override_keys(t, sink);
            devices.push((serial, t.clone()));
        }
    }
    r.allow(&SECTIONS);
    let mut body = Table::default();
    for section in SECTIONS {
        if let Some(entry) = table.get(section) {
            body.entries.insert(section.to_owned(), entry.clone());
        }
    }
    r.finish(sink, &|key| {
        // A section key written at the top level is the commonest slip.
        SCHEMA
            .iter()
            .skip(1)
            .find(|(_, keys)| keys.contains(&key))
            .map(|(s, _)| *s)
    });
    ParsedFile {
        name,
        description,
        extends,
        anchor,
        body,
        devices,
    }
}

/// A device override holds sections only; the header cannot vary per device.
fn check_override_keys(t: &Table, sink: &mut Sink) {
    for (key, entry) in &t.entries {
        if SECTIONS.contains(&key.as_str()) {
            continue;
        }
        let d = if ["name", "extends", "description", "devices"].contains(&key.as_str()) {
            Diag::error(Code::InvalidValue, entry.key, format!("`{key}` cannot be overridden per device"))
                .hint("a device override may only contain the sections messenger, work_profile, contacts, privacy and agent")
        } else {
            let hint = match (nearest(key, SECTIONS), belongs_in(key)) {
                (Some(n), _) => format!("did you mean `{n}`?"),
                (None, Some(section)) => format!("`{key}` belongs in the `{section}` section of the override"),
                (None, None) => "a device override contains sections: messenger, work_profile, contacts, privacy, agent".to_owned(),
            };
            Diag::error(
                Code::UnknownKey,
                entry.key,
                format!("unknown key `{key}` in a device override"),
            )
            .label("unknown key")
            .hint(hint)
        };
        sink.push(d);
    }
}
