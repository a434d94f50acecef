//! The `[simulation]` table: how many samples, the seed, the chunks, the confidence,
//! a target error and the sampler, validated into a [`Simulation`].

use std::path::Path;

use serde::{Deserialize, Deserializer};

use super::Overrides;
use super::job::Target;
use crate::Error;
use crate::random::lanes::BLOCK;
use crate::random::sampler::{DEFAULT_REPLICATES, MAX_REPLICATES, Sampler};
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
    target_rel_error: Option<f64>,
    target_abs_error: Option<f64>,
    #[serde(default, deserialize_with = "optional_count")]
    check_every: Option<u64>,
    sampler: Option<SamplerName>,
    #[serde(default, deserialize_with = "optional_count")]
    replicates: Option<u64>,
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
    let chunk_size = overrides
        .chunk_size
        .or(sim.chunk_size)
        .unwrap_or(DEFAULT_CHUNK_SIZE);
    if chunk_size == 0 || !chunk_size.is_multiple_of(block) {
        let reason = format!(
            "must be a whole number of blocks of {block} samples (a block is carlo's unit \
             of randomness), found {chunk_size} (try {})",
            chunk_size.div_ceil(block).max(1) * block
        );
        return Err(if overrides.chunk_size.is_some() {
            Error::Flag {
                flag: "--chunk-size".into(),
                reason,
            }
        } else {
            invalid("simulation.chunk_size", reason)
        });
    }
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
                     lost to rounding), found {confidence}"
            ),
        ));
    }
    for (key, value) in [
        ("simulation.target_rel_error", sim.target_rel_error),
        ("simulation.target_abs_error", sim.target_abs_error),
    ] {
        if let Some(v) = value
            && !(v.is_finite() && v > 0.0)
        {
            return Err(invalid(
                key,
                format!("must be a positive finite number, found {v}"),
            ));
        }
    }
    // Checks happen after whole rounds of blocks: one block with mc, one per
    // replicate with sobol, so that every replicate holds the same points.
    let round = sampler.replicates().unwrap_or(1) * block;
    let check_every = sim
        .check_every
        .unwrap_or(round * DEFAULT_CHECK_EVERY.div_ceil(round));
    if check_every == 0 || !check_every.is_multiple_of(round) {
        return Err(invalid(
            "simulation.check_every",
            format!(
                "counts the samples between two checks of the target, a whole number of \
                 rounds of {round} samples ({}); found {check_every} (try {})",
                if round == block {
                    format!("blocks of {block}")
                } else {
                    format!("a block of {block} per replicate")
                },
                check_every.div_ceil(round).max(1) * round
            ),
        ));
    }
    let check_every = check_every / block;
    // Without a target `check_every` has nothing to check, and leaving it out of
    // the job keeps such a run's fingerprint that of the same run without it.
    let target =
        (sim.target_rel_error.is_some() || sim.target_abs_error.is_some()).then_some(Target {
            rel_error: sim.target_rel_error,
            abs_error: sim.target_abs_error,
            check_every,
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
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(i64),
        Float(f64),
    }
    match Number::deserialize(de)? {
        Number::Int(i) if i >= 0 => Ok(i as u64),
        Number::Float(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
        Number::Int(i) => Err(serde::de::Error::custom(format!(
            "expected a non-negative count, found {i}"
        ))),
        Number::Float(f) => Err(serde::de::Error::custom(format!(
            "expected a non-negative whole count, found {f}"
        ))),
    }
}

/// A seed: any `u64`, as an integer or, above TOML's `i64::MAX`, as a string of
/// digits (`seed = "18446744073709551615"`).
fn seed<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seed {
        Int(i64),
        Text(String),
    }
    match Seed::deserialize(de)? {
        Seed::Int(i) => u64::try_from(i).map_err(|_| {
            serde::de::Error::custom(format!("expected a seed from 0 to 2^64 - 1, found {i}"))
        }),
        Seed::Text(t) => t.trim().parse::<u64>().map_err(|_| {
            serde::de::Error::custom(format!(
                "expected a seed from 0 to 2^64 - 1 (as a number, or in quotes above \
                 9223372036854775807), found {t:?}"
            ))
        }),
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
