//! A small log for the log directory's tests (journal, hostile files, checkpoint
//! exchange): its key and origin, a signer for its checkpoints, entries, a log of `n`
//! entries whose journal holds only its base, an opener that waits out a lock a concurrent
//! test's child process holds for a moment, and `mkfifo`.

#![allow(dead_code)]

use std::path::Path;

use ed25519_dalek::SigningKey;
use seqprov_log::log_dir::LogDir;
use seqprov_log::merkle;
use seqprov_log::note_keys::LogSigner;
use seqprov_log::{Hash, LogError, checkpoint};

/// The test log's origin.
pub const ORIGIN: &str = "lab.example.org/journal-test";

/// The test log's key and origin.
pub fn signer() -> LogSigner {
    LogSigner {
        origin: ORIGIN.to_string(),
        key: SigningKey::from_bytes(&[5; 32]),
    }
}

/// Signs the checkpoint of (size, root) with the test log's key.
pub fn sign(size: u64, root: &Hash) -> Result<Vec<u8>, LogError> {
    Ok(checkpoint::sign(&signer(), size, root))
}

/// Opens the log, waiting out a lock that a child process of a concurrent test (`mkfifo`)
/// holds for a moment: a child inherits the directory handle, and with it the flock, until
/// it execs.
pub fn open(dir: &Path) -> Result<LogDir, LogError> {
    for _ in 0..200 {
        match LogDir::open(dir) {
            Err(LogError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(10)),
            other => return other,
        }
    }
    LogDir::open(dir)
}

/// Entry `i`.
pub fn entry(i: u64) -> Vec<u8> {
    format!("journal entry {i}").into_bytes()
}

/// Entries `range`.
pub fn entries(range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    range.map(entry).collect()
}

/// The RFC 6962 root of `all`, built one record at a time.
pub fn naive_root(all: &[Vec<u8>]) -> Hash {
    let mut b = merkle::RootBuilder::default();
    for e in all {
        b.push(merkle::record_hash(e));
    }
    b.root()
}

/// A new log in `dir` holding `0..n`, opened once more so that its journal holds only a
/// base record of size `n` (every tile durable).
pub fn log_of(dir: &Path, n: u64) {
    LogDir::init(dir, ORIGIN, &signer().key, Path::new("log.key")).unwrap();
    open(dir)
        .unwrap()
        .append(&entries(0..n), &mut sign)
        .unwrap();
    drop(open(dir).unwrap());
}

/// Makes a FIFO at `path` (whatever was there removed first).
pub fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}
