//! Piecewise-flat term structures for `rate`, `dividend` and `volatility`, and the
//! Black-Scholes price under them.
//!
//! A config gives a key either a number or a table:
//!
//! ```toml
//! rate = 0.05
//! volatility = { times = [0.5, 1.0, 2.0], values = [0.2, 0.25, 0.3] }
//! ```
//!
//! `values[i]` applies on `(times[i-1], times[i]]` (with `times[-1] = 0`): the first
//! value from today to `times[0]`, the last up to `times[n-1]`. **The table must cover
//! the maturity** (`times[n-1] >= maturity`): carlo does not extrapolate silently; a
//! curve that ends before the maturity is an error that says so. Times must be
//! positive and strictly increasing, the two arrays of one length (at least one
//! entry), every value finite, and volatilities not negative.
//!
//! The integrals `int_0^t` of the value and of its square are sums over the pieces in
//! time order (fixed order, so fixed bits); under a curve the European option is
//! Black-Scholes with `R = int r`, `Q = int q` and `V = int sigma^2` ([`black_scholes`]).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::Error;
use crate::math;
use crate::models::options::OptionType;

use super::{black, positive};

/// A number, or a piecewise-flat curve of time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Curve {
    /// The same value at all times.
    Flat(f64),
    /// `values[i]` on `(times[i-1], times[i]]`.
    Table {
        /// Right ends of the pieces, in years, increasing.
        times: Vec<f64>,
        /// The value on each piece.
        values: Vec<f64>,
    },
}

/// What a curve holds, for its validation and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveKind {
    /// A rate or a yield: any finite value.
    Rate,
    /// A volatility: not negative.
    Volatility,
}

impl Curve {
    /// Checks the curve for the key `model.{key}` up to `maturity`; errors name the key
    /// and say what to fix.
    pub fn validate(&self, key: &str, kind: CurveKind, maturity: f64) -> Result<(), Error> {
        let err = |reason: String| Error::parameter(&format!("model.{key}"), reason);
        let check_value = |v: f64, at: String| -> Result<(), Error> {
            if !v.is_finite() {
                return Err(err(format!("must be a finite number{at}, found {v}")));
            }
            if kind == CurveKind::Volatility && v < 0.0 {
                return Err(err(format!(
                    "a volatility cannot be negative{at}, found {v}"
                )));
            }
            Ok(())
        };
        match self {
            Curve::Flat(v) => check_value(*v, String::new()),
            Curve::Table { times, values } => {
                if times.len() != values.len() {
                    return Err(err(format!(
                        "times has {} entries but values has {}: give one value per time",
                        times.len(),
                        values.len()
                    )));
                }
                if times.is_empty() {
                    return Err(err("the curve needs at least one time and value".into()));
                }
                let mut prev = 0.0;
                for (i, &t) in times.iter().enumerate() {
                    if !(t.is_finite() && t > prev) {
                        return Err(err(if i == 0 {
                            format!("times must be positive and increasing, found times[0] = {t}")
                        } else {
                            format!(
                                "times must be strictly increasing, found times[{i}] = {t} after times[{}] = {prev}",
                                i - 1
                            )
                        }));
                    }
                    prev = t;
                }
                for (i, &v) in values.iter().enumerate() {
                    check_value(v, format!(" (values[{i}])"))?;
                }
                if prev < maturity {
                    return Err(err(format!(
                        "the curve ends at t = {prev}, before the maturity {maturity}: \
                         extend its last time to at least {maturity}"
                    )));
                }
                Ok(())
            }
        }
    }

    /// The value that applies at time `t` (the piece `(times[i-1], times[i]]` that
    /// holds `t`; the first piece at `t = 0`, the last beyond the table).
    pub fn value_at(&self, t: f64) -> f64 {
        match self {
            Curve::Flat(v) => *v,
            Curve::Table { times, values } => {
                let i = times.partition_point(|&ti| ti < t).min(values.len() - 1);
                values[i]
            }
        }
    }

    /// `int_0^t value(s) ds`.
    pub fn integral(&self, t: f64) -> f64 {
        self.integrate(t, |v| v)
    }

    /// `int_0^t value(s)^2 ds`: the integrated variance of a volatility curve.
    pub fn integral_of_square(&self, t: f64) -> f64 {
        self.integrate(t, |v| v * v)
    }

    fn integrate(&self, t: f64, f: impl Fn(f64) -> f64) -> f64 {
        match self {
            Curve::Flat(v) => f(*v) * t,
            Curve::Table { times, values } => {
                let mut sum = 0.0;
                let mut start = 0.0;
                for (i, &end) in times.iter().enumerate() {
                    let stop = if i + 1 == times.len() { t } else { end.min(t) };
                    if stop > start {
                        sum += f(values[i]) * (stop - start);
                    }
                    if end >= t {
                        break;
                    }
                    start = end;
                }
                sum
            }
        }
    }
}

impl From<f64> for Curve {
    fn from(v: f64) -> Curve {
        Curve::Flat(v)
    }
}

impl<'de> Deserialize<'de> for Curve {
    /// A number (integer or float) or a table `{ times = [...], values = [...] }`
    /// with no other keys.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Curve, D::Error> {
        struct CurveVisitor;
        impl<'de> Visitor<'de> for CurveVisitor {
            type Value = Curve;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a table { times = [...], values = [...] }")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Curve, E> {
                Ok(Curve::Flat(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Curve, E> {
                Ok(Curve::Flat(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Curve, E> {
                Ok(Curve::Flat(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Curve, A::Error> {
                let mut times: Option<Vec<f64>> = None;
                let mut values: Option<Vec<f64>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "times" if times.is_none() => times = Some(map.next_value()?),
                        "values" if values.is_none() => values = Some(map.next_value()?),
                        "times" | "values" => {
                            return Err(de::Error::duplicate_field("times or values"));
                        }
                        other => return Err(de::Error::unknown_field(other, &["times", "values"])),
                    }
                }
                Ok(Curve::Table {
                    times: times.ok_or_else(|| de::Error::missing_field("times"))?,
                    values: values.ok_or_else(|| de::Error::missing_field("values"))?,
                })
            }
        }
        d.deserialize_any(CurveVisitor)
    }
}

/// The European option's exact price under piecewise-flat rate, dividend and
/// volatility curves (each validated here against `maturity`; errors name
/// `model.rate`, `model.dividend`, `model.volatility`).
pub fn black_scholes(
    option: OptionType,
    spot: f64,
    strike: f64,
    rate: &Curve,
    dividend: &Curve,
    volatility: &Curve,
    maturity: f64,
) -> Result<f64, Error> {
    positive("spot", spot)?;
    positive("strike", strike)?;
    positive("maturity", maturity)?;
    rate.validate("rate", CurveKind::Rate, maturity)?;
    dividend.validate("dividend", CurveKind::Rate, maturity)?;
    volatility.validate("volatility", CurveKind::Volatility, maturity)?;
    let r = rate.integral(maturity);
    let q = dividend.integral(maturity);
    let v = volatility.integral_of_square(maturity);
    let forward = spot * math::exp(r - q);
    Ok(black(option, forward, strike, v, math::exp(-r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(times: &[f64], values: &[f64]) -> Curve {
        Curve::Table {
            times: times.to_vec(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn integrals_and_lookup() {
        let c = table(&[0.5, 1.0, 2.0], &[0.2, 0.3, 0.4]);
        assert!((c.integral(1.5) - (0.1 + 0.15 + 0.2)).abs() < 1e-15);
        assert!((c.integral(0.25) - 0.05).abs() < 1e-15);
        assert!((c.integral_of_square(2.0) - (0.02 + 0.045 + 0.16)).abs() < 1e-15);
        assert_eq!(c.integral(0.0), 0.0);
        assert_eq!(c.value_at(0.0), 0.2);
        assert_eq!(c.value_at(0.5), 0.2);
        assert_eq!(c.value_at(0.5000001), 0.3);
        assert_eq!(c.value_at(5.0), 0.4);
        assert_eq!(Curve::Flat(0.3).integral(2.0), 0.6);
    }

    #[test]
    fn flat_curves_give_black_scholes() {
        let flat = black_scholes(
            OptionType::Call,
            100.0,
            95.0,
            &0.05.into(),
            &0.01.into(),
            &0.2.into(),
            1.0,
        )
        .unwrap();
        let tab = black_scholes(
            OptionType::Call,
            100.0,
            95.0,
            &table(&[0.3, 1.0], &[0.05, 0.05]),
            &table(&[2.0], &[0.01]),
            &table(&[0.5, 1.0], &[0.2, 0.2]),
            1.0,
        )
        .unwrap();
        assert!((flat - tab).abs() < 1e-12, "{flat} {tab}");
    }

    #[test]
    fn bad_curves_name_the_key() {
        let check = |c: Curve, kind, want: &str| {
            let e = c.validate("volatility", kind, 1.0).unwrap_err().to_string();
            assert!(e.starts_with("model.volatility") && e.contains(want), "{e}");
        };
        check(
            table(&[0.5, 0.4], &[0.2, 0.2]),
            CurveKind::Volatility,
            "strictly increasing",
        );
        check(
            table(&[0.0, 1.0], &[0.2, 0.2]),
            CurveKind::Volatility,
            "positive and increasing",
        );
        check(
            table(&[0.5, 1.0], &[0.2]),
            CurveKind::Volatility,
            "one value per time",
        );
        check(
            table(&[0.5], &[0.2]),
            CurveKind::Volatility,
            "before the maturity 1",
        );
        check(
            table(&[1.0], &[-0.2]),
            CurveKind::Volatility,
            "cannot be negative",
        );
        check(
            Curve::Flat(-0.1),
            CurveKind::Volatility,
            "cannot be negative",
        );
        check(table(&[1.0], &[f64::NAN]), CurveKind::Rate, "finite");
        assert!(
            table(&[1.0], &[-0.02])
                .validate("rate", CurveKind::Rate, 1.0)
                .is_ok()
        );
    }

    #[test]
    fn deserializes_from_a_number_or_a_table() {
        #[derive(Deserialize)]
        struct M {
            rate: Curve,
            volatility: Curve,
            dividend: Curve,
        }
        let m: M = toml::from_str(
            "rate = 0.05\ndividend = 0\nvolatility = { times = [0.5, 1], values = [0.2, 0.3] }",
        )
        .unwrap();
        assert_eq!(m.rate, Curve::Flat(0.05));
        assert_eq!(m.dividend, Curve::Flat(0.0));
        assert_eq!(m.volatility, table(&[0.5, 1.0], &[0.2, 0.3]));
        let e = toml::from_str::<M>(
            "rate = 0.05\ndividend = 0\nvolatility = { times = [1], value = [0.2] }",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("unknown field `value`"), "{e}");
        let e = toml::from_str::<M>("rate = \"x\"\ndividend = 0\nvolatility = 0.2")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("a number or a table"), "{e}");
    }
}
