//! `c2sp.org/tlog-proof@v1` receipts (spec/log.md §7).

use crate::{Hash, LogError};

/// The largest receipt text accepted.
pub const MAX_PROOF_LEN: usize = 65_536;

/// A parsed receipt. Its checkpoint is not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// The entry's index.
    pub index: u64,
    /// The inclusion proof, from the leaf's sibling up.
    pub path: Vec<Hash>,
    /// The checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// The receipt text (no `extra` line).
    pub fn to_text(&self) -> String {
        todo!()
    }

    /// Parses a receipt: first line exactly `c2sp.org/tlog-proof@v1`, an optional `extra`
    /// line (ignored), `index N` without leading zeros, at most 64 base64 hash lines, an
    /// empty line and the checkpoint; at most [`MAX_PROOF_LEN`] bytes.
    pub fn parse(text: &[u8]) -> Result<TlogProof, LogError> {
        todo!("{}", text.len())
    }
}
