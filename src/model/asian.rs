//! The Asian option: the payoff of the average of `fixings` spot prices at
//! `t_i = i T / n`, `i = 1..n`.

use serde::{Deserialize, Serialize};

use super::closed_form::{geometric_asian, geometric_asian_mean};
use super::normal::normal;
use super::option::{Market, option_keys, option_params};
use super::path::{Layout, Row, Step};
use super::{Entry, Model, Quantity};
use crate::Error;
use crate::rng::Stream;
use crate::stats::Moments;

/// Which average the option pays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Average {
    /// `(S_1 + ... + S_n) / n`.
    Arithmetic,
    /// `(S_1 ... S_n)^(1/n)`.
    Geometric,
}

option_params! {
    /// The `[model]` keys of `type = "asian"`.
    pub struct AsianParams {
        /// Number of equally spaced fixings, the last at maturity.
        pub fixings: u64,
        /// Arithmetic or geometric average.
        pub average: Average,
    }
}

/// The registry entry of `type = "asian"`.
pub(super) fn entry() -> Entry {
    Entry::new(
        "asian",
        "Asian call or put on the average of equally spaced fixings \
         (reference: exact for the geometric average)",
        |p: &AsianParams, c| super::paths::build(p, c),
    )
    .paths::<AsianParams>()
    .keys(option_keys())
    .warnings(|p: &AsianParams| p.option().warnings())
    .key(
        "fixings",
        "integer >= 1",
        "fixings at t_i = i T / n, the last at maturity; required",
    )
    .key(
        "average",
        "\"arithmetic\" | \"geometric\"",
        "required; the control variate is the geometric Asian price \
             (arithmetic) or the discounted geometric average (geometric)",
    )
}

/// Most fixings a path may have (one normal and one exp each).
const MAX_FIXINGS: u64 = 100_000;

/// The Asian option under GBM.
///
/// The control variate of the arithmetic average is the geometric Asian option on
/// the same path, whose exact price is known; that of the geometric average is the
/// discounted geometric average itself, whose mean is known.
#[derive(Debug, Clone)]
pub struct Asian {
    market: Market,
    fixings: u64,
    average: Average,
    layout: Layout,
    quantities: [Quantity; 1],
}

impl Asian {
    /// Validates the parameters.
    pub fn new(params: &AsianParams) -> Result<Self, Error> {
        let (market, reduction) = params.option().validate()?;
        let fixings = params.fixings;
        if !(1..=MAX_FIXINGS).contains(&fixings) {
            return Err(Error::parameter(
                "model.fixings",
                format!("must be between 1 and {MAX_FIXINGS}, found {fixings}"),
            ));
        }
        let layout = Layout::new(reduction);
        let geometric = geometric_asian(&market, fixings);
        let price = match params.average {
            Average::Arithmetic => layout.price(geometric),
            Average::Geometric => layout
                .price(market.discount() * geometric_asian_mean(&market, fixings))
                .exact(geometric),
        };
        Ok(Asian {
            market,
            fixings,
            average: params.average,
            layout,
            quantities: [price],
        })
    }

    /// Price and control samples of one path, from the sums of its spots and of
    /// their logarithms (relative to the spot today).
    #[inline(always)]
    fn values(&self, sum: f64, log_sum: f64) -> (f64, f64) {
        let m = &self.market;
        let n = self.fixings as f64;
        let discount = m.discount();
        let geometric = m.spot * (log_sum / n).exp();
        match self.average {
            Average::Arithmetic => (
                discount * m.payoff(m.spot * sum / n),
                discount * m.payoff(geometric),
            ),
            Average::Geometric => (discount * m.payoff(geometric), discount * geometric),
        }
    }
}

impl Model for Asian {
    fn dim(&self) -> usize {
        self.layout.dim()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        // Hot loop: per fixing one normal and one exp per path (two with the
        // mirror path, which is walked in lock step with the same normals).
        let step = Step::new(&self.market, self.market.maturity / self.fixings as f64);
        let antithetic = self.layout.antithetic();
        self.layout.accumulate(
            samples,
            #[inline(always)]
            || {
                // Log-growth since today of the path (x) and of its mirror (y).
                let (mut x, mut y) = (0.0f64, 0.0f64);
                let (mut sum_x, mut log_x, mut sum_y, mut log_y) = (0.0, 0.0, 0.0, 0.0);
                for _ in 0..self.fixings {
                    let (up, down) = step.pair(normal(rng));
                    x += up;
                    sum_x += x.exp();
                    log_x += x;
                    if antithetic {
                        y += down;
                        sum_y += y.exp();
                        log_y += y;
                    }
                }
                let mirror = antithetic.then(|| self.values(sum_y, log_y));
                Row::of(self.values(sum_x, log_x), mirror)
            },
        )
    }
}
