//! Typed errors of the library, each mapped to one of the documented exit codes.

use std::io;
use std::path::PathBuf;

use seqprov_engine::EngineError;
use seqprov_format::FormatError;
use seqprov_illumina::completion::WaitError;

use crate::exit_status::ExitStatus;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
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
    /// A key file could not be read, parsed or trusted.
    #[error("key {}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The data cannot be sealed as it is (an incomplete run, broken files).
    #[error("{0}")]
    Rejected(String),
    /// A policy file could not be read or is invalid.
    #[error("policy {}: {reason}", path.display())]
    Policy {
        /// The policy file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The bundle (or another signed structure) is malformed, truncated or non-canonical.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// An operation refused to proceed to protect data (for example, overwriting a bundle).
    #[error("{0}")]
    Refused(String),
    /// A Time-Stamp Authority could not be reached, refused, or answered something that
    /// does not check (`spec/timestamps.md` §4); nothing was written.
    #[error("time-stamp authority {tsa}: {reason}")]
    Timestamp {
        /// The TSA's URL.
        tsa: String,
        /// What went wrong.
        reason: String,
    },
    /// A transparency log could not be reached, refused a submission, or answered a
    /// receipt that does not check (spec/log.md §4, §7.2); nothing was stored.
    #[error("log {log}: {reason}")]
    Log {
        /// The log's URL or directory.
        log: String,
        /// What went wrong.
        reason: String,
    },
    /// Signed data does not hold together (a broken custody chain, a lineage mismatch).
    #[error("integrity failure: {0}")]
    Integrity(String),
    /// The signer made no usable signature (a token or agent failed, or answered with a
    /// signature its public key does not verify); nothing was written.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl Error {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit status this error stands for (see `spec/cli.md`).
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Malformed(_) | Error::Integrity(_) | Error::Rejected(_) => {
                ExitStatus::IntegrityFailure
            }
            Error::Io { .. }
            | Error::FileChanged { .. }
            | Error::UnsealableTree { .. }
            | Error::Key { .. }
            | Error::Policy { .. }
            | Error::Timestamp { .. }
            | Error::Log { .. }
            | Error::Refused(_)
            | Error::Signing(_) => ExitStatus::UsageOrIo,
        }
    }
}

impl From<FormatError> for Error {
    fn from(e: FormatError) -> Error {
        match e {
            FormatError::Malformed(why) => Error::Malformed(why),
            FormatError::Refused(why) => Error::Refused(why),
            FormatError::Integrity(why) => Error::Integrity(why),
        }
    }
}

impl From<seqprov_format::cose::SigningError> for Error {
    fn from(e: seqprov_format::cose::SigningError) -> Error {
        Error::Signing(e.0)
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Error {
        match e {
            EngineError::Io { path, source } => Error::Io { path, source },
            EngineError::FileChanged { path, what } => Error::FileChanged { path, what },
            EngineError::UnsealableTree { path, reason } => Error::UnsealableTree { path, reason },
            EngineError::NotRegularFile { .. } => Error::Refused(e.to_string()),
            EngineError::TooLarge { .. } => Error::Refused(e.to_string()),
            EngineError::Refused(why) => Error::Refused(why),
            EngineError::Integrity(why) => Error::Integrity(why),
        }
    }
}

impl From<WaitError> for Error {
    fn from(e: WaitError) -> Error {
        Error::Io {
            path: e.path,
            source: e.source,
        }
    }
}

/// Result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
