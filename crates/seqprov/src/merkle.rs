//! The Merkle tree over a seal's entries (RFC 6962 shape, BLAKE3, domain-separated).
//!
//! - leaf hash: `BLAKE3(0x00 || entry_cbor)` (the entry carries its own random salt);
//! - interior node: `BLAKE3(0x01 || left || right)`;
//! - the root of `n > 1` leaves splits them at `k`, the largest power of two below `n`:
//!   `node(root(leaves[..k]), root(leaves[k..]))`; one leaf is its own root;
//! - the root of no leaves is `BLAKE3(0x02)`.
//!
//! Building level by level and carrying an unpaired last node up unchanged gives the
//! same root; that is how it is computed here.

use rayon::prelude::*;

/// Domain byte of a leaf hash.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain byte of an interior node hash.
pub const NODE_PREFIX: u8 = 0x01;
/// Domain byte of the empty tree's root.
pub const EMPTY_PREFIX: u8 = 0x02;

/// Hash of one leaf from its entry's CBOR bytes.
pub fn leaf_hash(entry_cbor: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(&[LEAF_PREFIX]);
    h.update(entry_cbor);
    *h.finalize().as_bytes()
}

/// Hash of an interior node.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(&[NODE_PREFIX]);
    h.update(left);
    h.update(right);
    *h.finalize().as_bytes()
}

/// Root of the tree over the given leaf hashes.
pub fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.is_empty() {
        return *blake3::hash(&[EMPTY_PREFIX]).as_bytes();
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .par_chunks(2)
            .with_min_len(4096)
            .map(|pair| match pair {
                [left, right] => node_hash(left, right),
                [lone] => *lone,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

/// Leaf hashes of many encoded entries, in parallel.
pub fn leaf_hashes(encoded_entries: &[Vec<u8>]) -> Vec<[u8; 32]> {
    encoded_entries
        .par_iter()
        .with_min_len(1024)
        .map(|e| leaf_hash(e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recursive definition, straight from RFC 6962 §2.1.
    fn reference_root(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves.len() {
            0 => *blake3::hash(&[EMPTY_PREFIX]).as_bytes(),
            1 => leaves[0],
            n => {
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn level_by_level_equals_rfc6962_split_for_every_size_up_to_70() {
        for n in 0..70u8 {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&[i])).collect();
            assert_eq!(root(&leaves), reference_root(&leaves), "n = {n}");
        }
    }

    #[test]
    fn order_and_content_change_the_root() {
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        assert_ne!(root(&[a, b]), root(&[b, a]));
        assert_ne!(root(&[a, b]), root(&[a]));
        assert_ne!(leaf_hash(b"x"), node_hash(&a, &b));
    }
}
