//! The cost of the numerical references, which every build of a barrier or American
//! model computes: the discrete barrier by quadrature (price; price and Greeks), the
//! Bermudan by quadrature, the American by finite differences, at the reference
//! market (spot 100, strike 100, rate 0.05, volatility 0.2, one year). docs/models.md
//! quotes these times (`cargo bench --bench references`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use carlo::models::options::american_reference::american;
use carlo::models::options::barrier_reference::{discrete_barrier, discrete_barrier_greeks};
use carlo::models::options::bermudan_reference::bermudan;
use carlo::models::{BarrierKind, Market, OptionType};

fn market(option: OptionType) -> Market {
    Market {
        option,
        spot: 100.0,
        strike: 100.0,
        rate: 0.05,
        dividend: 0.0,
        volatility: 0.2,
        maturity: 1.0,
    }
}

fn references(c: &mut Criterion) {
    let mut group = c.benchmark_group("references");
    group.sample_size(20);
    let call = market(OptionType::Call);
    let put = market(OptionType::Put);
    for steps in [12u64, 252, 1000] {
        group.bench_function(format!("barrier_price_{steps}"), |b| {
            b.iter(|| discrete_barrier(black_box(&call), 120.0, BarrierKind::UpAndOut, 0.0, steps))
        });
    }
    group.bench_function("barrier_greeks_252", |b| {
        b.iter(|| discrete_barrier_greeks(black_box(&call), 120.0, BarrierKind::UpAndOut, 0.0, 252))
    });
    for dates in [50u64, 252] {
        group.bench_function(format!("bermudan_{dates}"), |b| {
            b.iter(|| bermudan(black_box(&put), dates))
        });
    }
    group.bench_function("american", |b| b.iter(|| american(black_box(&put))));
    group.finish();
}

criterion_group!(benches, references);
criterion_main!(benches);
