//! Fuzz target: see `carlo::fuzzing::verify`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| carlo::fuzzing::verify(data));
