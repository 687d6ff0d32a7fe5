//! The transparency log of seqprov: a C2SP log that records seals, custody events and
//! timestamp tokens once and in order (spec/log.md).
//!
//! This crate owns the log's bytes and its storage, and knows nothing of bundles: a log
//! entry is an opaque byte string here (its meaning is `seqprov_format::log_entry`).
//!
//! - [`tile_path`]: the tlog-tiles path of a hash tile or an entry bundle.
//! - [`entry_bundle`]: the entry-bundle encoding (u16 length-prefixed entries).
//! - [`merkle`]: RFC 6962 record hashes, inclusion and consistency proofs and checks.
//! - [`note_keys`]: log and witness keys, vkeys, note and `cosignature/v1` signatures.
//! - [`checkpoint`]: signed-note checkpoints: making, cosigning, opening.
//! - [`proof_text`]: `c2sp.org/tlog-proof@v1` receipts.
//! - [`journal`]: the append journal that makes a batch durable with one `fdatasync`.
//! - [`log_dir`]: a log on disk: init, lock, group-commit append, recovery, proofs.
//! - `dir_writer` (private): writing and removing files under a log directory through
//!   opened directory handles, never through a symbolic link.
//! - [`tile_source`]: reading a log from a directory or over HTTP, and checking it.

pub mod checkpoint;
mod dir_writer;
pub mod entry_bundle;
pub mod error;
pub mod journal;
pub mod log_dir;
pub mod merkle;
pub mod note_keys;
pub mod proof_text;
pub mod tile_path;
pub mod tile_source;

pub use error::LogError;

/// A SHA-256 hash: a record hash, a node hash or a tree root.
pub type Hash = [u8; 32];

/// Tile height of every seqprov log (tlog-tiles fixes it at 8: 256 hashes per tile).
pub const TILE_HEIGHT: u8 = 8;

/// Entries and hashes per full tile.
pub const TILE_WIDTH: u64 = 256;

/// The largest entry a log accepts: the entry-bundle length prefix is a u16.
pub const MAX_ENTRY_LEN: usize = 65_535;
