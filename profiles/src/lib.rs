//! Configuration profiles: the model an admin writes and every phone is held to.
//!
//! This crate is pure: it does no I/O, starts no runtime and knows no database.
#![forbid(unsafe_code)]
