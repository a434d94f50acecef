//! Throughput of the pi model on one worker, in samples per second.
//!
//! Compare with `../shared/yardstick` (`cargo run --release -- one pi 1000000000`)
//! measured in the same sitting: the ratio is what matters, not the absolute time.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use carlo::model::Model;

use carlo::models::{Pi, PiParams};
use carlo::random::{Family, stream};

fn pi(c: &mut Criterion) {
    let model = Pi::new(&PiParams {}).expect("pi has no parameters");
    let mut group = c.benchmark_group("pi");
    let samples = 1 << 20;
    group.throughput(Throughput::Elements(samples));
    group.bench_function("simulate_1M", |b| {
        let mut rng = stream(42, Family::Chunk, 0);
        b.iter(|| model.simulate(&mut rng, samples));
    });
    group.finish();
}

criterion_group!(benches, pi);
criterion_main!(benches);
