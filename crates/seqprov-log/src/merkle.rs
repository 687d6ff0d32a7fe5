//! RFC 6962 tree arithmetic over tlog_tiles: record hashes, proofs and their checks.

use crate::{Hash, LogError};

/// `SHA-256(0x00 ‖ entry)`.
pub fn record_hash(entry: &[u8]) -> Hash {
    todo!("{}", entry.len())
}

/// Reads stored hashes of a tree (tlog stored-hash indexes, as Go's `tlog.HashReader`).
pub trait StoredHashes {
    /// The hashes at the given stored-hash indexes, in order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LogError>;
}

/// The inclusion proof of record `index` in the tree of `size` records.
pub fn inclusion_proof(
    hashes: &dyn StoredHashes,
    size: u64,
    index: u64,
) -> Result<Vec<Hash>, LogError> {
    todo!("{size} {index} {}", std::ptr::addr_of!(hashes) as usize)
}

/// The consistency proof from the tree of `old_size` to the tree of `new_size`.
pub fn consistency_proof(
    hashes: &dyn StoredHashes,
    new_size: u64,
    old_size: u64,
) -> Result<Vec<Hash>, LogError> {
    todo!(
        "{new_size} {old_size} {}",
        std::ptr::addr_of!(hashes) as usize
    )
}

/// Checks that `proof` proves `record` at `index` in the tree of `size` with `root`.
pub fn check_inclusion(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    index: u64,
    record: &Hash,
) -> Result<(), LogError> {
    todo!("{} {size} {root:?} {index} {record:?}", proof.len())
}

/// Checks that `proof` proves the tree (`new_size`, `new_root`) extends
/// (`old_size`, `old_root`).
pub fn check_consistency(
    proof: &[Hash],
    new_size: u64,
    new_root: &Hash,
    old_size: u64,
    old_root: &Hash,
) -> Result<(), LogError> {
    todo!(
        "{} {new_size} {new_root:?} {old_size} {old_root:?}",
        proof.len()
    )
}

/// Computes tree roots incrementally from record hashes (for a reader that scans every
/// entry and must find the checkpoint's root).
#[derive(Debug, Default, Clone)]
pub struct RootBuilder {
    // the right-edge stack of complete subtrees
}

impl RootBuilder {
    /// Adds the next record hash.
    pub fn push(&mut self, record: Hash) {
        todo!("{record:?}")
    }

    /// The number of records pushed.
    pub fn size(&self) -> u64 {
        todo!()
    }

    /// The root of the tree of the records pushed so far (RFC 6962 MTH; the empty tree's
    /// root is SHA-256 of nothing).
    pub fn root(&self) -> Hash {
        todo!()
    }
}
