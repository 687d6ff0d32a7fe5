//! Files planted in a log directory (spec/log.md §3): a FIFO or a symbolic link where the
//! checkpoint or a tile belongs is a clear error, never a hang (opening a FIFO for reading
//! waits for a writer); the temporary files a crash left under `public/` are removed when
//! the log is opened, and nothing else is.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use seqprov_log::LogError;
use seqprov_log::checkpoint;
use seqprov_log::log_dir::LogDir;

mod log_fixture;
use log_fixture::{ORIGIN, mkfifo, open as open_log, signer};

/// A log of `n` entries in `dir`.
fn log_of(dir: &Path, n: u64) {
    LogDir::init(dir, ORIGIN, &signer().key, Path::new("log.key")).expect("init");
    let mut log = open_log(dir).expect("open");
    let entries: Vec<Vec<u8>> = (0..n).map(|i| format!("entry {i}").into_bytes()).collect();
    log.append(&entries, &mut |size, root| {
        Ok(checkpoint::sign(&signer(), size, root))
    })
    .expect("append");
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
    match within_10s(move || open_log(&dir).map(|_| ())) {
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
    let log = open_log(tmp.path()).expect("open");
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
    // Of the right name but a directory: kept. A symbolic link of the right name is
    // removed itself (its target, index.html, is not followed and stays).
    std::fs::create_dir(public.join("tile/.5.tmp")).unwrap();
    std::os::unix::fs::symlink("index.html", public.join(".7.tmp")).unwrap();

    let log = open_log(tmp.path()).expect("open");
    assert_eq!(log.size(), 300);
    for name in own {
        assert!(!public.join(name).exists(), "{name} was left");
    }
    for name in others {
        assert!(public.join(name).is_file(), "{name} was removed");
    }
    assert!(public.join("tile/.5.tmp").is_dir());
    assert!(public.join(".7.tmp").symlink_metadata().is_err());
}

/// Regression (hostile review, stop 21): a symbolic link planted at a temporary name the
/// writer uses (`public/.checkpoint.tmp`, a tile's `.<N>.tmp`) made `File::create` follow
/// it and overwrite the file it pointed at, outside the log.
#[test]
fn a_symbolic_link_at_a_temporary_name_is_replaced_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    log_of(&dir, 5);
    let victims = tmp.path().join("victims");
    std::fs::create_dir(&victims).unwrap();
    let mut log = open_log(&dir).expect("open");
    // Planted after the log was opened (opening removes stale temporary names), where
    // the next append writes its checkpoint and its partial entry bundle of 6.
    let planted = [
        // The spare the next checkpoint is written to (spec/log.md §3).
        ("checkpoint.spare.1", "checkpoint-victim"),
        ("public/tile/entries/000.p/.6.tmp", "tile-victim"),
        ("public/tile/0/000.p/.6.tmp", "hash-tile-victim"),
    ];
    for (link, victim) in planted {
        std::fs::write(victims.join(victim), b"precious\n").unwrap();
        let _ = std::fs::remove_file(dir.join(link));
        std::os::unix::fs::symlink(victims.join(victim), dir.join(link)).unwrap();
    }
    log.append(&[b"entry 5".to_vec()], &mut |size, root| {
        Ok(checkpoint::sign(&signer(), size, root))
    })
    .expect("append");
    assert_eq!(log.size(), 6);
    for (link, victim) in planted {
        assert_eq!(
            std::fs::read(victims.join(victim)).unwrap(),
            b"precious\n",
            "{victim} was overwritten through {link}"
        );
        // A temporary name is gone; the spare is the log's own file again.
        assert!(
            dir.join(link)
                .symlink_metadata()
                .map_or(true, |m| m.file_type().is_file()),
            "{link} left"
        );
    }
    assert!(dir.join("public/tile/entries/000.p/6").is_file());
    // A spare that is a hard link to a file elsewhere is replaced, never written through.
    std::fs::write(victims.join("linked-victim"), b"precious\n").unwrap();
    let _ = std::fs::remove_file(dir.join("checkpoint.spare.2"));
    std::fs::hard_link(
        victims.join("linked-victim"),
        dir.join("checkpoint.spare.2"),
    )
    .unwrap();
    log.append(&[b"entry 6".to_vec()], &mut |size, root| {
        Ok(checkpoint::sign(&signer(), size, root))
    })
    .expect("append");
    assert_eq!(
        std::fs::read(victims.join("linked-victim")).unwrap(),
        b"precious\n"
    );
    assert_eq!(
        std::fs::read(dir.join("public/checkpoint")).unwrap(),
        log.checkpoint()
    );
    drop(log);
    assert_eq!(open_log(&dir).expect("reopen").size(), 7);
}

/// Regression (hostile review, stop 21): a directory under `public/` replaced by a symbolic
/// link made the log write its tiles (and remove "unpublished" ones) in the directory it
/// pointed at. Opening the log refuses it; so does an append after the swap.
#[test]
fn a_symbolic_link_in_place_of_a_tile_directory_is_refused_and_nothing_written_through_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    log_of(&dir, 5);
    let outside = tmp.path().join("outside");
    let listing = |d: &Path| {
        let mut names: Vec<_> = walk(d);
        names.sort();
        names
    };

    // Swapped while the log is open: the append is refused, nothing lands outside, the
    // published size stays.
    let mut log = open_log(&dir).expect("open");
    std::fs::rename(dir.join("public/tile/entries"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("public/tile/entries")).unwrap();
    let before = listing(&outside);
    let error = log
        .append(&[b"entry 5".to_vec()], &mut |size, root| {
            Ok(checkpoint::sign(&signer(), size, root))
        })
        .expect_err("appended through a symbolic link")
        .to_string();
    assert!(
        error.contains("public/tile/entries") && error.contains("is a symbolic link"),
        "{error}"
    );
    assert_eq!(listing(&outside), before);
    assert_eq!(log.size(), 5);
    drop(log);

    // Opening the log with the link in place: refused too (removing unpublished tiles
    // would otherwise delete files in the linked directory).
    std::fs::write(outside.join("000.p/7"), b"not the log's").unwrap();
    let before = listing(&outside);
    let error = open_error(&dir);
    assert!(error.contains("is a symbolic link"), "{error}");
    assert_eq!(listing(&outside), before);
    assert!(outside.join("000.p/7").is_file());
}

/// Every file under `dir`, relative, with its contents.
fn walk(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            for (name, bytes) in walk(&path) {
                found.push((
                    format!("{}/{name}", entry.file_name().to_string_lossy()),
                    bytes,
                ));
            }
        } else {
            found.push((
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            ));
        }
    }
    found
}

/// Regression (hostile review 2, stop 21): the log's lock was the file `lock`, opened by
/// path with create: a symbolic link there was followed (its target created or
/// truncated), and unlinking it while one process held it let a second open the log and
/// sign a checkpoint of the same size with another root. The directory itself is locked.
#[test]
fn the_lock_is_the_directory_itself_not_a_file_that_can_be_replaced_or_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    log_of(&dir, 2);
    let outside = tmp.path().join("outside");
    std::fs::write(tmp.path().join("precious"), b"precious\n").unwrap();
    let _ = std::fs::remove_file(dir.join("lock"));
    std::os::unix::fs::symlink(&outside, dir.join("lock")).unwrap();
    let first = open_log(&dir).expect("open");
    assert!(!outside.exists(), "opening followed a link at lock");
    // Whatever is done to a `lock` file, a second opener is refused while the first holds
    // the log.
    std::fs::remove_file(dir.join("lock")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("precious"), dir.join("lock")).unwrap();
    match LogDir::open(&dir) {
        Err(LogError::Locked(path)) => assert_eq!(path, dir),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a second opener got the log"),
    }
    assert_eq!(
        std::fs::read(tmp.path().join("precious")).unwrap(),
        b"precious\n"
    );
    drop(first);
    assert_eq!(open_log(&dir).expect("reopen").size(), 2);
}
