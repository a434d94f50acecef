//! The partial file a shard writes: JSON, versioned, with exact floats.
//!
//! Floats are written in serde_json's shortest round-trip form (its
//! `float_roundtrip` feature is on, so reading gives back the same bits). JSON has no
//! NaN or infinity, which a model's statistics may hold (an overflowing payoff), so
//! those are written as the strings `"NaN"`, `"inf"` and `"-inf"`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Shard;
use crate::Error;
use crate::config::{Experiment, Job};
use crate::rng::DERIVATION;
use crate::stats::Moments;

/// The `format` field that marks a file as a carlo partial.
pub const FORMAT: &str = "carlo-partial";

/// The version of the partial format this carlo writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// The statistics of one shard's chunks, with everything needed to check that
/// partials belong together and to rebuild the run's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partial {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the carlo that wrote it.
    pub format_version: u64,
    /// The version of the carlo that wrote it.
    pub carlo_version: String,
    /// The run's name.
    pub name: String,
    /// [`Job::fingerprint`] of `job`.
    pub fingerprint: String,
    /// The job's seed (also in `job`; repeated for people reading the file).
    pub seed: u64,
    /// The stream derivation, [`DERIVATION`].
    pub rng: String,
    /// 1-based shard number.
    pub shard: u64,
    /// Number of shards.
    pub shards: u64,
    /// First chunk held.
    pub chunk_start: u64,
    /// One past the last chunk held.
    pub chunk_end: u64,
    /// Where `carlo merge` writes the summary by default: the run's summary path.
    pub summary: Option<PathBuf>,
    /// Backend the shard ran on.
    pub backend: String,
    /// Workers it used.
    pub workers: usize,
    /// Its wall-clock seconds.
    pub wall_seconds: f64,
    /// Everything that decides the result.
    pub job: Job,
    /// Statistics of chunks `chunk_start..chunk_end`, in order.
    pub chunks: Vec<ChunkStats>,
}

/// The statistics of one chunk, as stored in a partial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkStats {
    /// Chunk index.
    pub chunk: u64,
    /// Samples.
    pub count: u64,
    /// Means of each column.
    #[serde(with = "exact")]
    pub mean: Vec<f64>,
    /// Co-moment matrix, row-major.
    #[serde(with = "exact")]
    pub comoment: Vec<f64>,
}

impl ChunkStats {
    /// The statistics as [`Moments`].
    pub fn moments(&self) -> Moments {
        Moments {
            count: self.count,
            mean: self.mean.clone(),
            comoment: self.comoment.clone(),
        }
    }
}

impl Partial {
    /// The partial of `shard` of `experiment`: `chunks` are the statistics of chunks
    /// `chunk_start..`, in order.
    #[allow(clippy::too_many_arguments)] // one call site; a builder would add nothing
    pub fn new(
        experiment: &Experiment,
        shard: Shard,
        chunk_start: u64,
        chunks: Vec<Moments>,
        summary: Option<PathBuf>,
        backend: &str,
        workers: usize,
        wall_seconds: f64,
    ) -> Self {
        let job = &experiment.job;
        Partial {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            carlo_version: env!("CARGO_PKG_VERSION").into(),
            name: experiment.name.clone(),
            fingerprint: job.fingerprint(),
            seed: job.seed,
            rng: DERIVATION.into(),
            shard: shard.index + 1,
            shards: shard.count,
            chunk_start,
            chunk_end: chunk_start + chunks.len() as u64,
            summary,
            backend: backend.into(),
            workers,
            wall_seconds,
            job: job.clone(),
            chunks: chunks
                .into_iter()
                .zip(chunk_start..)
                .map(|(m, chunk)| ChunkStats {
                    chunk,
                    count: m.count,
                    mean: m.mean,
                    comoment: m.comoment,
                })
                .collect(),
        }
    }

    /// The file's bytes: one line of JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("a partial always serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Reads the partial at `path`. A file that is not a partial, or one of another
    /// format version, is an error that names it.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |message: String| Error::Syntax {
            path: path.to_path_buf(),
            message,
        };
        // The format and version first, so that a file of another version is named as
        // such rather than as a field mismatch.
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "not a carlo partial (invalid or truncated JSON: {e})"
            ))
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(bad(format!(
                "not a carlo partial (no \"format\": \"{FORMAT}\" field)"
            )));
        }
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(FORMAT_VERSION) => {}
            other => {
                return Err(bad(format!(
                    "partial format version {}, but this carlo reads version {FORMAT_VERSION}",
                    other.map_or_else(|| "missing".to_string(), |v| v.to_string())
                )));
            }
        }
        serde_json::from_value(value).map_err(|e| bad(format!("corrupt partial: {e}")))
    }
}

/// Serde for float vectors that keeps non-finite values (as strings).
mod exact {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Float {
        Number(f64),
        Text(String),
    }

    pub fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(values.iter().map(|&x| {
            if x.is_finite() {
                Float::Number(x)
            } else {
                Float::Text(
                    match x {
                        f64::INFINITY => "inf",
                        f64::NEG_INFINITY => "-inf",
                        _ => "NaN",
                    }
                    .into(),
                )
            }
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Vec::<Float>::deserialize(d)?
            .into_iter()
            .map(|f| match f {
                Float::Number(x) => Ok(x),
                Float::Text(t) => match t.as_str() {
                    "inf" => Ok(f64::INFINITY),
                    "-inf" => Ok(f64::NEG_INFINITY),
                    "NaN" => Ok(f64::NAN),
                    _ => Err(serde::de::Error::custom(format!(
                        "expected a number, \"inf\", \"-inf\" or \"NaN\", found \"{t}\""
                    ))),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_bit_for_bit() {
        let stats = ChunkStats {
            chunk: 3,
            count: 9,
            mean: vec![0.1 + 0.2, -0.0, 5e-324, f64::MAX],
            comoment: vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.0 / 3.0],
        };
        let json = serde_json::to_string(&stats).unwrap();
        let back: ChunkStats = serde_json::from_str(&json).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.mean), bits(&stats.mean));
        // NaN has many bit patterns; carlo's statistics only need "is NaN".
        assert!(back.comoment[0].is_nan());
        assert_eq!(bits(&back.comoment[1..]), bits(&stats.comoment[1..]));
    }
}
