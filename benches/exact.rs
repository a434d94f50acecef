//! The cost of exact block merging (`stats::ExactSums`): adding a block's statistics,
//! merging chunk states, and reading the rounded moments, on realistic data (option
//! prices ~1..100 and Greeks ~1e-3..1e2 in blocks of 4096 samples). The goal
//! is add + merge at most ~1 microsecond a block for 3 columns.
//!
//! `cargo bench --bench exact`; throughput is in blocks. Before the benchmarks it
//! prints the bytes a state takes for 1, 3, 8 and 200 columns, and the thread CPU time
//! of adding and merging a block (which, unlike criterion's wall time, holds on a
//! machine shared with other work).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use rand_distr::StandardNormal;

use carlo::random::{Family, stream};
use carlo::stats::ExactSums;

const BLOCK: usize = 4096;
const LANES: usize = 8;

/// A block's statistics as the lanes design computes them: shifted by sample 0, 8
/// partial sums (sample k in partial k % 8), folded in order.
struct Block {
    count: u64,
    shift: Vec<f64>,
    sum: Vec<f64>,
    cross: Vec<f64>,
}

fn block_of(rows: &[Vec<f64>]) -> Block {
    let d = rows[0].len();
    let shift = rows[0].clone();
    let mut sum = vec![[0.0; LANES]; d];
    let mut cross = vec![[0.0; LANES]; ExactSums::cross_len(d)];
    for (k, row) in rows.iter().enumerate() {
        let lane = k % LANES;
        let dev: Vec<f64> = row.iter().zip(&shift).map(|(x, c)| x - c).collect();
        let mut t = 0;
        for i in 0..d {
            sum[i][lane] += dev[i];
            for j in i..d {
                cross[t][lane] += dev[i] * dev[j];
                t += 1;
            }
        }
    }
    let fold = |p: &[f64; LANES]| p.iter().fold(0.0, |a, x| a + x);
    Block {
        count: rows.len() as u64,
        shift,
        sum: sum.iter().map(fold).collect(),
        cross: cross.iter().map(fold).collect(),
    }
}

/// `blocks` blocks of samples with `dim` columns: a discounted call payoff, its
/// control (the discounted terminal price), then Greek-like columns from 1e-3 to 1e2.
fn blocks(dim: usize, blocks: usize, seed: u64) -> Vec<Block> {
    let mut rng = stream(seed, Family::Chunk, 0);
    (0..blocks)
        .map(|_| {
            let rows: Vec<Vec<f64>> = (0..BLOCK)
                .map(|_| {
                    let z: f64 = rng.sample(StandardNormal);
                    let s = 100.0 * (0.03 + 0.2 * z).exp();
                    let payoff = 0.95 * (s - 100.0).max(0.0);
                    (0..dim)
                        .map(|j| match j {
                            0 => payoff,
                            1 => 0.95 * s,
                            _ => {
                                let scale = 10f64.powf(-3.0 + 5.0 * j as f64 / dim as f64);
                                scale * (s / 100.0) * (1.0 + 0.1 * z)
                            }
                        })
                        .collect()
                })
                .collect();
            block_of(&rows)
        })
        .collect()
}

fn state_of(blocks: &[Block], dim: usize) -> ExactSums {
    let mut s = ExactSums::new(dim);
    for b in blocks {
        s.add_block(b.count, &b.shift, &b.sum, &b.cross);
    }
    s
}

fn sizes() {
    eprintln!("bytes per ExactSums state (realistic data, blocks of {BLOCK}):");
    for (dim, n) in [(1, 256), (3, 256), (8, 256), (200, 4)] {
        let bs = blocks(dim, n, 11);
        let mut s = state_of(&bs, dim);
        let words = s.to_words().len();
        let sums = dim + ExactSums::cross_len(dim);
        eprintln!(
            "  dim {dim:3}: {n} blocks: {} B in memory ({} B used), {} B encoded, \
             {:.1} B/sum encoded; Moments: {} B",
            s.heap_bytes(),
            s.used_bytes(),
            8 * words,
            8.0 * words as f64 / sums as f64,
            8 * (1 + dim + dim * dim)
        );
        // 2^20 times the samples (a long run): the sums' top limbs grow.
        for _ in 0..20 {
            let c = s.clone();
            s.merge(&c);
        }
        eprintln!(
            "            after 2^20 x the samples: {} B encoded",
            8 * s.to_words().len()
        );
    }
}

/// This thread's CPU time in seconds.
fn cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn cpu_figures(bs: &[Block], dim: usize) {
    let reps = 200;
    let per_block = |t: f64| (cpu() - t) / (reps * bs.len()) as f64 * 1e9;
    let mut total = state_of(bs, dim);
    let t = cpu();
    for _ in 0..reps {
        for b in bs {
            total.add_block(b.count, &b.shift, &b.sum, &b.cross);
        }
    }
    let add = per_block(t);
    let t = cpu();
    for _ in 0..reps {
        for chunk in bs.chunks(16) {
            let s = state_of(chunk, dim);
            total.merge(&s);
        }
    }
    let chunk16 = per_block(t);
    let t = cpu();
    for _ in 0..reps {
        for b in bs {
            let s = state_of(std::slice::from_ref(b), dim);
            total.merge(&s);
        }
    }
    let chunk1 = per_block(t);
    black_box(&total);
    eprintln!(
        "thread CPU, dim {dim}: add_block {add:.0} ns/block; add_block + merge, chunks of 16 \
         blocks {chunk16:.0} ns/block, chunks of 1 block {chunk1:.0} ns/block"
    );
}

fn exact(c: &mut Criterion) {
    sizes();
    let dim = 3;
    let bs = blocks(dim, 256, 7);
    cpu_figures(&bs, dim);
    let mut group = c.benchmark_group("exact");
    group.throughput(Throughput::Elements(bs.len() as u64));
    let warm = state_of(&bs, dim);
    group.bench_function("add_block/dim3", |b| {
        let mut s = warm.clone();
        b.iter(|| {
            for blk in &bs {
                s.add_block(blk.count, &blk.shift, &blk.sum, &blk.cross);
            }
            black_box(&s);
        })
    });
    // Chunks of 16 blocks: add each block to the chunk's state, merge the chunk into
    // the run's.
    group.bench_function("add_block+merge/chunk16/dim3", |b| {
        let mut total = warm.clone();
        b.iter(|| {
            for chunk in bs.chunks(16) {
                let mut s = ExactSums::new(dim);
                for blk in chunk {
                    s.add_block(blk.count, &blk.shift, &blk.sum, &blk.cross);
                }
                total.merge(&s);
            }
            black_box(&total);
        })
    });
    // The worst case: every block its own state, merged.
    group.bench_function("add_block+merge/chunk1/dim3", |b| {
        let mut total = warm.clone();
        b.iter(|| {
            for blk in &bs {
                let mut s = ExactSums::new(dim);
                s.add_block(blk.count, &blk.shift, &blk.sum, &blk.cross);
                total.merge(&s);
            }
            black_box(&total);
        })
    });
    let chunk = state_of(&bs[..16], dim);
    group.throughput(Throughput::Elements(1));
    group.bench_function("merge/dim3", |b| {
        let mut total = warm.clone();
        b.iter(|| total.merge(black_box(&chunk)))
    });
    group.finish();

    let mut group = c.benchmark_group("exact_read");
    for dim in [3, 200] {
        let s = state_of(&blocks(dim, if dim > 8 { 4 } else { 256 }, 3), dim);
        group.bench_with_input(BenchmarkId::new("moments", dim), &s, |b, s| {
            b.iter(|| s.moments())
        });
        group.bench_with_input(BenchmarkId::new("to_words", dim), &s, |b, s| {
            b.iter(|| s.to_words())
        });
        let words = s.to_words();
        group.bench_with_input(BenchmarkId::new("from_words", dim), &words, |b, w| {
            b.iter(|| ExactSums::from_words(w).expect("valid"))
        });
    }
    group.finish();
}

criterion_group!(benches, exact);
criterion_main!(benches);
