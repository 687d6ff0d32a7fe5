//! Hostile review 2 of the checkpoint exchange (spec/log.md §3 step 5): the checkpoint is
//! written over a spare `DIR/checkpoint.spare.<n>` and swapped with `public/checkpoint` by
//! `renameat2(RENAME_EXCHANGE)`. Whoever can write the log directory while the log is
//! open plants a FIFO (with and without a reader), a symbolic link or a hard link at a
//! spare or at `public/checkpoint` itself: nothing is written through any of them, no
//! append waits, and the published checkpoint is the log's, whole. A directory planted
//! at a spare stops appending with an error naming it (it cannot be unlinked), never a
//! write elsewhere, and the log opens again.

use std::fs::OpenOptions;
use std::io::Read as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use seqprov_log::LogError;
use seqprov_log::log_dir::LogDir;

mod log_fixture;
use log_fixture::{ORIGIN, mkfifo, open as open_log, sign, signer};

/// Appends one entry on another thread; panics if it has not returned within 10 s.
fn append_within_10s(log: LogDir, entry: &str) -> (LogDir, Result<Vec<u64>, LogError>) {
    let entry = entry.as_bytes().to_vec();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut log = log;
        let result = log.append(&[entry], &mut sign);
        let _ = tx.send((log, result));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("an append hung for 10 s on a planted file")
}

struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    victims: PathBuf,
}

fn setup() -> (Setup, LogDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let victims = tmp.path().join("victims");
    std::fs::create_dir(&victims).unwrap();
    LogDir::init(&dir, ORIGIN, &signer().key, Path::new("log.key")).expect("init");
    let mut log = open_log(&dir).expect("open");
    log.append(&[b"entry 0".to_vec()], &mut sign)
        .expect("append");
    (
        Setup {
            _tmp: tmp,
            dir,
            victims,
        },
        log,
    )
}

fn assert_published(dir: &Path, log: &LogDir) {
    let public = dir.join("public/checkpoint");
    let meta = public.symlink_metadata().unwrap();
    assert!(meta.file_type().is_file(), "public/checkpoint is a file");
    assert_eq!(meta.nlink(), 1, "public/checkpoint has one name");
    assert_eq!(std::fs::read(&public).unwrap(), log.checkpoint());
}

#[test]
fn a_fifo_at_a_spare_with_or_without_a_reader_is_replaced_not_written_or_waited_on() {
    let (s, log) = setup();
    // The first append after opening used spare 1; the next ones use 2, then 3.
    mkfifo(&s.dir.join("checkpoint.spare.2"));
    mkfifo(&s.dir.join("checkpoint.spare.3"));
    // A reader holds spare 3 open: a write-only open of it would succeed.
    let mut reader = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(s.dir.join("checkpoint.spare.3"))
        .unwrap();
    let (log, appended) = append_within_10s(log, "entry 1");
    appended.expect("append past a FIFO spare");
    let (log, appended) = append_within_10s(log, "entry 2");
    appended.expect("append past a FIFO spare with a reader");
    assert_eq!(log.size(), 3);
    assert_published(&s.dir, &log);
    let mut got = Vec::new();
    match reader.read_to_end(&mut got) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
    }
    assert!(got.is_empty(), "the checkpoint was written into the FIFO");
    for n in [2, 3] {
        let meta = s
            .dir
            .join(format!("checkpoint.spare.{n}"))
            .symlink_metadata()
            .unwrap();
        assert!(meta.file_type().is_file(), "spare {n} is the log's file");
    }
    drop(log);
    assert_eq!(open_log(&s.dir).expect("reopen").size(), 3);
}

#[test]
fn links_planted_at_the_published_checkpoint_are_swapped_out_never_written_through() {
    let (s, mut log) = setup();
    let symlinked = s.victims.join("symlinked");
    let hard_linked = s.victims.join("hard-linked");
    std::fs::write(&symlinked, b"precious\n").unwrap();
    std::fs::write(&hard_linked, b"precious\n").unwrap();
    let public = s.dir.join("public/checkpoint");
    std::fs::remove_file(&public).unwrap();
    std::os::unix::fs::symlink(&symlinked, &public).unwrap();
    let (l, appended) = append_within_10s(log, "entry 1");
    log = l;
    appended.expect("append over a symbolic link at public/checkpoint");
    assert_published(&s.dir, &log);
    std::fs::remove_file(&public).unwrap();
    std::fs::hard_link(&hard_linked, &public).unwrap();
    let (l, appended) = append_within_10s(log, "entry 2");
    log = l;
    appended.expect("append over a hard link at public/checkpoint");
    assert_published(&s.dir, &log);
    // The planted files are now spares: each is replaced when its turn comes, still never
    // written through (eight more batches: every spare twice).
    for i in 3..11 {
        let (l, appended) = append_within_10s(log, &format!("entry {i}"));
        log = l;
        appended.expect("append");
        assert_published(&s.dir, &log);
    }
    for victim in [&symlinked, &hard_linked] {
        assert_eq!(std::fs::read(victim).unwrap(), b"precious\n", "{victim:?}");
    }
    assert_eq!(std::fs::metadata(&hard_linked).unwrap().nlink(), 1);
    drop(log);
    assert_eq!(open_log(&s.dir).expect("reopen").size(), 11);
}

#[test]
fn a_directory_at_a_spare_stops_appending_with_an_error_naming_it_and_the_log_reopens() {
    let (s, log) = setup();
    let spare = s.dir.join("checkpoint.spare.2");
    std::fs::create_dir(&spare).unwrap();
    std::fs::write(spare.join("kept"), b"precious\n").unwrap();
    let (log, appended) = append_within_10s(log, "entry 1");
    let error = appended
        .expect_err("a directory where a spare belongs")
        .to_string();
    assert!(error.contains("checkpoint.spare.2"), "{error}");
    assert!(log.stopped().is_some(), "appending stopped");
    // Nothing of the failed batch is published; the directory is untouched.
    assert_eq!(log.size(), 1);
    assert_published(&s.dir, &log);
    assert_eq!(std::fs::read(spare.join("kept")).unwrap(), b"precious\n");
    drop(log);
    // The journaled batch is replayed on opening (an entry whose submitter was refused may
    // still appear, spec/log.md §3).
    assert_eq!(open_log(&s.dir).expect("reopen").size(), 2);
}

/// Regression (hostile review 2): a regular file of one name that another user planted at
/// a spare (here owned by `nobody`, mode 0666, held open for writing) was rewritten and
/// swapped in as `public/checkpoint`, and stayed in the ring of spares for good: through
/// its handle its owner could rewrite the published checkpoint at any time, even after
/// losing write access to the log directory. It is replaced instead, like a hard link.
/// Needs root to plant a file of another owner; skipped otherwise.
#[test]
fn a_spare_another_user_planted_is_replaced_never_swapped_in() {
    use std::io::{Seek as _, Write as _};
    let (s, mut log) = setup();
    let spare = s.dir.join("checkpoint.spare.2");
    std::fs::write(&spare, b"").unwrap();
    if std::os::unix::fs::chown(&spare, Some(65534), Some(65534)).is_err() {
        eprintln!("skipped: planting a file of another owner needs root");
        return;
    }
    std::fs::set_permissions(&spare, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let mut planted = OpenOptions::new().write(true).open(&spare).unwrap();
    let planted_ino = planted.metadata().unwrap().ino();
    let public = s.dir.join("public/checkpoint");
    for i in 1..9 {
        let (l, appended) = append_within_10s(log, &format!("entry {i}"));
        log = l;
        appended.expect("append");
        let meta = public.symlink_metadata().unwrap();
        assert_ne!(meta.ino(), planted_ino, "the planted file was published");
        assert_eq!(meta.uid(), rustix::process::geteuid().as_raw());
        // Its owner rewrites it through the handle kept: the published checkpoint stays.
        planted.set_len(0).unwrap();
        planted.rewind().unwrap();
        planted.write_all(b"forged\n").unwrap();
        assert_published(&s.dir, &log);
    }
}
