//! Reading contacts from CSV (RFC 4180, header row) and vCard (3.0 and 4.0) into typed
//! rows, each with the line it starts on, and writing them back out. Pure: text in, rows
//! and per-row errors out; never panics, whatever the input (property-tested).
//!
//! A file is read whole before anything is stored: the caller shows the preview (valid
//! rows, every problem with its line, field and reason) and imports only when the admin
//! confirms the number of valid rows.

pub mod preview;

use std::fmt::Write as _;

use crate::domain::{BasisFields, Contact, ContactFields, FieldError};

/// The largest file accepted.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// The most contacts one file may hold.
pub const MAX_ROWS: usize = 10_000;

/// The CSV columns, in export order. `name` and `number` are required in the header.
pub const CSV_COLUMNS: [&str; 10] = [
    "name",
    "number",
    "region",
    "company",
    "groups",
    "basis",
    "basis_note",
    "consent_wording",
    "consent_wording_version",
    "consent_channel",
];

/// One contact as read, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 1-based line of the file where the row (or vCard) starts.
    pub line: usize,
    pub fields: ContactFields,
}

/// A problem with one row (or with the file, then `line` is where it was noticed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    fn new(line: usize, field: &str, message: impl Into<String>) -> Self {
        RowError {
            line,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A field problem of the row starting at `line`.
    pub fn of(line: usize, e: FieldError) -> Self {
        RowError {
            line,
            field: e.field,
            message: e.message,
        }
    }
}

/// What a file held: the rows that parsed, and every problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

fn too_big(text: &str) -> Option<RowError> {
    (text.len() > MAX_BYTES).then(|| {
        RowError::new(
            1,
            "file",
            format!(
                "the file has {} bytes; at most {MAX_BYTES} are read",
                text.len()
            ),
        )
    })
}

/// Splits CSV text into records of fields, each with its starting line. Errors name the
/// line of the problem.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, RowError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_field_start = true;
    let mut after_quote = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    after_quote = true;
                }
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            '"' => {
                return Err(RowError::new(
                    line,
                    "file",
                    "a quote inside an unquoted field; quote the whole field and double the quote",
                ));
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
                after_quote = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    records.push((start, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start = line;
                at_field_start = true;
                after_quote = false;
            }
            c if after_quote => {
                return Err(RowError::new(
                    line,
                    "file",
                    format!(
                        "`{c}` after a closing quote; a quoted field ends at a comma or line end"
                    ),
                ));
            }
            c => {
                field.push(c);
                at_field_start = false;
            }
        }
        if records.len() > MAX_ROWS {
            return Err(RowError::new(
                line,
                "file",
                format!("more than {MAX_ROWS} rows"),
            ));
        }
    }
    if quoted {
        return Err(RowError::new(
            start,
            "file",
            "a quoted field is never closed",
        ));
    }
    fields.push(field);
    if !(fields.len() == 1 && fields[0].is_empty()) {
        records.push((start, fields));
    }
    Ok(records)
}

/// Reads CSV with a header row naming [`CSV_COLUMNS`] (any order, any subset with `name`
/// and `number`). `groups` are separated by `;`.
pub fn parse_csv(text: &str) -> Parsed {
    if let Some(e) = too_big(text) {
        return Parsed {
            rows: Vec::new(),
            errors: vec![e],
        };
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = match csv_records(text) {
        Ok(r) => r,
        Err(e) => {
            return Parsed {
                rows: Vec::new(),
                errors: vec![e],
            };
        }
    };
    let mut parsed = Parsed::default();
    let Some(((header_line, header), rows)) = records.split_first() else {
        parsed.errors.push(RowError::new(
            1,
            "file",
            "the file is empty; it needs a header row",
        ));
        return parsed;
    };
    let mut columns = Vec::with_capacity(header.len());
    for h in header {
        let h = h.trim().to_ascii_lowercase();
        if !CSV_COLUMNS.contains(&h.as_str()) {
            parsed.errors.push(RowError::new(
                *header_line,
                "header",
                format!("unknown column `{h}`; known: {}", CSV_COLUMNS.join(", ")),
            ));
        } else if columns.contains(&h) {
            parsed.errors.push(RowError::new(
                *header_line,
                "header",
                format!("column `{h}` twice"),
            ));
        }
        columns.push(h);
    }
    for required in ["name", "number"] {
        if !columns.iter().any(|c| c == required) {
            parsed.errors.push(RowError::new(
                *header_line,
                "header",
                format!("the header needs a `{required}` column"),
            ));
        }
    }
    if !parsed.errors.is_empty() {
        return parsed;
    }
    for (line, values) in rows {
        if values.len() != columns.len() {
            parsed.errors.push(RowError::new(
                *line,
                "row",
                format!("{} fields; the header has {}", values.len(), columns.len()),
            ));
            continue;
        }
        let mut f = ContactFields::default();
        let mut basis = BasisFields::default();
        for (column, value) in columns.iter().zip(values) {
            let value = value.clone();
            match column.as_str() {
                "name" => f.name = value,
                "number" => f.number = value,
                "region" => f.region = value,
                "company" => f.company = value,
                "groups" => {
                    f.groups = value
                        .split(';')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "basis" => basis.kind = value,
                "basis_note" => basis.note = value,
                "consent_wording" => basis.wording = value,
                "consent_wording_version" => basis.wording_version = value,
                _ => basis.channel = value,
            }
        }
        f.basis = basis;
        parsed.rows.push(ImportRow {
            line: *line,
            fields: f,
        });
    }
    parsed
}

/// Undoes vCard text escapes (`\\`, `\,`, `\;`, `\n`).
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits on `sep` where it is not escaped.
fn split_unescaped(value: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            if let Some(last) = parts.last_mut() {
                last.push('\\');
                last.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts.into_iter().map(|p| unescape(&p)).collect()
}

/// Reads vCards 3.0 or 4.0: `FN` (the name), the first `TEL` (the number; a `tel:` URI
/// too), `ORG` (the company), `CATEGORIES` (the groups). Other properties are ignored;
/// nothing else about a person is kept. The basis is not in vCards: the caller gives one
/// for the whole file.
pub fn parse_vcard(text: &str) -> Parsed {
    if let Some(e) = too_big(text) {
        return Parsed {
            rows: Vec::new(),
            errors: vec![e],
        };
    }
    let mut parsed = Parsed::default();
    // Unfold: a line starting with a space or tab continues the previous one.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, last))) => last.push_str(rest),
            _ => lines.push((i + 1, raw.to_owned())),
        }
    }
    let mut card: Option<(usize, ContactFields, bool)> = None;
    for (line, content) in lines {
        if content.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = content.split_once(':') else {
            parsed
                .errors
                .push(RowError::new(line, "vcard", "a line without `:`"));
            continue;
        };
        let mut params = head.split(';');
        let name = params
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        // Group prefixes (`item1.TEL`) name the property after the dot.
        let name = name.rsplit('.').next().unwrap_or_default().to_owned();
        match (name.as_str(), card.as_mut()) {
            ("BEGIN", None) if value.trim().eq_ignore_ascii_case("VCARD") => {
                card = Some((line, ContactFields::default(), false));
            }
            ("BEGIN", _) => parsed.errors.push(RowError::new(
                line,
                "vcard",
                "BEGIN inside a vCard (a missing END:VCARD?)",
            )),
            (_, None) => parsed.errors.push(RowError::new(
                line,
                "vcard",
                format!("`{name}` outside BEGIN:VCARD … END:VCARD"),
            )),
            ("END", Some(_)) => {
                if let Some((start, fields, versioned)) = card.take() {
                    if versioned {
                        parsed.rows.push(ImportRow {
                            line: start,
                            fields,
                        });
                    } else {
                        parsed.errors.push(RowError::new(
                            start,
                            "VERSION",
                            "the vCard has no VERSION:3.0 or VERSION:4.0",
                        ));
                    }
                }
                if parsed.rows.len() > MAX_ROWS {
                    parsed.errors.push(RowError::new(
                        line,
                        "file",
                        format!("more than {MAX_ROWS} vCards"),
                    ));
                    return parsed;
                }
            }
            ("VERSION", Some((_, _, versioned))) => match value.trim() {
                "3.0" | "4.0" => *versioned = true,
                other => parsed.errors.push(RowError::new(
                    line,
                    "VERSION",
                    format!("version `{other}`; only 3.0 and 4.0 are read"),
                )),
            },
            ("FN", Some((_, f, _))) => f.name = unescape(value),
            ("TEL", Some((_, f, _))) if f.number.is_empty() => {
                let v = unescape(value);
                f.number = v.strip_prefix("tel:").unwrap_or(&v).to_owned();
            }
            ("ORG", Some((_, f, _))) => {
                f.company = split_unescaped(value, ';')
                    .into_iter()
                    .next()
                    .unwrap_or_default();
            }
            ("CATEGORIES", Some((_, f, _))) => {
                f.groups = split_unescaped(value, ',')
                    .into_iter()
                    .map(|g| g.trim().to_owned())
                    .filter(|g| !g.is_empty())
                    .collect();
            }
            _ => {}
        }
    }
    if let Some((start, _, _)) = card {
        parsed
            .errors
            .push(RowError::new(start, "vcard", "the vCard has no END:VCARD"));
    }
    parsed
}

fn csv_field(s: &str) -> String {
    // A leading =, +, -, @ would be a formula in a spreadsheet (ASVS 1.2.10).
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !looks_like_number(s) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn looks_like_number(s: &str) -> bool {
    s.len() > 1 && s.starts_with('+') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The contacts as CSV with [`CSV_COLUMNS`] (what [`parse_csv`] reads back).
pub fn to_csv(contacts: &[Contact]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for c in contacts {
        let (kind, note, wording, version, channel) = match &c.basis {
            None => ("", "", "", "", ""),
            Some(crate::domain::Basis::Contract) => ("contract", "", "", "", ""),
            Some(crate::domain::Basis::LegitimateInterest { note }) => {
                ("legitimate_interest", note.as_str(), "", "", "")
            }
            Some(crate::domain::Basis::Consent(k)) => (
                "consent",
                "",
                k.wording.as_str(),
                k.wording_version.as_str(),
                k.channel.as_str(),
            ),
        };
        let groups: Vec<&str> = c.groups.iter().map(|g| g.as_str()).collect();
        let fields = [
            c.name.as_str(),
            c.number.as_str(),
            "",
            c.company.as_ref().map_or("", |x| x.as_str()),
            &groups.join(";"),
            kind,
            note,
            wording,
            version,
            channel,
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn vcard_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

/// The contacts as vCard 4.0 (what [`parse_vcard`] reads back; the basis stays out).
pub fn to_vcard(contacts: &[Contact]) -> String {
    let mut out = String::new();
    for c in contacts {
        let _ = write!(
            out,
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:{}\r\nTEL;VALUE=uri;TYPE=cell:tel:{}\r\n",
            vcard_escape(c.name.as_str()),
            c.number
        );
        if let Some(company) = &c.company {
            let _ = write!(out, "ORG:{}\r\n", vcard_escape(company.as_str()));
        }
        if !c.groups.is_empty() {
            let groups: Vec<String> = c.groups.iter().map(|g| vcard_escape(g.as_str())).collect();
            let _ = write!(out, "CATEGORIES:{}\r\n", groups.join(","));
        }
        out.push_str("END:VCARD\r\n");
    }
    out
}

#[cfg(test)]
mod tests;
