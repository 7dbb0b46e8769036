//! Console and API users, their sessions and API tokens. Passwords arrive already hashed
//! (argon2id, see `domain::PasswordHash`); tokens arrive parsed and are stored as prefix +
//! SHA-256 of the secret.

use sqlx::any::AnyRow;

use super::rows::{int, ms, opt_time, parsed, text, time};
use super::{Result, Store, StoreError, events};
use crate::domain::{
    AdminUser, ApiToken, ApiTokenRecord, NewEvent, PasswordHash, Role, SessionToken, Timestamp,
    TokenPrefix, UserId, UserName,
};

pub(super) fn user_from_row(row: &AnyRow) -> Result<AdminUser> {
    Ok(AdminUser {
        id: UserId(int(row, "id")?),
        name: parsed(row, "name")?,
        role: Role::parse(&text(row, "role")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: time(row, "created_at")?,
        disabled_at: opt_time(row, "disabled_at")?,
    })
}

fn user_event(actor: &str, kind: &str, detail: serde_json::Value) -> NewEvent {
    NewEvent {
        device: None,
        actor: actor.to_owned(),
        kind: kind.to_owned(),
        detail,
    }
}

/// How stale a session's last-seen time may get before a request writes it (ms).
pub const SESSION_TOUCH_MS: i64 = 10_000;

/// A live session as [`Store::session_lookup`] found it.
#[derive(Debug, Clone)]
pub struct SessionLookup {
    pub user: AdminUser,
    /// The session's last-seen time in the database, milliseconds since the epoch.
    pub last_seen_ms: i64,
    /// When the session ends whatever its use (absolute timeout), milliseconds.
    pub expires_ms: i64,
}

impl Store {
    /// Creates the first admin, only if no admin exists yet (one conditional INSERT).
    /// `None` when there already is one.
    pub async fn create_first_admin(
        &self,
        name: &UserName,
        password: &PasswordHash,
        now: Timestamp,
    ) -> Result<Option<AdminUser>> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_at) \
             SELECT $1, 'admin', $2, $3 WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin') \
             RETURNING id, name, role, created_at, disabled_at",
        )
        .bind(name.as_str())
        .bind(password.as_phc())
        .bind(ms(now))
        .fetch_all(&mut *tx)
        .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let user = user_from_row(row)?;
        events::append_in(
            &mut tx,
            &user_event(
                "controller",
                "user.created",
                serde_json::json!({ "user": name.as_str(), "role": "admin", "first_admin": true }),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    /// Creates a user. [`StoreError::Conflict`] when the name is taken.
    pub async fn create_user(
        &self,
        name: &UserName,
        role: Role,
        password: &PasswordHash,
        actor: &str,
        now: Timestamp,
    ) -> Result<AdminUser> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, role, created_at, disabled_at",
        )
        .bind(name.as_str())
        .bind(role.as_str())
        .bind(password.as_phc())
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        let user = user_from_row(&row)?;
        events::append_in(
            &mut tx,
            &user_event(
                actor,
                "user.created",
                serde_json::json!({ "user": name.as_str(), "role": role.as_str() }),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// A user and their password hash, for logging in.
    pub async fn user_credentials(&self, name: &UserName) -> Result<(AdminUser, PasswordHash)> {
        let row = sqlx::query("SELECT id, name, role, created_at, disabled_at, password_hash FROM users WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {name}")))?;
        let hash = PasswordHash::from_phc(&text(&row, "password_hash")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok((user_from_row(&row)?, hash))
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<AdminUser>> {
        let rows =
            sqlx::query("SELECT id, name, role, created_at, disabled_at FROM users ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// The oldest active admin (whom `corral admin token` issues tokens to by default).
    pub async fn first_admin(&self) -> Result<AdminUser> {
        let row = sqlx::query(
            "SELECT id, name, role, created_at, disabled_at FROM users \
             WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound("active admin".into()))?;
        user_from_row(&row)
    }

    /// Stores a new API token for `user`.
    pub async fn create_api_token(
        &self,
        user: &AdminUser,
        token: &ApiToken,
        label: &str,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<ApiTokenRecord> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (prefix, secret_sha256, user_id, label, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.prefix().as_str())
        .bind(token.secret_hash().as_str())
        .bind(user.id.0)
        .bind(label)
        .bind(ms(now))
        .bind(expires_at.map(ms))
        .execute(&mut *tx)
        .await?;
        let detail = serde_json::json!({ "user": user.name.as_str(), "prefix": token.prefix().as_str(), "label": label });
        events::append_in(
            &mut tx,
            &user_event(&format!("user:{}", user.name), "api_token.created", detail),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ApiTokenRecord {
            prefix: token.prefix().clone(),
            user: user.id,
            label: label.to_owned(),
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        })
    }

    /// The user behind a bearer API token, if the token is known, matches, is neither
    /// revoked nor expired, and its user is not disabled. Records the use.
    pub async fn authenticate_api_token(
        &self,
        token: &ApiToken,
        now: Timestamp,
    ) -> Result<AdminUser> {
        let rows = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $3 \
             WHERE prefix = $1 AND secret_sha256 = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3) \
             RETURNING user_id",
        )
        .bind(token.prefix().as_str())
        .bind(token.secret_hash().as_str())
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        let user_id = match rows.first() {
            Some(row) => int(row, "user_id")?,
            None => {
                return Err(StoreError::Forbidden(
                    "the API token is unknown, revoked or expired",
                ));
            }
        };
        self.active_user(user_id).await
    }

    /// Revokes an API token.
    pub async fn revoke_api_token(&self, prefix: &TokenPrefix, now: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE prefix = $1 AND revoked_at IS NULL",
        )
        .bind(prefix.as_str())
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Starts a console session for `user`.
    pub async fn create_session(
        &self,
        user: &AdminUser,
        session: &SessionToken,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (prefix, secret_sha256, user_id, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(session.prefix().as_str())
        .bind(session.secret_hash().as_str())
        .bind(user.id.0)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user of a live session; refreshes its last-seen time. Sessions idle longer
    /// than `idle_limit_ms` or past their absolute expiry are refused.
    ///
    /// The last-seen time is written only when it is [`SESSION_TOUCH_MS`] old: otherwise
    /// every console page would be a write transaction (on SQLite an fsync, serialised
    /// with every other writer). An idle session so ends up to that much before its idle
    /// limit, never after.
    pub async fn session_user(
        &self,
        session: &SessionToken,
        idle_limit_ms: i64,
        now: Timestamp,
    ) -> Result<AdminUser> {
        Ok(self.session_lookup(session, idle_limit_ms, now).await?.user)
    }

    /// [`Store::session_user`] with the session's times: one statement (session and user
    /// joined), plus the last-seen write when it is due. `last_seen_at` is the value the
    /// database holds afterwards, so a cache can apply the same idle rule.
    pub async fn session_lookup(
        &self,
        session: &SessionToken,
        idle_limit_ms: i64,
        now: Timestamp,
    ) -> Result<SessionLookup> {
        let found = sqlx::query(
            "SELECT u.id, u.name, u.role, u.created_at, u.disabled_at, \
             s.last_seen_at AS session_seen_at, s.expires_at AS session_expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.prefix = $1 AND s.secret_sha256 = $2 AND s.expires_at > $3 AND s.last_seen_at > $4",
        )
        .bind(session.prefix().as_str())
        .bind(session.secret_hash().as_str())
        .bind(ms(now))
        .bind(ms(now).saturating_sub(idle_limit_ms))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::Forbidden("the session is unknown or expired"))?;
        let user = user_from_row(&found)?;
        if user.disabled_at.is_some() {
            return Err(StoreError::Forbidden("the user is disabled"));
        }
        let mut last_seen_ms = int(&found, "session_seen_at")?;
        if last_seen_ms <= ms(now).saturating_sub(SESSION_TOUCH_MS) {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = $3 \
                 WHERE prefix = $1 AND secret_sha256 = $2 AND last_seen_at < $3",
            )
            .bind(session.prefix().as_str())
            .bind(session.secret_hash().as_str())
            .bind(ms(now))
            .execute(&self.pool)
            .await?;
            last_seen_ms = ms(now);
        }
        Ok(SessionLookup {
            user,
            last_seen_ms,
            expires_ms: int(&found, "session_expires_at")?,
        })
    }

    /// Ends a session (logout).
    pub async fn delete_session(&self, session: &SessionToken) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE prefix = $1 AND secret_sha256 = $2")
            .bind(session.prefix().as_str())
            .bind(session.secret_hash().as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn active_user(&self, id: i64) -> Result<AdminUser> {
        let row = sqlx::query("SELECT id, name, role, created_at, disabled_at FROM users WHERE id = $1 AND disabled_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::Forbidden("the user is disabled"))?;
        user_from_row(&row)
    }
}
