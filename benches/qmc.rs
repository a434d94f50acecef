//! Throughput of scrambled Sobol points (`carlo::random::qmc`) on one core, in points per
//! second, in 1, 12 and 252 dimensions (a point in 252 dimensions is one daily path
//! of a year); plus the costs around them: one random access (a chunk's start), a
//! replicate's scramble, and a Brownian bridge over 252 dates.
//!
//! Sequential points cost one XOR and one integer-to-double map per coordinate. The
//! figure to compare is coordinates per second against `../shared/yardstick`'s raw
//! xoshiro256++ (about 1.15 ns per u64 here), measured in the same sitting: a
//! coordinate should cost less than a pseudo-random number.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use carlo::random::qmc::{BrownianBridge, Sobol};

/// Points per measured iteration: a typical chunk.
const POINTS: u64 = 1 << 14;

fn sequential(c: &mut Criterion) {
    let mut group = c.benchmark_group("qmc_points");
    for dims in [1usize, 12, 252] {
        let sobol = Sobol::scrambled(dims, 42, 0).expect("dims within D_MAX");
        let mut u = vec![0.0; dims];
        group.throughput(Throughput::Elements(POINTS));
        group.bench_with_input(BenchmarkId::new("next_unit", dims), &dims, |b, _| {
            b.iter(|| {
                let mut points = sobol.points(1 << 20);
                let mut sum = 0.0;
                for _ in 0..POINTS {
                    points.next_unit(&mut u);
                    sum += u[dims - 1];
                }
                sum
            });
        });
    }
    group.finish();
}

fn around(c: &mut Criterion) {
    let mut group = c.benchmark_group("qmc_setup");
    let sobol = Sobol::scrambled(252, 42, 0).expect("dims within D_MAX");
    let mut x = vec![0u64; 252];
    group.throughput(Throughput::Elements(1));
    // A chunk's start, at its worst: 63 set bits in the Gray code of the index.
    group.bench_function("point_bits_252", |b| {
        b.iter(|| sobol.point_bits(std::hint::black_box(0x5555_5555_5555_5555), &mut x))
    });
    group.bench_function("scrambled_252_replicate_7", |b| {
        b.iter(|| Sobol::scrambled(252, 42, std::hint::black_box(7)).expect("valid"))
    });
    let bridge = BrownianBridge::uniform(252, 1.0).expect("valid dates");
    let z: Vec<f64> = (0..252)
        .map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0)
        .collect();
    let mut w = vec![0.0; 252];
    group.bench_function("bridge_path_252", |b| {
        b.iter(|| bridge.path(std::hint::black_box(&z), &mut w))
    });
    group.finish();
}

criterion_group!(benches, sequential, around);
criterion_main!(benches);
