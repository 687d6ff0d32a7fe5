//! Bundle parsing and every check that runs on a parsed bundle.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    seqprov::fuzz_entry::bundle(data);
});
