//! The `[contacts]` section: mode, region, contact-book groups and inline entries, each
//! with a phone number normalised to E.164 and a lawful basis.

use std::collections::BTreeMap;

use crate::contacts::{ContactDirectory, ContactsMode, InlineContact, LawfulBasis};
use crate::diagnostics::{Code, Diag, Loc, Sink};
use crate::model::Contacts;
use crate::names::{GroupName, nearest};
use crate::phone::{PhoneError, PhoneNumber, Region};
use crate::read::{Reader, Sp};

use super::{display_name_ok, finish, parse_set, read_enum};

pub(super) fn read_contacts(
    mut r: Option<Reader<'_>>,
    directory: Option<&dyn ContactDirectory>,
    sink: &mut Sink,
) -> Contacts {
    let mode = read_enum(r.as_mut(), "mode", &ContactsMode::ALL, sink)
        .map_or(ContactsMode::Exact, |v| v.value);
    let region = r
        .as_mut()
        .and_then(|r| r.str("region", sink))
        .and_then(|s| match Region::parse(&s.value) {
            Some(region) => Some(region),
            None => {
                sink.push(
                    Diag::error(
                        Code::InvalidValue,
                        s.loc,
                        format!("`{}` is not a country code", s.value),
                    )
                    .hint("use a two-letter ISO 3166 code such as `DE`, `GB` or `US`"),
                );
                None
            }
        });
    let groups = r
        .as_mut()
        .and_then(|r| r.str_list("groups", sink))
        .map(|l| l.value)
        .unwrap_or_default();
    if let Some(directory) = directory {
        let known = directory.group_names();
        for g in &groups {
            let Ok(name) = GroupName::parse(&g.value) else {
                continue;
            };
            if directory.group(&name).is_none() {
                let hint = match nearest(&g.value, known.iter().map(GroupName::as_str)) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => "create the group in the contact book, or remove it here".to_owned(),
                };
                sink.push(
                    Diag::error(
                        Code::UnknownGroup,
                        g.loc,
                        format!("the contact book has no group `{}`", g.value),
                    )
                    .hint(hint),
                );
            }
        }
    }
    let groups = parse_set(groups, "contacts.groups", sink, |s| {
        GroupName::parse(s).map_err(|e| (Code::InvalidValue, e.0))
    });
    let mut entries = Vec::new();
    let mut seen: BTreeMap<PhoneNumber, Loc> = BTreeMap::new();
    for mut er in r
        .as_mut()
        .and_then(|r| r.tables("entries", sink))
        .map(|t| t.value)
        .unwrap_or_default()
    {
        let name = er.str("name", sink);
        let phone = er.str("phone", sink);
        let basis = read_enum(Some(&mut er), "basis", &LawfulBasis::ALL, sink);
        for (key, present) in [
            ("name", er.has("name")),
            ("phone", er.has("phone")),
            ("basis", er.has("basis")),
        ] {
            if !present {
                let hint = match key {
                    "basis" => {
                        "every contact needs the lawful basis it is processed on: `basis = \"consent\"`, `\"contract\"` or `\"legitimate_interest\"`"
                    }
                    "phone" => "add `phone = \"+49 30 1234567\"`",
                    _ => "add `name = \"…\"`, as it should appear in the contact book",
                };
                sink.push(
                    Diag::error(
                        Code::Missing,
                        er.loc,
                        format!("missing `{key}` in a contact entry"),
                    )
                    .hint(hint),
                );
            }
        }
        let name = name.filter(|n| {
            let ok = display_name_ok(&n.value, 100);
            if !ok {
                sink.push(Diag::error(
                    Code::InvalidValue,
                    n.loc,
                    "a contact name must be 1 to 100 characters on one line",
                ));
            }
            ok
        });
        let number = phone.and_then(|p| match PhoneNumber::parse(&p.value, region) {
            Ok(n) => Some(Sp { value: n, loc: p.loc }),
            Err(e) => {
                let hint = match &e {
                    PhoneError::NeedsRegion(_) => "write it with its country code (`+49 30 1234567`) or set `contacts.region = \"DE\"`",
                    _ => "check the digits; numbers are normalised to E.164 (`+4930123456`)",
                };
                sink.push(Diag::error(Code::InvalidPhone, p.loc, e.to_string()).label("not a valid phone number").hint(hint));
                None
            }
        });
        if let Some(n) = &number {
            if let Some(first) = seen.get(&n.value) {
                sink.push(
                    Diag::error(
                        Code::Duplicate,
                        n.loc,
                        format!("{} is listed twice", n.value),
                    )
                    .label("same number as an earlier entry")
                    .related(*first, "first listed here")
                    .hint("keep one entry per number"),
                );
            } else {
                seen.insert(n.value.clone(), n.loc);
            }
        }
        er.finish(sink, &|_| None);
        if let (Some(name), Some(number), Some(basis)) = (name, number, basis) {
            entries.push(InlineContact {
                name: name.value,
                number: number.value,
                basis: basis.value,
            });
        }
    }
    entries.sort_by(|a, b| a.number.cmp(&b.number));
    entries.dedup_by(|a, b| a.number == b.number);
    finish(r, sink);
    Contacts {
        mode,
        groups,
        entries,
    }
}
