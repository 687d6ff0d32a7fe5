//! The streaming root (`RootBuilder`) and the prebuilt levels (`Levels`) against the
//! recursive definition of RFC 6962 §2.1 for tree sizes up to 2049 (every one up to 600), and inclusion
//! paths of the wrong length, for indices at or past the size, and for trees of 0 and 1
//! leaves.

use seqprov_format::merkle::{
    EMPTY_PREFIX, Levels, RootBuilder, inclusion_path, leaf_hash, node_hash, root, root_from_path,
};

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

/// Every size up to 600, then every 13th up to 2000 and each power of two up to 2048
/// with its neighbours (where the shape of the tree changes).
fn sizes() -> Vec<usize> {
    let mut sizes: Vec<usize> = (0..=600).chain((601..=2000).step_by(13)).collect();
    for k in 0..=11 {
        sizes.extend([(1usize << k) - 1, 1 << k, (1 << k) + 1]);
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

fn leaves(n: usize) -> Vec<[u8; 32]> {
    (0..n as u64).map(|i| leaf_hash(&i.to_le_bytes())).collect()
}

#[test]
fn root_builder_equals_the_reference_root_for_sizes_up_to_2049() {
    let all = leaves(2049);
    for n in sizes() {
        let mut builder = RootBuilder::new();
        for leaf in &all[..n] {
            builder.push(*leaf);
        }
        let expected = reference_root(&all[..n]);
        assert_eq!(builder.finish(), expected, "n = {n}");
        assert_eq!(root(&all[..n]), expected, "n = {n}");
    }
}

/// Every path of every tree up to 130 leaves, and the first, middle and last of the
/// larger sizes, leads to the root; with a hash added or dropped, under another index
/// or an index at or past the size, it does not.
#[test]
fn inclusion_paths_fit_only_their_index_and_length() {
    let all = leaves(2049);
    for n in sizes().into_iter().filter(|&n| n > 0) {
        let leaves = &all[..n];
        let levels = Levels::new(leaves.to_vec());
        let expected = reference_root(leaves);
        let indices: Vec<usize> = if n <= 130 {
            (0..n).collect()
        } else {
            vec![0, n / 2, n - 1]
        };
        for i in indices {
            let path = levels.path(i);
            assert_eq!(path, inclusion_path(leaves, i), "n = {n}, i = {i}");
            let fits = |index: u64, size: u64, path: &[[u8; 32]]| {
                root_from_path(leaves[i], index, size, path) == Some(expected)
            };
            assert!(fits(i as u64, n as u64, &path), "n = {n}, i = {i}");
            let mut longer = path.clone();
            longer.push(leaves[i]);
            assert!(
                !fits(i as u64, n as u64, &longer),
                "n = {n}, i = {i} longer"
            );
            if !path.is_empty() {
                assert!(
                    !fits(i as u64, n as u64, &path[..path.len() - 1]),
                    "n = {n}, i = {i} shorter"
                );
            }
            assert_eq!(root_from_path(leaves[i], n as u64, n as u64, &path), None);
            assert_eq!(root_from_path(leaves[i], u64::MAX, n as u64, &path), None);
            if n > 1 {
                assert!(
                    !fits(((i + 1) % n) as u64, n as u64, &path),
                    "n = {n}, i = {i}"
                );
            }
        }
    }
}

#[test]
fn trees_of_no_leaf_and_one_leaf() {
    let leaf = leaf_hash(b"only");
    // No leaf: nothing is included, whatever the path.
    assert_eq!(root_from_path(leaf, 0, 0, &[]), None);
    assert_eq!(root_from_path(leaf, 0, 0, &[leaf]), None);
    // One leaf: it is the root; its only path is empty.
    assert_eq!(root_from_path(leaf, 0, 1, &[]), Some(leaf));
    assert_eq!(root_from_path(leaf, 0, 1, &[leaf]), None);
    assert_eq!(root_from_path(leaf, 1, 1, &[]), None);
    assert_eq!(Levels::new(vec![leaf]).path(0), Vec::<[u8; 32]>::new());
    let mut builder = RootBuilder::new();
    builder.push(leaf);
    assert_eq!(builder.finish(), leaf);
    assert_eq!(
        RootBuilder::new().finish(),
        *blake3::hash(&[EMPTY_PREFIX]).as_bytes()
    );
}
