//! One user's contacts provider (`contacts2.db`): raw contacts, data rows and the
//! aggregated contacts view, reachable through `content://com.android.contacts/…`.
//!
//! [`schema`] names the URIs and columns, [`provider`] implements the provider's rules,
//! [`sql_where`] the SQL subset of `--where` and `--sort`. The data is plain serde so it persists with the
//! phone's state.

pub mod provider;
pub mod schema;
pub mod sql_eval;
pub mod sql_where;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use schema::{ContactsUri, ProviderError, Table};

/// A cell value with SQLite's storage classes (blobs are not used by contacts here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    /// How `content query` prints the value (`String.valueOf` semantics).
    pub fn render(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Int(n) => n.to_string(),
            Value::Real(f) => java_double(*f),
            Value::Text(s) => s.clone(),
        }
    }

    /// The value as an integer if it is one (or numeric text).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Real(f) => Some(*f as i64),
            Value::Text(s) => s.trim().parse().ok(),
            Value::Null => None,
        }
    }

    /// The value as text, `None` for NULL.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            other => Some(other.render()),
        }
    }
}

/// Java's `Double.toString` for ordinary magnitudes: always a decimal point.
fn java_double(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if f.fract() == 0.0 && f.abs() < 1e7 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// A stored row: column name → value.
pub type Row = BTreeMap<String, Value>;

/// One user's contacts database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactsDb {
    pub raw_contacts: BTreeMap<i64, Row>,
    pub data: BTreeMap<i64, Row>,
    pub next_raw_contact_id: i64,
    pub next_data_id: i64,
    pub next_contact_id: i64,
}

impl Default for ContactsDb {
    fn default() -> Self {
        ContactsDb {
            raw_contacts: BTreeMap::new(),
            data: BTreeMap::new(),
            next_raw_contact_id: 1,
            next_data_id: 1,
            next_contact_id: 1,
        }
    }
}

impl ContactsDb {
    /// Number of raw contacts that are not marked deleted.
    pub fn live_raw_contacts(&self) -> usize {
        self.raw_contacts
            .values()
            .filter(|r| r.get("deleted").and_then(Value::as_i64) != Some(1))
            .count()
    }
}
