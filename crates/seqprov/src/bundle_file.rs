//! Bundle and proof files on disk: the default bundle path beside a directory, bounded
//! reads, and atomic writes (temporary file, fsync, rename, fsync of the directory).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use seqprov_format::Bundle;
use seqprov_format::bundle::{BUNDLE_SUFFIX, MAX_BUNDLE_BYTES};
use seqprov_format::proof::{self, MAX_PROOF_BYTES, ProofItem};

use crate::error::{Error, Result};

/// Read a bundle or proof file: a regular file (a FIFO, device or directory is refused,
/// exit 2, without blocking or reading it) of at most `limit` bytes (more is a malformed
/// bundle, exit 1, as it always was). `what` names it in the message.
fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    match seqprov_engine::bounded_read::read_regular_file(path, limit) {
        Ok(file) => Ok(file.bytes),
        Err(seqprov_engine::EngineError::TooLarge { .. }) => Err(Error::Malformed(format!(
            "{what} {} is more than the limit of {limit} bytes",
            path.display()
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Read and parse a bundle file (at most [`MAX_BUNDLE_BYTES`], a regular file). The
/// seal's signature (under the key it names; trust is judged later) is checked before
/// the entry list is decoded: a bundle whose seal does not verify is returned without its
/// entries ([`RootEvidence::NotDecoded`]), so a forged bundle costs no memory for them,
/// and its report says the signature is invalid.
///
/// [`RootEvidence::NotDecoded`]: seqprov_format::bundle::RootEvidence::NotDecoded
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let bytes = read_bounded(path, MAX_BUNDLE_BYTES, "bundle")?;
    parse_bundle(&bytes)
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
/// [`seqprov_format::proof::parse`]); at most [`MAX_PROOF_BYTES`], a regular file.
pub fn read_proof(path: &Path) -> Result<(Bundle, Vec<ProofItem>)> {
    let bytes = read_bounded(path, MAX_PROOF_BYTES, "proof")?;
    Ok(proof::parse(&bytes)?)
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
/// rename, fsync of the directory. Nothing partial is ever visible at `path`.
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
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if overwrite == Overwrite::Refuse && fs::symlink_metadata(path).is_ok() {
        return Err(Error::Refused(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        )));
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".seqprov-")
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    // Set the mode on the open file: unlike the creation mode, this is not narrowed by
    // the umask, so an appended bundle keeps exactly the mode it had.
    temp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| Error::io(temp.path(), e))?;
    temp.write_all(bytes)
        .map_err(|e| Error::io(temp.path(), e))?;
    temp.as_file()
        .sync_all()
        .map_err(|e| Error::io(temp.path(), e))?;
    match overwrite {
        Overwrite::Replace => temp
            .persist(path)
            .map(drop)
            .map_err(|e| Error::io(path, e.error))?,
        Overwrite::Refuse => temp.persist_noclobber(path).map(drop).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Refused(format!(
                    "{} already exists; pass --force to replace it",
                    path.display()
                ))
            } else {
                Error::io(path, e.error)
            }
        })?,
    }
    let dir = fs::File::open(&parent).map_err(|e| Error::io(&parent, e))?;
    dir.sync_all().map_err(|e| Error::io(&parent, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
