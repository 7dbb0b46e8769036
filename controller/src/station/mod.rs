//! The station: a PC with phones on its USB hub (or reachable over ADB on TCP) that
//! provisions them for a controller running elsewhere, through the controller's REST API
//! with an API token. `corral enroll --all`, `corral devices` and `corral demo` use it.
//!
//! Layout:
//! - [`http`]: a small HTTP/1.1 client (plain tokio, JSON, bearer token); errors name the
//!   controller's URL and the remedy.
//! - [`rest_link`]: [`RestLink`], the provisioning engine's `ControllerLink` over REST.
//! - [`board`] (pure): the progress board, the per-event lines and the summary table.
//! - [`enroll`]: discover phones, provision them all, draw progress, summarise.
//! - [`devices`]: the fleet as a table or as stable JSON.
//!
//! Must never: reach the controller's database (only its API), or print the API token.

pub mod board;
pub mod devices;
pub mod enroll;
pub mod http;
pub mod rest_link;

pub use http::{ApiSecret, Client, RestError};
pub use rest_link::RestLink;
