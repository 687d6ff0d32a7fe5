//! The one error type of the format layer: bytes that are not a valid bundle or proof,
//! or a request the bytes cannot satisfy.

/// What decoding or building a bundle or proof can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The bytes are malformed, truncated, non-canonical or over a decoder limit.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// The request cannot be carried out on these bytes (for example a proof for
    /// patterns that match no entry).
    #[error("{0}")]
    Refused(String),
    /// Signed data does not hold together (entries that do not hash to the signed root).
    #[error("integrity failure: {0}")]
    Integrity(String),
}

/// Result type of the format layer.
pub type Result<T, E = FormatError> = std::result::Result<T, E>;
