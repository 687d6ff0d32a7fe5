//! # seqprov-engine
//!
//! The part of seqprov that touches the disk at speed. It owns walking a tree beneath
//! an opened directory handle without following links ([`walk`]), scheduling files
//! over the cores ([`schedule`]), reading or memory-mapping them and computing their
//! BLAKE3 and SHA-256 digests in one pass ([`hashing`], [`sha256_lanes`]), Bao outboard
//! trees for verified streaming ([`outboard`]), the progress trait, and the
//! [`ChunkSink`] hook through which format checks see the same bytes as they are hashed.
//!
//! It must not know about signatures, bundles, trust or what the files mean: it reads
//! and reports digests and changes. Paths it reports are entry paths
//! (`seqprov_format::entry_path`).
//!
//! Start reading at [`schedule::hash_tree_files`], which `seal` and `verify` both call.

#![warn(missing_docs)]

pub mod bounded_read;
pub mod chunk_sink;
pub mod error;
pub mod hashing;
mod mapped_file;
pub mod outboard;
pub mod schedule;
pub mod sha256_lanes;
pub mod subtree;
pub mod walk;

pub use chunk_sink::{ChunkSink, NoSink, Tee};
pub use error::{EngineError, Result};
pub use hashing::{FileDigests, HashOptions, NoProgress, Progress, ReadMode};
