//! Throughput of the pi model on one worker, in samples per second.
//!
//! Compare with `../shared/yardstick` (`cargo run --release -- one pi 1000000000`)
//! measured in the same sitting: the ratio is what matters, not the absolute time.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use carlo::model::{Block, Model};
use carlo::models::{Pi, PiParams};
use carlo::random::lanes::{BLOCK, LaneCursor};

fn pi(c: &mut Criterion) {
    let model = Pi::new(&PiParams {}).expect("pi has no parameters");
    let mut group = c.benchmark_group("pi");
    group.throughput(Throughput::Elements(BLOCK as u64));
    group.bench_function("block", |b| {
        let lanes = LaneCursor::new(42).lanes(0);
        b.iter(|| model.simulate(&mut Block::new(0, BLOCK, lanes)));
    });
    group.finish();
}

criterion_group!(benches, pi);
criterion_main!(benches);
