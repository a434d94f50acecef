//! Time to position a chunk's stream: the O(log i) derivation of `carlo::random`.
//!
//! Stream `i` is the seed's generator after `i` calls of `jump()`; carlo gets there
//! with one jump loop per set bit of `i`. Before the benchmarks, this prints the time
//! of the process's first far stream, which includes building the table of jump
//! powers (once per process).

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group};

use carlo::random::{Cursor, Family, Stream, stream};
use rand::SeedableRng;

fn streams(c: &mut Criterion) {
    let mut group = c.benchmark_group("streams");
    group.bench_function("one jump()", |b| {
        let mut rng = Stream::seed_from_u64(42);
        b.iter(|| rng.jump());
    });
    for (name, index) in [
        ("1", 1),
        ("2^40", 1 << 40),
        ("10^10", 10_000_000_000),
        ("u64::MAX", u64::MAX),
    ] {
        group.bench_with_input(BenchmarkId::new("stream", name), &index, |b, &i| {
            b.iter(|| stream(42, Family::Chunk, black_box(i)));
        });
    }
    group.bench_function("cursor next chunk", |b| {
        let mut cursor = Cursor::new(42, Family::Chunk);
        let mut index = 0;
        b.iter(|| {
            index += 1;
            cursor.stream(index)
        });
    });
    group.bench_function("rand_xoshiro jump_ce(2^40, 128)", |b| {
        b.iter(|| {
            let mut rng = Stream::seed_from_u64(42);
            rng.jump_ce(black_box(1 << 40), 128);
            rng
        });
    });
    group.finish();
}

criterion_group!(benches, streams);

fn main() {
    let start = Instant::now();
    black_box(stream(42, Family::Chunk, 1 << 40));
    let first = start.elapsed();
    let start = Instant::now();
    black_box(stream(42, Family::Chunk, 1 << 40));
    let second = start.elapsed();
    println!(
        "first stream of chunk 2^40 in this process (with the jump table): {first:?}; \
         the next one: {second:?}"
    );
    benches();
    Criterion::default().configure_from_args().final_summary();
}
