//! The canonical form of a resolved profile: one JSON tree with sorted keys and
//! normalised values (E.164 numbers, sorted sets, intervals in their largest exact unit),
//! from which the version hash, `show --resolved` and diffs are all made.
//!
//! **Invariant:** the canonical tree uses the profile file's own key names, so its TOML
//! rendering is itself a valid profile that resolves to the same version.

use serde_json::{Map, Value as Json};

use crate::model::{ResolvedProfile, Settings};

/// The canonical tree of a whole profile: header, settings, and per-device overrides as
/// the minimal set of keys that differ from the profile's own settings.
pub(crate) fn profile_tree(p: &ResolvedProfile) -> Json {
    let mut root = match settings_tree(&p.settings) {
        Json::Object(m) => m,
        _ => Map::new(),
    };
    root.insert("name".into(), Json::String(p.name.to_string()));
    if let Some(d) = &p.description {
        root.insert("description".into(), Json::String(d.clone()));
    }
    let base = settings_tree(&p.settings);
    let mut devices = Map::new();
    for (serial, settings) in &p.devices {
        if let Some(delta) = delta(&base, &settings_tree(settings)) {
            devices.insert(serial.to_string(), delta);
        }
    }
    if !devices.is_empty() {
        root.insert("devices".into(), Json::Object(devices));
    }
    Json::Object(root)
}

/// The canonical tree of one set of settings (no header).
pub(crate) fn settings_tree(s: &Settings) -> Json {
    // Serialising plain data structures cannot fail; an empty tree would only make the
    // version of a broken build differ, never panic.
    strip_nulls(serde_json::to_value(s).unwrap_or(Json::Null))
}

/// Drops nulls (unset optional settings) and empty tables (an empty `apk` map), which
/// mean the same as absent keys.
fn strip_nulls(v: Json) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.into_iter()
                .map(|(k, v)| (k, strip_nulls(v)))
                .filter(|(_, v)| !v.is_null() && !v.as_object().is_some_and(Map::is_empty))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// What `new` sets differently from `base`: objects recursively, anything else whole.
fn delta(base: &Json, new: &Json) -> Option<Json> {
    match (base, new) {
        (Json::Object(b), Json::Object(n)) => {
            let mut out = Map::new();
            for (k, nv) in n {
                let d = match b.get(k) {
                    Some(bv) => delta(bv, nv),
                    None => Some(nv.clone()),
                };
                if let Some(d) = d {
                    out.insert(k.clone(), d);
                }
            }
            (!out.is_empty()).then_some(Json::Object(out))
        }
        _ => (base != new).then(|| new.clone()),
    }
}

/// Compact JSON with object keys sorted bytewise, independent of serde_json's features.
pub(crate) fn to_sorted_json(v: &Json) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = m.get(k) {
                    write_json(v, out);
                }
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Renders the canonical tree as TOML with sorted keys.
pub(crate) fn to_toml(v: &Json) -> String {
    let value = json_to_toml(v);
    match value {
        toml::Value::Table(t) => toml::to_string_pretty(&t).unwrap_or_default(),
        _ => String::new(),
    }
}

fn json_to_toml(v: &Json) -> toml::Value {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut t = toml::Table::new();
            for k in keys {
                if let Some(v) = m.get(k) {
                    t.insert(k.clone(), json_to_toml(v));
                }
            }
            toml::Value::Table(t)
        }
        Json::Array(a) => toml::Value::Array(a.iter().map(json_to_toml).collect()),
        Json::String(s) => toml::Value::String(s.clone()),
        Json::Bool(b) => toml::Value::Boolean(*b),
        Json::Number(n) => toml::Value::Integer(n.as_i64().unwrap_or_default()),
        // Nulls are stripped before rendering; nothing in the model produces them.
        Json::Null => toml::Value::String(String::new()),
    }
}
