//! Throughput of each option model on one worker, in samples per second (an
//! antithetic sample is a pair of paths), at the
//! reference market (spot 100, strike 100, rate 0.05, volatility 0.2, one year).
//!
//! Compare the European figure with `../shared/yardstick`
//! (`cargo run --release -- one euro_inline 50000000`) measured in the same sitting:
//! the ratio is what matters, not the absolute time. QuantLib's Monte Carlo engines
//! take about 250 ns per path step on this kind of machine
//! (`../shared/reference/quantlib.csv`).
//!
//! The loops run on the best SIMD level of the CPU; `CARLO_SIMD=scalar|avx2|avx512
//! cargo bench --bench models` measures one (the bits are the same on every level).
//! docs/performance.md has the figures.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use carlo::config::{Experiment, Overrides};
use carlo::model::Block;
use carlo::model::{Context, Registry};
use carlo::random::lanes::{BLOCK, LaneCursor};

/// The `[model]` table of each case, after the market keys.
const CASES: [(&str, &str, u64); 6] = [
    (
        "european",
        "type = \"european\"\noption = \"call\"",
        1 << 20,
    ),
    (
        "european_antithetic_control",
        "type = \"european\"\noption = \"call\"\nantithetic = true\ncontrol_variate = true",
        1 << 20,
    ),
    (
        "asian_12_control",
        "type = \"asian\"\noption = \"call\"\nfixings = 12\naverage = \"arithmetic\"\ncontrol_variate = true",
        1 << 16,
    ),
    (
        "barrier_252",
        "type = \"barrier\"\noption = \"call\"\nbarrier = 120.0\nkind = \"up-and-out\"\nsteps = 252",
        1 << 12,
    ),
    (
        "american_50",
        "type = \"american\"\noption = \"put\"\nsteps = 50",
        1 << 14,
    ),
    (
        "american_50_control",
        "type = \"american\"\noption = \"put\"\nsteps = 50\ncontrol_variate = true",
        1 << 14,
    ),
];

fn models(c: &mut Criterion) {
    let mut group = c.benchmark_group("models");
    for (name, table, _) in CASES {
        let text = format!(
            "[simulation]\nsamples = 1000\nseed = 42\n[model]\n{table}\n\
             spot = 100.0\nstrike = 100.0\nrate = 0.05\nvolatility = 0.2\nmaturity = 1.0\n"
        );
        let experiment = Experiment::parse(
            &text,
            Path::new("bench.toml"),
            &Overrides::default(),
            &Registry::builtin(),
        )
        .expect("bench configs are valid");
        let model = Registry::builtin()
            .build(&experiment.job.model, &Context::new(42))
            .expect("valid parameters");
        group.throughput(Throughput::Elements(BLOCK as u64));
        group.bench_function(name, |b| {
            let lanes = LaneCursor::new(42).lanes(0);
            b.iter(|| model.simulate(&mut Block::new(0, BLOCK, lanes)));
        });
    }
    group.finish();
}

criterion_group!(benches, models);
criterion_main!(benches);
