//! `corral-devsim`: serve simulated phones, or inspect one phone's saved state.
#![forbid(unsafe_code)]

fn main() {}
