//! Per-element cost of carlo's own transcendental functions (`carlo::math`) against
//! the platform's libm and the ziggurat normal the models use, on blocks of 1024
//! values (the size a model's hot loop would hand them).
//!
//! `cargo bench --bench math`; `CARLO_SIMD` does not matter here, every available
//! level is measured by name. Throughput is in elements: criterion's time per
//! iteration divided by 1024 is the cost per value.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::Rng;

use carlo::math::{self, Level, Simd};
use carlo::random;
use carlo::random::{Family, stream};

const BLOCK: usize = 1024;

/// Inputs of the kind option pricing feeds `exp`: log-returns within a few units.
fn exp_inputs() -> Vec<f64> {
    let mut rng = stream(7, Family::Chunk, 0);
    (0..BLOCK)
        .map(|_| ((rng.next_u64() >> 11) as f64 * 2f64.powi(-53) - 0.5) * 20.0)
        .collect()
}

/// Positive inputs over many octaves.
fn ln_inputs() -> Vec<f64> {
    let mut rng = stream(8, Family::Chunk, 0);
    (0..BLOCK)
        .map(|_| 2f64.powf(((rng.next_u64() >> 11) as f64 * 2f64.powi(-53) - 0.5) * 60.0))
        .collect()
}

fn levels() -> Vec<Simd> {
    Level::available()
        .into_iter()
        .map(|l| Simd::new(l).expect("available"))
        .collect()
}

fn exp(c: &mut Criterion) {
    let xs = exp_inputs();
    let mut group = c.benchmark_group("exp");
    group.throughput(Throughput::Elements(BLOCK as u64));
    let mut buf = xs.clone();
    group.bench_function("std_f64_exp", |b| {
        b.iter(|| {
            buf.copy_from_slice(&xs);
            for x in buf.iter_mut() {
                *x = x.exp();
            }
            black_box(&mut buf);
        })
    });
    group.bench_function("carlo_exp_scalar_fn", |b| {
        b.iter(|| {
            buf.copy_from_slice(&xs);
            for x in buf.iter_mut() {
                *x = math::exp(*x);
            }
            black_box(&mut buf);
        })
    });
    for simd in levels() {
        group.bench_function(BenchmarkId::new("exp_slice", simd.level()), |b| {
            b.iter(|| {
                buf.copy_from_slice(&xs);
                simd.exp_slice(&mut buf);
                black_box(&mut buf);
            })
        });
    }
    group.finish();
}

fn ln(c: &mut Criterion) {
    let xs = ln_inputs();
    let mut group = c.benchmark_group("ln");
    group.throughput(Throughput::Elements(BLOCK as u64));
    let mut buf = xs.clone();
    group.bench_function("std_f64_ln", |b| {
        b.iter(|| {
            buf.copy_from_slice(&xs);
            for x in buf.iter_mut() {
                *x = x.ln();
            }
            black_box(&mut buf);
        })
    });
    group.bench_function("carlo_ln_scalar_fn", |b| {
        b.iter(|| {
            buf.copy_from_slice(&xs);
            for x in buf.iter_mut() {
                *x = math::ln(*x);
            }
            black_box(&mut buf);
        })
    });
    for simd in levels() {
        group.bench_function(BenchmarkId::new("ln_slice", simd.level()), |b| {
            b.iter(|| {
                buf.copy_from_slice(&xs);
                simd.ln_slice(&mut buf);
                black_box(&mut buf);
            })
        });
    }
    group.finish();
}

/// Normals: the ziggurat draws its own bits (one `u64` per normal ~99% of the time);
/// the inversion is measured on ready bits, and with the bits drawn from the same
/// generator, which is the fair comparison.
fn normals(c: &mut Criterion) {
    let mut group = c.benchmark_group("normal");
    group.throughput(Throughput::Elements(BLOCK as u64));
    let mut out = vec![0.0; BLOCK];
    let mut rng = stream(9, Family::Chunk, 0);
    group.bench_function("ziggurat_model_normal", |b| {
        b.iter(|| {
            for x in out.iter_mut() {
                *x = random::normal(&mut rng);
            }
            black_box(&mut out);
        })
    });
    let mut bits = vec![0u64; BLOCK];
    for w in bits.iter_mut() {
        *w = rng.next_u64();
    }
    group.bench_function("normal_from_bits_scalar_fn", |b| {
        b.iter(|| {
            for (x, &w) in out.iter_mut().zip(&bits) {
                *x = math::normal_from_bits(w);
            }
            black_box(&mut out);
        })
    });
    for simd in levels() {
        group.bench_function(BenchmarkId::new("normals_from_bits", simd.level()), |b| {
            b.iter(|| {
                simd.normals_from_bits(black_box(&bits), &mut out);
                black_box(&mut out);
            })
        });
    }
    for simd in levels() {
        group.bench_function(
            BenchmarkId::new("draw_bits_then_normals", simd.level()),
            |b| {
                b.iter(|| {
                    // the generator state in a local, as a model's loop holds it
                    let mut local = rng.clone();
                    for w in bits.iter_mut() {
                        *w = local.next_u64();
                    }
                    rng = local;
                    simd.normals_from_bits(&bits, &mut out);
                    black_box(&mut out);
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, exp, ln, normals);
criterion_main!(benches);
