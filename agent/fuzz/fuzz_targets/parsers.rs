//! Fuzz target: the parsers of Android command output and the agent's framing (the first
//! byte picks one; see `corral_agent::fuzz::parsers`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    corral_agent::fuzz::parsers(data);
});
