//! Bundle and proof files on disk: the default bundle path beside a directory, bounded
//! reads, and atomic writes (temporary file, fsync, rename, fsync of the directory), all
//! relative to the output directory opened once ([`OutputDir`]).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};

use seqprov_format::Bundle;
use seqprov_format::bundle::{BUNDLE_SUFFIX, MAX_BUNDLE_BYTES, ReadError};
use seqprov_format::proof::{self, MAX_PROOF_BYTES};

use crate::error::{Error, Result};

/// Read a bundle or proof file: a regular file (a FIFO, device or directory is refused,
/// exit 2, without blocking or reading it) of at most `limit` bytes (more is a malformed
/// bundle, exit 1, as it always was). `what` names it in the message.
fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    match seqprov_engine::bounded_read::read_regular_file(path, limit) {
        Ok(file) => Ok(file.bytes),
        Err(seqprov_engine::EngineError::TooLarge { .. }) => Err(too_large(path, limit, what)),
        Err(e) => Err(e.into()),
    }
}

fn too_large(path: &Path, limit: u64, what: &str) -> Error {
    Error::Malformed(format!(
        "{what} {} is more than the limit of {limit} bytes",
        path.display()
    ))
}

/// Read and parse a bundle file (at most [`MAX_BUNDLE_BYTES`], a regular file). The
/// seal's signature (under the key it names; trust is judged later) is checked before
/// the entry list is decoded: a bundle whose seal does not verify is returned without its
/// entries ([`RootEvidence::NotDecoded`]), so a forged bundle costs no memory for them,
/// and its report says the signature is invalid.
///
/// [`RootEvidence::NotDecoded`]: seqprov_format::bundle::RootEvidence::NotDecoded
///
/// The file is read as a stream ([`Bundle::read_from`]): its bytes are not held beside
/// the decoded entries, so reading a bundle costs about its decoded size.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let (file, metadata) = seqprov_engine::bounded_read::open_regular_file(path)?;
    if metadata.len() > MAX_BUNDLE_BYTES {
        return Err(too_large(path, MAX_BUNDLE_BYTES, "bundle"));
    }
    let reader = std::io::BufReader::with_capacity(
        1 << 16,
        NoGrowth {
            inner: file,
            left: metadata.len(),
        },
    );
    Bundle::read_from(
        reader,
        metadata.len(),
        crate::integrity::seal_signature_holds,
    )
    .map_err(|e| match e {
        ReadError::Format(e) => e.into(),
        ReadError::Io(e) => Error::io(path, e),
    })
}

/// A file read no further than the length its handle had when it was opened: a byte
/// beyond it means the file is being written to (or is not what its metadata says, as a
/// `/proc` file), and is an error, so a file that grows while it is read is refused
/// without being read on, not read up to [`MAX_BUNDLE_BYTES`].
struct NoGrowth<R> {
    inner: R,
    /// Bytes left of the length the file had when it was opened.
    left: u64,
}

impl<R: Read> Read for NoGrowth<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(
                    "the file holds more than the length it had when it was opened \
                     (is it being written to?)",
                )),
            };
        }
        let max = usize::try_from(self.left).map_or(buf.len(), |left| left.min(buf.len()));
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Parse bundle bytes, checking the seal's signature before decoding the entry list (see
/// [`read_bundle`]).
pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle> {
    Ok(Bundle::parse_checking_seal_first(
        bytes,
        crate::integrity::seal_signature_holds,
    )?)
}

/// Read and parse a proof file into a [`Bundle`] holding only the disclosed entries (see
/// [`seqprov_format::proof::parse_bundle`]); at most [`MAX_PROOF_BYTES`], a regular file.
pub fn read_proof(path: &Path) -> Result<Bundle> {
    let bytes = read_bounded(path, MAX_PROOF_BYTES, "proof")?;
    Ok(proof::parse_bundle(&bytes)?)
}

/// The default bundle path for a directory: `DIR.seqprov` beside it.
pub fn default_bundle_path(dir: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    let name = absolute
        .components()
        .next_back()
        .and_then(|c| match c {
            std::path::Component::Normal(name) => Some(name.to_owned()),
            _ => None,
        })
        .ok_or_else(|| {
            Error::Refused(format!(
                "{} has no name to derive a bundle name from; name the bundle explicitly",
                dir.display()
            ))
        })?;
    let mut file = name;
    file.push(".");
    file.push(BUNDLE_SUFFIX);
    Ok(absolute.parent().unwrap_or(Path::new("/")).join(file))
}

/// Whether an existing bundle may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse if the destination exists.
    Refuse,
    /// Replace it atomically.
    Replace,
}

/// Write `bytes` to `path` atomically: temporary file in the same directory, fsync,
/// rename, fsync of the directory. Nothing partial is ever visible at `path`. The
/// directory is opened once ([`OutputDir`]) and everything after goes through that handle.
pub fn write_atomically(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    write_atomically_with_mode(path, bytes, overwrite, 0o644)
}

/// [`write_atomically`] with the permission bits the new file gets.
pub fn write_atomically_with_mode(
    path: &Path,
    bytes: &[u8],
    overwrite: Overwrite,
    mode: u32,
) -> Result<()> {
    OutputDir::open(path)?.write(bytes, overwrite, mode)
}

/// The directory an output file goes to, opened once: the path's parent is resolved when
/// it is opened (symbolic links on the way are followed then), and from then on only the
/// handle is used, so swapping the directory's path for a symlink (into the sealed folder,
/// say) cannot move the output. See `spec/cli.md` §1 (writing files).
#[derive(Debug)]
pub struct OutputDir {
    /// The opened directory.
    fd: OwnedFd,
    /// The output path as given (for messages).
    path: PathBuf,
    /// The file's name in the directory (one component).
    name: OsString,
}

/// A directory's identity: device and inode.
fn identity(fd: impl AsFd) -> std::io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(fd)?;
    Ok((st.st_dev as u64, st.st_ino as u64))
}

impl OutputDir {
    /// Open the directory of the output file `path` (its parent, or `.`).
    pub fn open(path: &Path) -> Result<OutputDir> {
        let name = match path.file_name() {
            Some(name)
                if path
                    .components()
                    .next_back()
                    .is_some_and(|c| matches!(c, std::path::Component::Normal(_))) =>
            {
                name.to_owned()
            }
            _ => {
                return Err(Error::Refused(format!(
                    "{} does not name a file to write",
                    path.display()
                )));
            }
        };
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let fd = rustix::fs::open(
            &parent,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(&parent, e.into()))?;
        Ok(OutputDir {
            fd,
            path: path.to_path_buf(),
            name,
        })
    }

    /// The output path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Refuse (exit 2) if the opened directory is the directory `tree` (opened now, as the
    /// walk opens it) or lies anywhere inside it: walk up from the handle through `..`,
    /// comparing device and inode with the tree's, up to the file system's root.
    pub fn check_outside(&self, tree: &Path) -> Result<()> {
        self.check_outside_as(tree, "bundle", "sealed")
    }

    /// [`OutputDir::check_outside`], naming the output `what` (`plan`, `part`) and the
    /// tree `tree_word` (`planned`) in the refusal.
    pub fn check_outside_as(&self, tree: &Path, what: &str, tree_word: &str) -> Result<()> {
        let tree_fd = rustix::fs::open(
            tree,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(tree, e.into()))?;
        let tree_id = identity(&tree_fd).map_err(|e| Error::io(tree, e))?;
        let mut current = rustix::fs::openat(
            &self.fd,
            ".",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(&self.path, e.into()))?;
        // A bound on the depth, should `..` ever loop.
        for _ in 0..4096 {
            let here = identity(&current).map_err(|e| Error::io(&self.path, e))?;
            if here == tree_id {
                return Err(Error::Refused(format!(
                    "the {what} {} would be written inside the {tree_word} directory {}; \
                     choose another --out",
                    self.path.display(),
                    tree.display()
                )));
            }
            let up = rustix::fs::openat(
                &current,
                "..",
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| Error::io(&self.path, e.into()))?;
            if identity(&up).map_err(|e| Error::io(&self.path, e))? == here {
                return Ok(());
            }
            current = up;
        }
        Err(Error::Refused(format!(
            "{}: its directory is nested too deep to check where it lies",
            self.path.display()
        )))
    }

    /// Write `bytes` as the file, atomically, relative to the handle: a temporary file
    /// `.seqprov-XXXXXX.tmp` created with `O_CREAT | O_EXCL | O_NOFOLLOW`, given `mode`,
    /// written, fsynced, renamed to the name (without replacing an existing file unless
    /// `overwrite` is [`Overwrite::Replace`]), then the directory fsynced.
    pub fn write(&self, bytes: &[u8], overwrite: Overwrite, mode: u32) -> Result<()> {
        let exists = || {
            Error::Refused(format!(
                "{} already exists; pass --force to replace it",
                self.path.display()
            ))
        };
        if overwrite == Overwrite::Refuse
            && rustix::fs::statat(&self.fd, &self.name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
        {
            return Err(exists());
        }
        let (temp_name, temp) = self.create_temporary()?;
        let temp_path = self.path.with_file_name(&temp_name);
        let written = (|| -> std::io::Result<()> {
            let mut file = fs::File::from(temp);
            // Set the mode on the open file: unlike the creation mode, this is not narrowed
            // by the umask, so an appended bundle keeps exactly the mode it had.
            rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))?;
            file.write_all(bytes)?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = rustix::fs::unlinkat(&self.fd, &temp_name, AtFlags::empty());
            return Err(Error::io(temp_path, e));
        }
        let renamed = match overwrite {
            Overwrite::Replace => rustix::fs::renameat(&self.fd, &temp_name, &self.fd, &self.name),
            Overwrite::Refuse => self.rename_noreplace(&temp_name),
        };
        if let Err(e) = renamed {
            let _ = rustix::fs::unlinkat(&self.fd, &temp_name, AtFlags::empty());
            if e == rustix::io::Errno::EXIST {
                return Err(exists());
            }
            return Err(Error::io(&self.path, e.into()));
        }
        rustix::fs::fsync(&self.fd).map_err(|e| Error::io(&self.path, e.into()))?;
        Ok(())
    }

    fn create_temporary(&self) -> Result<(OsString, OwnedFd)> {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for _ in 0..100 {
            let mut random = [0u8; 6];
            getrandom::getrandom(&mut random)
                .map_err(|e| Error::io(&self.path, std::io::Error::other(e.to_string())))?;
            let mut name = String::from(".seqprov-");
            name.extend(
                random
                    .iter()
                    .map(|b| LETTERS[*b as usize % LETTERS.len()] as char),
            );
            name.push_str(".tmp");
            match rustix::fs::openat(
                &self.fd,
                name.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            ) {
                Ok(fd) => return Ok((name.into(), fd)),
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(Error::io(self.path.with_file_name(&name), e.into())),
            }
        }
        Err(Error::io(
            &self.path,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free temporary name"),
        ))
    }

    /// Rename without replacing: `renameat2(RENAME_NOREPLACE)`, or, where the file system
    /// does not support it, a hard link (which never replaces) and the unlink of the
    /// temporary name.
    fn rename_noreplace(&self, temp_name: &OsStr) -> rustix::io::Result<()> {
        match rustix::fs::renameat_with(
            &self.fd,
            temp_name,
            &self.fd,
            &self.name,
            RenameFlags::NOREPLACE,
        ) {
            Err(
                rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::OPNOTSUPP,
            ) => {
                rustix::fs::linkat(&self.fd, temp_name, &self.fd, &self.name, AtFlags::empty())?;
                rustix::fs::unlinkat(&self.fd, temp_name, AtFlags::empty())
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_grows_while_it_is_read_is_refused() {
        let data = [7u8; 100];
        let mut exact = NoGrowth {
            inner: &data[..],
            left: 100,
        };
        let mut out = Vec::new();
        assert_eq!(exact.read_to_end(&mut out).unwrap(), 100);
        let mut grown = NoGrowth {
            inner: &data[..],
            left: 60,
        };
        let mut out = Vec::new();
        let err = grown.read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("being written to"), "{err}");
        assert_eq!(out.len(), 60);
    }

    /// A `/proc` file says it is 0 bytes long and yields more: refused (exit 2), not read
    /// as a bundle.
    #[test]
    fn a_file_longer_than_its_metadata_says_is_refused() {
        let err = read_bundle(Path::new("/proc/self/status")).unwrap_err();
        assert_eq!(err.exit_status().code(), 2, "{err}");
        assert!(err.to_string().contains("being written to"), "{err}");
    }

    #[test]
    fn default_bundle_path_strips_trailing_slash() {
        let p = default_bundle_path(Path::new("/data/run1/")).unwrap();
        assert_eq!(p, Path::new("/data/run1.seqprov"));
    }

    #[test]
    fn atomic_write_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.seqprov");
        write_atomically(&path, b"one", Overwrite::Refuse).unwrap();
        assert!(matches!(
            write_atomically(&path, b"two", Overwrite::Refuse),
            Err(Error::Refused(_))
        ));
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomically(&path, b"two", Overwrite::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    /// Issue 12 item 9: the output directory is opened once; swapping its path for a
    /// symlink into the sealed folder afterwards (as during hashing) cannot move the
    /// bundle there, and a directory inside the sealed folder is refused.
    #[test]
    fn output_written_through_the_handle_stays_out_of_a_swapped_in_folder() {
        let work = tempfile::tempdir().unwrap();
        let run = work.path().join("run");
        let out = work.path().join("out");
        fs::create_dir_all(run.join("sub")).unwrap();
        fs::create_dir(&out).unwrap();
        let output = OutputDir::open(&out.join("run.seqprov")).unwrap();
        output.check_outside(&run).unwrap();
        // The swap: `out` becomes a symlink into the sealed folder.
        fs::rename(&out, work.path().join("out.old")).unwrap();
        std::os::unix::fs::symlink(run.join("sub"), &out).unwrap();
        output.check_outside(&run).unwrap();
        output.write(b"bundle", Overwrite::Refuse, 0o644).unwrap();
        assert_eq!(
            fs::read(work.path().join("out.old/run.seqprov")).unwrap(),
            b"bundle"
        );
        assert!(
            !run.join("sub/run.seqprov").exists(),
            "nothing inside the folder"
        );
        assert_eq!(fs::read_dir(run.join("sub")).unwrap().count(), 0);
        // Opened now, through the symlink: it is inside the folder, refused.
        let inside = OutputDir::open(&out.join("run.seqprov")).unwrap();
        assert!(matches!(inside.check_outside(&run), Err(Error::Refused(_))));
        let the_folder = OutputDir::open(&run.join("run.seqprov")).unwrap();
        assert!(matches!(
            the_folder.check_outside(&run),
            Err(Error::Refused(_))
        ));
        // The directory moved into the folder after it was opened is found by `..`.
        let moving = work.path().join("moving");
        fs::create_dir(&moving).unwrap();
        let output = OutputDir::open(&moving.join("b.seqprov")).unwrap();
        fs::rename(&moving, run.join("sub/moved")).unwrap();
        assert!(matches!(output.check_outside(&run), Err(Error::Refused(_))));
    }
}
