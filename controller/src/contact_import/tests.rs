//! The importers on small files (every row problem with its line and field) and on any
//! input at all (never a panic, and what `to_csv` writes reads back the same).
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::domain::Timestamp;

fn errors(p: &Parsed) -> Vec<(usize, &str)> {
    p.errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect()
}

#[test]
fn csv_rows_keep_their_line_and_quoted_fields() {
    let p = parse_csv(
        "name,number,groups,basis\r\n\"Berg, Anna\",+49 30 1234567,staff;suppliers,contract\r\n\"Multi\nline\",+49 30 7654321,,\n",
    );
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0].line, 2);
    assert_eq!(p.rows[0].fields.name, "Berg, Anna");
    assert_eq!(p.rows[0].fields.groups, ["staff", "suppliers"]);
    assert_eq!(p.rows[1].line, 3);
    assert_eq!(p.rows[1].fields.name, "Multi\nline");
    // The second row's name is refused when checked, with the row's line.
    let now = Timestamp::from_unix_seconds(0);
    assert!(p.rows[1].fields.to_draft("user:a", now).is_err());
}

#[test]
fn csv_problems_name_the_line() {
    assert_eq!(errors(&parse_csv("")), [(1, "file")]);
    assert_eq!(
        errors(&parse_csv("name,phone\n")),
        [(1, "header"), (1, "header")]
    );
    assert_eq!(
        errors(&parse_csv(
            "name,number\nAnna,+49301234567,extra\nBernd,+49307654321\n"
        )),
        [(2, "row")]
    );
    assert_eq!(
        errors(&parse_csv("name,number\n\"Anna,+49\n")),
        [(2, "file")]
    );
    assert_eq!(
        errors(&parse_csv("name,number\nAn\"na,+49\n")),
        [(2, "file")]
    );
}

#[test]
fn vcards_3_and_4_are_read() {
    let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\n  Berg\r\nTEL;TYPE=CELL:+49 30 1234567\r\nORG:Berg GmbH;Sales\r\nCATEGORIES:staff,suppliers\r\nEMAIL:anna@example.org\r\nEND:VCARD\r\nBEGIN:VCARD\nVERSION:4.0\nFN:Bernd\nTEL;VALUE=uri:tel:+49307654321\nEND:VCARD\n";
    let p = parse_vcard(text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    let rows: Vec<_> = p
        .rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.fields.name.as_str(),
                r.fields.number.as_str(),
                r.fields.company.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "Anna Berg", "+49 30 1234567", "Berg GmbH"),
            (10, "Bernd", "+49307654321", "")
        ]
    );
    assert_eq!(p.rows[0].fields.groups, ["staff", "suppliers"]);
}

#[test]
fn vcard_problems_name_the_line() {
    let p =
        parse_vcard("BEGIN:VCARD\nVERSION:2.1\nFN:A\nEND:VCARD\nFN:B\nBEGIN:VCARD\nVERSION:4.0\n");
    assert_eq!(
        errors(&p),
        [(2, "VERSION"), (1, "VERSION"), (5, "vcard"), (6, "vcard")]
    );
}

#[test]
fn exported_csv_cells_never_start_a_formula() {
    assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    assert_eq!(csv_field("+49301234567"), "+49301234567");
    assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
}

proptest! {
    #[test]
    fn the_csv_reader_never_panics(text in any::<String>()) {
        let p = parse_csv(&text);
        prop_assert!(p.rows.len() <= MAX_ROWS + 1);
    }

    #[test]
    fn the_vcard_reader_never_panics(text in any::<String>()) {
        let _ = parse_vcard(&text);
    }

    #[test]
    fn csv_like_input_never_panics(text in "[a-z,\"\r\n;+0-9 ]{0,200}") {
        let _ = parse_csv(&format!("name,number,groups\n{text}"));
        let _ = parse_vcard(&format!("BEGIN:VCARD\nVERSION:4.0\n{text}"));
    }

    #[test]
    fn any_field_text_survives_a_csv_round_trip(name in "[^\u{0}]{1,40}", company in "[a-zA-Z ,\"=+]{0,20}") {
        let line = format!("{},{},{}\r\n", csv_field(&name), csv_field("+49301234567"), csv_field(&company));
        let p = parse_csv(&format!("name,number,company\r\n{line}"));
        prop_assert!(p.errors.is_empty(), "{:?}", p.errors);
        let expect = |s: &str| if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !looks_like_number(s) { format!("'{s}") } else { s.to_owned() };
        prop_assert_eq!(&p.rows[0].fields.name, &expect(&name));
        prop_assert_eq!(&p.rows[0].fields.company, &expect(&company));
    }
}
