//! libFuzzer target: the `sync:` request decoder and the shell-protocol decoder
//! (`corral_devsim::adb::fuzz::sync`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_devsim::adb::fuzz::sync(data));
