//! Fuzz target: see `seqprov::fuzz_entry::timestamp_token`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    seqprov::fuzz_entry::timestamp_token(data);
});
