//! Whether a run folder has stopped changing: a fingerprint of every path in it, its
//! type, size, modification and status-change times (`ctime`, which no copying tool can
//! set back), compared between looks `--settle` apart.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A digest of what a folder holds and when each part last changed. Two equal
/// fingerprints taken some time apart mean nothing was added, removed, renamed, written
/// or had its status changed in between (to the file system's time resolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// BLAKE3 over each path's relative name, type, size, mtime and ctime, in name order.
    pub digest: [u8; 32],
    /// Regular files seen.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
}

/// Take the fingerprint of `dir` (symbolic links are recorded, never followed). An I/O
/// error (a file removed during the walk, say) is returned: the caller counts it as
/// "still changing".
pub fn fingerprint(dir: &Path) -> std::io::Result<Fingerprint> {
    let mut hasher = blake3::Hasher::new();
    let mut files = 0u64;
    let mut bytes = 0u64;
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(std::io::Error::other)?;
        let meta = entry.metadata().map_err(std::io::Error::other)?;
        let relative = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let name = relative.as_os_str().as_encoded_bytes();
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name);
        hasher.update(&meta.mode().to_le_bytes());
        hasher.update(&meta.len().to_le_bytes());
        for time in [
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
        ] {
            hasher.update(&time.to_le_bytes());
        }
        if meta.is_file() {
            files += 1;
            bytes = bytes.saturating_add(meta.len());
        }
    }
    Ok(Fingerprint {
        digest: *hasher.finalize().as_bytes(),
        files,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_when_a_file_is_added_grown_or_touched_and_not_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), "1").unwrap();
        let first = fingerprint(dir.path()).unwrap();
        assert_eq!(first, fingerprint(dir.path()).unwrap());
        assert_eq!((first.files, first.bytes), (1, 1));
        std::fs::write(dir.path().join("b"), "22").unwrap();
        let second = fingerprint(dir.path()).unwrap();
        assert_ne!(first, second);
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("b"))
            .unwrap();
        assert_eq!(second, fingerprint(dir.path()).unwrap());
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("b"))
            .unwrap();
        std::io::Write::write_all(&mut &file, b"3").unwrap();
        let third = fingerprint(dir.path()).unwrap();
        assert_ne!(second, third);
        assert_eq!((third.files, third.bytes), (2, 4));
    }
}
