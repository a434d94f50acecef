//! Closed-form prices: the exact references of the option models and the known
//! means of their control variates.
//!
//! A control variate's mean decides an estimate's bits, so everything here runs on
//! carlo's own [`math`] (`exp`, `ln`, `normal_cdf`), never the platform's libm: the
//! same bits on every platform.

use crate::math;

use super::market::{BarrierKind, Market, OptionType};

/// The standard normal distribution function: [`math::normal_cdf`] (relative error
/// below 1e-15, also deep in the tails where `1 - erf` would cancel).
pub fn norm_cdf(x: f64) -> f64 {
    math::normal_cdf(x)
}

/// `x^y` for `x > 0`, as `exp(y ln x)` on carlo's own functions.
fn pow(x: f64, y: f64) -> f64 {
    math::exp(y * math::ln(x))
}

/// The law of an underlying `G` at expiry that is lognormal, as the closed forms
/// need it: its discounted expectation `D E[G]`, the discounted strike `D K`, the
/// log-moneyness `ln(E[G] / K)` and the variance of `ln G`.
///
/// Kept as these four numbers, each computed with one `exp` or `ln` of a small
/// argument, rather than as the mean of `ln G` exponentiated back: a forward made as
/// `exp(ln S + ...)` carries the rounding of `ln S` (about 5e-14 on a spot of 100),
/// and at a tiny volatility and maturity an estimate with a control variate is exact
/// to far better than that.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lognormal {
    /// `D E[G]`: the discounted forward.
    pub forward: f64,
    /// `D K`: the discounted strike.
    pub strike: f64,
    /// `ln(E[G] / K)`.
    pub log_moneyness: f64,
    /// The variance of `ln G`.
    pub variance: f64,
}

impl Lognormal {
    /// `d1` and `d2` of the Black formula.
    pub fn d(&self) -> (f64, f64) {
        let sd = self.variance.sqrt();
        let d1 = self.log_moneyness / sd + 0.5 * sd;
        (d1, d1 - sd)
    }

    /// The price of the option paying `max(phi (G - K), 0)` at expiry.
    ///
    /// The out-of-the-money option from the Black formula, plus the discounted
    /// intrinsic value when in the money (put-call parity): in the money, the Black
    /// formula's two terms are both about the forward and their difference cancels,
    /// while the out-of-the-money option's terms are small and the intrinsic value
    /// `D E[G] - D K` is what an estimate with a control variate computes exactly.
    pub fn option(&self, option: OptionType) -> f64 {
        let intrinsic = (option.sign() * (self.forward - self.strike)).max(0.0);
        // No variance (it underflowed, or is NaN): the intrinsic value is the limit.
        if self.variance.is_nan() || self.variance <= 0.0 {
            return intrinsic;
        }
        let (d1, d2) = self.d();
        // The side that is out of the money (a call when the forward is below K).
        let psi = if self.log_moneyness > 0.0 { -1.0 } else { 1.0 };
        let out = psi * (self.forward * norm_cdf(psi * d1) - self.strike * norm_cdf(psi * d2));
        intrinsic + out.max(0.0)
    }
}

/// The law of the spot at expiry under Black-Scholes-Merton.
pub(super) fn black_scholes_law(m: &Market) -> Lognormal {
    Lognormal {
        forward: m.spot * math::exp(-m.dividend * m.maturity),
        strike: m.strike * m.discount(),
        log_moneyness: math::ln(m.spot / m.strike) + (m.rate - m.dividend) * m.maturity,
        variance: m.volatility * m.volatility * m.maturity,
    }
}

/// Black-Scholes-Merton price of the European option with dividend yield.
pub fn black_scholes(m: &Market) -> f64 {
    black_scholes_law(m).option(m.option)
}

/// Mean and variance of the logarithm of the geometric average of the spot at
/// `t_i = i T / n`, `i = 1..n`.
///
/// `ln G` is the mean of `n` correlated normals: its mean is `ln S + drift`, with
/// `drift = (r - q - sigma^2 / 2) T (n + 1) / (2 n)`, and its variance
/// `sigma^2 T (n + 1) (2 n + 1) / (6 n^2)` (the sum of `min(t_i, t_j)` over all pairs).
/// Returns `(drift, variance)`.
fn geometric_average_law(m: &Market, fixings: u64) -> (f64, f64) {
    let n = fixings as f64;
    let sigma2 = m.volatility * m.volatility;
    let mean_time = m.maturity * (n + 1.0) / (2.0 * n);
    let variance = sigma2 * m.maturity * (n + 1.0) * (2.0 * n + 1.0) / (6.0 * n * n);
    let drift = (m.rate - m.dividend - 0.5 * sigma2) * mean_time;
    (drift, variance)
}

/// Exact price of the option on the geometric average of the spot at
/// `t_i = i T / n`, `i = 1..n`.
pub fn geometric_asian(m: &Market, fixings: u64) -> f64 {
    geometric_asian_law(m, fixings).option(m.option)
}

/// The law of the geometric average of the spot at `t_i = i T / n`.
pub(super) fn geometric_asian_law(m: &Market, fixings: u64) -> Lognormal {
    let (drift, variance) = geometric_average_law(m, fixings);
    Lognormal {
        forward: m.discount() * geometric_asian_mean(m, fixings),
        strike: m.strike * m.discount(),
        log_moneyness: math::ln(m.spot / m.strike) + drift + 0.5 * variance,
        variance,
    }
}

/// The expected geometric average of the spot at `t_i = i T / n` (undiscounted).
///
/// A control variate's mean, so it decides an estimate's bits: computed with carlo's
/// own `exp`, the same on every platform.
pub fn geometric_asian_mean(m: &Market, fixings: u64) -> f64 {
    let (drift, variance) = geometric_average_law(m, fixings);
    m.spot * math::exp(drift + 0.5 * variance)
}

/// The expected arithmetic average of the spot at `t_i = i T / n` (undiscounted):
/// `S / n * sum_i exp((r - q) t_i)`.
pub fn arithmetic_asian_mean(m: &Market, fixings: u64) -> f64 {
    let dt = m.maturity / fixings as f64;
    let sum: f64 = (1..=fixings)
        .map(|i| math::exp((m.rate - m.dividend) * dt * i as f64))
        .sum();
    m.spot * sum / fixings as f64
}

/// Price of the continuously monitored barrier option (Reiner and Rubinstein, in
/// Haug's notation), with `rebate` paid at expiry when an out option was knocked
/// out or an in option never knocked in.
///
/// The in option comes from Haug's table; the out option from in-out parity, which
/// holds path by path: in + out = vanilla + the discounted rebate.
pub fn barrier_continuous(m: &Market, barrier: f64, kind: BarrierKind, rebate: f64) -> f64 {
    let knock_in = barrier_in(m, barrier, kind.is_up(), rebate);
    if kind.is_in() {
        knock_in
    } else {
        black_scholes(m) + rebate * m.discount() - knock_in
    }
}

/// The knock-in option of [`barrier_continuous`].
fn barrier_in(m: &Market, h: f64, up: bool, rebate: f64) -> f64 {
    let (s, k, t) = (m.spot, m.strike, m.maturity);
    let phi = m.option.sign();
    let eta = if up { -1.0 } else { 1.0 };
    let sst = m.volatility * t.sqrt();
    let mu = (m.rate - m.dividend) / (m.volatility * m.volatility) - 0.5;
    let x1 = math::ln(s / k) / sst + (1.0 + mu) * sst;
    let x2 = math::ln(s / h) / sst + (1.0 + mu) * sst;
    let y1 = math::ln(h * h / (s * k)) / sst + (1.0 + mu) * sst;
    let y2 = math::ln(h / s) / sst + (1.0 + mu) * sst;
    let forward = s * math::exp(-m.dividend * t);
    let strike = k * m.discount();
    let ratio = h / s;
    let hit_spot = pow(ratio, 2.0 * (mu + 1.0));
    let hit_strike = pow(ratio, 2.0 * mu);
    let n = norm_cdf;
    let a = phi * forward * n(phi * x1) - phi * strike * n(phi * x1 - phi * sst);
    let b = phi * forward * n(phi * x2) - phi * strike * n(phi * x2 - phi * sst);
    let c = phi * forward * hit_spot * n(eta * y1)
        - phi * strike * hit_strike * n(eta * y1 - eta * sst);
    let d = phi * forward * hit_spot * n(eta * y2)
        - phi * strike * hit_strike * n(eta * y2 - eta * sst);
    // The rebate times the probability of never touching the barrier.
    let e =
        rebate * m.discount() * (n(eta * x2 - eta * sst) - hit_strike * n(eta * y2 - eta * sst));
    let strike_above = k > h;
    let option = match (m.option, up, strike_above) {
        (OptionType::Call, false, true) => c,
        (OptionType::Call, false, false) => a - b + d,
        (OptionType::Call, true, true) => a,
        (OptionType::Call, true, false) => b - c + d,
        (OptionType::Put, false, true) => b - c + d,
        (OptionType::Put, false, false) => a,
        (OptionType::Put, true, true) => a - b + d,
        (OptionType::Put, true, false) => c,
    };
    option + e
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The market of `../shared/reference/` (QuantLib 1.44).
    pub(crate) fn reference_market(option: OptionType) -> Market {
        Market {
            option,
            spot: 100.0,
            strike: 100.0,
            rate: 0.05,
            dividend: 0.0,
            volatility: 0.2,
            maturity: 1.0,
        }
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn black_scholes_matches_quantlib() {
        // QuantLib's AnalyticEuropeanEngine, printed to 6 decimals.
        close(
            black_scholes(&reference_market(OptionType::Call)),
            10.450584,
            5e-7,
        );
        close(
            black_scholes(&reference_market(OptionType::Put)),
            5.573526,
            5e-7,
        );
    }

    #[test]
    fn black_scholes_stays_exact_at_a_tiny_volatility_and_maturity() {
        // Deep in the money and almost deterministic: the price is the discounted
        // forward less the discounted strike, which is what the European's control
        // variate gives an estimate, to the last bit.
        let m = Market {
            volatility: 1e-4,
            maturity: 1e-4,
            strike: 90.0,
            dividend: 0.02,
            ..reference_market(OptionType::Call)
        };
        let forward = m.spot * math::exp(-m.dividend * m.maturity);
        assert_eq!(black_scholes(&m), forward - m.strike * m.discount());
        let put = Market {
            option: OptionType::Put,
            strike: 110.0,
            ..m
        };
        assert_eq!(black_scholes(&put), 110.0 * put.discount() - forward);
        // At the money: D F sigma sqrt(T) phi(0), to the first order in sigma sqrt T.
        let atm = Market {
            strike: 100.0,
            rate: 0.0,
            dividend: 0.0,
            ..m
        };
        let sd = 1e-4 * 1e-2_f64;
        let first_order = 100.0 * sd / (2.0 * std::f64::consts::PI).sqrt();
        close(black_scholes(&atm) / first_order, 1.0, 1e-8);
        // No variance at all (it underflows): the intrinsic value, not a NaN.
        let none = Market {
            volatility: 1e-200,
            maturity: 1e-200,
            ..m
        };
        assert!(black_scholes(&none).is_finite());
    }

    #[test]
    fn black_scholes_satisfies_parity_with_dividends() {
        let mut call = reference_market(OptionType::Call);
        call.dividend = 0.03;
        call.strike = 110.0;
        let put = Market {
            option: OptionType::Put,
            ..call
        };
        let parity = call.spot * (-call.dividend).exp() - call.strike * call.discount();
        close(black_scholes(&call) - black_scholes(&put), parity, 1e-12);
    }

    #[test]
    fn geometric_asian_matches_quantlib_on_the_exact_grid() {
        // QuantLib's closed form with t_i = i/12 exactly (reference/README.md).
        close(
            geometric_asian(&reference_market(OptionType::Call), 12),
            5.940200,
            5e-7,
        );
        // One fixing at maturity is the European option.
        let put = reference_market(OptionType::Put);
        close(geometric_asian(&put, 1), black_scholes(&put), 1e-12);
        // The mean of the average of one fixing is the forward.
        close(geometric_asian_mean(&put, 1), 100.0 * 0.05f64.exp(), 1e-12);
        close(arithmetic_asian_mean(&put, 1), 100.0 * 0.05f64.exp(), 1e-12);
    }

    #[test]
    fn continuous_barrier_matches_quantlib() {
        // QuantLib's AnalyticBarrierEngine: up-and-out call, H = 120, no rebate,
        // continuous and at the BGK barrier for 252 dates (H = 120.8840).
        let call = reference_market(OptionType::Call);
        close(
            barrier_continuous(&call, 120.0, BarrierKind::UpAndOut, 0.0),
            1.176065,
            5e-7,
        );
        let shifted = 120.0 * (0.5826 * 0.2 * (1.0f64 / 252.0).sqrt()).exp();
        close(shifted, 120.8840, 5e-5);
        close(
            barrier_continuous(&call, shifted, BarrierKind::UpAndOut, 0.0),
            1.332070,
            5e-7,
        );
    }

    #[test]
    fn continuous_barriers_have_their_limits() {
        // A barrier far away never matters: out = vanilla, in = its rebate.
        for option in [OptionType::Call, OptionType::Put] {
            let m = reference_market(option);
            let vanilla = black_scholes(&m);
            for (h, out, into) in [
                (1e6, BarrierKind::UpAndOut, BarrierKind::UpAndIn),
                (1e-3, BarrierKind::DownAndOut, BarrierKind::DownAndIn),
            ] {
                close(barrier_continuous(&m, h, out, 2.0), vanilla, 1e-9);
                close(
                    barrier_continuous(&m, h, into, 2.0),
                    2.0 * m.discount(),
                    1e-9,
                );
            }
        }
        // A down-and-in put struck above the barrier: Haug's B - C + D branch,
        // checked against in-out parity with the out option's own A - B + C - D.
        let mut m = reference_market(OptionType::Put);
        m.dividend = 0.02;
        let vanilla = black_scholes(&m);
        let down_in = barrier_continuous(&m, 90.0, BarrierKind::DownAndIn, 0.0);
        let down_out = barrier_continuous(&m, 90.0, BarrierKind::DownAndOut, 0.0);
        assert!(down_in > 0.0 && down_in < vanilla, "{down_in}");
        close(down_in + down_out, vanilla, 1e-12);
    }
}
