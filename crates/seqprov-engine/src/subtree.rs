//! BLAKE3 of one file computed in pieces: byte ranges cut on power-of-two subtree
//! boundaries, each hashed on its own (on any machine) to a chaining value, and the
//! chaining values merged into the file's BLAKE3 (`spec/sharded.md` §3).
//!
//! A file longer than the range length `R` (a power of two, at least one BLAKE3 chunk) is
//! cut into `[k·R, min((k+1)·R, size))`. Each such range starts at a multiple of `R`, so
//! it is a subtree of the file's BLAKE3 tree (only the last may be short, and it lies on
//! the tree's right edge); [`merge_ranges`] rebuilds the tree above them by splitting
//! every span at [`blake3::hazmat::left_subtree_len`], which for spans longer than `R` is
//! itself a multiple of `R`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use blake3::hazmat::{self, HasherExt, Mode};

use crate::error::{EngineError as Error, Result};
use crate::hashing::{Stamp, describe_change, no_longer_regular};

pub use seqprov_format::shard::{MAX_RANGE_LEN, MIN_RANGE_LEN};
/// Bytes read per step while hashing a range.
const STEP_BYTES: usize = 4 << 20;

/// The range length for a part of `target` bytes: the largest power of two not above it,
/// within [`MIN_RANGE_LEN`]..=[`MAX_RANGE_LEN`].
pub fn range_len_for(target: u64) -> u64 {
    let target = target.clamp(MIN_RANGE_LEN, MAX_RANGE_LEN);
    1u64 << (63 - target.leading_zeros())
}

const _: () = assert!(MIN_RANGE_LEN == blake3::CHUNK_LEN as u64);

/// Whether `range_len` is a range length this module accepts.
pub fn is_valid_range_len(range_len: u64) -> bool {
    range_len.is_power_of_two() && (MIN_RANGE_LEN..=MAX_RANGE_LEN).contains(&range_len)
}

/// The ranges `(start, len)` a file of `size` bytes is cut into, in order; a file of at
/// most `range_len` bytes is not cut (one range, the whole file).
pub fn ranges_of(size: u64, range_len: u64) -> impl Iterator<Item = (u64, u64)> {
    let count = size.div_ceil(range_len).max(1);
    (0..count).map(move |k| {
        let start = k * range_len;
        (start, (size - start).min(range_len))
    })
}

/// The chaining value of the bytes `data`, which start `start` bytes into a file cut
/// into ranges (a range that is not the whole file).
pub fn chaining_value_of(start: u64, data: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset(start);
    hasher.update(data);
    hasher.finalize_non_root()
}

/// Hash the range `start..start + len` of an open file expected to match `before` (its
/// stamp is checked before and after the read, as for a whole file) to its chaining
/// value. `start` must be a multiple of a valid range length and `len` at most that length.
pub fn hash_range(
    file: &File,
    path: &Path,
    before: Stamp,
    start: u64,
    len: u64,
) -> Result<[u8; 32]> {
    if !before.is_regular() {
        return Err(no_longer_regular(path));
    }
    let changed = |what: String| Error::FileChanged {
        path: path.to_path_buf(),
        what,
    };
    let at_open = Stamp::of(&file.metadata().map_err(|e| Error::io(path, e))?);
    if at_open != before {
        return Err(changed(describe_change(&before, &at_open, before.size())));
    }
    let end = start.checked_add(len).filter(|&end| end <= before.size());
    let Some(end) = end else {
        return Err(changed(format!(
            "the range {start}+{len} lies beyond its {} bytes",
            before.size()
        )));
    };
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset(start);
    let mut buffer = vec![0u8; STEP_BYTES.min(len as usize).max(1)];
    let mut at = start;
    let mut outcome = Ok(());
    while at < end {
        let step = ((end - at) as usize).min(buffer.len());
        if let Err(e) = file.read_exact_at(&mut buffer[..step], at) {
            outcome = Err(e);
            break;
        }
        hasher.update(&buffer[..step]);
        at += step as u64;
    }
    let after = Stamp::of(&file.metadata().map_err(|e| Error::io(path, e))?);
    if after != before {
        return Err(changed(describe_change(&before, &after, before.size())));
    }
    outcome.map_err(|e| Error::io(path, e))?;
    Ok(hasher.finalize_non_root())
}

/// The BLAKE3 of a file of `size` bytes (more than `range_len`) from the chaining values
/// of its ranges, in order (as [`ranges_of`] lists them). `None` when the count is wrong.
pub fn merge_ranges(range_len: u64, size: u64, cvs: &[[u8; 32]]) -> Option<[u8; 32]> {
    if !is_valid_range_len(range_len)
        || size <= range_len
        || size.div_ceil(range_len) != cvs.len() as u64
    {
        return None;
    }
    let split = hazmat::left_subtree_len(size);
    let left_count = (split / range_len) as usize;
    let left = merge_span(range_len, split, &cvs[..left_count]);
    let right = merge_span(range_len, size - split, &cvs[left_count..]);
    Some(*hazmat::merge_subtrees_root(&left, &right, Mode::Hash).as_bytes())
}

/// The non-root chaining value of a span of `len` bytes made of the ranges `cvs`.
fn merge_span(range_len: u64, len: u64, cvs: &[[u8; 32]]) -> [u8; 32] {
    if len <= range_len {
        return cvs[0];
    }
    let split = hazmat::left_subtree_len(len);
    let left_count = (split / range_len) as usize;
    let left = merge_span(range_len, split, &cvs[..left_count]);
    let right = merge_span(range_len, len - split, &cvs[left_count..]);
    hazmat::merge_subtrees_non_root(&left, &right, Mode::Hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// Merged range chaining values give `blake3::hash` of the whole input, for lengths
    /// around every boundary that matters (one chunk, ranges, powers of two).
    #[test]
    fn merged_ranges_equal_the_whole_file_hash() {
        for range_len in [1024u64, 2048, 8192] {
            let lengths = [
                range_len + 1,
                2 * range_len - 1,
                2 * range_len,
                2 * range_len + 1,
                3 * range_len,
                5 * range_len + 17,
                8 * range_len,
                8 * range_len + 1,
                13 * range_len - 3,
            ];
            for len in lengths {
                let input = data(len as usize);
                let cvs: Vec<[u8; 32]> = ranges_of(len, range_len)
                    .map(|(start, n)| {
                        chaining_value_of(start, &input[start as usize..(start + n) as usize])
                    })
                    .collect();
                assert_eq!(
                    merge_ranges(range_len, len, &cvs),
                    Some(*blake3::hash(&input).as_bytes()),
                    "range {range_len}, length {len}"
                );
            }
        }
    }

    /// A wrong chaining value or a wrong count does not give the file's hash.
    #[test]
    fn a_wrong_or_missing_chaining_value_changes_or_refuses_the_merge() {
        let input = data(5 * 1024);
        let mut cvs: Vec<[u8; 32]> = ranges_of(5 * 1024, 1024)
            .map(|(s, n)| chaining_value_of(s, &input[s as usize..(s + n) as usize]))
            .collect();
        let whole = *blake3::hash(&input).as_bytes();
        assert_eq!(merge_ranges(1024, 5 * 1024, &cvs), Some(whole));
        cvs[3][0] ^= 1;
        assert_ne!(merge_ranges(1024, 5 * 1024, &cvs), Some(whole));
        cvs.pop();
        assert_eq!(merge_ranges(1024, 5 * 1024, &cvs), None);
        assert_eq!(merge_ranges(1000, 5 * 1024, &cvs), None);
    }

    #[test]
    fn range_lengths_are_powers_of_two_within_bounds() {
        assert_eq!(range_len_for(0), MIN_RANGE_LEN);
        assert_eq!(range_len_for(1 << 20), 1 << 20);
        assert_eq!(range_len_for((1 << 20) + 5), 1 << 20);
        assert_eq!(range_len_for(u64::MAX), MAX_RANGE_LEN);
        assert_eq!(
            ranges_of(5, 1024).collect::<Vec<_>>(),
            vec![(0, 5)],
            "a short file is one range"
        );
        assert_eq!(
            ranges_of(2049, 1024).collect::<Vec<_>>(),
            vec![(0, 1024), (1024, 1024), (2048, 1)]
        );
    }

    /// A range read from a real file matches the in-memory chaining value, and a file
    /// changed since its stamp is reported.
    #[test]
    fn a_range_of_a_file_is_hashed_and_changes_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let input = data(3 * 1024 + 5);
        std::fs::write(&path, &input).unwrap();
        let file = File::open(&path).unwrap();
        let stamp = Stamp::of(&file.metadata().unwrap());
        let cv = hash_range(&file, &path, stamp, 2048, 1029).unwrap();
        assert_eq!(cv, chaining_value_of(2048, &input[2048..]));
        std::fs::write(&path, data(10)).unwrap();
        match hash_range(&file, &path, stamp, 0, 1024) {
            Err(Error::FileChanged { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
