//! Micro-benchmarks for the parts of sealing and verifying that grow with the number of
//! files rather than their size: entry encoding, bundle parsing (decode + canonical
//! check) and the Merkle tree, at 100k and 1M entries.
//!
//! Run: `cargo bench -p seqprov --bench entries_and_merkle`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use seqprov::format::manifest::{Bytes32, Entry, EntryKind};
use seqprov::format::merkle;
use seqprov::seal::{SealOptions, sign_entries};
use seqprov::{Bundle, PrivateKey};

fn entries(n: usize) -> Vec<Entry> {
    let mut out: Vec<Entry> = (0..n)
        .map(|i| Entry {
            path: format!(
                "Data/Intensities/BaseCalls/L00{}/C{}.1/s_{}_{:07}.bcl.gz",
                i % 4 + 1,
                i / 4000 + 1,
                i % 4 + 1,
                i
            ),
            kind: EntryKind::File,
            salt: Bytes32(*blake3::hash(&i.to_le_bytes()).as_bytes()),
            size: Some(98_304 + i as u64 % 4096),
            blake3: Some(Bytes32(*blake3::hash(&(i + 1).to_le_bytes()).as_bytes())),
            sha256: None,
            target: None,
            content: None,
        })
        .collect();
    out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    assert_eq!(out.len(), n, "every generated path is distinct");
    out
}

fn bench(c: &mut Criterion) {
    let key = PrivateKey::from_seed(&[1; 32], None);
    for n in [100_000usize, 1_000_000] {
        let list = entries(n);
        let encoded: Vec<Vec<u8>> = list.iter().map(Entry::to_cbor).collect();
        let leaves = merkle::leaf_hashes(&encoded);
        let bundle = sign_entries(list.clone(), "run", &key, &SealOptions::default())
            .unwrap()
            .bundle;

        let mut group = c.benchmark_group("entries");
        group.sample_size(10);
        group.throughput(Throughput::Elements(list.len() as u64));
        group.bench_with_input(BenchmarkId::new("encode", n), &list, |b, list| {
            b.iter(|| list.iter().map(Entry::to_cbor).collect::<Vec<_>>())
        });
        group.bench_with_input(
            BenchmarkId::new("leaf_hashes", n),
            &encoded,
            |b, encoded| b.iter(|| merkle::leaf_hashes(black_box(encoded))),
        );
        group.bench_with_input(BenchmarkId::new("merkle_root", n), &leaves, |b, leaves| {
            b.iter(|| merkle::root(black_box(leaves)))
        });
        group.bench_with_input(BenchmarkId::new("bundle_parse", n), &bundle, |b, bundle| {
            b.iter(|| Bundle::parse(black_box(bundle)).unwrap())
        });
        // What `verify` runs: the seal's signature first, then the entries.
        group.bench_with_input(
            BenchmarkId::new("bundle_parse_seal_first", n),
            &bundle,
            |b, bundle| b.iter(|| seqprov::bundle_file::parse_bundle(black_box(bundle)).unwrap()),
        );
        // A forged seal: the entry list is walked, not kept.
        let mut forged = bundle.clone();
        let (_, seal_len) = seqprov::format::cbor::decode_first(&forged).unwrap();
        forged[seal_len - 10] ^= 1;
        group.bench_with_input(
            BenchmarkId::new("bundle_parse_bad_seal", n),
            &forged,
            |b, forged| b.iter(|| seqprov::bundle_file::parse_bundle(black_box(forged)).unwrap()),
        );
        group.finish();
    }
}

/// Proof size and verification time against the number of sealed entries: both should
/// grow with log2(entries).
fn proofs(c: &mut Criterion) {
    let key = PrivateKey::from_seed(&[1; 32], None);
    let mut group = c.benchmark_group("proof");
    group.sample_size(10);
    for n in [10usize, 10_000, 1_000_000] {
        let list = entries(n);
        let wanted = list[list.len() / 2].path.clone();
        let bundle_bytes = sign_entries(list, "run", &key, &SealOptions::default())
            .unwrap()
            .bundle;
        let bundle = Bundle::parse(&bundle_bytes).unwrap();
        let proof = seqprov::format::proof::prove(&bundle, &[wanted]).unwrap();
        let (_, items) = seqprov::format::proof::parse(&proof).unwrap();
        eprintln!(
            "proof of 1 entry among {n}: {} bytes (path of {} hashes); bundle {} bytes",
            proof.len(),
            items[0].path.len(),
            bundle_bytes.len()
        );
        group.bench_with_input(
            BenchmarkId::new("parse_and_check", n),
            &proof,
            |b, proof| b.iter(|| seqprov::format::proof::parse(black_box(proof)).unwrap()),
        );
    }
    group.finish();
}

criterion_group!(benches, bench, proofs);
criterion_main!(benches);
