//! The embedded migrations match the files on disk, and both engines have the same set:
//! a migration written for one engine only fails here, not in production.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use corral_controller::store::{Engine, migrations};

fn files(engine_dir: &str) -> Vec<(i64, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine_dir);
    let mut out: Vec<(i64, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .map(|name| {
            let (version, _) = name
                .split_once('_')
                .unwrap_or_else(|| panic!("{name}: expected NNNN_description.sql"));
            (
                version.parse().unwrap(),
                std::fs::read_to_string(dir.join(&name)).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_migration_file_is_embedded_for_its_engine() {
    for (engine, dir) in [(Engine::Sqlite, "sqlite"), (Engine::Postgres, "postgres")] {
        let embedded: Vec<(i64, String)> = migrations(engine)
            .iter()
            .map(|(v, _, sql)| (*v, sql.to_string()))
            .collect();
        assert_eq!(
            embedded,
            files(dir),
            "controller/migrations/{dir} and store::migrations disagree"
        );
    }
}

#[test]
fn both_engines_have_the_same_migration_versions() {
    let versions = |dir| files(dir).into_iter().map(|(v, _)| v).collect::<Vec<_>>();
    assert_eq!(versions("sqlite"), versions("postgres"));
}
