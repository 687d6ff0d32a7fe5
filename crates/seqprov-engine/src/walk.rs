//! Walking a directory without following symlinks, into a list of nodes to hash or compare.
//!
//! The tree is read through directory handles: the root is opened once, every directory
//! and file below it is opened relative to the root with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS)`, so a directory swapped for a symlink while seqprov runs cannot
//! make it read outside the tree, and entries are `stat`ed relative to their directory's
//! handle (one path component to resolve, not the whole path). Directories are read in
//! parallel.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};

use crate::error::{EngineError as Error, Result};
use crate::hashing::Stamp;
use seqprov_format::entry_path;

/// What a path in the tree is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file of the given size (from `lstat` during the walk).
    File {
        /// Size in bytes at walk time.
        size: u64,
        /// What `stat` said at walk time; hashing checks the file still matches it.
        stamp: Stamp,
    },
    /// A symbolic link (never followed) and its target text.
    Symlink {
        /// The link's target; `Err` holds an escaped form when it is not UTF-8.
        target: std::result::Result<String, String>,
    },
    /// A directory; `empty` when it has no children at all.
    Dir {
        /// True when the directory has no children.
        empty: bool,
    },
    /// A FIFO, socket or device file, named by type.
    Special(&'static str),
}

impl NodeKind {
    /// The kind name used in messages and reports.
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::File { .. } => "file",
            NodeKind::Symlink { .. } => "symlink",
            NodeKind::Dir { .. } => "dir",
            NodeKind::Special(kind) => kind,
        }
    }
}

/// One path found by the walk.
#[derive(Clone, Debug)]
pub struct Node {
    /// Entry path relative to the root (escaped if the name is not valid UTF-8).
    pub path: String,
    /// The path as the operating system spells it, kept only when `path` is an escaped
    /// form (one allocation per file less on large trees).
    raw: Option<PathBuf>,
    /// What it is.
    pub kind: NodeKind,
    /// Set when the name breaks the path rules (for example, not UTF-8).
    pub name_error: Option<String>,
}

impl Node {
    /// The path relative to the root, as the operating system spells it.
    pub fn relative(&self) -> &Path {
        self.raw.as_deref().unwrap_or(Path::new(&self.path))
    }

    /// The full path on disk (for messages).
    pub fn full(&self, root: &Path) -> PathBuf {
        root.join(self.relative())
    }
}

/// An open directory tree: every read below it stays below it.
pub struct Tree {
    root: PathBuf,
    root_fd: OwnedFd,
}

const BENEATH: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS);

impl Tree {
    /// Open `root`, which must be a directory (it may itself be reached through a symlink).
    pub fn open(root: &Path) -> Result<Tree> {
        let root_fd = rustix::fs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(root, e.into()))?;
        Ok(Tree {
            root: root.to_path_buf(),
            root_fd,
        })
    }

    /// The root as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Open a path below the root, resolving no symlink on the way and never leaving the
    /// tree; `flags` are added to read-only, no-follow, close-on-exec.
    fn open_beneath(&self, relative: &Path, flags: OFlags) -> std::io::Result<OwnedFd> {
        let flags = flags | OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat2(&self.root_fd, relative, flags, Mode::empty(), BENEATH) {
            // Kernels before 5.6, or sandboxes that filter openat2: walk the path one
            // component at a time, refusing symlinks at every step.
            Err(rustix::io::Errno::NOSYS) | Err(rustix::io::Errno::PERM) => {
                self.open_by_components(relative, flags)
            }
            other => other.map_err(Into::into),
        }
    }

    /// Open `relative` below the root without openat2: every directory on the way is
    /// opened with `O_NOFOLLOW | O_DIRECTORY` relative to the previous one, and only plain
    /// names are accepted, so neither a symlink nor `..` can lead out of the tree.
    fn open_by_components(&self, relative: &Path, flags: OFlags) -> std::io::Result<OwnedFd> {
        use std::path::Component;
        let names: Vec<&OsStr> = relative
            .components()
            .map(|c| match c {
                Component::Normal(name) => Ok(name),
                _ => Err(std::io::Error::from_raw_os_error(libc_exdev())),
            })
            .collect::<std::io::Result<_>>()?;
        let Some((last, dirs)) = names.split_last() else {
            return self.root_fd.try_clone();
        };
        let mut dir = self.root_fd.try_clone()?;
        let directory = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        for name in dirs {
            dir = open_refusing_symlink(&dir, name, directory)?;
        }
        open_refusing_symlink(&dir, last, flags)
    }

    /// Open a file below the root for reading, without following symlinks and without
    /// blocking on a FIFO. The caller checks that it is a regular file.
    pub fn open_file(&self, relative: &Path) -> std::io::Result<File> {
        self.open_beneath(relative, OFlags::NONBLOCK)
            .map(File::from)
    }

    /// Open a directory below the root (the root itself for an empty path), under the
    /// same rules as [`Tree::open_file`].
    pub fn open_dir(&self, relative: &Path) -> std::io::Result<OwnedFd> {
        if relative.as_os_str().is_empty() {
            return self.root_fd.try_clone();
        }
        self.open_beneath(relative, OFlags::DIRECTORY)
    }

    /// Open the file `name` (one path component) of a directory opened with
    /// [`Tree::open_dir`], for reading, without following a symlink and without blocking
    /// on a FIFO: one name to resolve instead of a whole path.
    pub fn open_file_in(dir: &OwnedFd, name: &OsStr) -> std::io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        Ok(File::from(rustix::fs::openat(
            dir,
            name,
            flags,
            Mode::empty(),
        )?))
    }

    /// Walk the tree and return every path below the root.
    pub fn walk(&self) -> Result<Vec<Node>> {
        let found = Mutex::new(Vec::new());
        let failure = Mutex::new(None);
        rayon::scope(|scope| self.walk_dir(scope, PathBuf::new(), &found, &failure));
        if let Some(error) = failure.into_inner().expect("walk lock") {
            return Err(error);
        }
        Ok(found.into_inner().expect("walk lock"))
    }

    fn walk_dir<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        relative: PathBuf,
        found: &'s Mutex<Vec<Node>>,
        failure: &'s Mutex<Option<Error>>,
    ) {
        if failure.lock().expect("walk lock").is_some() {
            return;
        }
        match self.read_dir(scope, &relative, found, failure) {
            Ok(nodes) => found.lock().expect("walk lock").extend(nodes),
            Err(error) => {
                failure.lock().expect("walk lock").get_or_insert(error);
            }
        }
    }

    /// Read one directory: its own node (unless it is the root) and its non-directory
    /// children; subdirectories are handed to new tasks.
    fn read_dir<'s>(
        &'s self,
        scope: &rayon::Scope<'s>,
        relative: &Path,
        found: &'s Mutex<Vec<Node>>,
        failure: &'s Mutex<Option<Error>>,
    ) -> Result<Vec<Node>> {
        let full_dir = self.root.join(relative);
        let io_error = |path: &Path, e: rustix::io::Errno| Error::io(path, e.into());
        let dir_fd = self
            .open_dir(relative)
            .map_err(|e| Error::io(&full_dir, e))?;
        let mut nodes = Vec::new();
        let mut empty = true;
        let entries = Dir::read_from(&dir_fd).map_err(|e| io_error(&full_dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&full_dir, e))?;
            let name = entry.file_name();
            if name.to_bytes() == b"." || name.to_bytes() == b".." {
                continue;
            }
            empty = false;
            let child = relative.join(OsStr::from_bytes(name.to_bytes()));
            let full = || self.root.join(&child);
            let mut file_type = entry.file_type();
            let mut stamp = None;
            if matches!(file_type, FileType::RegularFile | FileType::Unknown) {
                let stat = rustix::fs::statat(&dir_fd, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| io_error(&full(), e))?;
                file_type = FileType::from_raw_mode(stat.st_mode);
                stamp = Some(Stamp::from_stat(&stat));
            }
            let kind = match file_type {
                FileType::Directory => {
                    scope.spawn(move |scope| self.walk_dir(scope, child, found, failure));
                    continue;
                }
                FileType::RegularFile => match stamp {
                    Some(stamp) => NodeKind::File {
                        size: stamp.size(),
                        stamp,
                    },
                    None => unreachable!("regular files are stat'ed above"),
                },
                FileType::Symlink => {
                    let target = rustix::fs::readlinkat(&dir_fd, name, Vec::new())
                        .map_err(|e| io_error(&full(), e))?;
                    let target = match std::str::from_utf8(target.to_bytes()) {
                        Ok(text) => Ok(text.to_string()),
                        Err(_) => Err(entry_path::escape_bytes(target.to_bytes())),
                    };
                    NodeKind::Symlink { target }
                }
                FileType::Fifo => NodeKind::Special("fifo"),
                FileType::Socket => NodeKind::Special("socket"),
                FileType::BlockDevice => NodeKind::Special("block device"),
                FileType::CharacterDevice => NodeKind::Special("character device"),
                FileType::Unknown => NodeKind::Special("unknown file type"),
            };
            nodes.push(self.node(child, kind));
        }
        if !relative.as_os_str().is_empty() {
            nodes.push(self.node(relative.to_path_buf(), NodeKind::Dir { empty }));
        }
        Ok(nodes)
    }

    fn node(&self, relative: PathBuf, kind: NodeKind) -> Node {
        match entry_path::relative_utf8(Path::new(""), &relative) {
            Ok(path) => Node {
                path,
                raw: None,
                kind,
                name_error: None,
            },
            Err(why) => Node {
                path: entry_path::escape_bytes(relative.as_os_str().as_bytes()),
                raw: Some(relative),
                kind,
                name_error: Some(why),
            },
        }
    }
}

/// `openat` of one name; when a directory was asked for (`O_DIRECTORY | O_NOFOLLOW`) and
/// the name is a symlink, the kernel says "not a directory": report it as openat2 does, as
/// a symlink met on the way (ELOOP).
fn open_refusing_symlink(dir: &OwnedFd, name: &OsStr, flags: OFlags) -> std::io::Result<OwnedFd> {
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Err(rustix::io::Errno::NOTDIR)
            if flags.contains(OFlags::DIRECTORY)
                && rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink) =>
        {
            Err(rustix::io::Errno::LOOP.into())
        }
        other => Ok(other?),
    }
}

/// The errno for "leaves the tree" (what openat2 with RESOLVE_BENEATH reports).
fn libc_exdev() -> i32 {
    rustix::io::Errno::XDEV.raw_os_error()
}

/// Judge directory emptiness on the nodes that are left after excluded paths were dropped:
/// a directory is empty when no remaining node lies directly in it (issue 12 item 16), so
/// a directory that holds only excluded paths is empty, whether they are there or not.
pub fn judge_emptiness(nodes: &mut [Node]) {
    let empty: Vec<bool> = {
        let parents: std::collections::HashSet<&str> = nodes
            .iter()
            .filter_map(|n| n.path.rsplit_once('/').map(|(parent, _)| parent))
            .collect();
        nodes
            .iter()
            .map(|n| !parents.contains(n.path.as_str()))
            .collect()
    };
    for (node, now_empty) in nodes.iter_mut().zip(empty) {
        if let NodeKind::Dir { empty } = &mut node.kind {
            *empty = now_empty;
        }
    }
}

/// Open `root` and walk it (see [`Tree::walk`]).
pub fn walk(root: &Path) -> Result<(Tree, Vec<Node>)> {
    let tree = Tree::open(root)?;
    let nodes = tree.walk()?;
    Ok((tree, nodes))
}
