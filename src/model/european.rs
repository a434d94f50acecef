//! The European option: one exact GBM step to expiry per path.

use super::closed_form::black_scholes;
use super::draw::{NORMAL_METHOD, Normals};
use super::option::{Market, option_keys, option_params};
use super::path::{Layout, SAMPLES, Step};
use super::{Entry, Model, Quantity};
use crate::Error;
use crate::math::{self, LaneProgram, Lanes, Simd, exp_lanes};
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
        // carlo's own exp here and below: the control's mean and the discount decide
        // the estimate's bits, which must not depend on the platform's libm
        let control_mean = market.spot * math::exp(-market.dividend * market.maturity);
        Ok(European {
            market,
            layout,
            quantities: [layout.price(control_mean).exact(black_scholes(&market))],
        })
    }
}

impl Model for European {
    fn normal_method(&self) -> Option<&'static str> {
        Some(NORMAL_METHOD)
    }

    fn dim(&self) -> usize {
        self.layout.dim()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        Simd::current().run(Chunk {
            model: self,
            rng,
            samples,
        })
    }
}

/// One chunk of the European option, on the lanes of the current SIMD level.
struct Chunk<'a> {
    model: &'a European,
    rng: &'a mut Stream,
    samples: u64,
}

impl LaneProgram for Chunk<'_> {
    type Output = Moments;

    /// Hot loop: a block of normals, then per lane one exp per path (two with the
    /// mirror path) and the payoff.
    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> Moments {
        let m = self.model.market;
        let step = Step::new(&m, m.maturity);
        let antithetic = self.model.layout.antithetic();
        let mut normals = Normals::new(self.rng);
        let mut z = [0.0f64; SAMPLES + 40];
        // SAFETY: the caller guarantees the instruction set; every lane load and
        // store is within the block's buffers (SAMPLES is a multiple of 8).
        let moments = unsafe {
            let (spot, strike, phi) = (
                V::splat(m.spot),
                V::splat(m.strike),
                V::splat(m.option.sign()),
            );
            let discount = math::exp(-m.rate * m.maturity);
            let (discount, half) = (V::splat(discount), V::splat(0.5));
            self.model.layout.blocks::<V>(
                self.samples,
                #[inline(always)]
                |n, cols| {
                    normals.fill::<V>(&mut z[..n]);
                    let mut k = 0;
                    while k < n {
                        let zk = V::load(z.as_ptr().add(k));
                        let s = spot.mul(exp_lanes(step.log_growth(zk)));
                        let (p, c) = (value(s, strike, phi, discount), discount.mul(s));
                        if antithetic {
                            let s = spot.mul(exp_lanes(step.mirror_log_growth(zk)));
                            let (pm, cm) = (value(s, strike, phi, discount), discount.mul(s));
                            half.mul(p.add(pm)).store(cols.price.as_mut_ptr().add(k));
                            half.mul(c.add(cm)).store(cols.control.as_mut_ptr().add(k));
                            p.store(cols.plain.as_mut_ptr().add(k));
                        } else {
                            p.store(cols.price.as_mut_ptr().add(k));
                            c.store(cols.control.as_mut_ptr().add(k));
                        }
                        k += V::LANES;
                    }
                },
            )
        };
        normals.write_back(self.rng);
        moments
    }
}

/// The discounted payoff `discount max(phi (s - strike), 0)` of each lane.
#[inline(always)]
unsafe fn value<V: Lanes>(s: V, strike: V, phi: V, discount: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe { discount.mul(phi.mul(s.sub(strike)).max(V::splat(0.0))) }
}
