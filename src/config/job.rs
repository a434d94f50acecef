//! The job: everything that decides a run's bits, and nothing else.
//!
//! A [`Job`] is what checkpoints, partials, worker processes and summaries carry and
//! what a run's fingerprint hashes: samples, seed, confidence, model, target, sampler
//! and sweep. How and where a run happens (chunk size, backend, workers, files) is not
//! in it: blocks merge exactly, so the chunk size is a scheduling knob.
//! [`Job::to_toml`] writes it as a config that reproduces the run.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::model::{Context, Model, ModelSpec, Registry};
use crate::plan::Plan;
use crate::random::lanes::BLOCK;
use crate::random::sampler::Sampler;
use crate::stats::Estimate;

/// What decides a run's result, bit for bit, and the chunk size it is scheduled in.
///
/// Equality, serialization and the fingerprint leave the chunk size out: two jobs
/// that differ only in it give the same bits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// Total samples.
    pub samples: u64,
    /// The seed of every random stream.
    pub seed: u64,
    /// Samples per chunk, a whole number of blocks: where a run is scheduled in
    /// pieces, never part of its result (not serialized, compared or hashed).
    #[serde(skip, default = "default_chunk_size")]
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

fn default_chunk_size() -> u64 {
    super::DEFAULT_CHUNK_SIZE
}

impl PartialEq for Job {
    fn eq(&self, other: &Job) -> bool {
        // every field but the chunk size
        self.samples == other.samples
            && self.seed == other.seed
            && self.confidence == other.confidence
            && self.model == other.model
            && self.target == other.target
            && self.sampler == other.sampler
            && self.sweep == other.sweep
    }
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
                insert_key(&mut p, &k.key, v.clone());
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

/// Sets `key` in `params` to `value`; a dotted key (`args.p`) sets a key of a table,
/// made if missing.
fn insert_key(params: &mut crate::model::Params, key: &str, value: serde_json::Value) {
    match key.split_once('.') {
        Some((head, rest)) => {
            let table = params
                .entry(head)
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if !table.is_object() {
                *table = serde_json::Value::Object(Default::default());
            }
            if let serde_json::Value::Object(inner) = table {
                insert_key(inner, rest, value);
            }
        }
        None => {
            params.insert(key.to_string(), value);
        }
    }
}

/// A target error: the run stops at the first check where the confidence interval
/// of the model's first quantity is narrow enough (and that of every quantity with a
/// target of its own), and `samples` is only the maximum.
///
/// Checks happen after every `check_every` blocks, counted from the start and merged
/// in chunk order, never after a number of chunks that depends on the workers, so a
/// run stops at the same sample count with the same bits everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Met when the half-width is at most this fraction of |estimate|.
    pub rel_error: Option<f64>,
    /// Met when the half-width is at most this.
    pub abs_error: Option<f64>,
    /// Blocks between two checks (at least 1); the config's `check_every` is in
    /// samples, a whole number of blocks.
    pub check_every: u64,
    /// Targets of named quantities (`target_abs_error = { ruin = 1e-3 }`), each met
    /// by every row of that name, besides the first quantity's above. Empty (and
    /// absent from the fingerprint's input) when the targets name no quantity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantities: Vec<QuantityTarget>,
}

/// The target of one named quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantityTarget {
    /// The quantity's name.
    pub quantity: String,
    /// Met when the half-width is at most this fraction of |estimate|.
    pub rel_error: Option<f64>,
    /// Met when the half-width is at most this.
    pub abs_error: Option<f64>,
}

impl QuantityTarget {
    /// True when `estimate` meets every error given.
    pub fn met(&self, estimate: &Estimate) -> bool {
        let half = estimate.half_width();
        self.rel_error
            .is_none_or(|r| half <= r * estimate.estimate.abs())
            && self.abs_error.is_none_or(|a| half <= a)
    }
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

    /// True when the run checks the target after blocks `0..blocks`.
    pub fn checks_at(&self, blocks: u64) -> bool {
        blocks > 0 && blocks.is_multiple_of(self.check_every)
    }
}

impl Job {
    /// The job as a config file that runs it: `[simulation]` with every key that
    /// decides the bits (and `name`, which does not), and the whole `[model]` table,
    /// defaults filled in. `carlo run` of it reproduces the run's bits; its
    /// fingerprint is this job's.
    ///
    /// Seeds above `i64::MAX`, which TOML integers cannot hold, are written as strings,
    /// which configs accept. Fails, saying why, for a job whose model parameters TOML
    /// cannot hold (a null, an integer above `i64::MAX`): a job read from a config
    /// never has them, but one read from a JSON file may.
    pub fn to_toml(&self, name: &str) -> Result<String, String> {
        let mut simulation = toml::Table::new();
        simulation.insert("name".into(), name.into());
        let count =
            |n: u64| i64::try_from(n).map_or_else(|_| n.to_string().into(), toml::Value::from);
        simulation.insert("samples".into(), count(self.samples));
        simulation.insert("seed".into(), count(self.seed));
        simulation.insert("confidence".into(), self.confidence.into());
        if let Some(t) = &self.target {
            if let Some(r) = t.rel_error {
                simulation.insert("target_rel_error".into(), r.into());
            }
            if let Some(a) = t.abs_error {
                simulation.insert("target_abs_error".into(), a.into());
            }
            // A key names quantities or holds one number (the first quantity's).
            for (key, error) in [
                (
                    "target_rel_error",
                    (|q: &QuantityTarget| q.rel_error) as fn(&_) -> _,
                ),
                ("target_abs_error", |q: &QuantityTarget| q.abs_error),
            ] {
                let table: toml::Table = t
                    .quantities
                    .iter()
                    .filter_map(|q| Some((q.quantity.clone(), error(q)?.into())))
                    .collect();
                if !table.is_empty() {
                    simulation.insert(key.into(), table.into());
                }
            }
            simulation.insert(
                "check_every".into(),
                count(t.check_every.saturating_mul(BLOCK as u64)),
            );
        }
        if let Some(r) = self.sampler.replicates() {
            simulation.insert("sampler".into(), self.sampler.name().into());
            simulation.insert("replicates".into(), count(r));
        }
        let model = toml::Value::try_from(&self.model).map_err(|e| {
            format!("its model's parameters cannot be written as TOML ({e}): a null, or an integer above 2^63 - 1?")
        })?;
        let mut root = toml::Table::new();
        root.insert("simulation".into(), simulation.into());
        root.insert("model".into(), model);
        if !self.sweep.is_empty() {
            let mut sweep = toml::Table::new();
            for k in &self.sweep {
                let values = toml::Value::try_from(&k.values).map_err(|e| {
                    format!(
                        "the values of sweep.{} cannot be written as TOML ({e})",
                        k.key
                    )
                })?;
                sweep.insert(k.key.clone(), values);
            }
            root.insert("sweep".into(), sweep.into());
        }
        let body =
            toml::to_string(&root).map_err(|e| format!("it cannot be written as TOML ({e})"))?;
        Ok(format!(
            "# The job of a carlo summary: every value that decides its bits (fingerprint {}).\n\
             # `carlo run` on this file reproduces them; `carlo verify SUMMARY` does and compares.\n\n{body}",
            self.fingerprint(),
        ))
    }

    /// What a model built for this job may use besides its parameters.
    pub fn context(&self) -> Context {
        Context::new(self.seed).with_sampler(self.sampler)
    }

    /// Checks what [`plan`](Self::plan) and the sampler rely on, for a job that
    /// arrives as data (a worker's hello) rather than from a config, whose reading
    /// checks this and more: at least 1 sample, and for Sobol points 2 to 32
    /// replicates, each a whole number of blocks.
    pub fn check_plan(&self) -> Result<(), String> {
        if self.samples == 0 {
            return Err("samples = 0: a run needs at least 1 sample".to_string());
        }
        if let Some(r) = self.sampler.replicates() {
            let max = crate::random::sampler::MAX_REPLICATES;
            let whole = (2..=max).contains(&r)
                && self.samples.is_multiple_of(r)
                && (self.samples / r).is_multiple_of(BLOCK as u64);
            if !whole {
                return Err(format!(
                    "samples = {} cannot be {r} Sobol replicates of whole blocks of {BLOCK} \
                     (2 to {max} replicates)",
                    self.samples,
                ));
            }
        }
        Ok(())
    }

    /// The plan: every block, in chunks of the job's chunk size.
    pub fn plan(&self) -> Plan {
        Plan::new(self.samples, self.chunk_blocks())
    }

    /// Blocks per chunk.
    pub fn chunk_blocks(&self) -> u64 {
        self.chunk_size.div_ceil(BLOCK as u64).max(1)
    }

    /// Blocks of the run.
    pub fn blocks(&self) -> u64 {
        self.samples.div_ceil(BLOCK as u64)
    }

    /// The first block count after block `b` at which the run decides something (a
    /// trace point, a target check, the end): the end of the decision interval that
    /// holds block `b`. Decision points are powers of two, multiples of the target's
    /// `check_every` (in blocks) and the last block count; they depend on the job
    /// alone, never on how it is cut into chunks.
    pub fn decision_after(&self, b: u64) -> u64 {
        let end = self.blocks();
        let power = (b + 1).checked_next_power_of_two().unwrap_or(end);
        let check = self.target.as_ref().map_or(end, |t| {
            (b / t.check_every + 1).saturating_mul(t.check_every)
        });
        power.min(check).min(end)
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
