//! Greeks: which sensitivities a run asks for (`greeks = ["delta", ...]` in `[model]`)
//! and their closed forms where carlo has them.
//!
//! Units are QuantLib's: per unit of spot (delta, gamma), per unit of volatility (vega,
//! not per percent), per unit of rate (rho, not per basis point), and theta is the
//! change of value per year of calendar time, `dV/dt`, with every contract date fixed
//! (so usually negative). The Monte Carlo estimators live with the path loop that
//! computes them ([`super::path_estimator`]); this module has the closed forms they are
//! compared with: Black-Scholes-Merton, and the geometric Asian option (both are a
//! lognormal payoff, differentiated here analytically).

use serde::{Deserialize, Serialize};

use super::closed_form::{Lognormal, norm_cdf};
use super::market::Market;
use crate::math;

/// A sensitivity of the price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Greek {
    /// `dV/dS`.
    Delta,
    /// `d2V/dS2`.
    Gamma,
    /// `dV/dsigma`, per unit of volatility.
    Vega,
    /// `dV/dr`, per unit of rate.
    Rho,
    /// `dV/dt`, per year of calendar time (contract dates fixed).
    Theta,
}

impl Greek {
    /// Every Greek, in output order.
    pub const ALL: [Greek; 5] = [
        Greek::Delta,
        Greek::Gamma,
        Greek::Vega,
        Greek::Rho,
        Greek::Theta,
    ];

    /// The name in `greeks` and in the `quantity` column.
    pub fn name(self) -> &'static str {
        match self {
            Greek::Delta => "delta",
            Greek::Gamma => "gamma",
            Greek::Vega => "vega",
            Greek::Rho => "rho",
            Greek::Theta => "theta",
        }
    }
}

/// The Greeks asked for, in output order, or an error naming `model.greeks` for one
/// listed twice.
pub fn checked(greeks: &[Greek]) -> Result<Vec<Greek>, crate::Error> {
    let mut sorted = greeks.to_vec();
    sorted.sort();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(crate::Error::parameter(
            "model.greeks",
            format!("{} is listed twice", w[0].name()),
        ));
    }
    Ok(sorted)
}

/// The error for a model that cannot give Greeks in the same pass.
pub fn refused(kind: &str, why: &str) -> crate::Error {
    crate::Error::parameter(
        "model.greeks",
        format!("model type {kind} has no same-pass Greeks: {why}"),
    )
}

fn norm_pdf(x: f64) -> f64 {
    math::exp(-0.5 * x * x) / (2.0 * std::f64::consts::PI).sqrt()
}

/// Greek `greek` of `P = D phi (F N(phi d1) - K N(phi d2))`, the price of a payoff
/// `max(phi (G - K), 0)` paid at expiry `T` when `ln G` is normal with mean
/// `m = ln S + (r - q - sigma^2 / 2) tau` and variance `v = sigma^2 w`, with
/// `F = exp(m + v / 2)` and `D = exp(-r T)`.
///
/// `tau` and `w` are times: `T` and `T` for the European option; for the geometric
/// average of the spot at dates `t_1..t_n`, the mean date and `sum_ij min(t_i, t_j) /
/// n^2`. Calendar time moving by `dt` moves every date, so `tau`, `w` and `T` all fall
/// by `dt`. The partial derivatives `P_m = D phi F N(phi d1)` and `P_v = P_m / 2 + D F
/// n(d1) / (2 sqrt v)` give every Greek by the chain rule.
fn lognormal_greek(greek: Greek, m: &Market, tau: f64, w: f64) -> f64 {
    let phi = m.option.sign();
    let sigma = m.volatility;
    let drift = m.rate - m.dividend - 0.5 * sigma * sigma;
    let v = sigma * sigma * w;
    let sd = v.sqrt();
    // ln(E[G] / S): the growth of the expectation of the underlying to expiry.
    let growth = drift * tau + 0.5 * v;
    let discount = m.discount();
    let law = Lognormal {
        forward: discount * m.spot * math::exp(growth),
        strike: m.strike * discount,
        log_moneyness: math::ln(m.spot / m.strike) + growth,
        variance: v,
    };
    let (d1, _) = law.d();
    let price = law.option(m.option);
    let p_m = phi * law.forward * norm_cdf(phi * d1);
    let density = law.forward * norm_pdf(d1) / sd;
    let p_v = 0.5 * p_m + 0.5 * density;
    match greek {
        Greek::Delta => p_m / m.spot,
        Greek::Gamma => density / (m.spot * m.spot),
        Greek::Vega => p_m * (-sigma * tau) + p_v * (2.0 * sigma * w),
        Greek::Rho => p_m * tau - m.maturity * price,
        Greek::Theta => -drift * p_m - sigma * sigma * p_v + m.rate * price,
    }
}

/// Black-Scholes-Merton Greek of the European option.
pub fn black_scholes_greek(greek: Greek, m: &Market) -> f64 {
    lognormal_greek(greek, m, m.maturity, m.maturity)
}

/// Greek of the option on the geometric average of the spot at `t_i = i T / n`,
/// `i = 1..n` (the dates fixed in calendar time for theta).
pub fn geometric_asian_greek(greek: Greek, m: &Market, fixings: u64) -> f64 {
    let n = fixings as f64;
    let t = m.maturity;
    let tau = t * (n + 1.0) / (2.0 * n);
    let w = t * (n + 1.0) * (2.0 * n + 1.0) / (6.0 * n * n);
    lognormal_greek(greek, m, tau, w)
}

#[cfg(test)]
mod tests {
    use super::super::closed_form::{black_scholes, geometric_asian};
    use super::super::market::OptionType;
    use super::*;

    fn market(option: OptionType) -> Market {
        Market {
            option,
            spot: 100.0,
            strike: 95.0,
            rate: 0.05,
            dividend: 0.02,
            volatility: 0.25,
            maturity: 1.5,
        }
    }

    /// Central differences of the price formulas, with the calendar theta's dates: a
    /// European option's only date is expiry; the geometric Asian's dates all move,
    /// so its theta is not a change of `maturity` and is checked on the law itself.
    #[test]
    fn greeks_are_the_derivatives_of_the_prices() {
        for option in [OptionType::Call, OptionType::Put] {
            let base = market(option);
            let bump = |f: &dyn Fn(&mut Market, f64), h: f64, price: &dyn Fn(&Market) -> f64| {
                let (mut up, mut down) = (base, base);
                f(&mut up, h);
                f(&mut down, -h);
                (price(&up) - price(&down)) / (2.0 * h)
            };
            let bs = |m: &Market| black_scholes(m);
            let geo = |m: &Market| geometric_asian(m, 12);
            for (price, greek_of) in [
                (
                    &bs as &dyn Fn(&Market) -> f64,
                    &(|g, m: &Market| black_scholes_greek(g, m)) as &dyn Fn(Greek, &Market) -> f64,
                ),
                (&geo, &|g, m: &Market| geometric_asian_greek(g, m, 12)),
            ] {
                let h = 1e-4;
                let delta = bump(&|m, h| m.spot += h, h, price);
                let vega = bump(&|m, h| m.volatility += h, h, price);
                let rho = bump(&|m, h| m.rate += h, h, price);
                let gamma = bump(&|m, h| m.spot += h, 1e-2, &|m: &Market| {
                    greek_of(Greek::Delta, m)
                });
                for (g, fd) in [
                    (Greek::Delta, delta),
                    (Greek::Gamma, gamma),
                    (Greek::Vega, vega),
                    (Greek::Rho, rho),
                ] {
                    let exact = greek_of(g, &base);
                    assert!(
                        (exact - fd).abs() < 1e-6 * exact.abs().max(1.0),
                        "{option:?} {g:?}: {exact} vs {fd}"
                    );
                }
            }
            // The European theta is minus the maturity derivative.
            let theta = -bump(&|m, h| m.maturity += h, 1e-4, &bs);
            let exact = black_scholes_greek(Greek::Theta, &base);
            assert!((exact - theta).abs() < 1e-6, "{exact} vs {theta}");
        }
        // The textbook call theta, q = 0.
        let mut m = market(OptionType::Call);
        m.dividend = 0.0;
        let sd = m.volatility * m.maturity.sqrt();
        let d1 =
            ((m.spot / m.strike).ln() + (m.rate + 0.5 * m.volatility.powi(2)) * m.maturity) / sd;
        let textbook = -m.spot * norm_pdf(d1) * m.volatility / (2.0 * m.maturity.sqrt())
            - m.rate * m.strike * m.discount() * norm_cdf(d1 - sd);
        assert!((black_scholes_greek(Greek::Theta, &m) - textbook).abs() < 1e-12);
    }

    #[test]
    fn geometric_asian_theta_moves_every_date() {
        // The price with every date (and expiry) moved by -h, from the law directly.
        let base = market(OptionType::Call);
        let n = 12.0;
        let price = |h: f64| {
            let t = base.maturity;
            let tau = t * (n + 1.0) / (2.0 * n) - h;
            let w = t * (n + 1.0) * (2.0 * n + 1.0) / (6.0 * n * n) - h;
            let s = base.volatility;
            let mean = base.spot.ln() + (base.rate - base.dividend - 0.5 * s * s) * tau;
            let v = s * s * w;
            let d1 = (mean - base.strike.ln() + v) / v.sqrt();
            let f = (mean + 0.5 * v).exp();
            (-base.rate * (t - h)).exp()
                * (f * norm_cdf(d1) - base.strike * norm_cdf(d1 - v.sqrt()))
        };
        let fd = (price(1e-4) - price(-1e-4)) / 2e-4;
        let exact = geometric_asian_greek(Greek::Theta, &base, 12);
        assert!((exact - fd).abs() < 1e-6, "{exact} vs {fd}");
    }

    #[test]
    fn duplicates_are_refused() {
        assert_eq!(
            checked(&[Greek::Vega, Greek::Delta]).unwrap(),
            [Greek::Delta, Greek::Vega]
        );
        let e = checked(&[Greek::Rho, Greek::Rho]).unwrap_err().to_string();
        assert!(e.contains("model.greeks") && e.contains("rho"), "{e}");
    }
}
