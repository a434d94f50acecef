//! Fuzz target: see `carlo::fuzzing::protocol`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| carlo::fuzzing::protocol(data));
