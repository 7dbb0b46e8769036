//! The audit log as downloadable files: CSV (RFC 4180) and JSON.
//!
//! Owns: quoting and formula-injection safety of CSV cells, and the exported columns.
//! Must never: emit a CSV cell a spreadsheet would run as a formula (OWASP's CSV
//! injection rule, ASVS 1.2.10), or a field unquoted that holds a separator, quote or
//! line break.

use crate::domain::Event;

/// The exported columns, in order.
pub const COLUMNS: [&str; 6] = ["id", "at", "actor", "kind", "device", "detail"];

/// One CSV cell: a value starting with `=`, `+`, `-`, `@`, a tab or a carriage return
/// gets a leading `'` (so spreadsheets show it as text instead of evaluating it); a value
/// holding `,`, `"`, `'`-prefixed text, CR or LF is wrapped in double quotes with inner
/// quotes doubled.
pub fn csv_cell(value: &str) -> String {
    let defused = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if defused.contains([',', '"', '\n', '\r', '\''])
        || defused.starts_with(' ')
        || defused.ends_with(' ')
    {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn row(cells: &[&str]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The events as CSV with a header line; CRLF line ends (RFC 4180).
pub fn csv(events: &[Event]) -> String {
    let mut out = row(&COLUMNS);
    for e in events {
        let id = e.id.to_string();
        let at = e.at.to_string();
        let device = e
            .device
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let detail = e.detail.to_string();
        out.push_str(&row(&[&id, &at, &e.actor, &e.kind, &device, &detail]));
    }
    out
}

/// The events as a JSON array of objects (`detail` stays structured).
pub fn json(events: &[Event]) -> String {
    let items: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            serde_json::json!({
                "id": e.id,
                "at": e.at.to_string(),
                "actor": e.actor,
                "kind": e.kind,
                "device": e.device.as_ref().map(ToString::to_string),
                "detail": e.detail,
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use expect_test::expect;

    fn check(value: &str, expected: expect_test::Expect) {
        expected.assert_eq(&csv_cell(value));
    }

    #[test]
    fn plain_values_stay_as_they_are() {
        check("user:alice", expect!["user:alice"]);
        check("device.revoked", expect!["device.revoked"]);
        check("", expect![""]);
    }

    #[test]
    fn separators_quotes_and_line_breaks_are_quoted() {
        check("a,b", expect![[r#""a,b""#]]);
        check(r#"say "hi""#, expect![[r#""say ""hi""""#]]);
        check(
            "two\nlines",
            expect![[r#"
            "two
            lines""#]],
        );
        check(" padded ", expect![[r#"" padded ""#]]);
    }

    #[test]
    fn formula_starts_are_defused() {
        check(
            "=HYPERLINK(\"http://x\")",
            expect![[r#""'=HYPERLINK(""http://x"")""#]],
        );
        check("+1", expect![[r#""'+1""#]]);
        check("-2", expect![[r#""'-2""#]]);
        check("@SUM(A1)", expect![[r#""'@SUM(A1)""#]]);
        check("\tx", expect![[r#""'	x""#]]);
    }

    #[test]
    fn the_export_has_a_header_and_one_line_per_event() {
        let event = Event {
            id: 7,
            at: Timestamp::from_unix_millis(0),
            device: None,
            actor: "=cmd".into(),
            kind: "user.created".into(),
            detail: serde_json::json!({ "user": "bob", "role": "auditor" }),
        };
        expect![[r#"
            id,at,actor,kind,device,detail
            7,1970-01-01T00:00:00.000Z,"'=cmd",user.created,,"{""role"":""auditor"",""user"":""bob""}"
        "#]]
        .assert_eq(&csv(std::slice::from_ref(&event)).replace("\r\n", "\n"));
        expect![[r#"[{"actor":"=cmd","at":"1970-01-01T00:00:00.000Z","detail":{"role":"auditor","user":"bob"},"device":null,"id":7,"kind":"user.created"}]"#]]
            .assert_eq(&json(&[event]));
    }
}
