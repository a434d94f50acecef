//! `e^x - 1` and `ln(1 + x)` accurate near zero, where `exp(x) - 1` and `ln(1 + x)`
//! cancel: Kahan's corrections on carlo's own [`exp`] and [`ln`], so the bits depend
//! on the input alone.
//!
//! Both rest on one observation: the rounding of `u = fl(e^x)` or `u = fl(1 + x)` is
//! known exactly (`u - 1` is exact near 1), and `ln u` is accurate relative to
//! `u - 1` (see [`ln`]). Relative error a few ulps (measured at most 2.1 ulp, tests in
//! `math::trig_tests`).

use super::{exp, ln};

/// `e^x - 1`, accurate relative to the result also for tiny `x` (Kahan). `-1` below
/// `x = -37.5`, `+inf` above 709.78; NaN gives NaN.
///
/// ```
/// assert_eq!(carlo::math::exp_m1(1e-20), 1e-20);
/// assert!((carlo::math::exp_m1(1e-8) - 1.00000000500000001667e-8).abs() < 1e-24);
/// ```
pub fn exp_m1(x: f64) -> f64 {
    if x.abs() < 1e-300 || x.is_nan() {
        return x;
    }
    let u = exp(x);
    if u == 1.0 {
        return x;
    }
    let um1 = u - 1.0;
    if um1 == -1.0 || u.is_infinite() {
        return um1;
    }
    if x.abs() > 0.7 {
        return um1; // no cancellation: u - 1 is within 1.5 ulp
    }
    // (u - 1) / ln u is (e^x - 1) / x evaluated at the rounded point; it varies
    // slowly, so it carries to x with a relative error of a few ulps.
    um1 * x / ln(u)
}

/// `ln(1 + x)`, accurate relative to the result also for tiny `x` (Goldberg's trick).
/// `-inf` at `x = -1`, NaN below; NaN gives NaN.
///
/// ```
/// assert_eq!(carlo::math::ln_1p(1e-20), 1e-20);
/// assert!((carlo::math::ln_1p(1e-8) - 9.9999999500000003333e-9).abs() < 1e-24);
/// ```
pub fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    if u == 1.0 {
        return x; // also keeps -0
    }
    if x.abs() > 0.5 || u.is_infinite() || u <= 0.0 || x.is_nan() {
        return ln(u);
    }
    // u - 1 is exact, and ln u is accurate relative to it
    ln(u) * x / (u - 1.0)
}
