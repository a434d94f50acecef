//! The European option: one exact GBM step to expiry per path.

use super::closed_form::black_scholes;
use super::normal::normal;
use super::option::{Market, option_keys, option_params};
use super::path::{Layout, Row, Step};
use super::{Entry, Model, Quantity};
use crate::Error;
use crate::rng::Stream;
use crate::stats::Moments;

option_params! {
    /// The `[model]` keys of `type = "european"`: those of every option model.
    pub struct EuropeanParams {}
}

/// The registry entry of `type = "european"`.
pub(super) fn entry() -> Entry {
    Entry::new(
        "european",
        "European call or put under GBM (reference: Black-Scholes-Merton, exact)",
        |p: &EuropeanParams, c| super::paths::build(p, c),
    )
    .paths::<EuropeanParams>()
    .keys(option_keys())
    .warnings(|p: &EuropeanParams| p.option().warnings())
}

/// The European option under GBM. Each sample is the discounted payoff of one path
/// (or the average over a path and its mirror); the control variate is the
/// discounted terminal spot, whose mean `S exp(-q T)` is known exactly.
#[derive(Debug, Clone)]
pub struct European {
    market: Market,
    layout: Layout,
    quantities: [Quantity; 1],
}

impl European {
    /// Validates the parameters.
    pub fn new(params: &EuropeanParams) -> Result<Self, Error> {
        let (market, reduction) = params.option().validate()?;
        let layout = Layout::new(reduction);
        let control_mean = market.spot * (-market.dividend * market.maturity).exp();
        Ok(European {
            market,
            layout,
            quantities: [layout.price(control_mean).exact(black_scholes(&market))],
        })
    }
}

impl Model for European {
    fn dim(&self) -> usize {
        self.layout.dim()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        // Hot loop: one normal and one exp per path, everything else hoisted.
        let m = self.market;
        let step = Step::new(&m, m.maturity);
        let discount = m.discount();
        let (spot, strike, phi) = (m.spot, m.strike, m.option.sign());
        let value = |s: f64| discount * (phi * (s - strike)).max(0.0);
        let antithetic = self.layout.antithetic();
        self.layout.accumulate(
            samples,
            #[inline(always)]
            || {
                let z = normal(rng);
                let s = spot * step.growth(z);
                let mirror = antithetic.then(|| {
                    let s = spot * step.growth(-z);
                    (value(s), discount * s)
                });
                Row::of((value(s), discount * s), mirror)
            },
        )
    }
}
