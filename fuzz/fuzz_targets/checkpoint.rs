//! Fuzz target: see `carlo::fuzzing::checkpoint`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| carlo::fuzzing::checkpoint(data));
