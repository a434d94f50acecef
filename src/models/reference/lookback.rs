//! Lookback options under geometric Brownian motion with a dividend yield: continuous
//! monitoring in closed form, discrete monitoring exactly (recursive quadrature) and by
//! the Broadie-Glasserman-Kou correction.
//!
//! The extremum starts at the spot (a new contract): with `M` and `m` the maximum and
//! minimum of the spot over the monitoring dates and `t = 0`,
//! - fixed strike call `max(M - K, 0)`, fixed strike put `max(K - m, 0)`;
//! - floating strike call `S_T - m`, floating strike put `M - S_T`.
//!
//! # Continuous monitoring
//! Goldman, Sosin and Gatto (1979) for the floating strikes, Conze and Viswanathan
//! (1991) for the fixed ones, with the cost of carry `b = r - q` (Haug's forms). Their
//! terms `sigma^2 / (2b) [(S/X)^{-2b/sigma^2} N(.) - e^{bT} N(.)]` are `0/0` at `b = 0`:
//! for small `|b|` the bracket is computed as `sigma^2/2 int_0^1 h'(s b) ds` (16-point
//! Gauss-Legendre of the closed-form derivative), which is exact to rounding and
//! continuous through `b = 0`.
//!
//! # Discrete monitoring, exact: [`discrete`]
//! On `n` equally spaced dates `t_i = i T / n`. Each payoff is a function of one
//! Lindley recursion `W_i = max(W_{i-1} + Z_i, 0)`, `W_0 = 0`, with i.i.d. normal
//! `Z_i`: the distance of the log-spot from its running maximum (floating put, under
//! the share measure), from its running minimum (floating call, share measure), or by
//! time reversal the maximum of the log-spot's walk (fixed call) or minus its minimum
//! (fixed put). The law of `W_n` (an atom at 0 and a density) is propagated date by
//! date by Nystrom's method: 16-point Gauss-Legendre panels no wider than the step's
//! standard deviation on `[0, W_max]` (with a panel edge at a fixed strike's kink), the
//! Gaussian kernel cut beyond 12 standard deviations. Cost `O(n^2)` in the dates at
//! fixed `sigma sqrt T` (see `known_answers::timing`); valid for `n <= 1000`.
//!
//! # Discrete monitoring, approximate: [`discrete_bgk`]
//! Broadie, Glasserman and Kou (1999): the discrete extremum is the continuous one
//! moved by `e^{±beta sigma sqrt(T/n)}`, `beta = -zeta(1/2)/sqrt(2 pi) = 0.5826`: fixed
//! call `e^{-a} C(K e^{a})`, fixed put `e^{a} P(K e^{-a})`, floating put
//! `e^{-a} P + (e^{-a} - 1) S e^{-qT}`, floating call `e^{a} C - (e^{a} - 1) S e^{-qT}`,
//! `a = beta sigma sqrt(T/n)`. An `approx_reference`: its error against [`discrete`]
//! is measured in `tests`.
//!
//! # Validity
//! `spot, strike, volatility, maturity > 0`; finite rate and dividend; `steps` in
//! `1..=1000` for [`discrete`].

use crate::Error;
use crate::math;
use crate::models::options::OptionType;

use super::quadrature::{gauss16, gauss16_nodes};
use super::{finite, positive};

/// Fixed or floating strike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strike {
    /// Pays on the extremum against this strike.
    Fixed(f64),
    /// Pays the spot at expiry against the extremum.
    Floating,
}

/// The parameters of a lookback option.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookbackParams {
    /// Call (on the maximum, or `S_T - m`) or put (on the minimum, or `M - S_T`).
    pub option: OptionType,
    /// Fixed or floating strike.
    pub strike: Strike,
    /// Spot today (the extremum's starting value).
    pub spot: f64,
    /// Risk-free rate.
    pub rate: f64,
    /// Continuous dividend yield.
    pub dividend: f64,
    /// Volatility.
    pub volatility: f64,
    /// Years to expiry.
    pub maturity: f64,
}

/// `beta = -zeta(1/2) / sqrt(2 pi)`.
pub const BGK_BETA: f64 = 0.5825971579390106;
/// Most monitoring dates [`discrete`] takes.
pub const MAX_STEPS: u64 = 1000;

const INV_SQRT_2PI: f64 = 0.3989422804014327;

fn pdf(x: f64) -> f64 {
    INV_SQRT_2PI * math::exp(-0.5 * x * x)
}

impl LookbackParams {
    /// Checks every key; errors name the `model.` key.
    pub fn validate(&self) -> Result<(), Error> {
        positive("spot", self.spot)?;
        if let Strike::Fixed(k) = self.strike {
            positive("strike", k)?;
        }
        finite("rate", self.rate)?;
        finite("dividend", self.dividend)?;
        positive("volatility", self.volatility)?;
        positive("maturity", self.maturity)?;
        Ok(())
    }

    /// `sigma^2/(2b) [e^{-2bL/sigma^2} N(s(d - 2b sqrt T / sigma)) - e^{bT} N(s d)]`,
    /// `d = (L + (b + sigma^2/2) T) / (sigma sqrt T)`, continuous through `b = 0`.
    fn bracket(&self, s: f64, l: f64) -> f64 {
        let (sig, t) = (self.volatility, self.maturity);
        let b = self.rate - self.dividend;
        let st = t.sqrt();
        let sig2 = sig * sig;
        let d = |beta: f64| (l + (beta + 0.5 * sig2) * t) / (sig * st);
        let h = |beta: f64| {
            math::exp(-2.0 * beta * l / sig2)
                * math::normal_cdf(s * (d(beta) - 2.0 * beta * st / sig))
                - math::exp(beta * t) * math::normal_cdf(s * d(beta))
        };
        let scale = t.max(st / sig).max(2.0 * l.abs() / sig2);
        if (b * scale).abs() >= 0.5 {
            return sig2 / (2.0 * b) * h(b);
        }
        // h(0) = 0: h(b) / b = int_0^1 h'(u b) du
        let dh = |beta: f64| {
            let y = d(beta) - 2.0 * beta * st / sig;
            let e1 = math::exp(-2.0 * beta * l / sig2);
            let e2 = math::exp(beta * t);
            e1 * (-(2.0 * l / sig2) * math::normal_cdf(s * y) - s * pdf(y) * st / sig)
                - e2 * (t * math::normal_cdf(s * d(beta)) + s * pdf(d(beta)) * st / sig)
        };
        0.5 * sig2 * gauss16(&mut |u| dh(u * b), 0.0, 1.0)
    }

    /// The continuous-monitoring price with the strike given explicitly.
    fn continuous_at(&self, strike: Strike) -> f64 {
        let (s0, sig, t) = (self.spot, self.volatility, self.maturity);
        let b = self.rate - self.dividend;
        let sd = sig * t.sqrt();
        let disc = math::exp(-self.rate * t);
        let carry = s0 * math::exp(-self.dividend * t);
        let n = math::normal_cdf;
        // the extremum starts at the spot: ln(S / S_extremum) = 0
        let a1 = (b + 0.5 * sig * sig) * t / sd;
        let a2 = a1 - sd;
        let v = match (self.option, strike) {
            (OptionType::Call, Strike::Floating) => {
                carry * n(a1) - s0 * disc * n(a2) + s0 * disc * self.bracket(-1.0, 0.0)
            }
            (OptionType::Put, Strike::Floating) => {
                s0 * disc * n(-a2) - carry * n(-a1) - s0 * disc * self.bracket(1.0, 0.0)
            }
            (OptionType::Call, Strike::Fixed(k)) if k > s0 => {
                let l = math::ln(s0 / k);
                let d1 = (l + (b + 0.5 * sig * sig) * t) / sd;
                carry * n(d1) - k * disc * n(d1 - sd) - s0 * disc * self.bracket(1.0, l)
            }
            (OptionType::Call, Strike::Fixed(k)) => {
                disc * (s0 - k) + carry * n(a1)
                    - s0 * disc * n(a2)
                    - s0 * disc * self.bracket(1.0, 0.0)
            }
            (OptionType::Put, Strike::Fixed(k)) if k < s0 => {
                let l = math::ln(s0 / k);
                let d1 = (l + (b + 0.5 * sig * sig) * t) / sd;
                k * disc * n(-(d1 - sd)) - carry * n(-d1) + s0 * disc * self.bracket(-1.0, l)
            }
            (OptionType::Put, Strike::Fixed(k)) => {
                disc * (k - s0) - carry * n(-a1)
                    + s0 * disc * n(-a2)
                    + s0 * disc * self.bracket(-1.0, 0.0)
            }
        };
        v.max(0.0)
    }
}

/// The continuous-monitoring price (exact).
pub fn continuous(p: &LookbackParams) -> Result<f64, Error> {
    p.validate()?;
    Ok(p.continuous_at(p.strike))
}

/// The Broadie-Glasserman-Kou approximation of the price monitored on `steps` equally
/// spaced dates (an `approx_reference`).
pub fn discrete_bgk(p: &LookbackParams, steps: u64) -> Result<f64, Error> {
    p.validate()?;
    check_steps(steps, u64::MAX)?;
    let a = BGK_BETA * p.volatility * (p.maturity / steps as f64).sqrt();
    let carry = p.spot * math::exp(-p.dividend * p.maturity);
    let v = match (p.option, p.strike) {
        (OptionType::Call, Strike::Fixed(k)) => {
            math::exp(-a) * p.continuous_at(Strike::Fixed(k * math::exp(a)))
        }
        (OptionType::Put, Strike::Fixed(k)) => {
            math::exp(a) * p.continuous_at(Strike::Fixed(k * math::exp(-a)))
        }
        (OptionType::Put, Strike::Floating) => {
            math::exp(-a) * p.continuous_at(Strike::Floating) + math::exp_m1(-a) * carry
        }
        (OptionType::Call, Strike::Floating) => {
            math::exp(a) * p.continuous_at(Strike::Floating) - math::exp_m1(a) * carry
        }
    };
    Ok(v.max(0.0))
}

fn check_steps(steps: u64, max: u64) -> Result<(), Error> {
    if steps == 0 || steps > max {
        return Err(Error::parameter(
            "model.steps",
            format!("must be in 1..={max} for this reference, found {steps}"),
        ));
    }
    Ok(())
}

/// The exact price monitored on `steps` equally spaced dates `i T / steps` (and the
/// spot at `t = 0`), by recursive quadrature of the Lindley recursion (see the module).
pub fn discrete(p: &LookbackParams, steps: u64) -> Result<f64, Error> {
    p.validate()?;
    check_steps(steps, MAX_STEPS)?;
    let (s0, sig, t) = (p.spot, p.volatility, p.maturity);
    let b = p.rate - p.dividend;
    let dt = t / steps as f64;
    let s = sig * dt.sqrt();
    let disc = math::exp(-p.rate * t);
    let carry = s0 * math::exp(-p.dividend * t);
    let half = 0.5 * sig * sig;
    // the step's mean, the payoff g(W), its factor, and a kink of g
    let (mu, kink): (f64, Option<f64>) = match (p.option, p.strike) {
        (OptionType::Put, Strike::Floating) => (-(b + half) * dt, None),
        (OptionType::Call, Strike::Floating) => ((b + half) * dt, None),
        (OptionType::Call, Strike::Fixed(k)) => ((b - half) * dt, Some(math::ln(k / s0))),
        (OptionType::Put, Strike::Fixed(k)) => (-(b - half) * dt, Some(math::ln(s0 / k))),
    };
    let g = |w: f64| -> f64 {
        match (p.option, p.strike) {
            (OptionType::Put, Strike::Floating) => carry * math::exp_m1(w),
            (OptionType::Call, Strike::Floating) => -carry * math::exp_m1(-w),
            (OptionType::Call, Strike::Fixed(k)) => disc * (s0 * math::exp(w) - k).max(0.0),
            (OptionType::Put, Strike::Fixed(k)) => disc * (k - s0 * math::exp(-w)).max(0.0),
        }
    };
    let n = steps as f64;
    // beyond W_max the mass, even tilted by e^W, is below e^-50
    let w_max = mu.max(0.0) * n + 10.0 * s * n.sqrt() + sig * sig * t;
    let mut edges = vec![0.0];
    let push_panels = |from: f64, to: f64, edges: &mut Vec<f64>| {
        let count = ((to - from) / s).ceil().max(1.0) as usize;
        for i in 1..=count {
            edges.push(if i == count {
                to
            } else {
                from + (to - from) * i as f64 / count as f64
            });
        }
    };
    match kink {
        Some(k) if k > 0.0 && k < w_max => {
            push_panels(0.0, k, &mut edges);
            push_panels(k, w_max, &mut edges);
        }
        _ => push_panels(0.0, w_max, &mut edges),
    }
    let mut nodes = Vec::new();
    let mut weights = Vec::new();
    for e in edges.windows(2) {
        for (x, w) in gauss16_nodes(e[0], e[1]) {
            nodes.push(x);
            weights.push(w);
        }
    }
    let size = nodes.len();
    let density = |x: f64| pdf((x - mu) / s) / s;
    // The kernel w_l phi((v_j - v_l - mu) / s) / s, banded: nodes more than 13 s from
    // the kernel's centre contribute below e^-84 of its peak. Row j keeps the columns
    // first[j] .. first[j] + kernel[j].len().
    let mut first = Vec::with_capacity(size);
    let mut kernel = Vec::with_capacity(size);
    for j in 0..size {
        let lo = nodes.partition_point(|&v| v < nodes[j] - mu - 13.0 * s);
        let hi = nodes.partition_point(|&v| v <= nodes[j] - mu + 13.0 * s);
        first.push(lo);
        kernel.push(
            (lo..hi)
                .map(|l| weights[l] * density(nodes[j] - nodes[l]))
                .collect::<Vec<f64>>(),
        );
    }
    // Phi((-v_l - mu) / s): the chance that a step from v_l ends at 0
    let to_zero: Vec<f64> = nodes
        .iter()
        .map(|&v| math::normal_cdf((-v - mu) / s))
        .collect();
    let from_zero: Vec<f64> = nodes.iter().map(|&w| density(w)).collect();
    let stay = math::normal_cdf(-mu / s);
    // W_1 = max(Z, 0): an atom at 0 and the density of Z on (0, inf)
    let mut atom = stay;
    let mut f = from_zero.clone();
    let mut next = vec![0.0; size];
    // Hand-written: the O(steps x nodes x band) loop that is this reference's cost.
    for _ in 1..steps {
        let mut new_atom = atom * stay;
        for l in 0..size {
            new_atom += weights[l] * f[l] * to_zero[l];
        }
        for j in 0..size {
            let mut acc = atom * from_zero[j];
            for (k, &c) in kernel[j].iter().enumerate() {
                acc += c * f[first[j] + k];
            }
            next[j] = acc;
        }
        std::mem::swap(&mut f, &mut next);
        atom = new_atom;
    }
    let mut v = atom * g(0.0);
    for l in 0..size {
        v += weights[l] * f[l] * g(nodes[l]);
    }
    Ok(v.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::reference::black;

    fn params(option: OptionType, strike: Strike) -> LookbackParams {
        LookbackParams {
            option,
            strike,
            spot: 100.0,
            rate: 0.05,
            dividend: 0.02,
            volatility: 0.3,
            maturity: 1.0,
        }
    }

    #[test]
    fn one_date_is_black_scholes() {
        // with one date the extremum of {S, S_T} against the strike is a vanilla payoff
        let bs = |o: OptionType, k: f64| {
            let f = 100.0 * math::exp(0.03);
            black(o, f, k, 0.09, math::exp(-0.05))
        };
        let cases = [
            (
                OptionType::Call,
                Strike::Fixed(110.0),
                bs(OptionType::Call, 110.0),
            ),
            (
                OptionType::Put,
                Strike::Fixed(90.0),
                bs(OptionType::Put, 90.0),
            ),
            (
                OptionType::Put,
                Strike::Floating,
                bs(OptionType::Put, 100.0),
            ),
            (
                OptionType::Call,
                Strike::Floating,
                bs(OptionType::Call, 100.0),
            ),
        ];
        for (o, k, want) in cases {
            let got = discrete(&params(o, k), 1).unwrap();
            assert!((got - want).abs() < 1e-11, "{o:?} {k:?}: {got} vs {want}");
        }
    }

    #[test]
    fn discrete_prices_rise_toward_the_continuous_one() {
        for (o, k) in [
            (OptionType::Call, Strike::Fixed(100.0)),
            (OptionType::Put, Strike::Fixed(105.0)),
            (OptionType::Call, Strike::Floating),
            (OptionType::Put, Strike::Floating),
        ] {
            let p = params(o, k);
            let cont = continuous(&p).unwrap();
            let mut last = 0.0;
            for (steps, tol) in [(4, 0.15), (16, 0.03), (64, 0.005)] {
                let v = discrete(&p, steps).unwrap();
                assert!(v > last && v < cont, "{o:?} {k:?} {steps}: {v} vs {cont}");
                last = v;
                // BGK's error shrinks like 1/steps (Broadie, Glasserman, Kou)
                let bgk = discrete_bgk(&p, steps).unwrap();
                assert!(
                    (bgk - v).abs() < tol * v,
                    "{o:?} {k:?} {steps}: bgk {bgk} vs {v}"
                );
            }
        }
    }

    #[test]
    fn zero_carry_is_continuous() {
        for (o, k) in [
            (OptionType::Call, Strike::Fixed(110.0)),
            (OptionType::Put, Strike::Fixed(90.0)),
            (OptionType::Call, Strike::Fixed(90.0)),
            (OptionType::Call, Strike::Floating),
            (OptionType::Put, Strike::Floating),
        ] {
            let mut p = params(o, k);
            p.dividend = p.rate;
            let at = continuous(&p).unwrap();
            for eps in [1e-12, -1e-9, 1e-6] {
                p.dividend = p.rate + eps;
                let near = continuous(&p).unwrap();
                assert!(
                    (near - at).abs() < 1e-10 + 200.0 * eps.abs(),
                    "{o:?} {k:?} {eps}: {near} vs {at}"
                );
            }
            assert!(at.is_finite() && at > 0.0);
        }
    }

    #[test]
    fn bad_inputs_name_their_key() {
        let p = params(OptionType::Call, Strike::Floating);
        assert!(
            discrete(&p, 0)
                .unwrap_err()
                .to_string()
                .starts_with("model.steps")
        );
        assert!(
            discrete(&p, MAX_STEPS + 1)
                .unwrap_err()
                .to_string()
                .starts_with("model.steps")
        );
        let mut q = p;
        q.volatility = 0.0;
        assert!(
            continuous(&q)
                .unwrap_err()
                .to_string()
                .starts_with("model.volatility")
        );
        let q = params(OptionType::Put, Strike::Fixed(-1.0));
        assert!(
            continuous(&q)
                .unwrap_err()
                .to_string()
                .starts_with("model.strike")
        );
    }
}
