//! Walks the live database schema of a test store, on either engine: every table, its
//! columns, and every value as text. For the privacy tests: "no table holds the person's
//! name or number any more", "every table that references a contact is in the export".

use sqlx::{AnyConnection, Connection, Row};

use super::db::TestStore;

async fn connect(store: &TestStore) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(&store.url).await.unwrap()
}

/// Every table (migration bookkeeping aside) with its column names, sorted.
pub async fn tables(store: &TestStore) -> Vec<(String, Vec<String>)> {
    let mut conn = connect(store).await;
    let postgres = store.url.starts_with("postgres");
    let list = if postgres {
        "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    };
    let names: Vec<String> = sqlx::query(list)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .filter(|n| n != "_sqlx_migrations")
        .collect();
    let mut out = Vec::new();
    for name in names {
        let columns: Vec<String> = if postgres {
            sqlx::query(
                "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(&name)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect()
        } else {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{name}') ORDER BY cid"
            )))
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect()
        };
        out.push((name, columns));
    }
    out
}

/// Every value of every table as text, one line per value (`table.column: value`).
pub async fn all_text(store: &TestStore) -> String {
    let tables = tables(store).await;
    let mut conn = connect(store).await;
    let mut out = String::new();
    for (table, columns) in tables {
        for column in columns {
            let sql = format!("SELECT CAST(\"{column}\" AS TEXT) AS v FROM \"{table}\"");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            for row in rows {
                if let Some(v) = row.get::<Option<String>, _>("v") {
                    out.push_str(&format!("{table}.{column}: {v}\n"));
                }
            }
        }
    }
    out
}
