//! Checkpoints (tlog-checkpoint): a signed note whose body is origin, size and root.

use crate::note_keys::{LogSigner, LogVerifier, WitnessVerifier};
use crate::{Hash, LogError};

/// The largest checkpoint note accepted (body and every signature line).
pub const MAX_CHECKPOINT_LEN: usize = 16 * 1024;

/// The body `<origin>\n<size>\n<base64 root>\n`.
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    todo!("{origin} {size} {root:?}")
}

/// Signs a new checkpoint: the body followed by an empty line and the log's signature.
pub fn sign(signer: &LogSigner, size: u64, root: &Hash) -> Vec<u8> {
    todo!("{} {size} {root:?}", signer.origin)
}

/// Appends signature lines (e.g. witness cosignatures) to a signed note.
pub fn add_signature_lines(note: &[u8], lines: &[String]) -> Result<Vec<u8>, LogError> {
    todo!("{} {}", note.len(), lines.len())
}

/// A checkpoint whose log signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedCheckpoint {
    /// The origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The tree root.
    pub root: Hash,
    /// The names of the trusted witnesses whose `cosignature/v1` verified, with their
    /// cosignature times; each witness counted once.
    pub witnesses: Vec<(String, u64)>,
    /// The exact note bytes.
    pub note: Vec<u8>,
}

/// Parses a checkpoint note without checking any signature (to learn its origin).
pub fn parse_unverified(note: &[u8]) -> Result<(String, u64, Hash), LogError> {
    todo!("{}", note.len())
}

/// Opens a checkpoint: it must be well formed (at most [`MAX_CHECKPOINT_LEN`] bytes, no
/// extension lines), its origin must be the log's, and it must carry a valid signature by
/// `log`. Signature lines of unknown keys are ignored; a line that names a trusted key
/// but does not verify is an error.
pub fn open(
    note: &[u8],
    log: &LogVerifier,
    witnesses: &[WitnessVerifier],
) -> Result<OpenedCheckpoint, LogError> {
    todo!("{} {} {}", note.len(), log.origin, witnesses.len())
}
