//! The interval of a randomized quasi-Monte Carlo estimate: Student's t on the
//! replicate values, corrected for their skewness by Hall's transformation, and the
//! median of a chi-square that makes `variance_reduction` median-unbiased.
//!
//! Why a correction. Replicate means of a one-sided payoff are right-skewed: a
//! scrambled net puts one point in each extreme cell of the first coordinate, where
//! the inverse normal is steep, and that point's value dominates a replicate's error.
//! A replicate set that misses a large value has both a low mean and a small spread,
//! so Student's t interval falls below the truth more often than `(1 - c) / 2` (a
//! European call at 16 x 4096 points: 7.7% below, 1.3% above at 95%). L'Ecuyer,
//! Nakayama, Owen and Tuffin (2023) found Student's t the most reliable interval on
//! replicate means among the bootstrap and t variants they compared, failing where the
//! replicate means are skewed; Hall (1992, "On the removal of skewness by
//! transformation", JRSS B 54) removes the first-order effect of skewness from the t
//! statistic with a monotone cubic, so the corrected interval is never empty or
//! infinite and equals Student's t when the replicate values are symmetric.
//!
//! Everything here is `+ - * /` and `sqrt` (exactly rounded by IEEE 754) in a fixed
//! order, so its bits are the same on every platform.

/// Student's t interval on `values` (`n` of them), widened on the side of their skew
/// by Hall's transformation: returns `(low, high)` around `centre` with standard error
/// `se` and two-sided t quantile `t`.
///
/// With `T = (centre - mu) / se` and `g(T) = T + a T^2 + a^2 T^3 / 3 + b`, `a = gamma /
/// (3 sqrt n)`, `b = gamma / (6 sqrt n)` (`gamma` the sample skewness of `values`),
/// `g(T)` is closer to Student's t than `T` is; `g` is increasing, and `g^-1(y) = ((1
/// + 3 a (y - b))^(1/3) - 1) / a`, so the interval is `centre - g^-1(+-t) se`.
pub fn hall_interval(centre: f64, se: f64, t: f64, skewness: f64, n: usize) -> (f64, f64) {
    let root = (n as f64).sqrt();
    let a = skewness / (3.0 * root);
    let b = skewness / (6.0 * root);
    let inverse = |y: f64| {
        if a.abs() < 1e-12 {
            y - b
        } else {
            (cbrt(1.0 + 3.0 * a * (y - b)) - 1.0) / a
        }
    };
    (centre - inverse(t) * se, centre - inverse(-t) * se)
}

/// The sample skewness `m3 / m2^(3/2)` of `values` about their mean `centre` (moments
/// with divisor `n`, as Hall's transformation uses them); 0 for fewer than three
/// values or no spread.
pub fn skewness(values: &[f64], centre: f64) -> f64 {
    if values.len() < 3 {
        return 0.0;
    }
    let n = values.len() as f64;
    let (mut m2, mut m3) = (0.0, 0.0);
    for &x in values {
        let d = x - centre;
        m2 += d * d;
        m3 += d * d * d;
    }
    m2 /= n;
    m3 /= n;
    if m2 > 0.0 { m3 / (m2 * m2.sqrt()) } else { 0.0 }
}

/// The real cube root, by Newton's method from a bit-level first guess: `+ - * /`
/// only, so the same bits everywhere (`f64::cbrt` is the platform's).
pub fn cbrt(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let a = x.abs();
    // Divide the exponent by three: within a factor 2 of the root.
    let bits = a.to_bits();
    let mut y = f64::from_bits(bits / 3 + 0x2A9F_7893_782D_A1CE);
    for _ in 0..6 {
        y -= (y * y * y - a) / (3.0 * y * y);
    }
    // One more step cannot move a converged root by more than an ulp.
    y -= (y * y * y - a) / (3.0 * y * y);
    if x < 0.0 { -y } else { y }
}

/// The median of a chi-square variable with `dof` degrees of freedom over `dof`: the
/// factor by which a variance estimate from `dof + 1` normal values falls short of
/// the variance half of the time. Exact (scipy: `chi2(dof).median() / dof`) up to 31 degrees of
/// freedom, Wilson and Hilferty's `(1 - 2 / (9 dof))^3` beyond (within 1e-4 there).
pub fn chi_square_median_ratio(dof: u64) -> f64 {
    const EXACT: [f64; 31] = [
        0.454936423119572,
        0.6931471805599455,
        0.7886579614584459,
        0.8391734950083306,
        0.8702920382191053,
        0.891353437907853,
        0.9065444565030736,
        0.9180151872127242,
        0.9269814102503283,
        0.9341817765591969,
        0.9400907340356206,
        0.945026864785345,
        0.9492119909664543,
        0.9528052963642528,
        0.9559239673971097,
        0.9586561803126005,
        0.9610695516113216,
        0.9632167982633744,
        0.9651396261450775,
        0.9668714614714128,
        0.9684394077879969,
        0.9698656730760288,
        0.9711686270949675,
        0.9723635960870639,
        0.9734634679153717,
        0.9744791583645102,
        0.9754199743922753,
        0.9762938999532071,
        0.9771078229856707,
        0.9778677172220528,
        0.9785787889741332,
    ];
    match dof {
        0 => f64::NAN,
        d if d as usize <= EXACT.len() => EXACT[d as usize - 1],
        d => {
            let c = 1.0 - 2.0 / (9.0 * d as f64);
            c * c * c
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cube_roots_are_exact_to_an_ulp() {
        for &x in &[1.0, 8.0, 27.0, 2.0, 1e-300, 3.5e200, 0.1, 123456.789] {
            let y = cbrt(x);
            let want = x.cbrt();
            assert!(
                (y - want).abs() <= 2.0 * f64::EPSILON * want,
                "{x}: {y} vs {want}"
            );
            assert_eq!(cbrt(-x), -y);
        }
        assert_eq!(cbrt(8.0), 2.0);
        assert_eq!(cbrt(0.0), 0.0);
    }

    #[test]
    fn symmetric_values_give_student_t() {
        let (lo, hi) = hall_interval(1.0, 0.1, 2.0, 0.0, 16);
        assert!((lo - 0.8).abs() < 1e-15 && (hi - 1.2).abs() < 1e-15);
        assert_eq!(skewness(&[1.0, 2.0, 3.0], 2.0), 0.0);
    }

    #[test]
    fn right_skew_widens_the_upper_side() {
        // Values with one large outlier: skewness > 0.
        let v = [0.0, 0.1, -0.1, 0.05, -0.05, 1.0];
        let mean = v.iter().sum::<f64>() / 6.0;
        let g = skewness(&v, mean);
        assert!(g > 1.0, "{g}");
        let (lo, hi) = hall_interval(mean, 0.2, 2.5, g, 6);
        assert!(hi - mean > mean - lo, "{lo} {hi}");
        // Hall's g is increasing: its inverse maps +-t to an ordered pair.
        assert!(lo < mean && mean < hi);
        // The skewness of a sample: scipy.stats.skew([0, .1, -.1, .05, -.05, 1]).
        assert!((g - 1.6727687946848506).abs() < 1e-9, "{g}");
    }

    #[test]
    fn chi_square_medians() {
        // scipy.stats.chi2(15).median() / 15 and the normal limit.
        assert!((chi_square_median_ratio(15) - 0.9559239673971097).abs() < 1e-15);
        assert!((chi_square_median_ratio(32) - 0.9792455965198277).abs() < 1e-4);
        assert!(chi_square_median_ratio(1_000_000) > 0.9999);
    }
}
