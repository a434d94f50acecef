//! Reference prices for the models of issue 27 (Heston, Merton jump-diffusion, baskets,
//! lookbacks, term structures), and the deterministic numerics they need.
//!
//! Each function is a plain computation on a plain parameter struct, so a model fills
//! the struct from its validated keys and gets the same bits on every platform: every
//! transcendental function comes from [`crate::math`] (never the platform's libm) and
//! every loop runs in one fixed order.
//!
//! | family | function | kind | worst error measured (`known_answers`, against `testdata/`) |
//! |---|---|---|---|
//! | Heston | [`heston::price`] | exact (semi-analytic) | 2.1e-12 vs QuantLib's `AnalyticHestonEngine`, 5.1e-12 vs scipy's quadrature of Heston's two probabilities (115 cases) |
//! | Merton | [`merton::price`] | exact (series) | 7.1e-14 vs mpmath's series at 30 digits (60 cases) |
//! | geometric basket | [`basket::geometric`] | exact | 5.0e-14 vs mpmath |
//! | arithmetic basket | [`basket::arithmetic_approx`] | approx (Choi's method) | 1e-9 (typical) to 5.2e-6 (3-year high-volatility put) vs QuantLib's `ChoiBasketEngine`; within 1 SE of a 2e7-path Monte Carlo |
//! | arithmetic basket | [`basket::arithmetic_levy`] | approx (Levy two-moment) | 0.4% to 0.9% typical, 19% on the high-volatility put |
//! | lookback, continuous | [`lookback::continuous`] | exact | 1.4e-14 vs QuantLib's analytic engines (`r = q`, where QuantLib gives NaN or inf, by continuity) |
//! | lookback, discrete | [`lookback::discrete`] | exact (recursive quadrature) | 2.1e-14 vs scipy's 2-date double quadrature; within 1.3 SE of a 4e6-path Monte Carlo at 5 and 20 dates |
//! | lookback, discrete | [`lookback::discrete_bgk`] | approx (Broadie-Glasserman-Kou) | 7% at 5 dates (`sigma = 0.4`), under 0.5% at 64 dates, vs [`lookback::discrete`] |
//! | European under curves | [`curve::black_scholes`] | exact | 2.1e-14 vs QuantLib (`ForwardCurve`, `BlackVarianceCurve`) |
//!
//! Errors are absolute, on prices of a spot of 100. Time per evaluation (release build,
//! `known_answers::timing`, on a loaded 2-core machine, two runs): Heston 0.2 to 0.4 ms,
//! Merton 1 to 10 us, continuous lookback 1 us, geometric basket 1 us, Levy 2 us, Choi
//! on 5 assets 18 ms, discrete lookback 17 to 20 ms at 12 dates, 0.12 s at 52, 0.9 s at
//! 250, 7 to 13 s at 1000.
//!
//! Invalid parameters give [`Error::Parameter`](crate::Error::Parameter) naming the
//! `model.` key; no function here panics or returns NaN for finite inputs it accepts.

pub mod basket;
pub(crate) mod choi;
pub mod curve;
pub mod heston;
#[cfg(test)]
mod known_answers;
pub mod lookback;
pub mod merton;
pub(crate) mod quadrature;

use crate::Error;
use crate::math;
use crate::models::options::OptionType;

/// `e^{-rT} E[max(phi (X - K), 0)]` for a lognormal `X` with mean `forward` and
/// `Var ln X = variance`: Black's formula, with `discount = e^{-rT}`.
///
/// Valid for every `forward, strike > 0`, `variance >= 0` (zero or underflowing
/// variance gives the discounted intrinsic value `max(phi (F - K), 0)`), never NaN.
pub fn black(option: OptionType, forward: f64, strike: f64, variance: f64, discount: f64) -> f64 {
    let phi = option.sign();
    let sd = variance.sqrt();
    let intrinsic = (phi * (forward - strike)).max(0.0);
    if sd.is_nan() || sd <= 0.0 {
        return discount * intrinsic;
    }
    let m = math::ln(forward / strike);
    let d1 = m / sd + 0.5 * sd;
    let d2 = d1 - sd;
    if !(d1.is_finite() && d2.is_finite()) {
        return discount * intrinsic;
    }
    let v = phi * (forward * math::normal_cdf(phi * d1) - strike * math::normal_cdf(phi * d2));
    discount * v.max(0.0)
}

/// `Ok(v)` if `v` is finite, else the error naming `model.key`.
pub(crate) fn finite(key: &str, v: f64) -> Result<f64, Error> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::parameter(
            &format!("model.{key}"),
            format!("must be a finite number, found {v}"),
        ))
    }
}

/// `Ok(v)` if `v > 0` and finite.
pub(crate) fn positive(key: &str, v: f64) -> Result<f64, Error> {
    finite(key, v)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(Error::parameter(
            &format!("model.{key}"),
            format!("must be positive, found {v}"),
        ))
    }
}

/// `Ok(v)` if `v >= 0` and finite.
pub(crate) fn non_negative(key: &str, v: f64) -> Result<f64, Error> {
    finite(key, v)?;
    if v >= 0.0 {
        Ok(v)
    } else {
        Err(Error::parameter(
            &format!("model.{key}"),
            format!("must not be negative, found {v}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_edges() {
        let c = OptionType::Call;
        let p = OptionType::Put;
        assert_eq!(black(c, 110.0, 100.0, 0.0, 0.9), 9.0);
        assert_eq!(black(p, 110.0, 100.0, 0.0, 0.9), 0.0);
        assert_eq!(black(p, 90.0, 100.0, 1e-320, 1.0), 10.0);
        // huge variance: the call is worth the forward, the put the strike
        assert!((black(c, 100.0, 100.0, 1e6, 1.0) - 100.0).abs() < 1e-9);
        assert!((black(p, 100.0, 100.0, 1e6, 1.0) - 100.0).abs() < 1e-9);
        // at the money, variance 0.04: 100 (2 Phi(0.1) - 1)
        let want = 100.0 * (2.0 * math::normal_cdf(0.1) - 1.0);
        assert!((black(c, 100.0, 100.0, 0.04, 1.0) - want).abs() < 1e-12);
        // parity
        let (cv, pv) = (
            black(c, 105.0, 100.0, 0.09, 0.95),
            black(p, 105.0, 100.0, 0.09, 0.95),
        );
        assert!((cv - pv - 0.95 * 5.0).abs() < 1e-12);
    }
}
