//! Which files of a tree the engine hashes together, and in what order.
//!
//! Large files come first, largest first, each its own task; with SHA-256, two files of
//! similar size share a task, so that their SHA-256 compressions interleave (see
//! [`hashing::hash_pair_with_stamp`]). Small files come last, batched by directory: the
//! directory is opened once beneath the root, and each file by its name relative to that
//! handle, which saves resolving the whole path from the root for every file.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::chunk_sink::ChunkSink;
use crate::error::Result;
use crate::hashing::{
    self, FileDigests, HashOptions, MMAP_MIN_BYTES, PairedFile, Progress, ReadMode, Stamp,
};
use crate::walk::{Node, NodeKind, Tree};

/// Files smaller than this are hashed in batches per directory.
pub const SMALL_FILE_MAX_BYTES: u64 = 1 << 20;
/// At most this many files in one batch, so that big directories still spread over threads.
const BATCH_MAX_FILES: usize = 128;

/// A regular file found by the walk, to be hashed.
pub struct TreeFile<'a> {
    /// Its path relative to the tree's root, as the operating system spells it.
    pub relative: &'a Path,
    /// What it looked like during the walk; hashing checks it still does.
    pub stamp: Stamp,
}

impl<'a> TreeFile<'a> {
    /// The file a walk node names, or `None` when the node is not a regular file.
    pub fn of(node: &'a Node) -> Option<TreeFile<'a>> {
        match node.kind {
            NodeKind::File { stamp, .. } => Some(TreeFile {
                relative: node.relative(),
                stamp,
            }),
            _ => None,
        }
    }
}

/// What the caller does around the hashing of each file.
pub trait FileWork: Sync {
    /// Receives the chunks of one file while it is hashed.
    type Sink: ChunkSink;
    /// The caller's result for one file.
    type Output: Send;
    /// Before file `index` (of the slice given to [`hash_tree_files`]) is read.
    fn start(&self, index: usize) -> Result<Self::Sink>;
    /// After file `index` has been hashed.
    fn finish(&self, index: usize, digests: FileDigests, sink: Self::Sink) -> Result<Self::Output>;
}

/// One unit of parallel work.
enum Task<'a> {
    /// One large file, or two with SHA-256.
    Large(Vec<usize>),
    /// Small files of one directory.
    Batch { dir: &'a Path, files: Vec<usize> },
}

/// Hash `files` of `tree` in parallel, after telling `progress` their total size; the
/// outputs are in the order of `files`. The first error stops the work and is returned.
pub fn hash_tree_files<W: FileWork>(
    tree: &Tree,
    files: &[TreeFile<'_>],
    work: &W,
    options: HashOptions,
    progress: &dyn Progress,
) -> Result<Vec<W::Output>> {
    progress.set_total(files.iter().map(|f| f.stamp.size()).sum());
    let options = HashOptions {
        read_mode: read_mode_for(files, options.read_mode, rayon::current_num_threads()),
        ..options
    };
    let is_small = |i: &usize| files[*i].stamp.size() < SMALL_FILE_MAX_BYTES;
    let mut large: Vec<usize> = (0..files.len()).filter(|i| !is_small(i)).collect();
    large.sort_by_key(|&i| std::cmp::Reverse(files[i].stamp.size()));
    let per_task = if options.sha256 { 2 } else { 1 };
    let mut tasks: Vec<Task<'_>> = large
        .chunks(per_task)
        .map(|group| Task::Large(group.to_vec()))
        .collect();
    // Small files in the order given (the walk lists a directory's files together, and so
    // does a sorted entry list), cut wherever the directory changes.
    let small: Vec<usize> = (0..files.len()).filter(is_small).collect();
    let dir_of = |i: &usize| parent(files[*i].relative);
    for same_dir in small.chunk_by(|a, b| dir_of(a).as_os_str() == dir_of(b).as_os_str()) {
        let dir = dir_of(&same_dir[0]);
        tasks.extend(same_dir.chunks(BATCH_MAX_FILES).map(|batch| {
            let mut batch = batch.to_vec();
            // Pairs of similar size leave less of either file to hash on one lane.
            if per_task == 2 {
                batch.sort_by_key(|&i| files[i].stamp.size());
            }
            Task::Batch { dir, files: batch }
        }));
    }

    let done: Vec<Vec<(usize, W::Output)>> = tasks
        .par_iter()
        .with_max_len(1)
        .map(|task| match task {
            Task::Large(group) => {
                hash_group(group, tree.root(), files, work, options, progress, |i| {
                    let relative = files[i].relative;
                    tree.open_file(relative)
                        .map_err(|e| hashing::open_error(&tree.root().join(relative), e))
                })
            }
            Task::Batch { dir, files: batch } => {
                let dir_fd = tree
                    .open_dir(dir)
                    .map_err(|e| hashing::open_error(&tree.root().join(dir), e))?;
                let mut outputs = Vec::with_capacity(batch.len());
                for group in batch.chunks(per_task) {
                    outputs.extend(hash_group(
                        group,
                        tree.root(),
                        files,
                        work,
                        options,
                        progress,
                        |i| {
                            let relative = files[i].relative;
                            let name = relative.file_name().unwrap_or(relative.as_os_str());
                            Tree::open_file_in(&dir_fd, name)
                                .map_err(|e| hashing::open_error(&tree.root().join(relative), e))
                        },
                    )?);
                }
                Ok(outputs)
            }
        })
        .collect::<Result<_>>()?;

    let mut outputs: Vec<Option<W::Output>> = (0..files.len()).map(|_| None).collect();
    for (index, output) in done.into_iter().flatten() {
        outputs[index] = Some(output);
    }
    Ok(outputs
        .into_iter()
        .map(|o| o.expect("every file is in exactly one task"))
        .collect())
}

/// The automatic choice between memory maps and reads (for [`ReadMode::Auto`]): maps only
/// when the tree has fewer files of [`MMAP_MIN_BYTES`] or more than there are threads, so
/// that each of them is hashed by all cores at once from its map (a lone 2 GiB file: twice
/// as fast as reading it). With as many large files as threads or more, each thread hashes
/// its own file, and reading through a buffer that stays in the CPU cache beats mapping
/// (on the benchmark machine, 5 % faster for 338 files of 4–32 MiB: page faults and
/// unmapping cost more than copying).
fn read_mode_for(files: &[TreeFile<'_>], asked: ReadMode, threads: usize) -> ReadMode {
    let mappable = files
        .iter()
        .filter(|f| f.stamp.size() >= MMAP_MIN_BYTES)
        .count();
    match asked {
        ReadMode::Auto if mappable >= threads => ReadMode::NoMmap,
        other => other,
    }
}

/// The directory part of a relative path ("" at the root): everything before the last `/`
/// (cheaper than [`Path::parent`], which parses components).
fn parent(relative: &Path) -> &Path {
    let bytes = relative.as_os_str().as_bytes();
    match memchr::memrchr(b'/', bytes) {
        Some(slash) => Path::new(std::ffi::OsStr::from_bytes(&bytes[..slash])),
        None => Path::new(""),
    }
}

/// Hash one file, or two together, opened by `open`.
fn hash_group<W: FileWork>(
    group: &[usize],
    root: &Path,
    files: &[TreeFile<'_>],
    work: &W,
    options: HashOptions,
    progress: &dyn Progress,
    open: impl Fn(usize) -> Result<std::fs::File>,
) -> Result<Vec<(usize, W::Output)>> {
    let full = |i: usize| -> PathBuf { root.join(files[i].relative) };
    match *group {
        [i] => {
            let mut sink = work.start(i)?;
            let digests = hashing::hash_with_stamp(
                open(i)?,
                &full(i),
                files[i].stamp,
                options,
                progress,
                &mut sink,
            )?;
            Ok(vec![(i, work.finish(i, digests, sink)?)])
        }
        [i, j] => {
            let (mut sink_i, mut sink_j) = (work.start(i)?, work.start(j)?);
            let (path_i, path_j) = (full(i), full(j));
            let [digests_i, digests_j] = hashing::hash_pair_with_stamp(
                PairedFile {
                    file: open(i)?,
                    path: &path_i,
                    before: files[i].stamp,
                    sink: &mut sink_i,
                },
                PairedFile {
                    file: open(j)?,
                    path: &path_j,
                    before: files[j].stamp,
                    sink: &mut sink_j,
                },
                options,
                progress,
            );
            Ok(vec![
                (i, work.finish(i, digests_i?, sink_i)?),
                (j, work.finish(j, digests_j?, sink_j)?),
            ])
        }
        _ => unreachable!("tasks hold one file, or two with SHA-256"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp_of_size(dir: &Path, name: &str, size: u64) -> Stamp {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(size).unwrap();
        Stamp::of(&file.metadata().unwrap())
    }

    #[test]
    fn maps_only_when_fewer_large_files_than_threads() {
        let dir = tempfile::tempdir().unwrap();
        let big = stamp_of_size(dir.path(), "big", MMAP_MIN_BYTES);
        let small = stamp_of_size(dir.path(), "small", MMAP_MIN_BYTES - 1);
        let file = |stamp| TreeFile {
            relative: Path::new("x"),
            stamp,
        };
        let one_big = [file(big), file(small), file(small)];
        let two_big = [file(big), file(big), file(small)];
        assert_eq!(read_mode_for(&one_big, ReadMode::Auto, 2), ReadMode::Auto);
        assert_eq!(read_mode_for(&two_big, ReadMode::Auto, 2), ReadMode::NoMmap);
        assert_eq!(read_mode_for(&two_big, ReadMode::Auto, 3), ReadMode::Auto);
        assert_eq!(
            read_mode_for(&one_big, ReadMode::NoMmap, 2),
            ReadMode::NoMmap
        );
    }

    #[test]
    fn parent_is_everything_before_the_last_slash() {
        assert_eq!(parent(Path::new("a/b/c.bcl")), Path::new("a/b"));
        assert_eq!(parent(Path::new("c.bcl")), Path::new(""));
    }
}
