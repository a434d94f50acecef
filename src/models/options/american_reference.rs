//! The American option's reference: Crank-Nicolson finite differences with
//! Richardson extrapolation.
//!
//! The Black-Scholes equation in `x = ln S` and time to expiry `tau`, `V_tau =
//! sigma^2 / 2 V_xx + (r - q - sigma^2 / 2) V_x - r V`, on a uniform grid with the
//! strike on a node (and the spot too, where the grid allows), `CONE` standard
//! deviations of `ln S_T` beyond both; central differences in `x`. In time:
//! Crank-Nicolson with Rannacher's start (the first two steps as four implicit
//! half-steps, which damp the payoff's kink), on steps graded as `tau_j = T (j /
//! M)^2`, fine near expiry where the exercise boundary moves as `sqrt(tau)`. Each
//! step's linear complementarity problem (the option is worth at least its payoff) is
//! solved exactly by Brennan and Schwartz's elimination: the exercise region is one
//! side of one boundary. The error of a grid is then `c (h^2 + dt^2)` plus less; two
//! grids, one with half the steps in both, extrapolate it away: `(4 V_fine -
//! V_coarse) / 3`.
//!
//! Accuracy: within 3.3e-6 of QuantLib's `QdFpAmericanEngine` (Andersen-Lake-
//! Offengelden, high precision) over 36 contracts, strikes 70-130, maturities 0.1-3,
//! volatilities 0.05-0.6 and rates and dividends of either sign
//! (`testdata/references.csv`); about 10 ms of CPU (release build).
//!
//! Where exercise never pays (a put with `r <= 0 <= q`, a call with `q <= 0 <= r`)
//! the option is European and the reference is Black-Scholes. `None` where the
//! exercise region may lie between two boundaries (`r < 0` and `q < 0`), and where the
//! drift outruns the volatility so that the grid's central differences would lose
//! their monotonicity (`|r - q - sigma^2 / 2| h > sigma^2`: volatilities below about
//! 0.3% a year).

use super::closed_form::black_scholes;
use super::market::Market;
use crate::math;

/// Space steps of the coarser grid (the finer has twice as many).
const SPACE_STEPS: usize = 800;

/// Time steps of the coarser grid.
const TIME_STEPS: usize = 200;

/// Half-width of the grid beyond the spot and the strike, in standard deviations of
/// `ln S_T`.
const CONE: f64 = 6.0;

/// The American option's price (see the module docs), or `None` where this method
/// does not apply.
pub fn american(m: &Market) -> Option<f64> {
    let phi = m.option.sign();
    let (r, q) = (m.rate, m.dividend);
    let never = if phi < 0.0 {
        r <= 0.0 && q >= 0.0
    } else {
        q <= 0.0 && r >= 0.0
    };
    if never {
        return Some(black_scholes(m));
    }
    if r < 0.0 && q < 0.0 {
        return None;
    }
    let coarse = Grid::new(m, SPACE_STEPS)?;
    let fine = Grid {
        h: 0.5 * coarse.h,
        below: 2 * coarse.below,
        above: 2 * coarse.above,
        spot_at: coarse.spot_at.map(|j| 2 * j),
        ..coarse
    };
    let v1 = coarse.solve(m, TIME_STEPS);
    let v2 = fine.solve(m, 2 * TIME_STEPS);
    let price = (4.0 * v2 - v1) / 3.0;
    price.is_finite().then_some(price)
}

/// A uniform grid in `x = ln(S / S_0)`: nodes `k + (j - below) h`, `j =
/// 0..=below + above`, with the strike `k = ln(K / S_0)` at node `below`.
#[derive(Debug, Clone, Copy)]
struct Grid {
    k: f64,
    h: f64,
    below: usize,
    above: usize,
    /// The spot's node, where it is one.
    spot_at: Option<usize>,
}

impl Grid {
    /// About `steps` steps over the spot, the strike and `CONE` deviations beyond:
    /// `None` where the drift would break the scheme's monotonicity.
    fn new(m: &Market, steps: usize) -> Option<Grid> {
        let sigma = m.volatility;
        let mu = m.rate - m.dividend - 0.5 * sigma * sigma;
        let t = m.maturity;
        let k = math::ln(m.strike / m.spot);
        let spread = CONE * sigma * t.sqrt();
        let lo = k.min(0.0) + (mu * t).min(0.0) - spread;
        let hi = k.max(0.0) + (mu * t).max(0.0) + spread;
        let mut h = (hi - lo) / steps as f64;
        // The spot on a node too, where it is at least half a step from the strike.
        let gap = -k;
        let mut spot_steps = None;
        if gap.abs() >= 0.5 * h {
            let j = (gap.abs() / h).round();
            h = gap.abs() / j;
            spot_steps = Some(j as usize);
        }
        // Monotone central differences: a / h^2 >= |b| / (2 h) (checked on the
        // coarser grid; the finer one has half its h).
        if mu.abs() * h > sigma * sigma {
            return None;
        }
        let below = ((k - lo) / h).ceil() as usize + 2;
        let above = ((hi - k) / h).ceil() as usize + 2;
        let spot_at = spot_steps.map(|j| if gap > 0.0 { below + j } else { below - j });
        Some(Grid {
            k,
            h,
            below,
            above,
            spot_at,
        })
    }

    fn x(&self, j: usize) -> f64 {
        self.k + (j as f64 - self.below as f64) * self.h
    }

    /// The option's value today on this grid, with `time_steps` graded steps.
    fn solve(&self, m: &Market, time_steps: usize) -> f64 {
        let n = self.below + self.above + 1;
        let sigma = m.volatility;
        let mu = m.rate - m.dividend - 0.5 * sigma * sigma;
        let phi = m.option.sign();
        let spot: Vec<f64> = (0..n).map(|j| m.spot * math::exp(self.x(j))).collect();
        let payoff: Vec<f64> = spot
            .iter()
            .map(|&s| (phi * (s - m.strike)).max(0.0))
            .collect();
        let a = 0.5 * sigma * sigma / (self.h * self.h);
        let b = mu / (2.0 * self.h);
        let (lower, centre, upper) = (a - b, -2.0 * a - m.rate, a + b);
        let mut v = payoff.clone();
        let mut rhs = vec![0.0; n];
        let mut c = vec![0.0; n];
        let mut d = vec![0.0; n];
        let tau = |j: usize| {
            let f = j as f64 / time_steps as f64;
            m.maturity * f * f
        };
        for j in 0..time_steps {
            let (t0, t1) = (tau(j), tau(j + 1));
            // Rannacher: the first two steps as two implicit half-steps each.
            let parts: &[(f64, f64)] = if j < 2 {
                &[(0.5, 1.0), (1.0, 1.0)]
            } else {
                &[(1.0, 0.5)]
            };
            let mut start = t0;
            for &(end, theta) in parts {
                let stop = t0 + end * (t1 - t0);
                let dt = stop - start;
                start = stop;
                // Right-hand side: (1 + (1 - theta) dt L) v inside; the edges are
                // Dirichlet: deep in the money the larger of the payoff and the
                // forward's value, far out of it nothing.
                let explicit = (1.0 - theta) * dt;
                for i in 1..n - 1 {
                    rhs[i] =
                        v[i] + explicit * (lower * v[i - 1] + centre * v[i] + upper * v[i + 1]);
                }
                let edge = |s: f64, p: f64| {
                    let forward = phi
                        * (s * math::exp(-m.dividend * stop)
                            - m.strike * math::exp(-m.rate * stop));
                    p.max(forward).max(0.0)
                };
                rhs[0] = if phi < 0.0 {
                    edge(spot[0], payoff[0])
                } else {
                    0.0
                };
                rhs[n - 1] = if phi > 0.0 {
                    edge(spot[n - 1], payoff[n - 1])
                } else {
                    0.0
                };
                let (al, bd, cu) = (
                    -theta * dt * lower,
                    1.0 - theta * dt * centre,
                    -theta * dt * upper,
                );
                // Brennan-Schwartz: eliminate from the side where the option is out
                // of the money towards the exercise side, then substitute back
                // from the exercise side, taking the payoff where it is larger.
                if phi < 0.0 {
                    c[n - 1] = 0.0;
                    d[n - 1] = rhs[n - 1];
                    for i in (1..n - 1).rev() {
                        let pivot = bd - cu * c[i + 1];
                        c[i] = al / pivot;
                        d[i] = (rhs[i] - cu * d[i + 1]) / pivot;
                    }
                    v[0] = rhs[0];
                    for i in 1..n - 1 {
                        v[i] = (d[i] - c[i] * v[i - 1]).max(payoff[i]);
                    }
                    v[n - 1] = rhs[n - 1];
                } else {
                    c[0] = 0.0;
                    d[0] = rhs[0];
                    for i in 1..n - 1 {
                        let pivot = bd - al * c[i - 1];
                        c[i] = cu / pivot;
                        d[i] = (rhs[i] - al * d[i - 1]) / pivot;
                    }
                    v[n - 1] = rhs[n - 1];
                    for i in (1..n - 1).rev() {
                        v[i] = (d[i] - c[i] * v[i + 1]).max(payoff[i]);
                    }
                    v[0] = rhs[0];
                }
            }
        }
        match self.spot_at {
            Some(j) => v[j],
            None => {
                // Cubic Lagrange interpolation at x = 0 (near the strike, where the
                // value is smooth).
                let f = -self.x(0) / self.h;
                let j = f.floor() as usize;
                let t = f - j as f64;
                let (y0, y1, y2, y3) = (v[j - 1], v[j], v[j + 1], v[j + 2]);
                let (tp, tm, tm2) = (t + 1.0, t - 1.0, t - 2.0);
                -y0 * t * tm * tm2 / 6.0 + y1 * tp * tm * tm2 / 2.0 - y2 * tp * t * tm2 / 2.0
                    + y3 * tp * t * tm / 6.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::market::OptionType;
    use super::super::testdata::rows;
    use super::*;

    /// Every American price of `references.csv` (QuantLib's QdFpAmericanEngine, high
    /// precision): 36 contracts, strikes 70-130, maturities 0.1-3, volatilities
    /// 0.05-0.6, rates and dividends from -2% to 8%, calls and puts.
    #[test]
    fn prices_match_quantlib() {
        let mut worst: f64 = 0.0;
        for r in rows("american") {
            let got = american(&r.market).unwrap();
            let error = (got - r.value).abs();
            worst = worst.max(error);
            assert!(error <= 1e-5, "{:?}: {got} vs {}", r.market, r.value);
        }
        println!("american prices: worst absolute error {worst:.1e}");
    }

    #[test]
    fn never_exercised_is_european_and_two_boundaries_are_refused() {
        let m = Market {
            option: OptionType::Call,
            spot: 100.0,
            strike: 100.0,
            rate: 0.05,
            dividend: 0.0,
            volatility: 0.2,
            maturity: 1.0,
        };
        assert_eq!(american(&m), Some(black_scholes(&m)));
        let put = Market {
            option: OptionType::Put,
            rate: -0.01,
            dividend: 0.01,
            ..m
        };
        assert_eq!(american(&put), Some(black_scholes(&put)));
        let both = Market {
            rate: -0.01,
            dividend: -0.02,
            ..put
        };
        assert_eq!(american(&both), None);
    }

    /// Tiny and huge volatility, long maturities, deep in and out of the money:
    /// finite and above the payoff and the European, or `None` where the drift
    /// outruns the volatility.
    #[test]
    fn corners_give_sound_prices_or_none() {
        for option in [OptionType::Call, OptionType::Put] {
            for (vol, t, strike) in [
                (0.01, 1.0, 100.0),
                (2.0, 5.0, 100.0),
                (0.3, 30.0, 100.0),
                (0.2, 1.0 / 365.0, 100.0),
                (0.2, 1.0, 20.0),
                (0.2, 1.0, 500.0),
            ] {
                let m = Market {
                    option,
                    spot: 100.0,
                    strike,
                    rate: 0.05,
                    dividend: 0.03,
                    volatility: vol,
                    maturity: t,
                };
                let v = american(&m).unwrap();
                let payoff = (option.sign() * (100.0 - strike)).max(0.0);
                assert!(v >= payoff - 1e-9, "{m:?}: {v}");
                assert!(v >= black_scholes(&m) - 1e-6, "{m:?}: {v}");
            }
        }
        let drift = Market {
            option: OptionType::Put,
            spot: 100.0,
            strike: 100.0,
            rate: 0.1,
            dividend: 0.0,
            volatility: 0.001,
            maturity: 1.0,
        };
        assert_eq!(american(&drift), None);
    }
}
