//! Typed reading of a spanned table, with every problem reported and nothing thrown.
//!
//! A [`Reader`] hands out the keys the schema asks for and remembers them; whatever is
//! left when it [`finish`](Reader::finish)es is an unknown key, reported with the nearest
//! known key as a hint. Accessors return `None` after reporting, so one bad value never
//! hides the next.

use crate::diagnostics::{Code, Diag, Loc, Sink};
use crate::names::nearest;
use crate::tree::{Entry, Node, Table, Value};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sp<T> {
    pub value: T,
    pub loc: Loc,
}

pub(crate) struct Reader<'a> {
    table: &'a Table,
    /// Where the table itself is (its header), for "missing key" diagnostics.
    pub loc: Loc,
    /// How the table is named in messages: `[messenger]`, `the top level`.
    pub path: String,
    /// Its dotted path: `messenger`, `contacts.entries[2]`, empty at the top level.
    dotted: String,
    known: Vec<&'static str>,
}

impl<'a> Reader<'a> {
    /// A reader for `table`, named `dotted` (`""` for the top level).
    pub(crate) fn new(table: &'a Table, loc: Loc, dotted: impl Into<String>) -> Self {
        let dotted = dotted.into();
        let path = if dotted.is_empty() {
            String::new()
        } else {
            format!("[{dotted}]")
        };
        Reader {
            table,
            loc,
            path,
            dotted,
            known: Vec::new(),
        }
    }

    /// The raw entry for `key`, marking the key as known.
    pub(crate) fn entry(&mut self, key: &'static str) -> Option<&'a Entry> {
        self.known.push(key);
        self.table.get(key)
    }

    /// Whether the table has `key` at all (whatever its type).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }

    /// Marks keys as known without reading them (read elsewhere).
    pub(crate) fn allow(&mut self, keys: &[&'static str]) {
        self.known.extend_from_slice(keys);
    }

    pub(crate) fn str(&mut self, key: &'static str, sink: &mut Sink) -> Option<Sp<String>> {
        let entry = self.entry(key)?;
        expect_str(&entry.node, &self.key_path(key), sink)
    }

    pub(crate) fn bool(&mut self, key: &'static str, sink: &mut Sink) -> Option<Sp<bool>> {
        let entry = self.entry(key)?;
        match entry.node.value {
            Value::Bool(b) => Some(Sp {
                value: b,
                loc: entry.node.loc,
            }),
            _ => {
                sink.push(wrong_type(
                    &entry.node,
                    &self.key_path(key),
                    "a boolean (`true` or `false`)",
                ));
                None
            }
        }
    }

    /// An array of strings. Elements of the wrong type are reported and skipped.
    pub(crate) fn str_list(
        &mut self,
        key: &'static str,
        sink: &mut Sink,
    ) -> Option<Sp<Vec<Sp<String>>>> {
        let entry = self.entry(key)?;
        let path = self.key_path(key);
        let Value::Array(items) = &entry.node.value else {
            sink.push(wrong_type(
                &entry.node,
                &path,
                "an array of strings, like `[\"a\", \"b\"]`",
            ));
            return None;
        };
        let values = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| expect_str(item, &format!("{path}[{}]", i + 1), sink))
            .collect();
        Some(Sp {
            value: values,
            loc: entry.node.loc,
        })
    }

    /// A sub-table, as its own reader.
    pub(crate) fn table(&mut self, key: &'static str, sink: &mut Sink) -> Option<Reader<'a>> {
        let entry = self.entry(key)?;
        let path = self.key_path(key);
        match &entry.node.value {
            Value::Table(t) => Some(Reader::new(t, entry.node.loc, path)),
            _ => {
                sink.push(wrong_type(
                    &entry.node,
                    &path,
                    &format!("a table (`[{path}]`)"),
                ));
                None
            }
        }
    }

    /// An array of tables (`[[key]]`), one reader per element.
    pub(crate) fn tables(
        &mut self,
        key: &'static str,
        sink: &mut Sink,
    ) -> Option<Sp<Vec<Reader<'a>>>> {
        let entry = self.entry(key)?;
        let path = self.key_path(key);
        let Value::Array(items) = &entry.node.value else {
            sink.push(wrong_type(
                &entry.node,
                &path,
                &format!("an array of tables (`[[{path}]]`)"),
            ));
            return None;
        };
        let mut readers = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match &item.value {
                Value::Table(t) => {
                    let mut r = Reader::new(t, item.loc, format!("{path}[{}]", i + 1));
                    r.path = format!("[[{path}]] #{}", i + 1);
                    readers.push(r);
                }
                _ => sink.push(wrong_type(item, &format!("{path}[{}]", i + 1), "a table")),
            }
        }
        Some(Sp {
            value: readers,
            loc: entry.node.loc,
        })
    }

    /// All entries, for tables whose keys are data (device serials, package names).
    pub(crate) fn entries(&mut self) -> impl Iterator<Item = (&'a String, &'a Entry)> {
        let table = self.table;
        self.known.push("*");
        table.entries.iter()
    }

    /// The dotted name of `key` in this table, for messages.
    pub(crate) fn key_path(&self, key: &str) -> String {
        if self.dotted.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.dotted)
        }
    }

    /// Reports every key the schema did not ask for. `elsewhere` names the table a key
    /// belongs to when it exists in another one.
    pub(crate) fn finish(self, sink: &mut Sink, elsewhere: &dyn Fn(&str) -> Option<&'static str>) {
        if self.known.contains(&"*") {
            return;
        }
        for (key, entry) in &self.table.entries {
            if self.known.contains(&key.as_str()) {
                continue;
            }
            let place = if self.path.is_empty() {
                "at the top level".to_owned()
            } else {
                format!("in `{}`", self.path)
            };
            let synonym = SYNONYMS
                .iter()
                .find(|(word, known)| *word == key && self.known.contains(known));
            let hint = match synonym
                .map(|(_, known)| *known)
                .or_else(|| nearest(key, self.known.iter().copied()))
            {
                Some(near) => Some(format!("did you mean `{near}`?")),
                None => match elsewhere(key) {
                    Some(section) => Some(format!("`{key}` belongs in `[{section}]`")),
                    None => {
                        let mut known = self.known.clone();
                        known.sort_unstable();
                        known.dedup();
                        Some(format!("known keys here: {}", known.join(", ")))
                    }
                },
            };
            sink.push(
                Diag::error(
                    Code::UnknownKey,
                    entry.key,
                    format!("unknown key `{key}` {place}"),
                )
                .label("unknown key")
                .hint_opt(hint),
            );
        }
    }
}

/// Words people write for a key, when they are not close enough to be a typo.
const SYNONYMS: &[(&str, &str)] = &[
    ("number", "phone"),
    ("mobile", "phone"),
    ("tel", "phone"),
    ("telephone", "phone"),
    ("permissions", "grant"),
    ("lawful_basis", "basis"),
    ("legal_basis", "basis"),
    ("apps", "allowed_apps"),
    ("whatsapp", "packages"),
];

pub(crate) fn expect_str(node: &Node, path: &str, sink: &mut Sink) -> Option<Sp<String>> {
    match &node.value {
        Value::Str(s) => Some(Sp {
            value: s.clone(),
            loc: node.loc,
        }),
        _ => {
            sink.push(wrong_type(node, path, "a string"));
            None
        }
    }
}

pub(crate) fn wrong_type(node: &Node, path: &str, expected: &str) -> Diag {
    Diag::error(
        Code::WrongType,
        node.loc,
        format!("`{path}` must be {expected}"),
    )
    .label(format!("this is {}", node.type_name()))
}
