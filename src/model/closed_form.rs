//! Closed-form prices: the exact references of the option models and the known
//! means of their control variates.

use statrs::function::erf::erfc;

use super::option::{Market, OptionType};

/// The standard normal distribution function, from statrs' `erfc` (accurate to a
/// few ulps, also deep in the tails where `1 - erf` would cancel).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Price of an option paying `max(phi (G - K), 0)` at expiry, discounted by
/// `discount`, when `ln G` is normal with mean `mean` and variance `variance`.
///
/// Black-Scholes-Merton and the geometric Asian option are both this formula.
fn lognormal_option(
    option: OptionType,
    mean: f64,
    variance: f64,
    strike: f64,
    discount: f64,
) -> f64 {
    let phi = option.sign();
    let sd = variance.sqrt();
    let d1 = (mean - strike.ln() + variance) / sd;
    let d2 = d1 - sd;
    let forward = (mean + 0.5 * variance).exp();
    discount * phi * (forward * norm_cdf(phi * d1) - strike * norm_cdf(phi * d2))
}

/// Black-Scholes-Merton price of the European option with dividend yield.
pub fn black_scholes(m: &Market) -> f64 {
    let v = m.volatility * m.volatility * m.maturity;
    let mean = m.spot.ln() + (m.rate - m.dividend) * m.maturity - 0.5 * v;
    lognormal_option(m.option, mean, v, m.strike, m.discount())
}

/// Mean and variance of the logarithm of the geometric average of the spot at
/// `t_i = i T / n`, `i = 1..n`.
///
/// `ln G` is the mean of `n` correlated normals: its mean is
/// `ln S + (r - q - sigma^2 / 2) T (n + 1) / (2 n)` and its variance
/// `sigma^2 T (n + 1) (2 n + 1) / (6 n^2)` (the sum of `min(t_i, t_j)` over all pairs).
fn geometric_average_law(m: &Market, fixings: u64) -> (f64, f64) {
    let n = fixings as f64;
    let sigma2 = m.volatility * m.volatility;
    let mean_time = m.maturity * (n + 1.0) / (2.0 * n);
    let variance = sigma2 * m.maturity * (n + 1.0) * (2.0 * n + 1.0) / (6.0 * n * n);
    let mean = m.spot.ln() + (m.rate - m.dividend - 0.5 * sigma2) * mean_time;
    (mean, variance)
}

/// Exact price of the option on the geometric average of the spot at
/// `t_i = i T / n`, `i = 1..n`.
pub fn geometric_asian(m: &Market, fixings: u64) -> f64 {
    let (mean, variance) = geometric_average_law(m, fixings);
    lognormal_option(m.option, mean, variance, m.strike, m.discount())
}

/// The expected geometric average of the spot at `t_i = i T / n` (undiscounted).
pub fn geometric_asian_mean(m: &Market, fixings: u64) -> f64 {
    let (mean, variance) = geometric_average_law(m, fixings);
    (mean + 0.5 * variance).exp()
}

/// The expected arithmetic average of the spot at `t_i = i T / n` (undiscounted):
/// `S / n * sum_i exp((r - q) t_i)`.
pub fn arithmetic_asian_mean(m: &Market, fixings: u64) -> f64 {
    let dt = m.maturity / fixings as f64;
    let sum: f64 = (1..=fixings)
        .map(|i| ((m.rate - m.dividend) * dt * i as f64).exp())
        .sum();
    m.spot * sum / fixings as f64
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
}
