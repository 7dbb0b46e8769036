//! Profile sources: the text of each profile as last uploaded, so a later upload can
//! `extends` it without sending it again and its children can be re-resolved when it
//! changes. Publishing an upload stores the versions and the sources in one transaction.

use sqlx::any::AnyRow;

use super::profiles::publish_in;
use super::rows::{ms, opt_parsed, parsed, text, time};
use super::{Publication, Result, Store, StoreError};
use crate::domain::{ProfileName, Timestamp, VersionHash};

/// A profile's source as last uploaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSource {
    pub profile: ProfileName,
    /// The file name the uploader gave it.
    pub file_name: String,
    pub source: String,
    /// The profile it extends directly.
    pub parent: Option<ProfileName>,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}

/// One resolved profile of an upload, ready to publish. `version` must be the profiles
/// crate's version of `canonical_toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileUpload {
    pub profile: ProfileName,
    pub file_name: String,
    pub source: String,
    pub parent: Option<ProfileName>,
    pub version: VersionHash,
    pub canonical_toml: String,
}

fn source_from_row(row: &AnyRow) -> Result<ProfileSource> {
    Ok(ProfileSource {
        profile: parsed(row, "profile_name")?,
        file_name: text(row, "file_name")?,
        source: text(row, "source")?,
        parent: opt_parsed(row, "parent")?,
        uploaded_at: time(row, "uploaded_at")?,
        uploaded_by: text(row, "uploaded_by")?,
    })
}

macro_rules! source_columns {
    () => {
        "profile_name, file_name, source, parent, uploaded_at, uploaded_by"
    };
}

impl Store {
    /// Every stored profile source, by profile name.
    pub async fn profile_sources(&self) -> Result<Vec<ProfileSource>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            source_columns!(),
            " FROM profile_sources ORDER BY profile_name"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(source_from_row).collect()
    }

    /// One profile's stored source.
    pub async fn profile_source(&self, profile: &ProfileName) -> Result<ProfileSource> {
        let row = sqlx::query(concat!(
            "SELECT ",
            source_columns!(),
            " FROM profile_sources WHERE profile_name = $1"
        ))
        .bind(profile.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("source of profile {profile}")))?;
        source_from_row(&row)
    }

    /// Publishes every profile of an upload (parents before children, in the order
    /// given) and stores their sources, in one transaction: either all are published,
    /// with one `profile.published` event each, or none.
    pub async fn publish_profiles(
        &self,
        uploads: &[ProfileUpload],
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<Publication>> {
        let mut tx = self.begin_write().await?;
        let mut published = Vec::with_capacity(uploads.len());
        for upload in uploads {
            let publication = publish_in(
                &mut tx,
                &upload.profile,
                &upload.version,
                &upload.canonical_toml,
                actor,
                now,
            )
            .await?;
            sqlx::query(
                "INSERT INTO profile_sources (profile_name, file_name, source, parent, uploaded_at, uploaded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (profile_name) DO UPDATE SET \
                 file_name = excluded.file_name, source = excluded.source, parent = excluded.parent, \
                 uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by",
            )
            .bind(upload.profile.as_str())
            .bind(upload.file_name.as_str())
            .bind(upload.source.as_str())
            .bind(upload.parent.as_ref().map(ProfileName::as_str))
            .bind(ms(now))
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            published.push(publication);
        }
        tx.commit().await?;
        Ok(published)
    }
}
