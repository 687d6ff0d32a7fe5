//! The hashing engine: one file at a time, by memory map or by reads, BLAKE3 always and
//! SHA-256 on request, with detection of files that change while they are read.

use std::cell::Cell;
use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::chunk_sink::{ChunkSink, NoSink};
use crate::error::{EngineError as Error, Result};
use crate::mapped_file::MappedFile;
use crate::sha256_lanes::{self, Sha256Lane};

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
    /// A phase of the work begins (`walk`, `checks`, `hash`, `entries`, `sign`,
    /// `compare`), for a report of where the time goes; the previous phase ends.
    fn phase(&self, _name: &'static str) {}
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

    /// The modification time: seconds and nanoseconds since the epoch.
    pub fn mtime(&self) -> (i64, i64) {
        self.mtime
    }

    /// The status change time: seconds and nanoseconds since the epoch.
    pub fn ctime(&self) -> (i64, i64) {
        self.ctime
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// Whether it was a regular file.
    pub fn is_regular(&self) -> bool {
        self.regular
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
pub fn open_error(path: &Path, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ELOOP) => Error::FileChanged {
            path: path.to_path_buf(),
            what: "it, or a directory on its path, became a symlink".into(),
        },
        Some(libc::EXDEV) => Error::FileChanged {
            path: path.to_path_buf(),
            what: "its path now leads outside the tree".into(),
        },
        // The walk saw every directory on the path as a directory. Opening one with
        // O_DIRECTORY | O_NOFOLLOW after it became a symlink (or a file) gives ENOTDIR
        // rather than ELOOP: the same change, reached by another open path (regression:
        // a swapped directory was reported as an I/O error under load).
        Some(libc::ENOTDIR) => Error::FileChanged {
            path: path.to_path_buf(),
            what: "a directory on its path became a symlink or a file".into(),
        },
        _ => Error::io(path, e),
    }
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
    if !before.regular {
        return Err(no_longer_regular(path));
    }
    let outcome = with_read_buffers(|buffers| {
        let mut source = Source::open(&file, path, before.len, options.read_mode)?;
        hash_source(&mut source, &mut buffers[0], path, options, progress, sink)
    });
    check_after(&file, path, before, outcome)
}

/// One of two files hashed together by [`hash_pair_with_stamp`].
pub struct PairedFile<'a> {
    /// The open file.
    pub file: File,
    /// Its path, for messages.
    pub path: &'a Path,
    /// What it looked like before it was read (see [`hash_with_stamp`]).
    pub before: Stamp,
    /// Receives every chunk of it.
    pub sink: &'a mut dyn ChunkSink,
}

/// Bytes of each file hashed per step when two files are hashed together.
const PAIR_STEP_BYTES: usize = 256 << 10;

/// Hash two open files together on the calling thread, with the same checks as
/// [`hash_with_stamp`] for each. With SHA-256 this is faster than hashing them one after
/// the other: the two files' SHA-256 compressions are interleaved, and the CPU's SHA unit
/// works on both at once (see [`sha256_lanes`]).
pub fn hash_pair_with_stamp<'a>(
    first: PairedFile<'a>,
    second: PairedFile<'a>,
    options: HashOptions,
    progress: &dyn Progress,
) -> [Result<FileDigests>; 2] {
    if !first.before.regular || !second.before.regular {
        // Nothing to pair: let the single-file path report each one.
        return [first, second]
            .map(|f| hash_with_stamp(f.file, f.path, f.before, options, progress, f.sink));
    }
    let outcomes = with_read_buffers(|[buffer_a, buffer_b]| {
        for buffer in [&mut *buffer_a, &mut *buffer_b] {
            if buffer.len() < PAIR_STEP_BYTES {
                buffer.resize(PAIR_STEP_BYTES, 0);
            }
        }
        let mut source_a =
            Source::open(&first.file, first.path, first.before.len, options.read_mode);
        let mut source_b = Source::open(
            &second.file,
            second.path,
            second.before.len,
            options.read_mode,
        );
        let mut a = Running::new(options);
        let mut b = Running::new(options);
        loop {
            let chunk_a = next_step(&mut source_a, first.path, buffer_a);
            let chunk_b = next_step(&mut source_b, second.path, buffer_b);
            match (chunk_a, chunk_b) {
                (None, None) => break,
                (Some(x), Some(y)) => {
                    a.b3.update(x);
                    b.b3.update(y);
                    if let (Some(sha_a), Some(sha_b)) = (a.sha.as_mut(), b.sha.as_mut()) {
                        sha256_lanes::update_two(sha_a, x, sha_b, y);
                    }
                    a.hashed += x.len() as u64;
                    b.hashed += y.len() as u64;
                    feed(first.sink, x, progress);
                    feed(second.sink, y, progress);
                }
                (Some(x), None) => {
                    a.update(x);
                    feed(first.sink, x, progress);
                }
                (None, Some(y)) => {
                    b.update(y);
                    feed(second.sink, y, progress);
                }
            }
        }
        [
            source_a
                .and_then(|s| s.check_mapping(first.path))
                .map(|()| a.finish()),
            source_b
                .and_then(|s| s.check_mapping(second.path))
                .map(|()| b.finish()),
        ]
    });
    let [outcome_a, outcome_b] = outcomes;
    [
        check_after(&first.file, first.path, first.before, outcome_a),
        check_after(&second.file, second.path, second.before, outcome_b),
    ]
}

fn feed(sink: &mut dyn ChunkSink, chunk: &[u8], progress: &dyn Progress) {
    sink.update(chunk);
    progress.advance(chunk.len() as u64);
}

/// The next step of a file of a pair, or `None` at its end or after a read error (which
/// replaces the source, to be reported).
fn next_step<'b>(
    source: &'b mut Result<Source<'_>>,
    path: &Path,
    buffer: &'b mut [u8],
) -> Option<&'b [u8]> {
    let step = match source.as_mut().ok()?.advance(buffer, PAIR_STEP_BYTES) {
        Ok(step) => step,
        Err(e) => {
            *source = Err(Error::io(path, e));
            return None;
        }
    };
    let bytes = source.as_ref().ok()?.bytes(buffer, step);
    (!bytes.is_empty()).then_some(bytes)
}

/// The digests of one file of a pair so far.
struct Running {
    b3: blake3::Hasher,
    sha: Option<Sha256Lane>,
    hashed: u64,
}

impl Running {
    fn new(options: HashOptions) -> Running {
        Running {
            b3: blake3::Hasher::new(),
            sha: options.sha256.then(Sha256Lane::new),
            hashed: 0,
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        self.b3.update(chunk);
        if let Some(sha) = &mut self.sha {
            sha.update(chunk);
        }
        self.hashed += chunk.len() as u64;
    }

    fn finish(self) -> FileDigests {
        FileDigests {
            size: self.hashed,
            blake3: *self.b3.finalize().as_bytes(),
            sha256: self.sha.map(Sha256Lane::finalize),
        }
    }
}

pub(crate) fn no_longer_regular(path: &Path) -> Error {
    Error::FileChanged {
        path: path.to_path_buf(),
        what: "it is no longer a regular file".into(),
    }
}

/// Compare the file's metadata after hashing with `before`: a change says more than the
/// outcome of the read, and the read must have hashed exactly the size seen before.
fn check_after(
    file: &File,
    path: &Path,
    before: Stamp,
    outcome: Result<FileDigests>,
) -> Result<FileDigests> {
    let changed = |what: String| Error::FileChanged {
        path: path.to_path_buf(),
        what,
    };
    let after = Stamp::of(&file.metadata().map_err(|e| Error::io(path, e))?);
    if !after.regular {
        return Err(no_longer_regular(path));
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

/// Where a file's bytes come from: a memory map, or reads of exactly the size seen at open
/// into the caller's buffer (no extra read to find the end of the file: a file that grows
/// or shrinks meanwhile changes its size or times, which the second `fstat` reports).
struct Source<'f> {
    file: &'f File,
    map: Option<MappedFile>,
    offset: u64,
    len: u64,
}

impl<'f> Source<'f> {
    /// Map the file if the mode and its size say so, else prepare to read it.
    fn open(file: &'f File, path: &Path, len: u64, mode: ReadMode) -> Result<Source<'f>> {
        let map = if mode == ReadMode::Auto && len >= MMAP_MIN_BYTES {
            match usize::try_from(len) {
                Ok(len) => MappedFile::map(file, len).map_err(|e| Error::io(path, e))?,
                Err(_) => None,
            }
        } else {
            None
        };
        Ok(Source {
            file,
            map,
            offset: 0,
            len,
        })
    }

    fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    /// Move on by at most `max` bytes (none at the end): within the map, or by reading
    /// into `buffer` (at most its length).
    fn advance(&mut self, buffer: &mut [u8], max: usize) -> std::io::Result<Step> {
        let left = self.len - self.offset;
        let start = self.offset;
        if self.map.is_some() {
            let take = left.min(max as u64);
            self.offset += take;
            return Ok(Step::Mapped(start as usize, take as usize));
        }
        let want = left.min(max.min(buffer.len()) as u64) as usize;
        let n = read_full(&mut self.file, &mut buffer[..want])?;
        self.offset += n as u64;
        // A short read means the file ended early: stop, and let the size check report it.
        if n < want {
            self.len = self.offset;
        }
        Ok(Step::Read(n))
    }

    /// The bytes of a step.
    fn bytes<'b>(&'b self, buffer: &'b [u8], step: Step) -> &'b [u8] {
        match (step, &self.map) {
            (Step::Mapped(start, len), Some(map)) => &map.bytes()[start..start + len],
            (Step::Read(len), _) => &buffer[..len],
            (Step::Mapped(..), None) => unreachable!("mapped steps come from a map"),
        }
    }

    /// After the last chunk: an error if a mapped page could not be read (the file shrank).
    fn check_mapping(&self, path: &Path) -> Result<()> {
        match &self.map {
            Some(map) if map.faulted() => Err(Error::FileChanged {
                path: path.to_path_buf(),
                what: "it shrank below the size it had when it was opened".into(),
            }),
            _ => Ok(()),
        }
    }
}

/// How far [`Source::advance`] moved: a range of the map, or bytes read into the buffer.
#[derive(Clone, Copy)]
enum Step {
    Mapped(usize, usize),
    Read(usize),
}

/// Hash one file from `source`: large mapped files in one (parallel) pass unless progress
/// is shown, read files through `buffer`.
fn hash_source(
    source: &mut Source<'_>,
    buffer: &mut Vec<u8>,
    path: &Path,
    options: HashOptions,
    progress: &dyn Progress,
    sink: &mut dyn ChunkSink,
) -> Result<FileDigests> {
    let len = source.len;
    let parallel = len >= PARALLEL_HASH_MIN_BYTES;
    let step = if !source.is_mapped() {
        let want = (len.min(READ_BUFFER_BYTES as u64) as usize).max(64 << 10);
        if buffer.len() < want {
            buffer.resize(want, 0);
        }
        want
    } else if progress.is_visible() {
        PROGRESS_STEP
    } else {
        usize::MAX
    };
    let mut b3 = blake3::Hasher::new();
    let mut sha = options.sha256.then(Sha256::new);
    let mut hashed = 0u64;
    loop {
        let advanced = source
            .advance(buffer, step)
            .map_err(|e| Error::io(path, e))?;
        let chunk = source.bytes(buffer, advanced);
        if chunk.is_empty() {
            break;
        }
        update_both(&mut b3, sha.as_mut(), chunk, parallel);
        sink.update(chunk);
        progress.advance(chunk.len() as u64);
        hashed += chunk.len() as u64;
    }
    source.check_mapping(path)?;
    Ok(FileDigests {
        size: hashed,
        blake3: *b3.finalize().as_bytes(),
        sha256: sha.map(|s| s.finalize().into()),
    })
}

pub(crate) fn describe_change(before: &Stamp, after: &Stamp, read: u64) -> String {
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
    /// Read buffers of the worker thread: the first for single files, both for pairs.
    static READ_BUFFERS: Cell<[Vec<u8>; 2]> = const { Cell::new([Vec::new(), Vec::new()]) };
}

/// Run `f` with this thread's read buffers, taken out of the thread-local while it runs
/// and put back after. Not a borrow held across `f`: hashing calls into rayon (BLAKE3's
/// parallel update, `join`, a parallel FASTQ inflater), and a rayon thread that waits
/// there runs other queued tasks, which hash other files on the same thread and need
/// buffers of their own (they get new ones; the thread keeps one set).
fn with_read_buffers<T>(f: impl FnOnce(&mut [Vec<u8>; 2]) -> T) -> T {
    let mut buffers = READ_BUFFERS.take();
    let out = f(&mut buffers);
    READ_BUFFERS.set(buffers);
    out
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

    /// Two files hashed together give each file's own digests, whatever their sizes (one
    /// ending before the other, mid-block, mid-step, mapped or read), with and without
    /// SHA-256, and each file's chunks reach its own sink in order.
    #[test]
    fn pairs_agree_with_reference_digests() {
        struct Collect(Vec<u8>);
        impl ChunkSink for Collect {
            fn update(&mut self, chunk: &[u8]) {
                self.0.extend_from_slice(chunk);
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let sizes = [
            0usize,
            1,
            63,
            64,
            65,
            PAIR_STEP_BYTES - 1,
            PAIR_STEP_BYTES + 1,
            3 * PAIR_STEP_BYTES + 100,
            (MMAP_MIN_BYTES + 12_345) as usize,
        ];
        for (n, &len) in sizes.iter().enumerate() {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8 ^ n as u8).collect();
            std::fs::write(dir.path().join(format!("f{n}")), &data).unwrap();
        }
        let open = |n: usize| {
            let path = dir.path().join(format!("f{n}"));
            let file = open_path(&path).unwrap();
            let stamp = Stamp::of(&file.metadata().unwrap());
            (file, path, stamp)
        };
        for a in 0..sizes.len() {
            for b in 0..sizes.len() {
                for sha256 in [false, true] {
                    for read_mode in [ReadMode::Auto, ReadMode::NoMmap] {
                        let options = HashOptions { sha256, read_mode };
                        let ((file_a, path_a, stamp_a), (file_b, path_b, stamp_b)) =
                            (open(a), open(b));
                        let (mut sink_a, mut sink_b) = (Collect(Vec::new()), Collect(Vec::new()));
                        let [got_a, got_b] = hash_pair_with_stamp(
                            PairedFile {
                                file: file_a,
                                path: &path_a,
                                before: stamp_a,
                                sink: &mut sink_a,
                            },
                            PairedFile {
                                file: file_b,
                                path: &path_b,
                                before: stamp_b,
                                sink: &mut sink_b,
                            },
                            options,
                            &NoProgress,
                        );
                        for (got, path, sink) in
                            [(got_a, &path_a, sink_a), (got_b, &path_b, sink_b)]
                        {
                            let data = std::fs::read(path).unwrap();
                            let (b3, sha) = digests_of(&data);
                            let got = got.unwrap();
                            let case = format!("{a}+{b} sha256 {sha256} {read_mode:?}");
                            assert_eq!(got.size, data.len() as u64, "{case}");
                            assert_eq!(got.blake3, b3, "{case}");
                            assert_eq!(got.sha256, sha256.then_some(sha), "{case}");
                            assert!(sink.0 == data, "{case}: the sink saw other bytes");
                        }
                    }
                }
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
