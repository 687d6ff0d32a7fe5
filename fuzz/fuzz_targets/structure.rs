//! Fuzz target: see `seqprov::fuzz_entry::structure`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    seqprov::fuzz_entry::structure(data);
});
