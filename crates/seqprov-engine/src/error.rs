//! The error type of the engine: what reading a tree or a file can fail with, each
//! carrying the path it concerns.

use std::io;
use std::path::PathBuf;

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An operating-system error on a named path.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A file changed (size, time or content) while it was being hashed.
    #[error("{}: changed while it was being read ({what})", path.display())]
    FileChanged {
        /// The file that changed.
        path: PathBuf,
        /// What was seen to change.
        what: String,
    },
    /// The directory holds something that cannot be sealed (special file, bad name).
    #[error("{}: {reason}", path.display())]
    UnsealableTree {
        /// The offending path.
        path: PathBuf,
        /// Why it cannot be sealed.
        reason: String,
    },
    /// The engine refused to proceed to protect data (an outboard tree in the way).
    #[error("{0}")]
    Refused(String),
    /// A path that should name a regular file names something else (a FIFO, a device, a
    /// directory), so it is not read at all.
    #[error("{}: is {kind}, not a regular file", path.display())]
    NotRegularFile {
        /// The path as given.
        path: PathBuf,
        /// What it is, in words ("a FIFO (named pipe)", "a character device"...).
        kind: &'static str,
    },
    /// A file holds more bytes than the limit for what it should be.
    #[error("{}: larger than the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// What was written does not match what was read (an outboard tree's root).
    #[error("integrity failure: {0}")]
    Integrity(String),
}

impl EngineError {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        EngineError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result type of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
