//! The barrier option, monitored at `steps` equally spaced dates, the last at
//! maturity.

use super::barrier_reference::{discrete_barrier, discrete_barrier_greeks};
use super::closed_form::{barrier_continuous, black_scholes};
use super::greeks::Greek;
use super::market::{BarrierKind, Market, Reduction, option_keys, option_params};
use super::path::{GROUP, Layout, Step, normal_at, payoff};
use super::path_estimator::{Constants, PathParams, Payoff, Scenario};
use crate::Error;
use crate::error::shown;
use crate::math::{self, LaneProgram, Lanes, Simd, exp_lanes};
use crate::model::{Block, Entry, Model, Quantity, ReferenceKind};
use crate::random::lane_normals::LaneNormals;
use crate::random::lanes::LaneStates;
use crate::random::ziggurat::NORMAL_METHOD;
use crate::stats::BlockStats;

option_params! {
    /// The `[model]` keys of `type = "barrier"`.
    pub struct BarrierParams {
        /// The barrier level.
        pub barrier: f64,
        /// Up or down, in or out.
        pub kind: BarrierKind,
        /// Paid at expiry when an out option was knocked out or an in option never
        /// knocked in (default 0).
        #[serde(default)]
        pub rebate: f64,
        /// Monitoring dates, equally spaced, the last at maturity.
        pub steps: u64,
    }
}

/// The registry entry of `type = "barrier"`.
pub(crate) fn entry() -> Entry {
    Entry::new(
        "barrier",
        "discretely monitored barrier call or put (reference: quadrature over the \
         monitoring dates, within 1e-9, Greeks too)",
        |p: &BarrierParams, c| super::path_estimator::build(p, c),
    )
    .quasi_monte_carlo()
    .sweeps(super::path_estimator::build_sweep::<BarrierParams>)
    .keys(option_keys())
    .warnings(|p: &BarrierParams| p.option().warnings())
    .key(
        "barrier",
        "float > 0",
        "above the spot for up kinds, below for down kinds; required",
    )
    .key(
        "kind",
        "\"up-and-out\" | \"up-and-in\" | \"down-and-out\" | \"down-and-in\"",
        "required",
    )
    .key(
        "rebate",
        "float >= 0, default 0",
        "paid at expiry if knocked out (out) or never knocked in (in)",
    )
    .key(
        "steps",
        "integer >= 1",
        "monitoring dates t_i = i T / n, the last at maturity; required; \
             the control variate is the European option",
    )
}

/// Most monitoring dates a path may have.
const MAX_STEPS: u64 = 100_000;

/// The Broadie-Glasserman-Kou constant `-zeta(1/2) / sqrt(2 pi)`: discrete
/// monitoring at `m` dates is priced like continuous monitoring of a barrier moved
/// away from the spot by the factor `exp(0.5826 sigma sqrt(T / m))`.
const BGK_BETA: f64 = 0.5826;

/// The barrier option under GBM. Its control variate is the European option of the
/// same strike on the same path, priced exactly by Black-Scholes-Merton.
#[derive(Debug, Clone)]
pub struct Barrier {
    market: Market,
    kind: BarrierKind,
    rebate: f64,
    steps: u64,
    /// `ln(barrier / spot)`: the path is watched in log space, so that a step
    /// costs no exp.
    log_barrier: f64,
    layout: Layout,
    quantities: [Quantity; 1],
}

impl Barrier {
    /// Validates the parameters.
    pub fn new(params: &BarrierParams) -> Result<Self, Error> {
        let (market, reduction) = params.option().validate()?;
        let (barrier, kind, rebate, steps) =
            (params.barrier, params.kind, params.rebate, params.steps);
        let side = if kind.is_up() { "above" } else { "below" };
        let wrong_side = if kind.is_up() {
            barrier <= market.spot
        } else {
            barrier >= market.spot
        };
        if !(barrier.is_finite() && barrier > 0.0) || wrong_side {
            return Err(Error::parameter(
                "model.barrier",
                format!(
                    "a {} barrier must lie {side} the spot {}, found {}",
                    if kind.is_up() { "up" } else { "down" },
                    shown(market.spot),
                    shown(barrier)
                ),
            ));
        }
        if !(rebate.is_finite() && rebate >= 0.0) {
            return Err(Error::parameter(
                "model.rebate",
                format!("must be a finite number >= 0, found {}", shown(rebate)),
            ));
        }
        if !(1..=MAX_STEPS).contains(&steps) {
            return Err(Error::parameter(
                "model.steps",
                format!("must be between 1 and {MAX_STEPS}, found {steps}"),
            ));
        }
        let shift = BGK_BETA * market.volatility * (market.maturity / steps as f64).sqrt();
        let shifted = barrier
            * if kind.is_up() {
                math::exp(shift)
            } else {
                math::exp(-shift)
            };
        let layout = Layout::new(reduction);
        let mut price = layout.price(black_scholes(&market));
        // The exact discrete price; where that is out of reach (many thousands of
        // dates), the continuous price at the shifted barrier as an approximation.
        price.reference = discrete_barrier(&market, barrier, kind, rebate, steps)
            .map(|v| (v, ReferenceKind::Quadrature));
        if price.reference.is_none() {
            price.approx_reference = Some(barrier_continuous(&market, shifted, kind, rebate));
        }
        Ok(Barrier {
            market,
            kind,
            rebate,
            steps,
            log_barrier: math::ln(barrier / market.spot),
            layout,
            quantities: [price],
        })
    }

    /// Price and control samples of each lane's path, which ends at log-growth `x`
    /// and did or did not touch the barrier.
    #[inline(always)]
    unsafe fn values<V: Lanes>(&self, discount: f64, x: V, touched: V::Mask) -> (V, V) {
        let m = &self.market;
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let s = V::splat(m.spot).mul(exp_lanes(x));
            let vanilla = V::splat(discount).mul(payoff(s, m.strike, m.option.sign()));
            let rebate = V::splat(discount * self.rebate);
            // alive where touched == is_in
            let price = if self.kind.is_in() {
                V::select(touched, vanilla, rebate)
            } else {
                V::select(touched, rebate, vanilla)
            };
            (price, vanilla)
        }
    }
}

impl Model for Barrier {
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

/// One chunk of the barrier option, on the lanes of the current SIMD level.
struct Chunk<'a> {
    model: &'a Barrier,
    lanes: &'a mut LaneStates,
    samples: usize,
}

impl LaneProgram for Chunk<'_> {
    type Output = BlockStats;

    /// Hot loop: paths side by side in the lanes; per date an addition and a
    /// comparison, in log space; the one exp is at expiry. The mirror path walks in
    /// lock step with the same normals.
    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> BlockStats {
        let model = self.model;
        let m = &model.market;
        let steps = model.steps as usize;
        let step = Step::new(m, m.maturity / model.steps as f64);
        let discount = math::exp(-m.rate * m.maturity);
        let antithetic = model.layout.antithetic();
        // Watch `sign * x >= sign * ln(H / S)`: one comparison for both sides.
        let sign = if model.kind.is_up() { 1.0 } else { -1.0 };
        let level = sign * model.log_barrier;
        let mut normals = LaneNormals::new();
        // SAFETY: the caller guarantees the instruction set; stores are within the
        // columns (at + GROUP <= SAMPLES).
        unsafe {
            let (zero, sign, level) = (V::splat(0.0), V::splat(sign), V::splat(level));
            model.layout.paths::<V>(
                self.samples,
                steps,
                &mut normals,
                self.lanes,
                #[inline(always)]
                |z, cols, at| {
                    for h in 0..GROUP / V::LANES {
                        let (mut x, mut y) = (zero, zero);
                        let (mut touched_x, mut touched_y) = (V::mask_none(), V::mask_none());
                        for j in 0..steps {
                            let zj = normal_at::<V>(z, steps, h, j);
                            x = x.add(step.log_growth(zj));
                            touched_x = V::mask_or(touched_x, sign.mul(x).ge(level));
                            if antithetic {
                                y = y.add(step.mirror_log_growth(zj));
                                touched_y = V::mask_or(touched_y, sign.mul(y).ge(level));
                            }
                        }
                        let k = at + h * V::LANES;
                        let (p, c) = model.values(discount, x, touched_x);
                        if antithetic {
                            let (pm, cm) = model.values(discount, y, touched_y);
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

impl PathParams for BarrierParams {
    fn fast(&self) -> Result<Box<dyn Model>, Error> {
        Ok(Box::new(Barrier::new(self)?))
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
        let scenario = Scenario {
            market,
            payoff: Payoff::Barrier {
                kind: self.kind,
                rebate: self.rebate,
                log_barrier: crate::math::ln(self.barrier / market.spot),
            },
            price,
            reference: None,
            greek_references: if self.greeks.is_empty() {
                None
            } else {
                discrete_barrier_greeks(&market, self.barrier, self.kind, self.rebate, self.steps)
            },
            dates: self.steps,
            constants: Constants::default(),
        };
        Ok((scenario, self.steps, "model.steps"))
    }
}
