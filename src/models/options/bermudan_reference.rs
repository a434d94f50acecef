//! The Bermudan option's reference: recursive quadrature over the exercise dates.
//!
//! The option may be exercised at `t_i = i T / n`, `i = 1..n` (expiry included, not
//! today), the dates of the American model's Longstaff-Schwartz estimate. With `x =
//! ln(S / S_0)`, its continuation value at date `i` is
//!
//! `C_i(x) = e^{-r dt} int max(payoff(y), C_{i+1}(y)) p(y - x) dy`
//!
//! for the normal step density `p`, and `C_{n-1}` is the Black-Scholes price of one
//! step. Each `C_i` is smooth; `max(payoff, C_i)` has one kink, at the exercise
//! boundary `x*_i` where they meet. So each date's values are held on Gauss-Legendre
//! panels laid out from that date's boundary ([`super::quadrature`]): no panel
//! straddles the kink, and the next integral is spectrally accurate. The boundary is
//! found by a safeguarded Newton iteration on `payoff - C_i`, with `C_i` evaluated by
//! the same quadrature at any point; the next date's grid is the same panels shifted
//! to it, so a step is one block-Toeplitz product with kernel values for that shift.
//!
//! Accuracy: within 6e-10 of independent values over 28 contracts (a dense
//! quadrature with its own boundary search, converged to 1e-13; QuantLib's finite
//! differences at day-aligned dates agree to their own accuracy, about 1e-6;
//! `testdata/references.csv`). Cost (CPU, release build): 1.6 ms at 50 dates, 10 to
//! 15 ms at 252.
//!
//! Where exercise never pays (a put with `r <= 0 <= q`, a call with `q <= 0 <= r`)
//! the option is European and the reference is Black-Scholes. `None` where the
//! exercise region may be an interval between two boundaries (`r < 0` and `q < 0`),
//! which this method does not follow, where a date shows a second boundary all the
//! same, or where the work would exceed [`WORK_LIMIT`] (thousands of dates).

use super::closed_form::black_scholes;
use super::market::Market;
use super::quadrature::{CONE, Grid, Kernel, NODES, Panels, Part, REACH, Step, integrate_at};
use crate::math;

/// Most multiply-adds the quadrature may cost (about 0.2 s in a release build):
/// some 3,000 dates.
pub const WORK_LIMIT: f64 = 6e8;

/// Price of the Bermudan option exercisable at `t_i = i T / dates`, `i = 1..=dates`
/// (see the module docs), or `None` where this method does not apply.
pub fn bermudan(m: &Market, dates: u64) -> Option<f64> {
    let phi = m.option.sign();
    let (r, q) = (m.rate, m.dividend);
    // Holding a put to the next date is worth at least K e^{-r dt} - S e^{-q dt} >=
    // K - S when r <= 0 <= q: it is never exercised early; likewise the call.
    let never = if phi < 0.0 {
        r <= 0.0 && q >= 0.0
    } else {
        q <= 0.0 && r >= 0.0
    };
    if dates == 1 || never {
        return Some(black_scholes(m));
    }
    if dates == 0 || (r < 0.0 && q < 0.0) {
        return None;
    }
    let price = Recursion::new(m, dates)?.run()?;
    price.is_finite().then_some(price)
}

struct Recursion<'a> {
    m: &'a Market,
    n: usize,
    dt: f64,
    mu: f64,
    phi: f64,
    /// `ln(K / S_0)`.
    k: f64,
    step: Step,
    panels: Panels,
    /// `e^{-r dt}`.
    disc: f64,
}

/// A date's values on its grid.
struct Date {
    grid: Grid,
    values: Vec<f64>,
}

impl<'a> Recursion<'a> {
    fn new(m: &'a Market, dates: u64) -> Option<Self> {
        let n = dates as usize;
        let dt = m.maturity / dates as f64;
        let sigma = m.volatility;
        let mu = m.rate - m.dividend - 0.5 * sigma * sigma;
        let step = Step {
            mean: mu * dt,
            sd: sigma * dt.sqrt(),
        };
        let panels = Panels::new(&step);
        let recursion = Recursion {
            m,
            n,
            dt,
            mu,
            phi: m.option.sign(),
            k: math::ln(m.strike / m.spot),
            step,
            panels,
            disc: math::exp(-m.rate * dt),
        };
        // The work: every date's nodes times the kernel's reach, in nodes.
        let blocks = Kernel::new(&panels, &step, 1.0, 0.0, 0.0, Part::Density).blocks();
        let work: f64 = (1..n)
            .map(|i| (recursion.grid(i, 0.0).len() * NODES * blocks) as f64)
            .sum();
        (work <= WORK_LIMIT).then_some(recursion)
    }

    /// `[from, to]`: where date `i`'s values are kept (see [`CONE`]).
    fn cone(&self, i: usize) -> (f64, f64) {
        let t = self.dt * i as f64;
        let sigma = self.m.volatility;
        let spread = CONE * sigma * t.sqrt();
        (self.mu * t - spread, (self.mu + sigma * sigma) * t + spread)
    }

    /// Date `i`'s grid, anchored at `anchor`.
    fn grid(&self, i: usize, anchor: f64) -> Grid {
        let (from, to) = self.cone(i);
        Grid::covering(&self.panels, anchor, 1.0, from, to, None)
    }

    /// The payoff at `x` and its derivative.
    fn payoff(&self, x: f64) -> (f64, f64) {
        let s = self.m.spot * math::exp(x);
        let v = self.phi * (s - self.m.strike);
        if v > 0.0 {
            (v, self.phi * s)
        } else {
            (0.0, 0.0)
        }
    }

    /// The continuation value at date `n - 1` (Black-Scholes over one step) and its
    /// derivative in `x`.
    fn last(&self, x: f64) -> (f64, f64) {
        let m = self.m;
        let sd = self.step.sd;
        let forward = m.spot * math::exp(x + (m.rate - m.dividend) * self.dt);
        let d1 = (x - self.k + (m.rate - m.dividend) * self.dt + 0.5 * sd * sd) / sd;
        let phi = self.phi;
        let n1 = math::normal_cdf(phi * d1);
        let n2 = math::normal_cdf(phi * (d1 - sd));
        let value = self.disc * phi * (forward * n1 - m.strike * n2);
        (value, self.disc * phi * forward * n1)
    }

    /// The continuation value at the date before `next`'s, at `x`, and its
    /// derivative.
    fn continuation(&self, next: Option<&Date>, x: f64) -> (f64, f64) {
        match next {
            None => self.last(x),
            Some(d) => {
                let at = integrate_at(&self.panels, &self.step, &d.grid, &d.values, x);
                (self.disc * at[0], self.disc * at[1])
            }
        }
    }

    /// The exercise boundary within `[from, to]` of the date before `next`'s,
    /// searched from `start`: where the payoff meets the continuation value. Where
    /// they do not meet there, `Err` with the end of `[from, to]` the search reached:
    /// a point with all of `[from, to]` on one side, as the anchor of a grid without
    /// a kink where paths go.
    fn boundary(&self, next: Option<&Date>, start: f64, from: f64, to: f64) -> Result<f64, f64> {
        let f = |x: f64| {
            let (c, dc) = self.continuation(next, x);
            let (p, dp) = self.payoff(x);
            (p - c, dp - dc)
        };
        let inside = |x: f64| x.clamp(from, to);
        let mut x = inside(start);
        let (mut fx, _) = f(x);
        // Exercise lies phi-wards of the boundary, where payoff - C > 0: walk towards
        // the other sign, with steps doubling from one standard deviation.
        let towards = if fx > 0.0 { -self.phi } else { self.phi };
        let mut stride = self.step.sd;
        let (a, fa) = loop {
            let y = inside(x + towards * stride);
            if y == x {
                return Err(y);
            }
            let (fy, _) = f(y);
            let previous = (x, fx);
            (x, fx) = (y, fy);
            if (fy > 0.0) != (previous.1 > 0.0) {
                break previous;
            }
            stride *= 2.0;
        };
        // Now the root lies between a and x; Newton, falling back to bisection
        // whenever a step would leave the bracket.
        let (mut lo, mut hi) = if a < x { (a, x) } else { (x, a) };
        let f_lo_positive = if a < x { fa > 0.0 } else { fx > 0.0 };
        let mut y = 0.5 * (lo + hi);
        for _ in 0..100 {
            let (fy, dfy) = f(y);
            if fy == 0.0 {
                return Ok(y);
            }
            if (fy > 0.0) == f_lo_positive {
                lo = y;
            } else {
                hi = y;
            }
            let newton = y - fy / dfy;
            let next_y = if newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            if (next_y - y).abs() <= 1e-14 * (1.0 + y.abs()) || hi - lo <= 1e-14 {
                return Ok(next_y);
            }
            y = next_y;
        }
        Ok(y)
    }

    /// The values `max(payoff, C)` at date `i`, on a grid anchored at its boundary,
    /// from the next date's (`None`: `i = n - 1`, in closed form). `None` where the
    /// exercise region is not one side of one boundary.
    fn date(&self, i: usize, next: Option<&Date>, guess: f64) -> Option<Date> {
        // The boundary is searched for in the date's cone. The exercise region is
        // checked where the continuation value is exact: from a grid, where the
        // kernel's whole reach lies on it (at the cone's edges the values are
        // truncated, harmlessly, since paths seldom go there, but their `payoff - C`
        // could look like a second boundary).
        let (from, to) = self.cone(i);
        let anchor = match self.boundary(next, guess, from, to) {
            // No boundary: an end of the cone, all of it on one side.
            Ok(x) | Err(x) => x,
        };
        let (mut lo, mut hi) = (from, to);
        if let Some(d) = next {
            let reach = REACH * self.step.sd;
            lo = lo.max(d.grid.position(&self.panels, d.grid.lo, 0) + reach - self.step.mean);
            hi = hi.min(
                d.grid.position(&self.panels, d.grid.hi - 1, NODES - 1) - reach - self.step.mean,
            );
        }
        let grid = self.grid(i, anchor);
        let mut values = vec![0.0; grid.len()];
        match next {
            None => {
                for (j, x) in grid.nodes(&self.panels) {
                    values[j] = self.last(x).0;
                }
            }
            Some(d) => {
                let kernel = Kernel::new(
                    &self.panels,
                    &self.step,
                    1.0,
                    d.grid.anchor,
                    anchor,
                    Part::Density,
                );
                kernel.apply(&d.grid, &d.values, &grid, &mut values);
                for v in values.iter_mut() {
                    *v *= self.disc;
                }
            }
        }
        // Exercise where it pays more; it must do so on the phi side of the anchor
        // only (a second boundary would put a kink inside a panel).
        let tolerance = 1e-12 * self.m.strike;
        for (j, x) in grid.nodes(&self.panels) {
            let (p, _) = self.payoff(x);
            let gain = p - values[j];
            let exercise_side = self.phi * (x - anchor) > 0.0;
            let checked = x >= lo && x <= hi;
            if checked
                && ((exercise_side && gain < -tolerance) || (!exercise_side && gain > tolerance))
            {
                return None;
            }
            if gain > 0.0 {
                values[j] = p;
            }
        }
        Some(Date { grid, values })
    }

    fn run(&self) -> Option<f64> {
        let mut date = self.date(self.n - 1, None, self.k)?;
        for i in (1..self.n - 1).rev() {
            let guess = date.grid.anchor;
            date = self.date(i, Some(&date), guess)?;
        }
        Some(self.continuation(Some(&date), 0.0).0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::american_reference::american;
    use super::super::market::OptionType;
    use super::super::testdata::rows;
    use super::*;

    fn put() -> Market {
        Market {
            option: OptionType::Put,
            spot: 100.0,
            strike: 100.0,
            rate: 0.05,
            dividend: 0.0,
            volatility: 0.2,
            maturity: 1.0,
        }
    }

    /// Every Bermudan price of `references.csv` (a dense quadrature with its own
    /// boundary search): 28 contracts, strikes 70-130, maturities 0.1-3,
    /// volatilities 0.1-0.6, rates and dividends of either sign, 1 to 252 dates.
    #[test]
    fn prices_match_the_independent_values() {
        let mut worst: f64 = 0.0;
        for r in rows("bermudan") {
            let got = bermudan(&r.market, r.steps).unwrap();
            let error = (got - r.value).abs();
            worst = worst.max(error);
            assert!(
                error <= 2e-9 + r.uncertainty,
                "{:?} {} dates: {got} vs {}",
                r.market,
                r.steps,
                r.value
            );
        }
        println!("bermudan prices: worst absolute error {worst:.1e}");
    }

    #[test]
    fn more_dates_are_worth_more_up_to_the_american() {
        let m = put();
        let american = american(&m).unwrap();
        let mut previous = black_scholes(&m);
        assert_eq!(bermudan(&m, 1), Some(previous));
        for n in [2, 4, 12, 50, 252] {
            let b = bermudan(&m, n).unwrap();
            assert!(b > previous && b < american, "{n} dates: {b}");
            previous = b;
        }
    }

    #[test]
    fn never_exercised_is_european_and_two_boundaries_are_refused() {
        let call = Market {
            option: OptionType::Call,
            ..put()
        };
        assert_eq!(bermudan(&call, 50), Some(black_scholes(&call)));
        let both = Market {
            rate: -0.01,
            dividend: -0.02,
            ..put()
        };
        assert_eq!(bermudan(&both, 50), None);
        assert_eq!(bermudan(&put(), 100_000), None);
    }

    /// Deep in and out of the money, tiny and huge volatility, long maturities, a
    /// strong drift: finite, at least the European, at least the payoff.
    #[test]
    fn corners_give_sound_prices() {
        for option in [OptionType::Call, OptionType::Put] {
            for (vol, t, strike, n) in [
                (0.01, 1.0, 100.0, 12),
                (0.001, 1.0, 100.0, 12),
                (2.0, 5.0, 100.0, 20),
                (0.3, 30.0, 100.0, 30),
                (0.2, 1.0 / 365.0, 100.0, 3),
                (0.2, 1.0, 20.0, 12),
                (0.2, 1.0, 500.0, 12),
                (0.2, 1.0, 100.0, 1000),
            ] {
                let m = Market {
                    option,
                    strike,
                    volatility: vol,
                    maturity: t,
                    dividend: 0.03,
                    ..put()
                };
                let v = bermudan(&m, n).unwrap_or_else(|| panic!("{m:?} {n}: None"));
                assert!(v >= black_scholes(&m) - 1e-9, "{m:?} {n}: {v}");
                let payoff_forward = (option.sign()
                    * (100.0 * math::exp(-m.dividend * t / n as f64)
                        - strike * math::exp(-m.rate * t / n as f64)))
                .max(0.0);
                assert!(v >= payoff_forward - 1e-9, "{m:?} {n}: {v}");
            }
        }
    }
}
