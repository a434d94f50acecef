//! The path-by-path estimator of the option models: prices and Greeks in the same
//! pass, on pseudo-random or scrambled Sobol numbers, for one market or a sweep.
//!
//! The fast loops of `european.rs`, `asian.rs` and `barrier.rs` price alone on
//! pseudo-random numbers (the European's also gives its Greeks, with the estimators
//! below for one date). A run that asks for Greeks of the other models
//! (`greeks = [...]`), for `sampler = "sobol"` or for a sweep runs here instead: a
//! plainer loop, path by path, that turns each path's standard normals into a row of
//! price, control, plain and Greek samples for every sweep point.
//!
//! # Random numbers
//! Each path uses `n` standard normals `z_1..z_n` (`n` = 1, `fixings` or `steps`),
//! the standardized increments of the Brownian path over the `n` equally spaced dates:
//! with `mc`, from the chunk's stream (64 bits each, by inversion:
//! [`crate::math::normals_from_bits`]); with `sobol`, from point `i` of the replicate's
//! scrambled Sobol sequence in `n` dimensions, inverted the same way and put through a
//! Brownian bridge, so that the first coordinates decide the terminal value and the
//! midpoints (see [`crate::random::qmc`]). Every sweep point walks its path from the same
//! normals: common random numbers, and statistics with the co-moments between points.
//!
//! # Estimators (`S_i` the spot at date `t_i`, `D = exp(-r T)`, `phi` = +1 call, -1
//! put, `1{itm}` whether the payoff is positive, `W_i` the Brownian path at `t_i`, `mu
//! = r - q - sigma^2 / 2`)
//! - european and asian: pathwise where the payoff is Lipschitz (delta, vega, rho,
//!   theta): `D phi 1{itm} dA/dtheta` plus the discount's own derivative, with `A` the
//!   terminal spot or the average. Gamma is the mixed likelihood-ratio / pathwise
//!   estimator (the pathwise delta differentiated through the density of the first
//!   date's spot): `D phi 1{itm} A / S^2 (W_1 / (sigma t_1) - 1)`. Theta moves calendar
//!   time with every date fixed, so only the first interval shrinks:
//!   `dA/dt = -A (mu + sigma W_1 / (2 t_1))`, plus `r V`.
//! - barrier: the knock-out indicator makes the payoff jump, so the Greeks come from
//!   another estimator of the same price, smooth in every parameter: the path drawn
//!   from the same uniforms conditioned to survive each step, weighted by the
//!   probability that it did, with the last step integrated in closed form
//!   (Glasserman and Staum 2001), differentiated pathwise (see
//!   `barrier_greeks`). The price row keeps the plain estimator.
//!
//! Antithetic runs average each Greek over a path and its mirror, like the price.

use std::sync::OnceLock;

use super::greeks::Greek;
use super::market::{Average, BarrierKind, Market, Reduction};
use crate::Error;
use crate::math::{exp, exp_slice, normals_from_bits};
use crate::model::{Block, Context, Model, Quantity, ReferenceKind};
use crate::random::lanes::BLOCK;
use crate::random::qmc::{BrownianBridge, D_MAX, Sobol};
use crate::random::sampler::{MIN_CONTROL_REPLICATES, Sampler};
use crate::stats::{BlockStats, Replicated, RowAccumulator};
use rand::Rng;

/// What a path pays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Payoff {
    /// `max(phi (S_T - K), 0)`.
    European,
    /// `max(phi (A - K), 0)` on the average of the spots at the dates.
    Asian(Average),
    /// The vanilla payoff if the barrier was (in) or was not (out) touched at a date,
    /// else the rebate.
    Barrier {
        /// Which barrier.
        kind: BarrierKind,
        /// Paid at expiry when the option is dead.
        rebate: f64,
        /// `ln(H / S)`.
        log_barrier: f64,
    },
}

/// What a path of a scenario needs, computed once per model: `exp` and `sqrt` of
/// the parameters would otherwise be most of a European path's cost.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Constants {
    dt: f64,
    sdt: f64,
    mu: f64,
    drift: f64,
    disc: f64,
}

impl Constants {
    fn of(m: &Market, steps: usize) -> Self {
        let dt = m.maturity / steps as f64;
        let mu = m.rate - m.dividend - 0.5 * m.volatility * m.volatility;
        Constants {
            dt,
            sdt: dt.sqrt(),
            mu,
            drift: mu * dt,
            disc: m.discount(),
        }
    }
}

/// One market and contract: the only one, or one point of a sweep.
#[derive(Debug, Clone)]
pub(super) struct Scenario {
    /// Market and contract.
    pub market: Market,
    /// What the path pays.
    pub payoff: Payoff,
    /// The price quantity of the fast model (control, reference), columns within
    /// the scenario's block.
    pub price: Quantity,
    /// Closed-form Greeks, where there are some.
    pub reference: Option<fn(Greek, &Market, u64) -> f64>,
    /// Greeks computed numerically where there is no closed form (in the order of
    /// [`Greek::ALL`]; `reference_kind` `quadrature`).
    pub greek_references: Option<[f64; 5]>,
    /// The path length the closed form needs.
    pub dates: u64,
    /// Set by [`Paths::new`].
    pub(super) constants: Constants,
}

/// Normals per block of the pseudo-random path: one call of the vector inversion.
const BLOCK_NORMALS: usize = 4096;

/// The path-by-path option model (see the module docs).
#[derive(Debug)]
pub struct Paths {
    scenarios: Vec<Scenario>,
    steps: usize,
    reduction: Reduction,
    greeks: Vec<Greek>,
    /// Columns of one scenario's row.
    width: usize,
    qmc: Option<Qmc>,
    quantities: Vec<Quantity>,
}

/// The scrambled Sobol points of a `sobol` run.
#[derive(Debug)]
struct Qmc {
    replicates: u64,
    seed: u64,
    bridge: BrownianBridge,
    /// Built the first time a chunk of the replicate runs.
    sobols: Vec<OnceLock<Sobol>>,
}

/// The sweep a [`Paths`] model prices: the swept keys' values at each point (none
/// without a sweep), and the key whose finite differences it reports (empty for
/// none).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sweep<'a> {
    /// Values of the swept keys at each scenario.
    pub points: &'a [Vec<serde_json::Value>],
    /// The one numeric swept key, for `dprice_dKEY` rows.
    pub difference_key: &'a str,
}

/// Buffers of a block of paths.
struct Scratch {
    /// `exp` of each date's log-growth, path after path.
    spots: Vec<f64>,
    /// Each path's values, and its mirror's.
    values: [Vec<PathValue>; 2],
}

impl Scratch {
    fn new(block: usize, steps: usize) -> Self {
        Scratch {
            spots: vec![0.0; block * steps],
            values: [Vec::with_capacity(block), Vec::with_capacity(block)],
        }
    }
}

/// What one path gives: the discounted payoff, the control variate, the Greeks.
#[derive(Debug, Clone, Copy, Default)]
struct PathValue {
    price: f64,
    control: f64,
    greeks: [f64; 5],
}

impl Paths {
    /// The model of `scenarios` (at least one, all with the same path length `steps`)
    /// with `greeks` (sorted, distinct) in `context`'s sampler. `steps_key` names the
    /// key that sets the path length, for the error on too many Sobol dimensions.
    pub(super) fn new(
        mut scenarios: Vec<Scenario>,
        steps: u64,
        reduction: Reduction,
        greeks: Vec<Greek>,
        context: &Context,
        steps_key: &str,
        sweep: &Sweep<'_>,
    ) -> Result<Self, Error> {
        let steps = usize::try_from(steps).unwrap_or(usize::MAX);
        for s in &mut scenarios {
            s.constants = Constants::of(&s.market, steps.max(1));
        }
        let qmc = match context.sampler {
            Sampler::Mc => None,
            Sampler::Sobol { replicates } => {
                if steps > D_MAX {
                    return Err(Error::parameter(
                        steps_key,
                        format!(
                            "{steps} dates need {steps} Sobol dimensions; sampler = \"sobol\" \
                             has at most {D_MAX} (Joe-Kuo new-joe-kuo-6.21201); use fewer \
                             dates or sampler = \"mc\""
                        ),
                    ));
                }
                if reduction.control_variate && replicates < MIN_CONTROL_REPLICATES {
                    return Err(Error::parameter(
                        "simulation.replicates",
                        format!(
                            "{replicates} replicates cannot carry a control variate: its \
                             coefficient is fitted on the replicate means, and with fewer than \
                             {MIN_CONTROL_REPLICATES} the interval is too short; use \
                             replicates >= {MIN_CONTROL_REPLICATES} or control_variate = false"
                        ),
                    ));
                }
                let times: Vec<f64> = (1..=steps).map(|i| i as f64).collect();
                let bridge = BrownianBridge::new(&times)
                    .map_err(|e| Error::parameter(steps_key, e.to_string()))?;
                Some(Qmc {
                    replicates,
                    seed: context.seed,
                    bridge,
                    sobols: (0..replicates).map(|_| OnceLock::new()).collect(),
                })
            }
        };
        let base = 1 + usize::from(reduction.control_variate) + usize::from(reduction.antithetic);
        let width = base + greeks.len();
        let blocks = scenarios.len() * qmc.as_ref().map_or(1, |q| q.replicates as usize);
        if width * blocks > 256 {
            // The statistics hold a co-moment per pair of columns: keep them small.
            let key = if qmc.is_some() {
                "simulation.replicates"
            } else {
                "sweep"
            };
            return Err(Error::parameter(
                key,
                format!(
                    "{} sweep points x {width} columns x {} replicates make rows of {} \
                     columns; at most 256: use fewer replicates, points or greeks",
                    scenarios.len(),
                    blocks / scenarios.len(),
                    width * blocks
                ),
            ));
        }
        let total = width * scenarios.len();
        let replicated = qmc.as_ref().map(|q| Replicated {
            replicates: q.replicates,
            width: total,
            chunk_size: BLOCK as u64,
        });
        let mut quantities = Vec::new();
        for (p, s) in scenarios.iter().enumerate() {
            let offset = p * width;
            let mut price = s.price.clone();
            price.column += offset;
            if let Some(c) = &mut price.control {
                c.column += offset;
            }
            price.plain = price.plain.map(|c| c + offset);
            price.replicated = replicated;
            price.point = sweep.points.get(p).cloned();
            let point = price.point.clone();
            quantities.push(price);
            for (k, &g) in greeks.iter().enumerate() {
                let mut q = Quantity::new(g.name(), offset + base + k);
                if let Some(reference) = s.reference {
                    q = q.exact(reference(g, &s.market, s.dates));
                } else if let Some(values) = s.greek_references {
                    let at = Greek::ALL.iter().position(|h| *h == g).unwrap_or(0);
                    q.reference = Some((values[at], ReferenceKind::Quadrature));
                }
                q.replicated = replicated;
                q.point = point.clone();
                quantities.push(q);
            }
        }
        // Finite differences of the price between neighbouring points of a sweep of
        // one numeric key, at the midpoint: `(V_{k+1} - V_k) / (x_{k+1} - x_k)`.
        if !sweep.difference_key.is_empty() {
            let xs: Vec<f64> = sweep
                .points
                .iter()
                .map(|p| p[0].as_f64().unwrap_or(f64::NAN))
                .collect();
            for k in 0..xs.len().saturating_sub(1) {
                let h = xs[k + 1] - xs[k];
                if !(h.is_finite() && h != 0.0) {
                    continue;
                }
                let name = format!("dprice_d{}", sweep.difference_key);
                let mut q = Quantity::new(name, 0);
                q.combination = vec![(k * width, -1.0 / h), ((k + 1) * width, 1.0 / h)];
                q.replicated = replicated;
                q.point = Some(vec![serde_json::Value::from(0.5 * (xs[k] + xs[k + 1]))]);
                // The same difference of the reference prices, where both exist and
                // are of one kind (closed forms, or quadratures exact to 1e-9).
                if let (Some((a, ka)), Some((b, kb))) = (
                    scenarios[k].price.reference,
                    scenarios[k + 1].price.reference,
                ) && ka == kb
                {
                    q.reference = Some(((b - a) / h, ka));
                }
                quantities.push(q);
            }
        }
        Ok(Paths {
            scenarios,
            steps,
            reduction,
            greeks,
            width,
            qmc,
            quantities,
        })
    }

    /// Columns of a row: every scenario's.
    fn total_width(&self) -> usize {
        self.width * self.scenarios.len()
    }

    /// Writes the rows of the paths whose standardized increments are the chunks of
    /// `steps` values of `z` (and of their mirrors `-z` with antithetic paths), for
    /// every scenario, into `rows`. The spots of a block's paths are exponentiated
    /// together ([`exp_slice`]: the bits of the scalar `exp`, vectorized).
    fn rows(&self, z: &[f64], rows: &mut [f64], scratch: &mut Scratch) {
        let n = self.steps;
        let b = z.len() / n;
        let total = self.total_width();
        let anti = self.reduction.antithetic;
        for (k, s) in self.scenarios.iter().enumerate() {
            let signs: &[f64] = if anti { &[1.0, -1.0] } else { &[1.0] };
            for (side, &sign) in signs.iter().enumerate() {
                let spots = match s.payoff {
                    Payoff::European | Payoff::Asian(Average::Arithmetic) => {
                        let c = s.constants;
                        let sigma = s.market.volatility;
                        let grid = &mut scratch.spots[..b * n];
                        for (path, out) in z.chunks_exact(n).zip(grid.chunks_exact_mut(n)) {
                            let mut x = 0.0;
                            for (&zi, o) in path.iter().zip(out.iter_mut()) {
                                x += c.drift + sigma * c.sdt * (sign * zi);
                                *o = x;
                            }
                        }
                        exp_slice(grid);
                        Some(&scratch.spots[..b * n])
                    }
                    _ => None,
                };
                let values = &mut scratch.values[side];
                values.clear();
                for (p, path) in z.chunks_exact(n).enumerate() {
                    let pre = spots.map(|g| &g[p * n..(p + 1) * n]);
                    values.push(path_value(s, path, sign, &self.greeks, pre));
                }
            }
            for (p, row) in rows.chunks_exact_mut(total).take(b).enumerate() {
                let out = &mut row[k * self.width..(k + 1) * self.width];
                let a = scratch.values[0][p];
                let mut i = 0;
                let mut put = |x: f64| {
                    out[i] = x;
                    i += 1;
                };
                if anti {
                    let m = scratch.values[1][p];
                    put(0.5 * (a.price + m.price));
                    if self.reduction.control_variate {
                        put(0.5 * (a.control + m.control));
                    }
                    put(a.price);
                    for g in 0..self.greeks.len() {
                        put(0.5 * (a.greeks[g] + m.greeks[g]));
                    }
                } else {
                    put(a.price);
                    if self.reduction.control_variate {
                        put(a.control);
                    }
                    for g in 0..self.greeks.len() {
                        put(a.greeks[g]);
                    }
                }
            }
        }
    }

    /// Statistics of `samples` pseudo-random paths from `rng`.
    /// The statistics of an mc block: sample `k`'s path takes the next `steps` words
    /// of lane `k % 8`, each made a normal by inversion.
    fn simulate_mc(&self, block: &mut Block) -> BlockStats {
        let n = self.steps;
        let samples = block.samples();
        let batch = (BLOCK_NORMALS / n).max(1).min(samples);
        let mut acc = RowAccumulator::new(self.total_width());
        let mut bits = vec![0u64; batch * n];
        let mut z = vec![0.0; batch * n];
        let mut rows = vec![0.0; batch * self.total_width()];
        let mut scratch = Scratch::new(batch, n);
        let mut first = 0;
        while first < samples {
            let b = batch.min(samples - first);
            for (k, path) in bits[..b * n].chunks_exact_mut(n).enumerate() {
                let rng = block.lane(first + k);
                for x in path {
                    *x = rng.next_u64();
                }
            }
            normals_from_bits(&bits[..b * n], &mut z[..b * n]);
            self.rows(&z[..b * n], &mut rows, &mut scratch);
            for row in rows.chunks_exact(self.total_width()).take(b) {
                acc.push(row);
            }
            first += b;
        }
        acc.finish()
    }

    /// The statistics of a sobol block: block `b` holds points `(b / R) BLOCK ..` of
    /// replicate `b % R` (see [`crate::random::sampler`]), embedded in the replicate's
    /// columns.
    fn simulate_qmc(&self, qmc: &Qmc, block: &Block) -> BlockStats {
        let n = self.steps;
        let r = block.index() % qmc.replicates;
        let start = (block.index() / qmc.replicates) * BLOCK as u64;
        let samples = block.samples();
        let sobol = qmc.sobols[r as usize].get_or_init(|| {
            Sobol::scrambled(n, qmc.seed, r).expect("dimensions checked when built")
        });
        let batch = (BLOCK_NORMALS / n).max(1).min(samples);
        let mut acc = RowAccumulator::new(self.total_width());
        let mut bits = vec![0u64; batch * n];
        let mut z = vec![0.0; batch * n];
        let mut dz = vec![0.0; batch * n];
        let mut rows = vec![0.0; batch * self.total_width()];
        let mut scratch = Scratch::new(batch, n);
        let mut points = sobol.points(start);
        let mut first = 0;
        while first < samples {
            let b = batch.min(samples - first);
            for x in bits[..b * n].chunks_exact_mut(n) {
                points.next_bits(x);
            }
            normals_from_bits(&bits[..b * n], &mut z[..b * n]);
            for (z, dz) in z[..b * n].chunks_exact(n).zip(dz.chunks_exact_mut(n)) {
                qmc.bridge.increments(z, dz);
            }
            self.rows(&dz[..b * n], &mut rows, &mut scratch);
            for row in rows.chunks_exact(self.total_width()).take(b) {
                acc.push(row);
            }
            first += b;
        }
        acc.finish().embed(r as usize, qmc.replicates as usize)
    }
}

#[inline]
fn path_value(
    s: &Scenario,
    z: &[f64],
    sign: f64,
    greeks: &[Greek],
    growth: Option<&[f64]>,
) -> PathValue {
    let m = &s.market;
    let n = z.len();
    let nf = n as f64;
    let t = m.maturity;
    let Constants {
        dt,
        sdt,
        mu,
        drift,
        disc,
    } = s.constants;
    let sigma = m.volatility;
    let phi = m.option.sign();
    let spot = m.spot;
    let mut out = PathValue::default();
    match s.payoff {
        Payoff::European | Payoff::Asian(_) => {
            // Walk the path: log-growth x, Brownian value w.
            let (mut x, mut w) = (0.0, 0.0);
            let (mut sum, mut log_sum, mut vega_sum, mut rho_sum) = (0.0, 0.0, 0.0, 0.0);
            let mut w1 = 0.0;
            for (i, &zi) in z.iter().enumerate() {
                let e = sign * zi;
                w += sdt * e;
                x += drift + sigma * sdt * e;
                if i == 0 {
                    w1 = w;
                }
                let ti = dt * (i + 1) as f64;
                log_sum += x;
                match s.payoff {
                    Payoff::Asian(Average::Geometric) => {
                        vega_sum += w - sigma * ti;
                        rho_sum += ti;
                    }
                    _ => {
                        // `growth[i]` is `exp(x)` at this date, computed for the block.
                        let si = spot * growth.map_or_else(|| exp(x), |g| g[i]);
                        sum += si;
                        vega_sum += si * (w - sigma * ti);
                        rho_sum += si * ti;
                    }
                }
            }
            let geometric = spot * exp(log_sum / nf);
            let (a, da_dsigma, da_dr) = match s.payoff {
                Payoff::Asian(Average::Geometric) => (
                    geometric,
                    geometric * vega_sum / nf,
                    geometric * rho_sum / nf,
                ),
                _ => (sum / nf, vega_sum / nf, rho_sum / nf),
            };
            let h = (phi * (a - m.strike)).max(0.0);
            out.price = disc * h;
            out.control = match s.payoff {
                Payoff::European => disc * a,
                Payoff::Asian(Average::Arithmetic) => {
                    disc * (phi * (geometric - m.strike)).max(0.0)
                }
                _ => disc * geometric,
            };
            let itm = if h > 0.0 { disc * phi } else { 0.0 };
            let t1 = dt;
            for (k, g) in greeks.iter().enumerate() {
                out.greeks[k] = match g {
                    Greek::Delta => itm * a / spot,
                    Greek::Gamma => itm * a / (spot * spot) * (w1 / (sigma * t1) - 1.0),
                    Greek::Vega => itm * da_dsigma,
                    Greek::Rho => -t * out.price + itm * da_dr,
                    Greek::Theta => m.rate * out.price - itm * a * (mu + sigma * w1 / (2.0 * t1)),
                };
            }
        }
        Payoff::Barrier {
            kind,
            rebate,
            log_barrier,
        } => {
            let side = if kind.is_up() { 1.0 } else { -1.0 };
            let level = side * log_barrier;
            let mut x = 0.0;
            let mut touched = false;
            for &zi in z {
                let e = sign * zi;
                x += drift + sigma * sdt * e;
                touched |= side * x >= level;
            }
            let vanilla = disc * (phi * (spot * exp(x) - m.strike)).max(0.0);
            let value = if touched == kind.is_in() {
                vanilla
            } else {
                disc * rebate
            };
            out.price = value;
            out.control = vanilla;
            if !greeks.is_empty() {
                let contract = super::barrier_greeks::Contract {
                    market: *m,
                    kind,
                    rebate,
                    log_barrier,
                };
                super::barrier_greeks::greeks(&contract, z, sign, greeks, &mut out.greeks);
            }
        }
    }
    out
}

impl Model for Paths {
    fn dim(&self) -> usize {
        let blocks = self.qmc.as_ref().map_or(1, |q| q.replicates as usize);
        self.total_width() * blocks
    }

    fn quantities(&self) -> &[Quantity] {
        &self.quantities
    }

    fn simulate(&self, block: &mut Block) -> Result<BlockStats, String> {
        Ok(match &self.qmc {
            None => self.simulate_mc(block),
            Some(q) => self.simulate_qmc(q, block),
        })
    }

    /// Normals by inversion, from the stream's words or from the Sobol points: not
    /// the fast loops' ziggurat, so a Greeks or sobol summary says so.
    fn normal_method(&self) -> Option<&'static str> {
        Some(INVERSION_METHOD)
    }
}

/// The name of this module's normal method in the `normal` column: each normal is
/// `math::normal_from_bits` of one 64-bit word (AS241 inversion), or the inverse CDF
/// of a Sobol coordinate.
pub const INVERSION_METHOD: &str = "inversion-as241-v1";

/// The parameters of an option model that [`Paths`] can simulate.
pub(super) trait PathParams: Sized {
    /// The fast model, for runs that need none of this module.
    fn fast(&self) -> Result<Box<dyn Model>, Error>;
    /// The Greeks asked for.
    fn greeks(&self) -> &[Greek];
    /// The variance reduction switches.
    fn reduction(&self) -> Result<Reduction, Error>;
    /// The scenario, its path length and the key that sets it.
    fn scenario(&self) -> Result<(Scenario, u64, &'static str), Error>;
}

/// The model of `params` in `context`: the fast loop when neither Greeks nor
/// quasi-Monte Carlo are asked for, else [`Paths`].
pub(super) fn build<P: PathParams>(params: &P, context: &Context) -> Result<Box<dyn Model>, Error> {
    let fast = params.fast()?;
    if params.greeks().is_empty() && context.sampler.is_mc() {
        return Ok(fast);
    }
    let greeks = super::greeks::checked(params.greeks())?;
    let (scenario, steps, key) = params.scenario()?;
    Ok(Box::new(Paths::new(
        vec![scenario],
        steps,
        params.reduction()?,
        greeks,
        context,
        key,
        &Sweep::default(),
    )?))
}

/// The model that prices every point of a sweep (`params`, whose swept keys take
/// `values`) on the same paths. The points must share their path length, Greeks and
/// variance reduction (the config refuses sweeping those keys).
pub(super) fn build_sweep<P: PathParams>(
    params: &[P],
    values: &[Vec<serde_json::Value>],
    difference_key: &str,
    context: &Context,
) -> Result<Box<dyn Model>, Error> {
    let first = &params[0];
    let greeks = super::greeks::checked(first.greeks())?;
    let reduction = first.reduction()?;
    let mut scenarios = Vec::with_capacity(params.len());
    let mut steps = None;
    let mut steps_key = "";
    for p in params {
        let (scenario, n, key) = p.scenario()?;
        if *steps.get_or_insert(n) != n {
            let bare = key.trim_start_matches("model.");
            return Err(Error::parameter(
                &format!("sweep.{bare}"),
                "every point of a sweep walks the same dates from the same random numbers; \
                 sweep market and contract keys, not the dates",
            ));
        }
        steps_key = key;
        scenarios.push(scenario);
    }
    Ok(Box::new(Paths::new(
        scenarios,
        steps.unwrap_or(1),
        reduction,
        greeks,
        context,
        steps_key,
        &Sweep {
            points: values,
            difference_key,
        },
    )?))
}
