//! Fuzz target: reading an outbox file back after a crash (`corral_agent::fuzz::outbox`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    corral_agent::fuzz::outbox(data);
});
