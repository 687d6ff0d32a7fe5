//! Files planted in a log directory (spec/log.md §3): a FIFO or a symbolic link where the
//! checkpoint or a tile belongs is a clear error, never a hang (opening a FIFO for reading
//! waits for a writer); the temporary files a crash left under `public/` are removed when
//! the log is opened, and nothing else is.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use seqprov_log::LogError;
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;
use seqprov_log::note_keys::LogSigner;

const ORIGIN: &str = "lab.example.org/hostile-files";

fn signer() -> LogSigner {
    LogSigner {
        origin: ORIGIN.to_string(),
        key: SigningKey::from_bytes(&[9; 32]),
    }
}

/// A log of `n` entries in `dir`.
fn log_of(dir: &Path, n: u64) {
    LogDir::init(dir, ORIGIN, &signer().key, Path::new("log.key")).expect("init");
    let mut log = LogDir::open(dir).expect("open");
    let entries: Vec<Vec<u8>> = (0..n).map(|i| format!("entry {i}").into_bytes()).collect();
    log.append(&entries, &mut |size, root| {
        Ok(checkpoint::sign(&signer(), size, root))
    })
    .expect("append");
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

/// Runs `f` on another thread; panics if it has not returned within 10 s (a hang).
fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("hung for 10 s on a planted file")
}

fn open_error(dir: &Path) -> String {
    let dir = dir.to_path_buf();
    match within_10s(move || LogDir::open(&dir).map(|_| ())) {
        Ok(()) => panic!("the log opened"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_fifo_as_the_checkpoint_is_an_error_not_a_hang() {
    let tmp = tempfile::tempdir().unwrap();
    log_of(tmp.path(), 3);
    let checkpoint = tmp.path().join("public/checkpoint");
    mkfifo(&checkpoint);
    let error = open_error(tmp.path());
    assert!(
        error.contains("public/checkpoint") && error.contains("is a FIFO, not a regular file"),
        "{error}"
    );
}

#[test]
fn a_fifo_as_a_tile_is_an_error_not_a_hang_when_opening_or_serving() {
    let tmp = tempfile::tempdir().unwrap();
    log_of(tmp.path(), 3);
    let log = LogDir::open(tmp.path()).expect("open");
    let tile = tmp.path().join("public/tile/entries/000.p/3");
    assert!(tile.is_file());
    mkfifo(&tile);
    // Served by a running log: an error, at once.
    let served = within_10s(move || log.read_public("tile/entries/000.p/3").map(|_| ()));
    match served {
        Err(LogError::Io { path, source }) => {
            assert_eq!(path, tile);
            assert!(source.to_string().contains("is a FIFO"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    // Opening the log reads it too.
    let error = open_error(tmp.path());
    assert!(
        error.contains("000.p/3") && error.contains("is a FIFO"),
        "{error}"
    );
}

#[test]
fn a_symbolic_link_as_the_checkpoint_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    log_of(tmp.path(), 2);
    let public = tmp.path().join("public");
    std::fs::rename(public.join("checkpoint"), tmp.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere"), public.join("checkpoint")).unwrap();
    let error = open_error(tmp.path());
    assert!(error.contains("is a symbolic link"), "{error}");
}

#[test]
fn stale_temporary_files_of_the_writer_are_removed_on_open_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    log_of(tmp.path(), 300);
    let public = tmp.path().join("public");
    let own = [
        ".checkpoint.tmp",
        "tile/entries/.000.tmp",
        "tile/entries/001.p/.44.tmp",
        "tile/0/.001.tmp",
        "tile/1/000.p/.1.tmp",
    ];
    let others = [
        ".notes.tmp",
        "keep.tmp",
        ".checkpoint.tmp.bak",
        "tile/.x001.tmp",
        "tile/entries/.1000.tmp",
        "tile/0/.0a.tmp",
        "index.html",
    ];
    for name in own.iter().chain(&others) {
        std::fs::write(public.join(name), b"half written").unwrap();
    }
    // Of the right name but not a regular file: kept.
    std::fs::create_dir(public.join("tile/.5.tmp")).unwrap();
    std::os::unix::fs::symlink("index.html", public.join(".7.tmp")).unwrap();

    let log = LogDir::open(tmp.path()).expect("open");
    assert_eq!(log.size(), 300);
    for name in own {
        assert!(!public.join(name).exists(), "{name} was left");
    }
    for name in others {
        assert!(public.join(name).is_file(), "{name} was removed");
    }
    assert!(public.join("tile/.5.tmp").is_dir());
    assert!(public.join(".7.tmp").symlink_metadata().is_ok());
}
