//! Reading a small file a user named (a bundle, a proof, a key, a policy) safely: the
//! path must open as a regular file, and no more than a stated limit is ever read.
//!
//! `fs::metadata(path).len()` says nothing about a FIFO, a device or a symlink to one
//! (their length is 0), so a size check before `fs::read` does not bound the read: a FIFO
//! blocks forever and `/dev/zero` fills memory. Here the path is opened with `O_NONBLOCK`
//! (opening a FIFO never waits for a writer) and `O_CLOEXEC`, the *opened handle* is
//! checked with `fstat` to be a regular file, and at most `limit + 1` bytes are read from
//! it, so a file that grows after the check is still refused. A symlink is followed (the
//! user named the path), but what it leads to must be a regular file.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{EngineError, Result};

/// A file read by [`read_regular_file`]: its bytes and the `fstat` of the handle they
/// were read from (for a permission check on the very file read).
#[derive(Debug)]
pub struct BoundedFile {
    /// The whole content, at most the limit asked for.
    pub bytes: Vec<u8>,
    /// The metadata of the opened handle.
    pub metadata: Metadata,
}

/// Open `path` (following a symlink) without blocking, and refuse it with
/// [`EngineError::NotRegularFile`] unless the opened handle is a regular file.
///
/// The handle is opened read-only with `O_NONBLOCK | O_CLOEXEC`; on a regular file
/// `O_NONBLOCK` has no effect on reads.
pub fn open_regular_file(path: &Path) -> Result<(File, Metadata)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| EngineError::io(path, e))?;
    let metadata = file.metadata().map_err(|e| EngineError::io(path, e))?;
    if !metadata.is_file() {
        return Err(EngineError::NotRegularFile {
            path: path.to_path_buf(),
            kind: kind_of(&metadata.file_type()),
        });
    }
    Ok((file, metadata))
}

/// Read at most `limit` bytes from an already opened `file` (named `path` in errors):
/// `limit + 1` bytes are asked for, and getting them is [`EngineError::TooLarge`].
pub fn read_at_most(file: &mut File, path: &Path, limit: u64, size_hint: u64) -> Result<Vec<u8>> {
    let capacity = size_hint.min(limit).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| EngineError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(EngineError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// Read the regular file at `path`, refusing anything else and anything larger than
/// `limit` bytes: [`open_regular_file`] then [`read_at_most`].
///
/// Errors: [`EngineError::Io`] when it cannot be opened or read,
/// [`EngineError::NotRegularFile`] for a FIFO, device, directory or socket (or a symlink
/// to one), [`EngineError::TooLarge`] when it holds more than `limit` bytes.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<BoundedFile> {
    let (mut file, metadata) = open_regular_file(path)?;
    let bytes = read_at_most(&mut file, path, limit, metadata.len())?;
    Ok(BoundedFile { bytes, metadata })
}

/// What a file that is not a regular file is, in words.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_regular_file(&path, 10).unwrap().bytes, b"0123456789");
        assert_eq!(read_regular_file(&path, 11).unwrap().bytes, b"0123456789");
        let err = read_regular_file(&path, 9).unwrap_err();
        assert!(
            matches!(&err, EngineError::TooLarge { limit: 9, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("9 bytes"), "{err}");
        assert_eq!(read_regular_file(&path, 0).unwrap_err().to_string(), {
            format!("{}: larger than the limit of 0 bytes", path.display())
        });
    }

    #[test]
    fn an_endless_device_is_refused_without_reading() {
        let err = read_regular_file(Path::new("/dev/zero"), 16).unwrap_err();
        assert!(
            matches!(
                &err,
                EngineError::NotRegularFile {
                    kind: "a character device",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_fifo_and_a_symlink_to_it_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        for path in [&fifo, &link] {
            let err = read_regular_file(path, 16).unwrap_err();
            assert!(
                matches!(
                    &err,
                    EngineError::NotRegularFile {
                        kind: "a FIFO (named pipe)",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        let err = read_regular_file(dir.path(), 16).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[test]
    fn a_symlink_to_a_regular_file_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"key").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let read = read_regular_file(&link, 3).unwrap();
        assert_eq!(read.bytes, b"key");
        assert!(read.metadata.is_file());
    }
}
