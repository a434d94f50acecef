//! The cost of Greeks in the same pass: each option model priced alone (its fast
//! loop), priced with delta and vega, and with all five Greeks, on one worker, in paths
//! per second. The goal is delta + vega at most 1.5x the price's time
//! (docs/quants.md has the measured ratios and the commands).

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use carlo::config::{Experiment, Overrides};
use carlo::model::Block;
use carlo::model::Registry;
use carlo::random::lanes::{BLOCK, LaneCursor};

const MODELS: [(&str, &str, u64); 3] = [
    ("european", "type = \"european\"", 1 << 18),
    (
        "asian_12",
        "type = \"asian\"\nfixings = 12\naverage = \"arithmetic\"",
        1 << 15,
    ),
    (
        "barrier_252",
        "type = \"barrier\"\nbarrier = 120.0\nkind = \"up-and-out\"\nsteps = 252",
        1 << 11,
    ),
];

const GREEKS: [(&str, &str); 3] = [
    ("price", "[]"),
    ("delta_vega", "[\"delta\", \"vega\"]"),
    (
        "all",
        "[\"delta\", \"gamma\", \"vega\", \"rho\", \"theta\"]",
    ),
];

fn greeks(c: &mut Criterion) {
    let mut group = c.benchmark_group("greeks");
    for (name, table, _) in MODELS {
        for (which, list) in GREEKS {
            let text = format!(
                "[simulation]\nsamples = 1000\nseed = 42\n[model]\n{table}\noption = \"call\"\n\
                 spot = 100.0\nstrike = 100.0\nrate = 0.05\nvolatility = 0.2\nmaturity = 1.0\n\
                 greeks = {list}\n"
            );
            let experiment = Experiment::parse(
                &text,
                Path::new("bench.toml"),
                &Overrides::default(),
                &Registry::builtin(),
            )
            .expect("bench configs are valid");
            let model = experiment.model.clone();
            group.throughput(Throughput::Elements(BLOCK as u64));
            group.bench_function(format!("{name}/{which}"), |b| {
                let lanes = LaneCursor::new(42).lanes(0);
                b.iter(|| model.simulate(&mut Block::new(0, BLOCK, lanes)));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, greeks);
criterion_main!(benches);
