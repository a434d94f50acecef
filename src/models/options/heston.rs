//! The Heston model's European option by Andersen's quadratic-exponential scheme with
//! martingale correction (QE-M, 2008), on the lanes.
//!
//! `dS = (r - q) S dt + sqrt(v) S dW`, `dv = kappa (theta - v) dt + xi sqrt(v) dZ`,
//! `d<W, Z> = rho dt`, over `steps` equal steps `D = T / steps`.
//!
//! # The scheme
//! Given `v`, the next variance has mean `m = theta + (v - theta) e^{-kappa D}` and
//! variance `s^2 = v xi^2 e^{-kappa D} c + theta xi^2 kappa c^2 / 2`, `c = (1 -
//! e^{-kappa D}) / kappa`; with `psi = s^2 / m^2`:
//! - `psi <= 1.5` (quadratic): `v' = a (b + Z_v)^2`, `b^2 = 2/psi - 1 + sqrt(2/psi)
//!   sqrt(2/psi - 1)`, `a = m / (1 + b^2)`;
//! - `psi > 1.5` (exponential): `v' = 0` with probability `p = (psi - 1) / (psi + 1)`,
//!   else exponential of rate `beta = (1 - p) / m`. The uniform `U` of Andersen's
//!   inversion is `1 - e^{-E}`, `E = (Z_v^2 + Z_e^2) / 2` an exact standard
//!   exponential from two normals, so `v' = (E + ln(1 - p)) / beta` where `E > -ln(1 -
//!   p)`, else 0.
//!
//! The log-spot steps by `(r - q) D + K0* + K1 v + K2 v' + sqrt(K3 v + K4 v') Z_x`
//! (`gamma_1 = gamma_2 = 1/2`), with Andersen's martingale correction `K0*`, which
//! makes `E[S(t + D) | S(t), v(t)] = S(t) e^{(r - q) D}` hold exactly in the scheme
//! (so the discounted spot is a martingale and put-call parity holds in expectation).
//! Where the correction does not exist (`A = K2 + K4 / 2` at or above `1 / (2a)` or
//! `beta`, possible only for `rho > 0`), that step takes the uncorrected `K0 = -rho
//! kappa theta D / xi`.
//!
//! Each step takes three normals, `Z_v`, `Z_e`, `Z_x` in that order (factor 0, 1 and
//! 2 of the path for `sampler = "sobol"`). The mirror path of an antithetic pair takes
//! their negatives (its exponential draws are those of the path itself).
//!
//! # Bias at the default 100 steps
//! +0.0012 +- 0.0008 on a price of 8.11 (`configs/heston.toml`, four runs of 8.4e6
//! samples), -0.013 at 5 steps: docs/models.md has the measurements.
//!
//! # Control variate
//! The Black-Scholes option at the matched volatility `sigma^2 = w / T`, `w` the
//! expected integrated variance, on the geometric Brownian path driven by the same
//! step normals `rho Z_v + sqrt(1 - rho^2) Z_x`: its mean is the Black-Scholes price
//! exactly.
//!
//! # Greeks
//! Pathwise, since `S_T` is proportional to the spot today and grows with `e^{r T}`:
//! delta `D phi 1{itm} S_T / S` and rho `-T V + D phi 1{itm} T S_T`. Their references
//! are central differences of the semi-analytic price (bumps of `1e-4` relative to
//! the spot, `1e-4` of rate), accurate to about `1e-7`.

use serde::{Deserialize, Serialize};

use super::closed_form::black_scholes;
use super::greeks::{self, Greek};
use super::market::{Market, OptionType};
use super::path_model::{KernelParams, PathKernel, PathNormals, Scenario};
use crate::Error;
use crate::math::{self, Lanes, exp_lanes, ln_lanes};
use crate::model::{Entry, Quantity};
use crate::models::reference::heston::HestonParams as Reference;
use crate::stats::Control;

/// The `[model]` keys of `type = "heston"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HestonParams {
    /// `call` or `put`.
    pub option: OptionType,
    /// Spot price today.
    pub spot: f64,
    /// Strike price.
    pub strike: f64,
    /// Risk-free rate, continuously compounded.
    pub rate: f64,
    /// Continuous dividend yield (default 0).
    #[serde(default)]
    pub dividend: f64,
    /// Years to expiry.
    pub maturity: f64,
    /// Variance today.
    pub v0: f64,
    /// Speed of mean reversion of the variance.
    pub kappa: f64,
    /// Long-run variance.
    pub theta: f64,
    /// Volatility of the variance.
    pub xi: f64,
    /// Correlation of the spot's and the variance's Brownian motions.
    pub rho: f64,
    /// Time steps of the scheme (default 100).
    #[serde(default = "default_steps")]
    pub steps: u64,
    /// Each sample averages a path and its mirror image (default false).
    #[serde(default)]
    pub antithetic: bool,
    /// Correct the estimate with the matched Black-Scholes control (default false).
    #[serde(default)]
    pub control_variate: bool,
    /// Greeks estimated in the same pass (delta, rho; default none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub greeks: Vec<Greek>,
}

fn default_steps() -> u64 {
    DEFAULT_STEPS
}

/// Time steps when the config gives none.
pub const DEFAULT_STEPS: u64 = 100;

/// Most time steps a path may take.
pub const MAX_STEPS: u64 = 100_000;

/// Andersen's switch between the quadratic and the exponential branch.
const PSI_C: f64 = 1.5;

/// The registry entry of `type = "heston"`.
pub(crate) fn entry() -> Entry {
    Entry::new(
        "heston",
        "European call or put under Heston, Andersen's QE-M scheme (reference: \
         semi-analytic, Lewis / little trap)",
        |p: &HestonParams, c| super::path_model::build(p, c),
    )
    .quasi_monte_carlo()
    .sweeps(super::path_model::build_sweep::<HestonParams>)
    .key("option", "\"call\" | \"put\"", "required")
    .key("spot", "float > 0", "spot price today; required")
    .key("strike", "float > 0", "strike; required")
    .key(
        "rate",
        "float",
        "risk-free rate, continuously compounded; required",
    )
    .key("dividend", "float, default 0", "continuous dividend yield")
    .key("maturity", "float > 0", "years to expiry; required")
    .key(
        "v0",
        "float >= 0",
        "variance today (volatility squared); required",
    )
    .key(
        "kappa",
        "float > 0",
        "speed of mean reversion of the variance; required",
    )
    .key("theta", "float > 0", "long-run variance; required")
    .key("xi", "float > 0", "volatility of the variance; required")
    .key(
        "rho",
        "float in [-1, 1]",
        "correlation of spot and variance; required",
    )
    .key(
        "steps",
        "integer >= 1, default 100",
        "time steps of the QE-M scheme (three normals each)",
    )
    .key(
        "antithetic",
        "bool, default false",
        "a sample averages a path and its mirror",
    )
    .key(
        "control_variate",
        "bool, default false",
        "correct with Black-Scholes at the matched volatility on the same normals",
    )
    .key(
        "greeks",
        "list of \"delta\" \"rho\", default []",
        "pathwise sensitivities in the same pass",
    )
}

impl HestonParams {
    /// The reference's view of the keys.
    fn reference(&self) -> Reference {
        Reference {
            option: self.option,
            spot: self.spot,
            strike: self.strike,
            rate: self.rate,
            dividend: self.dividend,
            maturity: self.maturity,
            v0: self.v0,
            kappa: self.kappa,
            theta: self.theta,
            xi: self.xi,
            rho: self.rho,
        }
    }

    /// Checks every key; errors name the `model.` key.
    pub fn validate(&self) -> Result<(), Error> {
        self.reference().validate()?;
        for (key, v) in [
            ("kappa", self.kappa),
            ("theta", self.theta),
            ("xi", self.xi),
        ] {
            if v <= 0.0 {
                let why = if key == "xi" {
                    "; with xi = 0 the variance is deterministic: use type = \"european\""
                } else {
                    ""
                };
                return Err(Error::parameter(
                    &format!("model.{key}"),
                    format!("must be positive for the QE-M scheme, found {v}{why}"),
                ));
            }
        }
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return Err(Error::parameter(
                "model.steps",
                format!("must be between 1 and {MAX_STEPS}, found {}", self.steps),
            ));
        }
        Ok(())
    }
}

/// One path of the Heston model under QE-M, with its constants computed once.
#[derive(Debug, Clone)]
pub struct HestonKernel {
    steps: usize,
    spot: f64,
    strike: f64,
    phi: f64,
    discount: f64,
    v0: f64,
    theta: f64,
    /// `e^{-kappa D}`.
    decay: f64,
    /// `s^2 = v c2 + c3`.
    c2: f64,
    c3: f64,
    /// `(r - q) D`.
    drift: f64,
    k2: f64,
    k3: f64,
    k4: f64,
    /// `K2 + K4 / 2`.
    a: f64,
    /// `K1 + K3 / 2`, and the uncorrected `K0`.
    k1_half_k3: f64,
    k0: f64,
    /// The matched geometric Brownian motion's step drift and volatility, with `rho`
    /// and `sqrt(1 - rho^2)`, when the control is on.
    control: Option<[f64; 4]>,
    /// The control's volatility, `sqrt(w / T)`.
    matched_volatility: f64,
    /// Greeks asked for, in output order.
    greeks: Vec<Greek>,
    maturity: f64,
}

impl HestonKernel {
    fn new(p: &HestonParams, greeks: Vec<Greek>) -> Self {
        let t = p.maturity;
        let dt = t / p.steps as f64;
        let (kappa, theta, xi, rho) = (p.kappa, p.theta, p.xi, p.rho);
        // carlo's own exp: these constants decide every path's bits
        let decay = math::exp(-kappa * dt);
        let c = -math::exp_m1(-kappa * dt) / kappa;
        let xi2 = xi * xi;
        let k1 = 0.5 * dt * (kappa * rho / xi - 0.5) - rho / xi;
        let k2 = 0.5 * dt * (kappa * rho / xi - 0.5) + rho / xi;
        let k3 = 0.5 * dt * (1.0 - rho * rho);
        let k4 = k3;
        let sigma2 = p.reference().integrated_variance() / t;
        let control = p.control_variate.then(|| {
            [
                (p.rate - p.dividend - 0.5 * sigma2) * dt,
                (sigma2 * dt).sqrt(),
                rho,
                (1.0 - rho * rho).sqrt(),
            ]
        });
        HestonKernel {
            steps: p.steps as usize,
            spot: p.spot,
            strike: p.strike,
            phi: p.option.sign(),
            discount: math::exp(-p.rate * t),
            v0: p.v0,
            theta,
            decay,
            c2: xi2 * decay * c,
            c3: theta * xi2 * kappa * c * c * 0.5,
            drift: (p.rate - p.dividend) * dt,
            k2,
            k3,
            k4,
            a: k2 + 0.5 * k4,
            k1_half_k3: k1 + 0.5 * k3,
            k0: -rho * kappa * theta * dt / xi,
            control,
            matched_volatility: sigma2.sqrt(),
            greeks,
            maturity: t,
        }
    }

    /// One QE-M step of each lane from variance `v` with normals `zv`, `ze`: the next
    /// variance and the log-spot's increment less its diffusion `sqrt(K3 v + K4 v')
    /// Z_x`.
    ///
    /// Hand-written hot loop body: both branches' arithmetic in every lane, one `ln`
    /// for the martingale correction of either branch, and the exponential branch's
    /// second `ln` only when some lane takes it.
    #[inline(always)]
    unsafe fn step<V: Lanes>(&self, v: V, zv: V, ze: V) -> (V, V) {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let (zero, one, two) = (V::splat(0.0), V::splat(1.0), V::splat(2.0));
            let theta = V::splat(self.theta);
            let a_cap = V::splat(self.a);
            let m = theta.add(v.sub(theta).mul(V::splat(self.decay)));
            let s2 = v.mul(V::splat(self.c2)).add(V::splat(self.c3));
            let psi = s2.div(m.mul(m));
            let quad = psi.le(V::splat(PSI_C));
            // quadratic branch (its values in other lanes are discarded)
            let ip = two.div(psi);
            let b2 = ip.sub(one).add(ip.sqrt().mul(ip.sub(one).max(zero).sqrt()));
            let a = m.div(one.add(b2));
            let b = b2.sqrt();
            let bz = b.add(zv);
            let vq = a.mul(bz.mul(bz));
            let yq = one.sub(two.mul(a_cap).mul(a));
            // exponential branch
            let p = psi.sub(one).div(psi.add(one)).max(zero);
            let one_p = one.sub(p);
            let beta = one_p.div(m);
            let ye = p.add(beta.mul(one_p).div(beta.sub(a_cap)));
            // the correction exists where its argument is positive
            let ok = V::select(quad, yq, beta.sub(a_cap)).gt(zero);
            let arg = V::select(ok, V::select(quad, yq, ye), one);
            let l = ln_lanes(arg);
            let kq = zero
                .sub(a_cap.mul(b2).mul(a).div(yq))
                .add(V::splat(0.5).mul(l));
            let ke = zero.sub(l);
            let corrected = V::select(quad, kq, ke);
            let uncorrected = V::splat(self.k0).add(V::splat(self.k1_half_k3).mul(v));
            let k = V::select(ok, corrected, uncorrected);
            let next = if V::all(quad) {
                vq
            } else {
                let e = V::splat(0.5).mul(zv.mul(zv).add(ze.mul(ze)));
                let l1p = ln_lanes(one_p);
                let jumps = e.add(l1p).gt(zero);
                let ve = V::select(jumps, e.add(l1p).div(beta), zero);
                V::select(quad, vq, ve)
            };
            // K0* + K1 v = k - K3 v / 2
            let dx = V::splat(self.drift)
                .add(k)
                .sub(V::splat(0.5 * self.k3).mul(v))
                .add(V::splat(self.k2).mul(next));
            (next, dx)
        }
    }
}

impl PathKernel for HestonKernel {
    fn normals(&self) -> usize {
        3 * self.steps
    }

    fn factors(&self) -> usize {
        3
    }

    fn values(&self) -> usize {
        1 + usize::from(self.control.is_some()) + self.greeks.len()
    }

    /// Hand-written hot loop: a QE-M step per date ([`HestonKernel::step`]), one `exp`
    /// at expiry (two with the control).
    #[inline(always)]
    unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let zero = V::splat(0.0);
            let (k3, k4) = (V::splat(self.k3), V::splat(self.k4));
            let (mut x, mut v, mut y) = (zero, V::splat(self.v0), zero);
            for j in 0..self.steps {
                let zv = z.get::<V>(3 * j);
                let ze = z.get::<V>(3 * j + 1);
                let zx = z.get::<V>(3 * j + 2);
                let (next, dx) = self.step(v, zv, ze);
                let diffusion = k3.mul(v).add(k4.mul(next)).sqrt().mul(zx);
                x = x.add(dx.add(diffusion));
                v = next;
                if let Some([drift, vol, rho, rho_bar]) = self.control {
                    let w = V::splat(rho).mul(zv).add(V::splat(rho_bar).mul(zx));
                    y = y.add(V::splat(drift).add(V::splat(vol).mul(w)));
                }
            }
            let (spot, strike, phi) = (
                V::splat(self.spot),
                V::splat(self.strike),
                V::splat(self.phi),
            );
            let discount = V::splat(self.discount);
            let s = spot.mul(exp_lanes(x));
            let intrinsic = phi.mul(s.sub(strike));
            let price = discount.mul(intrinsic.max(zero));
            out[0] = price;
            let mut c = 1;
            if self.control.is_some() {
                let sc = spot.mul(exp_lanes(y));
                out[1] = discount.mul(phi.mul(sc.sub(strike)).max(zero));
                c = 2;
            }
            if !self.greeks.is_empty() {
                // D phi 1{itm} S_T: the pathwise derivative's common factor
                let itm = V::select(intrinsic.gt(zero), discount.mul(phi), zero).mul(s);
                let t = V::splat(self.maturity);
                for (k, g) in self.greeks.iter().enumerate() {
                    out[c + k] = match g {
                        Greek::Delta => itm.div(spot),
                        _ => itm.mul(t).sub(t.mul(price)),
                    };
                }
            }
        }
    }
}

/// Central differences of the reference price in `bump`.
fn reference_difference(
    p: &Reference,
    h: f64,
    bump: impl Fn(&mut Reference, f64),
) -> Result<f64, Error> {
    let (mut up, mut down) = (*p, *p);
    bump(&mut up, h);
    bump(&mut down, -h);
    Ok((up.price()? - down.price()?) / (2.0 * h))
}

impl KernelParams for HestonParams {
    type Kernel = HestonKernel;
    const NORMALS_KEY: &'static str = "model.steps";

    fn scenario(&self) -> Result<Scenario<HestonKernel>, Error> {
        self.validate()?;
        let greeks = greeks::checked(&self.greeks)?;
        if let Some(g) = greeks
            .iter()
            .find(|g| !matches!(g, Greek::Delta | Greek::Rho))
        {
            return Err(greeks::refused(
                "heston",
                &format!(
                    "{} has no pathwise estimator here (delta and rho do); price bumps \
                     from common random numbers with --sweep model.KEY=...",
                    g.name()
                ),
            ));
        }
        let reference = self.reference();
        let kernel = HestonKernel::new(self, greeks.clone());
        let mut price = Quantity::new("price", 0).exact(reference.price()?);
        if kernel.control.is_some() {
            let market = Market {
                option: self.option,
                spot: self.spot,
                strike: self.strike,
                rate: self.rate,
                dividend: self.dividend,
                volatility: kernel.matched_volatility,
                maturity: self.maturity,
            };
            price.control = Some(Control {
                column: 1,
                mean: black_scholes(&market),
            });
        }
        let mut quantities = vec![price];
        let base = 1 + usize::from(kernel.control.is_some());
        for (k, &g) in greeks.iter().enumerate() {
            let value = match g {
                Greek::Delta => {
                    reference_difference(&reference, 1e-4 * self.spot, |p, h| p.spot += h)?
                }
                _ => reference_difference(&reference, 1e-4, |p, h| p.rate += h)?,
            };
            quantities.push(Quantity::new(g.name(), base + k).exact(value));
        }
        Ok(Scenario { kernel, quantities })
    }

    fn antithetic(&self) -> bool {
        self.antithetic
    }
}
