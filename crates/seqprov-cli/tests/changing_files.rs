//! Files that change while `seal` or `verify` reads them, through the real binary: a
//! concurrent writer thread grows a 32 MiB file (appends), shrinks it (truncates, then
//! extends, in a loop) or replaces it (renames another file over it, in a loop) for the
//! whole run of the command, in both read modes (memory map and `--no-mmap`).
//!
//! What is deterministic, and asserted on every run:
//! - seal either fails with exit 2, "changed while it was being read", naming the file,
//!   and writes nothing (no `*.seqprov`, no `.seqprov-*.tmp`); or it succeeds with a
//!   digest of one state the file really had (a consistent snapshot: possible only when
//!   no write fell between the walk's `stat` and the end of hashing). A digest of a mix
//!   of states is never acceptable.
//! - verify either fails with exit 2 and "changed while it was being read", or reports
//!   the file `modified` (exit 1, the only finding) when it read one consistent state
//!   that differs from the sealed one; it never reports the file `ok` (the writer changes
//!   it before verify starts and never restores the sealed state).
//!
//! What is only near-certain: that the change is *caught* (exit 2) rather than one state
//! read whole, because the writer changes the file continuously while the command runs.
//! Each scenario is therefore run up to [`ATTEMPTS`] times and must see exit 2 at least
//! once; every attempt must satisfy the deterministic rules above.
#![cfg(unix)]

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// Size of the file that changes: large enough that hashing takes a while.
const SIZE: usize = 32 << 20;
/// How much the shrinking writer cuts off.
const CUT: usize = 4096;
/// Runs per scenario before giving up on seeing the change caught.
const ATTEMPTS: usize = 5;
const CHANGED: &str = "changed while it was being read";

fn seqprov() -> Command {
    let mut cmd = Command::cargo_bin("seqprov").unwrap();
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// `SIZE` bytes depending on `seed`: a 64 KiB pseudo-random block repeated, each copy
/// stamped with its index (cheap to make in a debug build, no two blocks alike).
fn pattern(seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let block: Vec<u8> = (0..64 << 10)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let mut out = Vec::with_capacity(SIZE);
    for index in 0..(SIZE / block.len()) as u64 {
        out.extend_from_slice(&index.to_le_bytes());
        out.extend_from_slice(&block[8..]);
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    /// Append one byte (`+`) at a time, as fast as possible.
    Grow,
    /// `set_len(SIZE - CUT)` then `set_len(SIZE)` (zero-filled), in a loop.
    Shrink,
    /// Rename a hard link of `pool_a.bin`, then of `pool_b.bin`, over the file, in a loop.
    Replace,
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Mmap,
    NoMmap,
}

impl Mode {
    fn args(self) -> &'static [&'static str] {
        match self {
            Mode::Mmap => &[],
            Mode::NoMmap => &["--no-mmap"],
        }
    }
}

struct Work {
    _dir: TempDir,
    root: PathBuf,
    original: Vec<u8>,
    pool: [Vec<u8>; 2],
}

impl Work {
    /// `run/big.bin` (32 MiB), `run/small.txt`, a key pair `k`, and for `Replace` two
    /// replacement files `pool_a.bin`, `pool_b.bin` outside `run` (same file system).
    fn new(change: Change) -> Work {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        fs::create_dir(root.join("run")).unwrap();
        let original = pattern(1);
        fs::write(root.join("run/big.bin"), &original).unwrap();
        fs::write(root.join("run/small.txt"), "small\n").unwrap();
        let pool = if change == Change::Replace {
            let pool = [pattern(2), pattern(3)];
            fs::write(root.join("pool_a.bin"), &pool[0]).unwrap();
            fs::write(root.join("pool_b.bin"), &pool[1]).unwrap();
            pool
        } else {
            [Vec::new(), Vec::new()]
        };
        seqprov()
            .current_dir(&root)
            .args(["keygen", "--out", "k"])
            .assert()
            .success();
        Work {
            _dir: dir,
            root,
            original,
            pool,
        }
    }

    fn big(&self) -> PathBuf {
        self.root.join("run/big.bin")
    }

    fn bundle(&self) -> PathBuf {
        self.root.join("run.seqprov")
    }

    fn run(&self, args: &[&str], mode: Mode) -> std::process::Output {
        seqprov()
            .current_dir(&self.root)
            .args(args)
            .args(mode.args())
            .output()
            .unwrap()
    }

    /// No bundle and no temporary bundle file beside `run` or inside it.
    fn assert_nothing_written(&self) {
        for dir in [self.root.clone(), self.root.join("run")] {
            let leftovers: Vec<String> = fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".seqprov") || n.starts_with(".seqprov-"))
                .collect();
            assert!(leftovers.is_empty(), "{}: {leftovers:?}", dir.display());
        }
    }

    /// Whether `(size, blake3)` is the digest of a state the file really had.
    fn is_real_state(&self, change: Change, size: u64, digest: [u8; 32]) -> bool {
        let b3 = |parts: &[&[u8]]| {
            let mut h = blake3::Hasher::new();
            for p in parts {
                h.update(p);
            }
            *h.finalize().as_bytes()
        };
        let size = size as usize;
        match change {
            Change::Grow => {
                size >= SIZE && digest == b3(&[&self.original, &vec![b'+'; size - SIZE]])
            }
            Change::Shrink => {
                let kept = &self.original[..SIZE - CUT];
                (size == SIZE && digest == b3(&[&self.original]))
                    || (size == SIZE - CUT && digest == b3(&[kept]))
                    || (size == SIZE && digest == b3(&[kept, &[0u8; CUT]]))
            }
            Change::Replace => {
                size == SIZE
                    && [&self.original, &self.pool[0], &self.pool[1]]
                        .iter()
                        .any(|c| digest == b3(&[c]))
            }
        }
    }
}

/// A thread that changes `run/big.bin` in a loop until stopped.
struct Writer {
    stop: Arc<AtomicBool>,
    rounds: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    fn start(work: &Work, change: Change) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicU64::new(0));
        let big = work.big();
        let root = work.root.clone();
        let thread = {
            let stop = stop.clone();
            let rounds = rounds.clone();
            std::thread::spawn(move || {
                let mut step: Box<dyn FnMut()> = match change {
                    Change::Grow => {
                        let mut file = fs::OpenOptions::new().append(true).open(&big).unwrap();
                        Box::new(move || file.write_all(b"+").unwrap())
                    }
                    Change::Shrink => {
                        let file = fs::OpenOptions::new().write(true).open(&big).unwrap();
                        Box::new(move || {
                            file.set_len((SIZE - CUT) as u64).unwrap();
                            file.set_len(SIZE as u64).unwrap();
                        })
                    }
                    Change::Replace => {
                        let link = root.join("next.bin");
                        let pool = [root.join("pool_a.bin"), root.join("pool_b.bin")];
                        let mut which = 0;
                        Box::new(move || {
                            fs::hard_link(&pool[which], &link).unwrap();
                            fs::rename(&link, &big).unwrap();
                            which ^= 1;
                        })
                    }
                };
                while !stop.load(Ordering::Relaxed) {
                    step();
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
            })
        };
        let writer = Writer {
            stop,
            rounds,
            thread: Some(thread),
        };
        // The file has already changed before the command starts.
        while writer.rounds.load(Ordering::Relaxed) < 2 {
            std::thread::yield_now();
        }
        writer
    }

    /// Stop and return the number of changes made.
    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        self.rounds.load(Ordering::Relaxed)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn seal_while(change: Change, mode: Mode) {
    let work = Work::new(change);
    for attempt in 1..=ATTEMPTS {
        let writer = Writer::start(&work, change);
        let out = work.run(&["seal", "run", "--key", "k.key"], mode);
        let rounds = writer.stop();
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(2) => {
                assert!(stderr.contains(CHANGED), "{change:?} {mode:?}: {stderr}");
                assert!(
                    stderr.contains("run/big.bin"),
                    "{change:?} {mode:?}: {stderr}"
                );
                work.assert_nothing_written();
                eprintln!(
                    "{change:?} {mode:?} seal attempt {attempt}: {}",
                    stderr.trim()
                );
                return;
            }
            Some(0) => {
                // One state read whole: the digest must be of a state the file had.
                let bundle = seqprov::read_bundle(&work.bundle()).unwrap();
                let entry = bundle
                    .entries
                    .iter()
                    .find(|e| e.path() == "big.bin")
                    .unwrap();
                assert!(
                    work.is_real_state(change, entry.size().unwrap(), entry.blake3().unwrap().0),
                    "{change:?} {mode:?}: sealed a digest of no state the file ever had \
                     (size {:?})",
                    entry.size()
                );
                eprintln!(
                    "{change:?} {mode:?} attempt {attempt}: sealed a consistent snapshot \
                     ({rounds} writes); trying again"
                );
                fs::remove_file(work.bundle()).unwrap();
            }
            other => panic!("{change:?} {mode:?}: exit {other:?}: {stderr}"),
        }
    }
    panic!("{change:?} {mode:?}: the change was never caught in {ATTEMPTS} seals");
}

fn verify_while(change: Change, mode: Mode) {
    let work = Work::new(change);
    seqprov()
        .current_dir(&work.root)
        .args(["seal", "run", "--key", "k.key"])
        .assert()
        .success();
    for attempt in 1..=ATTEMPTS {
        let writer = Writer::start(&work, change);
        let out = work.run(&["verify", "run", "--trust", "k.pub", "--json"], mode);
        let rounds = writer.stop();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{change:?} {mode:?}: stdout is not JSON ({e}); stderr: {stderr}")
        });
        match out.status.code() {
            Some(2) => {
                assert!(stderr.contains(CHANGED), "{change:?} {mode:?}: {stderr}");
                assert!(
                    stderr.contains("run/big.bin"),
                    "{change:?} {mode:?}: {stderr}"
                );
                assert_eq!(report["exit_code"], 2, "{report:#}");
                assert!(
                    report["errors"][0].as_str().unwrap().contains(CHANGED),
                    "{report:#}"
                );
                eprintln!(
                    "{change:?} {mode:?} verify attempt {attempt}: {}",
                    stderr.trim()
                );
                return;
            }
            Some(1) => {
                // One changed state read whole: `modified`, and nothing else.
                let files = report["files"].as_array().unwrap();
                assert_eq!(files.len(), 1, "{change:?} {mode:?}: {report:#}");
                assert_eq!(files[0]["path"], "big.bin", "{report:#}");
                assert_eq!(files[0]["class"], "modified", "{report:#}");
                assert_eq!(report["summary"]["ok"], 1, "{report:#}");
                eprintln!(
                    "{change:?} {mode:?} attempt {attempt}: read one changed state whole \
                     ({rounds} writes): modified; trying again"
                );
            }
            other => panic!("{change:?} {mode:?}: exit {other:?}: {report:#}\n{stderr}"),
        }
    }
    panic!("{change:?} {mode:?}: the change was never caught in {ATTEMPTS} verifications");
}

#[test]
fn seal_of_a_growing_file_fails_and_writes_nothing() {
    seal_while(Change::Grow, Mode::Mmap);
    seal_while(Change::Grow, Mode::NoMmap);
}

#[test]
fn seal_of_a_shrinking_file_fails_and_writes_nothing() {
    seal_while(Change::Shrink, Mode::Mmap);
    seal_while(Change::Shrink, Mode::NoMmap);
}

#[test]
fn seal_of_a_file_being_replaced_fails_and_writes_nothing() {
    seal_while(Change::Replace, Mode::Mmap);
    seal_while(Change::Replace, Mode::NoMmap);
}

#[test]
fn verify_of_a_growing_file_fails_as_changed() {
    verify_while(Change::Grow, Mode::Mmap);
    verify_while(Change::Grow, Mode::NoMmap);
}

#[test]
fn verify_of_a_shrinking_file_fails_as_changed() {
    verify_while(Change::Shrink, Mode::Mmap);
    verify_while(Change::Shrink, Mode::NoMmap);
}

#[test]
fn verify_of_a_file_being_replaced_fails_as_changed_or_modified_never_ok() {
    verify_while(Change::Replace, Mode::Mmap);
    verify_while(Change::Replace, Mode::NoMmap);
}

/// `Work::is_real_state` accepts exactly the states it should (guards the seal checks).
#[test]
fn real_states_are_recognised() {
    let work = Work::new(Change::Grow);
    let b3 = |b: &[u8]| *blake3::hash(b).as_bytes();
    assert!(work.is_real_state(Change::Grow, SIZE as u64, b3(&work.original)));
    let mut grown = work.original.clone();
    grown.extend_from_slice(b"+++");
    assert!(work.is_real_state(Change::Grow, SIZE as u64 + 3, b3(&grown)));
    let mut torn = grown.clone();
    torn[0] ^= 1;
    assert!(!work.is_real_state(Change::Grow, SIZE as u64 + 3, b3(&torn)));
    let mut zeroed = work.original.clone();
    zeroed[SIZE - CUT..].fill(0);
    assert!(work.is_real_state(Change::Shrink, SIZE as u64, b3(&zeroed)));
    zeroed[SIZE - CUT - 1] ^= 1;
    assert!(!work.is_real_state(Change::Shrink, SIZE as u64, b3(&zeroed)));
}
