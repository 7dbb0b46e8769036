//! `content://com.android.contacts/{raw_contacts,data,contacts}[/ID]`: query, insert,
//! update and delete with ContactsProvider2's rules as far as the simulator models them.
//!
//! Rules kept: every raw contact gets its own aggregate contact; a contact's display name
//! comes from its structured name, else nickname, else phone, else email; deleting a
//! *local* raw contact (no account) or deleting as a sync adapter
//! (`?caller_is_syncadapter=true`) removes it and its data rows, while a raw contact with
//! an account is only marked `deleted=1` (as the real provider does until the sync
//! adapter purges it); `data` needs `raw_contact_id` and `mimetype`; aggregate contacts
//! cannot be inserted. Columns are a subset of the real views, in their order.

use super::schema::{
    ContactsUri, DATA_STORED, MIME_EMAIL, MIME_NAME, MIME_NICKNAME, MIME_PHONE, ProviderError,
    RAW_STORED, Table, columns, get,
};
use super::sql_where::{self, SqlError};
use super::{ContactsDb, Row, Value};

impl ContactsDb {
    fn display_name(&self, raw_id: i64) -> (Value, i64) {
        let rows: Vec<&Row> = self
            .data
            .values()
            .filter(|d| get(d, "raw_contact_id").as_i64() == Some(raw_id))
            .collect();
        for (mime, source) in [
            (MIME_NAME, 40),
            (MIME_NICKNAME, 35),
            (MIME_PHONE, 20),
            (MIME_EMAIL, 10),
        ] {
            let hit = rows.iter().find(|d| {
                get(d, "mimetype").as_text().as_deref() == Some(mime)
                    && get(d, "data1") != Value::Null
            });
            if let Some(d) = hit {
                return (get(d, "data1"), source);
            }
        }
        (Value::Null, 0)
    }

    /// The rows of a table's view, with computed columns, restricted by the URI.
    fn view(&self, uri: &ContactsUri) -> Vec<Row> {
        let mut rows = Vec::new();
        match uri.table {
            Table::RawContacts => {
                for (id, raw) in &self.raw_contacts {
                    let mut row = raw.clone();
                    let (name, source) = self.display_name(*id);
                    row.insert("display_name".into(), name.clone());
                    row.insert("display_name_alt".into(), name);
                    row.insert("display_name_source".into(), Value::Int(source));
                    rows.push(row);
                }
            }
            Table::Data => {
                for data in self.data.values() {
                    let mut row = data.clone();
                    let raw_id = get(data, "raw_contact_id").as_i64().unwrap_or(-1);
                    let raw = self.raw_contacts.get(&raw_id);
                    if raw.is_some_and(|r| get(r, "deleted").as_i64() == Some(1)) {
                        continue;
                    }
                    for col in ["contact_id", "account_name", "account_type"] {
                        row.insert(col.into(), raw.map(|r| get(r, col)).unwrap_or(Value::Null));
                    }
                    row.insert("display_name".into(), self.display_name(raw_id).0);
                    rows.push(row);
                }
            }
            Table::Contacts => {
                let mut seen = std::collections::BTreeSet::new();
                for (id, raw) in &self.raw_contacts {
                    let contact = get(raw, "contact_id").as_i64().unwrap_or(-1);
                    if get(raw, "deleted").as_i64() == Some(1) || !seen.insert(contact) {
                        continue;
                    }
                    let (name, source) = self.display_name(*id);
                    let has_phone = self.data.values().any(|d| {
                        get(d, "raw_contact_id").as_i64() == Some(*id)
                            && get(d, "mimetype").as_text().as_deref() == Some(MIME_PHONE)
                    });
                    let row: Row = [
                        ("_id", Value::Int(contact)),
                        ("lookup", Value::Text(format!("0r{id}-{}", contact * 7 + 3))),
                        ("display_name", name.clone()),
                        ("display_name_alt", name),
                        ("display_name_source", Value::Int(source)),
                        ("name_raw_contact_id", Value::Int(*id)),
                        ("has_phone_number", Value::Int(i64::from(has_phone))),
                        ("starred", get(raw, "starred")),
                        ("pinned", get(raw, "pinned")),
                        ("in_visible_group", Value::Int(1)),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect();
                    rows.push(row);
                }
            }
        }
        rows.retain(|row| {
            uri.id.is_none_or(|id| get(row, "_id").as_i64() == Some(id))
                && uri
                    .mimetype
                    .is_none_or(|m| get(row, "mimetype").as_text().as_deref() == Some(m))
        });
        rows
    }

    fn matching(
        &self,
        uri: &ContactsUri,
        selection: Option<&str>,
    ) -> Result<Vec<Row>, ProviderError> {
        let mut rows = self.view(uri);
        if let Some(sel) = selection.filter(|s| !s.trim().is_empty()) {
            let expr = sql_where::parse(sel).map_err(ProviderError::sql)?;
            let cols = columns(uri.table);
            expr.check_columns(&|c| cols.contains(&c))
                .map_err(ProviderError::sql)?;
            rows.retain(|row| expr.truth(&|c| get(row, c)) == Some(true));
        }
        Ok(rows)
    }

    /// `query`: the column names and the rows, in order.
    pub fn query(
        &self,
        uri: &ContactsUri,
        projection: Option<&[String]>,
        selection: Option<&str>,
        sort: Option<&str>,
    ) -> Result<(Vec<String>, Vec<Vec<Value>>), ProviderError> {
        let all = columns(uri.table);
        let cols: Vec<String> = match projection {
            Some(p) => {
                for c in p {
                    if !all.contains(&c.as_str()) {
                        return Err(ProviderError::illegal(format!("Invalid column {c}")));
                    }
                }
                p.to_vec()
            }
            None => all.iter().map(|c| c.to_string()).collect(),
        };
        let mut rows = self.matching(uri, selection)?;
        if let Some(sort) = sort.filter(|s| !s.trim().is_empty()) {
            let keys = sql_where::parse_sort(sort).map_err(ProviderError::sql)?;
            if let Some(k) = keys.iter().find(|k| !all.contains(&k.column.as_str())) {
                return Err(ProviderError::sql(SqlError::NoColumn(k.column.clone())));
            }
            rows.sort_by(|a, b| {
                for k in &keys {
                    let o = sql_where::sort_order(&get(a, &k.column), &get(b, &k.column));
                    let o = if k.descending { o.reverse() } else { o };
                    if o.is_ne() {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let out = rows
            .iter()
            .map(|row| cols.iter().map(|c| get(row, c)).collect())
            .collect();
        Ok((cols, out))
    }

    /// `insert`: the new row's id.
    pub fn insert(
        &mut self,
        uri: &ContactsUri,
        values: &[(String, Value)],
    ) -> Result<i64, ProviderError> {
        if uri.id.is_some() {
            return Err(ProviderError::illegal(format!("Unknown URL {}", uri.text)));
        }
        match uri.table {
            Table::Contacts => Err(ProviderError::Exception(
                "java.lang.UnsupportedOperationException: Aggregate contacts are created automatically".into(),
            )),
            Table::RawContacts => {
                let mut row = row_from(values, RAW_STORED, "raw_contacts")?;
                for (col, v) in [("version", 1), ("dirty", 1), ("deleted", 0), ("aggregation_mode", 0), ("starred", 0), ("pinned", 0), ("send_to_voicemail", 0)] {
                    row.entry(col.into()).or_insert(Value::Int(v));
                }
                let id = self.next_raw_contact_id;
                self.next_raw_contact_id += 1;
                row.insert("_id".into(), Value::Int(id));
                row.insert("contact_id".into(), Value::Int(self.next_contact_id));
                self.next_contact_id += 1;
                self.raw_contacts.insert(id, row);
                Ok(id)
            }
            Table::Data => {
                let mut row = row_from(values, DATA_STORED, "data")?;
                let raw_id = get(&row, "raw_contact_id")
                    .as_i64()
                    .ok_or_else(|| ProviderError::illegal("raw_contact_id is required".into()))?;
                let mime = match (get(&row, "mimetype").as_text(), uri.mimetype) {
                    (Some(m), _) => m,
                    (None, Some(m)) => m.to_string(),
                    (None, None) => return Err(ProviderError::illegal("mimetype is required".into())),
                };
                if mime == MIME_NAME && get(&row, "data1") == Value::Null {
                    let parts: Vec<String> = ["data4", "data2", "data5", "data3", "data6"]
                        .iter()
                        .filter_map(|c| get(&row, c).as_text())
                        .collect();
                    if !parts.is_empty() {
                        row.insert("data1".into(), Value::Text(parts.join(" ")));
                    }
                }
                row.insert("mimetype".into(), Value::Text(mime));
                row.insert("raw_contact_id".into(), Value::Int(raw_id));
                for col in ["is_primary", "is_super_primary", "data_version"] {
                    row.entry(col.into()).or_insert(Value::Int(0));
                }
                let id = self.next_data_id;
                self.next_data_id += 1;
                row.insert("_id".into(), Value::Int(id));
                self.data.insert(id, row);
                self.touch(raw_id);
                Ok(id)
            }
        }
    }

    fn touch(&mut self, raw_id: i64) {
        if let Some(raw) = self.raw_contacts.get_mut(&raw_id) {
            let version = get(raw, "version").as_i64().unwrap_or(0) + 1;
            raw.insert("version".into(), Value::Int(version));
            raw.insert("dirty".into(), Value::Int(1));
        }
    }

    /// `update`: the number of rows changed.
    pub fn update(
        &mut self,
        uri: &ContactsUri,
        values: &[(String, Value)],
        selection: Option<&str>,
    ) -> Result<usize, ProviderError> {
        let (stored, name) = match uri.table {
            Table::RawContacts => (RAW_STORED, "raw_contacts"),
            Table::Data => (DATA_STORED, "data"),
            Table::Contacts => (
                &["starred", "pinned", "custom_ringtone", "send_to_voicemail"][..],
                "contacts",
            ),
        };
        let changes = row_from(values, stored, name)?;
        let ids: Vec<i64> = self
            .matching(uri, selection)?
            .iter()
            .filter_map(|r| get(r, "_id").as_i64())
            .collect();
        for id in &ids {
            match uri.table {
                Table::RawContacts => {
                    if let Some(row) = self.raw_contacts.get_mut(id) {
                        apply(row, &changes);
                    }
                    self.touch(*id);
                }
                Table::Data => {
                    let mut raw = None;
                    if let Some(row) = self.data.get_mut(id) {
                        apply(row, &changes);
                        raw = get(row, "raw_contact_id").as_i64();
                    }
                    if let Some(raw) = raw {
                        self.touch(raw);
                    }
                }
                Table::Contacts => {
                    for raw in self.raw_contacts.values_mut() {
                        if get(raw, "contact_id").as_i64() == Some(*id) {
                            apply(raw, &changes);
                        }
                    }
                }
            }
        }
        Ok(ids.len())
    }

    /// `delete`: the number of rows deleted (or marked deleted).
    pub fn delete(
        &mut self,
        uri: &ContactsUri,
        selection: Option<&str>,
    ) -> Result<usize, ProviderError> {
        let rows = self.matching(uri, selection)?;
        let ids: Vec<i64> = rows.iter().filter_map(|r| get(r, "_id").as_i64()).collect();
        match uri.table {
            Table::Data => {
                for id in &ids {
                    if let Some(raw) = self
                        .data
                        .remove(id)
                        .and_then(|r| get(&r, "raw_contact_id").as_i64())
                    {
                        self.touch(raw);
                    }
                }
            }
            Table::RawContacts => {
                for id in &ids {
                    self.delete_raw(*id, uri.sync_adapter);
                }
            }
            Table::Contacts => {
                let raws: Vec<i64> = self
                    .raw_contacts
                    .iter()
                    .filter(|(_, r)| {
                        get(r, "contact_id")
                            .as_i64()
                            .is_some_and(|c| ids.contains(&c))
                    })
                    .map(|(id, _)| *id)
                    .collect();
                for raw in raws {
                    self.delete_raw(raw, uri.sync_adapter);
                }
            }
        }
        Ok(ids.len())
    }

    fn delete_raw(&mut self, id: i64, sync_adapter: bool) {
        let Some(raw) = self.raw_contacts.get_mut(&id) else {
            return;
        };
        let local = get(raw, "account_type") == Value::Null;
        if sync_adapter || local {
            self.raw_contacts.remove(&id);
            self.data
                .retain(|_, d| get(d, "raw_contact_id").as_i64() != Some(id));
        } else {
            raw.insert("deleted".into(), Value::Int(1));
            raw.insert("dirty".into(), Value::Int(1));
        }
    }
}

fn apply(row: &mut Row, changes: &Row) {
    for (k, v) in changes {
        row.insert(k.clone(), v.clone());
    }
}

/// Checks bound columns against the table; `_id` and `contact_id` are not writable and
/// are dropped, as the provider ignores them.
fn row_from(
    values: &[(String, Value)],
    stored: &[&str],
    table: &str,
) -> Result<Row, ProviderError> {
    let mut row = Row::new();
    for (col, v) in values {
        if !stored.contains(&col.as_str()) {
            return Err(ProviderError::Exception(format!(
                "android.database.sqlite.SQLiteException: table {table} has no column named {col} (code 1 SQLITE_ERROR)"
            )));
        }
        if col != "_id" && col != "contact_id" {
            row.insert(col.clone(), v.clone());
        }
    }
    Ok(row)
}
