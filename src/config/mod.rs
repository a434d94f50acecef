//! Config files: raw TOML, command-line overrides, then one validation step that
//! produces an [`Experiment`]. Nothing downstream validates again.
//!
//! The [`Job`] inside an experiment is everything that decides the result's bits
//! (samples, seed, chunk size, confidence, model); the rest (backend, workers, where
//! to write) only decides how and where the run happens.
//!
//! One module per table, each with its raw serde form and a `read` step that
//! validates it: `simulation`, `model_table`, `sweep`, `execution` and `output`;
//! `document` keeps where every key was written (for errors that point at it) and
//! applies `--set`; `job` holds the validated result, the [`Job`].

mod document;
mod execution;
mod job;
mod model_table;
mod output;
mod simulation;
mod sweep;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::Error;
use crate::backend::{Backend, WorkerCommand};
use crate::model::{Context, Model, Registry};

pub use document::Assignment;
pub(crate) use document::{Source, one_value};
pub use job::{Job, QuantityTarget, SweepKey, Target, job_differences};
pub use output::Destination;
pub use simulation::{DEFAULT_CHECK_EVERY, DEFAULT_CHUNK_SIZE, DEFAULT_CONFIDENCE, parse_count};

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
    simulation: simulation::RawSimulation,
    #[serde(default)]
    execution: execution::RawExecution,
    #[serde(default)]
    output: output::RawOutput,
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
    ///
    /// The steps, each a table's own `read`: the document (with `--set` applied),
    /// `[simulation]`, `[model]` (the model built once, which validates it), `[sweep]`,
    /// then `[execution]` and `[output]`, which decide where the run happens.
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
        // A value a flag gave is the flag's error, not the file's.
        let invalid = |key: &str, reason: String| match flag_of(key, overrides) {
            Some(flag) => Error::Flag {
                flag: flag.into(),
                reason,
            },
            None => source.key_error(&spans, key, reason),
        };

        let sim = simulation::read(raw.simulation, path, overrides, &invalid)?;
        let Some(model_table) = model_table else {
            return Err(source.error(
                None,
                "missing table [model], which names the model: [model] type = \"...\"",
            ));
        };
        let context = Context::new(sim.seed).with_sampler(sim.sampler);
        let (spec, model, worker_command, mut warnings) =
            model_table::read(&source, model_table, registry, &context, &spans)?;
        warnings.extend(sim.warnings);
        let sweep = match sweep_table {
            None => Vec::new(),
            Some(table) => sweep::read(&source, &spans, table, &spec, registry)?,
        };
        let mut job = Job {
            samples: sim.samples,
            seed: sim.seed,
            chunk_size: sim.chunk_size,
            confidence: sim.confidence,
            model: spec,
            target: sim.target,
            sampler: sim.sampler,
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
        warnings.extend(sweep_warnings(&job, registry, &warnings)?);
        if let Some(target) = &job.target {
            check_target_names(&target.quantities, model.as_ref(), &invalid)?;
        }
        // A sweep of one point is that point's run.
        if job.sweep_points().len() == 1 && !job.sweep.is_empty() {
            job.sweep.clear();
        }

        let execution = execution::read(
            raw.execution,
            overrides,
            job.model.kind(),
            worker_command.as_ref(),
            &invalid,
        )?;
        let out = output::read(raw.output, overrides, &sim.name);
        let mut notes = execution.notes;
        notes.extend(lost_references(model.as_ref()));
        Ok(Experiment {
            name: sim.name,
            job,
            model: Arc::from(model),
            backend: execution.backend,
            workers: execution.workers,
            out,
            source: path.to_path_buf(),
            worker_command,
            chunk_timeout: execution.chunk_timeout,
            notes,
            warnings,
        })
    }
}

/// The flag that gave `key` its value, if one did.
fn flag_of(key: &str, o: &Overrides) -> Option<&'static str> {
    let (given, flag) = match key {
        "simulation.samples" => (o.samples.is_some(), "--samples"),
        "simulation.seed" => (o.seed.is_some(), "--seed"),
        "simulation.chunk_size" => (o.chunk_size.is_some(), "--chunk-size"),
        "execution.backend" => (o.backend.is_some(), "--backend"),
        "execution.workers" => (o.workers.is_some(), "--workers"),
        "execution.chunk_timeout" => (o.chunk_timeout.is_some(), "--chunk-timeout"),
        _ => (false, ""),
    };
    given.then_some(flag)
}

/// The warnings of each sweep point's parameters (a volatility of 20 for 20%) that
/// the `[model]` table's own values did not already give: a swept value is checked
/// as its own run would be.
fn sweep_warnings(job: &Job, registry: &Registry, given: &[String]) -> Result<Vec<String>, Error> {
    let mut found: Vec<String> = Vec::new();
    if job.sweep.is_empty() {
        return Ok(found);
    }
    let entry = registry.entry(job.model.kind())?;
    for point in job.sweep_points() {
        let mut params = job.model.params().clone();
        for (k, v) in job.sweep.iter().zip(&point) {
            params.insert(k.key.clone(), v.clone());
        }
        for warning in entry.warn(&params) {
            if !given.contains(&warning) && !found.iter().any(|f| f.ends_with(&warning)) {
                let at: Vec<String> = job
                    .sweep
                    .iter()
                    .zip(&point)
                    .map(|(k, v)| format!("{} = {v}", k.key))
                    .collect();
                found.push(format!("at the sweep point {}: {warning}", at.join(", ")));
            }
        }
    }
    Ok(found)
}

/// Refuses a target that names a quantity the model does not have.
fn check_target_names(
    targets: &[QuantityTarget],
    model: &dyn Model,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<(), Error> {
    let mut names: Vec<&str> = Vec::new();
    for q in model.quantities() {
        if !names.contains(&q.name.as_ref()) {
            names.push(q.name.as_ref());
        }
    }
    for t in targets {
        if !names.contains(&t.quantity.as_str()) {
            let key = if t.rel_error.is_some() {
                "simulation.target_rel_error"
            } else {
                "simulation.target_abs_error"
            };
            return Err(invalid(
                &format!("{key}.{}", t.quantity),
                format!(
                    "is not a quantity of this model{}; its quantities are {}",
                    crate::model::did_you_mean(&t.quantity, names.iter().copied()),
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// A note for every reference a model could not compute at its parameters (its
/// formula breaks down): the column is then left empty.
fn lost_references(model: &dyn Model) -> Vec<String> {
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
    notes
}
