//! What every option model shares: the contract and market keys of the `[model]`
//! table, their validation, and the variance reduction switches.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptionType {
    /// Pays `max(S - K, 0)`.
    Call,
    /// Pays `max(K - S, 0)`.
    Put,
}

impl OptionType {
    /// `+1` for a call, `-1` for a put: the payoff is `max(phi (S - K), 0)`.
    pub fn sign(self) -> f64 {
        match self {
            OptionType::Call => 1.0,
            OptionType::Put => -1.0,
        }
    }
}

/// The keys every option model takes, as written in the `[model]` table.
///
/// Models embed it with `#[serde(flatten)]` next to their own keys; the model's
/// struct denies unknown keys for both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionParams {
    /// `call` or `put`.
    pub option: OptionType,
    /// Spot price of the underlying today.
    pub spot: f64,
    /// Strike price.
    pub strike: f64,
    /// Risk-free rate, continuously compounded.
    pub rate: f64,
    /// Continuous dividend yield (default 0).
    #[serde(default)]
    pub dividend: f64,
    /// Volatility of the underlying, per square-root year.
    pub volatility: f64,
    /// Years to expiry.
    pub maturity: f64,
    /// Each sample averages a path and its mirror image (default false).
    #[serde(default)]
    pub antithetic: bool,
    /// Correct the estimate with the model's control variate (default false).
    #[serde(default)]
    pub control_variate: bool,
}

/// A validated market and contract: geometric Brownian motion with risk-neutral
/// drift `rate - dividend` and constant volatility.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Market {
    /// Call or put.
    pub option: OptionType,
    /// Spot today.
    pub spot: f64,
    /// Strike.
    pub strike: f64,
    /// Risk-free rate.
    pub rate: f64,
    /// Dividend yield.
    pub dividend: f64,
    /// Volatility.
    pub volatility: f64,
    /// Years to expiry.
    pub maturity: f64,
}

/// Variance reduction switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reduction {
    /// Average each path with its mirror image.
    pub antithetic: bool,
    /// Record and use a control variate.
    pub control_variate: bool,
}

impl OptionParams {
    /// Checks the market keys; errors name the `model.` key.
    pub fn validate(&self) -> Result<(Market, Reduction), Error> {
        let finite = |key: &str, v: f64| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err(Error::parameter(
                    &format!("model.{key}"),
                    format!("must be a finite number, found {v}"),
                ))
            }
        };
        let positive = |key: &str, v: f64, what: &str| {
            finite(key, v)?;
            if v > 0.0 {
                Ok(v)
            } else {
                Err(Error::parameter(
                    &format!("model.{key}"),
                    format!("{what} must be positive, found {v}"),
                ))
            }
        };
        let market = Market {
            option: self.option,
            spot: positive("spot", self.spot, "the spot price")?,
            strike: positive("strike", self.strike, "the strike")?,
            rate: finite("rate", self.rate)?,
            dividend: finite("dividend", self.dividend)?,
            volatility: positive("volatility", self.volatility, "the volatility")?,
            maturity: positive("maturity", self.maturity, "the maturity (in years)")?,
        };
        let reduction = Reduction {
            antithetic: self.antithetic,
            control_variate: self.control_variate,
        };
        Ok((market, reduction))
    }
}

impl Market {
    /// The discount factor to expiry, `exp(-rate * maturity)`.
    pub fn discount(&self) -> f64 {
        (-self.rate * self.maturity).exp()
    }

    /// The payoff `max(phi (s - K), 0)` of the vanilla option on spot `s`.
    #[inline(always)]
    pub fn payoff(&self, s: f64) -> f64 {
        (self.option.sign() * (s - self.strike)).max(0.0)
    }
}
