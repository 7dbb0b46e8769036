//! Double opt-in (issue 7): the consent wording's versions and consent links.
//!
//! Owns: `consent_wordings` (append-only: a save is a new version) and `consent_links`
//! (prefix + SHA-256 of the secret, like enrollment tokens). A link is confirmed by ONE
//! conditional UPDATE (`… AND confirmed_at IS NULL AND expires_at > now`), so of any number
//! of concurrent confirmations exactly one records the consent, on both engines; the
//! contact's basis becomes that consent in the same transaction.
//! Must never: store or log a link's secret, name a person in an event other than by
//! pseudonym, or tell from outside whether an unusable link is unknown or has a wrong
//! secret.

use serde_json::json;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::contacts::contact_in;
use super::rows::{ms, opt_text, opt_time, text, time, uint};
use super::{Result, Store, StoreError, events};
use crate::domain::{
    ConsentLink, ConsentLinkToken, ConsentWording, ContactId, LINK_CHANNEL, LINK_RECORDER,
    NewEvent, Timestamp, TokenPrefix, WordingDraft,
};

/// The one answer for a link that is unknown or whose secret does not match.
const UNKNOWN_LINK: &str = "the consent link is unknown";

fn wording_from_row(row: &AnyRow) -> Result<ConsentWording> {
    Ok(ConsentWording {
        version: uint(row, "version")?,
        shop_name: text(row, "shop_name")?,
        wording: text(row, "wording")?,
        privacy_url: opt_text(row, "privacy_url")?,
        created_at: time(row, "created_at")?,
        created_by: text(row, "created_by")?,
    })
}

fn link_from_row(row: &AnyRow) -> Result<ConsentLink> {
    Ok(ConsentLink {
        prefix: TokenPrefix::parse(&text(row, "prefix")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        contact: ContactId::parse(&text(row, "contact_id")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        wording_version: uint(row, "wording_version")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        created_by: text(row, "created_by")?,
        confirmed_at: opt_time(row, "confirmed_at")?,
    })
}

const WORDING_COLUMNS: &str = "version, shop_name, wording, privacy_url, created_at, created_by";
const LINK_COLUMNS: &str =
    "prefix, contact_id, wording_version, created_at, expires_at, created_by, confirmed_at";

async fn wording_in(conn: &mut AnyConnection, version: u64) -> Result<ConsentWording> {
    let sql = format!("SELECT {WORDING_COLUMNS} FROM consent_wordings WHERE version = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::try_from(version).map_err(|_| StoreError::Invalid("version".into()))?)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("consent wording v{version}")))?;
    wording_from_row(&row)
}

async fn current_wording_in(conn: &mut AnyConnection) -> Result<Option<ConsentWording>> {
    let sql =
        format!("SELECT {WORDING_COLUMNS} FROM consent_wordings ORDER BY version DESC LIMIT 1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| wording_from_row(&row))
        .transpose()
}

/// The link `token` names, if its secret matches.
async fn link_in(conn: &mut AnyConnection, token: &ConsentLinkToken) -> Result<ConsentLink> {
    let sql = format!(
        "SELECT {LINK_COLUMNS} FROM consent_links WHERE prefix = $1 AND secret_sha256 = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(token.prefix().as_str())
        .bind(token.secret_hash().as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::Forbidden(UNKNOWN_LINK))?;
    link_from_row(&row)
}

fn event(actor: &str, kind: &str, detail: serde_json::Value) -> NewEvent {
    NewEvent {
        device: None,
        actor: actor.to_owned(),
        kind: kind.to_owned(),
        detail,
    }
}

/// A link with the wording version it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentLinkView {
    pub link: ConsentLink,
    pub wording: ConsentWording,
}

impl Store {
    /// Stores a new version of the consent wording (the next number) with a
    /// `consent.wording_set` event.
    pub async fn set_consent_wording(
        &self,
        draft: &WordingDraft,
        actor: &str,
        now: Timestamp,
    ) -> Result<ConsentWording> {
        let mut tx = self.begin_write().await?;
        let next = current_wording_in(&mut tx)
            .await?
            .map_or(1, |w| w.version + 1);
        sqlx::query(
            "INSERT INTO consent_wordings (version, shop_name, wording, privacy_url, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(i64::try_from(next).map_err(|_| StoreError::Invalid("version".into()))?)
        .bind(draft.shop_name.as_str())
        .bind(draft.wording.as_str())
        .bind(draft.privacy_url.as_deref())
        .bind(ms(now))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "version": next });
        events::append_in(&mut tx, &event(actor, "consent.wording_set", detail), now).await?;
        let stored = wording_in(&mut tx, next).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The wording new links show, if one was ever set.
    pub async fn current_consent_wording(&self) -> Result<Option<ConsentWording>> {
        let mut conn = self.pool.acquire().await?;
        current_wording_in(&mut conn).await
    }

    /// Every version of the wording, newest first.
    pub async fn consent_wordings(&self) -> Result<Vec<ConsentWording>> {
        let sql = format!("SELECT {WORDING_COLUMNS} FROM consent_wordings ORDER BY version DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(wording_from_row).collect()
    }

    /// Stores a consent link for the contact with the current wording (only the token's
    /// prefix and secret hash), with a `consent.link_created` event naming the pseudonym.
    /// `Invalid` when no wording is set yet.
    pub async fn create_consent_link(
        &self,
        token: &ConsentLinkToken,
        contact: &ContactId,
        expires_at: Timestamp,
        actor: &str,
        now: Timestamp,
    ) -> Result<ConsentLink> {
        let mut tx = self.begin_write().await?;
        let person = contact_in(&mut tx, contact).await?;
        let wording = current_wording_in(&mut tx).await?.ok_or_else(|| {
            StoreError::Invalid("set the consent wording first (Contacts → Consent wording)".into())
        })?;
        sqlx::query(
            "INSERT INTO consent_links (prefix, secret_sha256, contact_id, wording_version, created_at, expires_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.prefix().as_str())
        .bind(token.secret_hash().as_str())
        .bind(contact.as_str())
        .bind(i64::try_from(wording.version).map_err(|_| StoreError::Invalid("version".into()))?)
        .bind(ms(now))
        .bind(ms(expires_at))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        let detail = json!({
            "contact": person.pseudonym.as_str(),
            "wording_version": wording.version_label(),
            "expires_at": expires_at.to_string(),
        });
        events::append_in(&mut tx, &event(actor, "consent.link_created", detail), now).await?;
        let link = link_in(&mut tx, token).await?;
        tx.commit().await?;
        Ok(link)
    }

    /// The link `token` names with its wording; `Forbidden` when unknown or the secret is
    /// wrong (one answer for both).
    pub async fn consent_link(&self, token: &ConsentLinkToken) -> Result<ConsentLinkView> {
        let mut conn = self.pool.acquire().await?;
        let link = link_in(&mut conn, token).await?;
        let wording = wording_in(&mut conn, link.wording_version).await?;
        Ok(ConsentLinkView { link, wording })
    }

    /// A contact's consent links, newest first (for the contact page and the person
    /// record).
    pub async fn consent_links_of(&self, contact: &ContactId) -> Result<Vec<ConsentLink>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM consent_links WHERE contact_id = $1 ORDER BY created_at DESC, prefix"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(contact.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// The person confirms: ONE conditional UPDATE marks the link confirmed (unconfirmed and
    /// unexpired only), and in the same transaction the contact's basis becomes consent
    /// with the link's wording and version, now, channel [`LINK_CHANNEL`], recorded by
    /// [`LINK_RECORDER`]; a `contact.consent_confirmed` event names the pseudonym.
    /// `Forbidden` for an unknown link, `Conflict` for a used or expired one.
    pub async fn confirm_consent_link(
        &self,
        token: &ConsentLinkToken,
        now: Timestamp,
    ) -> Result<ConsentLinkView> {
        let mut tx = self.begin_write().await?;
        let won = sqlx::query(
            "UPDATE consent_links SET confirmed_at = $3 \
             WHERE prefix = $1 AND secret_sha256 = $2 AND confirmed_at IS NULL AND expires_at > $3 \
             RETURNING contact_id",
        )
        .bind(token.prefix().as_str())
        .bind(token.secret_hash().as_str())
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        let link = link_in(&mut tx, token).await?;
        if won.is_empty() {
            return Err(StoreError::Conflict(
                "the consent link was used already or has expired".into(),
            ));
        }
        let wording = wording_in(&mut tx, link.wording_version).await?;
        let person = contact_in(&mut tx, &link.contact).await?;
        sqlx::query(
            "UPDATE contacts SET basis = 'consent', basis_note = NULL, consent_wording = $2, \
             consent_wording_version = $3, consent_at = $4, consent_channel = $5, \
             consent_recorded_by = $6, updated_at = $4 WHERE id = $1",
        )
        .bind(link.contact.as_str())
        .bind(wording.wording.as_str())
        .bind(wording.version_label())
        .bind(ms(now))
        .bind(LINK_CHANNEL)
        .bind(LINK_RECORDER)
        .execute(&mut *tx)
        .await?;
        let actor = format!("contact:{}", person.pseudonym);
        let detail = json!({
            "contact": person.pseudonym.as_str(),
            "wording_version": wording.version_label(),
            "channel": LINK_CHANNEL,
        });
        events::append_in(
            &mut tx,
            &event(&actor, "contact.consent_confirmed", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ConsentLinkView { link, wording })
    }
}
