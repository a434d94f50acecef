//! Basket options on several correlated geometric Brownian motions: the geometric
//! basket's exact price, the arithmetic basket's moment-matching approximation, and
//! the correlation matrix's Cholesky factor.
//!
//! Asset `i` has spot `S_i`, volatility `sigma_i`, dividend yield `q_i`; the Brownian
//! motions have correlation matrix `C`. The weights `w_i >= 0` are **normalised** to
//! `a_i = w_i / sum_j w_j` for both averages, so `[1, 1, 1]` and `[1/3, 1/3, 1/3]` are
//! the same basket:
//! - arithmetic: `A_T = sum_i a_i S_i(T)`;
//! - geometric: `G_T = prod_i S_i(T)^{a_i}`, lognormal, so its option has an exact
//!   Black price (`ln G_T` has mean `sum_i a_i (ln S_i + (r - q_i - sigma_i^2/2) T)`
//!   and variance `T sum_ij a_i a_j C_ij sigma_i sigma_j`).
//!
//! # The arithmetic basket
//! [`arithmetic_approx`] is Choi's method ([`choi`](super::choi)): exact along the
//! basket's main direction, Gauss-Hermite across the others. Against QuantLib 1.44's
//! `ChoiBasketEngine` (lambda 40) and a 2e7-path Monte Carlo (`testdata/basket.txt`,
//! 2 to 5 assets): within 2e-8 for typical baskets (volatilities 0.1 to 0.4, a year
//! or two), 6e-6 for a 3-year put on assets of volatility up to 0.6 with negative
//! correlation, where both methods converge more slowly in their node count
//! (QuantLib's own default lambda 10 is off by 2e-4 there). It takes weights `>= 0`.
//!
//! [`arithmetic_levy`] is Levy's two-moment lognormal (1992): the lognormal with the
//! basket's mean `M1 = sum a_i F_i` and second moment `M2 = sum_ij a_i a_j F_i F_j
//! e^{C_ij sigma_i sigma_j T}`, the variance `ln(M2 / M1^2)` formed as
//! `ln_1p(sum_ij p_i p_j expm1(C_ij sigma_i sigma_j T))`, `p_i = a_i F_i / M1`, without
//! cancellation. Cheap, but off by 0.4% to 0.9% in the typical cases above and by 19%
//! in the high-variance put.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::math;
use crate::models::options::OptionType;

use super::{black, finite, non_negative, positive};

/// The correlation of the assets' Brownian motions: one number for every pair, or the
/// full matrix (rows of the config's `correlation = [[...], ...]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Correlation {
    /// The same correlation for every pair.
    Uniform(f64),
    /// The full symmetric matrix, ones on the diagonal.
    Matrix(Vec<Vec<f64>>),
}

impl Correlation {
    /// The `n x n` matrix, checked: square of size `n`, symmetric, unit diagonal,
    /// entries in `[-1, 1]`. Errors name `model.correlation`.
    // Row and column indices index the matrix and its transpose at once.
    #[allow(clippy::needless_range_loop)]
    pub fn matrix(&self, n: usize) -> Result<Vec<Vec<f64>>, Error> {
        let err = |reason: String| Error::parameter("model.correlation", reason);
        let m = match self {
            Correlation::Uniform(rho) => {
                if !(rho.is_finite() && rho.abs() <= 1.0) {
                    return Err(err(format!("must lie in [-1, 1], found {rho}")));
                }
                (0..n)
                    .map(|i| (0..n).map(|j| if i == j { 1.0 } else { *rho }).collect())
                    .collect()
            }
            Correlation::Matrix(m) => m.clone(),
        };
        if m.len() != n || m.iter().any(|row| row.len() != n) {
            return Err(err(format!(
                "must be a {n} x {n} matrix (one row and column per asset)"
            )));
        }
        for i in 0..n {
            if m[i][i] != 1.0 {
                return Err(err(format!(
                    "the diagonal must be 1, found {} at row {}",
                    m[i][i],
                    i + 1
                )));
            }
            for j in 0..n {
                let c = m[i][j];
                if !(c.is_finite() && c.abs() <= 1.0) {
                    return Err(err(format!(
                        "entries must lie in [-1, 1], found {c} at row {}, column {}",
                        i + 1,
                        j + 1
                    )));
                }
                if c != m[j][i] {
                    return Err(err(format!(
                        "must be symmetric: row {}, column {} is {c} but row {}, column {} is {}",
                        i + 1,
                        j + 1,
                        j + 1,
                        i + 1,
                        m[j][i]
                    )));
                }
            }
        }
        Ok(m)
    }
}

/// The lower-triangular `L` with `L L^T = c`, by Cholesky's algorithm in a fixed
/// order with correctly rounded operations only (so the same bits everywhere), or an
/// error naming `model.correlation` when `c` is not positive definite (a pivot at or
/// below `1e-12`; a correlation of exactly 1 between two assets is refused: merge
/// them into one).
// Row and column indices index the factor and the matrix at once.
#[allow(clippy::needless_range_loop)]
pub fn cholesky(c: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, Error> {
    let n = c.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let mut pivot = c[j][j];
        for k in 0..j {
            pivot -= l[j][k] * l[j][k];
        }
        // not `pivot <= 1e-12`: a NaN pivot is refused too
        if pivot.partial_cmp(&1e-12) != Some(std::cmp::Ordering::Greater) {
            return Err(Error::parameter(
                "model.correlation",
                format!(
                    "the correlation matrix is not positive definite (Cholesky pivot {pivot:e} \
                     at asset {}): some combination of the assets would have negative or zero variance",
                    j + 1
                ),
            ));
        }
        l[j][j] = pivot.sqrt();
        for i in j + 1..n {
            let mut s = c[i][j];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            l[i][j] = s / l[j][j];
        }
    }
    Ok(l)
}

/// The parameters of a basket option.
#[derive(Debug, Clone, PartialEq)]
pub struct BasketParams {
    /// Call or put.
    pub option: OptionType,
    /// Spots today, one per asset.
    pub spots: Vec<f64>,
    /// Weights, `>= 0` with a positive sum (normalised, see the module).
    pub weights: Vec<f64>,
    /// Volatilities.
    pub volatilities: Vec<f64>,
    /// Continuous dividend yields.
    pub dividends: Vec<f64>,
    /// Correlation of the Brownian motions.
    pub correlation: Correlation,
    /// Risk-free rate.
    pub rate: f64,
    /// Years to expiry.
    pub maturity: f64,
    /// Strike.
    pub strike: f64,
}

/// A validated basket: normalised weights, forwards and the correlation matrix.
#[derive(Debug, Clone)]
struct Checked {
    a: Vec<f64>,
    forwards: Vec<f64>,
    /// `C_ij sigma_i sigma_j T`.
    cov: Vec<Vec<f64>>,
    discount: f64,
}

impl BasketParams {
    /// Checks every key (arrays of one length, at least one asset); errors name the
    /// `model.` key. Returns the correlation's Cholesky factor, which a simulation
    /// needs.
    pub fn validate(&self) -> Result<Vec<Vec<f64>>, Error> {
        Ok(self.check()?.1)
    }

    fn check(&self) -> Result<(Checked, Vec<Vec<f64>>), Error> {
        let n = self.spots.len();
        if n == 0 {
            return Err(Error::parameter("model.spots", "needs at least one asset"));
        }
        for (key, len) in [
            ("weights", self.weights.len()),
            ("volatilities", self.volatilities.len()),
            ("dividends", self.dividends.len()),
        ] {
            if len != n {
                return Err(Error::parameter(
                    &format!("model.{key}"),
                    format!("has {len} entries but spots has {n}: give one per asset"),
                ));
            }
        }
        for i in 0..n {
            positive("spots", self.spots[i])?;
            non_negative("weights", self.weights[i])?;
            non_negative("volatilities", self.volatilities[i])?;
            finite("dividends", self.dividends[i])?;
        }
        let total: f64 = self.weights.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return Err(Error::parameter(
                "model.weights",
                format!("must have a positive, finite sum, found {total}"),
            ));
        }
        positive("strike", self.strike)?;
        finite("rate", self.rate)?;
        positive("maturity", self.maturity)?;
        let c = self.correlation.matrix(n)?;
        let l = cholesky(&c)?;
        let t = self.maturity;
        let a = self.weights.iter().map(|w| w / total).collect();
        let forwards = (0..n)
            .map(|i| self.spots[i] * math::exp((self.rate - self.dividends[i]) * t))
            .collect();
        let s = &self.volatilities;
        let cov = (0..n)
            .map(|i| (0..n).map(|j| c[i][j] * s[i] * s[j] * t).collect())
            .collect();
        let discount = math::exp(-self.rate * t);
        Ok((
            Checked {
                a,
                forwards,
                cov,
                discount,
            },
            l,
        ))
    }
}

/// The exact price of the option on the geometric basket `prod_i S_i(T)^{a_i}`.
pub fn geometric(p: &BasketParams) -> Result<f64, Error> {
    let (b, _) = p.check()?;
    let n = b.a.len();
    // E[ln G] = sum a_i (ln F_i - cov_ii / 2), Var ln G = sum a_i a_j cov_ij
    let mut mean = 0.0;
    let mut var = 0.0;
    for i in 0..n {
        mean += b.a[i] * (math::ln(b.forwards[i]) - 0.5 * b.cov[i][i]);
        for j in 0..n {
            var += b.a[i] * b.a[j] * b.cov[i][j];
        }
    }
    let var = var.max(0.0);
    let forward = math::exp(mean + 0.5 * var);
    Ok(black(p.option, forward, p.strike, var, b.discount))
}

/// The expected geometric basket `E[prod_i S_i(T)^{a_i}]` (undiscounted): the mean of
/// the geometric basket as a control variate.
pub fn geometric_mean(p: &BasketParams) -> Result<f64, Error> {
    let (b, _) = p.check()?;
    let n = b.a.len();
    let mut mean = 0.0;
    let mut var = 0.0;
    for i in 0..n {
        mean += b.a[i] * (math::ln(b.forwards[i]) - 0.5 * b.cov[i][i]);
        for j in 0..n {
            var += b.a[i] * b.a[j] * b.cov[i][j];
        }
    }
    Ok(math::exp(mean + 0.5 * var.max(0.0)))
}

/// The arithmetic basket option's `approx_reference`: Choi's method ([`super::choi`]),
/// accurate to about 1e-7 of the spot against QuantLib's `ChoiBasketEngine` (see the
/// module).
pub fn arithmetic_approx(p: &BasketParams) -> Result<f64, Error> {
    let (b, l) = p.check()?;
    let n = b.a.len();
    let g: Vec<f64> = (0..n).map(|i| b.a[i] * b.forwards[i]).collect();
    // the covariance's factor: rows of the correlation's scaled by sigma_i sqrt(T)
    let st = p.maturity.sqrt();
    let lc: Vec<Vec<f64>> = (0..n)
        .map(|i| l[i].iter().map(|x| x * p.volatilities[i] * st).collect())
        .collect();
    Ok(b.discount * super::choi::basket_option(p.option, &g, &lc, p.strike, super::choi::LAMBDA))
}

/// Levy's two-moment lognormal approximation of the arithmetic basket option (see the
/// module; cheaper and much less accurate than [`arithmetic_approx`]).
pub fn arithmetic_levy(p: &BasketParams) -> Result<f64, Error> {
    let (b, _) = p.check()?;
    let n = b.a.len();
    let mut m1 = 0.0;
    for i in 0..n {
        m1 += b.a[i] * b.forwards[i];
    }
    let share: Vec<f64> = (0..n).map(|i| b.a[i] * b.forwards[i] / m1).collect();
    // M2 / M1^2 - 1 = sum_ij p_i p_j (e^{cov_ij} - 1)
    let mut excess = 0.0;
    for i in 0..n {
        for j in 0..n {
            excess += share[i] * share[j] * math::exp_m1(b.cov[i][j]);
        }
    }
    let var = math::ln_1p(excess.max(0.0));
    Ok(black(p.option, m1, p.strike, var, b.discount))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five(rho: f64) -> BasketParams {
        BasketParams {
            option: OptionType::Call,
            spots: vec![100.0; 5],
            weights: vec![0.2; 5],
            volatilities: vec![0.2, 0.25, 0.3, 0.35, 0.4],
            dividends: vec![0.0, 0.01, 0.02, 0.0, 0.01],
            correlation: Correlation::Uniform(rho),
            rate: 0.05,
            maturity: 1.0,
            strike: 100.0,
        }
    }

    #[test]
    fn one_asset_is_black_scholes() {
        let p = BasketParams {
            option: OptionType::Put,
            spots: vec![90.0],
            weights: vec![3.0],
            volatilities: vec![0.3],
            dividends: vec![0.01],
            correlation: Correlation::Uniform(0.0),
            rate: 0.04,
            maturity: 2.0,
            strike: 100.0,
        };
        let f = 90.0 * math::exp(0.06);
        let want = black(OptionType::Put, f, 100.0, 0.18, math::exp(-0.08));
        assert!((geometric(&p).unwrap() - want).abs() < 1e-12);
        assert!((arithmetic_approx(&p).unwrap() - want).abs() < 1e-12);
    }

    #[test]
    fn weights_are_normalised_and_geometric_is_below_arithmetic() {
        let p = five(0.5);
        let mut q = p.clone();
        q.weights = vec![7.0; 5];
        assert_eq!(geometric(&p).unwrap(), geometric(&q).unwrap());
        // G <= A pathwise, so the geometric call is the cheaper
        assert!(geometric(&p).unwrap() < arithmetic_approx(&p).unwrap());
    }

    #[test]
    fn cholesky_factors_and_refuses() {
        let c = vec![
            vec![1.0, 0.5, 0.2],
            vec![0.5, 1.0, 0.3],
            vec![0.2, 0.3, 1.0],
        ];
        let l = cholesky(&c).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((s - c[i][j]).abs() < 1e-15);
            }
        }
        // -0.6 for every pair of three: not positive definite
        let e = five(-0.6).validate().unwrap_err().to_string();
        assert!(
            e.starts_with("model.correlation") && e.contains("positive definite"),
            "{e}"
        );
        let e = five(1.0).validate().unwrap_err().to_string();
        assert!(e.contains("positive definite"), "{e}");
        let mut p = five(0.0);
        p.correlation = Correlation::Matrix(vec![vec![1.0, 0.2], vec![0.2, 1.0]]);
        assert!(p.validate().unwrap_err().to_string().contains("5 x 5"));
        p.correlation = Correlation::Matrix(
            (0..5)
                .map(|i| {
                    (0..5)
                        .map(|j| {
                            if i == j {
                                1.0
                            } else if i < j {
                                0.1
                            } else {
                                0.2
                            }
                        })
                        .collect()
                })
                .collect(),
        );
        assert!(p.validate().unwrap_err().to_string().contains("symmetric"));
    }

    #[test]
    fn degenerate_baskets_have_finite_prices() {
        // no volatility: the discounted intrinsic value on the forwards
        let mut p = five(0.3);
        p.volatilities = vec![0.0; 5];
        let f: f64 = (0..5)
            .map(|i| 0.2 * 100.0 * math::exp(0.05 - p.dividends[i]))
            .sum();
        let want = math::exp(-0.05) * (f - 100.0);
        assert!((arithmetic_approx(&p).unwrap() - want).abs() < 1e-12);
        assert!((arithmetic_levy(&p).unwrap() - want).abs() < 1e-12);
        // a zero weight drops its asset; extreme strikes and volatilities stay finite
        let mut p = five(0.3);
        p.weights[1] = 0.0;
        for (k, vol) in [(1e-3, 0.2), (1e4, 0.2), (100.0, 2.0), (100.0, 1e-4)] {
            p.strike = k;
            p.volatilities = vec![vol; 5];
            for o in [OptionType::Call, OptionType::Put] {
                p.option = o;
                for v in [geometric(&p), arithmetic_approx(&p), arithmetic_levy(&p)] {
                    let v = v.unwrap();
                    assert!(v.is_finite() && v >= 0.0, "{k} {vol} {o:?}: {v}");
                }
            }
        }
    }

    #[test]
    fn bad_arrays_name_their_key() {
        let mut p = five(0.3);
        p.weights.pop();
        assert!(
            geometric(&p)
                .unwrap_err()
                .to_string()
                .starts_with("model.weights")
        );
        let mut p = five(0.3);
        p.weights = vec![0.0; 5];
        assert!(
            geometric(&p)
                .unwrap_err()
                .to_string()
                .starts_with("model.weights")
        );
        let mut p = five(0.3);
        p.spots[2] = -1.0;
        assert!(
            geometric(&p)
                .unwrap_err()
                .to_string()
                .starts_with("model.spots")
        );
        let mut p = five(0.3);
        p.dividends.push(0.0);
        assert!(
            geometric(&p)
                .unwrap_err()
                .to_string()
                .starts_with("model.dividends")
        );
    }
}
