//! Errors of the log layer.

use std::path::PathBuf;

/// What went wrong reading, writing or checking a log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file or directory of a log could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Bytes that do not have the shape a format requires (tile, checkpoint, proof, vkey).
    #[error("{what}: {detail}")]
    Malformed {
        /// Which format (e.g. "checkpoint", "tlog-proof", "tile path").
        what: &'static str,
        /// What is wrong, with the offending value escaped.
        detail: String,
    },
    /// A signature, proof or root that does not verify.
    #[error("{0}")]
    Verification(String),
    /// A remote log could not be read (connection, status, size limit).
    #[error("{url}: {detail}")]
    Remote {
        /// The URL asked.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The log directory is held by another process.
    #[error("{0}: the log is locked by another process")]
    Locked(PathBuf),
}
