//! The Heston model's semi-analytic European price.
//!
//! `dS = (r - q) S dt + sqrt(v) S dW`, `dv = kappa (theta - v) dt + xi sqrt(v) dZ`,
//! `d<W, Z> = rho dt`.
//!
//! # Method
//! Lewis's single-integral form (2001), with the Black-Scholes price at the expected
//! integrated variance `w` as a control variate (as QuantLib's
//! `AnalyticHestonEngine` with `AndersenPiterbargOptCV`): with `F` the forward and
//! `k = ln(F/K)`,
//!
//! `C = C_BS(w) - e^{-rT} sqrt(F K) / pi int_0^inf Re[e^{iuk} (phi(u - i/2) - e^{-w (u^2 + 1/4) / 2})] / (u^2 + 1/4) du`
//!
//! where `phi` is the characteristic function of `ln(S_T / F)` in Albrecher et al.'s
//! "little trap" form (2007), which stays on the principal branch of the logarithm.
//! Puts come from the same integral (`P = C - e^{-rT} (F - K)` holds term by term).
//!
//! The characteristic function is written so that nothing cancels as `xi -> 0`:
//! `(beta - d) / xi^2 = -(u^2 + 1/4) / (beta + d)` and
//! `ln((1 - g e^{-dT}) / (1 - g)) / xi^2 = ln_1p(w) / w * (w / xi^2)`, so it tends to
//! the Black-Scholes one continuously, and `xi = 0` itself is Black-Scholes with the
//! integrated deterministic variance (exactly; also for `xi <= 1e-100`).
//!
//! The integral runs over `x = e^{-c u}` in `(0, 1]`, `c` the smaller of the
//! characteristic function's asymptotic decay rate `sqrt(1 - rho^2) (v0 + kappa theta
//! T) / xi` (Andersen and Piterbarg) and the control's `sqrt(w / 78)`, so that the
//! integrand stays bounded at `x = 0`; adaptive Gauss-Legendre
//! ([`quadrature`](super::quadrature)) to `1e-13` relative to `sqrt(F K)`.
//!
//! # Validity and accuracy
//! `spot, strike, maturity > 0`, `v0, theta, xi, kappa >= 0`, `|rho| <= 1`, finite
//! rate and dividend. Against QuantLib 1.44's `AnalyticHestonEngine` (Gauss-Lobatto,
//! relative tolerance 1e-14) and an independent scipy quadrature of Heston's two
//! probabilities over the 115 cases of `testdata/heston.txt` (Feller satisfied and
//! violated, xi 0.01 to 1.5, rho -0.95 to 0.95, maturities 0.05 to 10, strikes 0.5 to 2
//! times a spot of 100): worst absolute error 2.1e-12 and 5.1e-12 (1e-8 asserted).
//! About 0.2 to 0.4 ms a price (release build); extreme cases (strikes 1e-4 or 100
//! times the spot, `|rho| > 0.99` at short maturities) up to ~0.1 s. A price whose quadrature
//! does not reach `1e-10 (S e^{-qT} + K e^{-rT})` (in practice `|rho|` very close to
//! 1 with short maturities) is an error naming `model.rho`, never a wrong number.

use crate::Error;
use crate::math::{self, Complex};
use crate::models::options::OptionType;

use super::quadrature::adaptive;
use super::{black, finite, non_negative, positive};

/// The parameters of a Heston European option, as a model's keys give them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HestonParams {
    /// Call or put.
    pub option: OptionType,
    /// Spot today.
    pub spot: f64,
    /// Strike.
    pub strike: f64,
    /// Risk-free rate, continuously compounded.
    pub rate: f64,
    /// Continuous dividend yield.
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
}

/// At or below this, `xi` counts as 0 (the price differs from Black-Scholes by
/// `O(xi)`, far below a double's resolution).
const XI_ZERO: f64 = 1e-100;
/// Relative tolerance of the integral, in units of `sqrt(F K)`.
const TOL: f64 = 1e-13;
/// Most quadrature intervals (each costs 64 characteristic-function evaluations).
const MAX_PIECES: usize = 600;

impl HestonParams {
    /// Checks every key; errors name the `model.` key.
    pub fn validate(&self) -> Result<(), Error> {
        positive("spot", self.spot)?;
        positive("strike", self.strike)?;
        finite("rate", self.rate)?;
        finite("dividend", self.dividend)?;
        positive("maturity", self.maturity)?;
        non_negative("v0", self.v0)?;
        non_negative("kappa", self.kappa)?;
        non_negative("theta", self.theta)?;
        non_negative("xi", self.xi)?;
        finite("rho", self.rho)?;
        if self.rho.abs() > 1.0 {
            return Err(Error::parameter(
                "model.rho",
                format!("a correlation must lie in [-1, 1], found {}", self.rho),
            ));
        }
        Ok(())
    }

    /// `E[int_0^T v dt] = theta T + (v0 - theta) (1 - e^{-kappa T}) / kappa`.
    pub fn integrated_variance(&self) -> f64 {
        let t = self.maturity;
        let x = self.kappa * t;
        // (1 - e^{-x}) / x, continuous at x = 0
        let frac = if x < 1e-300 {
            1.0
        } else {
            -math::exp_m1(-x) / x
        };
        self.theta * t + (self.v0 - self.theta) * t * frac
    }

    /// `ln phi(u - i/2)`, the log characteristic function of `ln(S_T / F)` at
    /// `u - i/2` (`u` real), little-trap form, stable as `xi -> 0`.
    fn log_cf_shifted(&self, u: f64) -> Complex {
        let (kappa, theta, xi, rho, t) = (self.kappa, self.theta, self.xi, self.rho, self.maturity);
        // i z + z^2 at z = u - i/2 is real
        let a = u * u + 0.25;
        let beta = Complex::new(kappa - 0.5 * rho * xi, -rho * xi * u);
        let d = (beta * beta + Complex::real(xi * xi * a)).sqrt();
        let bd = beta + d;
        // m = (beta - d) / xi^2, g = (beta - d) / (beta + d), 1 - g = 2d / (beta + d)
        let m = Complex::real(-a) / bd;
        let g = m * (xi * xi) / bd;
        let one_minus_g = d.scale(2.0) / bd;
        let e = (-d).scale(t).exp();
        let one_minus_e = -((-d).scale(t).exp_m1());
        // ln((1 - g e) / (1 - g)) = ln_1p(w), w = xi^2 q
        let q = m * one_minus_e / (bd * one_minus_g);
        let w = q * (xi * xi);
        let h = if w.re == 0.0 && w.im == 0.0 {
            Complex::ONE
        } else {
            w.ln_1p() / w
        };
        let big_d = m * one_minus_e / (Complex::ONE - g * e);
        let big_c = (m.scale(t) - (h * q).scale(2.0)).scale(kappa * theta);
        big_c + big_d.scale(self.v0)
    }

    /// The price, or an error naming the key that makes it invalid or out of reach.
    pub fn price(&self) -> Result<f64, Error> {
        self.validate()?;
        let t = self.maturity;
        let discount = math::exp(-self.rate * t);
        let forward = self.spot * math::exp((self.rate - self.dividend) * t);
        let w = self.integrated_variance().max(0.0);
        let bs = black(self.option, forward, self.strike, w, discount);
        if self.xi <= XI_ZERO || w == 0.0 {
            // deterministic variance: Black-Scholes is exact (w = 0: no variance ever)
            return Ok(bs);
        }
        let k = math::ln(forward / self.strike);
        let c_inf =
            (1.0 - self.rho * self.rho).sqrt() * (self.v0 + self.kappa * self.theta * t) / self.xi;
        let c_bs = (w / 78.0).sqrt();
        let c = if c_inf > 0.0 { c_inf.min(c_bs) } else { c_bs };
        let integrand = |x: f64| -> f64 {
            if x <= 0.0 {
                return 0.0;
            }
            let u = -math::ln(x) / c;
            let a = u * u + 0.25;
            let phi = self.log_cf_shifted(u).exp();
            let phi_bs = math::exp(-0.5 * w * a);
            let (s, co) = math::sin_cos(u * k);
            // Re[e^{iuk} (phi - phi_bs)]
            let re = co * (phi.re - phi_bs) - s * phi.im;
            re / a / (c * x)
        };
        let r = adaptive(integrand, 0.0, 1.0, TOL, MAX_PIECES);
        let scale = discount * (forward * self.strike).sqrt() / std::f64::consts::PI;
        let bound = 1e-10 * (self.spot * math::exp(-self.dividend * t) + self.strike * discount);
        if !(r.value.is_finite() && scale * r.error <= bound) {
            return Err(Error::parameter(
                "model.rho",
                format!(
                    "the Heston reference's integral does not converge here \
                     (error estimate {:e} on the price; rho = {}, xi = {}, maturity = {})",
                    scale * r.error,
                    self.rho,
                    self.xi,
                    t
                ),
            ));
        }
        // a deep out-of-the-money price is the difference of two nearly equal numbers:
        // its rounding may cross zero, a price cannot
        Ok((bs - scale * r.value).max(0.0))
    }
}

/// The Heston price of `p` (see [`HestonParams::price`]).
pub fn price(p: &HestonParams) -> Result<f64, Error> {
    p.price()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HestonParams {
        HestonParams {
            option: OptionType::Call,
            spot: 100.0,
            strike: 100.0,
            rate: 0.03,
            dividend: 0.01,
            maturity: 1.0,
            v0: 0.04,
            kappa: 1.5,
            theta: 0.05,
            xi: 0.5,
            rho: -0.7,
        }
    }

    #[test]
    fn small_xi_tends_to_black_scholes() {
        let mut p = base();
        let forward = p.spot * math::exp((p.rate - p.dividend) * p.maturity);
        let discount = math::exp(-p.rate * p.maturity);
        p.xi = 0.0;
        let bs = black(
            p.option,
            forward,
            p.strike,
            p.integrated_variance(),
            discount,
        );
        assert_eq!(p.price().unwrap(), bs);
        // the integral path, continuous in xi: O(xi) away
        for xi in [1e-12, 1e-9, 1e-6] {
            p.xi = xi;
            let v = p.price().unwrap();
            assert!((v - bs).abs() < 1e-9 + 100.0 * xi, "xi {xi}: {v} vs {bs}");
        }
        p.kappa = 0.0;
        p.xi = 1e-8;
        let bs = black(p.option, forward, p.strike, p.v0 * p.maturity, discount);
        assert!((p.price().unwrap() - bs).abs() < 1e-6);
    }

    #[test]
    fn parity_and_bounds() {
        let mut p = base();
        for rho in [-0.95, 0.0, 0.95] {
            p.rho = rho;
            p.option = OptionType::Call;
            let c = p.price().unwrap();
            p.option = OptionType::Put;
            let put = p.price().unwrap();
            let parity = p.spot * math::exp(-p.dividend) - p.strike * math::exp(-p.rate);
            assert!((c - put - parity).abs() < 1e-10, "rho {rho}");
            assert!(c > 0.0 && put > 0.0);
        }
    }

    #[test]
    fn bad_parameters_name_their_key() {
        type Spoil = fn(&mut HestonParams);
        let cases: [(Spoil, &str); 6] = [
            (|p| p.v0 = -0.1, "model.v0"),
            (|p| p.kappa = f64::NAN, "model.kappa"),
            (|p| p.theta = -1.0, "model.theta"),
            (|p| p.xi = -0.5, "model.xi"),
            (|p| p.rho = 1.5, "model.rho"),
            (|p| p.maturity = 0.0, "model.maturity"),
        ];
        for (bad, key) in cases {
            let mut p = base();
            bad(&mut p);
            let e = p.price().unwrap_err().to_string();
            assert!(e.starts_with(key), "{e}");
        }
    }

    #[test]
    fn extreme_parameters_give_a_number_or_an_error() {
        let mut p = base();
        for (rho, xi, t, k) in [
            (1.0, 1.5, 0.05, 100.0),
            (-1.0, 1.5, 10.0, 100.0),
            (0.999, 3.0, 0.01, 300.0),
            (-0.5, 1e-3, 30.0, 20.0),
            (0.0, 5.0, 1.0, 100.0),
            (-0.9, 1.0, 1.0, 1e4),
            (-0.9, 1.0, 1.0, 1e-2),
        ] {
            p.rho = rho;
            p.xi = xi;
            p.maturity = t;
            p.strike = k;
            match p.price() {
                Ok(v) => assert!(v.is_finite() && v >= -1e-8, "{p:?}: {v}"),
                Err(e) => assert!(e.to_string().starts_with("model.rho"), "{e}"),
            }
        }
        p = base();
        p.v0 = 0.0;
        p.theta = 0.0;
        // no variance ever: the discounted intrinsic value on the forward
        let v = p.price().unwrap();
        let f = p.spot * math::exp(0.02);
        assert!((v - math::exp(-0.03) * (f - 100.0)).abs() < 1e-12);
    }
}
