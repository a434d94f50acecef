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

use super::american_reference::american;
use super::bermudan_reference::bermudan;
use super::closed_form::black_scholes;
use super::market::{Market, option_keys, option_params};
use super::path::{GROUP, Layout, Step, normal_at, payoff};
use crate::Error;
use crate::math::{self, LaneProgram, Lanes, Simd, exp_lanes};
use crate::model::{Block, Entry, Model, Quantity, ReferenceKind};
use crate::random::lane_normals::LaneNormals;
use crate::random::lanes::LaneStates;
use crate::random::stream::{Family, stream};
use crate::random::ziggurat::NORMAL_METHOD;
use crate::stats::BlockStats;

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
pub(crate) fn entry() -> Entry {
    Entry::new(
        "american",
        "American call or put by Longstaff-Schwartz (reference: the Bermudan price of its \
         dates by quadrature; approx_reference: the American price by finite differences)",
        |p: &AmericanParams, c| {
            if !p.greeks.is_empty() {
                return Err(super::greeks::refused(
                    "american",
                    "no sound same-pass estimator for Longstaff-Schwartz in carlo; price \
                     bumped markets as runs of their own with the same seed \
                     (--set model.spot=...)",
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
    /// Continuation value (in today's money) at date `i`, `i = 1..steps`, as a
    /// polynomial in `S / K`; `None` where too few calibration paths were in the
    /// money to fit one (the rule then holds).
    rule: Vec<Option<Fit>>,
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
            .map(|i| math::exp(-market.rate * dt * i as f64))
            .collect();
        let layout = Layout::new(reduction);
        let mut price = layout.price(black_scholes(&market));
        // What the estimate estimates: a Bermudan option with these dates (the
        // fitted rule is one of its exercise rules). The American price, which
        // exercises at any moment, is a bound above it.
        price.reference = bermudan(&market, steps).map(|v| (v, ReferenceKind::Quadrature));
        price.approx_reference = american(&market);
        let mut model = American {
            market,
            steps,
            discounts,
            rule: Vec::new(),
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
    fn fit(&self, paths: usize, degree: usize, seed: u64) -> Vec<Option<Fit>> {
        Simd::current().run(Regression {
            model: self,
            paths,
            degree,
            lanes: &mut LaneStates::from_streams(&std::array::from_fn(|l| {
                stream(seed, Family::Auxiliary, l as u64)
            })),
        })
    }
}

/// The fit of the exercise rule: calibration paths drawn from `lanes` (the first
/// [`LANES`](crate::random::lanes::LANES) auxiliary streams of the seed) with the normal
/// method of the blocks (path `p` is lane `p % 8`'s `p / 8`-th path, and takes that
/// lane's next `steps` normals), then the regression backwards from maturity, on the
/// lanes of the current SIMD level.
///
/// Hand-written, as the sample loops are. The spots are kept by date, then path, each
/// date's row padded to a multiple of 8 paths with the strike (out of the money, so
/// never in a fit), so that every pass over a date runs on whole vectors. Sums over
/// paths go to 8 partial sums, path `p` to partial `p mod 8`, added in order (the
/// accumulators' fixed shape): every level computes the same rule.
struct Regression<'a> {
    model: &'a American,
    paths: usize,
    degree: usize,
    lanes: &'a mut LaneStates,
}

impl LaneProgram for Regression<'_> {
    type Output = Vec<Option<Fit>>;

    // Lane-group indices index several arrays at once in these loops.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> Vec<Option<Fit>> {
        let model = self.model;
        let m = &model.market;
        let (paths, degree) = (self.paths, self.degree);
        let steps = model.steps as usize;
        let step = Step::new(m, m.maturity / steps as f64);
        let row = paths.next_multiple_of(GROUP);
        let mut spots = vec![m.strike; row * steps];
        let mut normals = LaneNormals::new();
        let mut z = vec![0.0; GROUP * steps];
        // SAFETY: the caller guarantees the instruction set; every vector load and
        // store is within a date's row (`row` is a multiple of GROUP).
        unsafe {
            let spot = V::splat(m.spot);
            for first in (0..paths).step_by(GROUP) {
                normals.fill::<V>(self.lanes, &mut z);
                let mut x = [V::splat(0.0); GROUP];
                for i in 0..steps {
                    let at = spots[i * row + first..].as_mut_ptr();
                    for h in 0..GROUP / V::LANES {
                        x[h] = x[h].add(step.log_growth(normal_at::<V>(&z, steps, h, i)));
                        spot.mul(exp_lanes(x[h])).store(at.add(h * V::LANES));
                    }
                }
            }
            // the padding paths were walked on stale normals: out of the money again
            for i in 0..steps {
                spots[i * row + paths..(i + 1) * row].fill(m.strike);
            }

            // Each path's cash flow in today's money under the rule fitted so far.
            let (strike, phi, zero) = (m.strike, m.option.sign(), V::splat(0.0));
            let mut cash = vec![0.0; row];
            let last = V::splat(model.discounts[steps - 1]);
            for k in (0..row).step_by(V::LANES) {
                let s = V::load(spots[(steps - 1) * row + k..].as_ptr());
                last.mul(payoff(s, strike, phi))
                    .store(cash[k..].as_mut_ptr());
            }
            let mut rule = vec![None; steps - 1];
            for i in (1..steps).rev() {
                let at = &spots[(i - 1) * row..i * row];
                // the paths in the money: how many, and the range of their spots
                let (mut count, mut lo, mut hi) =
                    (0u32, V::splat(f64::INFINITY), V::splat(f64::NEG_INFINITY));
                for k in (0..row).step_by(V::LANES) {
                    let s = V::load(at[k..].as_ptr());
                    let itm = payoff(s, strike, phi).gt(zero);
                    count += V::mask_bits(itm).count_ones();
                    lo = V::select(itm, s, lo).min(lo);
                    hi = V::select(itm, s, hi).max(hi);
                }
                if count as usize <= 2 * (degree + 1) {
                    continue;
                }
                let (lo, hi) = (lanes_min(lo), lanes_max(hi));
                // all the spots in the money equal (or not numbers): nothing to fit
                if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
                    continue;
                }
                let a = 2.0 / (hi - lo);
                let b = -(lo + hi) / (hi - lo);
                let sums = match degree {
                    1 => normal_equations::<V, 2>(at, &cash, a, b, strike, phi),
                    2 => normal_equations::<V, 3>(at, &cash, a, b, strike, phi),
                    3 => normal_equations::<V, 4>(at, &cash, a, b, strike, phi),
                    4 => normal_equations::<V, 5>(at, &cash, a, b, strike, phi),
                    5 => normal_equations::<V, 6>(at, &cash, a, b, strike, phi),
                    6 => normal_equations::<V, 7>(at, &cash, a, b, strike, phi),
                    7 => normal_equations::<V, 8>(at, &cash, a, b, strike, phi),
                    _ => normal_equations::<V, 9>(at, &cash, a, b, strike, phi),
                };
                let Some(fit) = Fit::solve(degree, a, b, &sums) else {
                    continue;
                };
                // exercise where it pays at least the fitted continuation
                let discount = V::splat(model.discounts[i - 1]);
                for k in (0..row).step_by(V::LANES) {
                    let s = V::load(at[k..].as_ptr());
                    let exercise = discount.mul(payoff(s, strike, phi));
                    let now = V::mask_and(exercise.gt(zero), exercise.ge(fit.value(s)));
                    let c = cash[k..].as_mut_ptr();
                    V::select(now, exercise, V::load(c)).store(c);
                }
                rule[i - 1] = Some(fit);
            }
            rule
        }
    }
}

/// The smallest lane (exact: the order does not matter).
#[inline(always)]
unsafe fn lanes_min<V: Lanes>(v: V) -> f64 {
    let mut lanes = [0.0; GROUP];
    // SAFETY: LANES <= GROUP; the caller guarantees the instruction set.
    unsafe { v.store(lanes.as_mut_ptr()) };
    lanes[..V::LANES]
        .iter()
        .fold(f64::INFINITY, |a, &b| a.min(b))
}

/// The largest lane.
#[inline(always)]
unsafe fn lanes_max<V: Lanes>(v: V) -> f64 {
    let mut lanes = [0.0; GROUP];
    // SAFETY: LANES <= GROUP; the caller guarantees the instruction set.
    unsafe { v.store(lanes.as_mut_ptr()) };
    lanes[..V::LANES]
        .iter()
        .fold(f64::NEG_INFINITY, |a, &b| a.max(b))
}

/// `sum T T^T` and `sum T cash` over the paths in the money of one date, `T` the
/// Chebyshev polynomials `T_0..T_(N-1)` at `t = a spot + b`, in 8 partial sums
/// (path `p` to partial `p mod 8`) added in order: `sums[i][j]` for `i <= j`, and the
/// right-hand side in `sums[i][N]`.
// Lane-group and term indices index several arrays at once in these loops.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn normal_equations<V: Lanes, const N: usize>(
    spot: &[f64],
    cash: &[f64],
    a: f64,
    b: f64,
    strike: f64,
    phi: f64,
) -> [[f64; MAX_TERMS + 1]; MAX_TERMS] {
    let mut out = [[0.0; MAX_TERMS + 1]; MAX_TERMS];
    // SAFETY: the caller guarantees the instruction set; the rows are whole vectors.
    unsafe {
        let zero = V::splat(0.0);
        let mut part = [[[zero; GROUP]; MAX_TERMS + 1]; N];
        let (a, b, one) = (V::splat(a), V::splat(b), V::splat(1.0));
        for k in (0..spot.len()).step_by(GROUP) {
            for h in 0..GROUP / V::LANES {
                let at = k + h * V::LANES;
                let s = V::load(spot[at..].as_ptr());
                let itm = payoff(s, strike, phi).gt(zero);
                let t = s.mul(a).add(b);
                // the basis, zero on the paths out of the money
                let mut basis = [zero; N];
                basis[0] = V::select(itm, one, zero);
                if N > 1 {
                    basis[1] = V::select(itm, t, zero);
                }
                let two_t = t.add(t);
                for j in 2..N {
                    basis[j] = two_t.mul(basis[j - 1]).sub(basis[j - 2]);
                }
                let y = V::load(cash[at..].as_ptr());
                for i in 0..N {
                    for j in i..N {
                        part[i][j][h] = part[i][j][h].add(basis[i].mul(basis[j]));
                    }
                    part[i][N][h] = part[i][N][h].add(basis[i].mul(y));
                }
            }
        }
        let mut lanes = [0.0; GROUP];
        for i in 0..N {
            for j in i..=N {
                for h in 0..GROUP / V::LANES {
                    part[i][j][h].store(lanes.as_mut_ptr().add(h * V::LANES));
                }
                out[i][j] = lanes.iter().fold(0.0, |acc, x| acc + x);
            }
        }
    }
    out
}

/// A least-squares polynomial of degree `d` in the spot: the continuation value of
/// one exercise date, as a function of the spot then.
///
/// The basis is that of the Chebyshev polynomials `T_0..T_d` in `t = a S + b`, the
/// spots of the fit mapped onto `[-1, 1]`: the same polynomials as `1, S/K, ...,
/// (S/K)^d`, but a well-conditioned basis, so the small `(d + 1) x (d + 1)` normal
/// equations, formed in one pass over the paths, are solved accurately by Cholesky's
/// factorization ([`cholesky_solve`], with the same bits on every platform); monomials
/// in `S/K` near 1 are nearly collinear, and their normal equations would square
/// that. The solution is then written in powers of `t` and evaluated by Horner's
/// rule, `d` multiplications and additions per path and date. (A singular value
/// decomposition of the whole `n x (d + 1)` matrix, the former route, took most of
/// the time of a 50-date fit.)
#[derive(Debug, Clone)]
struct Fit {
    a: f64,
    b: f64,
    /// Coefficients of `1, t, ..., t^d`.
    power: Vec<f64>,
}

/// Solves the normal equations `G c = r` held in `sums` (`G` in `sums[i][j]` for
/// `i <= j < n`, `r` in `sums[i][n]`) by Cholesky's factorization: additions,
/// multiplications, divisions and square roots only, each correctly rounded in IEEE
/// arithmetic, in a fixed order, so the coefficients have the same bits on every
/// platform (a library SVD would call the platform's `hypot`). `None` when a pivot
/// falls to `1e-13` of `G`'s largest diagonal entry or below: the equations then do
/// not determine a fit (too few distinct spots in the money), and the rule holds.
// Row and column indices index the factor, the sums and the solution at once.
#[allow(clippy::needless_range_loop)]
fn cholesky_solve(sums: &[[f64; MAX_TERMS + 1]; MAX_TERMS], n: usize) -> Option<Vec<f64>> {
    let g = |i: usize, j: usize| sums[i.min(j)][i.max(j)];
    let largest = (0..n).map(|i| g(i, i)).fold(0.0, f64::max);
    let floor = 1e-13 * largest;
    let mut l = [[0.0; MAX_TERMS]; MAX_TERMS];
    for j in 0..n {
        let mut pivot = g(j, j);
        for k in 0..j {
            pivot -= l[j][k] * l[j][k];
        }
        // not `pivot <= floor`: a NaN pivot must stop the fit too
        if pivot.partial_cmp(&floor) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        l[j][j] = pivot.sqrt();
        for i in j + 1..n {
            let mut s = g(i, j);
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            l[i][j] = s / l[j][j];
        }
    }
    // L y = r, then L^T c = y
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = sums[i][n];
        for k in 0..i {
            s -= l[i][k] * y[k];
        }
        y[i] = s / l[i][i];
    }
    let mut c = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k][i] * c[k];
        }
        c[i] = s / l[i][i];
    }
    Some(c)
}

/// The Chebyshev basis's size limit, for fixed-size arrays.
const MAX_TERMS: usize = MAX_BASIS_DEGREE as usize + 1;

impl Fit {
    /// The fit from the normal equations `sums` (see [`normal_equations`]) in the
    /// variable `t = a S + b`, or `None` if they do not determine one.
    fn solve(
        degree: usize,
        a: f64,
        b: f64,
        sums: &[[f64; MAX_TERMS + 1]; MAX_TERMS],
    ) -> Option<Fit> {
        let n = degree + 1;
        let coef = cholesky_solve(sums, n)?;
        // sum c_k T_k(t) in powers of t: T_k = 2 t T_(k-1) - T_(k-2), term by term
        let mut power = vec![0.0; n];
        let (mut older, mut old) = (vec![0.0; n], vec![0.0; n]);
        for (k, &c) in coef.iter().enumerate() {
            let mut tk = vec![0.0; n];
            match k {
                0 => tk[0] = 1.0,
                1 => tk[1] = 1.0,
                _ => {
                    for j in 0..n {
                        let up = if j > 0 { 2.0 * old[j - 1] } else { 0.0 };
                        tk[j] = up - older[j];
                    }
                }
            }
            for j in 0..n {
                power[j] += c * tk[j];
            }
            older = std::mem::replace(&mut old, tk);
        }
        power
            .iter()
            .all(|c| c.is_finite())
            .then_some(Fit { a, b, power })
    }

    /// The polynomial at each lane's spot `s`.
    ///
    /// # Safety
    /// The CPU must support `V`'s instruction set.
    #[inline(always)]
    unsafe fn value<V: Lanes>(&self, s: V) -> V {
        // SAFETY: passed on from the caller.
        unsafe {
            let t = s.mul(V::splat(self.a)).add(V::splat(self.b));
            let mut acc = V::splat(0.0);
            for &c in self.power.iter().rev() {
                acc = acc.mul(t).add(V::splat(c));
            }
            acc
        }
    }
}

impl Model for American {
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

/// One chunk of the pricing pass, on the lanes of the current SIMD level.
struct Chunk<'a> {
    model: &'a American,
    lanes: &'a mut LaneStates,
    samples: usize,
}

impl LaneProgram for Chunk<'_> {
    type Output = BlockStats;

    /// Hot loop: paths side by side in the lanes. Per date one exp per path (two
    /// with the mirror path, walked in lock step with the same normals) and, before
    /// maturity, the fitted polynomial; a path keeps the cash flow of the first date
    /// the rule exercises it, or its payoff at maturity. Every path takes all `steps`
    /// normals, exercised or not (the European control needs its spot at maturity).
    #[inline(always)]
    unsafe fn run<V: Lanes>(self) -> BlockStats {
        let model = self.model;
        let m = &model.market;
        let steps = model.steps as usize;
        let step = Step::new(m, m.maturity / model.steps as f64);
        let antithetic = model.layout.antithetic();
        let mut normals = LaneNormals::new();
        // SAFETY: the caller guarantees the instruction set; stores are within the
        // columns (at + GROUP <= SAMPLES).
        unsafe {
            model.layout.paths::<V>(
                self.samples,
                steps,
                &mut normals,
                self.lanes,
                #[inline(always)]
                |z, cols, at| {
                    for h in 0..GROUP / V::LANES {
                        let (mut a, mut b) = (Walk::<V>::new(), Walk::<V>::new());
                        for date in 1..=steps {
                            let zj = normal_at::<V>(z, steps, h, date - 1);
                            model.advance(&mut a, step.log_growth(zj), date);
                            if antithetic {
                                model.advance(&mut b, step.mirror_log_growth(zj), date);
                            }
                        }
                        let k = at + h * V::LANES;
                        let (p, c) = model.values(&a);
                        if antithetic {
                            let (pm, cm) = model.values(&b);
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

/// Paths of the pricing pass, one per lane: their log-growth so far, and whether and
/// with what discounted cash flow they were exercised (at maturity at the latest).
#[derive(Clone, Copy)]
struct Walk<V: Lanes> {
    x: V,
    value: V,
    done: V::Mask,
}

impl<V: Lanes> Walk<V> {
    #[inline(always)]
    unsafe fn new() -> Self {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            Walk {
                x: V::splat(0.0),
                value: V::splat(0.0),
                done: V::mask_none(),
            }
        }
    }
}

impl American {
    /// Advances each lane's path by the log-growth `dx` to date `date` (1-based) and
    /// exercises it there if the rule says so and it was not exercised before.
    #[inline(always)]
    unsafe fn advance<V: Lanes>(&self, path: &mut Walk<V>, dx: V, date: usize) {
        let m = &self.market;
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            path.x = path.x.add(dx);
            if V::all(path.done) {
                return;
            }
            let s = V::splat(m.spot).mul(exp_lanes(path.x));
            let exercise =
                V::splat(self.discounts[date - 1]).mul(payoff(s, m.strike, m.option.sign()));
            let now = if date == self.steps as usize {
                // every lane (not yet exercised) takes its payoff at maturity
                V::splat(0.0).ge(V::splat(0.0))
            } else if let Some(fit) = &self.rule[date - 1] {
                let continuation = fit.value(s);
                V::mask_and(exercise.gt(V::splat(0.0)), exercise.ge(continuation))
            } else {
                return;
            };
            let now = V::mask_andnot(now, path.done);
            path.value = V::select(now, exercise, path.value);
            path.done = V::mask_or(path.done, now);
        }
    }

    /// Price and control samples of each lane's finished path.
    #[inline(always)]
    unsafe fn values<V: Lanes>(&self, path: &Walk<V>) -> (V, V) {
        let m = &self.market;
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let s = V::splat(m.spot).mul(exp_lanes(path.x));
            let last = V::splat(self.discounts[self.steps as usize - 1]);
            (path.value, last.mul(payoff(s, m.strike, m.option.sign())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normal equations `G c = r` in the layout of [`normal_equations`].
    fn sums(g: &[&[f64]], r: &[f64]) -> [[f64; MAX_TERMS + 1]; MAX_TERMS] {
        let n = r.len();
        let mut out = [[0.0; MAX_TERMS + 1]; MAX_TERMS];
        for i in 0..n {
            out[i][i..n].copy_from_slice(&g[i][i..n]);
            out[i][n] = r[i];
        }
        out
    }

    #[test]
    fn cholesky_solves_the_normal_equations() {
        // G = A^T A for A = [[1, 0, 0], [1, 1, 0], [1, 2, 4]], r = G (1, -2, 0.5)
        let g: [&[f64]; 3] = [&[3.0, 3.0, 4.0], &[3.0, 5.0, 8.0], &[4.0, 8.0, 16.0]];
        let c = [1.0, -2.0, 0.5];
        let r: Vec<f64> = g
            .iter()
            .map(|row| row.iter().zip(&c).map(|(a, b)| a * b).sum())
            .collect();
        let got = cholesky_solve(&sums(&g, &r), 3).unwrap();
        for (x, want) in got.iter().zip(c) {
            assert!((x - want).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn cholesky_refuses_equations_that_determine_no_fit() {
        // two equal rows: the paths in the money gave one distinct spot
        let g: [&[f64]; 2] = [&[1.0, 1.0], &[1.0, 1.0]];
        assert!(cholesky_solve(&sums(&g, &[1.0, 1.0]), 2).is_none());
        let g: [&[f64]; 2] = [&[f64::NAN, 0.0], &[0.0, 1.0]];
        assert!(cholesky_solve(&sums(&g, &[1.0, 1.0]), 2).is_none());
    }
}
