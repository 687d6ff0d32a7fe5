//! The plan and part files of a seal hashed on many nodes (spec/sharded.md).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    seqprov::fuzz_entry::shard(data);
});
