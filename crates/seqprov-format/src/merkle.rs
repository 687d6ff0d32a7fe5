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
    // The first level is read from the caller's slice (no copy of the leaves), each next
    // level from the one before: at most half the leaves' size is held on top of them.
    let mut level = next_level(leaves);
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

/// The root of a tree built one leaf at a time, holding only the roots of the perfect
/// subtrees seen so far (at most 64): the same root as [`root`] over the same leaves,
/// without keeping them. A streaming reader uses it so that a bundle's leaves are never
/// all held at once.
#[derive(Debug, Default)]
pub struct RootBuilder {
    /// Roots of complete subtrees, largest (leftmost) first, with their leaf counts, each
    /// a power of two and strictly decreasing.
    stack: Vec<([u8; 32], u64)>,
}

impl RootBuilder {
    /// A builder with no leaves yet.
    pub fn new() -> RootBuilder {
        RootBuilder::default()
    }

    /// Add the next leaf hash.
    pub fn push(&mut self, leaf: [u8; 32]) {
        let mut node = (leaf, 1u64);
        while let Some(&(left, size)) = self.stack.last() {
            if size != node.1 {
                break;
            }
            self.stack.pop();
            node = (node_hash(&left, &node.0), size * 2);
        }
        self.stack.push(node);
    }

    /// The root over every leaf pushed. The subtrees are joined right to left: with RFC
    /// 6962's split at the largest power of two below `n`, the leftmost complete subtree
    /// is the left child of the root and the rest is its right child, recursively.
    pub fn finish(self) -> [u8; 32] {
        let mut subtrees = self.stack.into_iter().rev();
        let Some((mut acc, _)) = subtrees.next() else {
            return *blake3::hash(&[EMPTY_PREFIX]).as_bytes();
        };
        for (left, _) in subtrees {
            acc = node_hash(&left, &acc);
        }
        acc
    }
}

/// One level up: each pair hashed into its node, a lone last hash promoted.
fn next_level(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
    if level.len() == 1 {
        return level.to_vec();
    }
    level
        .par_chunks(2)
        .with_min_len(4096)
        .map(|pair| match pair {
            [left, right] => node_hash(left, right),
            [lone] => *lone,
            _ => unreachable!("chunks of two"),
        })
        .collect()
}

/// Leaf hashes of many encoded entries, in parallel.
pub fn leaf_hashes(encoded_entries: &[Vec<u8>]) -> Vec<[u8; 32]> {
    encoded_entries
        .par_iter()
        .with_min_len(1024)
        .map(|e| leaf_hash(e))
        .collect()
}

/// The largest power of two strictly below `n` (`n > 1`).
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The inclusion path of leaf `index` (RFC 6962 §2.1.1 `PATH(m, D[n])`): sibling hashes
/// from the leaf up to the root.
pub fn inclusion_path(leaves: &[[u8; 32]], index: usize) -> Vec<[u8; 32]> {
    let mut path = Vec::new();
    let (mut start, mut end, mut m) = (0usize, leaves.len(), index);
    // Walk down from the root, remembering the sibling subtree at each split.
    let mut siblings = Vec::new();
    while end - start > 1 {
        let k = split_point(end - start);
        if m < k {
            siblings.push((start + k, end));
            end = start + k;
        } else {
            siblings.push((start, start + k));
            start += k;
            m -= k;
        }
    }
    for (a, b) in siblings.into_iter().rev() {
        path.push(root(&leaves[a..b]));
    }
    path
}

/// Every level of the tree over some leaves, built once, so that the inclusion paths of
/// many leaves cost `O(log n)` each ([`inclusion_path`] costs `O(n)`: proving `k` of `n`
/// entries with it is `O(k·n)`).
#[derive(Debug)]
pub struct Levels {
    /// Level 0 is the leaves; each next level pairs the one before, a lone last node
    /// promoted unchanged; the last level holds the root.
    levels: Vec<Vec<[u8; 32]>>,
}

impl Levels {
    /// Build every level over `leaves`.
    pub fn new(leaves: Vec<[u8; 32]>) -> Levels {
        let mut levels = vec![leaves];
        while let Some(level) = levels.last().filter(|l| l.len() > 1) {
            let next = next_level(level);
            levels.push(next);
        }
        Levels { levels }
    }

    /// The inclusion path of leaf `index`, the same as [`inclusion_path`] gives: at each
    /// level the node paired with ours, where it has one (a promoted node has none).
    pub fn path(&self, index: usize) -> Vec<[u8; 32]> {
        let mut path = Vec::new();
        let mut at = index;
        for level in &self.levels[..self.levels.len().saturating_sub(1)] {
            if let Some(sibling) = level.get(at ^ 1) {
                path.push(*sibling);
            }
            at >>= 1;
        }
        path
    }
}

/// Recompute the root from a leaf hash, its index, the tree size and its inclusion path
/// (RFC 9162 §2.1.3.2); `None` if the path does not fit the index and size.
pub fn root_from_path(
    leaf: [u8; 32],
    index: u64,
    size: u64,
    path: &[[u8; 32]],
) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

#[cfg(test)]
mod tests {

    #[test]
    fn root_builder_gives_the_same_root_as_the_whole_tree() {
        for n in 0..=300usize {
            let leaves: Vec<[u8; 32]> = (0..n)
                .map(|i| leaf_hash(&(i as u64).to_le_bytes()))
                .collect();
            let mut builder = RootBuilder::new();
            for leaf in &leaves {
                builder.push(*leaf);
            }
            assert_eq!(builder.finish(), root(&leaves), "{n} leaves");
        }
    }

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
    fn levels_give_the_same_paths_as_inclusion_path() {
        for n in 1..70usize {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&[i as u8, 2])).collect();
            let levels = Levels::new(leaves.clone());
            for i in 0..n {
                assert_eq!(
                    levels.path(i),
                    inclusion_path(&leaves, i),
                    "n = {n}, i = {i}"
                );
            }
        }
    }

    #[test]
    fn every_inclusion_path_leads_to_the_root_for_every_size_up_to_70() {
        for n in 1..70usize {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&[i as u8, 1])).collect();
            let expected = root(&leaves);
            for i in 0..n {
                let path = inclusion_path(&leaves, i);
                assert!(path.len() <= 7, "n = {n}");
                assert_eq!(
                    root_from_path(leaves[i], i as u64, n as u64, &path),
                    Some(expected),
                    "n = {n}, i = {i}"
                );
                // Wrong index or a changed sibling: no root, or another one.
                let other = (i + 1) % n;
                if other != i {
                    assert_ne!(
                        root_from_path(leaves[i], other as u64, n as u64, &path),
                        Some(expected)
                    );
                }
                // (A path can also fit a larger tree, e.g. leaf 0 of 3 and of 4: the
                // verifier takes the tree size from the signed seal, never from the proof.)
                if let Some(first) = path.first() {
                    let mut bad = path.clone();
                    bad[0] = leaf_hash(first);
                    assert_ne!(
                        root_from_path(leaves[i], i as u64, n as u64, &bad),
                        Some(expected)
                    );
                }
            }
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
