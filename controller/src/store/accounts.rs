//! Administering users and their own account: role changes, disabling and enabling
//! (which ends the user's sessions and API tokens in the same transaction), password
//! changes (ending every other session), and listing and ending one's sessions.
//!
//! Owns: the "never fewer than one active admin" rule, checked inside the transaction
//! that would break it (writers serialise, so two admins demoting each other cannot both
//! succeed).
//! Must never: decide who may call these (the console's capabilities do), or change a
//! user without an audit event in the same transaction.

use sqlx::AnyConnection;

use super::rows::{int, ms, one, text, time};
use super::{Result, Store, StoreError, events};
use crate::domain::{
    AdminUser, NewEvent, PasswordHash, Role, SessionToken, Timestamp, TokenPrefix, UserName,
};

/// One live console session, as its owner sees it in account settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The public half of the session id (the secret never leaves the cookie).
    pub prefix: TokenPrefix,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

fn account_event(actor: &str, kind: &str, detail: serde_json::Value) -> NewEvent {
    NewEvent {
        device: None,
        actor: actor.to_owned(),
        kind: kind.to_owned(),
        detail,
    }
}

/// The user by name inside a transaction.
async fn user_in(conn: &mut AnyConnection, name: &UserName) -> Result<AdminUser> {
    let row =
        sqlx::query("SELECT id, name, role, created_at, disabled_at FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {name}")))?;
    super::users::user_from_row(&row)
}

/// Refuses when `user` is the only active admin.
async fn keep_an_admin(conn: &mut AnyConnection, user: &AdminUser, what: &str) -> Result<()> {
    if user.role != Role::Admin || user.disabled_at.is_some() {
        return Ok(());
    }
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
    )
    .bind(user.id.0)
    .fetch_one(&mut *conn)
    .await?;
    if int(&row, "n")? == 0 {
        return Err(StoreError::Conflict(format!(
            "{} is the last active admin and cannot be {what}",
            user.name
        )));
    }
    Ok(())
}

/// Ends every session and API token of `user_id` (a disabled user is locked out at once).
async fn end_access_in(
    conn: &mut AnyConnection,
    user_id: i64,
    now: Timestamp,
) -> Result<(u64, u64)> {
    let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let tokens = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok((sessions, tokens))
}

impl Store {
    /// Gives `name` another role. Refused ([`StoreError::Conflict`]) when that would leave
    /// no active admin.
    pub async fn set_user_role(
        &self,
        name: &UserName,
        role: Role,
        actor: &str,
        now: Timestamp,
    ) -> Result<AdminUser> {
        let mut tx = self.begin_write().await?;
        let user = user_in(&mut tx, name).await?;
        if user.role == role {
            return Ok(user);
        }
        if role != Role::Admin {
            keep_an_admin(&mut tx, &user, "demoted").await?;
        }
        sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
            .bind(user.id.0)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        let detail = serde_json::json!({ "user": name.as_str(), "from": user.role.as_str(), "to": role.as_str() });
        events::append_in(
            &mut tx,
            &account_event(actor, "user.role_changed", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(AdminUser { role, ..user })
    }

    /// Disables `name` (ending their sessions and API tokens in the same transaction) or
    /// enables them again. Disabling the last active admin is refused.
    pub async fn set_user_disabled(
        &self,
        name: &UserName,
        disabled: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<AdminUser> {
        let mut tx = self.begin_write().await?;
        let user = user_in(&mut tx, name).await?;
        if user.disabled_at.is_some() == disabled {
            return Ok(user);
        }
        let (kind, detail, disabled_at) = if disabled {
            keep_an_admin(&mut tx, &user, "disabled").await?;
            let (sessions, tokens) = end_access_in(&mut tx, user.id.0, now).await?;
            (
                "user.disabled",
                serde_json::json!({ "user": name.as_str(), "sessions_ended": sessions, "api_tokens_revoked": tokens }),
                Some(now),
            )
        } else {
            (
                "user.enabled",
                serde_json::json!({ "user": name.as_str() }),
                None,
            )
        };
        sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
            .bind(user.id.0)
            .bind(disabled_at.map(ms))
            .execute(&mut *tx)
            .await?;
        events::append_in(&mut tx, &account_event(actor, kind, detail), now).await?;
        tx.commit().await?;
        Ok(AdminUser {
            disabled_at,
            ..user
        })
    }

    /// Sets `user`'s password (already checked against the current one by the caller)
    /// and ends every session of theirs but `keep`.
    pub async fn change_password(
        &self,
        user: &AdminUser,
        password: &PasswordHash,
        keep: &SessionToken,
        now: Timestamp,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $2 WHERE id = $1 AND disabled_at IS NULL",
        )
        .bind(user.id.0)
        .bind(password.as_phc())
        .execute(&mut *tx)
        .await?;
        if !one(&updated) {
            return Err(StoreError::Forbidden("the user is disabled"));
        }
        let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND prefix <> $2")
            .bind(user.id.0)
            .bind(keep.prefix().as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let actor = format!("user:{}", user.name);
        let detail =
            serde_json::json!({ "user": user.name.as_str(), "other_sessions_ended": ended });
        events::append_in(
            &mut tx,
            &account_event(&actor, "user.password_changed", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// `user`'s live sessions (not expired by `now`), newest first.
    pub async fn sessions_of(&self, user: &AdminUser, now: Timestamp) -> Result<Vec<SessionInfo>> {
        let rows = sqlx::query(
            "SELECT prefix, created_at, last_seen_at, expires_at FROM sessions \
             WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, prefix",
        )
        .bind(user.id.0)
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionInfo {
                    prefix: TokenPrefix::parse(&text(row, "prefix")?)
                        .map_err(|e| StoreError::Corrupt(format!("column prefix: {e}")))?,
                    created_at: time(row, "created_at")?,
                    last_seen_at: time(row, "last_seen_at")?,
                    expires_at: time(row, "expires_at")?,
                })
            })
            .collect()
    }

    /// Ends one of `user`'s sessions by its prefix. [`StoreError::NotFound`] when no
    /// session of theirs has it (another user's session cannot be named this way).
    pub async fn end_session(
        &self,
        user: &AdminUser,
        prefix: &TokenPrefix,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND prefix = $2")
            .bind(user.id.0)
            .bind(prefix.as_str())
            .execute(&mut *tx)
            .await?;
        if !one(&deleted) {
            return Err(StoreError::NotFound(format!("session {prefix}")));
        }
        let actor = format!("user:{}", user.name);
        let detail = serde_json::json!({ "user": user.name.as_str(), "session": prefix.as_str() });
        events::append_in(
            &mut tx,
            &account_event(&actor, "user.session_ended", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
