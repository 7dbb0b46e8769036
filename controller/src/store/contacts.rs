//! The contact book: contacts with their lawful basis, contact groups and memberships,
//! the pseudonym key, and the one query that builds allow-lists
//! ([`Store::contact_directory`]).
//!
//! Owns: every row of `contacts`, `contact_groups`, `contact_group_members` and
//! `privacy_keys`; each change is one transaction with its audit event, and the event
//! names the person only by pseudonym.
//! Must never: hand a contact without a lawful basis to anything that builds an
//! allow-list, or write a name or number into an event.

use std::collections::{BTreeMap, BTreeSet};

use corral_profiles::{ContactId as DirectoryId, DirectoryContact, PhoneNumber};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe};

use super::rows::{int, ms, opt_text, text, time, uint};
use super::{CHUNK, Result, Store, StoreError, bind_all, placeholders};
use crate::domain::{
    Basis, CompanyName, Consent, Contact, ContactDraft, ContactGroup, ContactGroupSummary,
    ContactId, ContactName, Event, NewEvent, Pseudonym, PseudonymKey, Timestamp,
};

/// What the contact list shows: a search over name, company and number, one group, a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactQuery {
    /// Matches a part of the name or company (any case) or of the number's digits.
    pub search: Option<String>,
    /// Only members of this group.
    pub group: Option<ContactGroup>,
    /// At most this many (0: 100).
    pub limit: u32,
    /// Skip this many.
    pub offset: u32,
}

/// The tables a person's data is read from for [`Store::person_record`].
pub const PERSON_TABLES: &[&str] = &[
    "contacts",
    "contact_group_members",
    "events",
    "consent_links",
];

/// Everything held about one person.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecord {
    pub contact: Contact,
    /// Audit entries naming the person's pseudonym.
    pub events: Vec<Event>,
    /// The person's consent links (never their secrets).
    pub consent_links: Vec<crate::domain::ConsentLink>,
    /// Where it was read from.
    pub tables: &'static [&'static str],
}

const CONTACT_COLUMNS: &str = "c.id, c.name, c.number, c.company, c.pseudonym, c.basis, c.basis_note, \
     c.consent_wording, c.consent_wording_version, c.consent_at, c.consent_channel, \
     c.consent_recorded_by, c.created_at, c.updated_at";

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn number(row: &AnyRow) -> Result<PhoneNumber> {
    PhoneNumber::parse(&text(row, "number")?, None)
        .map_err(|e| corrupt(format!("column number: {e}")))
}

fn basis_from_row(row: &AnyRow) -> Result<Option<Basis>> {
    let Some(kind) = opt_text(row, "basis")? else {
        return Ok(None);
    };
    Ok(Some(match kind.as_str() {
        "contract" => Basis::Contract,
        "legitimate_interest" => Basis::LegitimateInterest {
            note: opt_text(row, "basis_note")?.unwrap_or_default(),
        },
        "consent" => {
            let at = super::rows::opt_time(row, "consent_at")?
                .ok_or_else(|| corrupt("consent without a time"))?;
            Basis::Consent(Consent {
                wording: opt_text(row, "consent_wording")?.unwrap_or_default(),
                wording_version: opt_text(row, "consent_wording_version")?.unwrap_or_default(),
                at,
                channel: opt_text(row, "consent_channel")?.unwrap_or_default(),
                recorded_by: opt_text(row, "consent_recorded_by")?.unwrap_or_default(),
            })
        }
        other => return Err(corrupt(format!("unknown lawful basis {other:?}"))),
    }))
}

fn contact_from_row(row: &AnyRow, groups: BTreeSet<ContactGroup>) -> Result<Contact> {
    let company = opt_text(row, "company")?
        .map(|c| CompanyName::parse(&c))
        .transpose()
        .map_err(corrupt)?;
    Ok(Contact {
        id: ContactId::parse(&text(row, "id")?).map_err(corrupt)?,
        pseudonym: Pseudonym::parse(&text(row, "pseudonym")?).map_err(corrupt)?,
        name: ContactName::parse(&text(row, "name")?).map_err(corrupt)?,
        number: number(row)?,
        company,
        groups,
        basis: basis_from_row(row)?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

fn group(s: &str) -> Result<ContactGroup> {
    ContactGroup::parse(s).map_err(|e| corrupt(format!("contact group {s:?}: {e}")))
}

/// The pseudonym key, created on first use. Inside a write transaction, so two first uses
/// agree on one key (the second insert does nothing and reads the first's).
pub(super) async fn pseudonym_key_in(
    conn: &mut AnyConnection,
    now: Timestamp,
) -> Result<PseudonymKey> {
    let read = "SELECT secret FROM privacy_keys WHERE name = 'pseudonym'";
    if let Some(row) = sqlx::query(read).fetch_optional(&mut *conn).await? {
        return PseudonymKey::from_hex(&text(&row, "secret")?).map_err(corrupt);
    }
    sqlx::query(
        "INSERT INTO privacy_keys (name, secret, created_at) VALUES ('pseudonym', $1, $2) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(PseudonymKey::generate().to_hex())
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(read).fetch_one(&mut *conn).await?;
    PseudonymKey::from_hex(&text(&row, "secret")?).map_err(corrupt)
}

/// The basis columns of a draft: (basis, note, wording, version, at, channel, recorder).
type BasisColumns<'a> = (
    Option<&'static str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<&'a str>,
    Option<&'a str>,
);

fn basis_columns(basis: Option<&Basis>) -> BasisColumns<'_> {
    match basis {
        None => (None, None, None, None, None, None, None),
        Some(Basis::Contract) => (Some("contract"), None, None, None, None, None, None),
        Some(Basis::LegitimateInterest { note }) => (
            Some("legitimate_interest"),
            Some(note),
            None,
            None,
            None,
            None,
            None,
        ),
        Some(Basis::Consent(c)) => (
            Some("consent"),
            None,
            Some(&c.wording),
            Some(&c.wording_version),
            Some(ms(c.at)),
            Some(&c.channel),
            Some(&c.recorded_by),
        ),
    }
}

/// Replaces a contact's memberships; a group that does not exist is refused.
async fn write_members(
    conn: &mut AnyConnection,
    id: &ContactId,
    groups: &BTreeSet<ContactGroup>,
) -> Result<()> {
    sqlx::query("DELETE FROM contact_group_members WHERE contact_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    for g in groups {
        let inserted = sqlx::query(
            "INSERT INTO contact_group_members (group_name, contact_id) \
             SELECT name, $2 FROM contact_groups WHERE name = $1 RETURNING group_name",
        )
        .bind(g.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        if inserted.is_none() {
            return Err(StoreError::Invalid(format!(
                "there is no contact group `{g}`; create it first"
            )));
        }
    }
    Ok(())
}

/// The groups of each of `ids`.
async fn groups_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<BTreeMap<String, BTreeSet<ContactGroup>>> {
    let mut out: BTreeMap<String, BTreeSet<ContactGroup>> = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT contact_id, group_name FROM contact_group_members WHERE contact_id IN ({})",
            placeholders(1, chunk.len())
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), chunk)
            .fetch_all(&mut *conn)
            .await?;
        for row in &rows {
            out.entry(text(row, "contact_id")?)
                .or_default()
                .insert(group(&text(row, "group_name")?)?);
        }
    }
    Ok(out)
}

pub(super) async fn contact_in(conn: &mut AnyConnection, id: &ContactId) -> Result<Contact> {
    let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts c WHERE c.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("contact {id}")))?;
    let mut groups = groups_of(conn, &[id.as_str().to_owned()]).await?;
    contact_from_row(&row, groups.remove(id.as_str()).unwrap_or_default())
}

fn event(actor: &str, kind: &str, detail: serde_json::Value) -> NewEvent {
    NewEvent {
        device: None,
        actor: actor.to_owned(),
        kind: kind.to_owned(),
        detail,
    }
}

fn contact_detail(pseudonym: &Pseudonym, draft: &ContactDraft) -> serde_json::Value {
    json!({
        "contact": pseudonym.as_str(),
        "basis": draft.basis.as_ref().map(Basis::kind),
        "groups": draft.groups.iter().map(ContactGroup::as_str).collect::<Vec<_>>(),
    })
}

/// The number is unique: say which contact has it, by id only.
async fn number_taken(
    conn: &mut AnyConnection,
    number: &PhoneNumber,
    except: Option<&ContactId>,
) -> Result<()> {
    let row = sqlx::query("SELECT id FROM contacts WHERE number = $1")
        .bind(number.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let holder = text(&row, "id")?;
    if except.is_some_and(|e| e.as_str() == holder) {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "contact {holder} already has this number"
    )))
}

pub(super) async fn create_contact_in(
    conn: &mut AnyConnection,
    draft: &ContactDraft,
    actor: &str,
    now: Timestamp,
) -> Result<Contact> {
    number_taken(conn, &draft.number, None).await?;
    let key = pseudonym_key_in(conn, now).await?;
    let pseudonym = key.pseudonym(&draft.number);
    let id = ContactId::generate();
    let (basis, note, wording, version, at, channel, recorder) =
        basis_columns(draft.basis.as_ref());
    sqlx::query(
        "INSERT INTO contacts (id, name, number, company, pseudonym, basis, basis_note, \
         consent_wording, consent_wording_version, consent_at, consent_channel, \
         consent_recorded_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(id.as_str())
    .bind(draft.name.as_str())
    .bind(draft.number.as_str())
    .bind(draft.company.as_ref().map(CompanyName::as_str))
    .bind(pseudonym.as_str())
    .bind(basis)
    .bind(note)
    .bind(wording)
    .bind(version)
    .bind(at)
    .bind(channel)
    .bind(recorder)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?;
    write_members(conn, &id, &draft.groups).await?;
    super::events::append_in(
        conn,
        &event(actor, "contact.created", contact_detail(&pseudonym, draft)),
        now,
    )
    .await?;
    contact_in(conn, &id).await
}

impl Store {
    /// Adds a contact to the book (and to its groups), with an audit event naming it by
    /// pseudonym. A number already in the book is a conflict; an unknown group is invalid.
    pub async fn create_contact(
        &self,
        draft: &ContactDraft,
        actor: &str,
        now: Timestamp,
    ) -> Result<Contact> {
        let mut tx = self.begin_write().await?;
        let contact = create_contact_in(&mut tx, draft, actor, now).await?;
        tx.commit().await?;
        Ok(contact)
    }

    /// Replaces a contact's fields, groups and basis.
    pub async fn update_contact(
        &self,
        id: &ContactId,
        draft: &ContactDraft,
        actor: &str,
        now: Timestamp,
    ) -> Result<Contact> {
        let mut tx = self.begin_write().await?;
        let before = contact_in(&mut tx, id).await?;
        number_taken(&mut tx, &draft.number, Some(id)).await?;
        let key = pseudonym_key_in(&mut tx, now).await?;
        let pseudonym = key.pseudonym(&draft.number);
        let (basis, note, wording, version, at, channel, recorder) =
            basis_columns(draft.basis.as_ref());
        sqlx::query(
            "UPDATE contacts SET name = $2, number = $3, company = $4, pseudonym = $5, basis = $6, \
             basis_note = $7, consent_wording = $8, consent_wording_version = $9, consent_at = $10, \
             consent_channel = $11, consent_recorded_by = $12, updated_at = $13 WHERE id = $1",
        )
        .bind(id.as_str())
        .bind(draft.name.as_str())
        .bind(draft.number.as_str())
        .bind(draft.company.as_ref().map(CompanyName::as_str))
        .bind(pseudonym.as_str())
        .bind(basis)
        .bind(note)
        .bind(wording)
        .bind(version)
        .bind(at)
        .bind(channel)
        .bind(recorder)
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        write_members(&mut tx, id, &draft.groups).await?;
        let mut detail = contact_detail(&pseudonym, draft);
        if before.pseudonym != pseudonym {
            detail["previously"] = json!(before.pseudonym.as_str());
        }
        super::events::append_in(&mut tx, &event(actor, "contact.updated", detail), now).await?;
        let contact = contact_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(contact)
    }

    /// One contact.
    pub async fn contact(&self, id: &ContactId) -> Result<Contact> {
        let mut conn = self.pool.acquire().await?;
        contact_in(&mut conn, id).await
    }

    /// Contacts matching `query`, by name.
    pub async fn contacts(&self, query: &ContactQuery) -> Result<Vec<Contact>> {
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let like = |s: &str| {
            let escaped = s
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        };
        let text_pattern = search.map(like);
        let digits = search
            // A national spelling (`0331 234`) drops its trunk zeros in E.164.
            .map(|s| {
                let d: String = s.chars().filter(char::is_ascii_digit).collect();
                d.trim_start_matches('0').to_owned()
            })
            .filter(|d| !d.is_empty())
            .map(|d| format!("%{d}%"));
        let limit = if query.limit == 0 { 100 } else { query.limit };
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts c \
             WHERE ($1 IS NULL OR LOWER(c.name) LIKE $1 ESCAPE '\\' \
                    OR LOWER(COALESCE(c.company, '')) LIKE $1 ESCAPE '\\' OR c.number LIKE $2) \
             AND ($3 IS NULL OR EXISTS (SELECT 1 FROM contact_group_members m \
                  WHERE m.contact_id = c.id AND m.group_name = $3)) \
             ORDER BY c.name, c.id LIMIT $4 OFFSET $5"
        );
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(text_pattern)
            .bind(digits)
            .bind(query.group.as_ref().map(ContactGroup::as_str))
            .bind(i64::from(limit))
            .bind(i64::from(query.offset))
            .fetch_all(&mut *conn)
            .await?;
        let ids: Vec<String> = rows.iter().map(|r| text(r, "id")).collect::<Result<_>>()?;
        let mut groups = groups_of(&mut conn, &ids).await?;
        rows.iter()
            .zip(&ids)
            .map(|(row, id)| contact_from_row(row, groups.remove(id).unwrap_or_default()))
            .collect()
    }

    /// Adds every draft in one transaction (an import the admin confirmed): all or
    /// nothing, one `contact.created` event each and one `contact.imported` for the lot.
    pub async fn import_contacts(
        &self,
        drafts: &[ContactDraft],
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<Contact>> {
        let mut tx = self.begin_write().await?;
        let mut created = Vec::with_capacity(drafts.len());
        for d in drafts {
            created.push(create_contact_in(&mut tx, d, actor, now).await?);
        }
        let detail = json!({ "contacts": created.len() });
        super::events::append_in(&mut tx, &event(actor, "contact.imported", detail), now).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Everything the store holds about one person (Art. 15/20): the contact with its
    /// basis and groups, and every audit entry that names its pseudonym. The tables it was
    /// read from are listed in [`PersonRecord::tables`]; a test walks the schema and fails
    /// when a table referring to a contact is missing there.
    pub async fn person_record(&self, id: &ContactId) -> Result<PersonRecord> {
        let contact = self.contact(id).await?;
        let pattern = format!("%{}%", contact.pseudonym.as_str());
        let rows = sqlx::query(
            "SELECT id, at, device_id, actor, kind, detail FROM events WHERE detail LIKE $1 ORDER BY id",
        )
        .bind(pattern)
        .fetch_all(&self.pool)
        .await?;
        let events = rows
            .iter()
            .map(|row| {
                Ok(Event {
                    id: int(row, "id")?,
                    at: time(row, "at")?,
                    device: super::rows::opt_parsed(row, "device_id")?,
                    actor: text(row, "actor")?,
                    kind: text(row, "kind")?,
                    detail: super::rows::json(row, "detail")?,
                })
            })
            .collect::<Result<_>>()?;
        let consent_links = self.consent_links_of(id).await?;
        Ok(PersonRecord {
            contact,
            events,
            consent_links,
            tables: PERSON_TABLES,
        })
    }

    /// The pseudonym `number` has (or would have) in this contact book: to find a person's
    /// audit entries, also after erasure.
    pub async fn pseudonym_of(&self, number: &PhoneNumber, now: Timestamp) -> Result<Pseudonym> {
        let mut tx = self.begin_write().await?;
        let key = pseudonym_key_in(&mut tx, now).await?;
        tx.commit().await?;
        Ok(key.pseudonym(number))
    }

    /// Creates an empty contact group.
    pub async fn create_contact_group(
        &self,
        name: &ContactGroup,
        description: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<ContactGroupSummary> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO contact_groups (name, description, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING RETURNING name",
        )
        .bind(name.as_str())
        .bind(description.trim())
        .bind(ms(now))
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            return Err(StoreError::Conflict(format!(
                "contact group `{name}` exists already"
            )));
        }
        let detail = json!({ "group": name.as_str() });
        super::events::append_in(&mut tx, &event(actor, "contact_group.created", detail), now)
            .await?;
        tx.commit().await?;
        Ok(ContactGroupSummary {
            name: name.clone(),
            description: description.trim().to_owned(),
            members: 0,
            with_basis: 0,
            created_at: now,
        })
    }

    /// Every contact group with its member counts, by name.
    pub async fn contact_groups(&self) -> Result<Vec<ContactGroupSummary>> {
        let rows = sqlx::query(
            "SELECT g.name, g.description, g.created_at, COUNT(c.id) AS members, \
             COUNT(c.basis) AS with_basis FROM contact_groups g \
             LEFT JOIN contact_group_members m ON m.group_name = g.name \
             LEFT JOIN contacts c ON c.id = m.contact_id \
             GROUP BY g.name, g.description, g.created_at ORDER BY g.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ContactGroupSummary {
                    name: group(&text(row, "name")?)?,
                    description: text(row, "description")?,
                    members: uint(row, "members")?,
                    with_basis: uint(row, "with_basis")?,
                    created_at: time(row, "created_at")?,
                })
            })
            .collect()
    }

    /// Deletes a contact group; its members stay in the book.
    pub async fn delete_contact_group(
        &self,
        name: &ContactGroup,
        actor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM contact_groups WHERE name = $1 RETURNING name")
            .bind(name.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if deleted.is_none() {
            return Err(StoreError::NotFound(format!("contact group {name}")));
        }
        let detail = json!({ "group": name.as_str() });
        super::events::append_in(&mut tx, &event(actor, "contact_group.deleted", detail), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// **The** query that builds allow-lists: the members of `groups` that carry a lawful
    /// basis, per group, sorted by number. Groups the book has but that have no such
    /// member map to an empty list; groups it does not have are absent (the profiles
    /// crate reports them as unknown).
    pub async fn contact_directory(
        &self,
        groups: &BTreeSet<ContactGroup>,
    ) -> Result<BTreeMap<ContactGroup, Vec<DirectoryContact>>> {
        let names: Vec<&str> = groups.iter().map(ContactGroup::as_str).collect();
        let mut out: BTreeMap<ContactGroup, Vec<DirectoryContact>> = BTreeMap::new();
        for chunk in names.chunks(CHUNK) {
            let sql = format!(
                "SELECT name FROM contact_groups WHERE name IN ({})",
                placeholders(1, chunk.len())
            );
            for row in bind_all(sqlx::query(AssertSqlSafe(sql)), chunk)
                .fetch_all(&self.pool)
                .await?
            {
                out.insert(group(&text(&row, "name")?)?, Vec::new());
            }
            let sql = format!(
                "SELECT m.group_name, c.id, c.name, c.number, c.basis, c.basis_note, \
                 c.consent_wording, c.consent_wording_version, c.consent_at, c.consent_channel, \
                 c.consent_recorded_by FROM contact_group_members m \
                 JOIN contacts c ON c.id = m.contact_id \
                 WHERE c.basis IS NOT NULL AND m.group_name IN ({}) \
                 ORDER BY m.group_name, c.number",
                placeholders(1, chunk.len())
            );
            for row in bind_all(sqlx::query(AssertSqlSafe(sql)), chunk)
                .fetch_all(&self.pool)
                .await?
            {
                let Some(basis) = basis_from_row(&row)? else {
                    continue;
                };
                out.entry(group(&text(&row, "group_name")?)?)
                    .or_default()
                    .push(DirectoryContact {
                        id: DirectoryId(text(&row, "id")?),
                        name: text(&row, "name")?,
                        number: number(&row)?,
                        basis: basis.lawful_basis(),
                    });
            }
        }
        Ok(out)
    }

    /// How many contacts the book holds.
    pub async fn contact_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM contacts")
            .fetch_one(&self.pool)
            .await?;
        u64::try_from(int(&row, "n")?).map_err(corrupt)
    }
}
