//! The pieces every option model's sample loop is made of: exact GBM steps, the
//! columns of a sample's row, and the loop that accumulates rows.
//!
//! A sample's row holds the discounted payoff, then the control variate (when
//! `control_variate` is on), then the payoff of the first path alone (when
//! `antithetic` is on: its variance is the plain estimator's, which is what the
//! `variance_reduction` column compares with).

use super::Quantity;
use super::option::{Market, Reduction};
use crate::stats::{Accumulator, Control, Moments};

/// Exact steps of geometric Brownian motion over a fixed time `dt`:
/// `S(t + dt) = S(t) exp((r - q - sigma^2 / 2) dt + sigma sqrt(dt) z)`.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    drift: f64,
    vol: f64,
}

impl Step {
    /// Steps of length `dt` in `market`.
    pub fn new(market: &Market, dt: f64) -> Self {
        let sigma = market.volatility;
        Step {
            drift: (market.rate - market.dividend - 0.5 * sigma * sigma) * dt,
            vol: sigma * dt.sqrt(),
        }
    }

    /// The growth factor `S(t + dt) / S(t)` for the normal `z`.
    #[inline(always)]
    pub fn growth(&self, z: f64) -> f64 {
        (self.drift + self.vol * z).exp()
    }

    /// The log-growth of a step for `z` and for the mirror normal `-z`.
    #[inline(always)]
    pub fn pair(&self, z: f64) -> (f64, f64) {
        (self.drift + self.vol * z, self.drift - self.vol * z)
    }
}

/// One sample: the discounted payoff, the control variate's value (ignored without
/// a control) and the first path's payoff alone (ignored without antithetic paths).
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The sample (the average of a path and its mirror with antithetic paths).
    pub price: f64,
    /// The control variate's sample.
    pub control: f64,
    /// The payoff of the first path of the pair.
    pub plain: f64,
}

impl Row {
    /// The row of a path's `(price, control)` samples, averaged with its mirror
    /// path's when there is one.
    #[inline(always)]
    pub fn of(path: (f64, f64), mirror: Option<(f64, f64)>) -> Row {
        let (price, control) = match mirror {
            Some((p, c)) => (0.5 * (path.0 + p), 0.5 * (path.1 + c)),
            None => path,
        };
        Row {
            price,
            control,
            plain: path.0,
        }
    }
}

/// Which columns a model's rows have, from its variance reduction switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout(Reduction);

impl Layout {
    /// The columns `reduction` needs.
    pub fn new(reduction: Reduction) -> Self {
        Layout(reduction)
    }

    /// Whether samples are antithetic pairs.
    pub fn antithetic(self) -> bool {
        self.0.antithetic
    }

    /// Columns of a row.
    pub fn dim(self) -> usize {
        1 + usize::from(self.0.control_variate) + usize::from(self.0.antithetic)
    }

    /// The `price` quantity: column 0, corrected by the control (whose exact mean is
    /// `control_mean`) when there is one.
    pub fn price(self, control_mean: f64) -> Quantity {
        let mut q = Quantity::new("price", 0);
        if self.0.control_variate {
            q.control = Some(Control {
                column: 1,
                mean: control_mean,
            });
        }
        if self.0.antithetic {
            q.plain = Some(self.dim() - 1);
        }
        q
    }

    #[inline(always)]
    fn pack<const D: usize>(self, row: Row) -> [f64; D] {
        let mut out = [0.0; D];
        out[0] = row.price;
        if D > 1 {
            if self.0.control_variate {
                out[1] = row.control;
            } else {
                out[1] = row.plain;
            }
        }
        if D > 2 {
            out[2] = row.plain;
        }
        out
    }

    /// The statistics of `samples` rows drawn from `sample`.
    ///
    /// Hot loop: the row width is a const generic, so each layout gets its own
    /// unrolled loop with `sample` inlined into it.
    #[inline(always)]
    pub fn accumulate(self, samples: u64, sample: impl FnMut() -> Row) -> Moments {
        match self.dim() {
            1 => self.run::<1>(samples, sample),
            2 => self.run::<2>(samples, sample),
            _ => self.run::<3>(samples, sample),
        }
    }

    #[inline(always)]
    fn run<const D: usize>(self, samples: u64, mut sample: impl FnMut() -> Row) -> Moments {
        let mut acc = Accumulator::<D>::new();
        for _ in 0..samples {
            acc.push(self.pack(sample()));
        }
        acc.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(antithetic: bool, control_variate: bool) -> Layout {
        Layout::new(Reduction {
            antithetic,
            control_variate,
        })
    }

    #[test]
    fn columns_follow_the_switches() {
        let row = Row {
            price: 1.0,
            control: 2.0,
            plain: 3.0,
        };
        let cases = [
            (false, false, vec![1.0]),
            (false, true, vec![1.0, 2.0]),
            (true, false, vec![1.0, 3.0]),
            (true, true, vec![1.0, 2.0, 3.0]),
        ];
        for (anti, cv, expected) in cases {
            let l = layout(anti, cv);
            let m = l.accumulate(2, || row);
            assert_eq!(m.mean, expected, "antithetic {anti}, control {cv}");
            let q = l.price(5.0);
            assert_eq!(q.control.map(|c| c.column), cv.then_some(1));
            assert_eq!(q.plain, anti.then_some(expected.len() - 1));
        }
    }
}
