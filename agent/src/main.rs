//! `corral-agent`: the binary (filled in below).
fn main() {}
