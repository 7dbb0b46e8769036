//! The preview of an import, shared by `POST /api/v1/contacts/import` and the console's
//! import page: every row the reader parsed turned into a contact draft (with the
//! defaults for what a row leaves empty), or into its problems at the row's line; a
//! number twice in one file is a problem of the later row.
//!
//! Must never: store anything (the caller imports [`Preview::drafts`] when the admin
//! confirms), or drop a row without an error naming its line.

use std::collections::BTreeMap;

use super::{Parsed, RowError};
use crate::domain::{BasisFields, ContactDraft, Timestamp};

/// What a row leaves empty is taken from here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportDefaults {
    /// Country for national numbers in rows without their own `region`.
    pub region: Option<String>,
    /// Groups added to every row.
    pub groups: Vec<String>,
    /// The basis of rows without one (vCards never carry one).
    pub basis: BasisFields,
}

/// The valid rows (draft and line) and every problem, sorted by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub rows: Vec<(usize, ContactDraft)>,
    pub errors: Vec<RowError>,
}

impl Preview {
    /// The drafts to import, in file order.
    pub fn drafts(&self) -> Vec<ContactDraft> {
        self.rows.iter().map(|(_, d)| d.clone()).collect()
    }

    /// How many rows have a problem (a row with two problems counts once).
    pub fn broken_rows(&self) -> usize {
        let mut lines: Vec<usize> = self.errors.iter().map(|e| e.line).collect();
        lines.dedup();
        lines.len()
    }
}

/// Turns parsed rows into drafts recorded by `actor` at `now`.
pub fn preview(parsed: &Parsed, defaults: &ImportDefaults, actor: &str, now: Timestamp) -> Preview {
    let mut errors = parsed.errors.clone();
    let mut rows = Vec::new();
    let mut numbers = BTreeMap::new();
    for row in &parsed.rows {
        let mut fields = row.fields.clone();
        if fields.region.trim().is_empty() {
            fields.region = defaults.region.clone().unwrap_or_default();
        }
        fields.groups.extend(defaults.groups.iter().cloned());
        if fields.basis.kind.trim().is_empty() {
            fields.basis = defaults.basis.clone();
        }
        match fields.to_draft(actor, now) {
            Ok(d) => {
                if let Some(first) = numbers.insert(d.number.clone(), row.line) {
                    errors.push(RowError {
                        line: row.line,
                        field: "number".into(),
                        message: format!("the same number as line {first}"),
                    });
                    continue;
                }
                rows.push((row.line, d));
            }
            Err(field_errors) => {
                errors.extend(field_errors.into_iter().map(|e| RowError::of(row.line, e)))
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    Preview { rows, errors }
}
