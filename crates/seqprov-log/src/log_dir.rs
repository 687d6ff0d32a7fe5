//! A log on disk (spec/log.md §3): creating it, holding its lock, appending batches with
//! the write discipline that makes every acknowledged entry durable, recovering after a
//! crash, and proving entries against the published checkpoint.

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use crate::proof_text::TlogProof;
use crate::{Hash, LogError};

/// What `log init` records in `DIR/seqprov-log.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// The log's origin.
    pub origin: String,
    /// The path of the log's private key file, as given to `log init` (made absolute).
    pub key_path: PathBuf,
}

/// Produces the published checkpoint note for a new tree: signs it with the log key and
/// may add witness cosignatures. Called by [`LogDir::append`] after the tiles are durable
/// and before the checkpoint is renamed into place.
pub type Publish<'a> = dyn FnMut(u64, &Hash) -> Result<Vec<u8>, LogError> + 'a;

/// An open log directory, holding its exclusive lock for as long as it lives.
pub struct LogDir {
    root: PathBuf,
}

impl LogDir {
    /// Creates a new, empty log in `dir` (created if absent; it must be empty if present):
    /// the config, `log.vkey`, `public/` and a signed checkpoint of size 0. Returns the
    /// log's vkey.
    pub fn init(
        dir: &Path,
        origin: &str,
        key: &SigningKey,
        key_path: &Path,
    ) -> Result<String, LogError> {
        todo!("{dir:?} {origin} {:?} {key_path:?}", key.verifying_key())
    }

    /// Reads a log's config without opening (locking) the log.
    pub fn read_config(dir: &Path) -> Result<LogConfig, LogError> {
        todo!("{dir:?}")
    }

    /// Opens a log for appending: takes the exclusive lock (failing with
    /// [`LogError::Locked`] if another process holds it), reads the published checkpoint
    /// and the entries up to its size (rebuilding the duplicate index and checking the
    /// root), and forgets anything beyond that size.
    pub fn open(dir: &Path) -> Result<LogDir, LogError> {
        todo!("{dir:?}")
    }

    /// The log directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The log's config.
    pub fn config(&self) -> &LogConfig {
        todo!()
    }

    /// The published tree size.
    pub fn size(&self) -> u64 {
        todo!()
    }

    /// The published tree root.
    pub fn root_hash(&self) -> Hash {
        todo!()
    }

    /// The published checkpoint note, verbatim.
    pub fn checkpoint(&self) -> &[u8] {
        todo!()
    }

    /// The index of an entry already in the log, if any.
    pub fn find(&self, entry: &[u8]) -> Option<u64> {
        todo!("{}", entry.len())
    }

    /// The entry at `index` (< size).
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        todo!("{index}")
    }

    /// Appends a batch: entries already in the log (or repeated in the batch) keep their
    /// index and are not appended again. Writes the new tiles (temporary file, fsync,
    /// rename, directory fsync), calls `publish` for the new checkpoint, writes it the same
    /// way, and only then returns each entry's index. On error nothing was published.
    pub fn append(
        &mut self,
        entries: &[Vec<u8>],
        publish: &mut Publish<'_>,
    ) -> Result<Vec<u64>, LogError> {
        todo!("{}", entries.len() + std::ptr::addr_of!(publish) as usize)
    }

    /// The receipt of entry `index` against the published checkpoint.
    pub fn receipt(&self, index: u64) -> Result<TlogProof, LogError> {
        todo!("{index}")
    }

    /// The consistency proof from the tree of `old_size` to the published tree.
    pub fn consistency_proof(&self, old_size: u64) -> Result<Vec<Hash>, LogError> {
        todo!("{old_size}")
    }

    /// Reads a published file by its relative path (`checkpoint` or a tile path that
    /// [`crate::tile_path::TilePath::parse`] accepts and that lies within the published
    /// tree); `None` for any other path.
    pub fn read_public(&self, rel_path: &str) -> Result<Option<Vec<u8>>, LogError> {
        todo!("{rel_path}")
    }
}
