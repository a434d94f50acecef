//! A model written outside carlo, run through the library API: the volume of the
//! unit ball in 5 dimensions (exactly 8 pi^2 / 15), from uniform points in the cube
//! [-1, 1]^5.
//!
//!     cargo run --release --example custom_model

use carlo::config::Job;
use carlo::engine::{Quiet, run_on};
use carlo::exec::{Sequential, Threads};
use carlo::model::{Model, ModelSpec, Quantity};
use carlo::rng::Stream;
use carlo::stats::{Accumulator, Moments};
use rand::RngExt;

/// Each sample is the cube's volume, 2^5, if the point lies in the ball, else 0.
#[derive(Debug)]
struct BallVolume {
    quantities: [Quantity; 1],
}

impl BallVolume {
    const DIM: usize = 5;

    fn new() -> Self {
        let exact = 8.0 * std::f64::consts::PI.powi(2) / 15.0;
        BallVolume {
            quantities: [Quantity::new("volume", 0).exact(exact)],
        }
    }
}

impl Model for BallVolume {
    fn dim(&self) -> usize {
        1
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        let cube = 2f64.powi(Self::DIM as i32);
        let mut acc = Accumulator::<1>::new();
        for _ in 0..samples {
            let r2: f64 = (0..Self::DIM)
                .map(|_| {
                    let x = 2.0 * rng.random::<f64>() - 1.0;
                    x * x
                })
                .sum();
            acc.push([if r2 < 1.0 { cube } else { 0.0 }]);
        }
        acc.finish()
    }
}

fn main() -> Result<(), carlo::Error> {
    let model = BallVolume::new();
    let job = Job {
        samples: 4_000_000,
        seed: 2026,
        chunk_size: 65_536,
        confidence: 0.99,
        model: ModelSpec::External {
            name: "ball5".into(),
        },
        target: None,
    };
    let on_threads = run_on("ball5", &job, &model, &mut Threads::new(0)?, &mut Quiet)?;
    let sequential = run_on("ball5", &job, &model, &mut Sequential, &mut Quiet)?;
    // The promise holds for models written anywhere: same job, same bits.
    assert_eq!(on_threads.estimates, sequential.estimates);

    let (quantity, e) = &on_threads.estimates[0];
    let (exact, _) = quantity.reference.expect("set above");
    println!(
        "{} of the 5-ball: {:.5} ± {:.5} ({}% interval {:.5}..{:.5}); exact {:.5}; {:.2} s on {} threads",
        quantity.name,
        e.estimate,
        e.std_error,
        100.0 * e.confidence,
        e.ci_low,
        e.ci_high,
        exact,
        on_threads.wall_seconds,
        on_threads.workers,
    );
    Ok(())
}
