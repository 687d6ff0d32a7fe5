//! A log on disk end to end: init, open, append with duplicates, receipts and consistency
//! proofs that verify, recovery after a crash, the lock, reading it back through a
//! directory source, and a tampered tile that a scan refuses.

use std::path::Path;

use ed25519_dalek::SigningKey;
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::merkle::{self, check_consistency, check_inclusion};
use seqprov_log::note_keys::{LogSigner, LogVerifier};
use seqprov_log::tile_path::TilePath;
use seqprov_log::tile_source::{SourceHashes, open_source, scan_entries};
use seqprov_log::{Hash, LogError};

const ORIGIN: &str = "lab.example.org/seqprov-test";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn signer() -> LogSigner {
    LogSigner {
        origin: ORIGIN.to_string(),
        key: key(),
    }
}

fn new_log(dir: &Path) -> String {
    LogDir::init(dir, ORIGIN, &key(), Path::new("log.key")).unwrap()
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry number {i}").into_bytes()
}

fn sign_checkpoint(size: u64, root: &Hash) -> Result<Vec<u8>, LogError> {
    Ok(checkpoint::sign(&signer(), size, root))
}

fn append(log: &mut LogDir, entries: &[Vec<u8>]) -> Vec<u64> {
    log.append(entries, &mut sign_checkpoint).unwrap()
}

fn naive_root(entries: &[Vec<u8>]) -> Hash {
    let mut b = merkle::RootBuilder::default();
    for e in entries {
        b.push(merkle::record_hash(e));
    }
    b.root()
}

#[test]
fn init_writes_config_vkey_and_a_signed_empty_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let vkey = new_log(&dir);
    assert_eq!(vkey, signer().vkey());
    assert_eq!(
        std::fs::read_to_string(dir.join("log.vkey")).unwrap(),
        format!("{vkey}\n")
    );
    let config = LogDir::read_config(&dir).unwrap();
    assert_eq!(config.origin, ORIGIN);
    assert!(config.key_path.is_absolute() && config.key_path.ends_with("log.key"));
    let note = std::fs::read(dir.join("public/checkpoint")).unwrap();
    let opened = checkpoint::open(&note, &LogVerifier::from_vkey(&vkey).unwrap(), &[]).unwrap();
    assert_eq!((opened.size, opened.root), (0, merkle::empty_root()));
    // A second init into the now non-empty directory is refused.
    let err = LogDir::init(&dir, ORIGIN, &key(), Path::new("log.key")).unwrap_err();
    assert!(err.to_string().contains("is not empty"), "{err}");
    let log = LogDir::open(&dir).unwrap();
    assert_eq!(log.size(), 0);
    assert_eq!(log.root_hash(), merkle::empty_root());
    assert_eq!(log.checkpoint(), &note[..]);
}

#[test]
fn append_dedups_publishes_and_proves() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    new_log(dir);
    let mut log = LogDir::open(dir).unwrap();
    let mut all: Vec<Vec<u8>> = Vec::new();
    let mut sizes = vec![0u64];
    let mut roots = vec![merkle::empty_root()];
    // Batches that cross tile boundaries at level 0 and make level-1 tiles.
    let mut next = 0u64;
    for batch in [1u64, 2, 250, 3, 256, 300, 1, 255, 70_000 - 1068] {
        let entries: Vec<Vec<u8>> = (next..next + batch).map(entry).collect();
        let indexes = append(&mut log, &entries);
        assert_eq!(indexes, (next..next + batch).collect::<Vec<_>>());
        all.extend(entries);
        next += batch;
        assert_eq!(log.size(), next);
        assert_eq!(log.root_hash(), naive_root(&all));
        sizes.push(next);
        roots.push(log.root_hash());
    }
    assert_eq!(log.size(), 70_000);
    // Duplicates: of earlier entries and within the batch; one new entry gets one index.
    let dup = vec![entry(5), entry(70_000), entry(69_999), entry(70_000)];
    assert_eq!(append(&mut log, &dup), vec![5, 70_000, 69_999, 70_000]);
    all.push(entry(70_000));
    assert_eq!(log.size(), 70_001);
    // A batch of only duplicates publishes nothing new.
    let before = log.checkpoint().to_vec();
    assert_eq!(append(&mut log, &[entry(1), entry(2)]), vec![1, 2]);
    assert_eq!(log.checkpoint(), &before[..]);
    assert_eq!(log.find(&entry(1234)), Some(1234));
    assert_eq!(log.find(b"never appended"), None);
    assert_eq!(log.entry(1234).unwrap(), entry(1234));
    assert_eq!(log.entry(70_000).unwrap(), entry(70_000));
    assert!(log.entry(70_001).is_err());

    let size = log.size();
    let root = log.root_hash();
    for index in [0, 1, 255, 256, 65_535, 65_536, 69_999, 70_000] {
        let receipt = log.receipt(index).unwrap();
        assert_eq!(receipt.index, index);
        assert_eq!(receipt.checkpoint, log.checkpoint());
        let record = merkle::record_hash(&all[index as usize]);
        check_inclusion(&receipt.path, size, &root, index, &record).unwrap();
        assert!(
            check_inclusion(
                &receipt.path,
                size,
                &root,
                index,
                &merkle::record_hash(b"x")
            )
            .is_err()
        );
    }
    assert!(log.receipt(size).is_err());
    for (old, old_root) in sizes.iter().zip(&roots) {
        let proof = log.consistency_proof(*old).unwrap();
        check_consistency(&proof, size, &root, *old, old_root).unwrap();
    }

    // The files a static server serves: the tlog-tiles layout of a tree of 70,001.
    let public = dir.join("public");
    for path in [
        "tile/entries/273.p/113",
        "tile/entries/272",
        "tile/0/273.p/113",
        "tile/1/000",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
    ] {
        assert!(public.join(path).is_file(), "{path} is missing");
        assert!(log.read_public(path).unwrap().is_some(), "{path}");
    }
    assert_eq!(
        log.read_public("checkpoint").unwrap().unwrap(),
        log.checkpoint()
    );
    // Older partial tiles of published sizes are still served; wider ones, tiles beyond
    // the tree and anything not a tile path are not.
    assert!(log.read_public("tile/entries/000.p/3").unwrap().is_some());
    assert!(log.read_public("tile/entries/273.p/114").unwrap().is_none());
    assert!(log.read_public("tile/entries/274.p/1").unwrap().is_none());
    assert!(log.read_public("tile/3/000.p/1").unwrap().is_none());
    assert!(
        log.read_public("tile/entries/../../seqprov-log.toml")
            .unwrap()
            .is_none()
    );
    assert!(log.read_public("seqprov-log.toml").unwrap().is_none());
    assert!(log.read_public("../log.vkey").unwrap().is_none());

    // Reopened, the log finds every entry again and the same root.
    drop(log);
    let log = LogDir::open(dir).unwrap();
    assert_eq!((log.size(), log.root_hash()), (size, root));
    assert_eq!(log.find(&entry(69_999)), Some(69_999));

    // A directory source reproduces the proofs and the scan finds every entry.
    for source_path in [dir.to_path_buf(), public.clone()] {
        let source = open_source(source_path.to_str().unwrap()).unwrap();
        let hashes = SourceHashes::new(source.as_ref(), size);
        for index in [0, 300, 65_536, 70_000] {
            assert_eq!(
                merkle::inclusion_proof(&hashes, size, index).unwrap(),
                log.receipt(index).unwrap().path
            );
        }
        for old in &sizes {
            assert_eq!(
                merkle::consistency_proof(&hashes, size, *old).unwrap(),
                log.consistency_proof(*old).unwrap()
            );
        }
        let mut seen = 0u64;
        scan_entries(source.as_ref(), size, &root, &mut |i, e| {
            assert_eq!(e, all[i as usize].as_slice());
            assert_eq!(i, seen);
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, size);
        // Hashes of an older tree come from its (narrower) partial tiles.
        let old_hashes = SourceHashes::new(source.as_ref(), 512);
        let proof = merkle::inclusion_proof(&old_hashes, 512, 7).unwrap();
        check_inclusion(&proof, 512, &roots[5], 7, &merkle::record_hash(&entry(7))).unwrap();
    }
}

#[test]
fn a_second_open_while_locked_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    new_log(tmp.path());
    let log = LogDir::open(tmp.path()).unwrap();
    match LogDir::open(tmp.path()) {
        Err(LogError::Locked(p)) => assert_eq!(p, tmp.path()),
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("a second open succeeded"),
    }
    drop(log);
    LogDir::open(tmp.path()).unwrap();
}

#[test]
fn a_crash_before_the_checkpoint_leaves_the_old_tree_and_stale_tiles_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    new_log(dir);
    let first: Vec<Vec<u8>> = (0..100).map(entry).collect();
    let root_100;
    {
        let mut log = LogDir::open(dir).unwrap();
        append(&mut log, &first);
        root_100 = log.root_hash();
        // An append whose publishing fails: tiles are written, nothing is published,
        // and the log stays at its old size in memory.
        let lost: Vec<Vec<u8>> = (1000..1200).map(entry).collect();
        let err = log
            .append(&lost, &mut |_, _| {
                Err(LogError::Verification("no witness".into()))
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "no witness");
        assert_eq!(log.size(), 100);
        assert_eq!(log.root_hash(), root_100);
        assert_eq!(log.find(&entry(1000)), None);
        // Its tiles beyond the published size are removed again.
        for path in [
            "tile/entries/000",
            "tile/entries/001.p/44",
            "tile/0/000",
            "tile/1/000.p/1",
        ] {
            assert!(
                !dir.join("public").join(path).exists(),
                "{path} was left behind"
            );
        }
        assert!(dir.join("public/tile/entries/000.p/100").exists());
        // A publisher that returns a checkpoint for another tree is refused too.
        let err = log
            .append(&lost, &mut |_, root| sign_checkpoint(99, root))
            .unwrap_err();
        assert!(err.to_string().contains("size 99"), "{err}");
        assert_eq!(log.size(), 100);
    }
    // A crash: an append wrote tiles beyond the checkpoint (wider partial bundles, full
    // tiles, level-1 tiles) and never renamed the checkpoint.
    let crashed: Vec<Vec<u8>> = (0..100).chain(5000..5400).map(entry).collect();
    let bundle = |range: std::ops::Range<usize>| {
        let refs: Vec<&[u8]> = crashed[range].iter().map(Vec::as_slice).collect();
        seqprov_log::entry_bundle::encode(&refs).unwrap()
    };
    let public = dir.join("public");
    let write = |path: &str, bytes: &[u8]| {
        let p = public.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    write("tile/entries/000", &bundle(0..256));
    write("tile/entries/001.p/244", &bundle(256..500));
    write("tile/entries/000.p/150", &bundle(0..150));
    write("tile/0/000", &[1; 8192]);
    write("tile/1/000.p/1", &[2; 32]);

    let mut log = LogDir::open(dir).unwrap();
    assert_eq!(log.size(), 100);
    assert_eq!(log.root_hash(), root_100);
    for stale in [
        "tile/entries/000",
        "tile/entries/001.p/244",
        "tile/entries/000.p/150",
        "tile/0/000",
        "tile/1/000.p/1",
    ] {
        assert!(!public.join(stale).exists(), "{stale} was left behind");
    }
    // Growing past the crashed sizes writes the right tiles.
    let more: Vec<Vec<u8>> = (100..600).map(entry).collect();
    append(&mut log, &more);
    let all: Vec<Vec<u8>> = (0..600).map(entry).collect();
    assert_eq!(log.root_hash(), naive_root(&all));
    let source = open_source(dir.to_str().unwrap()).unwrap();
    scan_entries(source.as_ref(), 600, &log.root_hash(), &mut |_, _| Ok(())).unwrap();
    assert!(log.read_public("tile/entries/000.p/150").unwrap().is_none());
    drop(log);
    LogDir::open(dir).unwrap();
}

#[test]
fn a_tampered_tile_fails_the_scan_the_proofs_and_the_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    new_log(dir);
    let all: Vec<Vec<u8>> = (0..300).map(entry).collect();
    let root;
    {
        let mut log = LogDir::open(dir).unwrap();
        append(&mut log, &all);
        root = log.root_hash();
    }
    // Opened once more: the journal is replayed and restarted from size 300, so the tiles
    // below are durable ones the log no longer rewrites (a tile of a journaled batch is
    // written again on opening: `a_journaled_batch_is_replayed_after_its_tiles_were_lost`).
    drop(LogDir::open(dir).unwrap());
    let source = open_source(dir.to_str().unwrap()).unwrap();
    scan_entries(source.as_ref(), 300, &root, &mut |_, _| Ok(())).unwrap();

    // One entry changed in a full bundle, same length.
    let bundle_path = dir.join("public/tile/entries/000");
    let original = std::fs::read(&bundle_path).unwrap();
    let mut changed = original.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    std::fs::write(&bundle_path, &changed).unwrap();
    let err = scan_entries(source.as_ref(), 300, &root, &mut |_, _| Ok(())).unwrap_err();
    assert!(matches!(err, LogError::Verification(_)));
    assert!(
        err.to_string()
            .contains(&dir.join("public").display().to_string()),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("do not have the checkpoint's root"),
        "{err}"
    );
    let err = LogDir::open(dir).err().expect("a corrupt log opened");
    assert!(err.to_string().contains("the log is corrupt"), "{err}");
    // A bundle with an entry left out is malformed for its width.
    std::fs::write(
        &bundle_path,
        &original[..original.len() - 2 - entry(255).len()],
    )
    .unwrap();
    let err = scan_entries(source.as_ref(), 300, &root, &mut |_, _| Ok(())).unwrap_err();
    assert!(err.to_string().contains("tile/entries/000"), "{err}");
    std::fs::write(&bundle_path, &original).unwrap();

    // A changed hash tile gives proofs that do not verify, and the log does not open;
    // a short one is refused.
    let tile_path = dir.join("public/tile/0/000");
    let mut tile = std::fs::read(&tile_path).unwrap();
    tile[32 * 5] ^= 1;
    std::fs::write(&tile_path, &tile).unwrap();
    let err = LogDir::open(dir)
        .err()
        .expect("a log with a bad hash tile opened");
    assert!(
        err.to_string()
            .contains("the hash tile tile/0/000 does not hold the hashes of its entries"),
        "{err}"
    );
    let hashes = SourceHashes::new(source.as_ref(), 300);
    let proof = merkle::inclusion_proof(&hashes, 300, 4).unwrap();
    assert!(check_inclusion(&proof, 300, &root, 4, &merkle::record_hash(&all[4])).is_err());
    std::fs::write(&tile_path, &tile[..8160]).unwrap();
    let hashes = SourceHashes::new(source.as_ref(), 300);
    let err = merkle::inclusion_proof(&hashes, 300, 4).unwrap_err();
    assert!(
        err.to_string().contains("tile/0/000 has 8160 bytes"),
        "{err}"
    );
    // A missing tile names its path.
    std::fs::remove_file(&tile_path).unwrap();
    let hashes = SourceHashes::new(source.as_ref(), 300);
    let err = merkle::inclusion_proof(&hashes, 300, 4).unwrap_err();
    assert!(err.to_string().contains("tile/0/000"), "{err}");
    let _ = TilePath::parse("tile/0/000").unwrap();
}

#[test]
fn an_entry_over_65535_bytes_is_refused_and_nothing_is_appended() {
    let tmp = tempfile::tempdir().unwrap();
    new_log(tmp.path());
    let mut log = LogDir::open(tmp.path()).unwrap();
    let err = log
        .append(&[entry(1), vec![0; 65_536]], &mut sign_checkpoint)
        .unwrap_err();
    assert!(err.to_string().contains("65536 bytes"), "{err}");
    assert_eq!(log.size(), 0);
    assert_eq!(append(&mut log, &[vec![0; 65_535]]), vec![0]);
}

/// Inclusion-proof latency at 1,000,000 entries (run with `--ignored --nocapture`); the
/// target is p99 ≤ 10 ms.
#[test]
#[ignore]
fn inclusion_proofs_at_a_million_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    new_log(dir);
    let mut log = LogDir::open(dir).unwrap();
    let started = std::time::Instant::now();
    for batch in 0..100u64 {
        let entries: Vec<Vec<u8>> = (batch * 10_000..(batch + 1) * 10_000).map(entry).collect();
        append(&mut log, &entries);
    }
    let appended = started.elapsed();
    drop(log);
    let started = std::time::Instant::now();
    let log = LogDir::open(dir).unwrap();
    let opened = started.elapsed();
    assert_eq!(log.size(), 1_000_000);
    let mut times = Vec::new();
    let mut index = 12_345u64;
    for _ in 0..2000 {
        index = (index * 7919 + 104_729) % 1_000_000;
        let t = std::time::Instant::now();
        let receipt = log.receipt(index).unwrap();
        times.push(t.elapsed());
        check_inclusion(
            &receipt.path,
            1_000_000,
            &log.root_hash(),
            index,
            &merkle::record_hash(&entry(index)),
        )
        .unwrap();
    }
    times.sort();
    let p99 = times[times.len() * 99 / 100];
    println!(
        "1,000,000 entries: append in 100 batches {appended:?}, open {opened:?}, receipt p50 {:?} p99 {p99:?} max {:?}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    assert!(p99 < std::time::Duration::from_millis(10));
}

#[test]
fn a_reader_falls_back_to_the_full_tile_when_a_partial_one_was_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    new_log(dir);
    let all: Vec<Vec<u8>> = (0..300).map(entry).collect();
    let mut log = LogDir::open(dir).unwrap();
    append(&mut log, &all[..100]);
    let (root_100, proof_100) = (log.root_hash(), log.receipt(42).unwrap().path);
    append(&mut log, &all[100..]);
    // tlog-tiles lets a log delete partial tiles once the full tile exists.
    std::fs::remove_file(dir.join("public/tile/entries/000.p/100")).unwrap();
    std::fs::remove_file(dir.join("public/tile/0/000.p/100")).unwrap();
    let source = open_source(dir.to_str().unwrap()).unwrap();
    let mut seen = 0;
    scan_entries(source.as_ref(), 100, &root_100, &mut |i, e| {
        assert_eq!(e, all[i as usize].as_slice());
        seen += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, 100);
    let hashes = SourceHashes::new(source.as_ref(), 100);
    assert_eq!(
        merkle::inclusion_proof(&hashes, 100, 42).unwrap(),
        proof_100
    );
    // A partial tile missing with no full tile either is an error naming the partial one.
    std::fs::remove_file(dir.join("public/tile/entries/001.p/44")).unwrap();
    let err = scan_entries(source.as_ref(), 300, &log.root_hash(), &mut |_, _| Ok(())).unwrap_err();
    assert!(err.to_string().contains("tile/entries/001.p/44"), "{err}");
}
