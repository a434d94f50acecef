//! The Asian option: the payoff of the average of `fixings` spot prices at
//! `t_i = i T / n`, `i = 1..n`.

use super::closed_form::{geometric_asian, geometric_asian_mean};
use super::greeks::Greek;
use super::market::{Average, Market, Reduction, option_keys, option_params};
use super::path::{GROUP, Layout, Step, normal_at, payoff};
use super::path_estimator::{Constants, PathParams, Payoff, Scenario};
use crate::Error;
use crate::math::{self, LaneProgram, Lanes, Simd, exp_lanes};
use crate::model::{Block, Entry, Model, Quantity};
use crate::random::lane_normals::LaneNormals;
use crate::random::lanes::LaneStates;
use crate::random::ziggurat::NORMAL_METHOD;
use crate::stats::BlockStats;

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
pub(crate) fn entry() -> Entry {
    Entry::new(
        "asian",
        "Asian call or put on the average of equally spaced fixings \
         (reference: exact for the geometric average)",
        |p: &AsianParams, c| super::path_estimator::build(p, c),
    )
    .quasi_monte_carlo()
    .sweeps(super::path_estimator::build_sweep::<AsianParams>)
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
                .price(
                    math::exp(-market.rate * market.maturity)
                        * geometric_asian_mean(&market, fixings),
                )
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

    /// Price and control samples of each lane's path, from the sums of its spots and
    /// of their logarithms (relative to the spot today).
    #[inline(always)]
    unsafe fn values<V: Lanes>(&self, discount: f64, sum: V, log_sum: V) -> (V, V) {
        let m = &self.market;
        let phi = m.option.sign();
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let n = V::splat(self.fixings as f64);
            let (spot, discount) = (V::splat(m.spot), V::splat(discount));
            let geometric = spot.mul(exp_lanes(log_sum.div(n)));
            match self.average {
                Average::Arithmetic => (
                    discount.mul(payoff(spot.mul(sum).div(n), m.strike, phi)),
                    discount.mul(payoff(geometric, m.strike, phi)),
                ),
                Average::Geometric => (
                    discount.mul(payoff(geometric, m.strike, phi)),
                    discount.mul(geometric),
                ),
            }
        }
    }
}

impl Model for Asian {
    fn normal_method(&self) -> Option<&'static str> {
        Some(NORMAL_METHOD)
    }

    fn dim(&self) -> usize {
        self.layout.dim()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        let samples = block.samples();
        let lanes = block.lanes();
        Ok(Simd::current().run(Chunk {
            model: self,
            lanes,
            samples,
        }))
    }
}

/// One chunk of the Asian option, on the lanes of the current SIMD level.
struct Chunk<'a> {
    model: &'a Asian,
    lanes: &'a mut LaneStates,
    samples: usize,
}

impl LaneProgram for Chunk<'_> {
    type Output = BlockStats;

    /// Hot loop: paths side by side in the lanes; per fixing one exp per path (two
    /// with the mirror path, which is walked in lock step with the same normals).
    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> BlockStats {
        let model = self.model;
        let m = &model.market;
        let steps = model.fixings as usize;
        let step = Step::new(m, m.maturity / model.fixings as f64);
        let discount = math::exp(-m.rate * m.maturity);
        let antithetic = model.layout.antithetic();
        let mut normals = LaneNormals::new();
        // SAFETY: the caller guarantees the instruction set; stores are within the
        // columns (at + GROUP <= SAMPLES).
        unsafe {
            let zero = V::splat(0.0);
            model.layout.paths::<V>(
                self.samples,
                steps,
                &mut normals,
                self.lanes,
                #[inline(always)]
                |z, cols, at| {
                    for h in 0..GROUP / V::LANES {
                        // Log-growth since today of the path (x) and of its mirror (y).
                        let (mut x, mut y) = (zero, zero);
                        let (mut sum_x, mut log_x, mut sum_y, mut log_y) = (zero, zero, zero, zero);
                        for j in 0..steps {
                            let zj = normal_at::<V>(z, steps, h, j);
                            x = x.add(step.log_growth(zj));
                            sum_x = sum_x.add(exp_lanes(x));
                            log_x = log_x.add(x);
                            if antithetic {
                                y = y.add(step.mirror_log_growth(zj));
                                sum_y = sum_y.add(exp_lanes(y));
                                log_y = log_y.add(y);
                            }
                        }
                        let k = at + h * V::LANES;
                        let (p, c) = model.values(discount, sum_x, log_x);
                        if antithetic {
                            let (pm, cm) = model.values(discount, sum_y, log_y);
                            let half = V::splat(0.5);
                            half.mul(p.add(pm)).store(cols.price.as_mut_ptr().add(k));
                            half.mul(c.add(cm)).store(cols.control.as_mut_ptr().add(k));
                            p.store(cols.plain.as_mut_ptr().add(k));
                        } else {
                            p.store(cols.price.as_mut_ptr().add(k));
                            c.store(cols.control.as_mut_ptr().add(k));
                        }
                    }
                },
            )
        }
    }
}

impl PathParams for AsianParams {
    fn fast(&self) -> Result<Box<dyn Model>, Error> {
        Ok(Box::new(Asian::new(self)?))
    }
    fn greeks(&self) -> &[Greek] {
        &self.greeks
    }
    fn reduction(&self) -> Result<Reduction, Error> {
        Ok(self.option().validate()?.1)
    }
    fn scenario(&self) -> Result<(Scenario, u64, &'static str), Error> {
        let (market, _) = self.option().validate()?;
        let price = self.fast()?.quantities()[0].clone();
        let reference: Option<fn(Greek, &Market, u64) -> f64> = match self.average {
            Average::Geometric => Some(super::greeks::geometric_asian_greek),
            Average::Arithmetic => None,
        };
        let scenario = Scenario {
            market,
            payoff: Payoff::Asian(self.average),
            price,
            reference,
            greek_references: None,
            dates: self.fixings,
            constants: Constants::default(),
        };
        Ok((scenario, self.fixings, "model.fixings"))
    }
}
