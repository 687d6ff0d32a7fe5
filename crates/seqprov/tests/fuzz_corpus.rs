//! Replays every file of the fuzz corpus and every crash reproducer (`fuzz/corpus/<target>`,
//! `fuzz/artifacts/<target>`) through the same entry points the `cargo fuzz` targets use,
//! so a crash found once stays fixed. `cargo fuzz run <target>` adds to the corpus.

use std::fs;
use std::path::Path;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 9] = [
    ("bundle", seqprov::fuzz_entry::bundle),
    ("proof", seqprov::fuzz_entry::proof),
    ("policy", seqprov::fuzz_entry::policy),
    ("run_info", seqprov::fuzz_entry::run_info),
    ("structure", seqprov::fuzz_entry::structure),
    ("fastq", seqprov::fuzz_entry::fastq),
    ("timestamp_token", seqprov::fuzz_entry::timestamp_token),
    ("shard", seqprov::fuzz_entry::shard),
    ("log_note", seqprov::fuzz_entry::log_note),
];

#[test]
fn every_corpus_file_and_reproducer_runs_without_panicking() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        for kind in ["corpus", "artifacts"] {
            let dir = fuzz.join(kind).join(name);
            let Ok(files) = fs::read_dir(&dir) else {
                continue;
            };
            for file in files {
                let path = file.unwrap().path();
                if path.is_file() {
                    target(&fs::read(&path).unwrap());
                    replayed += 1;
                }
            }
        }
    }
    // Every target has a seed corpus in the repository.
    assert!(
        replayed >= 12,
        "only {replayed} corpus files found under {}",
        fuzz.display()
    );
}
