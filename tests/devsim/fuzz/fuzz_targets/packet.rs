//! libFuzzer target: ADB packet framing, the handshake, OPEN destinations, host keys and
//! shell-protocol payloads (`corral_devsim::adb::fuzz::packet`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_devsim::adb::fuzz::packet(data));
