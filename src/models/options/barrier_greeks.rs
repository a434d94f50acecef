//! Greeks of the discretely monitored barrier option by conditioning on one-step
//! survival (Glasserman and Staum 2001, "Conditioning on one-step survival for
//! barrier option simulations", Operations Research 49), differentiated pathwise.
//!
//! The knock-out indicator makes the payoff jump, so its pathwise derivative is
//! useless and the likelihood ratio (carlo before 0.3) has a variance that grows with
//! the dates. Conditioning removes the jump: from the path's own uniforms `u_i =
//! Phi(z_i)`, each step `i < n` is drawn *given that it survives*,
//! `z_i = Phi^-1(u_i p_i)` on the surviving side, where `p_i = Phi(a_i)` is the
//! probability that step `i` survives from where the path stands, and the weight
//! `L = p_1 ... p_{n-1}` carries the probability of having survived. The last step is
//! integrated in closed form: `g(x) = E[payoff 1{the last step survives} | x_{n-1}]`
//! is a truncated-normal Black-Scholes formula. So
//!
//! - knock-out: `Y = D L g + D R (1 - L p_n)` (`R` the rebate, paid when knocked out),
//! - knock-in: `Y = BS - D L g + D R L p_n` (the vanilla minus the knock-out part; the
//!   vanilla's exact Black-Scholes value and Greeks),
//!
//! have expectation the option's price and are smooth in every parameter for fixed
//! `u`, so their derivatives are unbiased estimators of the Greeks, gamma included
//! (no kink is left: the payoff's kink is inside `g`'s integral). The derivatives are
//! carried forward through the path in [`Dual`] numbers: the value, its derivatives
//! in spot, volatility, rate and calendar time, and its second derivative in spot.
//! Calendar time moves today towards fixed dates, so it shortens only the first
//! interval and brings the discount date nearer, as every carlo theta does.
//!
//! One date (`steps = 1`) leaves nothing random: the estimator is the exact price of
//! the one-date barrier and its Greeks have no variance.

use super::greeks::{Greek, black_scholes_greek};
use super::market::{BarrierKind, Market};
use crate::math::{exp, inverse_normal_cdf, ln, normal_cdf};

/// Standardized distance to the barrier beyond which a step survives for certain in
/// double precision: `Phi(8.5)` rounds to 1 and the density there is below 2e-16, so
/// the step is the unconditional one (most steps of most paths: only those near the
/// barrier pay for the normal functions).
const FAR: f64 = 8.5;

/// Derivatives carried: spot, volatility, rate, calendar time.
const VARS: usize = 4;

/// A value with its derivatives in the four parameters and its second derivative in
/// the spot (forward-mode automatic differentiation, second order in one variable).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Dual {
    v: f64,
    d: [f64; VARS],
    /// `d^2 / dS^2`.
    ss: f64,
}

impl Dual {
    fn constant(v: f64) -> Self {
        Dual {
            v,
            d: [0.0; VARS],
            ss: 0.0,
        }
    }

    /// The parameter `k` with value `v`.
    fn variable(v: f64, k: usize) -> Self {
        let mut x = Dual::constant(v);
        x.d[k] = 1.0;
        x
    }

    /// `f(self)` from `f`, `f'` and `f''` at `self.v`.
    fn lift(self, f0: f64, f1: f64, f2: f64) -> Self {
        let mut d = [0.0; VARS];
        for (o, x) in d.iter_mut().zip(self.d) {
            *o = f1 * x;
        }
        Dual {
            v: f0,
            d,
            ss: f2 * self.d[0] * self.d[0] + f1 * self.ss,
        }
    }

    fn add(self, o: Dual) -> Self {
        let mut d = self.d;
        for (a, b) in d.iter_mut().zip(o.d) {
            *a += b;
        }
        Dual {
            v: self.v + o.v,
            d,
            ss: self.ss + o.ss,
        }
    }

    fn scale(self, k: f64) -> Self {
        self.lift(k * self.v, k, 0.0)
    }

    fn sub(self, o: Dual) -> Self {
        self.add(o.scale(-1.0))
    }

    fn mul(self, o: Dual) -> Self {
        let mut d = [0.0; VARS];
        for (k, out) in d.iter_mut().enumerate() {
            *out = self.d[k] * o.v + self.v * o.d[k];
        }
        Dual {
            v: self.v * o.v,
            d,
            ss: self.ss * o.v + 2.0 * self.d[0] * o.d[0] + self.v * o.ss,
        }
    }

    fn recip(self) -> Self {
        let r = 1.0 / self.v;
        self.lift(r, -r * r, 2.0 * r * r * r)
    }

    fn exp(self) -> Self {
        let e = exp(self.v);
        self.lift(e, e, e)
    }

    fn sqrt(self) -> Self {
        let r = self.v.sqrt();
        self.lift(r, 0.5 / r, -0.25 / (r * self.v))
    }

    /// `Phi(self)`.
    fn cdf(self) -> Self {
        if self.v.is_infinite() {
            return Dual::constant(if self.v > 0.0 { 1.0 } else { 0.0 });
        }
        let p = density(self.v);
        self.lift(normal_cdf(self.v), p, -self.v * p)
    }

    /// `Phi^-1(self)`.
    fn inverse_cdf(self) -> Self {
        let z = inverse_normal_cdf(self.v);
        let p = density(z);
        self.lift(z, 1.0 / p, z / (p * p))
    }
}

fn density(x: f64) -> f64 {
    exp(-0.5 * x * x) * (0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2)
}

/// The barrier contract, as the estimator needs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Contract {
    pub market: Market,
    pub kind: BarrierKind,
    pub rebate: f64,
    /// `ln(H / S)`.
    pub log_barrier: f64,
}

/// The Greeks `greeks` (in that order, into `out`) of the conditional estimator on
/// the path whose standardized increments are `sign * z` (see the module docs).
pub(super) fn greeks(c: &Contract, z: &[f64], sign: f64, greeks: &[Greek], out: &mut [f64; 5]) {
    let y = estimator(c, z, sign);
    for (k, g) in greeks.iter().enumerate() {
        out[k] = match g {
            Greek::Delta => y.d[0],
            Greek::Gamma => y.ss,
            Greek::Vega => y.d[1],
            Greek::Rho => y.d[2],
            Greek::Theta => y.d[3],
        };
        if c.kind.is_in() {
            out[k] += black_scholes_greek(*g, &c.market);
        }
    }
}

/// The conditional estimator with its derivatives; for a knock-in option, without
/// the vanilla's Black-Scholes part (added by [`greeks`]).
fn estimator(c: &Contract, z: &[f64], sign: f64) -> Dual {
    let m = &c.market;
    let n = z.len();
    let s_side = if c.kind.is_up() { 1.0 } else { -1.0 };
    let spot = Dual::variable(m.spot, 0);
    let log_spot = Dual {
        v: ln(m.spot),
        d: [1.0 / m.spot, 0.0, 0.0, 0.0],
        ss: -1.0 / (m.spot * m.spot),
    };
    let sigma = Dual::variable(m.volatility, 1);
    let rate = Dual::variable(m.rate, 2);
    // ln(H / S): H fixed.
    let level = Dual::constant(c.log_barrier + ln(m.spot)).sub(log_spot);
    let mu = rate
        .sub(Dual::constant(m.dividend))
        .sub(sigma.mul(sigma).scale(0.5));
    let dt = m.maturity / n as f64;
    // The first interval shortens as calendar time moves: length dt - h.
    let first = Dual {
        v: dt,
        d: [0.0, 0.0, 0.0, -1.0],
        ss: 0.0,
    };
    let later = Dual::constant(dt);
    // Each step's drift, volatility and its reciprocal: the first interval's, and
    // every later one's (computed once: a path has up to 100 000 steps).
    let step = |len: Dual| {
        let vol = sigma.mul(len.sqrt());
        (mu.mul(len), vol, vol.recip())
    };
    let (first_step, later_step) = (step(first), step(later));
    let step = |i: usize| if i == 0 { first_step } else { later_step };
    // Discount exp(-r (T - h)).
    let horizon = Dual {
        v: m.maturity,
        d: [0.0, 0.0, 0.0, -1.0],
        ss: 0.0,
    };
    let discount = rate.mul(horizon).scale(-1.0).exp();
    let mut x = Dual::constant(0.0);
    let mut weight = Dual::constant(1.0);
    for (i, &zi) in z.iter().enumerate().take(n - 1) {
        let (drift, vol, inv_vol) = step(i);
        // Survival of this step: s z < a.
        let a = level.sub(x).sub(drift).mul(inv_vol).scale(s_side);
        let zs = if a.v > FAR {
            // Survival is certain to the last bit (Phi(a) rounds to 1, phi(a) <
            // 2e-16): the conditional normal is the path's own, and neither the
            // weight nor the normal moves with the parameters.
            Dual::constant(s_side * sign * zi)
        } else {
            let p = a.cdf();
            let u = normal_cdf(sign * zi);
            weight = weight.mul(p);
            p.scale(u).inverse_cdf()
        };
        x = x.add(drift).add(vol.mul(zs).scale(s_side));
    }
    // The last step, integrated: the payoff where it survives.
    let (drift, vol, inv_vol) = step(n - 1);
    let a = level.sub(x).sub(drift).mul(inv_vol).scale(s_side);
    let p_last = a.cdf();
    // Z's surviving range, and where the option is in the money.
    let (lo, hi) = if s_side > 0.0 {
        (Dual::constant(f64::NEG_INFINITY), a)
    } else {
        (a.scale(-1.0), Dual::constant(f64::INFINITY))
    };
    let b = Dual::constant(ln(m.strike))
        .sub(log_spot)
        .sub(x)
        .sub(drift)
        .mul(inv_vol);
    let phi = m.option.sign();
    let (alpha, beta) = if phi > 0.0 {
        (if b.v > lo.v { b } else { lo }, hi)
    } else {
        (lo, if b.v < hi.v { b } else { hi })
    };
    let vanilla_part = if alpha.v < beta.v {
        // E[(F' e^{vZ} - K) 1{alpha < Z < beta}] with F' = S e^{x + drift}.
        let forward = spot.mul(x.add(drift).add(vol.mul(vol).scale(0.5)).exp());
        let shifted = beta.sub(vol).cdf().sub(alpha.sub(vol).cdf());
        let plain = beta.cdf().sub(alpha.cdf());
        forward.mul(shifted).sub(plain.scale(m.strike)).scale(phi)
    } else {
        Dual::constant(0.0)
    };
    let alive = discount.mul(weight).mul(vanilla_part);
    let survived = weight.mul(p_last);
    let rebate = discount.scale(c.rebate);
    if c.kind.is_in() {
        // BS - D L g + D R P(survive).
        rebate.mul(survived).sub(alive)
    } else {
        alive.add(rebate.mul(Dual::constant(1.0).sub(survived)))
    }
}

/// The conditional estimator's price (its value): the same expectation as the
/// barrier's price, for tests.
#[cfg(test)]
fn price(c: &Contract, z: &[f64], sign: f64) -> f64 {
    let y = estimator(c, z, sign).v;
    if c.kind.is_in() {
        y + super::closed_form::black_scholes(&c.market)
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::super::closed_form::black_scholes;
    use super::super::market::OptionType;
    use super::*;

    fn contract(kind: BarrierKind, option: OptionType, barrier: f64, rebate: f64) -> Contract {
        let market = Market {
            option,
            spot: 100.0,
            strike: 100.0,
            rate: 0.05,
            dividend: 0.01,
            volatility: 0.25,
            maturity: 1.0,
        };
        Contract {
            market,
            kind,
            rebate,
            log_barrier: (barrier / market.spot).ln(),
        }
    }

    /// The derivatives of the estimator on fixed increments are those of its value
    /// by central differences of the parameters (the same uniforms): the chain rule
    /// through the conditional steps and the last step's integral is right.
    #[test]
    fn derivatives_are_those_of_the_value() {
        let z = [0.3, -1.2, 0.8, 0.1, -0.4];
        for (kind, option, barrier) in [
            (BarrierKind::UpAndOut, OptionType::Call, 125.0),
            (BarrierKind::DownAndOut, OptionType::Put, 80.0),
            (BarrierKind::UpAndIn, OptionType::Put, 115.0),
            (BarrierKind::DownAndIn, OptionType::Call, 90.0),
        ] {
            let c = contract(kind, option, barrier, 2.0);
            let y = estimator(&c, &z, 1.0);
            let value = |f: &dyn Fn(&mut Contract)| {
                let mut b = c;
                f(&mut b);
                estimator(&b, &z, 1.0).v
            };
            let h = 1e-5;
            let central = |f: &dyn Fn(&mut Contract, f64)| {
                (value(&|b| f(b, h)) - value(&|b| f(b, -h))) / (2.0 * h)
            };
            // Spot moves the barrier's distance too: H fixed.
            let spot = |b: &mut Contract, e: f64| {
                let hb = c.log_barrier + c.market.spot.ln();
                b.market.spot += e;
                b.log_barrier = hb - b.market.spot.ln();
            };
            let fd_delta = central(&spot);
            let fd_vega = central(&|b, e| b.market.volatility += e);
            let fd_rho = central(&|b, e| b.market.rate += e);
            let g = 1e-3;
            let fd_gamma = (value(&|b| spot(b, g)) - 2.0 * y.v + value(&|b| spot(b, -g))) / (g * g);
            for (name, exact, fd, tol) in [
                ("delta", y.d[0], fd_delta, 1e-6),
                ("vega", y.d[1], fd_vega, 1e-5),
                ("rho", y.d[2], fd_rho, 1e-5),
                ("gamma", y.ss, fd_gamma, 1e-4),
            ] {
                assert!(
                    (exact - fd).abs() < tol * (1.0 + fd.abs()),
                    "{kind:?} {option:?} {name}: {exact} vs {fd}"
                );
            }
        }
    }

    /// One date leaves nothing random: the estimator is the barrier's exact price,
    /// a vanilla option on the surviving side (an up-and-out call at a barrier below
    /// the strike is worthless; an up-and-in call is then the vanilla).
    #[test]
    fn one_date_is_exact() {
        let out = contract(BarrierKind::UpAndOut, OptionType::Call, 1e9, 0.0);
        assert!((price(&out, &[0.7], 1.0) - black_scholes(&out.market)).abs() < 1e-10);
        let dead = contract(BarrierKind::UpAndIn, OptionType::Call, 100.5, 0.0);
        let near = price(&dead, &[-0.2], 1.0);
        assert!(near > 0.0 && near < black_scholes(&dead.market), "{near}");
        let gone = contract(BarrierKind::UpAndOut, OptionType::Call, 1e9, 0.0);
        let mut d = [0.0; 5];
        greeks(&gone, &[0.1], 1.0, &[Greek::Delta], &mut d);
        let bs = black_scholes_greek(Greek::Delta, &gone.market);
        assert!((d[0] - bs).abs() < 1e-9, "{} vs {bs}", d[0]);
    }
}
