//! Idle cost of the agent (filled in below).
fn main() {}
