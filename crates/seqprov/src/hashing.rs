//! The hashing engine: one file at a time, by memory map or by reads, BLAKE3 always and
//! SHA-256 on request, with detection of files that change while they are read.

use std::cell::RefCell;
use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::inspect::{ChunkSink, NoSink};
use crate::mapped_file::MappedFile;
use crate::walk::Tree;

/// Files at least this large are memory-mapped (unless mapping is disabled).
pub const MMAP_MIN_BYTES: u64 = 4 << 20;
/// Files at least this large are hashed with BLAKE3's multi-threaded update.
pub const PARALLEL_HASH_MIN_BYTES: u64 = 16 << 20;
/// Read buffer per worker thread for the read path.
const READ_BUFFER_BYTES: usize = 4 << 20;
/// Bytes hashed between two progress reports for large files.
const PROGRESS_STEP: usize = 64 << 20;

/// How file contents are brought into memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadMode {
    /// Memory-map files of at least [`MMAP_MIN_BYTES`], read the others (the default).
    #[default]
    Auto,
    /// Never memory-map: read everything through a reused buffer (for spinning disks and
    /// network file systems, where many threads faulting pages in thrash the device).
    NoMmap,
}

/// Which digests to compute and how to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct HashOptions {
    /// Also compute SHA-256.
    pub sha256: bool,
    /// How to read file contents.
    pub read_mode: ReadMode,
}

/// The digests of one file's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileDigests {
    /// Number of bytes hashed.
    pub size: u64,
    /// BLAKE3-256 of the contents.
    pub blake3: [u8; 32],
    /// SHA-256 of the contents, when requested.
    pub sha256: Option<[u8; 32]>,
}

/// Receives progress from the engine (bytes hashed); must be cheap and thread-safe.
pub trait Progress: Sync {
    /// The total number of bytes that will be hashed.
    fn set_total(&self, _bytes: u64) {}
    /// `bytes` more have been hashed.
    fn advance(&self, _bytes: u64) {}
    /// Whether anyone is watching: when not, large files are hashed in one parallel pass
    /// instead of progress-sized steps.
    fn is_visible(&self) -> bool {
        true
    }
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {
    fn is_visible(&self) -> bool {
        false
    }
}

/// What a file looked like (from `stat`), to compare after hashing it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Stamp {
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
    regular: bool,
}

impl Stamp {
    /// The stamp of open-file metadata.
    pub fn of(meta: &Metadata) -> Stamp {
        Stamp {
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
            regular: meta.is_file(),
        }
    }

    /// The stamp of a `stat` result taken during the walk.
    pub fn from_stat(stat: &rustix::fs::Stat) -> Stamp {
        Stamp {
            len: stat.st_size as u64,
            mtime: (stat.st_mtime, stat.st_mtime_nsec as i64),
            ctime: (stat.st_ctime, stat.st_ctime_nsec as i64),
            ino: stat.st_ino,
            dev: stat.st_dev,
            regular: rustix::fs::FileType::from_raw_mode(stat.st_mode)
                == rustix::fs::FileType::RegularFile,
        }
    }

    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }
}

/// Open a path for reading without following a symlink and without blocking on a FIFO.
pub fn open_path(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| open_error(path, e))
}

/// Turn an error from opening a file to hash into the library's error.
fn open_error(path: &Path, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ELOOP) => Error::FileChanged {
            path: path.to_path_buf(),
            what: "it, or a directory on its path, became a symlink".into(),
        },
        Some(libc::EXDEV) => Error::FileChanged {
            path: path.to_path_buf(),
            what: "its path now leads outside the tree".into(),
        },
        _ => Error::io(path, e),
    }
}

/// Hash one regular file of a tree (opened beneath the tree's root, no symlinks followed).
///
/// `seen` is the file's stamp from the walk: the file must still match it after hashing
/// (one `fstat` per file instead of two).
pub fn hash_in_tree(
    tree: &Tree,
    relative: &Path,
    full: &Path,
    seen: Stamp,
    options: HashOptions,
    progress: &dyn Progress,
    sink: &mut dyn ChunkSink,
) -> Result<FileDigests> {
    let file = tree.open_file(relative).map_err(|e| open_error(full, e))?;
    hash_with_stamp(file, full, seen, options, progress, sink)
}

/// Hash the file at `path` (not following a symlink).
pub fn hash_path(
    path: &Path,
    options: HashOptions,
    progress: &dyn Progress,
) -> Result<FileDigests> {
    hash_file(open_path(path)?, path, options, progress)
}

/// Hash an open file, which must be a regular file; `path` names it in errors.
pub fn hash_file(
    file: File,
    path: &Path,
    options: HashOptions,
    progress: &dyn Progress,
) -> Result<FileDigests> {
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    hash_with_stamp(file, path, Stamp::of(&meta), options, progress, &mut NoSink)
}

/// Hash an open file expected to match `before`, feeding every chunk to `sink`; any
/// difference afterwards (size, times, inode, type) is reported as a change, ahead of any
/// read error it may have caused.
pub fn hash_with_stamp(
    file: File,
    path: &Path,
    before: Stamp,
    options: HashOptions,
    progress: &dyn Progress,
    sink: &mut dyn ChunkSink,
) -> Result<FileDigests> {
    let changed = |what: String| Error::FileChanged {
        path: path.to_path_buf(),
        what,
    };
    if !before.regular {
        return Err(changed("it is no longer a regular file".into()));
    }
    let outcome = read_and_hash(&file, path, before.len, options, progress, sink);
    let after = Stamp::of(&file.metadata().map_err(|e| Error::io(path, e))?);
    if !after.regular {
        return Err(changed("it is no longer a regular file".into()));
    }
    let digests = match outcome {
        // A change seen during the read (a shrunk memory map) says the most.
        Err(e @ Error::FileChanged { .. }) => return Err(e),
        Err(_) if after != before => {
            return Err(changed(describe_change(&before, &after, before.len)));
        }
        other => other?,
    };
    if after != before || digests.size != before.len {
        return Err(changed(describe_change(&before, &after, digests.size)));
    }
    Ok(digests)
}

/// Read `len` bytes of `file` by memory map or reads and hash them.
fn read_and_hash(
    file: &File,
    path: &Path,
    len: u64,
    options: HashOptions,
    progress: &dyn Progress,
    sink: &mut dyn ChunkSink,
) -> Result<FileDigests> {
    let mapped = if options.read_mode == ReadMode::Auto && len >= MMAP_MIN_BYTES {
        match usize::try_from(len) {
            Ok(len) => MappedFile::map(file, len).map_err(|e| Error::io(path, e))?,
            Err(_) => None,
        }
    } else {
        None
    };
    match &mapped {
        Some(map) => {
            let digests = hash_bytes(map.bytes(), options.sha256, progress, sink);
            if map.faulted() {
                return Err(Error::FileChanged {
                    path: path.to_path_buf(),
                    what: "it shrank below the size it had when it was opened".into(),
                });
            }
            Ok(digests)
        }
        None => {
            hash_reader(file, len, options.sha256, progress, sink).map_err(|e| Error::io(path, e))
        }
    }
}

fn describe_change(before: &Stamp, after: &Stamp, read: u64) -> String {
    if (after.dev, after.ino) != (before.dev, before.ino) {
        "it was replaced by another file".into()
    } else if after.len != before.len {
        format!("size went from {} to {} bytes", before.len, after.len)
    } else if read != before.len {
        format!("{} bytes read where {} were expected", read, before.len)
    } else {
        "its modification or change time moved".into()
    }
}

/// Hash bytes already in memory, in steps so progress can be reported.
fn hash_bytes(
    bytes: &[u8],
    sha256: bool,
    progress: &dyn Progress,
    sink: &mut dyn ChunkSink,
) -> FileDigests {
    let parallel = bytes.len() as u64 >= PARALLEL_HASH_MIN_BYTES;
    let mut b3 = blake3::Hasher::new();
    let mut sha = sha256.then(Sha256::new);
    let step_len = if progress.is_visible() {
        PROGRESS_STEP
    } else {
        bytes.len().max(1)
    };
    for step in bytes.chunks(step_len) {
        update_both(&mut b3, sha.as_mut(), step, parallel);
        sink.update(step);
        progress.advance(step.len() as u64);
    }
    FileDigests {
        size: bytes.len() as u64,
        blake3: *b3.finalize().as_bytes(),
        sha256: sha.map(|s| s.finalize().into()),
    }
}

fn update_both(b3: &mut blake3::Hasher, sha: Option<&mut Sha256>, data: &[u8], parallel: bool) {
    let update_b3 = |b3: &mut blake3::Hasher| {
        if parallel {
            b3.update_rayon(data);
        } else {
            b3.update(data);
        }
    };
    match sha {
        Some(sha) if parallel => {
            rayon::join(|| update_b3(b3), || sha.update(data));
        }
        Some(sha) => {
            update_b3(b3);
            sha.update(data);
        }
        None => update_b3(b3),
    }
}

thread_local! {
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Hash a file through a per-thread reused buffer.
fn hash_reader(
    mut file: &File,
    expected: u64,
    sha256: bool,
    progress: &dyn Progress,
    sink: &mut dyn ChunkSink,
) -> std::io::Result<FileDigests> {
    READ_BUFFER.with(|cell| {
        let mut buffer = cell.borrow_mut();
        let want = (expected.min(READ_BUFFER_BYTES as u64) as usize).max(64 << 10);
        if buffer.len() < want {
            buffer.resize(want, 0);
        }
        let parallel = expected >= PARALLEL_HASH_MIN_BYTES;
        let mut b3 = blake3::Hasher::new();
        let mut sha = sha256.then(Sha256::new);
        // Read exactly the size seen at open: no extra read to find the end of the file.
        // A file that grows or shrinks meanwhile changes its size (or times), which the
        // caller's second `fstat` reports.
        let mut total = 0u64;
        while total < expected {
            let want = (expected - total).min(buffer.len() as u64) as usize;
            let n = read_full(&mut file, &mut buffer[..want])?;
            if n == 0 {
                break;
            }
            update_both(&mut b3, sha.as_mut(), &buffer[..n], parallel);
            sink.update(&buffer[..n]);
            progress.advance(n as u64);
            total += n as u64;
        }
        Ok(FileDigests {
            size: total,
            blake3: *b3.finalize().as_bytes(),
            sha256: sha.map(|s| s.finalize().into()),
        })
    })
}

/// Fill `buffer` as far as the file allows; returns bytes read (0 at end of file).
fn read_full(file: &mut &File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests_of(data: &[u8]) -> ([u8; 32], [u8; 32]) {
        (*blake3::hash(data).as_bytes(), Sha256::digest(data).into())
    }

    #[test]
    fn read_and_mmap_paths_agree_with_reference_digests() {
        let dir = tempfile::tempdir().unwrap();
        for len in [
            0usize,
            1,
            65_536,
            (MMAP_MIN_BYTES + 12_345) as usize,
            (PARALLEL_HASH_MIN_BYTES + 7) as usize,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, &data).unwrap();
            let (b3, sha) = digests_of(&data);
            for read_mode in [ReadMode::Auto, ReadMode::NoMmap] {
                let got = hash_path(
                    &path,
                    HashOptions {
                        sha256: true,
                        read_mode,
                    },
                    &NoProgress,
                )
                .unwrap();
                assert_eq!(got.size, len as u64);
                assert_eq!(got.blake3, b3, "{len} {read_mode:?}");
                assert_eq!(got.sha256, Some(sha), "{len} {read_mode:?}");
            }
        }
    }

    #[test]
    fn symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real"), b"x").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let err = hash_path(
            &dir.path().join("link"),
            HashOptions::default(),
            &NoProgress,
        )
        .unwrap_err();
        assert!(matches!(err, Error::FileChanged { .. }), "{err}");
    }

    #[test]
    fn fifo_does_not_block_and_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = hash_path(&fifo, HashOptions::default(), &NoProgress).unwrap_err();
        assert!(
            err.to_string().contains("no longer a regular file"),
            "{err}"
        );
    }
}
