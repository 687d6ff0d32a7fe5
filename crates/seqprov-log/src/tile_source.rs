//! Reading a log that someone else runs: from a directory (a copy of `public/`, or a log
//! directory) or over HTTP(S), with every response bounded; and checking what it serves.

use crate::merkle::StoredHashes;
use crate::{Hash, LogError};

/// Where a log's published files are read from.
pub trait TileSource: Send + Sync {
    /// The file at `rel_path` (`checkpoint`, `tile/…`), at most `limit` bytes; a larger
    /// file is an error.
    fn get(&self, rel_path: &str, limit: usize) -> Result<Vec<u8>, LogError>;

    /// How to name this source in messages (URL or directory).
    fn describe(&self) -> String;
}

/// A source for `URL_OR_DIR`: `http://` or `https://` is read over HTTP (timeouts,
/// bounded bodies), anything else is a directory (its `public/` if it has one).
pub fn open_source(url_or_dir: &str) -> Result<Box<dyn TileSource>, LogError> {
    todo!("{url_or_dir}")
}

/// The stored hashes of the tree of `size` records of a log read through `source`
/// (hash tiles fetched as needed, at their width for this size, and cached).
pub struct SourceHashes<'a> {
    source: &'a dyn TileSource,
    size: u64,
}

impl<'a> SourceHashes<'a> {
    /// Hashes of the tree of `size` records.
    pub fn new(source: &'a dyn TileSource, size: u64) -> SourceHashes<'a> {
        SourceHashes { source, size }
    }
}

impl StoredHashes for SourceHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LogError> {
        todo!("{} {} {}", indexes.len(), self.size, self.source.describe())
    }
}

/// What [`scan_entries`] calls for each entry: `visit(index, entry)`.
pub type EntryVisitor<'a> = dyn FnMut(u64, &[u8]) -> Result<(), LogError> + 'a;

/// Reads every entry of the tree of `size` records in order, calls `visit(index, entry)`
/// for each, and checks that their tree root is `root` (so a source cannot leave entries
/// out or change them). The visit sees entries before the root is known to match; callers
/// act on their findings only when this returns `Ok`.
pub fn scan_entries(
    source: &dyn TileSource,
    size: u64,
    root: &Hash,
    visit: &mut EntryVisitor<'_>,
) -> Result<(), LogError> {
    todo!(
        "{} {size} {root:?} {}",
        source.describe(),
        std::ptr::addr_of!(visit) as usize
    )
}
