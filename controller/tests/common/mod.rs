//! Helpers shared by the controller's integration tests: a fresh store on either engine
//! (`db`), fixtures for fleet records (`fixtures`), the built `corral` binary
//! (`binary`), the agent listeners with a test agent (`agents`), and the REST API with a
//! token per role (`api`, over the small HTTP client in `http`; answers checked against
//! the OpenAPI document by `schema`). Each test file uses
//! only some of them.
#![allow(dead_code)]

pub mod agents;
pub mod api;
pub mod binary;
pub mod console;
pub mod db;
pub mod fixtures;
pub mod http;
pub mod schema;
pub mod schema_walk;
pub mod webdriver;

/// Declares each listed `async fn name(store: TestStore)` as two tests, `sqlite::name` and
/// `postgres::name`, so every storage behaviour is checked on both engines.
#[allow(unused_macros)]
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::common::db::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::common::db::postgres().await).await
                }
            )*
        }
    };
}
