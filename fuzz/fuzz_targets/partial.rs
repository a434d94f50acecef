//! Fuzz target: see `carlo::fuzzing::partial`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| carlo::fuzzing::partial(data));
