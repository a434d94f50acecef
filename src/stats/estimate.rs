//! Estimates with standard errors and confidence intervals.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::beta::beta_reg;

use super::Moments;

/// A control variate: a column whose expectation is known exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Control {
    /// Column of the control in the statistics.
    pub column: usize,
    /// Its exact expectation.
    pub mean: f64,
}

/// A point estimate with its uncertainty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// Lower end of the confidence interval.
    pub ci_low: f64,
    /// Upper end of the confidence interval.
    pub ci_high: f64,
    /// Confidence level of the interval.
    pub confidence: f64,
    /// Samples behind the estimate.
    pub samples: u64,
    /// Variance of the plain estimator over that of the one used (1 without a
    /// control variate).
    pub variance_ratio: f64,
    /// True when a control variate was asked for but could not be used (fewer than
    /// three samples or replicates, or a control with no spread): the estimate is
    /// then the plain one, and the run says so (a `note` and a warning on stderr).
    pub control_dropped: bool,
    /// The sample skewness of the replicate values behind a randomized quasi-Monte
    /// Carlo interval (see [`super::interval`]); `None` for plain Monte Carlo.
    pub skewness: Option<f64>,
}

impl Estimate {
    /// Half the width of the confidence interval.
    pub fn half_width(&self) -> f64 {
        0.5 * (self.ci_high - self.ci_low)
    }
}

/// The estimate of the mean of `column`, optionally corrected by a control variate,
/// with a Student-t confidence interval at level `confidence`.
///
/// With a control `X` of known mean `mu`, the estimate is `mean(Y) - b (mean(X) - mu)`
/// with `b = cov(Y, X) / var(X)` taken from the same statistics, and its variance is
/// the residual variance with one more degree of freedom used. The result is a pure
/// function of `moments`, so equal statistics give equal bits.
///
/// `variance_ratio` is the variance of plain samples over that of the estimator used,
/// at equal samples. Plain samples are `column`'s own, unless `plain` names another
/// column that holds them (antithetic pairs keep the first path's payoff there).
pub fn estimate(
    moments: &Moments,
    column: usize,
    control: Option<Control>,
    plain: Option<usize>,
    confidence: f64,
) -> Estimate {
    let n = moments.count;
    let plain_var = moments.variance(column);
    let usable = |c: &Control| n > 2 && moments.variance(c.column) > 0.0;
    let control_dropped = control.as_ref().is_some_and(|c| !usable(c));
    let (value, var, dof) = match control {
        Some(c) if usable(&c) => {
            let var_x = moments.variance(c.column);
            let cov = moments.covariance(column, c.column);
            let beta = cov / var_x;
            let value = moments.mean[column] - beta * (moments.mean[c.column] - c.mean);
            // Residual variance of Y - b X, with the divisor corrected for the
            // estimated coefficient.
            let resid = (plain_var - cov * beta).max(0.0) * (n - 1) as f64 / (n - 2) as f64;
            (value, resid, n - 2)
        }
        _ => (moments.mean[column], plain_var, n.saturating_sub(1)),
    };
    let std_error = (var / n as f64).sqrt();
    let t = t_quantile(dof, confidence);
    Estimate {
        estimate: value,
        std_error,
        ci_low: value - t * std_error,
        ci_high: value + t * std_error,
        confidence,
        samples: n,
        variance_ratio: if var > 0.0 {
            moments.variance(plain.unwrap_or(column)) / var
        } else {
            1.0
        },
        control_dropped,
        skewness: None,
    }
}

/// Degrees of freedom above which the quantile comes from the Cornish-Fisher
/// expansion instead of statrs.
const EXPANSION_DOF: u64 = 1000;

/// The confidences whose quantiles statrs gives to about 1e-13, and which carlo has
/// always computed with it: kept so that their bits never move.
const USUAL: std::ops::RangeInclusive<f64> = 0.5..=0.9999;

/// The smallest confidence a run accepts: below it, the half-width is a vanishing
/// fraction of the standard error, and no t quantile is accurate.
pub const MIN_CONFIDENCE: f64 = 1e-6;

/// The largest confidence a run accepts: `1 - 1e-12`, an interval of 7 standard
/// errors on a normal estimate, far beyond any use; closer to 1 the tail
/// probability is lost to rounding.
pub const MAX_CONFIDENCE: f64 = 1.0 - 1e-12;

/// The two-sided quantile of Student's t with `dof` degrees of freedom: the `t` with
/// `P(|T| <= t) = confidence` (NaN for no degree of freedom).
///
/// statrs inverts the t CDF numerically; it is accurate to ~1e-13 for the usual
/// confidences up to a few thousand degrees of freedom, loses digits by 1e5 (1.95998
/// for 1.95996 at 0.95) and does not return at all by 1e8, where Monte Carlo runs
/// live. Beyond [`EXPANSION_DOF`] the Cornish-Fisher expansion of t around the normal
/// quantile (Abramowitz & Stegun 26.7.5, four terms) is used: at 300 degrees of
/// freedom it already agrees with statrs to 4e-11, and its error falls as dof^-5.
///
/// Outside the [`USUAL`] confidences (between [`MIN_CONFIDENCE`] and
/// [`MAX_CONFIDENCE`]) statrs's inverse loses digits (none right at 1e-6, infinity
/// at 0.9999999999999999), so the tail probability
/// `(1 - c) / 2` is computed exactly and inverted: by bisection on the regularized
/// incomplete beta function that gives t's tails (or its centre, for small
/// confidences), or with carlo's own inverse normal CDF for the expansion.
pub(super) fn t_quantile(dof: u64, confidence: f64) -> f64 {
    if dof == 0 {
        return f64::NAN;
    }
    let usual = USUAL.contains(&confidence);
    // Exact for confidences in [0.5, 1] (Sterbenz), and as exact as it can be below.
    let tail = 0.5 * (1.0 - confidence);
    if dof <= EXPANSION_DOF {
        if usual {
            return StudentsT::new(0.0, 1.0, dof as f64)
                .map(|t| t.inverse_cdf(0.5 + 0.5 * confidence))
                .unwrap_or(f64::NAN);
        }
        // P(|T| < x) = I_{x^2 / (nu + x^2)}(1/2, nu/2) and P(|T| > x) =
        // I_{nu / (nu + x^2)}(nu/2, 1/2): each accurate where it is small.
        let nu = dof as f64;
        if confidence < 0.5 {
            return bisect(|x| beta_reg(0.5, 0.5 * nu, x * x / (nu + x * x)) < confidence);
        }
        return bisect(|x| beta_reg(0.5 * nu, 0.5, nu / (nu + x * x)) > 2.0 * tail);
    }
    let z = if usual {
        Normal::standard().inverse_cdf(0.5 + 0.5 * confidence)
    } else {
        -crate::math::inverse_normal_cdf(tail)
    };
    let z2 = z * z;
    let g = [
        (z2 + 1.0) * z / 4.0,
        ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0,
        (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0,
        ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0,
    ];
    let nu = dof as f64;
    z + g[0] / nu + g[1] / nu.powi(2) + g[2] / nu.powi(3) + g[3] / nu.powi(4)
}

/// The `x > 0` where `below(x)` turns false (`below` is true from 0 up to the root
/// and false beyond), by bisection to a relative width of 1e-15.
fn bisect(below: impl Fn(f64) -> bool) -> f64 {
    let mut hi = 1.0;
    while below(hi) && hi < 1e300 {
        hi *= 2.0;
    }
    let mut lo = if hi > 1.0 { hi / 2.0 } else { 0.0 };
    for _ in 0..2000 {
        if hi - lo <= 1e-15 * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if below(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_estimate_of_known_rows() {
        let rows: Vec<Vec<f64>> = [1.0, 2.0, 3.0, 4.0].iter().map(|&x| vec![x]).collect();
        let e = estimate(&Moments::from_rows(1, &rows), 0, None, None, 0.95);
        assert_eq!(e.estimate, 2.5);
        // var = 5/3, se = sqrt(5/12); t(3, 0.975) = 3.182446305284263
        assert!((e.std_error - (5.0f64 / 12.0).sqrt()).abs() < 1e-15);
        assert!((e.half_width() - 3.182446305284263 * e.std_error).abs() < 1e-9);
        assert_eq!(e.variance_ratio, 1.0);
    }

    #[test]
    fn t_quantile_is_accurate_at_every_dof() {
        // Reference values: the t CDF inverted with mpmath at 30 digits, on both
        // sides of the switch to the expansion.
        let cases = [
            (3, 3.1824463052837096),
            (100, 1.9839715185235523),
            (1000, 1.9623390808264085),
            (1001, 1.962_336_705_280_88),
            (100_000, 1.9599877075346096),
            (1_000_000_000_000, 1.9599639845424265),
        ];
        for (dof, expected) in cases {
            let t = t_quantile(dof, 0.95);
            assert!((t - expected).abs() < 1e-11, "dof {dof}: {t} vs {expected}");
        }
    }

    #[test]
    fn t_quantile_is_accurate_at_every_accepted_confidence() {
        // mpmath at 50 digits: the regularized incomplete beta inverted by bisection,
        // at the exact double of each confidence (dof, confidence, quantile).
        let cases: [(u64, f64, f64); 25] = [
            (1, 1e-06, 1.5707963267961886e-06),
            (1, 0.3, 0.5095254494944288),
            (1, 0.999999, 636619.7723487513),
            (1, 0.9999999999, 6366197196.934296),
            (1, 0.999999999999, 636633855803.5593),
            (5, 1e-06, 1.3171527620705932e-06),
            (5, 0.3, 0.40822873307641394),
            (5, 0.999999, 28.47847346281956),
            (5, 0.9999999999, 180.14909786675682),
            (5, 0.999999999999, 452.54122659108975),
            (1000, 1e-06, 1.2536275049672542e-06),
            (1000, 0.3, 0.3854311208423712),
            (1000, 0.999999, 4.922289523423825),
            (1000, 0.9999999999, 6.536820817131027),
            (1000, 0.999999999999, 7.223957750518744),
            (5000, 1e-06, 1.2533768045889453e-06),
            (5000, 0.3, 0.3853425937738851),
            (5000, 0.999999, 4.897742071579513),
            (5000, 0.9999999999, 6.480822697559018),
            (5000, 0.999999999999, 7.149034556359103),
            (1_000_000_000_000, 1e-06, 1.2533141373161416e-06),
            (1_000_000_000_000, 0.3, 0.38532046640767825),
            (1_000_000_000_000, 0.999999, 4.891638475723417),
            (1_000_000_000_000, 0.9999999999, 6.46695107480165),
            (1_000_000_000_000, 0.999999999999, 7.130509892971691),
        ];
        for (dof, c, expected) in cases {
            let t = t_quantile(dof, c);
            // The incomplete beta function is good to ~1e-15 relative where it is
            // small; 1e-9 leaves room for its flat ends.
            let rel = ((t - expected) / expected).abs();
            assert!(
                rel < 1e-9,
                "dof {dof}, confidence {c}: {t} vs {expected} ({rel:e})"
            );
        }
        // The edge a config may reach: finite, where statrs gave infinity.
        assert!(t_quantile(1_000_000, MAX_CONFIDENCE).is_finite());
        assert!(t_quantile(3, MAX_CONFIDENCE).is_finite());
    }

    #[test]
    fn perfect_control_removes_the_noise() {
        // Y = 2 X + 1 with E[X] = 0: the controlled estimate is exactly 1.
        let rows: Vec<Vec<f64>> = [-1.5, 0.5, 2.0, 0.25]
            .iter()
            .map(|&x| vec![2.0 * x + 1.0, x])
            .collect();
        let m = Moments::from_rows(2, &rows);
        let c = Control {
            column: 1,
            mean: 0.0,
        };
        let e = estimate(&m, 0, Some(c), None, 0.95);
        assert!((e.estimate - 1.0).abs() < 1e-12);
        assert!(e.std_error < 1e-7);
    }
}
