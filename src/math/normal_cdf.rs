//! The standard normal distribution function: W. J. Cody's rational Chebyshev
//! approximations of `erf` and `erfc` ("Rational Chebyshev approximations for the
//! error function", Math. Comp. 23, 1969, pp. 631-638, as in his Fortran `CALERF`),
//! on carlo's own [`exp`](super::exp).
//!
//! Contract: the result depends on the input bits alone (IEEE-754 `+ - * /`,
//! comparisons, an exact `trunc`, and [`exp`](super::exp), in one fixed order, no
//! fused multiply-add). Accuracy against mpmath: relative error below 1e-15 wherever
//! the result is a normal double (measured maximum 7.2e-16), absolute
//! error a few `2^-1074` where it is subnormal (`x < -37.5`); see [`normal_cdf`].
//!
//! `Phi(x) = erfc(-x / sqrt 2) / 2`, with `z = |x| / sqrt 2`:
//! - `z <= 0.46875`: `erf(z) = z A(z^2) / B(z^2)`, `Phi = 1/2 +- erf(z) / 2`;
//! - `z <= 4`: `erfc(z) = exp(-z^2) C(z) / D(z)`;
//! - beyond: `erfc(z) = exp(-z^2) / z (1/sqrt(pi) - z^-2 P(z^-2) / Q(z^-2))`,
//!
//! and `Phi = erfc / 2` for `x < 0`, `1 - erfc / 2` for `x > 0`.
//!
//! `exp(-z^2) = exp(-x^2 / 2)` is where the accuracy is lost if done naively: the
//! rounding of `x^2 / 2` (or of `x / sqrt 2`) is multiplied by `x^2 / 2`, up to 722
//! here. Cody splits the argument as `y = ysq + del` with `ysq` on a grid of `1/16`;
//! carlo splits `|x|` the same way on a grid of `2^-16`, fine enough that `t^2 / 2`
//! is exact (`t` has at most 22 bits for `|x| <= 40`) and the rest,
//! `(|x| - t)(|x| + t) / 2 < 40 * 2^-16`, is tiny, so its rounding is negligible:
//! `exp(-x^2/2) = exp(-t^2/2) exp(-(|x| - t)(|x| + t) / 2)` to about one ulp.

use super::exp;

/// Coefficients of Cody's first interval, `erf(z) = z A(z^2) / B(z^2)` for
/// `|z| <= 0.46875` (`CALERF`'s `A`, `B`, as printed there).
#[allow(clippy::excessive_precision)]
const A: [f64; 5] = [
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
    1.85777706184603153e-1,
];
#[allow(clippy::excessive_precision)]
const B: [f64; 4] = [
    2.36012909523441209e01,
    2.44024637934444173e02,
    1.28261652607737228e03,
    2.84423683343917062e03,
];
/// Second interval, `erfc(z) = exp(-z^2) C(z) / D(z)` for `0.46875 < z <= 4`.
#[allow(clippy::excessive_precision)]
const C: [f64; 9] = [
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
    2.15311535474403846e-8,
];
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
];
/// Third interval, `z > 4`:
/// `erfc(z) = exp(-z^2) / z (1/sqrt(pi) - z^-2 P(z^-2) / Q(z^-2))`.
#[allow(clippy::excessive_precision)]
const P: [f64; 6] = [
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
    1.63153871373020978e-2,
];
#[allow(clippy::excessive_precision)]
const Q: [f64; 5] = [
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
];
/// `1 / sqrt(pi)`.
#[allow(clippy::excessive_precision)]
const SQRPI: f64 = 5.6418958354775628695e-1;
/// The end of Cody's first interval, in `z`.
const THRESH: f64 = 0.46875;
/// Beyond this `|x|`, `Phi(x)` rounds to 0 (below `2^-1075`, at `x = -38.47`) or to 1.
const SATURATE: f64 = 40.0;
/// The grid of the split of `|x|`: `2^16`.
const SPLIT: f64 = 65536.0;

/// The standard normal distribution function `Phi(x) = P(N(0, 1) <= x)`, with bits
/// that depend on `x` alone (see [`math`](crate::math)).
///
/// Accuracy (against mpmath, in the tests): relative error below 1e-15 where the
/// result is a normal double, that is for `x >= -37.5` (measured maximum 7.2e-16 on
/// 90 000 points of `[-38.4, 9]`);
/// where it is subnormal, an absolute error of a few `2^-1074`. Deep in the lower
/// tail this is the error of `Phi` at the exact input: no rounding of `x / sqrt 2` is
/// magnified by `x^2`, as it is in `erfc(-x / SQRT_2) / 2`. `Phi(0) = 0.5`,
/// `Phi(-inf) = 0`, `Phi(+inf) = 1`, NaN gives NaN; it rounds to 0 below `-38.47`
/// and to 1 above `8.3`. It is non-decreasing, except that where two of Cody's
/// intervals meet it may step back by less than its error (2 ulps seen).
///
/// ```
/// use carlo::math::normal_cdf;
/// assert_eq!(normal_cdf(0.0), 0.5);
/// assert!((normal_cdf(1.96) - 0.9750021048517795).abs() < 1e-16);
/// assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
/// ```
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    if a > SATURATE {
        return if x > 0.0 { 1.0 } else { 0.0 };
    }
    let z = a * std::f64::consts::FRAC_1_SQRT_2;
    if z <= THRESH {
        let zsq = z * z;
        let mut num = A[4] * zsq;
        let mut den = zsq;
        for i in 0..3 {
            num = (num + A[i]) * zsq;
            den = (den + B[i]) * zsq;
        }
        let half_erf = 0.5 * (z * (num + A[3]) / (den + B[3]));
        return if x < 0.0 {
            0.5 - half_erf
        } else {
            0.5 + half_erf
        };
    }
    // erfc(z) / exp(-z^2).
    let scaled = if z <= 4.0 {
        let mut num = C[8] * z;
        let mut den = z;
        for i in 0..7 {
            num = (num + C[i]) * z;
            den = (den + D[i]) * z;
        }
        (num + C[7]) / (den + D[7])
    } else {
        let zsq = 1.0 / (z * z);
        let mut num = P[5] * zsq;
        let mut den = zsq;
        for i in 0..4 {
            num = (num + P[i]) * zsq;
            den = (den + Q[i]) * zsq;
        }
        (SQRPI - zsq * (num + P[4]) / (den + Q[4])) / z
    };
    // exp(-x^2 / 2), split so that no rounding is magnified by x^2 (module doc):
    // t^2 / 2 is exact, and so is a - t.
    let t = (a * SPLIT).trunc() / SPLIT;
    let del = (a - t) * (a + t);
    let half_erfc = exp(-0.5 * (t * t)) * (exp(-0.5 * del) * (0.5 * scaled));
    if x < 0.0 { half_erfc } else { 1.0 - half_erfc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_values() {
        assert_eq!(normal_cdf(0.0).to_bits(), 0.5f64.to_bits());
        assert_eq!(normal_cdf(-0.0).to_bits(), 0.5f64.to_bits());
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY).to_bits(), 0.0f64.to_bits());
        assert!(normal_cdf(f64::NAN).is_nan());
        assert_eq!(normal_cdf(-38.5), 0.0);
        assert!(normal_cdf(-38.4) > 0.0);
        assert_eq!(normal_cdf(8.5), 1.0);
        assert_eq!(normal_cdf(f64::MAX), 1.0);
        assert_eq!(normal_cdf(f64::MIN).to_bits(), 0.0f64.to_bits());
        assert_eq!(normal_cdf(1e-300), 0.5);
    }

    /// `Phi` at doubles, to 25 digits: mpmath 1.3 at 40 digits,
    /// `mpmath.ncdf(mpmath.mpf(float(x)))` (the input is the double the literal
    /// parses to, so `0.3` is 0.299999999999999988898...). The first is subnormal.
    #[allow(clippy::excessive_precision)]
    const REFERENCE: [(f64, f64); 19] = [
        (-38.2, 1.408022866690352866704344e-319),
        (-37.0, 5.725571222524576822683193e-300),
        (-30.0, 4.906713927148187059533809e-198),
        (-20.0, 2.753624118606233695075623e-89),
        (-10.0, 7.619853024160526065973343e-24),
        (-5.0, 2.866515718791939116737523e-7),
        (-3.5, 2.326290790355250363499259e-4),
        (-2.0, 2.275013194817920720028264e-2),
        (-1.5, 6.680720126885806600449404e-2),
        (-1.0, 1.586552539314570514147675e-1),
        (-0.5, 3.085375387259868963622954e-1),
        (-0.25, 4.012936743170762757591462e-1),
        (0.3, 6.179114221889526330722736e-1),
        (0.6, 7.257468822499264123065647e-1),
        (1.0, 8.413447460685429485852325e-1),
        (1.96, 9.750021048517795637871763e-1),
        (3.0, 9.986501019683699054733482e-1),
        (5.0, 9.999997133484281208060883e-1),
        (8.0, 9.999999999999993779039426e-1),
    ];

    #[test]
    fn matches_mpmath() {
        let subnormal = f64::from_bits(1);
        for (x, want) in REFERENCE {
            let got = normal_cdf(x);
            if want < f64::MIN_POSITIVE {
                // A subnormal result has fewer bits: absolute error in 2^-1074.
                assert!(
                    (got - want).abs() <= 2.0 * subnormal,
                    "{x}: {got:e} vs {want:e}"
                );
            } else {
                let rel = ((got - want) / want).abs();
                assert!(rel <= 1e-15, "{x}: {got:e} vs {want:e}, relative {rel:e}");
            }
        }
    }

    /// The old `norm_cdf`: `erfc(-x / sqrt 2) / 2` with statrs 0.19's `erfc`.
    fn statrs_cdf(x: f64) -> f64 {
        0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
    }

    #[test]
    fn matches_statrs_to_its_accuracy() {
        // statrs 0.19.1's erf/erfc errs by up to ~1e-10 relative (measured 1.03e-10
        // at x = -0.707 on 90 000 points of [-38.4, 9] against mpmath, where
        // normal_cdf erred by at most 7.2e-16): it carries Boost's per-interval
        // constants, which are f32 values, as 10-digit decimals (statrs PR #412).
        // So the tolerance is statrs' error, not ours; deep in the tail it also
        // includes the rounding of x / sqrt 2 magnified by x^2 (< 1e-13 here).
        let n = 200_000;
        for i in 0..=n {
            let x = -38.0 + 47.0 * i as f64 / n as f64;
            let (got, old) = (normal_cdf(x), statrs_cdf(x));
            if old < f64::MIN_POSITIVE {
                assert!(
                    (got - old).abs() <= 1e-10 * f64::MIN_POSITIVE,
                    "{x}: {got:e} vs {old:e}"
                );
            } else {
                let rel = ((got - old) / old).abs();
                assert!(rel <= 2e-10, "{x}: {got:e} vs {old:e}, relative {rel:e}");
            }
        }
    }

    #[test]
    fn is_symmetric() {
        // Phi(x) + Phi(-x) = 1: one of the two is computed as 1 - the other's
        // mirror, so the sum is 1 up to the rounding of that subtraction and of the sum.
        let n = 100_000;
        for i in 0..=n {
            let x = 9.0 * i as f64 / n as f64;
            let sum = normal_cdf(x) + normal_cdf(-x);
            assert!((sum - 1.0).abs() <= f64::EPSILON, "{x}: {sum}");
        }
    }

    #[test]
    fn is_increasing() {
        // Non-decreasing on a grid of 2^-12 over the whole range. Across each branch
        // point (|z| = 0.46875, 4, x = 0), ulp by ulp, where the true value moves by
        // less than an ulp, two approximations meet: their errors may step back, by
        // less than the error bound (2 ulps, at x = -0.6629: z = 0.46875).
        let mut prev = 0.0;
        let mut x = -40.0;
        while x <= 9.0 {
            let p = normal_cdf(x);
            assert!(p >= prev, "{x}: {p:e} < {prev:e}");
            prev = p;
            x += 1.0 / 4096.0;
        }
        let sqrt2 = std::f64::consts::SQRT_2;
        for centre in [
            -4.0 * sqrt2,
            -0.46875 * sqrt2,
            0.0,
            0.46875 * sqrt2,
            4.0 * sqrt2,
        ] {
            let mut x = centre - 1e-12;
            let mut prev = normal_cdf(x);
            for _ in 0..2000 {
                x = x.next_up();
                let p = normal_cdf(x);
                assert!(p >= prev - 1e-15 * prev, "{x}: {p:e} < {prev:e}");
                prev = p;
            }
        }
    }
}
