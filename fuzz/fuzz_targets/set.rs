//! Fuzz target: see `carlo::fuzzing::set`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| carlo::fuzzing::set(data));
