//! The append journal (spec/log.md §3): a batch is durable once its journal record is, so
//! tiles and a checkpoint that never reached the disk (a power loss) are written again
//! from the journal when the log is opened; a torn last record is an unacknowledged batch
//! and is dropped; a record the log key did not sign is corruption, never published; an
//! append that fails once its batch is journaled stops the log until it is opened again.

use std::path::Path;

use ed25519_dalek::SigningKey;
use seqprov_log::checkpoint;
use seqprov_log::journal::{self, JOURNAL_FILE};
use seqprov_log::log_dir::JOURNAL_COMPACT_AT;
use seqprov_log::merkle::{self, check_inclusion};
use seqprov_log::note_keys::LogSigner;
use seqprov_log::tile_source::{open_source, scan_entries};

mod log_fixture;
use log_fixture::{ORIGIN, entries, log_of, naive_root, open, sign};

fn journal_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(JOURNAL_FILE)).unwrap().len()
}

fn note_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("public/checkpoint"))
        .unwrap()
        .len()
}

/// Every inclusion proof of the published checkpoint verifies, and the directory's tiles
/// scan to its root.
fn assert_whole(dir: &Path, all: &[Vec<u8>]) {
    let log = open(dir).unwrap();
    assert_eq!(log.size(), all.len() as u64);
    assert_eq!(log.root_hash(), naive_root(all));
    let (_, size, root) = checkpoint::parse_unverified(log.checkpoint()).unwrap();
    assert_eq!((size, root), (log.size(), log.root_hash()));
    for (i, e) in all.iter().enumerate() {
        let receipt = log.receipt(i as u64).unwrap();
        check_inclusion(
            &receipt.path,
            size,
            &root,
            i as u64,
            &merkle::record_hash(e),
        )
        .unwrap();
    }
    drop(log);
    let source = open_source(dir.to_str().unwrap()).unwrap();
    scan_entries(source.as_ref(), size, &root, &mut |_, _| Ok(())).unwrap();
}

#[test]
fn a_journaled_batch_is_replayed_after_its_tiles_and_checkpoint_were_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 300);
    let old_checkpoint = std::fs::read(dir.join("public/checkpoint")).unwrap();
    let indexes = open(dir)
        .unwrap()
        .append(&entries(300..700), &mut sign)
        .unwrap();
    assert_eq!(indexes, (300..700).collect::<Vec<u64>>());
    // A power loss after the journal's fdatasync: the batch's tiles never reached the disk
    // (one gone, one left empty, one zeros) and the old checkpoint is back.
    let public = dir.join("public");
    std::fs::remove_file(public.join("tile/entries/002.p/188")).unwrap();
    std::fs::write(public.join("tile/entries/001"), b"").unwrap();
    std::fs::write(public.join("tile/0/001"), [0u8; 8192]).unwrap();
    std::fs::write(public.join("checkpoint"), &old_checkpoint).unwrap();
    assert_whole(dir, &entries(0..700));
    // Opening replayed the batch, made it durable and restarted the journal from it.
    let checkpoint_len = note_len(dir);
    assert_eq!(journal_len(dir), 4 + 1 + checkpoint_len + 32);
    // A torn checkpoint file (empty after the crash) is published again as well.
    std::fs::write(public.join("checkpoint"), b"").unwrap();
    assert_whole(dir, &entries(0..700));
}

#[test]
fn a_torn_last_record_is_an_unacknowledged_batch_and_is_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 10);
    let base_len = journal_len(dir);
    // Half of a record for the batch 10..20, as a crash in the middle of its write leaves.
    let mut log = open(dir).unwrap();
    let all = entries(0..20);
    let mut tree = merkle::RootBuilder::default();
    for e in &all {
        tree.push(merkle::record_hash(e));
    }
    let refs: Vec<&[u8]> = all[10..].iter().map(Vec::as_slice).collect();
    let record = journal::encode_batch(10, &refs, &sign(20, &tree.root()).unwrap()).unwrap();
    drop(log);
    let mut bytes = std::fs::read(dir.join(JOURNAL_FILE)).unwrap();
    bytes.extend_from_slice(&record[..record.len() / 2]);
    std::fs::write(dir.join(JOURNAL_FILE), &bytes).unwrap();
    log = open(dir).unwrap();
    assert_eq!(log.size(), 10);
    assert_eq!(
        journal_len(dir),
        base_len,
        "the torn record was left in the journal"
    );
    // The next batch appends after a clean journal and survives the next opening.
    log.append(&entries(10..12), &mut sign).unwrap();
    drop(log);
    assert_whole(dir, &entries(0..12));
}

#[test]
fn a_record_the_log_key_did_not_sign_is_corruption_and_nothing_is_published() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 10);
    let clean = std::fs::read(dir.join(JOURNAL_FILE)).unwrap();
    let published = std::fs::read(dir.join("public/checkpoint")).unwrap();
    let mut all = entries(0..10);
    all.push(b"an entry nobody submitted".to_vec());
    let root = naive_root(&all);
    let refs = [all[10].as_slice()];
    let forger = LogSigner {
        origin: ORIGIN.to_string(),
        key: SigningKey::from_bytes(&[6; 32]),
    };
    // Appended by someone who can write the directory but has no log key: signed by
    // another key, then signed by the log key for another tree.
    let cases = [
        (checkpoint::sign(&forger, 11, &root), "no signature"),
        (sign(11, &[7; 32]).unwrap(), "not the root"),
        (sign(12, &root).unwrap(), "not the root"),
    ];
    for (note, expected) in cases {
        let mut bytes = clean.clone();
        bytes.extend_from_slice(&journal::encode_batch(10, &refs, &note).unwrap());
        std::fs::write(dir.join(JOURNAL_FILE), &bytes).unwrap();
        let err = open(dir).err().expect("a forged batch was replayed");
        let err = err.to_string();
        assert!(
            err.contains("the log is corrupt") && err.contains("batch at 10"),
            "{err}"
        );
        assert!(err.to_lowercase().contains(expected), "{expected}: {err}");
        assert_eq!(
            std::fs::read(dir.join("public/checkpoint")).unwrap(),
            published
        );
        assert!(!dir.join("public/tile/entries/000.p/11").exists());
    }
    // A record that extends another tree size.
    let mut bytes = clean.clone();
    bytes.extend_from_slice(&journal::encode_batch(9, &refs, &sign(11, &root).unwrap()).unwrap());
    std::fs::write(dir.join(JOURNAL_FILE), &bytes).unwrap();
    let err = open(dir).err().expect("opened").to_string();
    assert!(err.contains("extends a tree of 9 entries"), "{err}");
    // Back to the clean journal, the log opens at 10.
    std::fs::write(dir.join(JOURNAL_FILE), &clean).unwrap();
    assert_whole(dir, &entries(0..10));
}

#[test]
fn a_published_checkpoint_the_journal_does_not_hold_is_corruption() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 10);
    std::fs::write(dir.join("public/checkpoint"), sign(11, &[1; 32]).unwrap()).unwrap();
    let err = open(dir).err().expect("opened").to_string();
    assert!(
        err.contains("published checkpoint states a tree of 11 entries"),
        "{err}"
    );
    // Another root at the same size, too.
    std::fs::write(dir.join("public/checkpoint"), sign(10, &[1; 32]).unwrap()).unwrap();
    let err = open(dir).err().expect("opened").to_string();
    assert!(err.contains("of 10 entries"), "{err}");
}

#[test]
fn a_failure_after_the_journal_stops_appending_until_the_log_is_opened_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    log_of(&dir, 5);
    let aside = tmp.path().join("aside");
    let mut log = open(&dir).unwrap();
    // The entry-bundle directory swapped for a symbolic link after opening: the batch is
    // journaled, then writing its tiles is refused.
    std::fs::rename(dir.join("public/tile/entries"), &aside).unwrap();
    std::os::unix::fs::symlink(&aside, dir.join("public/tile/entries")).unwrap();
    let err = log.append(&entries(5..6), &mut sign).unwrap_err();
    assert!(err.to_string().contains("is a symbolic link"), "{err}");
    assert_eq!(log.size(), 5);
    // Put back: the log still refuses to append, until it is opened again.
    std::fs::remove_file(dir.join("public/tile/entries")).unwrap();
    std::fs::rename(&aside, dir.join("public/tile/entries")).unwrap();
    let err = log.append(&entries(6..7), &mut sign).unwrap_err();
    assert!(err.to_string().contains("stopped appending"), "{err}");
    assert_eq!(log.size(), 5);
    drop(log);
    // Opening replays the journaled batch (its submitter saw an error: an unacknowledged
    // entry may still be published, never the other way round).
    assert_whole(&dir, &entries(0..6));
}

#[test]
fn a_symbolic_link_or_fifo_at_the_journal_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    log_of(&dir, 3);
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::rename(dir.join(JOURNAL_FILE), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join(JOURNAL_FILE)).unwrap();
    let err = open(&dir).err().expect("opened").to_string();
    assert!(err.contains("is a symbolic link"), "{err}");
    std::fs::remove_file(dir.join(JOURNAL_FILE)).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join(JOURNAL_FILE))
        .status()
        .unwrap();
    assert!(status.success());
    let err = open(&dir).err().expect("opened").to_string();
    assert!(err.contains("is a FIFO"), "{err}");
    // A log without a journal (made before it existed) opens from its checkpoint and gets
    // one.
    std::fs::remove_file(dir.join(JOURNAL_FILE)).unwrap();
    assert_whole(&dir, &entries(0..3));
    assert!(dir.join(JOURNAL_FILE).is_file());
}

#[test]
fn the_journal_is_compacted_once_it_passes_its_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    log_of(dir, 1);
    let base_len = journal_len(dir);
    let mut log = open(dir).unwrap();
    // Entries of 60,000 bytes, 64 a batch: the batch that takes the journal past
    // JOURNAL_COMPACT_AT restarts it.
    let big = |i: u64| {
        let mut e = vec![(i % 251) as u8; 60_000];
        e[..8].copy_from_slice(&i.to_be_bytes());
        e
    };
    let mut all = entries(0..1);
    let mut compacted = false;
    let mut i = 1;
    while !compacted {
        let batch: Vec<Vec<u8>> = (i..i + 64).map(big).collect();
        log.append(&batch, &mut sign).unwrap();
        all.extend(batch);
        i += 64;
        let len = journal_len(dir);
        compacted = len < base_len + 60_000;
        assert!(
            len < JOURNAL_COMPACT_AT + 64 * 60_100,
            "the journal grew to {len} bytes"
        );
    }
    assert!(all.len() as u64 * 60_000 >= JOURNAL_COMPACT_AT);
    drop(log);
    assert_whole(dir, &all);
}
