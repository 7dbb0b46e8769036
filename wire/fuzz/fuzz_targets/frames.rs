//! libFuzzer target: any bytes as a stream of frames, decoded as every message type.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    corral_wire::fuzz::frames(data);
});
