//! Single-core digest rates, the numbers behind the `--sha256` bound in
//! `benches/README.md`: SHA-256 of one stream (the `sha2` crate, SHA-NI where the CPU has
//! it), SHA-256 of two streams with their blocks in turn (`seqprov::engine::sha256_lanes`, what
//! the engine does with two files), BLAKE3 on one thread, and what one engine thread does
//! for two files with `--sha256` (BLAKE3 of each, then the two SHA-256 lanes) in 256 KiB
//! steps. Throughput is bytes of input per second, both streams counted.
//!
//! Run: `cargo bench -p seqprov --bench digest_rates`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use seqprov::engine::sha256_lanes::{Sha256Lane, update_two};
use sha2::{Digest, Sha256};

const LEN: usize = 16 << 20;
const STEP: usize = 256 << 10;

fn input(seed: u32) -> Vec<u8> {
    (0..LEN as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

fn bench(c: &mut Criterion) {
    let (a, b) = (input(1), input(2));
    let mut group = c.benchmark_group("one core");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(LEN as u64));
    group.bench_function("sha256, one stream", |bench| {
        bench.iter(|| black_box(Sha256::digest(black_box(&a))))
    });
    group.bench_function("blake3, one thread", |bench| {
        bench.iter(|| black_box(blake3::hash(black_box(&a))))
    });
    group.throughput(Throughput::Bytes(2 * LEN as u64));
    group.bench_function("sha256, two lanes", |bench| {
        bench.iter(|| {
            let (mut x, mut y) = (Sha256Lane::new(), Sha256Lane::new());
            update_two(&mut x, black_box(&a), &mut y, black_box(&b));
            black_box((x.finalize(), y.finalize()))
        })
    });
    group.bench_function(
        "blake3 + sha256 lanes, two files (seal --sha256)",
        |bench| {
            bench.iter(|| {
                let (mut x, mut y) = (Sha256Lane::new(), Sha256Lane::new());
                let (mut bx, mut by) = (blake3::Hasher::new(), blake3::Hasher::new());
                for (p, q) in a.chunks(STEP).zip(b.chunks(STEP)) {
                    bx.update(p);
                    by.update(q);
                    update_two(&mut x, p, &mut y, q);
                }
                black_box((x.finalize(), y.finalize(), bx.finalize(), by.finalize()))
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
