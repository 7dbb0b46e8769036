//! `corral`: the controller binary.
#![forbid(unsafe_code)]

fn main() {}
