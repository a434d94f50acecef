//! What every option model shares: the contract and market keys of the `[model]`
//! table, their validation, and the variance reduction switches.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::shown;
use crate::model::Key;

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

/// The keys every option model takes: contract, market and variance reduction.
///
/// Each option model's parameter type holds these keys first, then its own, as
/// plain fields (see the `option_params` macro): `#[serde(flatten)]` would hide from serde
/// where in the file a bad value sits.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionParams {
    /// `call` or `put`.
    pub option: OptionType,
    /// Spot price of the underlying today.
    pub spot: f64,
    /// Strike price.
    pub strike: f64,
    /// Risk-free rate, continuously compounded.
    pub rate: f64,
    /// Continuous dividend yield.
    pub dividend: f64,
    /// Volatility of the underlying, per square-root year.
    pub volatility: f64,
    /// Years to expiry.
    pub maturity: f64,
    /// Each sample averages a path and its mirror image.
    pub antithetic: bool,
    /// Correct the estimate with the model's control variate.
    pub control_variate: bool,
}

/// Declares an option model's parameter type: the keys of [`OptionParams`] (in
/// that order, with their defaults), then the model's own fields, and an `option()`
/// method that returns the shared keys.
macro_rules! option_params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident : $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// `call` or `put`.
            pub option: $crate::models::options::OptionType,
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
            /// Greeks to estimate in the same pass (default none). Left out of the
            /// job when empty, so runs without Greeks keep their fingerprints.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub greeks: Vec<$crate::models::options::Greek>,
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $name {
            /// The contract, market and variance reduction keys.
            pub fn option(&self) -> $crate::models::options::OptionParams {
                $crate::models::options::OptionParams {
                    option: self.option,
                    spot: self.spot,
                    strike: self.strike,
                    rate: self.rate,
                    dividend: self.dividend,
                    volatility: self.volatility,
                    maturity: self.maturity,
                    antithetic: self.antithetic,
                    control_variate: self.control_variate,
                }
            }
        }
    };
}
pub(super) use option_params;

/// The documented keys of [`OptionParams`], for an option model's registry entry.
pub(super) fn option_keys() -> Vec<Key> {
    [
        ("option", "\"call\" | \"put\"", "required"),
        ("spot", "float > 0", "spot price today; required"),
        ("strike", "float > 0", "strike; required"),
        (
            "rate",
            "float",
            "risk-free rate, continuously compounded; required",
        ),
        ("dividend", "float, default 0", "continuous dividend yield"),
        ("volatility", "float > 0", "per square-root year; required"),
        ("maturity", "float > 0", "years to expiry; required"),
        (
            "antithetic",
            "bool, default false",
            "a sample averages a path and its mirror",
        ),
        (
            "control_variate",
            "bool, default false",
            "correct with the model's control variate",
        ),
        (
            "greeks",
            "list of \"delta\" \"gamma\" \"vega\" \"rho\" \"theta\", default []",
            "sensitivities estimated in the same pass, each a row (docs/quants.md)",
        ),
    ]
    .into_iter()
    .map(|(name, value, doc)| Key {
        name: name.into(),
        value: value.into(),
        doc: doc.into(),
    })
    .collect()
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
                    format!("must be a finite number, found {}", shown(v)),
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
                    format!("{what} must be positive, found {}", shown(v)),
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

impl OptionParams {
    /// Values that are valid but look like percentages: a volatility above 5 (500%
    /// a year), a rate or dividend yield above 1 (100%) in size. carlo takes 0.2 for
    /// 20%.
    pub fn warnings(&self) -> Vec<String> {
        let mut found = Vec::new();
        if self.volatility > 5.0 {
            found.push(format!(
                "model.volatility = {} is {}% a year: carlo takes volatilities as \
                 fractions (0.2 for 20%)",
                shown(self.volatility),
                shown(self.volatility * 100.0)
            ));
        }
        for (key, value) in [("rate", self.rate), ("dividend", self.dividend)] {
            if value.abs() > 1.0 {
                found.push(format!(
                    "model.{key} = {} is {}% a year: carlo takes rates as fractions \
                     (0.05 for 5%)",
                    shown(value),
                    shown(value * 100.0)
                ));
            }
        }
        found
    }
}

impl Market {
    /// The discount factor to expiry, `exp(-rate * maturity)`, with carlo's own `exp`
    /// (it enters the closed forms that are control means).
    pub fn discount(&self) -> f64 {
        crate::math::exp(-self.rate * self.maturity)
    }

    /// The payoff `max(phi (s - K), 0)` of the vanilla option on spot `s`.
    #[inline(always)]
    pub fn payoff(&self, s: f64) -> f64 {
        (self.option.sign() * (s - self.strike)).max(0.0)
    }
}

/// Which average the option pays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Average {
    /// `(S_1 + ... + S_n) / n`.
    Arithmetic,
    /// `(S_1 ... S_n)^(1/n)`.
    Geometric,
}

/// Which side the barrier is on and what touching it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BarrierKind {
    /// Above the spot; touching it cancels the option.
    UpAndOut,
    /// Above the spot; the option exists only once it was touched.
    UpAndIn,
    /// Below the spot; touching it cancels the option.
    DownAndOut,
    /// Below the spot; the option exists only once it was touched.
    DownAndIn,
}

impl BarrierKind {
    /// Whether the barrier lies above the spot.
    pub fn is_up(self) -> bool {
        matches!(self, BarrierKind::UpAndOut | BarrierKind::UpAndIn)
    }

    /// Whether touching the barrier brings the option into existence.
    pub fn is_in(self) -> bool {
        matches!(self, BarrierKind::UpAndIn | BarrierKind::DownAndIn)
    }
}
