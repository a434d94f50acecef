//! Your own model with the whole carlo command line: a Gaussian random walk.
//!
//! This program registers one model, `random-walk`, next to carlo's built-in ones and
//! hands the registry to `carlo::app::main`. It then has every subcommand and backend
//! the `carlo` binary has, for its own model:
//!
//! ```sh
//! cargo build --release --example random_walk
//! target/release/examples/random_walk models
//! target/release/examples/random_walk run examples/random_walk/random-walk.toml
//! target/release/examples/random_walk run examples/random_walk/random-walk.toml \
//!     --backend processes --workers 3 --set model.drift=0.05
//! ```
//!
//! The walk starts at 0 and takes `steps` independent steps `X_k ~ N(drift,
//! volatility^2)`; `S_k` is its position after `k` steps. Three quantities, each with
//! an exact reference:
//!
//! - `max`: the running maximum `M_n = max(0, S_1, ..., S_n)`. Spitzer's identity for
//!   sums of independent, identically distributed steps gives its mean exactly:
//!   `E[M_n] = sum_{k=1..n} E[S_k^+] / k`, and with `S_k ~ N(k mu, k sigma^2)`,
//!   `E[S_k^+] = k mu Phi(d) + sigma sqrt(k) phi(d)` with `d = sqrt(k) mu / sigma`.
//! - `final`: the final position `S_n`, of mean `n mu`.
//! - `positive`: whether the walk ends above 0, of probability `Phi(sqrt(n) mu / sigma)`.

use std::process::ExitCode;

use carlo::Error;
use carlo::model::{Block, Entry, Model, Quantity, Registry};
use carlo::random::normal;
use carlo::stats::{Accumulator, BlockStats};
use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

/// The `[model]` keys of `type = "random-walk"`. Serde reads them from the config
/// (unknown keys refused, defaults filled in); what it holds is what a run's
/// fingerprint covers, so a checkpoint or a shard of another walk is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WalkParams {
    /// Steps of each walk.
    steps: u64,
    /// Mean of a step.
    #[serde(default)]
    drift: f64,
    /// Standard deviation of a step.
    #[serde(default = "one")]
    volatility: f64,
}

fn one() -> f64 {
    1.0
}

/// The model: validated parameters and the quantities it estimates.
#[derive(Debug)]
struct RandomWalk {
    steps: u64,
    drift: f64,
    volatility: f64,
    quantities: [Quantity; 3],
}

/// Most steps a walk may take: a sample's cost grows with them.
const MAX_STEPS: u64 = 1_000_000;

impl RandomWalk {
    /// Checks the parameters (errors name the key, as `model.KEY`) and computes the
    /// exact references.
    fn new(p: &WalkParams) -> Result<Self, Error> {
        if !(1..=MAX_STEPS).contains(&p.steps) {
            return Err(Error::parameter(
                "model.steps",
                format!("must be between 1 and {MAX_STEPS}, found {}", p.steps),
            ));
        }
        if !p.drift.is_finite() {
            return Err(Error::parameter(
                "model.drift",
                format!("must be finite, found {}", p.drift),
            ));
        }
        if !(p.volatility.is_finite() && p.volatility > 0.0) {
            return Err(Error::parameter(
                "model.volatility",
                format!("must be positive and finite, found {}", p.volatility),
            ));
        }
        let (mu, sigma) = (p.drift, p.volatility);
        let phi = Normal::standard();
        let positive_part = |k: f64| {
            let d = k.sqrt() * mu / sigma;
            k * mu * phi.cdf(d) + sigma * k.sqrt() * phi.pdf(d)
        };
        let expected_max: f64 = (1..=p.steps)
            .map(|k| positive_part(k as f64) / k as f64)
            .sum();
        let n = p.steps as f64;
        Ok(RandomWalk {
            steps: p.steps,
            drift: mu,
            volatility: sigma,
            quantities: [
                Quantity::new("max", 0).exact(expected_max),
                Quantity::new("final", 1).exact(n * mu),
                Quantity::new("positive", 2).exact(phi.cdf(n.sqrt() * mu / sigma)),
            ],
        })
    }
}

impl Model for RandomWalk {
    fn dim(&self) -> usize {
        3
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    /// One walk per sample, sample `k` drawing its `steps` normals from its lane's
    /// stream (`block.lane(k)`) and nothing else: that is all the determinism contract
    /// asks of a model.
    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        let mut acc = Accumulator::<3>::new();
        for k in 0..block.samples() {
            let rng = block.lane(k);
            let (mut position, mut max) = (0.0f64, 0.0f64);
            for _ in 0..self.steps {
                position += self.drift + self.volatility * normal(rng);
                max = max.max(position);
            }
            acc.push([max, position, f64::from(u8::from(position > 0.0))]);
        }
        Ok(acc.finish())
    }
}

/// The registry entry: the config's `type`, a line for `carlo models`, the keys, and
/// the constructor.
fn random_walk() -> Entry {
    Entry::new(
        "random-walk",
        "Gaussian random walk: expected maximum (Spitzer), final position, P(end > 0)",
        |p: &WalkParams, _| RandomWalk::new(p),
    )
    .key("steps", "integer >= 1", "steps of each walk; required")
    .key("drift", "float, default 0", "mean of a step")
    .key(
        "volatility",
        "float > 0, default 1",
        "standard deviation of a step",
    )
}

fn main() -> ExitCode {
    carlo::app::main(Registry::builtin().with(random_walk()))
}
