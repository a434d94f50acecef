//! Fuzz target: see `carlo::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| carlo::fuzzing::config(data));
