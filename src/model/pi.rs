//! Pi from the fraction of uniform points in the unit square that fall in the
//! quarter disc.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::{Entry, Model, Quantity};
use crate::Error;
use crate::rng::Stream;
use crate::stats::Moments;

/// `pi` takes no parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PiParams {}

/// Each sample is `4` if a uniform point of `[0,1)^2` lies inside the unit circle,
/// else `0`; its mean is pi and its variance `pi (4 - pi)`.
#[derive(Debug, Clone)]
pub struct Pi {
    quantities: [Quantity; 1],
}

/// The registry entry of `type = "pi"`.
pub(super) fn entry() -> Entry {
    Entry::new(
        "pi",
        "pi from points in the unit square (reference: pi)",
        |p: &PiParams, _| Pi::new(p),
    )
}

impl Pi {
    /// The pi model.
    pub fn new(_params: &PiParams) -> Result<Self, Error> {
        Ok(Pi {
            quantities: [Quantity::new("pi", 0).exact(std::f64::consts::PI)],
        })
    }
}

impl Model for Pi {
    fn dim(&self) -> usize {
        1
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        // Hot loop, hand-written: count hits, then derive the statistics of the
        // 0/4 samples exactly from the count, instead of a per-sample update.
        let mut hits = 0u64;
        for _ in 0..samples {
            let x: f64 = rng.random();
            let y: f64 = rng.random();
            hits += u64::from(x * x + y * y < 1.0);
        }
        let n = samples as f64;
        let h = hits as f64;
        let mut m = Moments::empty(1);
        m.count = samples;
        m.mean[0] = 4.0 * h / n;
        // sum (x - mean)^2 over h fours and n - h zeros = 16 h (n - h) / n.
        m.comoment[0] = 16.0 * h * (n - h) / n;
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Family, stream};
    use crate::stats::Accumulator;

    #[test]
    fn hit_count_statistics_equal_per_sample_accumulation() {
        let pi = Pi::new(&PiParams {}).unwrap();
        let fast = pi.simulate(&mut stream(1, Family::Chunk, 0), 10_000);
        let mut rng = stream(1, Family::Chunk, 0);
        let mut acc = Accumulator::<1>::new();
        for _ in 0..10_000 {
            let x: f64 = rng.random();
            let y: f64 = rng.random();
            acc.push([if x * x + y * y < 1.0 { 4.0 } else { 0.0 }]);
        }
        let slow = acc.finish();
        assert_eq!(fast.count, slow.count);
        assert!((fast.mean[0] - slow.mean[0]).abs() < 1e-13);
        assert!((fast.comoment[0] - slow.comoment[0]).abs() < 1e-9 * slow.comoment[0]);
    }
}
