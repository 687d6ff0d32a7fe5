//! RFC 6962 tree arithmetic over tlog_tiles: record hashes, proofs and their checks.
//!
//! Proof generation and checking are `tlog_tiles`' (a port of Go's `sumdb/tlog`); this
//! module adapts its `HashReader` to [`StoredHashes`] (whose errors are [`LogError`]s) and
//! adds [`RootBuilder`], which computes roots while entries stream past.

use std::cell::RefCell;

use sha2::{Digest, Sha256};

use crate::{Hash, LogError};

/// `SHA-256(0x00 ‖ entry)`.
pub fn record_hash(entry: &[u8]) -> Hash {
    tlog_tiles::record_hash(entry).0
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    tlog_tiles::node_hash(tlog_tiles::Hash(*left), tlog_tiles::Hash(*right)).0
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Reads stored hashes of a tree (tlog stored-hash indexes, as Go's `tlog.HashReader`).
pub trait StoredHashes {
    /// The hashes at the given stored-hash indexes, in order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LogError>;
}

/// Presents a [`StoredHashes`] as tlog_tiles' `HashReader`, keeping the first error it
/// hit so the caller gets a [`LogError`] rather than tlog_tiles' generic one. It also
/// refuses an answer of the wrong length (tlog_tiles would panic on it).
struct HashReaderAdapter<'a> {
    hashes: &'a dyn StoredHashes,
    error: RefCell<Option<LogError>>,
}

impl<'a> HashReaderAdapter<'a> {
    fn new(hashes: &'a dyn StoredHashes) -> Self {
        HashReaderAdapter {
            hashes,
            error: RefCell::new(None),
        }
    }

    /// Converts a tlog_tiles error, preferring the error the reader saw.
    fn error(&self, e: tlog_tiles::Error, what: &str) -> LogError {
        self.error
            .borrow_mut()
            .take()
            .unwrap_or_else(|| LogError::Verification(format!("{what}: {e}")))
    }
}

impl tlog_tiles::HashReader for HashReaderAdapter<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        match self.hashes.read_hashes(indexes) {
            Ok(hashes) if hashes.len() == indexes.len() => {
                Ok(hashes.into_iter().map(tlog_tiles::Hash).collect())
            }
            Ok(hashes) => {
                *self.error.borrow_mut() = Some(LogError::Verification(format!(
                    "asked for {} stored hashes, got {}",
                    indexes.len(),
                    hashes.len()
                )));
                Err(tlog_tiles::Error::IndexesNotInTree)
            }
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                Err(tlog_tiles::Error::IndexesNotInTree)
            }
        }
    }
}

/// The inclusion proof of record `index` in the tree of `size` records.
pub fn inclusion_proof(
    hashes: &dyn StoredHashes,
    size: u64,
    index: u64,
) -> Result<Vec<Hash>, LogError> {
    if index >= size {
        return Err(LogError::Verification(format!(
            "no inclusion proof of entry {index} in a tree of {size} entries"
        )));
    }
    let reader = HashReaderAdapter::new(hashes);
    let proof = tlog_tiles::prove_record(size, index, &reader)
        .map_err(|e| reader.error(e, "inclusion proof"))?;
    Ok(proof.into_iter().map(|h| h.0).collect())
}

/// The consistency proof from the tree of `old_size` to the tree of `new_size`.
/// From the empty tree, and between equal sizes, it is empty.
pub fn consistency_proof(
    hashes: &dyn StoredHashes,
    new_size: u64,
    old_size: u64,
) -> Result<Vec<Hash>, LogError> {
    if old_size > new_size {
        return Err(LogError::Verification(format!(
            "no consistency proof from {old_size} entries to fewer ({new_size})"
        )));
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let reader = HashReaderAdapter::new(hashes);
    let proof = tlog_tiles::prove_tree(new_size, old_size, &reader)
        .map_err(|e| reader.error(e, "consistency proof"))?;
    Ok(proof.into_iter().map(|h| h.0).collect())
}

/// Checks that `proof` proves `record` at `index` in the tree of `size` with `root`.
pub fn check_inclusion(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    index: u64,
    record: &Hash,
) -> Result<(), LogError> {
    if index >= size {
        return Err(LogError::Verification(format!(
            "entry {index} cannot be in a tree of {size} entries"
        )));
    }
    // A path longer than the tree's height cannot be right (and is refused before work).
    if proof.len() > 64 {
        return Err(LogError::Verification(format!(
            "an inclusion proof of {} hashes is too long",
            proof.len()
        )));
    }
    let p: Vec<tlog_tiles::Hash> = proof.iter().map(|h| tlog_tiles::Hash(*h)).collect();
    tlog_tiles::check_record(
        &p,
        size,
        tlog_tiles::Hash(*root),
        index,
        tlog_tiles::Hash(*record),
    )
    .map_err(|_| {
        LogError::Verification(format!(
            "the inclusion proof of entry {index} does not lead to the root of the tree of {size} entries"
        ))
    })
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
    let fail = || {
        LogError::Verification(format!(
            "the tree of {new_size} entries is not an extension of the tree of {old_size} entries (consistency proof fails)"
        ))
    };
    if old_size > new_size || proof.len() > 128 {
        return Err(fail());
    }
    if old_size == 0 {
        // Every tree extends the empty one; its root is fixed.
        return if proof.is_empty() && *old_root == empty_root() {
            Ok(())
        } else {
            Err(fail())
        };
    }
    let p: Vec<tlog_tiles::Hash> = proof.iter().map(|h| tlog_tiles::Hash(*h)).collect();
    tlog_tiles::check_tree(
        &p,
        new_size,
        tlog_tiles::Hash(*new_root),
        old_size,
        tlog_tiles::Hash(*old_root),
    )
    .map_err(|_| fail())
}

/// Computes tree roots incrementally from record hashes (for a reader that scans every
/// entry and must find the checkpoint's root).
#[derive(Debug, Default, Clone)]
pub struct RootBuilder {
    /// The right-edge stack: the roots of the complete subtrees the records pushed so far
    /// form, largest (leftmost) first; their sizes are the one bits of `size`.
    stack: Vec<Hash>,
    size: u64,
}

impl RootBuilder {
    /// Adds the next record hash.
    pub fn push(&mut self, record: Hash) {
        let mut hash = record;
        // Each trailing one bit of the old size is a subtree the new one completes.
        let mut size = self.size;
        while size & 1 == 1 {
            let Some(left) = self.stack.pop() else { break };
            hash = node_hash(&left, &hash);
            size >>= 1;
        }
        self.stack.push(hash);
        self.size += 1;
    }

    /// The number of records pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree of the records pushed so far (RFC 6962 MTH; the empty tree's
    /// root is SHA-256 of nothing).
    pub fn root(&self) -> Hash {
        let Some((last, rest)) = self.stack.split_last() else {
            return empty_root();
        };
        rest.iter()
            .rev()
            .fold(*last, |right, left| node_hash(left, &right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962 §2.1 MTH, written from the definition.
    fn naive_root(records: &[Hash]) -> Hash {
        match records.len() {
            0 => empty_root(),
            1 => records[0],
            n => {
                let k = (n - 1).next_power_of_two().max(1);
                let k = if k >= n { k / 2 } else { k };
                node_hash(&naive_root(&records[..k]), &naive_root(&records[k..]))
            }
        }
    }

    /// Every stored hash of a tree, computed with tlog_tiles' own storage order.
    struct MemoryHashes(Vec<Hash>);

    impl MemoryHashes {
        fn of(records: &[Hash]) -> MemoryHashes {
            let mut stored = MemoryHashes(Vec::new());
            for (n, r) in records.iter().enumerate() {
                let new = {
                    let reader = HashReaderAdapter::new(&stored);
                    tlog_tiles::stored_hashes_for_record_hash(
                        n as u64,
                        tlog_tiles::Hash(*r),
                        &reader,
                    )
                    .unwrap()
                };
                stored.0.extend(new.into_iter().map(|h| h.0));
            }
            stored
        }
    }

    impl StoredHashes for MemoryHashes {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, LogError> {
            indexes
                .iter()
                .map(|&i| {
                    self.0
                        .get(i as usize)
                        .copied()
                        .ok_or_else(|| LogError::Verification(format!("no stored hash {i}")))
                })
                .collect()
        }
    }

    fn records(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| record_hash(format!("entry {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn record_hash_and_empty_root_are_rfc_6962() {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(b"abc");
        assert_eq!(record_hash(b"abc"), <Hash>::from(h.finalize()));
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(RootBuilder::default().root(), empty_root());
    }

    #[test]
    fn root_builder_matches_the_naive_mth_for_sizes_0_to_300() {
        let all = records(300);
        let mut builder = RootBuilder::default();
        assert_eq!(builder.root(), naive_root(&[]));
        for n in 1..=300 {
            builder.push(all[n - 1]);
            assert_eq!(builder.size(), n as u64);
            assert_eq!(builder.root(), naive_root(&all[..n]), "size {n}");
        }
        let stored = MemoryHashes::of(&all);
        let reader = HashReaderAdapter::new(&stored);
        assert_eq!(
            tlog_tiles::tree_hash(300, &reader).unwrap().0,
            builder.root()
        );
    }

    #[test]
    fn every_inclusion_proof_in_small_trees_checks_and_a_wrong_one_fails() {
        let all = records(41);
        let stored = MemoryHashes::of(&all);
        for size in 1..=40u64 {
            let root = naive_root(&all[..size as usize]);
            for index in 0..size {
                let proof = inclusion_proof(&stored, size, index).unwrap();
                let record = all[index as usize];
                check_inclusion(&proof, size, &root, index, &record).unwrap();
                // Wrong record, index, size, root, or a changed/extra/missing hash.
                assert!(
                    check_inclusion(&proof, size, &root, index, &all[39 - index as usize]).is_err()
                        || index == 39 - index
                );
                if size > 1 {
                    let other = (index + 1) % size;
                    assert!(check_inclusion(&proof, size, &root, other, &record).is_err());
                }
                // A size is bound to its root (the checkpoint holds both): the proof
                // does not prove the entry in the next tree.
                let next_root = naive_root(&all[..size as usize + 1]);
                assert!(check_inclusion(&proof, size + 1, &next_root, index, &record).is_err());
                assert!(
                    check_inclusion(&proof, size, &record, index, &record).is_err() || size == 1
                );
                assert!(check_inclusion(&proof, size, &root, size, &record).is_err());
                let mut longer = proof.clone();
                longer.push(root);
                assert!(check_inclusion(&longer, size, &root, index, &record).is_err());
                if let Some(first) = proof.first() {
                    let mut changed = proof.clone();
                    changed[0] = node_hash(first, first);
                    assert!(check_inclusion(&changed, size, &root, index, &record).is_err());
                    assert!(check_inclusion(&proof[1..], size, &root, index, &record).is_err());
                }
            }
        }
        assert!(inclusion_proof(&stored, 5, 5).is_err());
    }

    #[test]
    fn every_consistency_proof_in_small_trees_checks_and_a_wrong_one_fails() {
        let all = records(41);
        let stored = MemoryHashes::of(&all);
        for new in 0..=40u64 {
            let new_root = naive_root(&all[..new as usize]);
            for old in 0..=new {
                let old_root = naive_root(&all[..old as usize]);
                let proof = consistency_proof(&stored, new, old).unwrap();
                check_consistency(&proof, new, &new_root, old, &old_root).unwrap();
                if old > 0 && old < new {
                    // A different old tree (a fork) and a wrong new size fail.
                    let forked = record_hash(b"forked");
                    let mut other = all[..old as usize].to_vec();
                    other[old as usize - 1] = forked;
                    assert!(
                        check_consistency(&proof, new, &new_root, old, &naive_root(&other))
                            .is_err()
                    );
                    let next_root = naive_root(&all[..new as usize + 1]);
                    assert!(
                        check_consistency(&proof, new + 1, &next_root, old, &old_root).is_err()
                    );
                    assert!(check_consistency(&proof, new, &old_root, old, &old_root).is_err());
                    if let Some(first) = proof.first() {
                        let mut changed = proof.clone();
                        changed[0] = node_hash(first, first);
                        assert!(
                            check_consistency(&changed, new, &new_root, old, &old_root).is_err()
                        );
                    }
                }
                if old == new && new > 0 {
                    assert!(
                        check_consistency(&proof, new, &new_root, old, &record_hash(b"x")).is_err()
                    );
                }
            }
            assert!(check_consistency(&[], new, &new_root, 0, &record_hash(b"x")).is_err());
        }
        assert!(consistency_proof(&stored, 3, 4).is_err());
        assert!(check_consistency(&[], 3, &empty_root(), 4, &empty_root()).is_err());
    }

    #[test]
    fn a_reader_error_or_short_answer_is_an_error_not_a_panic() {
        struct Short;
        impl StoredHashes for Short {
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, LogError> {
                Ok(vec![[0; 32]])
            }
        }
        struct Failing;
        impl StoredHashes for Failing {
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, LogError> {
                Err(LogError::Verification("tile 7 is missing".into()))
            }
        }
        let e = inclusion_proof(&Short, 100, 3).unwrap_err().to_string();
        assert!(e.contains("got 1"), "{e}");
        let e = consistency_proof(&Failing, 100, 3).unwrap_err().to_string();
        assert_eq!(e, "tile 7 is missing");
    }
}
