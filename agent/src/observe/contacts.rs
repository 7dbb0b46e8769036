//! `content query` rows from the work profile's contacts provider, and the raw contacts
//! (`ObservedContact`) assembled from them.
//!
//! `Content.java` prints `Row: <i> <col>=<val>, <col>=<val>, …` per row (index from 0, the
//! cursor's column order, `NULL` for null), or `No result found.`. Values are printed raw,
//! so a name may contain `, ` or a newline: columns are matched in the projection's order
//! and only the last one may be free text (continued on following lines). Provider errors
//! go to stderr with exit status 0 (`Error while accessing provider:…`), so they reach the
//! parser as text and fail it.

use std::collections::BTreeMap;

use corral_profiles::{ObservedContact, RawContactId};

use super::error::{ParseError, numbered};

/// The `mimetype` of a structured name row.
pub const MIME_NAME: &str = "vnd.android.cursor.item/name";
/// The `mimetype` of a phone number row.
pub const MIME_PHONE: &str = "vnd.android.cursor.item/phone_v2";

/// One row: the values of the projection's columns, `None` for `NULL`.
pub type Row = Vec<Option<String>>;

/// Parses the rows of a query with projection `columns`. With `free_last`, the last column
/// may contain anything, newlines included.
pub fn parse_rows(
    command: &str,
    columns: &[&str],
    free_last: bool,
    text: &str,
) -> Result<Vec<Row>, ParseError> {
    let mut rows: Vec<Row> = Vec::new();
    for (n, line) in numbered(text) {
        if n == 1 && line == "No result found." {
            if numbered(text).count() != 1 {
                return Err(ParseError::at(
                    command,
                    2,
                    "",
                    "output after `No result found.`",
                ));
            }
            return Ok(rows);
        }
        let prefix = format!("Row: {} ", rows.len());
        let Some(rest) = line.strip_prefix(&prefix) else {
            match rows.last_mut().and_then(|r| r.last_mut()) {
                Some(Some(last)) if free_last && !line.starts_with("Row: ") => {
                    last.push('\n');
                    last.push_str(line);
                    continue;
                }
                _ => {
                    return Err(ParseError::at(
                        command,
                        n,
                        line,
                        format!("expected `{prefix}…`"),
                    ));
                }
            }
        };
        rows.push(parse_row(command, n, line, columns, rest)?);
    }
    Ok(rows)
}

fn parse_row(
    command: &str,
    n: usize,
    line: &str,
    columns: &[&str],
    mut rest: &str,
) -> Result<Row, ParseError> {
    let mut row = Vec::with_capacity(columns.len());
    for (i, col) in columns.iter().enumerate() {
        let head = format!("{col}=");
        rest = rest
            .strip_prefix(&head)
            .ok_or_else(|| ParseError::at(command, n, line, format!("expected column `{col}`")))?;
        let value = match columns.get(i + 1) {
            Some(next) => {
                let sep = format!(", {next}=");
                let at = rest.find(&sep).ok_or_else(|| {
                    ParseError::at(command, n, line, format!("expected column `{next}`"))
                })?;
                let v = &rest[..at];
                rest = &rest[at + 2..];
                v
            }
            None => std::mem::take(&mut rest),
        };
        row.push((value != "NULL").then(|| value.to_owned()));
    }
    Ok(row)
}

fn id(command: &str, value: &Option<String>) -> Result<u64, ParseError> {
    value
        .as_deref()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ParseError::whole(
                command,
                value.as_deref().unwrap_or("NULL"),
                "expected a numeric id",
            )
        })
}

/// Raw contacts from `raw` rows (`_id`, `account_type`) and `data` rows
/// (`raw_contact_id`, `mimetype`, `data1`), in raw contact id order. Data rows of raw
/// contacts not listed (deleted ones) are ignored.
pub fn assemble(
    raw_command: &str,
    raw: &[Row],
    data_command: &str,
    data: &[Row],
) -> Result<Vec<ObservedContact>, ParseError> {
    let mut contacts: BTreeMap<u64, ObservedContact> = BTreeMap::new();
    for row in raw {
        let [raw_id, account] = row.as_slice() else {
            return Err(ParseError::whole(raw_command, "", "expected two columns"));
        };
        let raw_id = id(raw_command, raw_id)?;
        contacts.insert(
            raw_id,
            ObservedContact {
                id: RawContactId(raw_id),
                name: None,
                numbers: Vec::new(),
                account_type: account.clone(),
            },
        );
    }
    for row in data {
        let [raw_id, mime, value] = row.as_slice() else {
            return Err(ParseError::whole(
                data_command,
                "",
                "expected three columns",
            ));
        };
        let raw_id = id(data_command, raw_id)?;
        let Some(contact) = contacts.get_mut(&raw_id) else {
            continue;
        };
        match (mime.as_deref(), value) {
            (Some(MIME_NAME), Some(v)) if contact.name.is_none() => contact.name = Some(v.clone()),
            (Some(MIME_PHONE), Some(v)) => contact.numbers.push(v.clone()),
            _ => {}
        }
    }
    Ok(contacts.into_values().collect())
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    const RAW: &[&str] = &["_id", "account_type"];
    const DATA: &[&str] = &["raw_contact_id", "mimetype", "data1"];

    #[track_caller]
    fn check(columns: &[&str], free: bool, text: &str, expected: Expect) {
        let got = match parse_rows("content query", columns, free, text) {
            Ok(rows) => format!("{rows:?}"),
            Err(e) => format!("error: {e}"),
        };
        expected.assert_eq(&got);
    }

    #[test]
    fn rows() {
        check(RAW, false, "No result found.\n", expect!["[]"]);
        check(
            RAW,
            false,
            "Row: 0 _id=1, account_type=NULL\nRow: 1 _id=4, account_type=com.whatsapp.w4b\n",
            expect![[r#"[[Some("1"), None], [Some("4"), Some("com.whatsapp.w4b")]]"#]],
        );
        check(
            DATA,
            true,
            "Row: 0 raw_contact_id=1, mimetype=vnd.android.cursor.item/name, data1=Meyer, Wholesale, data1=x\nRow: 1 raw_contact_id=1, mimetype=vnd.android.cursor.item/name, data1=two\nlines\n",
            expect![[
                r#"[[Some("1"), Some("vnd.android.cursor.item/name"), Some("Meyer, Wholesale, data1=x")], [Some("1"), Some("vnd.android.cursor.item/name"), Some("two\nlines")]]"#
            ]],
        );
    }

    #[test]
    fn errors() {
        check(
            RAW,
            false,
            "Error while accessing provider:com.android.contacts\njava.lang.SecurityException: denied\n",
            expect![[
                r#"error: unexpected output of `content query` (line 1): expected `Row: 0 …`: "Error while accessing provider:com.android.contacts""#
            ]],
        );
        check(
            RAW,
            false,
            "Row: 0 _id=1, account_type=NULL\nRow: 2 _id=4, account_type=NULL\n",
            expect![[
                r#"error: unexpected output of `content query` (line 2): expected `Row: 1 …`: "Row: 2 _id=4, account_type=NULL""#
            ]],
        );
        check(
            RAW,
            false,
            "Row: 0 _id=1\n",
            expect![[
                r#"error: unexpected output of `content query` (line 1): expected column `account_type`: "Row: 0 _id=1""#
            ]],
        );
        check(
            RAW,
            false,
            "Row: 0 _id=1, account_type=NULL\nsomething\n",
            expect![[
                r#"error: unexpected output of `content query` (line 2): expected `Row: 1 …`: "something""#
            ]],
        );
        check(
            RAW,
            false,
            "Could not find provider: com.android.contacts\n",
            expect![[
                r#"error: unexpected output of `content query` (line 1): expected `Row: 0 …`: "Could not find provider: com.android.contacts""#
            ]],
        );
        check(
            RAW,
            false,
            "No result found.\nRow: 0 _id=1, account_type=NULL\n",
            expect![[
                r#"error: unexpected output of `content query` (line 2): output after `No result found.`: """#
            ]],
        );
    }

    #[test]
    fn assembling_contacts() {
        let raw = parse_rows(
            "q1",
            RAW,
            false,
            "Row: 0 _id=3, account_type=NULL\nRow: 1 _id=5, account_type=com.whatsapp\n",
        )
        .unwrap_or_default();
        let data = parse_rows(
            "q2",
            DATA,
            true,
            "Row: 0 raw_contact_id=3, mimetype=vnd.android.cursor.item/name, data1=Hofmann Farm\nRow: 1 raw_contact_id=3, mimetype=vnd.android.cursor.item/phone_v2, data1=+493312345678\nRow: 2 raw_contact_id=9, mimetype=vnd.android.cursor.item/name, data1=Deleted\n",
        )
        .unwrap_or_default();
        let contacts = assemble("q1", &raw, "q2", &data).unwrap_or_default();
        expect![[r#"[ObservedContact { id: RawContactId(3), name: Some("Hofmann Farm"), numbers: ["+493312345678"], account_type: None }, ObservedContact { id: RawContactId(5), name: None, numbers: [], account_type: Some("com.whatsapp") }]"#]]
            .assert_eq(&format!("{contacts:?}"));
    }
}
