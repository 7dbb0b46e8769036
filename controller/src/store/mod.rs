//! The fleet database: the only module that knows SQL.
//!
//! Owns: connecting to SQLite or PostgreSQL, running the embedded migrations, and every
//! query, one submodule per aggregate (devices, profiles and assignments, the outbox of
//! pushes with deliveries and device reports, enrollment tokens, certificates, events,
//! users with sessions and API tokens, uploaded profile sources, provisioning runs and
//! their steps, the console's fleet page, groups and bulk actions, staged rollouts, the
//! contact book, the event log's hash chain, the records of processing and retention).
//! Must never: decide who may do what (access control is the caller's), read the clock
//! (every method takes `now`), or hand out a half-done change: every state change runs in
//! one transaction.
//!
//! Both engines go through sqlx's `Any` driver with one set of portable SQL (`$1`
//! placeholders, `RETURNING`, `ON CONFLICT`, BIGINT millisecond timestamps, TEXT JSON), so
//! each query exists once. SQLite write transactions start with `BEGIN IMMEDIATE` so two
//! writers queue on the busy timeout instead of failing on a lock upgrade.

mod accounts;
mod agents;
mod allow_lists;
mod answers;
mod bulk;
mod certificates;
mod chain;
mod commands;
mod consent;
mod contacts;
mod devices;
mod enrollment;
mod events;
mod fleet_page;
mod fleet_pending;
mod groups;
mod outbox;
mod profiles;
mod provisioning;
mod records;
mod reports;
mod rollouts;
mod rows;
mod sources;
mod users;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Executor, SqlSafeStr, Transaction};

pub use accounts::SessionInfo;
pub use agents::{ClaimedPush, PushContent};
pub use allow_lists::{
    AllowListPush, CONTACTS_KIND, DeviceAllowList, DeviceProfileText, ErasureReason,
    ErasureReceipt, ErasureRecord, QueuedAllowList,
};
pub use bulk::{BulkAudit, BulkOutcome, BulkPush, BulkTarget};
pub use chain::ChainVerdict;
pub use commands::{CommandRecord, CommandState};
pub use consent::ConsentLinkView;
pub use contacts::{ContactQuery, PERSON_TABLES, PersonRecord};
pub use events::EventFilter;
pub use fleet_page::{FleetPage, FleetQuery, FleetRow, FleetSort, Presence, is_drift};
pub use fleet_pending::{PendingPage, PendingPhone, PendingQuery, PendingState};
pub use groups::GroupSummary;
pub use outbox::{AckOutcome, Lease, QueuedPush};
pub use profiles::{ProfileSummary, Publication};
pub use records::{RecordField, RetentionCounts, RetentionRun};
pub use reports::{AgentAnswer, AnswerReport};
pub use rollouts::{Rollout, Staging};
pub use sources::{ProfileSource, ProfileUpload};
pub use users::{SESSION_TOUCH_MS, SessionLookup};

/// Statements bind at most this many devices (well under SQLite's and PostgreSQL's limits
/// on bound values, with a few values per device).
const CHUNK: usize = 500;

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds each of `values` in order (after whatever `query` has bound already).
fn bind_all<'q, T: AsRef<str>>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    values: &'q [T],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for value in values {
        query = query.bind(value.as_ref());
    }
    query
}

/// What went wrong, named for what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change clashes with what is stored (duplicate name, already used, …).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A credential (token, certificate, session) was not accepted. Deliberately vague.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// The request itself is wrong (e.g. a URL that names no supported database).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database could not be reached or failed; retrying later may help.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A stored value does not parse: the database was changed behind our back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && (db.is_unique_violation() || db.is_foreign_key_violation())
        {
            return StoreError::Conflict(db.message().to_owned());
        }
        StoreError::Unavailable(e)
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size.
    pub max_connections: u32,
    /// How long a SQLite writer waits for another writer (another process included).
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 10,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// The fleet database. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "fleet",
        include_str!("../../migrations/sqlite/0001_fleet.sql"),
    ),
    (
        2,
        "profile sources",
        include_str!("../../migrations/sqlite/0002_profile_sources.sql"),
    ),
    (
        3,
        "outbox_profile_by_reference",
        include_str!("../../migrations/sqlite/0003_outbox_profile_by_reference.sql"),
    ),
    (
        4,
        "provisioning",
        include_str!("../../migrations/sqlite/0004_provisioning.sql"),
    ),
    (
        5,
        "console",
        include_str!("../../migrations/sqlite/0005_console.sql"),
    ),
    (
        7,
        "rollouts",
        include_str!("../../migrations/sqlite/0007_rollouts.sql"),
    ),
    (
        8,
        "audit chain",
        include_str!("../../migrations/sqlite/0008_audit_chain.sql"),
    ),
    (
        9,
        "contacts",
        include_str!("../../migrations/sqlite/0009_contacts.sql"),
    ),
    (
        10,
        "consent_links",
        include_str!("../../migrations/sqlite/0010_consent_links.sql"),
    ),
    (
        11,
        "records",
        include_str!("../../migrations/sqlite/0011_records.sql"),
    ),
    (
        12,
        "fleet groups",
        include_str!("../../migrations/sqlite/0012_fleet_groups.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "fleet",
        include_str!("../../migrations/postgres/0001_fleet.sql"),
    ),
    (
        2,
        "profile sources",
        include_str!("../../migrations/postgres/0002_profile_sources.sql"),
    ),
    (
        3,
        "outbox_profile_by_reference",
        include_str!("../../migrations/postgres/0003_outbox_profile_by_reference.sql"),
    ),
    (
        4,
        "provisioning",
        include_str!("../../migrations/postgres/0004_provisioning.sql"),
    ),
    (
        5,
        "console",
        include_str!("../../migrations/postgres/0005_console.sql"),
    ),
    (
        7,
        "rollouts",
        include_str!("../../migrations/postgres/0007_rollouts.sql"),
    ),
    (
        8,
        "audit chain",
        include_str!("../../migrations/postgres/0008_audit_chain.sql"),
    ),
    (
        9,
        "contacts",
        include_str!("../../migrations/postgres/0009_contacts.sql"),
    ),
    (
        10,
        "consent_links",
        include_str!("../../migrations/postgres/0010_consent_links.sql"),
    ),
    (
        11,
        "records",
        include_str!("../../migrations/postgres/0011_records.sql"),
    ),
    (
        12,
        "fleet groups",
        include_str!("../../migrations/postgres/0012_fleet_groups.sql"),
    ),
];

/// The embedded migrations of one engine as (version, description, SQL); a test checks
/// this list against the files in `controller/migrations/`.
pub fn migrations(engine: Engine) -> &'static [(i64, &'static str, &'static str)] {
    match engine {
        Engine::Sqlite => SQLITE_MIGRATIONS,
        Engine::Postgres => POSTGRES_MIGRATIONS,
    }
}

fn migrator(engine: Engine) -> Migrator {
    Migrator::with_migrations(
        migrations(engine)
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// The SQLite database at `path` (created if missing), migrated.
    pub async fn open_sqlite(path: &Path, options: &StoreOptions) -> Result<Store> {
        // sqlx's SQLite URL parser takes the path verbatim after `sqlite://`.
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open(&url, options).await
    }

    /// Connects to `url` (`sqlite://…` or `postgres://…`) and runs pending migrations.
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            return Err(StoreError::Invalid(
                "database URL must start with sqlite: or postgres://".into(),
            ));
        };
        let connect: AnyConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| StoreError::Invalid(e.to_string()))?;
        let connect = connect.disable_statement_logging();
        // One plain connection first: it fails fast with the real reason (refused, bad
        // password, unwritable file) where the pool would only report a timeout.
        let mut conn = sqlx::AnyConnection::connect_with(&connect).await?;
        if engine == Engine::Sqlite {
            // WAL lets readers (and `corral admin token` in another process) work while
            // `serve` writes. It is a property of the file, so set it once, alone.
            conn.execute("PRAGMA journal_mode = WAL").await?;
        }
        conn.close().await?;
        let busy_ms = i64::try_from(options.busy_timeout.as_millis()).unwrap_or(i64::MAX);
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        // FULL: a commit survives power loss, not only a process crash.
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        let sql = sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {busy_ms}"));
                        conn.execute(sql).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        migrator(engine).run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e)
            | sqlx::migrate::MigrateError::ExecuteMigration(e, _) => StoreError::from(e),
            other => StoreError::Invalid(format!("migrating the database: {other}")),
        })?;
        let store = Store { pool, engine };
        store.seal_unchained_events().await?;
        Ok(store)
    }

    /// Which engine this store runs on.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Checks that the database answers (for health checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for open connections to finish and closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction for a change. On SQLite it takes the write lock up front, so a
    /// transaction that reads before it writes cannot fail on a lock upgrade. On
    /// PostgreSQL it takes the event chain's advisory lock first (`chain.rs`): writers
    /// serialise as they do on SQLite, and a transaction that appends an event never
    /// waits for the chain while holding a row lock another appender needs.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => {
                let mut tx = self.pool.begin().await?;
                chain::lock(&mut tx).await?;
                tx
            }
        })
    }
}
