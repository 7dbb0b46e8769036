//! The fleet table's rows written straight to HTML: the fleet page's hot loop (50 rows of
//! ~15 values on every request), where tera's per-value conversion to JSON and back was
//! most of the page's cost. Every value goes through [`Escaped`], which escapes exactly
//! the characters tera's autoescape does, so the rows read as if the template wrote them;
//! the template inserts the result with `safe`.
//!
//! Must never: write a value unescaped; read anything but the row and its online flag.

use std::fmt::{self, Write};

use super::fleet::short_version;
use crate::domain::DeviceStatus;
use crate::store::FleetRow;

/// A `fmt::Write` that HTML-escapes everything written through it into the string
/// (`&`, `<`, `>`, `"`, `'` and `/`, as `tera::escape_html`).
pub struct Escaped<'a>(pub &'a mut String);

impl Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'', '/']) {
            self.0.push_str(&rest[..at]);
            // Every character searched for is one byte long.
            let entity = match rest.as_bytes().get(at) {
                Some(b'&') => "&amp;",
                Some(b'<') => "&lt;",
                Some(b'>') => "&gt;",
                Some(b'"') => "&quot;",
                Some(b'\'') => "&#x27;",
                _ => "&#x2F;",
            };
            self.0.push_str(entity);
            rest = rest.get(at + 1..).unwrap_or_default();
        }
        self.0.push_str(rest);
        Ok(())
    }
}

/// Appends `value` escaped.
fn text(out: &mut String, value: impl fmt::Display) {
    // Writing to a String cannot fail.
    let _ = write!(Escaped(out), "{value}");
}

/// Appends `value` escaped, or `fallback` when there is none.
fn text_or(out: &mut String, value: Option<impl fmt::Display>, fallback: &str) {
    match value {
        Some(v) => text(out, v),
        None => text(out, fallback),
    }
}

/// The status class of a phone's row and badge.
fn status_class(row: &FleetRow, online: bool) -> &'static str {
    match (row.status, online) {
        (DeviceStatus::Revoked, _) => "revoked",
        (DeviceStatus::Active, true) => "online",
        (DeviceStatus::Active, false) => "offline",
    }
}

/// Appends one phone's `<tr>`. `online` is the gateway's word on its connection;
/// `can_operate` adds the check box of the bulk actions (none for revoked phones).
pub fn write_row(out: &mut String, row: &FleetRow, online: bool, can_operate: bool) {
    let drifting = row.drifting();
    let class = status_class(row, online);
    out.push_str("<tr class=\"");
    out.push_str(class);
    if drifting {
        out.push_str(" drifting");
    }
    out.push_str("\">");
    if can_operate {
        out.push_str("<td class=\"pick\">");
        if row.status != DeviceStatus::Revoked {
            out.push_str("<input type=\"checkbox\" name=\"device\" value=\"");
            text(out, &row.id);
            out.push_str("\" aria-label=\"choose ");
            text(out, &row.name);
            out.push_str("\">");
        }
        out.push_str("</td>");
    }
    out.push_str("<td><a class=\"phone\" href=\"/phones/");
    text(out, &row.id);
    out.push_str("\">");
    text(out, &row.name);
    out.push_str("</a><div class=\"sub\">");
    text_or(out, row.serial.as_ref(), "");
    if let Some(group) = &row.group {
        out.push_str(" · group <a class=\"group\" href=\"/fleet?group=");
        let encoded: String = form_urlencoded::byte_serialize(group.as_str().as_bytes()).collect();
        text(out, encoded);
        out.push_str("\">");
        text(out, group);
        out.push_str("</a>");
    }
    out.push_str("</div></td><td><span class=\"badge ");
    out.push_str(class);
    out.push_str("\">");
    match (class, row.last_seen_at) {
        ("offline", Some(t)) => {
            out.push_str("offline since ");
            text(out, t);
        }
        ("offline", None) => out.push_str("never connected"),
        _ => out.push_str(class),
    }
    out.push_str("</span>");
    if drifting {
        out.push_str(" <span class=\"badge drift\">drift</span>");
    }
    out.push_str("</td><td>");
    match &row.profile {
        Some(profile) => {
            text(out, profile);
            out.push_str("<div class=\"sub\">");
            let in_sync =
                row.desired_version.is_some() && row.desired_version == row.applied_version;
            if in_sync {
                out.push_str("in sync ");
                text_or(out, row.applied_version.as_ref().map(short_version), "");
            } else {
                text_or(
                    out,
                    row.applied_version.as_ref().map(short_version),
                    "nothing",
                );
                out.push_str(" → ");
                text_or(out, row.desired_version.as_ref().map(short_version), "none");
            }
            out.push_str("</div>");
        }
        None => out.push_str("<span class=\"sub\">none</span>"),
    }
    out.push_str("</td><td>");
    text_or(out, row.android_release.as_ref(), "?");
    out.push_str("<div class=\"sub\">");
    text_or(out, row.model.as_ref(), "");
    out.push_str("</div></td><td>");
    text_or(out, row.last_seen_at, "never");
    out.push_str("</td><td>");
    text(out, row.enrolled_at);
    out.push_str("</td></tr>\n");
}

/// The whole `<tbody>` content: one row per phone, or the "No phone matches." row.
pub fn rows_html<'a>(
    rows: impl ExactSizeIterator<Item = (&'a FleetRow, bool)>,
    can_operate: bool,
) -> String {
    let mut out = String::with_capacity(1024 * rows.len().max(1));
    if rows.len() == 0 {
        let columns = if can_operate { 7 } else { 6 };
        let _ = writeln!(
            out,
            "<tr><td colspan=\"{columns}\" class=\"empty\">No phone matches.</td></tr>"
        );
    }
    for (row, online) in rows {
        write_row(&mut out, row, online, can_operate);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DeviceId, DeviceName, GroupName, ProfileName, Timestamp, VersionHash};

    fn row(name: &str) -> FleetRow {
        FleetRow {
            id: DeviceId::generate(),
            name: DeviceName::parse(name).unwrap(),
            serial: Some("SER1".into()),
            group: Some(GroupName::parse("north").unwrap()),
            status: DeviceStatus::Active,
            enrolled_at: Timestamp::from_unix_seconds(1_700_000_000),
            last_seen_at: Some(Timestamp::from_unix_seconds(1_700_000_600)),
            model: Some("Pixel 8".into()),
            android_release: Some("14".into()),
            profile: Some(ProfileName::parse("shop").unwrap()),
            desired_version: Some(
                VersionHash::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap(),
            ),
            applied_version: None,
            drift: None,
        }
    }

    #[test]
    fn escaping_matches_teras_autoescape() {
        for input in ["plain", "<b>&\"'/</b>", "", "Müller & Söhne", "a/b"] {
            let mut out = String::new();
            text(&mut out, input);
            assert_eq!(out, tera::escape_html(input), "{input}");
        }
    }

    #[test]
    fn a_phone_name_with_markup_is_shown_as_text() {
        let r = row("<script>alert(1)</script>");
        let html = rows_html([(&r, false)].into_iter(), true);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;</a>"),
            "{html}"
        );
        assert!(
            html.contains("aria-label=\"choose &lt;script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn an_offline_phone_shows_since_when_and_its_pending_version() {
        let r = row("Till 1");
        let html = rows_html([(&r, false)].into_iter(), false);
        assert!(html.starts_with("<tr class=\"offline\">"), "{html}");
        assert!(html.contains("offline since "), "{html}");
        assert!(html.contains("nothing → sha256:abababababab<"), "{html}");
        assert!(html.contains("?group=north\">north</a>"), "{html}");
        assert!(
            !html.contains("checkbox"),
            "no check boxes without the right to act"
        );
    }

    #[test]
    fn a_revoked_drifting_phone_has_no_check_box_and_both_badges() {
        let mut r = row("Till 2");
        r.status = DeviceStatus::Revoked;
        r.drift = Some(serde_json::json!([{ "setting": "backup" }]));
        let html = rows_html([(&r, true)].into_iter(), true);
        assert!(
            html.starts_with("<tr class=\"revoked drifting\">"),
            "{html}"
        );
        assert!(html.contains("<td class=\"pick\"></td>"), "{html}");
        assert!(
            html.contains("<span class=\"badge drift\">drift</span>"),
            "{html}"
        );
    }

    #[test]
    fn an_in_sync_phone_says_so_and_an_empty_page_says_nothing_matches() {
        let mut r = row("Till 3");
        r.applied_version = r.desired_version.clone();
        let html = rows_html([(&r, true)].into_iter(), false);
        assert!(html.contains("in sync sha256:abababababab<"), "{html}");
        assert!(
            html.contains("<span class=\"badge online\">online</span>"),
            "{html}"
        );
        let none = rows_html(std::iter::empty::<(&FleetRow, bool)>(), true);
        assert!(none.contains("colspan=\"7\" class=\"empty\">No phone matches."));
    }
}
