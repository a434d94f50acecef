//! The European option: one exact GBM step to expiry per path.

use super::closed_form::black_scholes;
use super::greeks::{self, Greek, black_scholes_greek};
use super::market::{Market, Reduction, option_keys, option_params};
use super::path::{Layout, SAMPLES, Step};
use super::path_estimator::{Constants, PathParams, Payoff, Scenario};
use crate::Error;
use crate::math::{self, LaneProgram, Lanes, Simd, exp_lanes};
use crate::model::{Block, Entry, Model, Quantity};
use crate::random::lane_normals::LaneNormals;
use crate::random::lanes::{LANES, LaneStates};
use crate::random::ziggurat::NORMAL_METHOD;
use crate::stats::{BlockAccumulator, BlockStats};

option_params! {
    /// The `[model]` keys of `type = "european"`: those of every option model.
    pub struct EuropeanParams {}
}

/// The registry entry of `type = "european"`.
pub(crate) fn entry() -> Entry {
    Entry::new(
        "european",
        "European call or put under GBM (reference: Black-Scholes-Merton, exact)",
        |p: &EuropeanParams, c| {
            // Greeks on pseudo-random numbers have their own vector loop here; Sobol
            // points (and sweeps, registered by `paths`) take the path-by-path one.
            if !p.greeks.is_empty() && c.sampler.is_mc() {
                return Ok(Box::new(European::with_greeks(p)?) as Box<dyn Model>);
            }
            super::path_estimator::build(p, c)
        },
    )
    .quasi_monte_carlo()
    .sweeps(super::path_estimator::build_sweep::<EuropeanParams>)
    .keys(option_keys())
    .warnings(|p: &EuropeanParams| p.option().warnings())
}

/// The European option under GBM. Each sample is the discounted payoff of one path
/// (or the average over a path and its mirror); the control variate is the
/// discounted terminal spot, whose mean `S exp(-q T)` is known exactly.
///
/// With Greeks ([`with_greeks`](European::with_greeks)), each row goes on with one
/// column per Greek, after the price's columns, from the same paths: the estimators
/// of [`super::path_estimator`] for one date, computed in the price's vector loop.
#[derive(Debug, Clone)]
pub struct European {
    market: Market,
    layout: Layout,
    /// Sorted, distinct; empty for the price alone.
    greeks: Vec<Greek>,
    quantities: Vec<Quantity>,
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
            greeks: Vec::new(),
            quantities: vec![layout.price(control_mean).exact(black_scholes(&market))],
        })
    }

    /// The model with the Greeks `params.greeks` (an error for one listed twice):
    /// the price's quantity and columns, then one quantity per Greek in output order,
    /// each with its Black-Scholes-Merton reference. The price's columns hold the same
    /// bits as without Greeks.
    pub fn with_greeks(params: &EuropeanParams) -> Result<Self, Error> {
        let mut model = European::new(params)?;
        model.greeks = greeks::checked(&params.greeks)?;
        let base = model.layout.dim();
        for (k, &g) in model.greeks.iter().enumerate() {
            model.quantities.push(
                Quantity::new(g.name(), base + k).exact(black_scholes_greek(g, &model.market)),
            );
        }
        Ok(model)
    }
}

impl Model for European {
    fn normal_method(&self) -> Option<&'static str> {
        Some(NORMAL_METHOD)
    }

    fn dim(&self) -> usize {
        self.layout.dim() + self.greeks.len()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        let samples = block.samples();
        let lanes = block.lanes();
        if self.greeks.is_empty() {
            Ok(Simd::current().run(Chunk {
                model: self,
                lanes,
                samples,
            }))
        } else {
            Ok(Simd::current().run(GreeksChunk {
                model: self,
                lanes,
                samples,
            }))
        }
    }
}

/// One chunk of the European option, on the lanes of the current SIMD level.
struct Chunk<'a> {
    model: &'a European,
    lanes: &'a mut LaneStates,
    samples: usize,
}

impl LaneProgram for Chunk<'_> {
    type Output = BlockStats;

    /// Hot loop: a block of normals, then per lane one exp per path (two with the
    /// mirror path) and the payoff.
    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> BlockStats {
        let m = self.model.market;
        let step = Step::new(&m, m.maturity);
        let antithetic = self.model.layout.antithetic();
        let mut normals = LaneNormals::new();
        let mut z = [0.0f64; SAMPLES + 40];
        // SAFETY: the caller guarantees the instruction set; every lane load and
        // store is within the block's buffers (SAMPLES is a multiple of 8).
        unsafe {
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
                    normals.fill::<V>(self.lanes, &mut z[..n.next_multiple_of(LANES)]);
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
        }
    }
}

/// One chunk of the European option with Greeks, on the lanes of the current SIMD
/// level.
struct GreeksChunk<'a> {
    model: &'a European,
    lanes: &'a mut LaneStates,
    samples: usize,
}

impl LaneProgram for GreeksChunk<'_> {
    type Output = BlockStats;

    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> BlockStats {
        // One monomorphized loop per row width: the accumulator keeps its partial
        // sums in registers only for a width known at compile time.
        // SAFETY: passed on from the caller.
        unsafe {
            match self.model.dim() {
                2 => self.columns::<V, 2>(),
                3 => self.columns::<V, 3>(),
                4 => self.columns::<V, 4>(),
                5 => self.columns::<V, 5>(),
                6 => self.columns::<V, 6>(),
                7 => self.columns::<V, 7>(),
                _ => self.columns::<V, 8>(),
            }
        }
    }
}

impl GreeksChunk<'_> {
    /// Hand-written hot loop: the price's loop (the same normals, the same operations
    /// for the price, control and plain columns, so their bits are the price-only
    /// run's), plus per lane a few multiplications for the five Greeks. With `phi`
    /// the option's sign, `D = exp(-r T)`, `e` the path's normal (`-z` on the
    /// mirror), `W_T = sqrt(T) e`, `mu = r - q - sigma^2 / 2` and `i = D phi 1{itm}`:
    /// delta `i S_T / S`, gamma (mixed likelihood-ratio / pathwise) `i S_T / S^2
    /// (W_T / (sigma T) - 1)`, vega `i S_T (W_T - sigma T)`, rho `-T V + i S_T T`,
    /// theta `r V - i S_T (mu + sigma W_T / (2 T))`, as [`super::path_estimator`] documents
    /// them; antithetic rows average each over the path and its mirror. The row's
    /// `D` columns are the price's, then the Greeks asked for, in output order.
    #[inline(always)]
    unsafe fn columns<V: Lanes, const D: usize>(self) -> BlockStats {
        let model = self.model;
        let m = model.market;
        let step = Step::new(&m, m.maturity);
        let antithetic = model.layout.antithetic();
        let control = model.layout.dim() > 1 + usize::from(antithetic);
        // Greeks not asked for are not stored (nor, once inlined, computed).
        let want: [bool; 5] = std::array::from_fn(|j| model.greeks.contains(&Greek::ALL[j]));
        let mut normals = LaneNormals::new();
        let mut z = [0.0f64; SAMPLES + 40];
        let mut price = [0.0f64; SAMPLES + 24];
        let mut ctrl = [0.0f64; SAMPLES + 24];
        let mut plain = [0.0f64; SAMPLES + 24];
        let mut greek = [[0.0f64; SAMPLES + 24]; 5];
        let mut acc = BlockAccumulator::<D>::new();
        // SAFETY: the caller guarantees the instruction set; every lane load and
        // store is within the block's buffers (SAMPLES is a multiple of 8).
        unsafe {
            let (spot, strike, phi) = (
                V::splat(m.spot),
                V::splat(m.strike),
                V::splat(m.option.sign()),
            );
            let discount = math::exp(-m.rate * m.maturity);
            let greeks_of = PathGreeks::<V>::new(&m, discount);
            let (discount, half, zero) = (V::splat(discount), V::splat(0.5), V::splat(0.0));
            let mut left = self.samples;
            while left > 0 {
                let n = left.min(SAMPLES);
                normals.fill::<V>(self.lanes, &mut z[..n.next_multiple_of(LANES)]);
                let mut k = 0;
                while k < n {
                    let zk = V::load(z.as_ptr().add(k));
                    let s = spot.mul(exp_lanes(step.log_growth(zk)));
                    let (p, c) = (value(s, strike, phi, discount), discount.mul(s));
                    let g = greeks_of.of(zk, s, p);
                    if antithetic {
                        let mirror = zero.sub(zk);
                        let s = spot.mul(exp_lanes(step.mirror_log_growth(zk)));
                        let (pm, cm) = (value(s, strike, phi, discount), discount.mul(s));
                        let gm = greeks_of.of(mirror, s, pm);
                        half.mul(p.add(pm)).store(price.as_mut_ptr().add(k));
                        half.mul(c.add(cm)).store(ctrl.as_mut_ptr().add(k));
                        p.store(plain.as_mut_ptr().add(k));
                        for j in 0..5 {
                            if want[j] {
                                half.mul(g[j].add(gm[j]))
                                    .store(greek[j].as_mut_ptr().add(k));
                            }
                        }
                    } else {
                        p.store(price.as_mut_ptr().add(k));
                        c.store(ctrl.as_mut_ptr().add(k));
                        for j in 0..5 {
                            if want[j] {
                                g[j].store(greek[j].as_mut_ptr().add(k));
                            }
                        }
                    }
                    k += V::LANES;
                }
                // the columns of the row, as `Layout` orders the price's
                let [g0, g1, g2, g3, g4] = &mut greek;
                let mut by_greek = [Some(g0), Some(g1), Some(g2), Some(g3), Some(g4)];
                let mut used = [Some(&mut price[..]), control.then_some(&mut ctrl[..])]
                    .into_iter()
                    .chain([antithetic.then_some(&mut plain[..])])
                    .flatten()
                    .chain(
                        model
                            .greeks
                            .iter()
                            .map(|&g| &mut by_greek[g as usize].take().expect("distinct")[..]),
                    );
                let cols: [&mut [f64]; D] =
                    std::array::from_fn(|_| used.next().expect("D columns"));
                acc.add::<V>(cols, n);
                left -= n;
            }
        }
        acc.take()
    }
}

/// What the Greeks of a path need, splatted once per chunk.
#[derive(Clone, Copy)]
struct PathGreeks<V> {
    strike: V,
    phi: V,
    /// `D phi`, the pathwise estimators' weight in the money.
    itm_weight: V,
    inv_spot: V,
    /// `W_T / (sigma T) = e / (sigma sqrt T)`.
    gamma_scale: V,
    sqrt_t: V,
    sigma_t: V,
    mu: V,
    /// `mu + sigma W_T / (2 T) = mu + e sigma / (2 sqrt T)`.
    theta_scale: V,
    t: V,
    rate: V,
}

impl<V: Lanes> PathGreeks<V> {
    /// The constants of `m`, whose discount factor is `discount`.
    #[inline(always)]
    unsafe fn new(m: &Market, discount: f64) -> Self {
        let t = m.maturity;
        let sqrt_t = t.sqrt();
        let sigma = m.volatility;
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            PathGreeks {
                strike: V::splat(m.strike),
                phi: V::splat(m.option.sign()),
                itm_weight: V::splat(discount * m.option.sign()),
                inv_spot: V::splat(1.0 / m.spot),
                gamma_scale: V::splat(1.0 / (sigma * sqrt_t)),
                sqrt_t: V::splat(sqrt_t),
                sigma_t: V::splat(sigma * t),
                mu: V::splat(m.rate - m.dividend - 0.5 * sigma * sigma),
                theta_scale: V::splat(sigma / (2.0 * sqrt_t)),
                t: V::splat(t),
                rate: V::splat(m.rate),
            }
        }
    }

    /// Delta, gamma, vega, rho and theta of each lane's path with normal `e`,
    /// terminal spot `s` and discounted payoff `p`.
    #[inline(always)]
    unsafe fn of(&self, e: V, s: V, p: V) -> [V; 5] {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let zero = V::splat(0.0);
            let itm = self.phi.mul(s.sub(self.strike)).gt(zero);
            let is = V::select(itm, self.itm_weight, zero).mul(s);
            let delta = is.mul(self.inv_spot);
            [
                delta,
                delta
                    .mul(self.inv_spot)
                    .mul(e.mul(self.gamma_scale).sub(V::splat(1.0))),
                is.mul(self.sqrt_t.mul(e).sub(self.sigma_t)),
                is.mul(self.t).sub(self.t.mul(p)),
                self.rate
                    .mul(p)
                    .sub(is.mul(self.mu.add(e.mul(self.theta_scale)))),
            ]
        }
    }
}

/// The discounted payoff `discount max(phi (s - strike), 0)` of each lane.
#[inline(always)]
unsafe fn value<V: Lanes>(s: V, strike: V, phi: V, discount: V) -> V {
    // SAFETY: the caller guarantees the instruction set of `V`.
    unsafe { discount.mul(phi.mul(s.sub(strike)).max(V::splat(0.0))) }
}

impl PathParams for EuropeanParams {
    fn fast(&self) -> Result<Box<dyn Model>, Error> {
        Ok(Box::new(European::new(self)?))
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
            payoff: Payoff::European,
            price,
            reference: Some(|g, m, _| super::greeks::black_scholes_greek(g, m)),
            greek_references: None,
            dates: 1,
            constants: Constants::default(),
        };
        Ok((scenario, 1, "model.maturity"))
    }
}
