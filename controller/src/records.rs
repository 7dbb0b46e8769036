//! The records of processing activities (Art. 30 GDPR), generated: a pure function from
//! [`Facts`] — what the running configuration and the database say, plus the fields only
//! a person can know — to sections of label/value rows, rendered as Markdown here and as
//! HTML by the console (`console/records.rs`) from the same sections, so the two never
//! differ.
//!
//! Must never: do I/O or read the clock (the caller gathers the facts), or claim a
//! measure the facts do not show.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Retention, format_duration};

/// The fields of the record only a person can fill in: (name, label, hint).
pub const EDITABLE: &[(&str, &str, &str)] = &[
    (
        "controller",
        "Controller",
        "Name and address of the company responsible (Art. 30(1)(a)).",
    ),
    (
        "dpo",
        "Data protection officer or contact",
        "Name and contact details of the DPO, or of whoever answers privacy questions.",
    ),
    (
        "representative",
        "Representative in the EU",
        "Only for a controller outside the EU (Art. 27); else leave empty.",
    ),
    (
        "processors",
        "Processors",
        "Hosting of the controller, backups, support: who, where, contract (Art. 28).",
    ),
    (
        "transfers",
        "Transfers outside the EU/EEA",
        "Countries and safeguards (adequacy decision, SCCs) — WhatsApp/Meta included.",
    ),
    (
        "purposes",
        "Further purposes",
        "Purposes beyond those corral states, in your words.",
    ),
    (
        "organisational_measures",
        "Organisational measures",
        "Training, who holds admin roles, how requests are answered, device hand-over.",
    ),
];

/// What a field reads before anyone filled it in.
pub const TO_FILL_IN: &str = "(to be filled in by an admin)";

/// Contacts per lawful basis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BasisCounts {
    pub consent: u64,
    pub contract: u64,
    pub legitimate_interest: u64,
    pub none: u64,
}

/// The last run of the retention job, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastRun {
    pub at: String,
    pub contacts_erased: u64,
    pub events_pruned: u64,
    pub details_redacted: u64,
}

/// Everything the record is generated from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// When the facts were gathered (shown, never read from a clock here).
    pub generated_at: String,
    /// Filled-in editable fields: (name, value, "updated_at by who").
    pub fields: Vec<(String, String, String)>,
    pub contacts: BasisCounts,
    pub contact_groups: u64,
    /// Active phones, and how many of them have a profile allowing backup of the work
    /// profile, or letting personal apps search work contacts.
    pub phones: u64,
    pub phones_with_backup: u64,
    pub phones_with_cross_profile_search: u64,
    /// Console and API users per role: (role, count).
    pub users: Vec<(String, u64)>,
    pub retention: Retention,
    /// `off`, `ca` or `files`.
    pub console_tls: String,
    /// `SQLite` or `PostgreSQL`.
    pub database: String,
    pub device_cert_lifetime: Duration,
    pub last_run: Option<LastRun>,
}

/// One section of the record: a title, optional prose, rows of label and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub title: String,
    pub intro: Option<String>,
    pub rows: Vec<Row>,
}

/// A row: a label, its value, and who last changed it when the value is a person's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub label: String,
    pub value: String,
    pub changed: Option<String>,
}

fn row(label: &str, value: impl Into<String>) -> Row {
    Row {
        label: label.to_owned(),
        value: value.into(),
        changed: None,
    }
}

impl Facts {
    fn field(&self, name: &str, label: &str) -> Row {
        match self
            .fields
            .iter()
            .find(|(n, v, _)| n == name && !v.trim().is_empty())
        {
            Some((_, value, changed)) => Row {
                label: label.to_owned(),
                value: value.clone(),
                changed: Some(changed.clone()),
            },
            None => row(label, TO_FILL_IN),
        }
    }

    fn editable(&self, name: &str) -> Row {
        let label = EDITABLE
            .iter()
            .find(|(n, _, _)| *n == name)
            .map_or(name, |(_, l, _)| l);
        self.field(name, label)
    }
}

fn days(d: Duration) -> String {
    format_duration(d)
}

/// The record as sections (the one source of both renderings).
pub fn sections(f: &Facts) -> Vec<Section> {
    let r = &f.retention;
    let c = &f.contacts;
    let total = c.consent + c.contract + c.legitimate_interest + c.none;
    let users: Vec<String> = f
        .users
        .iter()
        .map(|(role, n)| format!("{n} {role}"))
        .collect();
    let users = if users.is_empty() {
        "none".to_owned()
    } else {
        users.join(", ")
    };
    let tls = match f.console_tls.as_str() {
        "ca" => "HTTPS with a certificate from the internal CA (renewed at 70% of its lifetime)",
        "files" => "HTTPS with a supplied certificate",
        _ => "plain HTTP: the console must listen on loopback or behind a TLS-terminating proxy",
    };
    vec![
        Section {
            title: "Controller".into(),
            intro: None,
            rows: vec![
                f.editable("controller"),
                f.editable("dpo"),
                f.editable("representative"),
            ],
        },
        Section {
            title: "Purposes".into(),
            intro: None,
            rows: vec![
                row("Messaging", "Staff reach business contacts (customers, suppliers, colleagues) over WhatsApp on company phones; the phones' work profile holds exactly the contacts with a lawful basis in the groups their profile names."),
                row("Device management", "Keeping company phones in the configured state (work profile, messenger, contact book, backup and accounts) and showing that they are."),
                row("Access control and accountability", "Console and API accounts with roles; a hash-chained audit log of every change, naming people by pseudonym."),
                f.editable("purposes"),
            ],
        },
        Section {
            title: "Categories of people and data, per channel".into(),
            intro: None,
            rows: vec![
                row("Contacts on phones", format!("Business contacts: name and phone number (E.164) on the phones; company, groups and lawful basis stay in the controller. {total} contacts: {} consent (Art. 6(1)(a)), {} contract (Art. 6(1)(b)), {} legitimate interest (Art. 6(1)(f)), {} without a basis (never sent to a phone); {} groups.", c.consent, c.contract, c.legitimate_interest, c.none, f.contact_groups)),
                row("Device telemetry", format!("{} company phones: model, Android release, serial number, certificates, and the work profile's state (managed apps, settings, the contact book corral wrote). No location, no inventory of the personal profile, no personal contacts.", f.phones)),
                row("Admin accounts", format!("Console and API users ({users}): user name, role, argon2id password hash, sessions with the client address at login, API tokens.")),
                row("Audit log", "Who changed what and when (users by name, contacts only by pseudonym: an HMAC of the number under a server secret); agents' reports about their phones."),
            ],
        },
        Section {
            title: "Recipients".into(),
            intro: None,
            rows: vec![
                row("WhatsApp (Meta Platforms Ireland)", "The messenger on the phones reads the work profile's contact book, so every contact on a phone is disclosed to it; WhatsApp is a separate controller for its service."),
                row("Staff with a company phone", "See the contacts of the groups their phone's profile names."),
                row("Console users", format!("{users}; auditors read only.")),
                f.editable("processors"),
                f.editable("transfers"),
            ],
        },
        Section {
            title: "Retention".into(),
            intro: Some("Enforced by the retention job in `corral serve` (`[retention]` in the configuration).".into()),
            rows: vec![
                row("Contacts", "Until erased, by an admin or technician or when the person withdraws or objects."),
                row("Contacts without a lawful basis", format!("Erased {} after their last change.", days(r.ended_contacts))),
                row("Audit and event detail", format!("Redacted after {} (who, what and when stay).", days(r.audit_detail))),
                row("Audit and event entries", format!("Deleted after {} through a checkpoint that keeps the chain verifiable.", days(r.events))),
                row("Phone reports", "The latest only, overwritten by the next."),
                row("Job", format!("Runs every {}.", days(r.every))),
                row("Last run", match &f.last_run {
                    Some(l) => format!("{}: {} contacts erased, {} details redacted, {} entries deleted.", l.at, l.contacts_erased, l.details_redacted, l.events_pruned),
                    None => "Not run yet.".to_owned(),
                }),
            ],
        },
        Section {
            title: "Technical and organisational measures".into(),
            intro: Some("Derived from the running configuration.".into()),
            rows: vec![
                row("Phones", format!("Agents connect over mutual TLS with a per-device certificate from the internal CA ({} lifetime, renewed at 70%); the private key never leaves the phone; revocation ends a phone's session.", days(f.device_cert_lifetime))),
                row("Console", tls),
                row("Passwords", "argon2id (m = 19456 KiB, t = 2, p = 1); login throttling; sessions end after 30 minutes idle and 12 hours; CSRF tokens; roles."),
                row("Backups of the work profile", format!("{} of {} phones have a profile allowing Android backup of the work profile.", f.phones_with_backup, f.phones)),
                row("Cross-profile contact search", format!("{} of {} phones let personal apps search work contacts.", f.phones_with_cross_profile_search, f.phones)),
                row("Audit log", "Append-only (database triggers) and hash-chained; `corral audit verify` checks it; people appear only by pseudonym."),
                row("Minimisation", "Contacts hold name, number, company, groups and basis only; agents observe only the managed apps and the work contact book."),
                row("Database", f.database.clone()),
                f.editable("organisational_measures"),
            ],
        },
    ]
}

/// The record as Markdown.
pub fn to_markdown(f: &Facts) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Records of processing activities (Art. 30 GDPR)\n");
    let _ = writeln!(out, "Generated by corral at {}.\n", f.generated_at);
    for s in sections(f) {
        let _ = writeln!(out, "## {}\n", s.title);
        if let Some(intro) = &s.intro {
            let _ = writeln!(out, "{intro}\n");
        }
        let _ = writeln!(out, "| | |\n|---|---|");
        for r in &s.rows {
            let changed = r
                .changed
                .as_deref()
                .map(|c| format!(" _(changed {})_", cell(c)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {}{} |",
                cell(&r.label),
                cell(&r.value),
                changed
            );
        }
        out.push('\n');
    }
    out
}

/// A table cell: pipes escaped, line breaks as `<br>`, Markdown markup left as text.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.trim().chars() {
        match ch {
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests;
