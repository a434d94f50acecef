//! Reference prices for the models of issue 27 (Heston, Merton jump-diffusion, baskets,
//! lookbacks, term structures), and the deterministic numerics they need.
//!
//! Each function is a plain computation on a plain parameter struct, so a model fills
//! the struct from its validated keys and gets the same bits on every platform: every
//! transcendental function comes from [`crate::math`] (never the platform's libm) and
//! every loop runs in one fixed order.
//!
//! | family | function | kind | accuracy (tests against QuantLib 1.44 / mpmath, `testdata/`) |
//! |---|---|---|---|
//! | Heston | [`heston::price`] | exact (semi-analytic) | see [`heston`] |
//! | Merton | [`merton::price`] | exact (series) | see [`merton`] |
//! | geometric basket | [`basket::geometric`] | exact | closed form |
//! | arithmetic basket | [`basket::arithmetic_approx`] | approx (Choi's method) | see [`basket`] |
//! | arithmetic basket | [`basket::arithmetic_levy`] | approx (Levy two-moment) | see [`basket`] |
//! | lookback, continuous | [`lookback::continuous`] | exact | closed forms |
//! | lookback, discrete | [`lookback::discrete`] | exact (recursive quadrature) | see [`lookback`] |
//! | lookback, discrete | [`lookback::discrete_bgk`] | approx (Broadie-Glasserman-Kou) | see [`lookback`] |
//! | European under curves | [`curve::black_scholes`] | exact | closed form |
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
