//! The lookback option, monitored at `steps` equally spaced dates, the last at
//! maturity; fixed or floating strike; rate, dividend and volatility numbers or
//! piecewise-flat curves.
//!
//! The extremum starts at the spot today (a new contract): with `M` and `m` the
//! maximum and minimum of `S_0, S_{t_1}, ..., S_{t_n}`, a fixed strike call pays
//! `max(M - K, 0)`, a fixed strike put `max(K - m, 0)`, a floating strike call `S_T -
//! m` and a floating strike put `M - S_T`.
//!
//! A path walks its log-spot in exact steps (`steps` normals), keeps its running
//! maximum and minimum in log space, and takes one `exp` per extremum it pays on and
//! one for the terminal spot.
//!
//! # References (flat rate, dividend and volatility only)
//! - `reference`: the exact discretely monitored price by recursive quadrature
//!   ([`crate::models::reference::lookback::discrete`], 2e-14 against scipy), for
//!   `steps <= 100` (it costs `O(steps^2)`: about 0.3 s at 100 dates in a release
//!   build, paid once per process).
//! - `approx_reference`: the continuous closed form with the Broadie-Glasserman-Kou
//!   shift ([`crate::models::reference::lookback::discrete_bgk`]): off by 7% at 5
//!   dates, under 0.5% from 64.
//!
//! Under term structures there is no reference. The control variate is the European
//! option of the same side on `S_T` (fixed strike; its Black-Scholes price under the
//! curves is its mean) or the discounted terminal spot (floating strike). Delta is
//! pathwise (every extremum is proportional to the spot today).

use serde::{Deserialize, Serialize};

use super::greeks::{self, Greek};
use super::market::OptionType;
use super::path_model::{KernelParams, PathKernel, PathNormals, Scenario};
use crate::Error;
use crate::math::{self, Lanes, exp_lanes};
use crate::model::{Entry, Quantity};
use crate::models::reference::curve::{self, Curve, CurveKind};
use crate::models::reference::lookback::{self as reference, LookbackParams as Reference, Strike};
use crate::stats::Control;

/// Fixed or floating strike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrikeType {
    /// Pays on the extremum against `strike`.
    Fixed,
    /// Pays the terminal spot against the extremum.
    Floating,
}

/// The `[model]` keys of `type = "lookback"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookbackParams {
    /// `call` (on the maximum, or `S_T - m`) or `put` (on the minimum, or `M - S_T`).
    pub option: OptionType,
    /// Fixed or floating strike.
    pub strike_type: StrikeType,
    /// The fixed strike (only for `strike_type = "fixed"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strike: Option<f64>,
    /// Spot price today.
    pub spot: f64,
    /// Risk-free rate: a number or a curve.
    pub rate: Curve,
    /// Continuous dividend yield: a number or a curve (default 0).
    #[serde(default = "zero")]
    pub dividend: Curve,
    /// Volatility: a number or a curve.
    pub volatility: Curve,
    /// Years to expiry.
    pub maturity: f64,
    /// Monitoring dates, equally spaced, the last at maturity.
    pub steps: u64,
    /// Each sample averages a path and its mirror image (default false).
    #[serde(default)]
    pub antithetic: bool,
    /// Correct the estimate with the model's control variate (default false).
    #[serde(default)]
    pub control_variate: bool,
    /// Greeks estimated in the same pass (delta; default none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub greeks: Vec<Greek>,
}

fn zero() -> Curve {
    Curve::Flat(0.0)
}

/// Most monitoring dates a path may have.
pub const MAX_STEPS: u64 = 100_000;

/// Most dates for which the exact discrete reference is computed.
pub const EXACT_STEPS: u64 = 100;

/// The registry entry of `type = "lookback"`.
pub(crate) fn entry() -> Entry {
    Entry::new(
        "lookback",
        "discretely monitored lookback call or put, fixed or floating strike (reference: \
         exact discrete for steps <= 100; approx_reference: Broadie-Glasserman-Kou)",
        |p: &LookbackParams, c| super::path_model::build(p, c),
    )
    .quasi_monte_carlo()
    .sweeps(super::path_model::build_sweep::<LookbackParams>)
    .key(
        "option",
        "\"call\" | \"put\"",
        "call on the maximum (fixed) or S_T - min (floating); put on the minimum or \
         max - S_T; required",
    )
    .key("strike_type", "\"fixed\" | \"floating\"", "required")
    .key(
        "strike",
        "float > 0",
        "the fixed strike; required for fixed, refused for floating",
    )
    .key(
        "spot",
        "float > 0",
        "spot price today (the extremum's start); required",
    )
    .key(
        "rate",
        "float, or { times = [...], values = [...] }",
        "risk-free rate, continuously compounded, or a piecewise-flat curve; required",
    )
    .key(
        "dividend",
        "float or curve, default 0",
        "continuous dividend yield",
    )
    .key(
        "volatility",
        "float > 0, or a curve",
        "per square-root year; required",
    )
    .key("maturity", "float > 0", "years to expiry; required")
    .key(
        "steps",
        "integer >= 1",
        "monitoring dates t_i = i T / n, the last at maturity; required",
    )
    .key(
        "antithetic",
        "bool, default false",
        "a sample averages a path and its mirror",
    )
    .key(
        "control_variate",
        "bool, default false",
        "correct with the European option on S_T (fixed) or the discounted S_T (floating)",
    )
    .key(
        "greeks",
        "list of \"delta\", default []",
        "pathwise delta in the same pass",
    )
}

/// One path of a lookback option.
#[derive(Debug, Clone)]
pub struct LookbackKernel {
    /// Each step's log-drift `int (r - q - sigma^2 / 2)` and standard deviation
    /// `sqrt(int sigma^2)` over its interval.
    drift: Vec<f64>,
    vol: Vec<f64>,
    option: OptionType,
    strike_type: StrikeType,
    strike: f64,
    spot: f64,
    discount: f64,
    control: bool,
    delta: bool,
}

impl PathKernel for LookbackKernel {
    fn normals(&self) -> usize {
        self.drift.len()
    }

    fn values(&self) -> usize {
        1 + usize::from(self.control) + usize::from(self.delta)
    }

    /// Hand-written hot loop: per date an addition, a max and a min in log space; the
    /// `exp`s at expiry.
    #[inline(always)]
    unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let zero = V::splat(0.0);
            let (mut x, mut high, mut low) = (zero, zero, zero);
            for (j, (&drift, &vol)) in self.drift.iter().zip(&self.vol).enumerate() {
                x = x.add(V::splat(drift).add(V::splat(vol).mul(z.get::<V>(j))));
                high = high.max(x);
                low = low.min(x);
            }
            let (spot, strike, discount) = (
                V::splat(self.spot),
                V::splat(self.strike),
                V::splat(self.discount),
            );
            let s = spot.mul(exp_lanes(x));
            let call = self.option == OptionType::Call;
            // A fixed strike call pays on the maximum and a put on the minimum; a
            // floating strike call pays S_T - minimum and a put maximum - S_T.
            let on_high = match self.strike_type {
                StrikeType::Fixed => call,
                StrikeType::Floating => !call,
            };
            let extremum = spot.mul(exp_lanes(if on_high { high } else { low }));
            let (payoff, weight) = match (self.strike_type, call) {
                (StrikeType::Fixed, true) => {
                    let itm = extremum.gt(strike);
                    (
                        extremum.sub(strike).max(zero),
                        V::select(itm, extremum, zero),
                    )
                }
                (StrikeType::Fixed, false) => {
                    let itm = strike.gt(extremum);
                    (
                        strike.sub(extremum).max(zero),
                        V::select(itm, zero.sub(extremum), zero),
                    )
                }
                (StrikeType::Floating, true) => {
                    let p = s.sub(extremum);
                    (p, p)
                }
                (StrikeType::Floating, false) => {
                    let p = extremum.sub(s);
                    (p, p)
                }
            };
            out[0] = discount.mul(payoff);
            let mut c = 1;
            if self.control {
                out[1] = match self.strike_type {
                    StrikeType::Fixed => {
                        let phi = V::splat(self.option.sign());
                        discount.mul(phi.mul(s.sub(strike)).max(zero))
                    }
                    StrikeType::Floating => discount.mul(s),
                };
                c = 2;
            }
            if self.delta {
                out[c] = discount.mul(weight).div(spot);
            }
        }
    }
}

impl LookbackParams {
    /// The curves' values if all three are flat.
    fn flat(&self) -> Option<(f64, f64, f64)> {
        match (&self.rate, &self.dividend, &self.volatility) {
            (Curve::Flat(r), Curve::Flat(q), Curve::Flat(s)) => Some((*r, *q, *s)),
            _ => None,
        }
    }
}

impl KernelParams for LookbackParams {
    type Kernel = LookbackKernel;
    const NORMALS_KEY: &'static str = "model.steps";

    fn scenario(&self) -> Result<Scenario<LookbackKernel>, Error> {
        let strike = match (self.strike_type, self.strike) {
            (StrikeType::Fixed, Some(k)) => Strike::Fixed(k),
            (StrikeType::Fixed, None) => {
                return Err(Error::parameter(
                    "model.strike",
                    "a fixed strike lookback needs a strike",
                ));
            }
            (StrikeType::Floating, None) => Strike::Floating,
            (StrikeType::Floating, Some(_)) => {
                return Err(Error::parameter(
                    "model.strike",
                    "a floating strike lookback has no strike: its strike is the \
                     extremum (remove the key, or set strike_type = \"fixed\")",
                ));
            }
        };
        let t = self.maturity;
        let flat = self.flat();
        // validate every key the same way, curve or number
        let check = Reference {
            option: self.option,
            strike,
            spot: self.spot,
            rate: flat.map_or(0.0, |f| f.0),
            dividend: flat.map_or(0.0, |f| f.1),
            volatility: flat.map_or(1.0, |f| f.2),
            maturity: t,
        };
        check.validate()?;
        self.rate.validate("rate", CurveKind::Rate, t)?;
        self.dividend.validate("dividend", CurveKind::Rate, t)?;
        self.volatility
            .validate("volatility", CurveKind::Volatility, t)?;
        if self.volatility.integral_of_square(t) <= 0.0 {
            return Err(Error::parameter(
                "model.volatility",
                "must be positive somewhere before the maturity",
            ));
        }
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return Err(Error::parameter(
                "model.steps",
                format!("must be between 1 and {MAX_STEPS}, found {}", self.steps),
            ));
        }
        if let Some(g) = self.greeks.iter().find(|g| **g != Greek::Delta) {
            return Err(greeks::refused(
                "lookback",
                &format!(
                    "{} has no pathwise estimator here (delta does); price bumps from \
                     common random numbers with --sweep model.KEY=...",
                    g.name()
                ),
            ));
        }
        let n = self.steps as usize;
        let (mut drift, mut vol) = (Vec::with_capacity(n), Vec::with_capacity(n));
        match flat {
            // A number: the same step every date, computed as the other path models do.
            Some((r, q, sigma)) => {
                let dt = t / n as f64;
                drift.resize(n, (r - q - 0.5 * sigma * sigma) * dt);
                vol.resize(n, sigma * dt.sqrt());
            }
            None => {
                let mut before = (0.0, 0.0, 0.0);
                for i in 1..=n {
                    let ti = if i == n { t } else { t * i as f64 / n as f64 };
                    let now = (
                        self.rate.integral(ti),
                        self.dividend.integral(ti),
                        self.volatility.integral_of_square(ti),
                    );
                    let (dr, dq, dv) = (now.0 - before.0, now.1 - before.1, now.2 - before.2);
                    drift.push(dr - dq - 0.5 * dv);
                    vol.push(dv.max(0.0).sqrt());
                    before = now;
                }
            }
        }
        let discount = math::exp(-self.rate.integral(t));
        let greeks = greeks::checked(&self.greeks)?;
        let delta = !greeks.is_empty();
        let mut price = Quantity::new("price", 0);
        let mut delta_reference = None;
        if let Some((r, q, sigma)) = flat {
            let p = Reference {
                rate: r,
                dividend: q,
                volatility: sigma,
                ..check
            };
            if self.steps <= EXACT_STEPS {
                let value = reference::discrete(&p, self.steps)?;
                price = price.exact(value);
                if delta {
                    delta_reference = Some(match strike {
                        // the floating payoffs are proportional to the spot
                        Strike::Floating => value / self.spot,
                        Strike::Fixed(_) => {
                            let h = 1e-4 * self.spot;
                            let at = |s: f64| {
                                reference::discrete(&Reference { spot: s, ..p }, self.steps)
                            };
                            (at(self.spot + h)? - at(self.spot - h)?) / (2.0 * h)
                        }
                    });
                }
            }
            price.approx_reference = Some(reference::discrete_bgk(&p, self.steps)?);
        }
        let fixed = match strike {
            Strike::Fixed(k) => k,
            Strike::Floating => 0.0,
        };
        if self.control_variate {
            let mean = match strike {
                Strike::Fixed(k) => curve::black_scholes(
                    self.option,
                    self.spot,
                    k,
                    &self.rate,
                    &self.dividend,
                    &self.volatility,
                    t,
                )?,
                Strike::Floating => self.spot * math::exp(-self.dividend.integral(t)),
            };
            price.control = Some(Control { column: 1, mean });
        }
        let mut quantities = vec![price];
        if delta {
            let mut q = Quantity::new("delta", 1 + usize::from(self.control_variate));
            if let Some(value) = delta_reference {
                q = q.exact(value);
            }
            quantities.push(q);
        }
        Ok(Scenario {
            kernel: LookbackKernel {
                drift,
                vol,
                option: self.option,
                strike_type: self.strike_type,
                strike: fixed,
                spot: self.spot,
                discount,
                control: self.control_variate,
                delta,
            },
            quantities,
        })
    }

    fn antithetic(&self) -> bool {
        self.antithetic
    }
}
