//! The `[execution]` table and its flags: the backend, the workers and the chunk
//! timeout. They decide where a run happens, never its bits.

use std::time::Duration;

use serde::Deserialize;

use super::Overrides;
use crate::Error;
use crate::backend::{Backend, MPI_MISSING, WorkerCommand, available_cores};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExecution {
    backend: Option<Backend>,
    workers: Option<u64>,
    chunk_timeout: Option<f64>,
}

/// Where and how a run's chunks run, validated.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Execution {
    pub(super) backend: Backend,
    /// Never 0 (0 in a config means one per available core).
    pub(super) workers: usize,
    pub(super) chunk_timeout: Option<Duration>,
    /// What validation changed, for the user to hear about.
    pub(super) notes: Vec<String>,
}

/// Validates `[execution]` and its flags for a model of type `model_kind`, which runs
/// only in its own worker processes when `worker_command` is set (the backend is then
/// processes, said in a note).
pub(super) fn read(
    raw: RawExecution,
    overrides: &Overrides,
    model_kind: &str,
    worker_command: Option<&WorkerCommand>,
    invalid: &dyn Fn(&str, String) -> Error,
) -> Result<Execution, Error> {
    let workers = match overrides.workers.or(raw.workers).unwrap_or(0) {
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
    // `mpi` is always parsed, so that a build without it can say how to get it
    // instead of calling it an unknown backend.
    let backend = match (overrides.backend, raw.backend) {
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
    let chunk_timeout = match (overrides.chunk_timeout, raw.chunk_timeout) {
        (Some(t), _) => Some(t),
        (None, Some(s)) if s.is_finite() && s > 0.0 && s < 1e9 => Some(Duration::from_secs_f64(s)),
        (None, Some(s)) => {
            return Err(invalid(
                "execution.chunk_timeout",
                format!("must be a positive number of seconds, found {s}"),
            ));
        }
        (None, None) => None,
    };
    let mut notes = Vec::new();
    let (backend, workers) = match (worker_command, backend) {
        (None, backend) => (backend, workers),
        (Some(_), Backend::Processes) => (Backend::Processes, workers),
        (Some(_), Backend::Mpi) => {
            return Err(invalid(
                "execution.backend",
                format!(
                    "model type {} runs only in its own worker processes, which MPI \
                         ranks are not; use the processes backend",
                    model_kind
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
                model_kind,
                if workers == 1 { "" } else { "s" },
                other.name()
            ));
            (Backend::Processes, workers)
        }
    };
    Ok(Execution {
        backend,
        workers,
        chunk_timeout,
        notes,
    })
}
