//! Merton's jump-diffusion European option: one exact step to expiry per path.
//!
//! The log-spot diffuses with volatility `sigma` and jumps at the times of a Poisson
//! process of intensity `lambda`, each jump adding a normal `N(mu_J, delta^2)`; the
//! drift is compensated, `r - q - lambda k` with `k = e^{mu_J + delta^2 / 2} - 1`, so
//! the discounted spot is a martingale. Given `N` jumps by expiry the log-return is
//! normal, so a path is exact in one step:
//!
//! `ln(S_T / S) = (r - q - lambda k - sigma^2 / 2) T + sigma sqrt(T) z_1 + N mu_J +
//! delta sqrt(N) z_2`.
//!
//! `N` is drawn by inverting the Poisson distribution function (a table computed once,
//! with carlo's `exp`) at the uniform `u = e^{-(z_3^2 + z_4^2) / 2}`: for independent
//! standard normals `(z_3^2 + z_4^2) / 2` is an exact standard exponential, so `u` is
//! exactly uniform. A path takes four normals (one date of four factors for `sampler =
//! "sobol"`); the mirror path of an antithetic pair negates them, so it has the same
//! jump count.
//!
//! The reference is Merton's series ([`crate::models::reference::merton`]), exact. The
//! control variate is the discounted terminal spot, of mean `S e^{-q T}`. Greeks are
//! pathwise (`S_T` is proportional to `S`, and its derivative in `sigma` is `S_T
//! (sqrt(T) z_1 - sigma T)`): delta, vega and rho, against central differences of the
//! series.

use serde::{Deserialize, Serialize};

use super::greeks::{self, Greek};
use super::market::OptionType;
use super::path_model::{KernelParams, PathKernel, PathNormals, Scenario};
use crate::Error;
use crate::math::{self, Lanes, exp_lanes};
use crate::model::{Entry, Quantity};
use crate::models::reference::merton::MertonParams as Reference;
use crate::stats::Control;

/// The `[model]` keys of `type = "merton"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MertonParams {
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
    /// Volatility of the diffusion.
    pub volatility: f64,
    /// Years to expiry.
    pub maturity: f64,
    /// Jumps per year.
    pub jump_intensity: f64,
    /// Mean of the log of a jump's factor.
    pub jump_mean: f64,
    /// Standard deviation of the log of a jump's factor.
    pub jump_volatility: f64,
    /// Each sample averages a path and its mirror image (default false).
    #[serde(default)]
    pub antithetic: bool,
    /// Correct the estimate with the discounted terminal spot (default false).
    #[serde(default)]
    pub control_variate: bool,
    /// Greeks estimated in the same pass (delta, vega, rho; default none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub greeks: Vec<Greek>,
}

/// Most expected jumps per path: the Poisson inversion scans about that many
/// entries of its table per path.
pub const MAX_JUMPS: f64 = 500.0;

/// The registry entry of `type = "merton"`.
pub(crate) fn entry() -> Entry {
    Entry::new(
        "merton",
        "European call or put under Merton's jump-diffusion (reference: Merton's \
         series, exact)",
        |p: &MertonParams, c| super::path_model::build(p, c),
    )
    .quasi_monte_carlo()
    .sweeps(super::path_model::build_sweep::<MertonParams>)
    .key("option", "\"call\" | \"put\"", "required")
    .key("spot", "float > 0", "spot price today; required")
    .key("strike", "float > 0", "strike; required")
    .key(
        "rate",
        "float",
        "risk-free rate, continuously compounded; required",
    )
    .key("dividend", "float, default 0", "continuous dividend yield")
    .key(
        "volatility",
        "float >= 0",
        "volatility of the diffusion, per square-root year; required",
    )
    .key("maturity", "float > 0", "years to expiry; required")
    .key(
        "jump_intensity",
        "float >= 0",
        "jumps per year (lambda); at most 500 expected by expiry; required",
    )
    .key(
        "jump_mean",
        "float",
        "mean of the log of a jump's factor (mu_J); required",
    )
    .key(
        "jump_volatility",
        "float >= 0",
        "standard deviation of the log of a jump's factor (delta); required",
    )
    .key(
        "antithetic",
        "bool, default false",
        "a sample averages a path and its mirror",
    )
    .key(
        "control_variate",
        "bool, default false",
        "correct with the discounted terminal spot",
    )
    .key(
        "greeks",
        "list of \"delta\" \"vega\" \"rho\", default []",
        "pathwise sensitivities in the same pass (vega: of the diffusion's volatility)",
    )
}

impl MertonParams {
    fn reference(&self) -> Reference {
        Reference {
            option: self.option,
            spot: self.spot,
            strike: self.strike,
            rate: self.rate,
            dividend: self.dividend,
            volatility: self.volatility,
            maturity: self.maturity,
            jump_intensity: self.jump_intensity,
            jump_mean: self.jump_mean,
            jump_volatility: self.jump_volatility,
        }
    }
}

/// One path of Merton's model.
#[derive(Debug, Clone)]
pub struct MertonKernel {
    /// `(r - q - lambda k - sigma^2 / 2) T`.
    drift: f64,
    /// `sigma sqrt(T)`.
    sd: f64,
    jump_mean: f64,
    jump_volatility: f64,
    /// `P(N <= k)`, up to where the rest is negligible.
    cdf: Vec<f64>,
    spot: f64,
    strike: f64,
    phi: f64,
    discount: f64,
    control: bool,
    greeks: Vec<Greek>,
    maturity: f64,
    volatility: f64,
}

impl PathKernel for MertonKernel {
    fn normals(&self) -> usize {
        4
    }

    fn factors(&self) -> usize {
        4
    }

    fn values(&self) -> usize {
        1 + usize::from(self.control) + self.greeks.len()
    }

    /// Hand-written hot loop: one `exp` for the uniform, a scan of the Poisson table
    /// while some lane is above it, a `sqrt` and one `exp` for the terminal spot.
    #[inline(always)]
    unsafe fn walk<V: Lanes>(&self, z: PathNormals<'_>, out: &mut [V]) {
        // SAFETY: the caller guarantees the instruction set of `V`.
        unsafe {
            let (zero, one) = (V::splat(0.0), V::splat(1.0));
            let (z1, z2, z3, z4) = (z.get::<V>(0), z.get::<V>(1), z.get::<V>(2), z.get::<V>(3));
            let e = V::splat(0.5).mul(z3.mul(z3).add(z4.mul(z4)));
            let u = exp_lanes(zero.sub(e));
            // N = #{k : P(N <= k) < u}; the table is non-decreasing, so a lane that
            // stops counting never counts again
            let mut n = zero;
            for &c in &self.cdf {
                let more = u.gt(V::splat(c));
                if !V::any(more) {
                    break;
                }
                n = n.add(V::select(more, one, zero));
            }
            let x = V::splat(self.drift)
                .add(V::splat(self.sd).mul(z1))
                .add(n.mul(V::splat(self.jump_mean)))
                .add(V::splat(self.jump_volatility).mul(n.sqrt()).mul(z2));
            let (spot, strike, phi, discount) = (
                V::splat(self.spot),
                V::splat(self.strike),
                V::splat(self.phi),
                V::splat(self.discount),
            );
            let s = spot.mul(exp_lanes(x));
            let intrinsic = phi.mul(s.sub(strike));
            let price = discount.mul(intrinsic.max(zero));
            out[0] = price;
            let mut c = 1;
            if self.control {
                out[1] = discount.mul(s);
                c = 2;
            }
            if !self.greeks.is_empty() {
                let itm = V::select(intrinsic.gt(zero), discount.mul(phi), zero).mul(s);
                let t = V::splat(self.maturity);
                for (k, g) in self.greeks.iter().enumerate() {
                    out[c + k] = match g {
                        Greek::Delta => itm.div(spot),
                        Greek::Vega => itm.mul(
                            V::splat(self.maturity.sqrt())
                                .mul(z1)
                                .sub(V::splat(self.volatility * self.maturity)),
                        ),
                        _ => itm.mul(t).sub(t.mul(price)),
                    };
                }
            }
        }
    }
}

/// `P(N <= k)` for `N ~ Poisson(l)`, `k = 0, 1, ...` until the mass left is below
/// `1e-17` (past the mode, by the geometric bound of the terms' ratio).
fn poisson_cdf(l: f64) -> Vec<f64> {
    let mut p = math::exp(-l);
    let mut cdf = vec![p];
    let mut total = p;
    let mut k = 0.0;
    loop {
        k += 1.0;
        p *= l / k;
        total += p;
        cdf.push(total);
        let ratio = l / (k + 1.0);
        if ratio < 1.0 && p * ratio / (1.0 - ratio) <= 1e-17 {
            return cdf;
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

impl KernelParams for MertonParams {
    type Kernel = MertonKernel;
    const NORMALS_KEY: &'static str = "model.jump_intensity";

    fn scenario(&self) -> Result<Scenario<MertonKernel>, Error> {
        let reference = self.reference();
        let value = reference.price()?;
        let l = self.jump_intensity * self.maturity;
        if l > MAX_JUMPS {
            return Err(Error::parameter(
                "model.jump_intensity",
                format!(
                    "jump_intensity * maturity = {l} expected jumps per path; the simulation \
                     takes at most {MAX_JUMPS}"
                ),
            ));
        }
        let greeks = greeks::checked(&self.greeks)?;
        if let Some(g) = greeks
            .iter()
            .find(|g| !matches!(g, Greek::Delta | Greek::Vega | Greek::Rho))
        {
            return Err(greeks::refused(
                "merton",
                &format!(
                    "{} has no pathwise estimator here (delta, vega and rho do); price \
                     bumps from common random numbers with --sweep model.KEY=...",
                    g.name()
                ),
            ));
        }
        let t = self.maturity;
        let sigma = self.volatility;
        let half_var = 0.5 * self.jump_volatility * self.jump_volatility;
        let k = math::exp_m1(self.jump_mean + half_var);
        let kernel = MertonKernel {
            drift: (self.rate - self.dividend - self.jump_intensity * k - 0.5 * sigma * sigma) * t,
            sd: sigma * t.sqrt(),
            jump_mean: self.jump_mean,
            jump_volatility: self.jump_volatility,
            cdf: poisson_cdf(l),
            spot: self.spot,
            strike: self.strike,
            phi: self.option.sign(),
            discount: math::exp(-self.rate * t),
            control: self.control_variate,
            greeks: greeks.clone(),
            maturity: t,
            volatility: sigma,
        };
        let mut price = Quantity::new("price", 0).exact(value);
        if self.control_variate {
            price.control = Some(Control {
                column: 1,
                mean: self.spot * math::exp(-self.dividend * t),
            });
        }
        let mut quantities = vec![price];
        let base = 1 + usize::from(self.control_variate);
        for (i, &g) in greeks.iter().enumerate() {
            let value = match g {
                Greek::Delta => {
                    reference_difference(&reference, 1e-4 * self.spot, |p, h| p.spot += h)?
                }
                Greek::Vega => {
                    // one-sided where a step down would make the volatility negative
                    let h = 1e-5;
                    if self.volatility >= 2.0 * h {
                        reference_difference(&reference, h, |p, h| p.volatility += h)?
                    } else {
                        let mut up = reference;
                        up.volatility += h;
                        (up.price()? - value) / h
                    }
                }
                _ => reference_difference(&reference, 1e-5, |p, h| p.rate += h)?,
            };
            quantities.push(Quantity::new(g.name(), base + i).exact(value));
        }
        Ok(Scenario { kernel, quantities })
    }

    fn antithetic(&self) -> bool {
        self.antithetic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poisson_table_sums_to_one() {
        for l in [0.0, 0.1, 1.0, 7.5, 100.0, 500.0] {
            let cdf = poisson_cdf(l);
            let last = *cdf.last().unwrap();
            assert!((last - 1.0).abs() < 1e-13, "{l}: {last}");
            assert!(cdf.windows(2).all(|w| w[0] <= w[1]), "{l}");
        }
    }
}
