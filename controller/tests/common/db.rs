//! A fresh, migrated store per test: SQLite in a temporary directory, or a new database
//! `t_<random>` on the PostgreSQL server named by `CORRAL_TEST_PG_URL` (which `./test.sh`
//! starts). Without that variable the PostgreSQL half fails instead of being skipped.

use std::ops::Deref;

use corral_controller::store::{Store, StoreOptions};
use rand::RngCore;
use sqlx::{Connection, Executor};

/// A store plus whatever keeps its database alive for the test.
pub struct TestStore {
    store: Store,
    /// The database's URL, for tests that must reach past the store (e.g. to prove the
    /// schema itself refuses a change).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

fn options() -> StoreOptions {
    StoreOptions {
        max_connections: 10,
        ..StoreOptions::default()
    }
}

/// A new SQLite database file.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("corral.db").display());
    let store = Store::open(&format!("{url}?mode=rwc"), &options())
        .await
        .unwrap();
    TestStore {
        store,
        url,
        _dir: Some(dir),
    }
}

/// A new, empty PostgreSQL database on the test server.
pub async fn postgres() -> TestStore {
    let Ok(admin_url) = std::env::var("CORRAL_TEST_PG_URL") else {
        panic!(
            "CORRAL_TEST_PG_URL is not set: the storage suite also runs against PostgreSQL. \
             Run ./test.sh, which installs PostgreSQL and starts a throwaway server, or set \
             CORRAL_TEST_PG_URL=postgres://USER@HOST:PORT/postgres yourself."
        )
    };
    sqlx::any::install_default_drivers();
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let name = format!(
        "t_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("cannot reach the test PostgreSQL at {admin_url}: {e} (is ./test.sh's server running?)")
    });
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let url = with_database(&admin_url, &name);
    let store = Store::open(&url, &options()).await.unwrap();
    TestStore {
        store,
        url,
        _dir: None,
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{host_part}/{db}{query}")
}
