//! The `[simulation]` table: how many samples, the seed, the chunks, the confidence,
//! a target error and the sampler, validated into a [`Simulation`].

use std::path::Path;

use serde::{Deserialize, Deserializer};

use super::Overrides;
use super::job::{QuantityTarget, Target};
use crate::Error;
use crate::random::lanes::BLOCK;
use crate::random::sampler::{DEFAULT_REPLICATES, MAX_REPLICATES, SOBOL_INTERVAL_POINTS, Sampler};

// A Sobol replicate is whole blocks, so it holds at least the points from which the
// coverage study found its interval honest: no run needs 0.2.0's warning of too few.
const _: () = assert!(SOBOL_INTERVAL_POINTS <= BLOCK as u64);
use crate::stats::{MAX_CONFIDENCE, MIN_CONFIDENCE};

/// Default samples per chunk. docs/performance.md says how it was chosen.
pub const DEFAULT_CHUNK_SIZE: u64 = 65_536;

/// Default confidence level of intervals.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;

/// Default samples between two checks of a target error: about four million, so a
/// check (one t quantile) costs nothing next to the blocks it follows.
pub const DEFAULT_CHECK_EVERY: u64 = 1 << 22;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSimulation {
    name: Option<String>,
    #[serde(deserialize_with = "count")]
    samples: u64,
    #[serde(deserialize_with = "seed")]
    seed: u64,
    #[serde(default, deserialize_with = "optional_count")]
    chunk_size: Option<u64>,
    confidence: Option<f64>,
    target_rel_error: Option<TargetError>,
    target_abs_error: Option<TargetError>,
    #[serde(default, deserialize_with = "optional_count")]
    check_every: Option<u64>,
    sampler: Option<SamplerName>,
    #[serde(default, deserialize_with = "optional_count")]
    replicates: Option<u64>,
}

/// A target error: one number (the first quantity's) or a table of them by quantity
/// name (`{ ruin = 1e-3 }`).
#[derive(Debug, Clone, PartialEq)]
enum TargetError {
    First(f64),
    Each(Vec<(String, f64)>),
}

impl<'de> Deserialize<'de> for TargetError {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = TargetError;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a positive number, or a table of them by quantity such as { ruin = 1e-3 }",
                )
            }
            fn visit_f64<E>(self, v: f64) -> Result<TargetError, E> {
                Ok(TargetError::First(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<TargetError, E> {
                Ok(TargetError::First(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<TargetError, E> {
                Ok(TargetError::First(v as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TargetError, A::Error> {
                let mut each = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, f64>()? {
                    each.push((name, value));
                }
                Ok(TargetError::Each(each))
            }
        }
        de.deserialize_any(Visit)
    }
}

/// The `sampler` key's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SamplerName {
    Mc,
    Sobol,
}

/// The `[simulation]` table validated, with the command line's overrides applied.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Simulation {
    pub(super) name: String,
    pub(super) samples: u64,
    pub(super) seed: u64,
    pub(super) chunk_size: u64,
    pub(super) confidence: f64,
    pub(super) target: Option<Target>,
    pub(super) sampler: Sampler,
    /// Valid but probably not meant.
    pub(super) warnings: Vec<String>,
}

/// Validates `[simulation]` of the config at `path`; `invalid(key, reason)` makes the
/// error of a key (pointing at where it was written).
pub(super) fn read(
    sim: RawSimulation,
    path: &Path,
    overrides: &Overrides,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<Simulation, Error> {
    let name = match sim.name {
        Some(name) => name,
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "carlo".into()),
    };
    if name.is_empty() || name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        return Err(invalid(
            "simulation.name",
            format!("must be a non-empty file name without slashes, found {name:?}"),
        ));
    }
    let samples = overrides.samples.unwrap_or(sim.samples);
    if samples < 2 {
        return Err(invalid(
            "simulation.samples",
            format!("must be at least 2 to estimate an error, found {samples}"),
        ));
    }
    let sampler = match (sim.sampler, sim.replicates) {
        (None | Some(SamplerName::Mc), Some(_)) => {
            return Err(invalid(
                "simulation.replicates",
                "counts the randomizations of sampler = \"sobol\"; this run's sampler \
                     is mc"
                    .to_string(),
            ));
        }
        (None | Some(SamplerName::Mc), None) => Sampler::Mc,
        (Some(SamplerName::Sobol), r) => {
            let replicates = r.unwrap_or(DEFAULT_REPLICATES);
            if !(2..=MAX_REPLICATES).contains(&replicates) {
                return Err(invalid(
                    "simulation.replicates",
                    format!(
                        "must be between 2 and {MAX_REPLICATES} (the interval comes from \
                             the spread of the replicate means, which one replicate does not \
                             have), found {replicates}"
                    ),
                ));
            }
            Sampler::Sobol { replicates }
        }
    };
    let block = BLOCK as u64;
    // A scheduling knob since 0.3.0, not part of the result: any size is taken,
    // rounded up to whole blocks, the unit of randomness.
    let given = overrides.chunk_size.or(sim.chunk_size);
    if given == Some(0) {
        let reason = "must be at least 1".to_string();
        return Err(if overrides.chunk_size.is_some() {
            Error::Flag {
                flag: "--chunk-size".into(),
                reason,
            }
        } else {
            invalid("simulation.chunk_size", reason)
        });
    }
    let chunk_size = given
        .unwrap_or(DEFAULT_CHUNK_SIZE)
        .div_ceil(block)
        .saturating_mul(block);
    if let Sampler::Sobol { replicates } = sampler {
        let round = replicates * block;
        if !samples.is_multiple_of(round) {
            return Err(invalid(
                "simulation.samples",
                format!(
                    "with sampler = \"sobol\" samples counts every point of every \
                     replicate, and each replicate's points are whole blocks of {block}: \
                     samples must be a multiple of replicates x {block} = {round}; found \
                     {samples} (try {})",
                    round * (samples / round).max(1).next_power_of_two()
                ),
            ));
        }
    }
    let confidence = sim.confidence.unwrap_or(DEFAULT_CONFIDENCE);
    if !(MIN_CONFIDENCE..=MAX_CONFIDENCE).contains(&confidence) {
        return Err(invalid(
            "simulation.confidence",
            format!(
                "must lie between {MIN_CONFIDENCE:e} and 1 - 1e-12 (intervals beyond are \
                     lost to rounding), found {}",
                crate::error::shown(confidence)
            ),
        ));
    }
    let mut quantities: Vec<QuantityTarget> = Vec::new();
    let mut first = [None, None];
    for (k, (key, value)) in [
        ("simulation.target_rel_error", &sim.target_rel_error),
        ("simulation.target_abs_error", &sim.target_abs_error),
    ]
    .into_iter()
    .enumerate()
    {
        let each = match value {
            None => continue,
            Some(TargetError::First(v)) => {
                first[k] = Some(*v);
                vec![(key.to_string(), *v)]
            }
            Some(TargetError::Each(each)) => {
                if each.is_empty() {
                    return Err(invalid(
                        key,
                        "names no quantity; give a number, or a table such as { ruin = 1e-3 }"
                            .into(),
                    ));
                }
                for (name, v) in each {
                    let at = quantities.iter().position(|q| &q.quantity == name);
                    let q = match at {
                        Some(i) => &mut quantities[i],
                        None => {
                            quantities.push(QuantityTarget {
                                quantity: name.clone(),
                                rel_error: None,
                                abs_error: None,
                            });
                            quantities.last_mut().expect("just pushed")
                        }
                    };
                    *(if k == 0 {
                        &mut q.rel_error
                    } else {
                        &mut q.abs_error
                    }) = Some(*v);
                }
                each.iter()
                    .map(|(n, v)| (format!("{key}.{n}"), *v))
                    .collect()
            }
        };
        for (key, v) in each {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(
                    &key,
                    format!(
                        "must be a positive finite number, found {}",
                        crate::error::shown(v)
                    ),
                ));
            }
        }
    }
    // Checks happen after whole rounds of blocks: one block with mc, one per
    // replicate with sobol, so that every replicate holds the same points. Any count
    // of samples is taken, rounded up to whole rounds.
    let round = sampler.replicates().unwrap_or(1) * block;
    let check_every = sim.check_every.unwrap_or(DEFAULT_CHECK_EVERY);
    if check_every == 0 {
        return Err(invalid(
            "simulation.check_every",
            "counts the samples between two checks of the target: must be at least 1".to_string(),
        ));
    }
    let check_every = check_every.div_ceil(round).saturating_mul(round);
    let check_every = check_every / block;
    // Without a target `check_every` has nothing to check, and leaving it out of
    // the job keeps such a run's fingerprint that of the same run without it.
    let target =
        (sim.target_rel_error.is_some() || sim.target_abs_error.is_some()).then_some(Target {
            rel_error: first[0],
            abs_error: first[1],
            check_every,
            quantities,
        });
    let seed = overrides.seed.unwrap_or(sim.seed);
    let mut warnings = Vec::new();
    if let Sampler::Sobol { replicates } = sampler
        && !(samples / replicates).is_power_of_two()
    {
        warnings.push(format!(
            "simulation.samples = {samples} gives each of the {replicates} replicates \
                 {} points, not a power of two: Sobol points are evenly spread at powers of \
                 two, and the error is larger in between",
            samples / replicates
        ));
    }
    if let Sampler::Sobol { replicates } = sampler
        && replicates < DEFAULT_REPLICATES
    {
        warnings.push(format!(
            "simulation.replicates = {replicates}: with fewer than {DEFAULT_REPLICATES} \
             replicates the interval of a one-sided payoff (a European call or put, whose \
             replicate means are skewed) covers less than its confidence (docs/quants.md, \
             results/studies/coverage.csv)"
        ));
    }
    Ok(Simulation {
        name,
        samples,
        seed,
        chunk_size,
        confidence,
        target,
        sampler,
        warnings,
    })
}

/// A count written as an integer (`1_000_000`) or as a float with an integral
/// value (`1e6`), which TOML users write for large sample counts.
fn count<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    de.deserialize_any(Whole {
        what: "a non-negative count such as 1000000 or 1e6",
        text: false,
    })
}

/// A seed: any `u64`, as an integer or, above TOML's `i64::MAX`, as a string of
/// digits (`seed = "18446744073709551615"`).
fn seed<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    de.deserialize_any(Whole {
        what: "a seed from 0 to 2^64 - 1 (as a number, or in quotes above \
               9223372036854775807)",
        text: true,
    })
}

/// Reads a whole number from 0 to `u64::MAX` from any number (or, with `text`, a
/// string of digits), with an error in a config's words, never serde's.
struct Whole {
    what: &'static str,
    text: bool,
}

impl Whole {
    fn refuse<E: serde::de::Error>(&self, found: &str) -> E {
        E::custom(format!("expected {}, found {found}", self.what))
    }
}

impl serde::de::Visitor<'_> for Whole {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| self.refuse(&v.to_string()))
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| self.refuse("a number beyond that range"))
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| self.refuse("a number beyond that range"))
    }

    fn visit_f64<E: serde::de::Error>(self, f: f64) -> Result<u64, E> {
        if !self.text && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 {
            Ok(f as u64)
        } else {
            Err(self.refuse(&crate::error::shown(f)))
        }
    }

    fn visit_str<E: serde::de::Error>(self, t: &str) -> Result<u64, E> {
        match t.trim().parse::<u64>() {
            Ok(v) if self.text => Ok(v),
            _ => Err(self.refuse(&format!("{:?}", super::document::short(t)))),
        }
    }

    fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<u64, E> {
        Err(self.refuse(&b.to_string()))
    }
}

fn optional_count<'de, D: Deserializer<'de>>(de: D) -> Result<Option<u64>, D::Error> {
    count(de).map(Some)
}

/// Parses a count given on the command line: `1000000`, `1_000_000` or `1e6`.
pub fn parse_count(text: &str) -> Result<u64, String> {
    let plain = text.replace('_', "");
    if let Ok(n) = plain.parse::<u64>() {
        return Ok(n);
    }
    match plain.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
        _ => Err(format!(
            "expected a non-negative whole number such as 1000000, 1_000_000 or 1e6, found '{text}'"
        )),
    }
}
