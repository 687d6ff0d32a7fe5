//! Regression tests (hostile review, stop 21): witnesses sharing one state directory.
//!
//! A `seqprov log witness --log MIRROR` run started while a listening witness (or another
//! pull) used the same `--state` compared against the tree it had read at start: it
//! cosigned a checkpoint older than the one the other process had cosigned meanwhile and
//! wrote the witness's state back. The state files are now read again under an
//! exclusive flock of `STATE_DIR/witness.lock` around each read, compare and write.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use seqprov_log::checkpoint::{self, MAX_CHECKPOINT_LEN};
use seqprov_log::log_dir::LogDir;
use seqprov_log::merkle;
use seqprov_log::note_keys::{LogSigner, WitnessSigner};
use seqprov_log::tile_source::{SourceHashes, TileSource, open_source};
use seqprov_log_server::witness_pull::{PullError, PullOutcome, pull};
use seqprov_log_server::witness_push::request_body;
use seqprov_log_server::witness_service::{Witness, WitnessConfig, state_path};

const ORIGIN: &str = "lab.example.org/shared-state";

fn log_signer() -> LogSigner {
    LogSigner {
        origin: ORIGIN.into(),
        key: SigningKey::from_bytes(&[9; 32]),
    }
}

fn config(state: &Path) -> WitnessConfig {
    WitnessConfig {
        signer: WitnessSigner {
            name: "witness.example.org/shared".into(),
            key: SigningKey::from_bytes(&[5; 32]),
        },
        logs: vec![log_signer().verifier()],
        state_dir: state.to_path_buf(),
        http: Default::default(),
    }
}

/// A log grown to 2, 5 and 8 entries, with a copy of its directory at each size (the
/// copies at 2 and 5 are genuine, older states of the same log: what a stale mirror
/// serves).
struct Snapshots {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Snapshots {
    fn new() -> Snapshots {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let dir = root.join("log");
        LogDir::init(&dir, ORIGIN, &log_signer().key, Path::new("log.key")).unwrap();
        let mut size = 0u64;
        for to in [2u64, 5, 8] {
            let mut log = LogDir::open(&dir).unwrap();
            let entries: Vec<Vec<u8>> = (size..to)
                .map(|i| format!("entry {i}").into_bytes())
                .collect();
            size = to;
            log.append(&entries, &mut |n, root| {
                Ok(checkpoint::sign(&log_signer(), n, root))
            })
            .unwrap();
            drop(log);
            let copy = std::process::Command::new("cp")
                .arg("-r")
                .arg(&dir)
                .arg(root.join(format!("at-{to}")))
                .status()
                .unwrap();
            assert!(copy.success());
        }
        Snapshots { _tmp: tmp, root }
    }

    fn source(&self, size: u64) -> Box<dyn TileSource> {
        open_source(self.root.join(format!("at-{size}")).to_str().unwrap()).unwrap()
    }

    fn state(&self) -> PathBuf {
        self.root.join("state")
    }
}

fn cosigned_size(outcome: Result<PullOutcome, PullError>) -> u64 {
    match outcome {
        Ok(PullOutcome::Cosigned { size, .. }) => size,
        Err(e) => panic!("expected a cosignature, got {e}"),
    }
}

#[test]
fn a_pull_started_before_another_witness_advanced_the_state_refuses_the_older_checkpoint() {
    let log = Snapshots::new();
    let first = Witness::new(config(&log.state())).unwrap();
    assert_eq!(
        cosigned_size(pull(&first, log.source(2).as_ref(), "at-2", 100)),
        2
    );
    // Process A starts (reads the state: 2); process B, on the same state directory,
    // then cosigns 8.
    let a = Witness::new(config(&log.state())).unwrap();
    let b = Witness::new(config(&log.state())).unwrap();
    assert_eq!(
        cosigned_size(pull(&b, log.source(8).as_ref(), "at-8", 200)),
        8
    );
    // A stale mirror now answers A with the genuine, older checkpoint of 5.
    match pull(&a, log.source(5).as_ref(), "at-5", 300) {
        Err(PullError::Inconsistent { detail, .. }) => {
            assert!(detail.contains("smaller than the 8"), "{detail}");
        }
        other => panic!("A cosigned or failed otherwise: {other:?}"),
    }
    let after = Witness::new(config(&log.state())).unwrap();
    assert_eq!(after.witnessed(ORIGIN).map(|t| t.size), Some(8));
}

#[test]
fn add_checkpoint_compares_against_the_state_file_not_the_tree_read_at_start() {
    let log = Snapshots::new();
    let first = Witness::new(config(&log.state())).unwrap();
    cosigned_size(pull(&first, log.source(2).as_ref(), "at-2", 100));
    let a = Witness::new(config(&log.state())).unwrap();
    let b = Witness::new(config(&log.state())).unwrap();
    cosigned_size(pull(&b, log.source(8).as_ref(), "at-8", 200));
    // A's request, built before B cosigned: old 2, a valid proof 2 -> 5, the checkpoint
    // of 5. The add-checkpoint handling must see the stored 8 and answer 409.
    let source = log.source(5);
    let note = source.get("checkpoint", MAX_CHECKPOINT_LEN).unwrap();
    let proof = merkle::consistency_proof(&SourceHashes::new(source.as_ref(), 5), 5, 2).unwrap();
    let answer = a.add_checkpoint(&request_body(2, &proof, &note), 300);
    assert_eq!((answer.status, answer.body.as_str()), (409, "8\n"));
    let after = Witness::new(config(&log.state())).unwrap();
    assert_eq!(after.witnessed(ORIGIN).map(|t| t.size), Some(8));
}

#[test]
fn a_state_file_removed_under_a_running_witness_is_an_error_not_a_fresh_start() {
    let log = Snapshots::new();
    let witness = Witness::new(config(&log.state())).unwrap();
    cosigned_size(pull(&witness, log.source(5).as_ref(), "at-5", 100));
    std::fs::remove_file(state_path(&log.state(), ORIGIN)).unwrap();
    // With the file gone a fresh start would accept `old 0` and any checkpoint, the
    // older one of 2 included.
    let source = log.source(2);
    let note = source.get("checkpoint", MAX_CHECKPOINT_LEN).unwrap();
    let answer = witness.add_checkpoint(&request_body(0, &[], &note), 200);
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert!(
        answer.body.contains("the state file is gone"),
        "{}",
        answer.body
    );
    assert!(!state_path(&log.state(), ORIGIN).exists());
}

#[test]
fn witnesses_on_two_threads_sharing_a_state_directory_never_step_back() {
    let log = Snapshots::new();
    let state = log.state();
    // Each thread has its own Witness (as two processes would) and pulls the three
    // snapshots in its own order; whatever interleaving happens, no cosignature may be
    // of a tree smaller than one already cosigned, and the state ends at 8.
    let cosigned = std::sync::Mutex::new(Vec::<(u64, u64)>::new());
    std::thread::scope(|scope| {
        for order in [[2u64, 5, 8], [8, 5, 2], [5, 2, 8], [2, 8, 5]] {
            let (state, log, cosigned) = (&state, &log, &cosigned);
            scope.spawn(move || {
                let witness = Witness::new(config(state)).unwrap();
                for size in order {
                    if let Ok(PullOutcome::Cosigned { size, previous, .. }) =
                        pull(&witness, log.source(size).as_ref(), "snapshot", 100)
                    {
                        cosigned.lock().unwrap().push((previous, size));
                    }
                }
            });
        }
    });
    let cosigned = cosigned.into_inner().unwrap();
    for (previous, size) in &cosigned {
        assert!(
            size >= previous,
            "cosigned {size} after {previous}: {cosigned:?}"
        );
    }
    // A step back and forward again would advance to the same size twice.
    let mut advances: Vec<u64> = cosigned
        .iter()
        .filter(|(previous, size)| previous < size)
        .map(|&(_, size)| size)
        .collect();
    let count = advances.len();
    advances.dedup();
    advances.sort_unstable();
    advances.dedup();
    assert_eq!(
        advances.len(),
        count,
        "a size advanced to twice: {cosigned:?}"
    );
    let after = Witness::new(config(&state)).unwrap();
    assert_eq!(after.witnessed(ORIGIN).map(|t| t.size), Some(8));
}

/// Runs `f` on another thread; panics if it has not returned within 10 s (a hang).
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("hung for 10 s")
}

/// Regression (hostile review 2, stop 21): the lock was a 0644 file in a 0755 directory,
/// and it was waited for without end, so any local user holding a read-only flock of it
/// hung every add-checkpoint and pull. The directory itself is now locked, it must be
/// 0700, and the lock is waited for at most 2 s (then 500).
#[test]
fn a_lock_held_elsewhere_is_waited_for_at_most_two_seconds_not_forever() {
    let log = Snapshots::new();
    let witness = Witness::new(config(&log.state())).unwrap();
    let state = log.state();
    let holder = std::fs::File::open(&state).unwrap();
    holder.lock().unwrap();
    let source = log.source(2);
    let note = source.get("checkpoint", MAX_CHECKPOINT_LEN).unwrap();
    let started = std::time::Instant::now();
    let answer = within_10s(move || witness.add_checkpoint(&request_body(0, &[], &note), 100));
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert!(
        answer.body.contains("locked by another process"),
        "{}",
        answer.body
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(
        !state_path(&state, ORIGIN).exists(),
        "cosigned without the lock"
    );
    drop(holder);
}

#[test]
fn the_state_directory_is_created_0700_and_one_open_to_others_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let log = Snapshots::new();
    let state = log.state();
    drop(Witness::new(config(&state)).unwrap());
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let error = match Witness::new(config(&state)) {
        Ok(_) => panic!("a 0755 state directory was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("open to other users (mode 0755)"), "{error}");
}

/// Regression (hostile review 2, stop 21): a FIFO at a state file hung the witness (a
/// plain open waits for a writer) while it held its locks.
#[test]
fn a_fifo_at_the_state_file_is_an_error_not_a_hang() {
    let log = Snapshots::new();
    let witness = Witness::new(config(&log.state())).unwrap();
    cosigned_size(pull(&witness, log.source(2).as_ref(), "at-2", 100));
    let path = state_path(&log.state(), ORIGIN);
    std::fs::remove_file(&path).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    let source = log.source(5);
    let note = source.get("checkpoint", MAX_CHECKPOINT_LEN).unwrap();
    let proof = merkle::consistency_proof(&SourceHashes::new(source.as_ref(), 5), 5, 2).unwrap();
    let answer = within_10s(move || witness.add_checkpoint(&request_body(2, &proof, &note), 200));
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert!(answer.body.contains("is a FIFO"), "{}", answer.body);
    let state = log.state();
    let opened = within_10s(move || Witness::new(config(&state)).map(|_| ()));
    assert!(opened.is_err());
}
