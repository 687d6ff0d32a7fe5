//! Writing and removing files inside a log directory through opened directory handles.
//!
//! Whoever can write to a log directory could plant a symbolic link where the log writes:
//! `public/.checkpoint.tmp` pointing at a file elsewhere (a path-based create would
//! truncate and overwrite it), or `public/tile` pointing at a directory elsewhere (tiles
//! would be written, and stale ones removed, there). So every directory below the log
//! root is opened with `openat(O_DIRECTORY | O_NOFOLLOW)` from its opened parent (a
//! symbolic link or anything but a directory is refused), created with `mkdirat` when
//! missing, and every file is created, renamed and removed relative to such a handle: a
//! temporary name is first unlinked (a planted link removed, never followed), then
//! created with `O_CREAT | O_EXCL | O_NOFOLLOW`. The log root itself is the operator's
//! choice and is opened as named.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::LogError;

/// Directory handles under one log root, opened on first use and kept for the writer's
/// life, and the directories changed since the last [`DirWriter::sync`].
pub(crate) struct DirWriter {
    root: PathBuf,
    /// Opened directories by their path relative to the root (`""` is the root).
    dirs: BTreeMap<PathBuf, OwnedFd>,
    /// Directories (relative) whose entries changed: fsynced by [`DirWriter::sync`].
    changed: BTreeSet<PathBuf>,
}

/// A file written to its temporary name, not yet renamed into place.
pub(crate) struct StagedFile {
    /// The open temporary file.
    pub(crate) file: File,
    dir: PathBuf,
    temp: OsString,
    name: OsString,
}

fn io_error(path: &Path, source: std::io::Error) -> LogError {
    LogError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn errno_error(path: &Path, errno: Errno) -> LogError {
    io_error(path, errno.into())
}

/// The temporary name of `name`: `.<name>.tmp` beside it.
pub(crate) fn temp_name(name: &OsStr) -> OsString {
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(".tmp");
    temp
}

/// Splits a relative file path into its directory and its final name; refuses anything
/// but plain components.
fn split(rel: &Path) -> Result<(PathBuf, OsString), LogError> {
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    match (plain, rel.parent(), rel.file_name()) {
        (true, Some(dir), Some(name)) => Ok((dir.to_path_buf(), name.to_owned())),
        _ => Err(io_error(
            rel,
            std::io::Error::other("is not a plain relative path inside the log directory"),
        )),
    }
}

/// Why an opened file may not be written in place (appended to, or truncated and
/// rewritten), if it may not: it is not a regular file, or it has another name (a hard
/// link, possibly outside the log directory, which would be written too).
fn not_writable_in_place(stat: &rustix::fs::Stat) -> Option<String> {
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        Some("is not a regular file (refused)".to_owned())
    } else if stat.st_nlink != 1 {
        Some(format!(
            "has {} names (a hard link), not a file of the log's own (refused)",
            stat.st_nlink
        ))
    } else {
        None
    }
}

impl DirWriter {
    /// A writer for the log directory `root` (opened as named).
    pub(crate) fn new(root: &Path) -> Result<DirWriter, LogError> {
        let fd = rustix::fs::open(
            root,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| errno_error(root, e))?;
        Ok(DirWriter {
            root: root.to_path_buf(),
            dirs: BTreeMap::from([(PathBuf::new(), fd)]),
            changed: BTreeSet::new(),
        })
    }

    /// Forgets the opened directories but the root, so that the next use opens (and
    /// checks) each again: called before each batch, so that a directory replaced by a
    /// symbolic link between batches is refused rather than its old handle written
    /// through.
    pub(crate) fn forget_dirs(&mut self) {
        self.dirs.retain(|rel, _| rel.as_os_str().is_empty());
    }

    /// Opens the directory `rel` (relative to the root) one component at a time without
    /// following a symbolic link, creating missing ones when `create` is set. `None`
    /// when one is missing and `create` is not set.
    fn open_dir(&mut self, rel: &Path, create: bool) -> Result<Option<&OwnedFd>, LogError> {
        let mut at = PathBuf::new();
        for component in rel.components() {
            let Component::Normal(name) = component else {
                return Err(io_error(
                    rel,
                    std::io::Error::other("is not a plain relative path"),
                ));
            };
            let next = at.join(name);
            if !self.dirs.contains_key(&next) {
                let parent = &self.dirs[&at];
                let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
                let opened = match rustix::fs::openat(parent, name, flags, Mode::empty()) {
                    Err(Errno::NOENT) if create => {
                        match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)) {
                            Ok(()) | Err(Errno::EXIST) => {}
                            Err(e) => return Err(errno_error(&self.root.join(&next), e)),
                        }
                        self.changed.insert(at.clone());
                        rustix::fs::openat(parent, name, flags, Mode::empty())
                    }
                    Err(Errno::NOENT) => return Ok(None),
                    other => other,
                };
                let fd = match opened {
                    Ok(fd) => fd,
                    Err(Errno::LOOP | Errno::NOTDIR) => {
                        return Err(self.not_a_directory(&at, name, &next));
                    }
                    Err(e) => return Err(errno_error(&self.root.join(&next), e)),
                };
                self.dirs.insert(next.clone(), fd);
            }
            at = next;
        }
        Ok(self.dirs.get(&at))
    }

    /// The error for `rel` (named `name` in the directory `parent`), which is not a
    /// directory: a symbolic link or another kind of file.
    fn not_a_directory(&self, parent: &Path, name: &OsStr, rel: &Path) -> LogError {
        let kind = match rustix::fs::statat(&self.dirs[parent], name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink => {
                "a symbolic link"
            }
            _ => "not a directory",
        };
        io_error(
            &self.root.join(rel),
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("is {kind} where the log keeps a directory (refused)"),
            ),
        )
    }

    /// Writes `bytes` to the temporary name of the file `rel` (its directories created):
    /// whatever had that temporary name is unlinked first, and the new file is created
    /// exclusively, never through a link. Not yet fsynced or renamed.
    pub(crate) fn stage(&mut self, rel: &Path, bytes: &[u8]) -> Result<StagedFile, LogError> {
        use std::io::Write as _;
        let (dir, name) = split(rel)?;
        let temp = temp_name(&name);
        let temp_path = self.root.join(&dir).join(&temp);
        let dir_fd = self
            .open_dir(&dir, true)?
            .expect("open_dir with create returns a directory");
        match rustix::fs::unlinkat(dir_fd, &temp, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(errno_error(&temp_path, e)),
        }
        let fd = rustix::fs::openat(
            dir_fd,
            &temp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(|e| errno_error(&temp_path, e))?;
        let mut file = File::from(fd);
        file.write_all(bytes).map_err(|e| io_error(&temp_path, e))?;
        Ok(StagedFile {
            file,
            dir,
            temp,
            name,
        })
    }

    /// Renames an already fsynced temporary file into place.
    fn rename_into_place(
        &mut self,
        dir: &Path,
        temp: &OsStr,
        name: &OsStr,
    ) -> Result<(), LogError> {
        let dir_path = self.root.join(dir);
        let dir_fd = self
            .open_dir(dir, false)?
            .ok_or_else(|| io_error(&dir_path, std::io::ErrorKind::NotFound.into()))?;
        rustix::fs::renameat(dir_fd, temp, dir_fd, name)
            .map_err(|e| errno_error(&dir_path.join(name), e))?;
        self.changed.insert(dir.to_path_buf());
        Ok(())
    }

    /// Fsyncs every staged file, then renames each into place (none is renamed before
    /// every fsync succeeded).
    pub(crate) fn publish_all(&mut self, staged: Vec<StagedFile>) -> Result<(), LogError> {
        for file in &staged {
            file.file
                .sync_all()
                .map_err(|e| io_error(&self.root.join(&file.dir).join(&file.temp), e))?;
        }
        self.rename_all(staged)
    }

    /// Renames every staged file into place without fsyncing it: for files whose content
    /// is durable elsewhere (the log's journal) until [`DirWriter::sync_filesystem`].
    pub(crate) fn rename_all(&mut self, staged: Vec<StagedFile>) -> Result<(), LogError> {
        for file in staged {
            drop(file.file);
            self.rename_into_place(&file.dir, &file.temp, &file.name)?;
        }
        Ok(())
    }

    /// Opens the existing regular file `rel` for appending, never through a symbolic link
    /// or a hard link (a link, FIFO, anything but a regular file, or a file with another
    /// name there is an error).
    pub(crate) fn open_append(&mut self, rel: &Path) -> Result<File, LogError> {
        let (dir, name) = split(rel)?;
        let path = self.root.join(rel);
        let dir_fd = self
            .open_dir(&dir, false)?
            .ok_or_else(|| io_error(&path, std::io::ErrorKind::NotFound.into()))?;
        let fd = rustix::fs::openat(
            dir_fd,
            &name,
            OFlags::WRONLY | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::LOOP => io_error(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "is a symbolic link, not a regular file (refused)",
                ),
            ),
            e => errno_error(&path, e),
        })?;
        let stat = rustix::fs::fstat(&fd).map_err(|e| errno_error(&path, e))?;
        if let Some(refused) = not_writable_in_place(&stat) {
            return Err(io_error(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, refused),
            ));
        }
        rustix::fs::fcntl_setfl(&fd, OFlags::APPEND).map_err(|e| errno_error(&path, e))?;
        Ok(File::from(fd))
    }

    /// Replaces the file `rel` with `bytes` without creating or deleting an inode: the
    /// spare file `spare` (in the same file system) is rewritten in place and then swapped
    /// with `rel` by one `renameat2(RENAME_EXCHANGE)`, so that readers of `rel` see the old
    /// file or the new one, whole; the spare then holds the old content. Not fsynced (for
    /// a file the journal can rebuild). Why: every file a batch deletes (the old file a
    /// rename replaces) stays "recently deleted" in ext4 for a while, and the inode
    /// allocator scans past each one when creating a file; with one deleted per batch this
    /// took a quarter of the log server's CPU (benches/README.md, "Transparency log").
    ///
    /// A spare that is missing, a symbolic link, not a regular file, a file with another
    /// name (a hard link) or a file another user owns is unlinked and created afresh
    /// (`O_EXCL`; a directory there is an error); on a file system
    /// without `RENAME_EXCHANGE`, or when `rel` does not exist yet, the spare is renamed
    /// into place instead.
    pub(crate) fn exchange_into(
        &mut self,
        rel: &Path,
        spare: &Path,
        bytes: &[u8],
    ) -> Result<(), LogError> {
        use std::io::Write as _;
        let (dir, name) = split(rel)?;
        let (spare_dir, spare_name) = split(spare)?;
        let spare_path = self.root.join(spare);
        let spare_fd = self
            .open_dir(&spare_dir, true)?
            .expect("open_dir with create returns a directory");
        let reuse = rustix::fs::openat(
            spare_fd,
            &spare_name,
            OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()
        // Regression (hostile review 2): a regular file of one name planted at a spare by
        // whoever could write the log directory was rewritten and swapped in as
        // `public/checkpoint`, and stayed in the ring for good: its owner, holding it open
        // or able to chmod it, could rewrite the published checkpoint at any time, even
        // after losing write access to the directory. Only a file the log's own user owns
        // is reused.
        .filter(|fd| {
            rustix::fs::fstat(fd).is_ok_and(|stat| {
                not_writable_in_place(&stat).is_none()
                    && stat.st_uid == rustix::process::geteuid().as_raw()
            })
        });
        let fd = match reuse {
            Some(fd) => {
                rustix::fs::ftruncate(&fd, 0).map_err(|e| errno_error(&spare_path, e))?;
                fd
            }
            None => {
                match rustix::fs::unlinkat(spare_fd, &spare_name, AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => {}
                    Err(e) => return Err(errno_error(&spare_path, e)),
                }
                rustix::fs::openat(
                    spare_fd,
                    &spare_name,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o644),
                )
                .map_err(|e| errno_error(&spare_path, e))?
            }
        };
        let mut file = File::from(fd);
        file.write_all(bytes)
            .map_err(|e| io_error(&spare_path, e))?;
        drop(file);
        let target = self.root.join(rel);
        self.open_dir(&dir, true)?;
        let dir_fd = &self.dirs[&dir];
        let spare_fd = &self.dirs[&spare_dir];
        let exchanged = rustix::fs::renameat_with(
            spare_fd,
            &spare_name,
            dir_fd,
            &name,
            rustix::fs::RenameFlags::EXCHANGE,
        );
        match exchanged {
            Ok(()) => {}
            Err(Errno::NOENT | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
                rustix::fs::renameat(spare_fd, &spare_name, dir_fd, &name)
                    .map_err(|e| errno_error(&target, e))?;
            }
            Err(e) => return Err(errno_error(&target, e)),
        }
        self.changed.insert(dir);
        self.changed.insert(spare_dir);
        Ok(())
    }

    /// Makes everything written under the root durable with one `syncfs(2)` of its file
    /// system (file contents, renames and directories alike), and forgets the directories
    /// changed so far (they are durable too).
    pub(crate) fn sync_filesystem(&mut self) -> Result<(), LogError> {
        rustix::fs::syncfs(&self.dirs[Path::new("")]).map_err(|e| errno_error(&self.root, e))?;
        self.changed.clear();
        Ok(())
    }

    /// Writes the file `rel` durably: staged, fsynced, renamed (its directory is fsynced by
    /// [`DirWriter::sync`]).
    pub(crate) fn write(&mut self, rel: &Path, bytes: &[u8]) -> Result<(), LogError> {
        let staged = self.stage(rel, bytes)?;
        self.publish_all(vec![staged])
    }

    /// Removes the file (or symbolic link) `rel` if it exists; whether it did. A missing
    /// directory on the way means it does not exist; a symbolic link on the way is an
    /// error.
    pub(crate) fn remove(&mut self, rel: &Path) -> Result<bool, LogError> {
        let (dir, name) = split(rel)?;
        let Some(dir_fd) = self.open_dir(&dir, false)? else {
            return Ok(false);
        };
        match rustix::fs::unlinkat(dir_fd, &name, AtFlags::empty()) {
            Ok(()) => {
                self.changed.insert(dir);
                Ok(true)
            }
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(errno_error(&self.root.join(rel), e)),
        }
    }

    /// Whether the directory `rel` exists (a symbolic link there is an error).
    pub(crate) fn dir_exists(&mut self, rel: &Path) -> Result<bool, LogError> {
        Ok(self.open_dir(rel, false)?.is_some())
    }

    /// Fsyncs every directory changed since the last call.
    pub(crate) fn sync(&mut self) -> Result<(), LogError> {
        for dir in std::mem::take(&mut self.changed) {
            let dir_path = self.root.join(&dir);
            let fd = self
                .open_dir(&dir, false)?
                .ok_or_else(|| io_error(&dir_path, std::io::ErrorKind::NotFound.into()))?;
            rustix::fs::fsync(fd).map_err(|e| errno_error(&dir_path, e))?;
        }
        Ok(())
    }
}
