//! The corral controller as a library: everything `corral serve` and its sibling commands
//! run, so the binary, the integration tests and the other front ends share one code path.
//!
//! Layout (lldap-style layers; dependencies point inward):
//! - [`domain`]: newtypes parsed at the boundary and plain records. No I/O.
//! - [`audit_chain`]: the event log's hash chain — canonical encoding, hash, verification (pure).
//! - [`store`]: the only module that knows SQL; one module per aggregate behind [`store::Store`].
//! - [`ca`]: the internal certificate authority; the only module that reads the CA key.
//! - [`config`]: the one typed configuration (file → environment → command line).
//! - [`serve`]: `corral serve` — opens the store, the CA, bootstraps the first admin and runs
//!   the HTTP listeners until shut down.
//! - [`api`]: the REST API under `/api/v1` (API tokens, roles, OpenAPI document).
//! - [`gateway`]: the mutual-TLS agent gateway (sessions, fan-out of the durable outbox).
//! - [`enrollment`]: the enrollment listener (token + CSR → device certificate).
//! - [`adb`]: the one module that talks to adb_client: finding phones (adb server or
//!   direct TCP), shell scripts with exit status, pushes — off the runtime.
//! - [`provision`]: provisioning over ADB — the steps per phone (pure core + I/O edge),
//!   recorded through a [`provision::ControllerLink`], many phones in parallel.
//! - [`station`]: a station on any PC talking to a controller over its REST API — the
//!   HTTP client, [`station::RestLink`], `enroll --all` and the fleet listing.
#![forbid(unsafe_code)]

pub mod adb;
pub mod allow_lists;
pub mod api;
pub mod audit_chain;
pub mod ca;
pub mod config;
pub mod console;
pub mod contact_import;
pub mod domain;
pub mod enrollment;
pub mod gateway;
pub mod provision;
pub mod records;
pub mod retention;
pub mod serve;
pub mod station;
pub mod store;
