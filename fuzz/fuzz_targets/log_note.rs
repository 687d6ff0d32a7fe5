//! Fuzz target: see `seqprov::fuzz_entry::log_note`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    seqprov::fuzz_entry::log_note(data);
});
