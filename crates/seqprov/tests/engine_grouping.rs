//! The hashing engine's scheduling (large files one or two per task, small files batched
//! by directory, SHA-256 lanes paired) must not change a single digest: every sealed entry
//! is compared with digests computed directly from the file's bytes, and the tree verifies.

use std::fs;

use seqprov::engine::hashing::{HashOptions, ReadMode};
use seqprov::engine::schedule::SMALL_FILE_MAX_BYTES;
use seqprov::{NoProgress, Policy, PrivateKey, SealOptions, VerifyOptions};
use sha2::{Digest, Sha256};

/// Files of many sizes around the engine's thresholds, in the root and in directories of
/// one, two and many files, with an odd count so one SHA-256 pair is a single.
fn tree() -> (tempfile::TempDir, std::path::PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("run");
    let small = SMALL_FILE_MAX_BYTES as usize;
    let sizes = [
        0,
        1,
        64,
        65,
        4096,
        small - 1,
        small,
        small + 63,
        (4 << 20) + 5,
        (16 << 20) + 1,
    ];
    let mut n = 0u32;
    for (d, count) in [("", 3usize), ("one", 1), ("two/deeper", 2), ("many", 150)] {
        fs::create_dir_all(dir.join(d)).unwrap();
        for i in 0..count {
            let len = sizes[(n as usize * 7 + i) % sizes.len()];
            let len = if d == "many" { len.min(small - 1) } else { len };
            let data: Vec<u8> = (0..len)
                .map(|k| (k as u32 ^ n.wrapping_mul(2654435761)) as u8)
                .collect();
            fs::write(dir.join(d).join(format!("f{i}.bin")), data).unwrap();
            n += 1;
        }
    }
    (work, dir)
}

#[test]
fn every_digest_matches_the_bytes_whatever_the_grouping() {
    let (_work, dir) = tree();
    let key = PrivateKey::from_seed(&[9; 32], None);
    for sha256 in [false, true] {
        for read_mode in [ReadMode::Auto, ReadMode::NoMmap] {
            let options = SealOptions {
                hash: HashOptions { sha256, read_mode },
                ..SealOptions::default()
            };
            let sealed = seqprov::seal_directory(&dir, &key, &options, &NoProgress).unwrap();
            let case = format!("sha256 {sha256}, {read_mode:?}");
            let files: Vec<_> = sealed.entries.iter().filter(|e| e.size.is_some()).collect();
            assert_eq!(files.len(), 156, "{case}");
            for entry in files {
                let data = fs::read(dir.join(&entry.path)).unwrap();
                assert_eq!(
                    entry.size,
                    Some(data.len() as u64),
                    "{case}: {}",
                    entry.path
                );
                assert_eq!(
                    entry.blake3.as_ref().unwrap().0,
                    *blake3::hash(&data).as_bytes(),
                    "{case}: {}",
                    entry.path
                );
                let expected_sha: [u8; 32] = Sha256::digest(&data).into();
                assert_eq!(
                    entry.sha256.as_ref().map(|d| d.0),
                    sha256.then_some(expected_sha),
                    "{case}: {}",
                    entry.path
                );
            }
            let bundle = seqprov::Bundle::parse(&sealed.bundle).unwrap();
            let report = seqprov::verify_directory(
                &dir,
                &bundle,
                &Policy::trusting(vec![key.public()]),
                VerifyOptions {
                    read_mode,
                    ..VerifyOptions::default()
                },
                &NoProgress,
            )
            .unwrap();
            assert_eq!(report.exit_code, 0, "{case}: {:?}", report.files);
        }
    }
}

/// Regression: the engine kept its per-thread read buffer borrowed (a `RefCell`) while
/// BLAKE3's parallel update ran. A rayon thread waiting there ran another queued task,
/// which hashed another file on the same thread, borrowed the buffer again and panicked
/// ("already borrowed"). Several large files (read, not mapped, and hashed with the
/// parallel update) beside many batches of small files, on a pool of more threads than
/// the machine has cores, sealed and verified a few times.
#[test]
fn a_file_hashed_while_another_waits_in_parallel_blake3_does_not_panic() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("run");
    fs::create_dir_all(&dir).unwrap();
    for i in 0..8u64 {
        let file = fs::File::create(dir.join(format!("large{i}.bin"))).unwrap();
        file.set_len((16 << 20) + 1 + i).unwrap();
    }
    for d in 0..40 {
        let sub = dir.join(format!("d{d:02}"));
        fs::create_dir_all(&sub).unwrap();
        for f in 0..20 {
            fs::write(sub.join(format!("f{f:02}")), format!("{d} {f}\n")).unwrap();
        }
    }
    let key = PrivateKey::from_seed(&[5; 32], None);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(6)
        .build()
        .unwrap();
    for round in 0..4 {
        let sealed = pool
            .install(|| seqprov::seal_directory(&dir, &key, &SealOptions::default(), &NoProgress))
            .unwrap();
        assert_eq!(sealed.payload.files, 808, "round {round}");
        let bundle = seqprov::Bundle::parse(&sealed.bundle).unwrap();
        let report = pool
            .install(|| {
                seqprov::verify_directory(
                    &dir,
                    &bundle,
                    &Policy::trusting(vec![key.public()]),
                    VerifyOptions::default(),
                    &NoProgress,
                )
            })
            .unwrap();
        assert_eq!(report.exit_code, 0, "round {round}");
    }
}
