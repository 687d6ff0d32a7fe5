//! Reads through an open [`Tree`] stay below its root even when the tree is changed
//! under it: a directory swapped for a symlink to somewhere else, a file swapped for a
//! symlink, `..` and absolute paths. Opening must fail rather than read the outside file.

use std::fs;
use std::io::Read;
use std::path::Path;

use seqprov_engine::hashing::{self, HashOptions};
use seqprov_engine::schedule::{FileWork, SMALL_FILE_MAX_BYTES, TreeFile, hash_tree_files};
use seqprov_engine::walk::{NodeKind, Tree};
use seqprov_engine::{EngineError as Error, NoProgress};

const INSIDE: &[u8] = b"inside\n";
const OUTSIDE: &[u8] = b"OUTSIDE - must never be read\n";

/// `work/run/sub/file` (inside) and `work/outside/file` (outside), same relative name.
fn layout() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    fs::create_dir_all(work.path().join("run/sub")).unwrap();
    fs::write(work.path().join("run/sub/file"), INSIDE).unwrap();
    fs::write(work.path().join("run/top"), INSIDE).unwrap();
    fs::create_dir_all(work.path().join("outside")).unwrap();
    fs::write(work.path().join("outside/file"), OUTSIDE).unwrap();
    work
}

/// Replace `run/sub` by a symlink to `target`.
fn swap_sub_for_symlink(work: &Path, target: &Path) {
    fs::remove_dir_all(work.join("run/sub")).unwrap();
    std::os::unix::fs::symlink(target, work.join("run/sub")).unwrap();
}

fn read_all(mut file: fs::File) -> Vec<u8> {
    let mut out = Vec::new();
    file.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn open_file_reads_inside_before_any_swap() {
    let work = layout();
    let tree = Tree::open(&work.path().join("run")).unwrap();
    let file = tree.open_file(Path::new("sub/file")).unwrap();
    assert_eq!(read_all(file), INSIDE);
}

#[test]
fn directory_swapped_for_absolute_symlink_is_not_followed() {
    let work = layout();
    let tree = Tree::open(&work.path().join("run")).unwrap();
    swap_sub_for_symlink(work.path(), &work.path().join("outside"));
    // The path does lead to the outside file for anyone who follows symlinks.
    assert_eq!(fs::read(work.path().join("run/sub/file")).unwrap(), OUTSIDE);
    match tree.open_file(Path::new("sub/file")) {
        Ok(file) => panic!(
            "opened through the symlink; read {:?}",
            String::from_utf8_lossy(&read_all(file))
        ),
        // openat2(RESOLVE_NO_SYMLINKS) refuses with ELOOP; RESOLVE_BENEATH with EXDEV.
        Err(e) => assert!(
            matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EXDEV)),
            "unexpected error {e:?}"
        ),
    }
}

#[test]
fn directory_swapped_for_relative_symlink_is_not_followed() {
    let work = layout();
    let tree = Tree::open(&work.path().join("run")).unwrap();
    swap_sub_for_symlink(work.path(), Path::new("../outside"));
    assert_eq!(fs::read(work.path().join("run/sub/file")).unwrap(), OUTSIDE);
    let err = tree
        .open_file(Path::new("sub/file"))
        .map(read_all)
        .expect_err("opened through the symlink");
    assert!(
        matches!(err.raw_os_error(), Some(libc::ELOOP) | Some(libc::EXDEV)),
        "{err:?}"
    );
}

#[test]
fn directory_swapped_for_symlink_inside_the_tree_is_not_followed_either() {
    // Even a symlink that stays inside is refused: the walk never follows links.
    let work = layout();
    fs::create_dir(work.path().join("run/real")).unwrap();
    fs::write(work.path().join("run/real/file"), INSIDE).unwrap();
    let tree = Tree::open(&work.path().join("run")).unwrap();
    swap_sub_for_symlink(work.path(), Path::new("real"));
    let err = tree
        .open_file(Path::new("sub/file"))
        .map(read_all)
        .expect_err("opened through the symlink");
    assert_eq!(err.raw_os_error(), Some(libc::ELOOP), "{err:?}");
}

#[test]
fn file_swapped_for_symlink_is_not_followed() {
    let work = layout();
    let tree = Tree::open(&work.path().join("run")).unwrap();
    fs::remove_file(work.path().join("run/top")).unwrap();
    std::os::unix::fs::symlink(
        work.path().join("outside/file"),
        work.path().join("run/top"),
    )
    .unwrap();
    let err = tree
        .open_file(Path::new("top"))
        .map(read_all)
        .expect_err("opened through the symlink");
    assert_eq!(err.raw_os_error(), Some(libc::ELOOP), "{err:?}");
}

#[test]
fn dot_dot_and_absolute_paths_do_not_leave_the_tree() {
    let work = layout();
    let tree = Tree::open(&work.path().join("run")).unwrap();
    let absolute = work.path().join("outside/file");
    for path in [
        Path::new("../outside/file"),
        Path::new("sub/../../outside/file"),
        absolute.as_path(),
    ] {
        if let Ok(file) = tree.open_file(path) {
            panic!(
                "{}: opened outside the tree, read {:?}",
                path.display(),
                String::from_utf8_lossy(&read_all(file))
            );
        }
    }
}

/// Digests only: the least a caller of the scheduler can do around each file.
struct DigestsOnly;

impl FileWork for DigestsOnly {
    type Sink = seqprov_engine::NoSink;
    type Output = hashing::FileDigests;
    fn start(&self, _index: usize) -> seqprov_engine::Result<Self::Sink> {
        Ok(seqprov_engine::NoSink)
    }
    fn finish(
        &self,
        _index: usize,
        digests: hashing::FileDigests,
        _sink: Self::Sink,
    ) -> seqprov_engine::Result<Self::Output> {
        Ok(digests)
    }
}

/// The whole hashing step, as seal and verify run it: walk, then the directory is
/// swapped, then the files are hashed. It must be reported as a change, never hashed.
/// Small files go through the per-directory batch (the directory opened beneath the root,
/// the file by name), large ones are opened by their whole path; with SHA-256 they are
/// hashed in pairs. Every combination is tried.
#[test]
fn hashing_after_the_swap_reports_a_change_not_the_outside_digest() {
    let big = SMALL_FILE_MAX_BYTES as usize + 4096;
    for (name, size) in [("file", INSIDE.len()), ("big", big)] {
        for sha256 in [false, true] {
            let work = layout();
            fs::write(work.path().join("run/sub/big"), vec![b'i'; big]).unwrap();
            fs::write(work.path().join("run/sub/big2"), vec![b'j'; big]).unwrap();
            fs::write(work.path().join("outside/big"), vec![b'o'; big]).unwrap();
            let (tree, nodes) = seqprov_engine::walk::walk(&work.path().join("run")).unwrap();
            let node = nodes
                .iter()
                .find(|n| n.path == format!("sub/{name}"))
                .unwrap();
            let NodeKind::File { stamp, .. } = node.kind else {
                panic!("{} is a file", node.path)
            };
            assert_eq!(stamp.size(), size as u64);
            let others: Vec<TreeFile<'_>> = nodes
                .iter()
                .filter(|n| n.path == "sub/big2")
                .filter_map(TreeFile::of)
                .collect();
            swap_sub_for_symlink(work.path(), &work.path().join("outside"));
            let mut files: Vec<TreeFile<'_>> = TreeFile::of(node).into_iter().collect();
            files.extend(others);
            let options = HashOptions {
                sha256,
                ..HashOptions::default()
            };
            let result = hash_tree_files(&tree, &files, &DigestsOnly, options, &NoProgress);
            let case = format!("{name} ({size} bytes), sha256 {sha256}");
            match result {
                Err(Error::FileChanged { path, what }) => {
                    assert!(
                        path.starts_with(tree.root().join("sub")),
                        "{case}: {}",
                        path.display()
                    );
                    assert!(
                        what.contains("symlink") || what.contains("outside"),
                        "{case}: {what}"
                    );
                }
                Err(other) => panic!("{case}: expected a FileChanged error, got {other}"),
                Ok(d) => panic!("{case}: hashed something after the swap: {d:?}"),
            }
        }
    }
}

/// Issue 12 item 22: which open path a file takes (a small file through its directory,
/// opened with `O_DIRECTORY` beneath the root; a large one by its whole path beneath the
/// root) decided whether a swapped directory came back as a change or as an I/O error
/// (`Not a directory (os error 20)`), and the test above could go red under load. Here
/// the directory is replaced by a regular FILE after the walk and before hashing, which
/// makes every open path fail with ENOTDIR and never ELOOP or EXDEV: nothing races, so the
/// classification itself is checked, on each open path. It must be `FileChanged`, naming
/// the directory (batch) or the file (whole path).
#[test]
fn directory_replaced_by_a_file_is_a_change_on_every_open_path() {
    let big = SMALL_FILE_MAX_BYTES as usize + 4096;
    for name in ["file", "big"] {
        for sha256 in [false, true] {
            let work = layout();
            fs::write(work.path().join("run/sub/big"), vec![b'i'; big]).unwrap();
            let (tree, nodes) = seqprov_engine::walk::walk(&work.path().join("run")).unwrap();
            let files: Vec<TreeFile<'_>> = nodes
                .iter()
                .filter(|n| n.path == format!("sub/{name}"))
                .filter_map(TreeFile::of)
                .collect();
            assert_eq!(files.len(), 1);
            fs::remove_dir_all(work.path().join("run/sub")).unwrap();
            fs::write(work.path().join("run/sub"), OUTSIDE).unwrap();
            let options = HashOptions {
                sha256,
                ..HashOptions::default()
            };
            let result = hash_tree_files(&tree, &files, &DigestsOnly, options, &NoProgress);
            let case = format!("sub/{name}, sha256 {sha256}");
            let expected = if name == "file" {
                tree.root().join("sub")
            } else {
                tree.root().join("sub/big")
            };
            match result {
                Err(Error::FileChanged { path, what }) => {
                    assert_eq!(path, expected, "{case}");
                    assert_eq!(
                        what, "a directory on its path became a symlink or a file",
                        "{case}"
                    );
                }
                Err(other) => panic!("{case}: expected a FileChanged error, got {other:?}"),
                Ok(d) => panic!("{case}: hashed something after the swap: {d:?}"),
            }
        }
    }
}

/// The third open path, `hashing::hash_path` (a plain path, `O_NOFOLLOW`), and the
/// mapping itself: ENOTDIR, ELOOP and EXDEV from an open are changes to the tree; any
/// other error (here EACCES, EIO) stays an I/O error.
#[test]
fn enotdir_on_open_is_a_change_and_other_errors_stay_io_errors() {
    let work = layout();
    fs::remove_dir_all(work.path().join("run/sub")).unwrap();
    fs::write(work.path().join("run/sub"), OUTSIDE).unwrap();
    let path = work.path().join("run/sub/file");
    match hashing::hash_path(&path, HashOptions::default(), &NoProgress) {
        Err(Error::FileChanged { path: at, what }) => {
            assert_eq!(at, path);
            assert_eq!(what, "a directory on its path became a symlink or a file");
        }
        other => panic!("expected a FileChanged error, got {other:?}"),
    }
    for errno in [libc::ENOTDIR, libc::ELOOP, libc::EXDEV] {
        let error = hashing::open_error(&path, std::io::Error::from_raw_os_error(errno));
        assert!(
            matches!(error, Error::FileChanged { .. }),
            "errno {errno}: {error:?}"
        );
    }
    for errno in [libc::EACCES, libc::EIO] {
        let error = hashing::open_error(&path, std::io::Error::from_raw_os_error(errno));
        assert!(
            matches!(error, Error::Io { .. }),
            "errno {errno}: {error:?}"
        );
    }
}

/// A file swapped for a symlink after the walk is not followed by the per-directory path
/// either (the directory is opened beneath the root, the file by name with O_NOFOLLOW).
#[test]
fn file_swapped_for_symlink_is_not_followed_by_name_in_its_directory() {
    let work = layout();
    let tree = Tree::open(&work.path().join("run")).unwrap();
    let dir = tree.open_dir(Path::new("sub")).unwrap();
    fs::remove_file(work.path().join("run/sub/file")).unwrap();
    std::os::unix::fs::symlink(
        work.path().join("outside/file"),
        work.path().join("run/sub/file"),
    )
    .unwrap();
    let err = Tree::open_file_in(&dir, std::ffi::OsStr::new("file"))
        .map(read_all)
        .expect_err("opened through the symlink");
    assert_eq!(err.raw_os_error(), Some(libc::ELOOP), "{err:?}");
}

/// The same guarantees when `openat2` is unavailable (kernels before 5.6 answer ENOSYS;
/// seccomp sandboxes such as older container runtimes answer EPERM), where
/// `Tree::open_beneath` falls back to plain `openat`. The tests above are run again in a
/// child process under `strace`, which makes every `openat2` fail with that error.
///
/// Regression: the fallback used to follow symlinks in the middle of a path and accept `..`
/// and absolute paths (`O_NOFOLLOW` only guards the last component), so the outside file
/// was opened; it now opens one component at a time. Skipped when `strace` is not installed.
#[test]
fn without_openat2_reads_still_stay_beneath_the_root() {
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("skipped: strace is not installed");
        return;
    }
    let me = std::env::current_exe().unwrap();
    for errno in ["ENOSYS", "EPERM"] {
        let out = std::process::Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e"])
            .arg(format!("inject=openat2:error={errno}"))
            .arg(&me)
            .args([
                "--exact",
                "--test-threads=1",
                "directory_swapped_for_absolute_symlink_is_not_followed",
                "directory_swapped_for_relative_symlink_is_not_followed",
                "directory_swapped_for_symlink_inside_the_tree_is_not_followed_either",
                "file_swapped_for_symlink_is_not_followed",
                "dot_dot_and_absolute_paths_do_not_leave_the_tree",
                "hashing_after_the_swap_reports_a_change_not_the_outside_digest",
                "file_swapped_for_symlink_is_not_followed_by_name_in_its_directory",
                "directory_replaced_by_a_file_is_a_change_on_every_open_path",
                "enotdir_on_open_is_a_change_and_other_errors_stay_io_errors",
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("9 passed"),
            "openat2 failing with {errno}:\n{stdout}"
        );
    }
}
