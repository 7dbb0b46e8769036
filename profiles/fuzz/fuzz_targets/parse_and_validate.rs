//! Fuzz target: profile files (up to three, split at NUL bytes) through parsing,
//! inheritance, validation, rendering, canonical round trip and planning.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    corral_profiles::fuzz::parse_and_validate(data);
});
