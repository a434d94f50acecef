//! Choi's method (2018, "Sum of all Black-Scholes-Merton models") for the arithmetic
//! basket option: exact in one direction, Gauss-Hermite in the others.
//!
//! With `X = L Z` the assets' log-returns (`L L^T` the covariance, `Z` standard
//! normal), the basket is `A = sum_i g_i e^{X_i - Var X_i / 2}`, `g_i = a_i F_i`. Take
//! the unit direction `u` along `L^T g` (where `A` grows fastest) and an orthonormal
//! basis of the rest: `Z = u z_1 + P z_perp`. Given `z_perp`, the basket is
//! `A(z_1) = sum_i c_i e^{beta_i z_1}` (`beta = L u`), a convex function of `z_1`, so
//! `{A < K}` is one interval `(r_1, r_2)` (roots by safeguarded Newton) and the
//! conditional option value is a finite sum of normal distribution functions,
//! exactly. The outer expectation over `z_perp` is a product Gauss-Hermite rule
//! along the principal axes of the rest of the basket's (share-weighted) variance,
//! `m_k = ceil(64 sqrt(mu_k))` nodes (6 to 64) on the axis of variance `mu_k`.
//!
//! Everything is deterministic: the eigenvectors (cyclic Jacobi), the Gauss-Hermite
//! nodes (Golub-Welsch, by the same Jacobi), the roots and the sums run in fixed
//! order on carlo's own `exp` and `normal_cdf`.

use crate::math;
use crate::models::options::OptionType;

/// Gauss-Hermite nodes per unit of standard deviation of an axis (QuantLib's
/// `ChoiBasketEngine` has a `lambda` of the same role).
pub(crate) const LAMBDA: f64 = 64.0;
/// Most grid points of the outer product rule.
const MAX_NODES: usize = 200_000;

/// The eigenvalues and eigenvectors (columns) of the symmetric matrix `a`, by cyclic
/// Jacobi rotations in a fixed order, eigenvalues descending.
// Row and column indices index the matrix and the rotation at once.
#[allow(clippy::needless_range_loop)]
fn jacobi_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    for _ in 0..100 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..n {
            diag += a[i][i] * a[i][i];
            for j in i + 1..n {
                off += a[i][j] * a[i][j];
            }
        }
        if off <= 1e-34 * diag || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    let t = 1.0 / (theta.abs() + (theta * theta + 1.0).sqrt());
                    if theta < 0.0 { -t } else { t }
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k][p], v[k][q]);
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| a[i][i]).collect();
    let vectors = (0..n)
        .map(|r| order.iter().map(|&i| v[r][i]).collect())
        .collect();
    (values, vectors)
}

/// Nodes and weights of the `m`-point Gauss-Hermite rule for the standard normal
/// (`sum_j w_j f(x_j) ~ E f(Z)`), by Golub and Welsch: the eigenvalues of the Jacobi
/// matrix of the Hermite polynomials, weights the squared first components.
pub(crate) fn gauss_hermite(m: usize) -> Vec<(f64, f64)> {
    let mut j = vec![vec![0.0; m]; m];
    for k in 1..m {
        let b = (k as f64).sqrt();
        j[k - 1][k] = b;
        j[k][k - 1] = b;
    }
    let (x, v) = jacobi_eigen(j);
    let mut nodes: Vec<(f64, f64)> = (0..m).map(|k| (x[k], v[0][k] * v[0][k])).collect();
    nodes.sort_by(|a, b| a.0.total_cmp(&b.0));
    nodes
}

/// `E[max(phi (A - K), 0)]` (undiscounted) for `A = sum_i g_i e^{X_i - Var X_i/2}`,
/// `X = L Z`, `l` the covariance's lower Cholesky factor (`cov = l l^T`).
pub(crate) fn basket_option(
    option: OptionType,
    g: &[f64],
    l: &[Vec<f64>],
    strike: f64,
    lambda: f64,
) -> f64 {
    let n = g.len();
    let var: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|k| l[i][k] * l[i][k]).sum())
        .collect();
    // u along L^T g
    let mut u: Vec<f64> = (0..n)
        .map(|k| (0..n).map(|i| l[i][k] * g[i]).sum())
        .collect();
    let norm = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm.is_nan() || norm <= 0.0 {
        // no variance at all: the payoff is known
        let a: f64 = g.iter().sum();
        return (option.sign() * (a - strike)).max(0.0);
    }
    for x in &mut u {
        *x /= norm;
    }
    let beta: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|k| l[i][k] * u[k]).sum())
        .collect();
    // an orthonormal basis Q of u's complement: the columns 2..n of the Householder
    // reflection that maps u to +-e_1
    let sgn = if u[0] >= 0.0 { 1.0 } else { -1.0 };
    let mut w = u.clone();
    w[0] += sgn;
    let wn = w.iter().map(|x| x * x).sum::<f64>();
    let q: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (1..n)
                .map(|c| {
                    let id = if i == c { 1.0 } else { 0.0 };
                    id - 2.0 * w[i] * w[c] / wn
                })
                .collect()
        })
        .collect();
    // the rest of the variance, each asset weighted by its share of the basket:
    // R^T R with R = sqrt(D) L Q (the basket's first-order move along Q is zero, by
    // the choice of u: what matters is this dispersion)
    let gsum: f64 = g.iter().sum();
    let lq: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n - 1)
                .map(|c| (0..n).map(|k| l[i][k] * q[k][c]).sum())
                .collect()
        })
        .collect();
    let m = n - 1;
    let rtr: Vec<Vec<f64>> = (0..m)
        .map(|a| {
            (0..m)
                .map(|b| (0..n).map(|i| g[i] / gsum * lq[i][a] * lq[i][b]).sum())
                .collect()
        })
        .collect();
    let (mu, vecs) = if m > 0 {
        jacobi_eigen(rtr)
    } else {
        (vec![], vec![])
    };
    // the directions in X space: D_k = (L Q) v_k
    let dirs: Vec<Vec<f64>> = (0..m)
        .map(|k| {
            (0..n)
                .map(|i| (0..m).map(|c| lq[i][c] * vecs[c][k]).sum())
                .collect()
        })
        .collect();
    let mut counts: Vec<usize> = mu
        .iter()
        .map(|&x| {
            // at least 6 nodes (exact to degree 11) on an axis with any variance: a
            // nearly polynomial dependence still needs a few
            if x > 1e-300 {
                ((lambda * x.sqrt()).ceil() as usize).clamp(6, 64)
            } else {
                1
            }
        })
        .collect();
    // keep the grid bounded: thin the trailing axes first
    while counts.iter().product::<usize>() > MAX_NODES {
        let k = counts.iter().rposition(|&c| c > 1).unwrap_or(0);
        counts[k] = counts[k].div_ceil(2);
    }
    let rules: Vec<Vec<(f64, f64)>> = counts.iter().map(|&c| gauss_hermite(c)).collect();
    let e_beta: Vec<f64> = beta.iter().map(|b| math::exp(0.5 * b * b)).collect();
    let mut total = 0.0;
    let mut idx = vec![0usize; m];
    let mut c = vec![0.0; n];
    loop {
        // the grid point: weight and the assets' shift
        let mut weight = 1.0;
        for i in 0..n {
            c[i] = -0.5 * var[i];
        }
        for k in 0..m {
            let (x, wk) = rules[k][idx[k]];
            weight *= wk;
            for i in 0..n {
                c[i] += dirs[k][i] * x;
            }
        }
        // c_i e^{beta_i z}, with the known part of the variance of X taken out:
        // Var X_i = beta_i^2 + |rest|^2, and E over z of e^{beta z} = e^{beta^2/2}
        for i in 0..n {
            c[i] = g[i] * math::exp(c[i]);
        }
        total += weight * conditional(option, &c, &beta, &e_beta, strike);
        // next grid point, the last axis fastest
        let mut k = m;
        loop {
            if k == 0 {
                return total;
            }
            k -= 1;
            idx[k] += 1;
            if idx[k] < counts[k] {
                break;
            }
            idx[k] = 0;
        }
    }
}

/// `E[max(phi (A(z) - K), 0)]` over a standard normal `z`, `A(z) = sum c_i e^{beta_i z}`.
fn conditional(option: OptionType, c: &[f64], beta: &[f64], e_beta: &[f64], k: f64) -> f64 {
    let a = |z: f64| -> f64 {
        c.iter()
            .zip(beta)
            .map(|(ci, bi)| ci * math::exp(bi * z))
            .sum()
    };
    let da = |z: f64| -> f64 {
        c.iter()
            .zip(beta)
            .map(|(ci, bi)| ci * bi * math::exp(bi * z))
            .sum()
    };
    const FAR: f64 = 40.0;
    // the minimum of the convex A on [-FAR, FAR]
    let zmin = if da(-FAR) >= 0.0 {
        -FAR
    } else if da(FAR) <= 0.0 {
        FAR
    } else {
        root(&da, -FAR, FAR, 0.0)
    };
    // {A < K} = (r1, r2), each end possibly beyond +-FAR (then infinite)
    let (r1, r2) = if a(zmin) >= k {
        (0.0, 0.0) // empty
    } else {
        let r1 = if a(-FAR) < k {
            f64::NEG_INFINITY
        } else {
            root(&|z| a(z) - k, -FAR, zmin, k)
        };
        let r2 = if a(FAR) < k {
            f64::INFINITY
        } else {
            root(&|z| a(z) - k, zmin, FAR, k)
        };
        (r1, r2)
    };
    let n = |x: f64| {
        if x == f64::INFINITY {
            1.0
        } else if x == f64::NEG_INFINITY {
            0.0
        } else {
            math::normal_cdf(x)
        }
    };
    let empty = r1 == r2;
    match option {
        OptionType::Put => {
            if empty {
                return 0.0;
            }
            let mut v = k * (n(r2) - n(r1));
            for i in 0..c.len() {
                v -= c[i] * e_beta[i] * (n(r2 - beta[i]) - n(r1 - beta[i]));
            }
            v.max(0.0)
        }
        OptionType::Call => {
            // outside (r1, r2): N(r1 - b) + N(b - r2)
            let (lo, hi) = if empty {
                (f64::INFINITY, f64::NEG_INFINITY)
            } else {
                (r1, r2)
            };
            let mut v = -k * (n(lo) + n(-hi));
            for i in 0..c.len() {
                v += c[i] * e_beta[i] * (n(lo - beta[i]) + n(beta[i] - hi));
            }
            v.max(0.0)
        }
    }
}

/// The root of the monotone `f` on `[lo, hi]` (`f(lo)` and `f(hi)` of opposite signs or
/// zero): bisection to a bracket, then secant steps kept inside it, to `1e-14`.
fn root(f: &dyn Fn(f64) -> f64, mut lo: f64, mut hi: f64, _scale: f64) -> f64 {
    let (mut flo, mut fhi) = (f(lo), f(hi));
    if flo == 0.0 {
        return lo;
    }
    if fhi == 0.0 {
        return hi;
    }
    for _ in 0..200 {
        // regula falsi (Illinois) inside the bracket, bisection when it stalls
        let mut mid = hi - fhi * (hi - lo) / (fhi - flo);
        if !(mid > lo && mid < hi) || (hi - lo) > 4.0 {
            mid = 0.5 * (lo + hi);
        }
        let fm = f(mid);
        if fm == 0.0 {
            return mid;
        }
        if (fm < 0.0) == (flo < 0.0) {
            lo = mid;
            flo = fm;
            fhi *= 0.5;
        } else {
            hi = mid;
            fhi = fm;
            flo *= 0.5;
        }
        if hi - lo <= 1e-14 * (1.0 + lo.abs().max(hi.abs())) {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_hermite_moments() {
        for m in [1, 2, 5, 12, 24] {
            let r = gauss_hermite(m);
            let moment = |p: i32| r.iter().map(|(x, w)| w * x.powi(p)).sum::<f64>();
            assert!((moment(0) - 1.0).abs() < 1e-14, "{m}");
            if m >= 2 {
                assert!((moment(2) - 1.0).abs() < 1e-13, "{m}");
            }
            if m >= 3 {
                assert!((moment(4) - 3.0).abs() < 1e-12, "{m}");
            }
        }
    }

    #[test]
    fn jacobi_diagonalises() {
        let a = vec![
            vec![4.0, 1.0, 0.5],
            vec![1.0, 3.0, 0.2],
            vec![0.5, 0.2, 1.0],
        ];
        let (vals, vecs) = jacobi_eigen(a.clone());
        for k in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| a[i][j] * vecs[j][k]).sum();
                assert!((av - vals[k] * vecs[i][k]).abs() < 1e-13);
            }
        }
        assert!(vals[0] >= vals[1] && vals[1] >= vals[2]);
    }
}
