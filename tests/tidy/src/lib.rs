//! Workspace hygiene checks live in `tests/tidy.rs`; this library is empty on purpose.
