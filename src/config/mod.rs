//! Config files: raw TOML, command-line overrides, then one validation step that
//! produces an [`Experiment`]. Nothing downstream validates again.
//!
//! The [`Job`] inside an experiment is everything that decides the result's bits
//! (samples, seed, chunk size, confidence, model); the rest (backend, workers, where
//! to write) only decides how and where the run happens.

mod document;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use toml::de::DeValue;

use crate::Error;
use crate::backend::{Backend, MPI_MISSING, WorkerCommand, available_cores};
use crate::model::{Context, Model, ModelSpec, Registry, did_you_mean};
use crate::plan::Plan;
use crate::random::sampler::{DEFAULT_REPLICATES, MAX_REPLICATES, Sampler};
use crate::stats::{Estimate, MAX_CONFIDENCE, MIN_CONFIDENCE};

use document::Spans;
pub use document::{Assignment, Origin, Source};

/// Default samples per chunk. docs/performance.md says how it was chosen.
pub const DEFAULT_CHUNK_SIZE: u64 = 65_536;

/// Default confidence level of intervals.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;

/// Default chunks between two checks of a target error: about four million samples
/// at the default chunk size, so a check (one t quantile) costs nothing next to the
/// chunks it follows.
pub const DEFAULT_CHECK_EVERY: u64 = 64;

/// Where the summary goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A file, written atomically.
    File(PathBuf),
    /// Standard output (`--out -`).
    Stdout,
}

/// Values given on the command line; each replaces the config's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--samples`
    pub samples: Option<u64>,
    /// `--seed`
    pub seed: Option<u64>,
    /// `--chunk-size`
    pub chunk_size: Option<u64>,
    /// `--backend`
    pub backend: Option<Backend>,
    /// `--workers`
    pub workers: Option<u64>,
    /// `--out`
    pub out: Option<Destination>,
    /// `--chunk-timeout`
    pub chunk_timeout: Option<std::time::Duration>,
    /// `--set KEY=VALUE`, in order: each replaces (or adds) one key of the file,
    /// before the flags above.
    pub sets: Vec<Assignment>,
}

/// What decides a run's result, bit for bit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Total samples.
    pub samples: u64,
    /// The seed of every random stream.
    pub seed: u64,
    /// Samples per chunk.
    pub chunk_size: u64,
    /// Confidence level of intervals.
    pub confidence: f64,
    /// The model and its parameters.
    pub model: ModelSpec,
    /// When to stop before drawing every sample, if ever. Absent from the
    /// fingerprint's input when `None`, so jobs without a target hash as they did
    /// before targets existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// Where the random numbers come from. Absent from the fingerprint's input for
    /// `mc`, so plain runs hash as they did before samplers existed.
    #[serde(default, skip_serializing_if = "Sampler::is_mc")]
    pub sampler: Sampler,
    /// The swept model keys and their values, priced in one pass from common random
    /// numbers; empty (and absent from the fingerprint's input) without a sweep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sweep: Vec<SweepKey>,
}

/// One swept `[model]` key and the values it takes. The points of a sweep are the
/// product of its keys' values, the first key outermost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepKey {
    /// The `[model]` key.
    pub key: String,
    /// Its values, as JSON (as the model's parameters are).
    pub values: Vec<serde_json::Value>,
}

impl Job {
    /// The points of the job's sweep, each the value of every swept key, first key
    /// outermost; one empty point without a sweep.
    pub fn sweep_points(&self) -> Vec<Vec<serde_json::Value>> {
        let mut points = vec![Vec::new()];
        for k in &self.sweep {
            points = points
                .into_iter()
                .flat_map(|p| {
                    k.values.iter().map(move |v| {
                        let mut p = p.clone();
                        p.push(v.clone());
                        p
                    })
                })
                .collect();
        }
        points
    }

    /// Builds the model of this job: that of its model spec in its context, or, for a
    /// job with a sweep, the model that prices every point of the sweep in one pass.
    /// Errors name the offending key (`model.KEY`, or `sweep.KEY` with the point).
    pub fn build_model(&self, registry: &Registry) -> Result<Box<dyn Model>, Error> {
        if self.sweep.is_empty() {
            return registry.build(&self.model, &self.context());
        }
        let entry = registry.entry(self.model.kind())?;
        if !entry.supports_sweeps() {
            return Err(Error::parameter(
                "sweep",
                format!(
                    "model type {} cannot be swept in one pass (sweeps run european, asian \
                     and barrier); run one config per point with the same seed",
                    self.model.kind()
                ),
            ));
        }
        let points = self.sweep_points();
        let mut params = Vec::with_capacity(points.len());
        for point in &points {
            let mut p = self.model.params().clone();
            for (k, v) in self.sweep.iter().zip(point) {
                p.insert(k.key.clone(), v.clone());
            }
            // Each point is validated as its own run would be.
            entry.build(&p, &self.context()).map_err(|e| match e {
                Error::Parameter { key, reason } => {
                    let at: Vec<String> = self
                        .sweep
                        .iter()
                        .zip(point)
                        .map(|(k, v)| format!("{} = {v}", k.key))
                        .collect();
                    let key = match key.strip_prefix("model.") {
                        Some(k) if self.sweep.iter().any(|s| s.key == k) => format!("sweep.{k}"),
                        _ => key,
                    };
                    Error::parameter(
                        &key,
                        format!("at the sweep point {}: {reason}", at.join(", ")),
                    )
                }
                other => other,
            })?;
            params.push(p);
        }
        let single = match self.sweep.as_slice() {
            [k] if k.values.iter().all(serde_json::Value::is_number) => k.key.as_str(),
            _ => "",
        };
        entry.build_sweep(&params, &points, single, &self.context())
    }
}

/// A target error: the run stops at the first check where the confidence interval
/// of the model's first quantity is narrow enough, and `samples` is only the maximum.
///
/// Checks happen after every `check_every` chunks, counted from the start and merged
/// in chunk order, never after a number of chunks that depends on the workers, so a
/// run stops at the same sample count with the same bits everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Met when the half-width is at most this fraction of |estimate|.
    pub rel_error: Option<f64>,
    /// Met when the half-width is at most this.
    pub abs_error: Option<f64>,
    /// Chunks between two checks (at least 1).
    pub check_every: u64,
}

impl Target {
    /// True when `estimate` meets every error given (both, when both are set).
    /// An estimate without an error yet (NaN) meets nothing.
    pub fn met(&self, estimate: &Estimate) -> bool {
        let half = estimate.half_width();
        let rel = self
            .rel_error
            .is_none_or(|r| half <= r * estimate.estimate.abs());
        let abs = self.abs_error.is_none_or(|a| half <= a);
        rel && abs
    }

    /// True when the run checks the target after chunks `0..chunks`.
    pub fn checks_at(&self, chunks: u64) -> bool {
        chunks > 0 && chunks.is_multiple_of(self.check_every)
    }
}

impl Job {
    /// The job as a config file that runs it: `[simulation]` with every key that
    /// decides the bits (and `name`, which does not), and the whole `[model]` table,
    /// defaults filled in. `carlo run` of it reproduces the run's bits; its
    /// fingerprint is this job's.
    ///
    /// Seeds above `i64::MAX`, which TOML integers cannot hold, are written as strings,
    /// which configs accept.
    pub fn to_toml(&self, name: &str) -> String {
        let mut simulation = toml::Table::new();
        simulation.insert("name".into(), name.into());
        let count =
            |n: u64| i64::try_from(n).map_or_else(|_| n.to_string().into(), toml::Value::from);
        simulation.insert("samples".into(), count(self.samples));
        simulation.insert("seed".into(), count(self.seed));
        simulation.insert("chunk_size".into(), count(self.chunk_size));
        simulation.insert("confidence".into(), self.confidence.into());
        if let Some(t) = self.target {
            if let Some(r) = t.rel_error {
                simulation.insert("target_rel_error".into(), r.into());
            }
            if let Some(a) = t.abs_error {
                simulation.insert("target_abs_error".into(), a.into());
            }
            simulation.insert("check_every".into(), count(t.check_every));
        }
        if let Some(r) = self.sampler.replicates() {
            simulation.insert("sampler".into(), self.sampler.name().into());
            simulation.insert("replicates".into(), count(r));
        }
        let model = toml::Value::try_from(&self.model).expect("a model's parameters are TOML");
        let mut root = toml::Table::new();
        root.insert("simulation".into(), simulation.into());
        root.insert("model".into(), model);
        if !self.sweep.is_empty() {
            let mut sweep = toml::Table::new();
            for k in &self.sweep {
                let values = toml::Value::try_from(&k.values).expect("sweep values are TOML");
                sweep.insert(k.key.clone(), values);
            }
            root.insert("sweep".into(), sweep.into());
        }
        format!(
            "# The job of a carlo summary: every value that decides its bits (fingerprint {}).\n\
             # `carlo run` on this file reproduces them; `carlo verify SUMMARY` does and compares.\n\n{}",
            self.fingerprint(),
            toml::to_string(&root).expect("a job is TOML")
        )
    }

    /// What a model built for this job may use besides its parameters.
    pub fn context(&self) -> Context {
        Context::new(self.seed).with_sampler(self.sampler, self.chunk_size)
    }

    /// The chunk plan.
    pub fn plan(&self) -> Plan {
        Plan::new(self.samples, self.chunk_size)
    }

    /// A short hash of everything that decides the result, to refuse mixing the
    /// partial results of different runs.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).expect("a job always serializes");
        let digest = Sha256::digest(json.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The keys at which two jobs (as JSON, as checkpoints and partials keep them)
/// differ, as `(dotted key, value in a, value in b)`, with `none` for a missing key;
/// nested tables such as the model's parameters are compared key by key.
pub fn job_differences(
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    differences_under("", a, b, &mut found);
    found
}

fn differences_under(
    prefix: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    found: &mut Vec<(String, String, String)>,
) {
    use serde_json::Value;
    let show = |v: Option<&Value>| v.map_or("none".to_string(), |v| v.to_string());
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for key in keys {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => differences_under(&path, u, v, found),
                    (u, v) => found.push((path, show(u), show(v))),
                }
            }
        }
        _ if a != b => found.push((prefix.to_string(), a.to_string(), b.to_string())),
        _ => {}
    }
}

/// A validated run: a job plus how and where to run it.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The run's name (`[simulation] name`, else the config's file stem).
    pub name: String,
    /// What decides the result.
    pub job: Job,
    /// The job's model, built and validated once.
    pub model: Arc<dyn Model>,
    /// Where chunks run.
    pub backend: Backend,
    /// Workers; never 0 (0 in a config means one per available core).
    pub workers: usize,
    /// Where the summary goes.
    pub out: Destination,
    /// The config file it came from.
    pub source: PathBuf,
    /// How worker processes start, for a model that runs only in its own workers
    /// (see [`crate::model::Entry::in_workers`]); `None` for `THIS_PROGRAM worker`.
    pub worker_command: Option<WorkerCommand>,
    /// How long a worker may spend on one chunk before it is taken for stuck; `None`
    /// derives it from the chunk times seen (see [`crate::exec::Processes`]).
    pub chunk_timeout: Option<std::time::Duration>,
    /// What validation changed and the user should hear about (printed on stderr
    /// unless quiet), such as a backend replaced by one the model can run on.
    pub notes: Vec<String>,
    /// Values that are valid but probably not meant (printed on stderr, even when
    /// quiet), such as a volatility given as a percentage.
    pub warnings: Vec<String>,
}

/// The config's tables but `[model]`, which the registry reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    simulation: RawSimulation,
    #[serde(default)]
    execution: RawExecution,
    #[serde(default)]
    output: RawOutput,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSimulation {
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExecution {
    backend: Option<Backend>,
    workers: Option<u64>,
    chunk_timeout: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    summary: Option<PathBuf>,
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

impl Experiment {
    /// Reads, overrides and validates the config at `path`; `registry` knows the
    /// models its `[model] type` may name.
    pub fn load(path: &Path, overrides: &Overrides, registry: &Registry) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, overrides, registry)
    }

    /// Validates config `text`, read from `path` (used in messages and for the
    /// default name). Errors name the file, the key and where it was written: a line
    /// and column, or the `--set` flag that gave it.
    pub fn parse(
        text: &str,
        path: &Path,
        overrides: &Overrides,
        registry: &Registry,
    ) -> Result<Self, Error> {
        let source = Source::new(path, text, &overrides.sets);
        let mut document = source.parse()?;
        let spans = document.spans();
        let model_table = document.take("model");
        let sweep_table = document.take("sweep");
        let raw = RawConfig::deserialize(toml::de::Deserializer::from(document.into_inner()))
            .map_err(|e| source.toml_error(&e))?;
        let invalid = |key: &str, reason: String| source.key_error(&spans, key, reason);
        let sim = raw.simulation;
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
        let given_chunk_size = overrides.chunk_size.or(sim.chunk_size);
        if given_chunk_size == Some(0) {
            return Err(invalid(
                "simulation.chunk_size",
                "must be at least 1".to_string(),
            ));
        }
        let chunk_size = match (sampler, given_chunk_size) {
            (Sampler::Mc, c) => c.unwrap_or(DEFAULT_CHUNK_SIZE),
            (Sampler::Sobol { replicates }, c) => {
                if !samples.is_multiple_of(replicates) {
                    return Err(invalid(
                        "simulation.samples",
                        format!(
                            "with sampler = \"sobol\" samples counts every point of every \
                             replicate, so it must be a multiple of replicates = {replicates}; \
                             found {samples} (try {})",
                            replicates * (samples / replicates).max(1).next_power_of_two()
                        ),
                    ));
                }
                let points = samples / replicates;
                match c {
                    Some(c) if !points.is_multiple_of(c) => {
                        let key = if overrides.chunk_size.is_some() {
                            "--chunk-size"
                        } else {
                            "simulation.chunk_size"
                        };
                        let reason = format!(
                            "with sampler = \"sobol\" each replicate's {points} points \
                             (samples / replicates) must be a whole number of chunks; \
                             {c} does not divide {points}"
                        );
                        return Err(if overrides.chunk_size.is_some() {
                            Error::Flag {
                                flag: key.into(),
                                reason,
                            }
                        } else {
                            invalid(key, reason)
                        });
                    }
                    Some(c) => c,
                    None => sobol_chunk_size(points),
                }
            }
        };
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
        let round = sampler.replicates().unwrap_or(1);
        let check_every = sim
            .check_every
            .unwrap_or(round * DEFAULT_CHECK_EVERY.div_ceil(round));
        if check_every == 0 {
            return Err(invalid(
                "simulation.check_every",
                "must be at least 1".to_string(),
            ));
        }
        if !check_every.is_multiple_of(round) {
            return Err(invalid(
                "simulation.check_every",
                format!(
                    "with sampler = \"sobol\" a target is checked after whole rounds of \
                     replicates = {round} chunks; {check_every} is not a multiple of {round}"
                ),
            ));
        }
        // Without a target `check_every` has nothing to check, and leaving it out of
        // the job keeps such a run's fingerprint that of the same run without it.
        let target =
            (sim.target_rel_error.is_some() || sim.target_abs_error.is_some()).then_some(Target {
                rel_error: sim.target_rel_error,
                abs_error: sim.target_abs_error,
                check_every,
            });
        let seed = overrides.seed.unwrap_or(sim.seed);
        let Some(model_table) = model_table else {
            return Err(source.error(
                None,
                "missing table [model], which names the model: [model] type = \"...\"",
            ));
        };
        let context = Context::new(seed).with_sampler(sampler, chunk_size);
        let (spec, model, worker_command, mut warnings) =
            read_model(&source, model_table, registry, &context, &spans)?;
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
        let sweep = match sweep_table {
            None => Vec::new(),
            Some(table) => read_sweep(&source, &spans, table, &spec, registry)?,
        };
        let mut job = Job {
            samples,
            seed,
            chunk_size,
            confidence,
            model: spec,
            target,
            sampler,
            sweep,
        };
        let model = if job.sweep.is_empty() {
            model
        } else {
            job.build_model(registry).map_err(|e| match e {
                Error::Parameter { key, reason } => source.key_error(&spans, &key, reason),
                other => other,
            })?
        };
        // A sweep of one point is that point's run.
        if job.sweep_points().len() == 1 && !job.sweep.is_empty() {
            job.sweep.clear();
        }
        let workers = match overrides.workers.or(raw.execution.workers).unwrap_or(0) {
            0 => available_cores(),
            n => usize::try_from(n)
                .ok()
                .filter(|&n| n <= 4096)
                .ok_or_else(|| {
                    invalid(
                        "execution.workers",
                        format!("must be at most 4096, found {n}"),
                    )
                })?,
        };
        let out = overrides.out.clone().unwrap_or_else(|| {
            Destination::File(
                raw.output
                    .summary
                    .unwrap_or_else(|| Path::new("results").join(format!("{name}.csv"))),
            )
        });
        // `mpi` is always parsed, so that a build without it can say how to get it
        // instead of calling it an unknown backend.
        let backend = match (overrides.backend, raw.execution.backend) {
            (Some(b), _) if !b.is_available() => {
                return Err(Error::Flag {
                    flag: "--backend".into(),
                    reason: MPI_MISSING.into(),
                });
            }
            (None, Some(b)) if !b.is_available() => {
                return Err(invalid("execution.backend", MPI_MISSING.into()));
            }
            (flag, config) => flag.or(config).unwrap_or(Backend::Threads),
        };
        let chunk_timeout = match (overrides.chunk_timeout, raw.execution.chunk_timeout) {
            (Some(t), _) => Some(t),
            (None, Some(s)) if s.is_finite() && s > 0.0 && s < 1e9 => {
                Some(std::time::Duration::from_secs_f64(s))
            }
            (None, Some(s)) => {
                return Err(invalid(
                    "execution.chunk_timeout",
                    format!("must be a positive number of seconds, found {s}"),
                ));
            }
            (None, None) => None,
        };
        let mut notes = Vec::new();
        for q in model.quantities() {
            let lost = |what: &str, value: Option<f64>| {
                value.filter(|v| !v.is_finite()).map(|v| {
                    format!(
                        "the {what} of {} is {v} at these parameters (its formula breaks \
                         down there); the column is left empty",
                        q.name
                    )
                })
            };
            notes.extend(lost("reference", q.reference.map(|(v, _)| v)));
            notes.extend(lost("approx_reference", q.approx_reference));
        }
        let (backend, workers) = match (&worker_command, backend) {
            (None, backend) => (backend, workers),
            (Some(_), Backend::Processes) => (Backend::Processes, workers),
            (Some(_), Backend::Mpi) => {
                return Err(invalid(
                    "execution.backend",
                    format!(
                        "model type {} runs only in its own worker processes, which MPI \
                         ranks are not; use the processes backend",
                        job.model.kind()
                    ),
                ));
            }
            (Some(_), other) => {
                let workers = if other == Backend::Sequential {
                    1
                } else {
                    workers
                };
                notes.push(format!(
                    "model type {} runs in its own worker processes: backend processes \
                     with {workers} worker{} instead of {}",
                    job.model.kind(),
                    if workers == 1 { "" } else { "s" },
                    other.name()
                ));
                (Backend::Processes, workers)
            }
        };
        Ok(Experiment {
            name,
            job,
            model: Arc::from(model),
            backend,
            workers,
            out,
            source: path.to_path_buf(),
            worker_command,
            chunk_timeout,
            notes,
            warnings,
        })
    }
}

/// What [`read_model`] finds: the job's model, the model built, and how its worker
/// processes start if it runs only in them.
type ModelRead = (
    ModelSpec,
    Box<dyn Model>,
    Option<WorkerCommand>,
    Vec<String>,
);

/// Reads the `[model]` table: finds its type in the registry, refuses keys the type
/// does not take, type-checks the rest with serde and builds the model once (which
/// validates the values). Every error points at the key or value at fault.
fn read_model(
    source: &Source<'_>,
    table: serde_spanned::Spanned<DeValue<'_>>,
    registry: &Registry,
    context: &Context,
    document_spans: &Spans,
) -> Result<ModelRead, Error> {
    let span = table.span();
    let mut spans = Spans::default();
    spans.add("model", &table);
    let DeValue::Table(mut fields) = table.into_inner() else {
        return Err(source.error(Some(span), "[model] must be a table"));
    };
    let Some(kind) = fields.remove("type") else {
        return Err(source.error(
            Some(span),
            "[model] needs a `type` naming the model (`carlo models` lists them)",
        ));
    };
    let kind_span = kind.span();
    let Some(kind) = kind.get_ref().as_str().map(str::to_string) else {
        return Err(source.error(Some(kind_span), "`type` must be a string such as \"pi\""));
    };
    let entry = registry.entry(&kind).map_err(|e| match e {
        Error::Parameter { reason, .. } => source.error(Some(kind_span.clone()), &reason),
        other => other,
    })?;
    for (key, value) in fields.iter() {
        refuse_non_finite(source, &format!("model.{}", key.get_ref()), value)?;
    }
    if let Some(accepted) = entry.accepted_keys() {
        for (key, _) in fields.iter() {
            let key_name: &str = key.get_ref();
            if !accepted.contains(&key_name) {
                return Err(source.error(
                    Some(key.span()),
                    &format!(
                        "unknown key `{key_name}` for model type {kind}{}; it takes {}",
                        did_you_mean(key_name, accepted.iter().copied()),
                        accepted.join(", ")
                    ),
                ));
            }
        }
    }
    let params = entry
        .parse(toml::de::ValueDeserializer::from(
            serde_spanned::Spanned::new(span, DeValue::Table(fields)),
        ))
        .map_err(|e| {
            let message = e.message().trim_end();
            // serde says "field"; a config has keys, and a missing one is missing
            // from the table whose header the error points at.
            let message = match message.strip_prefix("missing field ") {
                Some(rest) => format!("[model] type {kind} needs the key {rest}"),
                None => message.to_string(),
            };
            source.error(e.span(), &message)
        })?;
    let model = entry.build(&params, context).map_err(|e| match e {
        Error::Parameter { key, reason } if key.starts_with("simulation.") => {
            source.key_error(document_spans, &key, reason)
        }
        Error::Parameter { key, reason } => source.key_error(&spans, &key, reason),
        other => other,
    })?;
    let worker_command = entry.worker_command(&params).transpose()?;
    let warnings = entry.warn(&params);
    let spec = ModelSpec::from_params(kind, params);
    Ok((spec, model, worker_command, warnings))
}

/// The default chunk size of a sobol run whose replicates have `points` points each:
/// the largest divisor of `points` up to [`DEFAULT_CHUNK_SIZE`] (every chunk full),
/// found among the first million candidates, else the largest power of two that
/// divides `points` (up to the default).
fn sobol_chunk_size(points: u64) -> u64 {
    if points <= DEFAULT_CHUNK_SIZE {
        return points.max(1);
    }
    let first = points.div_ceil(DEFAULT_CHUNK_SIZE);
    (first..first.saturating_add(1_000_000))
        .find(|k| points.is_multiple_of(*k))
        .map_or_else(
            || {
                1u64 << points
                    .trailing_zeros()
                    .min(DEFAULT_CHUNK_SIZE.trailing_zeros())
            },
            |k| points / k,
        )
}

/// Model keys that decide the columns or the path of every point, which a sweep
/// cannot vary.
const UNSWEPT: [&str; 4] = ["greeks", "antithetic", "control_variate", "type"];

/// Reads the `[sweep]` table (keys `strike`, `model.strike` or `[sweep.model]`
/// tables, each a non-empty list of values) and checks each key against the model.
fn read_sweep(
    source: &Source<'_>,
    spans: &Spans,
    table: serde_spanned::Spanned<DeValue<'_>>,
    spec: &ModelSpec,
    registry: &Registry,
) -> Result<Vec<SweepKey>, Error> {
    let span = table.span();
    let table = toml::Table::deserialize(toml::de::ValueDeserializer::from(table))
        .map_err(|_| source.error(Some(span.clone()), "[sweep] must be a table of lists"))?;
    let mut flat = Vec::new();
    for (key, value) in table {
        match (key.as_str(), value) {
            ("model", toml::Value::Table(inner)) => {
                for (k, v) in inner {
                    let at = format!("sweep.model.{k}");
                    flat.push((k, at, v));
                }
            }
            (k, v) => {
                let bare = k.strip_prefix("model.").unwrap_or(k).to_string();
                flat.push((bare, format!("sweep.{k}"), v));
            }
        }
    }
    let accepted = registry.entry(spec.kind())?.accepted_keys();
    let mut keys: Vec<SweepKey> = Vec::new();
    for (key, at, value) in flat {
        let invalid = |reason: String| source.key_error(spans, &at, reason);
        if UNSWEPT.contains(&key.as_str()) {
            return Err(invalid(format!(
                "model.{key} cannot be swept: every point of a sweep shares the paths and \
                 the columns; run one config per value"
            )));
        }
        if let Some(accepted) = accepted
            && !accepted.contains(&key.as_str())
        {
            return Err(invalid(format!(
                "model type {} has no key `{key}`{}",
                spec.kind(),
                did_you_mean(&key, accepted.iter().copied())
            )));
        }
        let toml::Value::Array(values) = value else {
            return Err(invalid(format!(
                "must be a list of values, such as {key} = [90, 100, 110]"
            )));
        };
        if values.is_empty() {
            return Err(invalid("must list at least one value".into()));
        }
        if keys.iter().any(|k| k.key == key) {
            return Err(invalid(format!("model.{key} is swept twice")));
        }
        let values = values
            .into_iter()
            .map(|v| serde_json::to_value(v).expect("TOML values are JSON"))
            .collect();
        keys.push(SweepKey { key, values });
    }
    let points: usize = keys.iter().map(|k| k.values.len()).product();
    if points > 64 {
        return Err(source.key_error(
            spans,
            "sweep",
            format!("{points} points; a sweep prices at most 64 in one pass"),
        ));
    }
    Ok(keys)
}

/// Refuses `nan` and `inf` anywhere in a `[model]` value: a job carries its
/// parameters as JSON, which has no such numbers, and no model means them.
fn refuse_non_finite(
    source: &Source<'_>,
    key: &str,
    value: &serde_spanned::Spanned<DeValue<'_>>,
) -> Result<(), Error> {
    match value.get_ref() {
        DeValue::Float(f) if f.as_str().contains("nan") || f.as_str().contains("inf") => {
            Err(source.error(
                Some(value.span()),
                &format!("{key} must be a finite number, found {}", f.as_str()),
            ))
        }
        DeValue::Array(items) => items
            .iter()
            .try_for_each(|item| refuse_non_finite(source, key, item)),
        DeValue::Table(table) => table.iter().try_for_each(|(k, item)| {
            refuse_non_finite(source, &format!("{key}.{}", k.get_ref()), item)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[simulation]\nsamples = 1000\nseed = 1\n[model]\ntype = \"pi\"\n";

    fn parse(text: &str) -> Result<Experiment, Error> {
        Experiment::parse(
            text,
            Path::new("x.toml"),
            &Overrides::default(),
            &Registry::builtin(),
        )
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let e = parse(MINIMAL).unwrap();
        assert_eq!(e.name, "x");
        assert_eq!(e.job.chunk_size, DEFAULT_CHUNK_SIZE);
        assert_eq!(e.job.confidence, 0.95);
        assert_eq!(e.backend, Backend::Threads);
        assert!(e.workers >= 1);
        assert_eq!(e.out, Destination::File("results/x.csv".into()));
    }

    #[test]
    fn overrides_win() {
        let o = Overrides {
            samples: Some(5000),
            seed: Some(9),
            chunk_size: Some(7),
            backend: Some(Backend::Sequential),
            workers: Some(3),
            out: Some(Destination::Stdout),
            sets: Vec::new(),
            chunk_timeout: None,
        };
        let e = Experiment::parse(MINIMAL, Path::new("x.toml"), &o, &Registry::builtin()).unwrap();
        assert_eq!((e.job.samples, e.job.seed, e.job.chunk_size), (5000, 9, 7));
        assert_eq!((e.backend, e.workers), (Backend::Sequential, 3));
        assert_eq!(e.out, Destination::Stdout);
    }

    #[test]
    fn counts_accept_floats_with_whole_values() {
        let e = parse(&MINIMAL.replace("1000", "1e6")).unwrap();
        assert_eq!(e.job.samples, 1_000_000);
        assert!(parse(&MINIMAL.replace("1000", "1.5e0")).is_err());
    }

    #[test]
    fn command_line_counts() {
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("1e6"), Ok(1_000_000));
        assert_eq!(parse_count("2.5e3"), Ok(2500));
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("-3").is_err());
        assert!(parse_count("lots").is_err());
    }

    #[test]
    fn fingerprint_tracks_the_result_not_the_execution() {
        let a = parse(MINIMAL).unwrap();
        let o = Overrides {
            workers: Some(7),
            ..Overrides::default()
        };
        let b = Experiment::parse(MINIMAL, Path::new("y.toml"), &o, &Registry::builtin()).unwrap();
        assert_eq!(a.job.fingerprint(), b.job.fingerprint());
        let c = parse(&MINIMAL.replace("seed = 1", "seed = 2")).unwrap();
        assert_ne!(a.job.fingerprint(), c.job.fingerprint());
    }

    #[test]
    fn differences_name_nested_keys() {
        let a = serde_json::json!({"seed": 1, "model": {"type": "walk", "steps": 100}});
        let b =
            serde_json::json!({"seed": 1, "model": {"type": "walk", "steps": 200, "drift": 0.5}});
        assert_eq!(
            job_differences(&a, &b),
            [
                (
                    "model.steps".to_string(),
                    "100".to_string(),
                    "200".to_string()
                ),
                (
                    "model.drift".to_string(),
                    "none".to_string(),
                    "0.5".to_string()
                ),
            ]
        );
        assert!(job_differences(&a, &a).is_empty());
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (MINIMAL.replace("1000", "0"), "simulation.samples"),
            (format!("{MINIMAL}[execution]\nthreads = 2\n"), "threads"),
            (
                MINIMAL.replace("seed = 1", "seed = 1\nconfidence = 1.5"),
                "simulation.confidence",
            ),
            (MINIMAL.replace("\"pi\"", "\"pie\""), "pie"),
            (format!("{MINIMAL}colour = 1\n"), "colour"),
        ];
        for (text, key) in cases {
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(key), "{err:?} does not name {key}");
        }
    }
}
