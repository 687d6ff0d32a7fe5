//! Verified streaming of large files: a BLAKE3 (Bao) outboard tree per large file, so a
//! byte range can be checked against the sealed BLAKE3 digest without reading the rest.
//!
//! `seal --outboard` writes, beside the bundle, a directory `BUNDLE.outboard/` with one
//! `<blake3 hex>.obao` file per regular file of at least [`OUTBOARD_MIN_BYTES`]: the Bao
//! outboard encoding (the interior nodes of the BLAKE3 tree, pre-order, after an 8-byte
//! length), computed from the same chunks the engine hashes. It costs 64 bytes per 1 KiB
//! chunk, about 6.25 % of the file's size, plus 8 bytes. The files need no signature:
//! the sealed BLAKE3 digest is the tree's root, so a forged outboard cannot verify.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::chunk_sink::ChunkSink;
use crate::error::{EngineError as Error, Result};

/// Files of at least this size get an outboard tree.
pub const OUTBOARD_MIN_BYTES: u64 = 1 << 20;
/// Suffix of outboard files.
pub const OUTBOARD_SUFFIX: &str = "obao";

/// The outboard directory that goes with a bundle: `BUNDLE.outboard`.
pub fn directory_for(bundle: &Path) -> PathBuf {
    let mut name = bundle.as_os_str().to_owned();
    name.push(".outboard");
    PathBuf::from(name)
}

/// The outboard file of content with BLAKE3 digest `blake3`.
pub fn file_for(directory: &Path, blake3: &[u8; 32]) -> PathBuf {
    directory.join(format!("{}.{OUTBOARD_SUFFIX}", hex::encode(blake3)))
}

/// Builds one file's outboard tree from the chunks the engine hashes.
pub struct OutboardWriter {
    encoder: Option<bao::encode::Encoder<File>>,
    temp: tempfile::TempPath,
    directory: PathBuf,
    error: Option<std::io::Error>,
}

impl OutboardWriter {
    /// Start an outboard tree in `directory` (created if needed).
    pub fn new(directory: &Path) -> Result<OutboardWriter> {
        std::fs::create_dir_all(directory).map_err(|e| Error::io(directory, e))?;
        let temp = tempfile::Builder::new()
            .prefix(".obao-")
            .tempfile_in(directory)
            .map_err(|e| Error::io(directory, e))?;
        let (file, temp) = temp.into_parts();
        Ok(OutboardWriter {
            encoder: Some(bao::encode::Encoder::new_outboard(file)),
            temp,
            directory: directory.to_path_buf(),
            error: None,
        })
    }

    /// Finish: check the tree's root against the file's BLAKE3 digest and move the tree to
    /// its content-addressed name.
    pub fn finish(mut self, blake3: &[u8; 32]) -> Result<PathBuf> {
        let mut encoder = self.encoder.take().expect("finished once");
        if let Some(e) = self.error.take() {
            return Err(Error::io(&self.temp, e));
        }
        let root = encoder.finalize().map_err(|e| Error::io(&self.temp, e))?;
        if root.as_bytes() != blake3 {
            return Err(Error::Integrity(
                "the outboard tree's root differs from the file's BLAKE3 digest".into(),
            ));
        }
        let file = encoder.into_inner();
        file.sync_all().map_err(|e| Error::io(&self.temp, e))?;
        let target = file_for(&self.directory, blake3);
        self.temp
            .persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        Ok(target)
    }
}

impl ChunkSink for OutboardWriter {
    fn update(&mut self, chunk: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if let Some(encoder) = &mut self.encoder
            && let Err(e) = encoder.write_all(chunk)
        {
            self.error = Some(e);
        }
    }
}

/// What checking a byte range found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeCheck {
    /// First byte checked.
    pub start: u64,
    /// Number of bytes checked (clipped to the file's end).
    pub len: u64,
    /// Whether the range verified against the digest.
    pub verified: bool,
    /// Why not, when it did not.
    pub detail: String,
}

/// Check bytes `start .. start + len` of `file` against BLAKE3 digest `blake3`, using the
/// outboard tree at `outboard`: only the range and the tree nodes above it are read.
pub fn check_range(
    file: &Path,
    outboard: &Path,
    blake3: &[u8; 32],
    size: u64,
    start: u64,
    len: u64,
) -> Result<RangeCheck> {
    if start >= size || len == 0 {
        return Err(Error::Refused(format!(
            "the range {start}+{len} is empty or starts beyond the sealed size ({size} bytes)"
        )));
    }
    let len = len.min(size - start);
    let input = crate::hashing::open_path(file)?;
    let tree = File::open(outboard).map_err(|e| Error::io(outboard, e))?;
    let mut slice = Vec::new();
    let extracted =
        bao::encode::SliceExtractor::new_outboard(input, tree, start, len).read_to_end(&mut slice);
    let failed = |detail: String| RangeCheck {
        start,
        len,
        verified: false,
        detail,
    };
    if let Err(e) = extracted {
        // A file shorter than sealed, or a damaged tree, cannot yield the slice.
        return Ok(failed(format!(
            "the range could not be read with its tree: {e}"
        )));
    }
    let hash = blake3::Hash::from_bytes(*blake3);
    let mut content = Vec::new();
    match bao::decode::SliceDecoder::new(&slice[..], &hash, start, len).read_to_end(&mut content) {
        Ok(_) => Ok(RangeCheck {
            start,
            len,
            verified: true,
            detail: format!(
                "bytes {start}..{} verify against the sealed BLAKE3 ({} bytes read)",
                start + len,
                slice.len()
            ),
        }),
        Err(e) => Ok(failed(format!(
            "bytes {start}..{} do not verify: {e}",
            start + len
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_verifies_and_a_changed_byte_in_it_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let path = dir.path().join("big.bin");
        std::fs::write(&path, &data).unwrap();
        let digest = *blake3::hash(&data).as_bytes();
        let mut writer = OutboardWriter::new(&dir.path().join("ob")).unwrap();
        for chunk in data.chunks(100_000) {
            writer.update(chunk);
        }
        let tree = writer.finish(&digest).unwrap();
        let tree_size = std::fs::metadata(&tree).unwrap().len();
        assert_eq!(
            tree_size as u128,
            bao::encode::outboard_size(data.len() as u64)
        );
        let size = data.len() as u64;
        let ok = check_range(&path, &tree, &digest, size, 1_500_000, 4096).unwrap();
        assert!(ok.verified, "{}", ok.detail);
        // Change one byte inside the range, then one far outside it.
        let mut changed = data.clone();
        changed[1_500_100] ^= 1;
        std::fs::write(&path, &changed).unwrap();
        assert!(
            !check_range(&path, &tree, &digest, size, 1_500_000, 4096)
                .unwrap()
                .verified
        );
        let mut elsewhere = data.clone();
        elsewhere[10] ^= 1;
        std::fs::write(&path, &elsewhere).unwrap();
        assert!(
            check_range(&path, &tree, &digest, size, 1_500_000, 4096)
                .unwrap()
                .verified
        );
    }
}
