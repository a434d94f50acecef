//! Binomial lattices: the references of options with early exercise.
//!
//! A lattice of `N` steps prices an option that may be exercised at every node (an
//! American option) or at the nodes of given dates only (a Bermudan option, the one
//! a Longstaff-Schwartz estimate with `steps` exercise dates prices). Its error falls
//! as `1/N`, which Richardson's extrapolation `2 P(2N) - P(N)` removes.
//!
//! The lattice is Cox-Ross-Rubinstein's (`u = e^{sigma sqrt(dt)}`, `d = 1/u`, the
//! spot of an at-the-money strike on a node), except where CRR's up-probability
//! would leave (0, 1): at very low volatility over long steps, where the drift
//! outruns `sigma sqrt(dt)`. There the tree is centred on the drift (Jarrow-Rudd,
//! with the risk-neutral probability), which is valid whenever `sigma^2 dt < 4`.

use super::market::Market;

/// Steps of the finer tree of the American reference (an even number, so that an
/// at-the-money strike sits on a node and the price converges smoothly).
pub(crate) const TREE_STEPS: usize = 2500;

/// Fewest steps of the coarser of a Bermudan reference's two trees.
const BERMUDAN_STEPS: usize = 1250;

/// A recombining binomial lattice of `steps` steps over a market's maturity.
struct Lattice {
    steps: usize,
    /// Discounted probabilities of an up and a down move.
    pu: f64,
    pd: f64,
    /// `e^{n c dt}` for level `n`: the drift of the nodes' centre (1 for CRR).
    level: Vec<f64>,
    /// `S e^{k sigma sqrt(dt)}` for `k = -steps..=steps`, offset by `steps`.
    spread: Vec<f64>,
}

impl Lattice {
    fn new(m: &Market, steps: usize) -> Self {
        let dt = m.maturity / steps as f64;
        let jump = m.volatility * dt.sqrt();
        let growth = ((m.rate - m.dividend) * dt).exp();
        let discount = (-m.rate * dt).exp();
        // CRR when its probability is a probability, else centred on the drift.
        let crr = {
            let (up, down) = (jump.exp(), (-jump).exp());
            (growth - down) / (up - down)
        };
        let centre = if crr > 0.0 && crr < 1.0 {
            0.0
        } else {
            m.rate - m.dividend - 0.5 * m.volatility * m.volatility
        };
        let (up, down) = ((centre * dt + jump).exp(), (centre * dt - jump).exp());
        let p = (growth - down) / (up - down);
        Lattice {
            steps,
            pu: discount * p,
            pd: discount * (1.0 - p),
            level: (0..=steps)
                .map(|n| (centre * dt * n as f64).exp())
                .collect(),
            spread: (0..=2 * steps)
                .map(|k| m.spot * (jump * (k as f64 - steps as f64)).exp())
                .collect(),
        }
    }

    /// The spot at level `n` after `j` up moves.
    fn spot(&self, n: usize, j: usize) -> f64 {
        self.level[n] * self.spread[self.steps + 2 * j - n]
    }

    /// The option's value, with exercise allowed at the levels where `exercise`
    /// says so.
    fn price(&self, m: &Market, exercise: impl Fn(usize) -> bool) -> f64 {
        let n = self.steps;
        let mut values: Vec<f64> = (0..=n).map(|j| m.payoff(self.spot(n, j))).collect();
        self.roll(m, &mut values, n, exercise)
    }

    /// Rolls `values`, the option at level `n`, back to level 0.
    fn roll(
        &self,
        m: &Market,
        values: &mut [f64],
        n: usize,
        exercise: impl Fn(usize) -> bool,
    ) -> f64 {
        for level in (0..n).rev() {
            let early = exercise(level);
            for j in 0..=level {
                let hold = self.pu * values[j + 1] + self.pd * values[j];
                values[j] = if early {
                    hold.max(m.payoff(self.spot(level, j)))
                } else {
                    hold
                };
            }
        }
        values[0]
    }
}

/// The American option's price on a lattice of `steps` steps, with early exercise
/// allowed at every node.
pub(crate) fn american_tree(m: &Market, steps: usize) -> f64 {
    Lattice::new(m, steps).price(m, |_| true)
}

/// The Bermudan option's price on a lattice of `per_date * dates` steps, with
/// exercise allowed at the dates `t_i = i T / dates`, `i = 1..=dates` (the last is
/// expiry).
pub(crate) fn bermudan_tree(m: &Market, dates: usize, per_date: usize) -> f64 {
    Lattice::new(m, dates * per_date).price(m, |level| level > 0 && level % per_date == 0)
}

/// The American reference: Richardson's extrapolation `2 P(2N) - P(N)` of trees with
/// `N = TREE_STEPS / 2` and [`TREE_STEPS`] steps, which removes the `1/N` term of
/// the tree's error.
///
/// At the reference market the even trees give 6.089595, 6.089990, 6.090181 for
/// 1000, 2000, 4000 steps (the error halves with each doubling) and the
/// extrapolations from both the even and the odd trees agree on 6.09038, so the
/// reference is good to well beyond 4 significant digits. (Simply averaging the
/// trees of N and N + 1 steps leaves about 1.5e-4.)
pub(crate) fn american_reference(m: &Market) -> f64 {
    2.0 * american_tree(m, TREE_STEPS) - american_tree(m, TREE_STEPS / 2)
}

/// The Bermudan reference for exercise at `dates` equally spaced dates: Richardson's
/// extrapolation of two lattices whose steps are whole multiples of the dates (at
/// least [`BERMUDAN_STEPS`] and twice that), so that every date falls on a level.
/// At the reference market (a put, 50 dates) it is 6.07866, where the trees of
/// 20,000 and 40,000 steps extrapolate to 6.07863 (the trees' differences halve
/// with each doubling from 5,000 steps on): good to about 3e-5, a hundredth of the
/// standard error of a million paths.
pub(crate) fn bermudan_reference(m: &Market, dates: usize) -> f64 {
    let per_date = BERMUDAN_STEPS.div_ceil(dates).max(1);
    2.0 * bermudan_tree(m, dates, 2 * per_date) - bermudan_tree(m, dates, per_date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::OptionType;
    use crate::models::options::closed_form::black_scholes;
    use crate::models::options::closed_form::tests::reference_market;

    #[test]
    fn matches_quantlib_crr_and_the_american_put_value() {
        let put = reference_market(OptionType::Put);
        // QuantLib's BinomialVanillaEngine(crr) with 2000 steps is 6.090003; its
        // CRR tree takes the up probability from the log drift, 1.3e-5 away.
        assert!((american_tree(&put, 2000) - 6.090003).abs() < 3e-5);
        // Four significant digits of the American put (the extrapolation of both
        // even and odd trees is 6.09038; QuantLib's finite differences 6.090074).
        assert!((american_reference(&put) - 6.0904).abs() < 1e-4);
    }

    #[test]
    fn an_american_call_without_dividends_is_european() {
        let call = reference_market(OptionType::Call);
        assert!((american_reference(&call) - black_scholes(&call)).abs() < 1e-3);
        assert!((bermudan_reference(&call, 50) - black_scholes(&call)).abs() < 1e-3);
    }

    #[test]
    fn a_bermudan_lies_between_the_european_and_the_american() {
        let put = reference_market(OptionType::Put);
        let european = black_scholes(&put);
        let american = american_reference(&put);
        let one = bermudan_reference(&put, 1);
        assert!((one - european).abs() < 1e-3, "one date is European: {one}");
        let mut previous = one;
        for dates in [2, 10, 50, 250] {
            let b = bermudan_reference(&put, dates);
            assert!(b > previous && b < american, "{dates} dates: {b}");
            previous = b;
        }
    }

    #[test]
    fn the_lattice_stays_valid_at_tiny_volatility_over_long_maturities() {
        // CRR's up-probability would be above 1 here; the centred tree stays valid,
        // and a put far in the money is worth its exercise value at once.
        let mut put = reference_market(OptionType::Put);
        put.volatility = 0.0005;
        put.maturity = 30.0;
        for price in [american_reference(&put), bermudan_reference(&put, 50)] {
            assert!(price.is_finite() && price >= 0.0, "{price}");
        }
        // With no volatility to speak of, the call pays its forward's value.
        let mut call = reference_market(OptionType::Call);
        call.volatility = 1e-4;
        call.maturity = 30.0;
        let forward = call.spot - call.strike * (-call.rate * call.maturity).exp();
        assert!((american_reference(&call) - forward).abs() < 1e-3);
    }
}
