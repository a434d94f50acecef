//! The American option by Longstaff-Schwartz: exercise at `steps` equally spaced
//! dates, with the continuation value regressed on a polynomial in the spot.
//!
//! Two passes. The regression is fitted once, when the model is built, on
//! `calibration_paths` paths drawn from the auxiliary stream family of the run's
//! seed (never from a chunk stream), so every backend and worker count prices with
//! the same exercise rule. The pricing pass then runs chunk by chunk like any other
//! model, exercising where the fitted rule says so: its estimate is unbiased for
//! that rule, hence slightly below the price of the best rule (and, with finitely
//! many dates, it prices a Bermudan option, slightly below the American one).

use nalgebra::{DMatrix, DVector};

use super::closed_form::black_scholes;
use super::normal::normal;
use super::option::{Market, option_keys, option_params};
use super::path::{Layout, Row, Step};
use super::tree::{american_reference, bermudan_reference};
use super::{Entry, Model, Quantity, ReferenceKind};
use crate::Error;
use crate::rng::{Family, Stream, stream};
use crate::stats::Moments;

/// Default degree of the regression polynomial.
pub const DEFAULT_BASIS_DEGREE: u32 = 3;

/// Default number of regression paths.
pub const DEFAULT_CALIBRATION_PATHS: u64 = 1 << 15;

/// Highest degree allowed: monomials of higher degree in `S / K` make the
/// regression ill-conditioned without improving the exercise rule.
const MAX_BASIS_DEGREE: u32 = 8;

/// Fewest regression paths allowed.
const MIN_CALIBRATION_PATHS: u64 = 1000;

/// Most spots the calibration may hold in memory (`calibration_paths * steps`,
/// 8 bytes each: 512 MiB).
const MAX_CALIBRATION_SPOTS: u64 = 1 << 26;

/// Most exercise dates.
const MAX_STEPS: u64 = 10_000;

option_params! {
    /// The `[model]` keys of `type = "american"`.
    pub struct AmericanParams {
        /// Exercise dates `t_i = i T / n`, the last at maturity.
        pub steps: u64,
        /// Degree of the polynomial in the spot that the continuation value is
        /// regressed on.
        #[serde(default = "default_basis_degree")]
        pub basis_degree: u32,
        /// Paths of the regression pass.
        #[serde(default = "default_calibration_paths")]
        pub calibration_paths: u64,
    }
}

fn default_basis_degree() -> u32 {
    DEFAULT_BASIS_DEGREE
}

fn default_calibration_paths() -> u64 {
    DEFAULT_CALIBRATION_PATHS
}

/// The registry entry of `type = "american"`.
pub(super) fn entry() -> Entry {
    Entry::new(
        "american",
        "American call or put by Longstaff-Schwartz (reference: CRR binomial tree)",
        |p: &AmericanParams, c| {
            if !p.greeks.is_empty() {
                return Err(super::greeks::refused(
                    "american",
                    "no sound same-pass estimator for Longstaff-Schwartz in carlo; price \
                     bumped markets with --sweep",
                ));
            }
            American::new(p, c.seed)
        },
    )
    .keys(option_keys())
    .warnings(|p: &AmericanParams| p.option().warnings())
    .key(
        "steps",
        "integer >= 1",
        "exercise dates t_i = i T / n, the last at maturity; required; \
             the control variate is the European option",
    )
    .key(
        "basis_degree",
        "integer 1..=8, default 3",
        "degree of the regression polynomial in the spot",
    )
    .key(
        "calibration_paths",
        "integer >= 1000, default 32768",
        "regression paths, from the seed's auxiliary streams",
    )
}

/// Bytes the calibration holds at its peak, roughly: the spots of every path at every
/// date, the cash flows, and one date's regression (the design matrix and the SVD's
/// copies of it).
fn calibration_bytes(paths: u64, steps: u64, degree: u32) -> usize {
    let paths = paths as usize;
    let columns = degree as usize + 1;
    8 * (paths * steps as usize + 2 * paths + 4 * paths * columns)
}

/// The American option under GBM, priced with a Longstaff-Schwartz exercise rule.
/// Its control variate is the European option of the same strike on the same path.
#[derive(Debug, Clone)]
pub struct American {
    market: Market,
    steps: u64,
    /// `exp(-r t_i)` for `i = 1..=steps`.
    discounts: Vec<f64>,
    /// Continuation value (in today's money) at date `i`, `i = 1..steps`, as
    /// polynomial coefficients in `S / K`; `None` where too few calibration paths
    /// were in the money to fit one (the rule then holds).
    rule: Vec<Option<Vec<f64>>>,
    control: bool,
    layout: Layout,
    quantities: [Quantity; 1],
}

impl American {
    /// Validates the parameters and fits the exercise rule on paths drawn from the
    /// auxiliary streams of `seed`.
    pub fn new(params: &AmericanParams, seed: u64) -> Result<Self, Error> {
        let (market, reduction) = params.option().validate()?;
        let (steps, degree, paths) = (params.steps, params.basis_degree, params.calibration_paths);
        if !(1..=MAX_STEPS).contains(&steps) {
            return Err(Error::parameter(
                "model.steps",
                format!("must be between 1 and {MAX_STEPS}, found {steps}"),
            ));
        }
        if !(1..=MAX_BASIS_DEGREE).contains(&degree) {
            return Err(Error::parameter(
                "model.basis_degree",
                format!("must be between 1 and {MAX_BASIS_DEGREE}, found {degree}"),
            ));
        }
        if paths < MIN_CALIBRATION_PATHS || paths.saturating_mul(steps) > MAX_CALIBRATION_SPOTS {
            return Err(Error::parameter(
                "model.calibration_paths",
                format!(
                    "must be at least {MIN_CALIBRATION_PATHS} and at most {} / steps \
                     ({} with {steps} steps), found {paths}",
                    MAX_CALIBRATION_SPOTS,
                    MAX_CALIBRATION_SPOTS / steps
                ),
            ));
        }
        let dt = market.maturity / steps as f64;
        let discounts = (1..=steps)
            .map(|i| (-market.rate * dt * i as f64).exp())
            .collect();
        let layout = Layout::new(reduction);
        let mut price = layout.price(black_scholes(&market));
        // What the estimate estimates: a Bermudan option with these dates (the
        // fitted rule is one of its exercise rules). The American price, which
        // exercises at any moment, is a bound above it.
        price.reference = Some((
            bermudan_reference(&market, steps as usize),
            ReferenceKind::Tree,
        ));
        price.approx_reference = Some(american_reference(&market));
        let mut model = American {
            market,
            steps,
            discounts,
            rule: Vec::new(),
            control: reduction.control_variate,
            layout,
            quantities: [price],
        };
        // The fit holds every calibration spot and a regression of the paths in the
        // money: ask for that memory up front, so that a process under a memory
        // limit refuses the parameters instead of aborting halfway.
        let bytes = calibration_bytes(paths, steps, degree);
        if Vec::<u8>::new().try_reserve_exact(bytes).is_err() {
            return Err(Error::parameter(
                "model.calibration_paths",
                format!(
                    "the calibration needs about {} MiB (calibration_paths x steps spots \
                     and their regression), which this process cannot allocate; lower \
                     calibration_paths or steps",
                    bytes >> 20
                ),
            ));
        }
        model.rule = model.fit(paths as usize, degree as usize, seed);
        Ok(model)
    }

    /// The Longstaff-Schwartz regression, backwards from maturity.
    fn fit(&self, paths: usize, degree: usize, seed: u64) -> Vec<Option<Vec<f64>>> {
        let m = &self.market;
        let steps = self.steps as usize;
        let step = Step::new(m, m.maturity / steps as f64);
        // Spots by date, then path: date i (1-based) holds spots[(i - 1) * paths..].
        let mut spots = vec![0.0; paths * steps];
        let mut rng = stream(seed, Family::Auxiliary, 0);
        for p in 0..paths {
            let mut x = 0.0;
            for i in 0..steps {
                x += step.pair(normal(&mut rng)).0;
                spots[i * paths + p] = m.spot * x.exp();
            }
        }
        // Each path's cash flow in today's money under the rule fitted so far.
        let last = &spots[(steps - 1) * paths..];
        let mut cash: Vec<f64> = last
            .iter()
            .map(|&s| self.discounts[steps - 1] * m.payoff(s))
            .collect();
        let mut rule = vec![None; steps - 1];
        for i in (1..steps).rev() {
            let at = &spots[(i - 1) * paths..i * paths];
            let in_money: Vec<usize> = (0..paths).filter(|&p| m.payoff(at[p]) > 0.0).collect();
            if in_money.len() <= 2 * (degree + 1) {
                continue;
            }
            let basis = DMatrix::from_fn(in_money.len(), degree + 1, |r, c| {
                (at[in_money[r]] / m.strike).powi(c as i32)
            });
            let target = DVector::from_iterator(in_money.len(), in_money.iter().map(|&p| cash[p]));
            let Ok(beta) = basis.svd(true, true).solve(&target, 1e-12) else {
                continue;
            };
            let beta: Vec<f64> = beta.iter().copied().collect();
            for &p in &in_money {
                let exercise = self.discounts[i - 1] * m.payoff(at[p]);
                if exercise >= polynomial(&beta, at[p] / m.strike) {
                    cash[p] = exercise;
                }
            }
            rule[i - 1] = Some(beta);
        }
        rule
    }

    /// Advances a path by the log-growth `dx` to date `date` (1-based) and
    /// exercises it there if the rule says so.
    #[inline(always)]
    fn advance(&self, path: &mut Walk, dx: f64, date: usize) {
        path.x += dx;
        if path.value.is_some() {
            return;
        }
        let m = &self.market;
        let s = m.spot * path.x.exp();
        let exercise = self.discounts[date - 1] * m.payoff(s);
        if date == self.steps as usize {
            path.value = Some(exercise);
        } else if exercise > 0.0
            && let Some(beta) = &self.rule[date - 1]
            && exercise >= polynomial(beta, s / m.strike)
        {
            path.value = Some(exercise);
        }
    }

    /// Price and control samples of a finished path.
    fn values(&self, path: &Walk) -> (f64, f64) {
        let m = &self.market;
        let european = self.discounts[self.steps as usize - 1] * m.payoff(m.spot * path.x.exp());
        (path.value.unwrap_or(0.0), european)
    }
}

/// A path of the pricing pass: its log-growth so far and, once exercised (or at
/// maturity), its discounted cash flow.
#[derive(Debug, Clone, Copy, Default)]
struct Walk {
    x: f64,
    value: Option<f64>,
}

/// `sum_k beta_k x^k`, by Horner's rule.
#[inline(always)]
fn polynomial(beta: &[f64], x: f64) -> f64 {
    beta.iter().rev().fold(0.0, |acc, b| acc * x + b)
}

impl Model for American {
    fn dim(&self) -> usize {
        self.layout.dim()
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, rng: &mut Stream, samples: u64) -> Moments {
        let step = Step::new(&self.market, self.market.maturity / self.steps as f64);
        let antithetic = self.layout.antithetic();
        self.layout.accumulate(
            samples,
            #[inline(always)]
            || {
                let (mut a, mut b) = (Walk::default(), Walk::default());
                for date in 1..=self.steps as usize {
                    // Once exercised, a path needs no more normals, unless the
                    // European control needs its spot at maturity.
                    let done = a.value.is_some() && (!antithetic || b.value.is_some());
                    if done && !self.control {
                        break;
                    }
                    let (up, down) = step.pair(normal(rng));
                    self.advance(&mut a, up, date);
                    if antithetic {
                        self.advance(&mut b, down, date);
                    }
                }
                let mirror = antithetic.then(|| self.values(&b));
                Row::of(self.values(&a), mirror)
            },
        )
    }
}
