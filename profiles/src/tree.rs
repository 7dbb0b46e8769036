//! The spanned value tree every later stage reads: TOML converted into owned nodes that
//! remember which file and byte range they came from, and the merge used by `extends`
//! and per-device overrides.
//!
//! Merging at this level keeps every value's position, so a problem in an inherited value
//! is reported in the file that wrote it.

use std::collections::BTreeMap;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostics::{Code, Diag, Loc, Sink};

/// One TOML value and where it was written.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub loc: Loc,
    pub value: Value,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Str(String),
    Int,
    Float,
    Bool(bool),
    Datetime,
    Array(Vec<Node>),
    Table(Table),
}

/// A table: keys with their own positions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    pub entries: BTreeMap<String, Entry>,
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: Loc,
    pub node: Node,
}

impl Node {
    pub(crate) fn type_name(&self) -> &'static str {
        match self.value {
            Value::Str(_) => "a string",
            Value::Int => "an integer",
            Value::Float => "a float",
            Value::Bool(_) => "a boolean",
            Value::Datetime => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

impl Table {
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }
}

/// Parses one file. Syntax errors are reported and parsing recovers as far as it can, so
/// schema problems elsewhere in the file are still found.
pub(crate) fn parse(file: usize, text: &str, sink: &mut Sink) -> Node {
    let (table, errors) = DeTable::parse_recoverable(text);
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim_end_matches('.').to_owned();
        sink.push(Diag::error(
            Code::Syntax,
            Loc::new(file, span),
            format!("invalid TOML: {message}"),
        ));
    }
    let span = table.span();
    let table = convert_table(file, table.into_inner());
    Node {
        loc: Loc::new(file, span),
        value: Value::Table(table),
    }
}

fn convert_table(file: usize, table: DeTable<'_>) -> Table {
    let mut entries = BTreeMap::new();
    for (key, value) in table {
        let key_loc = Loc::new(file, key.span());
        entries.insert(
            key.into_inner().into_owned(),
            Entry {
                key: key_loc,
                node: convert(file, value),
            },
        );
    }
    Table { entries }
}

fn convert(file: usize, value: Spanned<DeValue<'_>>) -> Node {
    let loc = Loc::new(file, value.span());
    let value = match value.into_inner() {
        DeValue::String(s) => Value::Str(s.into_owned()),
        // No key takes a number (intervals are written `60s`), so the value is not kept.
        DeValue::Integer(_) => Value::Int,
        DeValue::Float(_) => Value::Float,
        DeValue::Boolean(b) => Value::Bool(b),
        DeValue::Datetime(_) => Value::Datetime,
        DeValue::Array(items) => {
            Value::Array(items.into_iter().map(|v| convert(file, v)).collect())
        }
        DeValue::Table(t) => Value::Table(convert_table(file, t)),
    };
    Node { loc, value }
}

/// Lays `over` on top of `base`: tables merge key by key (recursively); any other value in
/// `over` — including arrays — replaces the one in `base` whole.
pub(crate) fn merge(base: &mut Table, over: &Table) {
    for (key, entry) in &over.entries {
        match (base.entries.get_mut(key), &entry.node.value) {
            (Some(existing), Value::Table(over_table)) => {
                if let Value::Table(base_table) = &mut existing.node.value {
                    merge(base_table, over_table);
                    // The merged table is now "written" by the overriding file too; keep
                    // the base's position so "missing" hints point at a real header.
                } else {
                    *existing = entry.clone();
                }
            }
            _ => {
                base.entries.insert(key.clone(), entry.clone());
            }
        }
    }
}
